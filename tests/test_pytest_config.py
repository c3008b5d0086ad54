"""The project's pytest settings keep a notebook's cells together under pytest-xdist.

nbval makes one test item per cell, and the cells of a notebook share one kernel. Plain ``-n 2``
spreads them over two workers, each with its own kernel, and a cell that uses a name an earlier cell
defined fails with a NameError. ``--dist loadfile`` in ``pyproject.toml``'s ``addopts`` sends every
item of a file to one worker; without ``-n`` it changes nothing.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _addopts() -> str:
    """``[tool.pytest.ini_options] addopts`` (read as text: ``tomllib`` needs Python 3.11)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^addopts\s*=\s*"([^"]*)"', text, re.MULTILINE).group(1)


def _chain(folder: Path) -> Path:
    """A notebook whose cells each need the one before: ``lessons = 0``, then ``lessons += 1`` seven times."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("lessons = 0")]
    notebook.cells += [nbformat.v4.new_code_cell("lessons += 1") for _ in range(7)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "chain.ipynb"
    nbformat.write(notebook, path)
    return path


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest with the project's settings on the notebook in ``folder`` only."""
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(folder),
            "-p", "no:cacheprovider", "-q", *args, "chain.ipynb",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


def test_the_default_options_keep_each_file_on_one_worker():
    assert "--dist loadfile" in _addopts()


def test_a_notebook_passes_with_and_without_xdist(tmp_path):
    pytest.importorskip("nbval")
    pytest.importorskip("xdist")
    _chain(tmp_path)
    alone = _pytest(tmp_path)
    assert alone.returncode == 0, alone.stdout[-3000:] + alone.stderr[-2000:]
    assert "8 passed" in alone.stdout
    spread = _pytest(tmp_path, "-n", "2")
    assert spread.returncode == 0, spread.stdout[-3000:] + spread.stderr[-2000:]
    assert "8 passed" in spread.stdout
    # without the setting, the second worker starts at cell 2, in a kernel where `lessons` is undefined
    plain = _pytest(tmp_path, "-n", "2", "-o", f"addopts={_addopts().replace('--dist loadfile', '')}")
    assert plain.returncode == 1 and "NameError" in plain.stdout + plain.stderr, plain.stdout[-3000:]
