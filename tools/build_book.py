"""Build the book: each ``book/source/NN_name.py`` (jupytext percent format) becomes ``book/NN_name.ipynb``.

The text sources are what we edit and review; the notebooks are built from them, executed top to
bottom in a fresh ``python3`` kernel, and saved with their outputs, so a reader on GitHub or Colab
sees the figures. Every notebook starts with two generated cells: the "Open in Colab" badge for its
own path, and a code cell that installs nnlab only when it runs in Colab. The repository they point
at is named once, in ``pyproject.toml`` (``[project.urls] Repository``).

    python tools/build_book.py              # build and execute every chapter
    python tools/build_book.py 02 03        # only the chapters whose names start with these
    python tools/build_book.py --check      # no execution: is every notebook built from its source, and clean?

``--check`` is what the test suite runs (``tests/test_book.py`` imports ``problems``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SOURCES = BOOK / "source"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_PLACEHOLDER = "[an interactive lesson: run this cell to move its sliders]"
# What must never appear in a saved output: memory addresses and this machine's paths.
LEAKS = re.compile(r"0x[0-9a-fA-F]{6,}|/root/|/home/|/tmp/|/work/|site-packages|\.venv")


def repository() -> str:
    """``OWNER/REPO`` from ``pyproject.toml``: the one place the repository is named."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^Repository\s*=\s*"https://github\.com/([^"]+?)/?"', text, re.MULTILINE)
    if not found:
        raise SystemExit(
            'pyproject.toml names no [project.urls] Repository = "https://github.com/OWNER/REPO".'
        )
    return found.group(1)


def colab_badge(name: str) -> str:
    """The markdown of the badge that opens ``book/<name>`` in Colab."""
    link = f"https://colab.research.google.com/github/{repository()}/blob/main/book/{name}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({link})"


def install_cell() -> str:
    """The first code cell: install nnlab in Colab only, leaving Colab's numpy, matplotlib, ipywidgets alone.

    The exercise notebooks start with the same cell (``tools/build_exercises.py`` writes it there).
    """
    return (
        "# In Colab, install nnlab first. Colab's own numpy, matplotlib and ipywidgets are kept as they\n"
        "# are (pip's only-if-needed strategy); elsewhere this cell does nothing.\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        '    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--upgrade-strategy", "only-if-needed"]\n'
        f'    subprocess.run([*pip, "nnlab @ git+https://github.com/{repository()}"], check=True)'
    )


def chapters(prefixes: list[str] | None = None) -> list[Path]:
    """The chapter sources, in order, optionally only those whose names start with one of ``prefixes``."""
    found = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if prefixes:
        found = [p for p in found if any(p.name.startswith(x) for x in prefixes)]
    return found


def notebook_from_source(source: Path):
    """The unexecuted notebook for one source: badge, install cell, then the source's cells."""
    import jupytext
    import nbformat

    nb = jupytext.read(source)
    name = source.with_suffix(".ipynb").name
    head = [
        nbformat.v4.new_markdown_cell(colab_badge(name)),
        nbformat.v4.new_code_cell(install_cell()),
    ]
    nb.cells = head + list(nb.cells)
    stem = source.stem.split("_", 1)[0]
    for i, cell in enumerate(nb.cells):
        cell.id = f"ch{stem}-{i:02d}"
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in ("tags",)}
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def _scrub(nb) -> None:
    """Keep outputs a reader can trust and a diff can read: no timings, no widget ids."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data and WIDGET_MIME in data:
                output["data"] = {"text/plain": WIDGET_PLACEHOLDER}
    nb.metadata.pop("widgets", None)


def build(source: Path, *, timeout: int = 300) -> float:
    """Execute one chapter in a fresh kernel and save it beside the sources; returns the seconds taken."""
    import nbformat
    from nbclient import NotebookClient

    nb = notebook_from_source(source)
    env_before = os.environ.get("NNLAB_PROGRESS")
    os.environ["NNLAB_PROGRESS"] = "0"  # no progress bars in saved outputs
    start = time.perf_counter()
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(BOOK)}},
            # True: nbclient's Output-widget emulation raises KeyError without it; _scrub drops the state
            store_widget_state=True,
        )
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("NNLAB_PROGRESS", None)
        else:
            os.environ["NNLAB_PROGRESS"] = env_before
    seconds = time.perf_counter() - start
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    _scrub(nb)
    target = BOOK / source.with_suffix(".ipynb").name
    nbformat.write(nb, target)
    return seconds


def problems(notebook: Path) -> list[str]:
    """What is wrong with a saved chapter: not built from its source, not executed in order, unclean."""
    import nbformat

    found: list[str] = []
    source = SOURCES / notebook.with_suffix(".py").name
    nb = nbformat.read(notebook, as_version=4)
    if not source.exists():
        return [f"{notebook.name} has no source {source.relative_to(ROOT)}; the book is built from sources."]
    expected = notebook_from_source(source)
    got_cells = [(c.cell_type, c.source) for c in nb.cells]
    want_cells = [(c.cell_type, c.source) for c in expected.cells]
    if got_cells != want_cells:
        first = next(
            (i for i, (a, b) in enumerate(zip(got_cells, want_cells)) if a != b),
            min(len(got_cells), len(want_cells)),
        )
        found.append(
            f"{notebook.name} differs from {source.name} at cell {first}: rebuild it with"
            f" `python tools/build_book.py {notebook.name[:2]}`."
        )
    if nb.metadata.get("kernelspec") != KERNELSPEC:
        found.append(f"{notebook.name}: kernelspec is {nb.metadata.get('kernelspec')}, not {KERNELSPEC}.")
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        found.append(f"{notebook.name}: code cells were not executed once, in order (counts {counts}).")
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"{notebook.name} cell {i}: error output {output.get('ename')}.")
            text = output.get("text", "") + "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/") and isinstance(v, str)
            )
            leak = LEAKS.search(text)
            if leak:
                found.append(f"{notebook.name} cell {i}: output shows {leak.group(0)!r} (a path or address).")
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append(f"{notebook.name} cell {i}: writes to stderr: {text[:80]!r}.")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", help="name prefixes, e.g. 01 03 (default: every chapter)")
    parser.add_argument("--check", action="store_true", help="check, do not build")
    args = parser.parse_args(argv)
    sources = chapters(args.chapters)
    if not sources:
        print(f"no chapter sources matched in {SOURCES}", file=sys.stderr)
        return 2
    bad = 0
    for source in sources:
        if not args.check:
            seconds = build(source)
            print(f"built book/{source.with_suffix('.ipynb').name} in {seconds:.1f} s")
        notebook = BOOK / source.with_suffix(".ipynb").name
        if not notebook.is_file():
            print(
                f"{notebook.name} is missing: build it with `python tools/build_book.py {source.name[:2]}`.",
                file=sys.stderr,
            )
            bad += 1
            continue
        for problem in problems(notebook):
            print(problem, file=sys.stderr)
            bad += 1
    if args.check and not bad:
        n = len(sources)
        print(
            f"build_book --check: OK, {n} chapter notebook{'s' * (n != 1)} built from"
            f" {'its source' if n == 1 else 'their sources'} and clean."
        )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
