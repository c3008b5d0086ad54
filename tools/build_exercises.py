"""Build the book's exercises from their sources: ``python tools/build_exercises.py``.

1. ``nnlab assign exercises/source/*.ipynb --out exercises --public-dir nnlab/exercises/public``
   writes the student notebooks, the autograder bundles and the public tests that ship with nnlab.
2. Each source (the solution notebook) is run in a fresh kernel and saved with its outputs, so
   that nbval can compare the cells marked ``# NBVAL_CHECK_OUTPUT`` (every check passes, full marks).

``--check`` writes nothing: it exits 1 when the committed files differ from what step 1 would write.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "exercises" / "source"
PUBLIC = ROOT / "nnlab" / "exercises" / "public"


def refresh_install_cells() -> None:
    """Give every source the book's Colab install cell (its second cell), word for word."""
    import nbformat

    sys.path.insert(0, str(ROOT / "tools"))
    from build_book import install_cell

    for path in sorted(SOURCES.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cell = nb.cells[1]
        if cell.cell_type == "code" and "google.colab" in cell.source and cell.source != install_cell():
            cell.source = install_cell()
            nbformat.write(nb, path)


def assign_all(out: Path, public: Path) -> int:
    from nnlab.exercises.assign import main

    return main([*map(str, sorted(SOURCES.glob("*.ipynb"))), "--out", str(out), "--public-dir", str(public)])


def execute_sources() -> None:
    import nbformat
    from nbclient import NotebookClient

    for path in sorted(SOURCES.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(
            nb,
            kernel_name="python3",
            timeout=120,
            record_timing=False,
            resources={"metadata": {"path": str(SOURCES)}},
        ).execute()
        nb.metadata.pop("widgets", None)
        nb.metadata["language_info"] = {"name": "python"}
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nbformat.write(nb, path)
        print(f"ran and saved {path.relative_to(ROOT)}")


def check() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            status = assign_all(Path(tmp), Path(tmp) / "public")
        if status != 0:
            return 1
        stale = []
        for made in sorted(Path(tmp).rglob("*.*")):
            rel = made.relative_to(tmp)
            committed = PUBLIC / rel.name if rel.parts[0] == "public" else ROOT / "exercises" / rel
            if not committed.exists() or committed.read_bytes() != made.read_bytes():
                stale.append(str(committed.relative_to(ROOT)))
    if stale:
        built = ", ".join(stale)
        print(
            f"out of date: {built}. Running python tools/build_exercises.py rebuilds them from"
            " exercises/source/ and overwrites them, with anything typed into them."
        )
        return 1
    print("exercises are up to date")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report whether the built files are up to date"
    )
    args = parser.parse_args()
    if args.check:
        return check()
    refresh_install_cells()
    status = assign_all(ROOT / "exercises", PUBLIC)
    if status == 0:
        execute_sources()
    return status


if __name__ == "__main__":
    sys.exit(main())
