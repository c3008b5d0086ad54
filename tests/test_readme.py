"""README.md's Python examples run as written: every ```python block, in order, in one namespace, in a
fresh interpreter from the repository root, offline (no MNIST download: the 8x8 digits stand in).
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from nnlab import diagnostics

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M)


def test_readme_has_python_examples():
    blocks = _python_blocks()
    assert len(blocks) >= 3
    assert "X_train" in blocks[0] and "load_mnist" in blocks[0]


def test_every_python_block_of_the_readme_runs(tmp_path):
    pytest.importorskip("sklearn")  # the offline stand-in for MNIST
    pytest.importorskip("matplotlib")
    pytest.importorskip("torch")  # the bridge example
    script = tmp_path / "readme_examples.py"
    parts = [
        "import socket\n"
        "def _offline(*args, **kwargs):\n"
        "    raise OSError('the README examples must run offline')\n"
        "socket.socket.connect = _offline\n"
        "socket.create_connection = _offline\n"
    ]
    for i, block in enumerate(_python_blocks(), 1):
        parts.append(f"# ---- README block {i}\n{block}")
    parts.append("print('README OK')\n")
    script.write_text("\n".join(parts), encoding="utf-8")
    env = dict(os.environ, NNLAB_DATA_DIR=str(tmp_path / "no-mnist"), NNLAB_PROGRESS="0", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.rstrip().endswith("README OK")
    assert "TrainingWarning: layer 1 (Sigmoid)" in result.stderr  # the saturation example warns


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    return text[start : text.index("\n## ", start + 1)]


def test_a_new_user_gets_exactly_two_commands():
    """One that clones, installs everything and opens the book; one that runs the tests."""
    commands = re.findall(r"^```bash\n(.*?)^```", _section("Two commands"), flags=re.S | re.M)
    assert len(commands) == 2, commands
    first = " ".join(commands[0].replace("\\\n", " ").split())
    assert first.startswith("git clone https://github.com/") and "&& cd nnlab" in first
    assert "python3 -m venv .venv && . .venv/bin/activate" in first
    assert first.endswith('pip install torch==2.13.0 -e ".[all]" && nnlab lab')
    assert commands[1].strip() == "python -m pytest"
    section = _section("Two commands")
    assert "GB" in section and "virtual environment" in section and "nnlab lab --dir ." in section


def test_all_installs_what_the_browser_test_needs():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (extras,) = re.findall(r'^all = \["nnlab\[([^\]]*)\]"\]', pyproject, flags=re.M)
    assert set(extras.split(",")) >= {"book", "torch", "dev", "browser"}


def test_each_python_block_defines_what_it_uses_or_says_it_continues():
    """A block that uses a name from an earlier one says so in the sentence before it; ``plt`` is imported."""
    text = README.read_text(encoding="utf-8")
    blocks = list(re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M))
    for match in blocks:
        code = match.group(1)
        tree = ast.parse(code)
        defined = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        defined |= {
            a.asname or a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, (ast.Import, ast.ImportFrom))
            for a in n.names
        }
        defined |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        defined |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args}
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        borrowed = sorted(used - defined - set(dir(builtins)))
        before = text[max(0, match.start() - 300) : match.start()]
        if borrowed:
            assert "continues" in before, f"the block using {borrowed} does not say which block it continues"
        if "plt" in code:
            assert "as plt" in code, "a block mentions plt without importing it"


@pytest.mark.parametrize(
    "name",
    [
        "DIVERGED",
        "SATURATED",
        "VANISHING",
        "EXPLODING",
        "DEAD",
        "UNSCALED_PIXELS",
        "UNSCALED_FEATURES",
        "UNSCALED_LARGE",
    ],
)
def test_the_readme_quotes_each_warning_word_for_word(name):
    """Each warning's fixed words (those between its figures) appear in README's list of them."""
    readme = README.read_text(encoding="utf-8")
    template = getattr(diagnostics, name)
    pieces = [literal for literal, *_ in string.Formatter().parse(template) if len(literal.strip()) > 12]
    assert pieces
    for piece in pieces:
        assert piece in readme, f"{name}: {piece!r}"
