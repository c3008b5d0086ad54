"""The book as a whole: every chapter notebook is built from its source, clean, and opens in Colab."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupytext")

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SOURCES = BOOK / "source"
NOTEBOOKS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
CHAPTER_SOURCES = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
PINNED_IN_COLAB = ("numpy", "matplotlib", "ipywidgets")


def _build_book():
    spec = importlib.util.spec_from_file_location("build_book", ROOT / "tools" / "build_book.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_book", module)
    spec.loader.exec_module(module)
    return module


def _repository() -> str:
    """OWNER/REPO read straight from pyproject.toml's [project.urls] Repository, independently of the builder."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    found = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)/?", urls["Repository"])
    assert found, (
        f"pyproject's Repository should be https://github.com/OWNER/REPO; got {urls['Repository']!r}."
    )
    return found.group(1)


def _ids(paths):
    return [p.name for p in paths]


def test_the_book_has_chapters():
    assert NOTEBOOKS, "book/ holds no chapter notebooks"
    assert CHAPTER_SOURCES, "book/source holds no chapter sources"


@pytest.mark.parametrize("source", CHAPTER_SOURCES, ids=_ids(CHAPTER_SOURCES))
def test_every_source_has_its_notebook(source):
    notebook = BOOK / source.with_suffix(".ipynb").name
    assert notebook.exists(), (
        f"{source.name} has no notebook: run `python tools/build_book.py {source.name[:2]}`."
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_notebook_is_built_from_its_source_and_clean(notebook):
    assert _build_book().problems(notebook) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_the_colab_badge_opens_this_notebook(notebook):
    nb = nbformat.read(notebook, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    link = f"https://colab.research.google.com/github/{_repository()}/blob/main/book/{notebook.name}"
    assert (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({link})"
        in first.source
    )


def _colab_commands(source: str, monkeypatch) -> list[list[str]]:
    """Run the install cell as Colab would (with ``subprocess.run`` faked); the commands it runs."""
    import subprocess

    ran: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, *a, **k: ran.append(list(cmd)))
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    exec(compile(source, "install cell", "exec"), {})
    return ran


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_the_install_cell_only_installs_nnlab_and_only_in_colab(notebook, monkeypatch):
    nb = nbformat.read(notebook, as_version=4)
    cell = nb.cells[1]
    assert cell.cell_type == "code"
    tree = ast.parse(cell.source)
    guards = [node for node in ast.walk(tree) if isinstance(node, ast.If)]
    assert [ast.unparse(g.test) for g in guards] == ["'google.colab' in sys.modules"], (
        'the install cell should have one `if "google.colab" in sys.modules:` guard around everything it runs'
    )
    assert all(isinstance(node, (ast.Import, ast.If, ast.Expr)) for node in tree.body), tree.body
    commands = _colab_commands(cell.source, monkeypatch)
    assert len(commands) == 1, commands
    args = commands[0]
    assert args[1:4] == ["-m", "pip", "install"], args
    package = [a for a in args if a.startswith("nnlab")]
    assert package == [f"nnlab @ git+https://github.com/{_repository()}"], args
    for pinned in PINNED_IN_COLAB:
        assert not any(pinned in a for a in args), (
            f"the install cell must not install {pinned} in Colab: {args}"
        )
    # never upgrade what Colab ships: no --upgrade/-U, and pip's only-if-needed strategy for dependencies
    assert not {"--upgrade", "-U", "--force-reinstall", "--ignore-installed", "-I"} & set(args), args
    assert "--upgrade-strategy" in args and args[args.index("--upgrade-strategy") + 1] == "only-if-needed"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_the_install_cell_does_nothing_outside_colab(notebook, monkeypatch):
    import subprocess

    source = nbformat.read(notebook, as_version=4).cells[1].source
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: ran.append(a))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, f"{notebook.name} install cell", "exec"), {})
    assert ran == []

    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    exec(compile(source, f"{notebook.name} install cell", "exec"), {})
    assert len(ran) == 1 and "pip" in ran[0][0]


def test_a_broken_notebook_is_reported(tmp_path, monkeypatch):
    """problems() can fail: a notebook edited by hand, and one whose source is missing."""
    build_book = _build_book()
    if not NOTEBOOKS:
        pytest.skip("no notebooks")
    notebook = NOTEBOOKS[0]
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[-1].source += "\n# edited by hand"
    code = next(i for i, c in enumerate(nb.cells) if i >= 2 and c.cell_type == "code")  # a chapter's own cell
    nb.cells[code].outputs = [nbformat.v4.new_output("stream", name="stderr", text="a warning\n")]
    book, sources = tmp_path / "book", tmp_path / "book" / "source"
    sources.mkdir(parents=True)
    (sources / notebook.with_suffix(".py").name).write_text(
        (SOURCES / notebook.with_suffix(".py").name).read_text(encoding="utf-8"), encoding="utf-8"
    )
    nbformat.write(nb, book / notebook.name)
    (tmp_path / "pyproject.toml").write_text(
        (ROOT / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.setattr(build_book, "ROOT", tmp_path)
    monkeypatch.setattr(build_book, "SOURCES", sources)
    found = build_book.problems(book / notebook.name)
    assert any("differs from" in p for p in found), found
    assert any("writes to stderr" in p for p in found), found
    (sources / notebook.with_suffix(".py").name).unlink()
    assert "has no source" in build_book.problems(book / notebook.name)[0]


def test_check_says_ok_when_it_passes_and_names_a_missing_notebook(tmp_path, monkeypatch, capsys):
    """``build_book.py --check`` prints one line when everything is in order, not silence."""
    build_book = _build_book()
    sources, book = tmp_path / "book" / "source", tmp_path / "book"
    sources.mkdir(parents=True)
    (sources / "01_a.py").write_text("# %%\n1\n")
    (sources / "02_b.py").write_text("# %%\n2\n")
    (book / "01_a.ipynb").write_text("{}")
    monkeypatch.setattr(build_book, "SOURCES", sources)
    monkeypatch.setattr(build_book, "BOOK", book)
    monkeypatch.setattr(build_book, "problems", lambda notebook: [])
    assert build_book.main(["--check", "01"]) == 0
    assert (
        capsys.readouterr().out
        == "build_book --check: OK, 1 chapter notebook built from its source and clean.\n"
    )
    assert build_book.main(["--check"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "02_b.ipynb is missing: build it with `python tools/build_book.py 02`.\n"
