"""Docstrings a reader can trust: every example runs, and every chapter tag names a chapter in ``book/``.

Each module of the ``nnlab`` package whose source holds an example (``>>>``) is imported and its
docstring examples run with ``doctest`` (one test per such module, so new modules are covered without
touching this file, and modules without examples add no skipped tests). The book's jupytext sources
are not modules of the package, so pytest's ``--doctest-modules`` is not used.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest

import nnlab

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PACKAGE = Path(nnlab.__file__).parent
ALL_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="nnlab.")
    if not info.name.endswith("__main__")  # importing it would run the command line
)


def _source_of(name: str) -> str:
    """A module's source text, read without importing it."""
    parts = name.split(".")[1:]
    path = PACKAGE.joinpath(*parts)
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return path.read_text(encoding="utf-8")


MODULES = [name for name in ALL_MODULES if ">>>" in _source_of(name)]  # the modules with examples
# a module that needs one of these is skipped where it is not installed
OPTIONAL = ("torch", "ipywidgets", "matplotlib", "IPython", "sklearn")

# "Chapter: 3, backpropagation." and "Chapter: 1, the perceptron (NOT); 3, backpropagation (XOR)."
TAG = re.compile(r"Chapter:\s*(.+?)(?:\.\s*$|\.\s+[A-Z]|\n\s*\n|$)", re.S)
NUMBER = re.compile(r"(?:^|;)\s*(\d+)\b")


def _import(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        if getattr(exc, "name", None) and exc.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs {exc.name}")
        raise


def _print_options() -> dict:
    """NumPy 2 prints scalars as np.float64(...); the examples are written the way NumPy 1.25 prints them."""
    return {"legacy": "1.25"} if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else {}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, monkeypatch, tmp_path):
    module = _import(name)
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    monkeypatch.setenv("NNLAB_PROGRESS", "0")
    tests = [t for t in doctest.DocTestFinder(exclude_empty=True).find(module, name) if t.examples]
    assert tests, f"{name} has '>>>' in its source, but doctest finds no example in its docstrings"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    with np.printoptions(**_print_options()):
        for test in tests:
            runner.run(test, out=failures.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "\n".join(failures)


def _docstrings(path: Path) -> list[tuple[str, str]]:
    """(where, docstring) for the module and every class and function defined in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [("module", ast.get_docstring(tree) or "")]
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append((node.name, ast.get_docstring(node) or ""))
    return found


def _source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def chapter_tags(text: str) -> list[int]:
    """The chapter numbers a docstring's ``Chapter:`` tags name."""
    return [int(n) for tag in TAG.findall(text) for n in NUMBER.findall(tag)]


def test_chapter_tags_are_read_as_written():
    assert chapter_tags("Shapes: x.\n\n    Chapter: 3, backpropagation.") == [3]
    assert chapter_tags("Chapter: 1, the perceptron (NOT, AND); 4, saturation (NOT).") == [1, 4]
    assert chapter_tags("Shapes: z (N, ...) -> out. Chapter: 4, saturation and cross-entropy.") == [4]
    assert chapter_tags("Chapter: 2, gradient descent; 6, regularisation.") == [2, 6]


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_chapter_tags_name_chapters_that_exist(path):
    chapters = {int(p.name[:2]) for p in BOOK.glob("[0-9][0-9]_*.ipynb")}
    for where, text in _docstrings(path):
        for number in chapter_tags(text):
            assert number in chapters, (
                f"{path.relative_to(ROOT)}: {where} is tagged 'Chapter: {number}', but book/ has no"
                f" {number:02d}_*.ipynb (it has {sorted(chapters)})"
            )


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_docstrings_cite_the_lectures_by_author(path):
    """Readers never meet the name of our folder of lecture decks: the lectures are cited by author."""
    for where, text in _docstrings(path):
        assert not re.search(r"\bseeds\b", text, re.I), f"{path.relative_to(ROOT)}: {where} says 'seeds'"


def test_modules_without_examples_add_no_tests():
    """Only modules with examples get a test, so the summary is not padded with skips."""
    assert MODULES and set(MODULES) < set(ALL_MODULES)
    assert "nnlab.cli" not in MODULES  # the command line has no docstring examples
    assert all(">>>" in _source_of(name) for name in MODULES)


@pytest.mark.parametrize("path", ["nnlab.np_nn.training", "nnlab.torch_nn.training"])
def test_fit_example_prints_as_in_plain_python(path, monkeypatch):
    """``fit``'s example shows ``1.0``: the history holds Python floats, so NumPy 2 prints no
    ``np.float64(...)``."""
    module = _import(path)
    monkeypatch.setenv("NNLAB_PROGRESS", "0")
    (test,) = [t for t in doctest.DocTestFinder().find(module.fit, "fit") if t.examples]
    assert any(example.want == "1.0\n" for example in test.examples)
    runner = doctest.DocTestRunner()
    failures: list[str] = []
    runner.run(test, out=failures.append)  # no legacy print options: as a student's Python prints it
    assert runner.summarize(verbose=False).failed == 0, "\n".join(failures)
