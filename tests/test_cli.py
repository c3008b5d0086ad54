"""The ``nnlab`` command: the book is found, and ``nnlab lab --check`` brings JupyterLab up and down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nnlab import cli

ROOT = Path(__file__).resolve().parents[1]


def test_find_book_in_the_checkout(tmp_path):
    assert cli.find_book(tmp_path) == ROOT / "book"  # falls back to the source tree's book
    (tmp_path / "book").mkdir()
    assert cli.find_book(tmp_path) == tmp_path / "book"


def test_lab_check_starts_answers_and_stops():
    pytest.importorskip("jupyterlab")
    result = subprocess.run(
        [sys.executable, "-m", "nnlab.cli", "lab", "--check", "--dir", str(ROOT / "book")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "JupyterLab answered on http://127.0.0.1:" in result.stdout
    assert "/lab page served" in result.stdout


def test_info_lists_components(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nnlab 0.1.0") and "jupyterlab" in out
