"""``nnlab assign SOURCE.ipynb --out DIR``: one exercise source in, the student's and the grader's files out.

For each source ``NAME.ipynb`` it writes

- ``DIR/NAME.ipynb``: the student notebook (solutions replaced by ``...``, test cells and outputs
  removed);
- ``DIR/autograder/NAME.json``: the bundle for grading (every test, public and hidden, as data;
  points, question names and cell ids; the format version);
- ``PUBLIC/NAME.json``: the public tests alone, which ``check`` reads (``PUBLIC`` is
  ``--public-dir``, by default ``DIR/public``; the book writes them into ``nnlab/exercises/public``
  so that they ship with the package).

Every source is checked and run before anything is written: a mistake gets one sentence naming the
cell, exit status 2, and no file. The same sources always give byte-identical files. Each cell of a
source (and each call of a solution on a test) may run ``--cell-timeout`` seconds (default 60).

``--hidden-seed S`` redraws the random inputs of the hidden tests from the instructor's seed ``S``
and computes their expected values from the solution, so a course's bundle differs from the public
one. ``--gradescope`` also writes ``DIR/autograder.zip`` for Gradescope (see ``nnlab.grading.gradescope``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "assign", "main"]


def assign(
    sources: list[Path | str],
    out: Path | str,
    public_dir: Path | str | None = None,
    *,
    hidden_seed: int | None = None,
    cell_timeout: float | None = None,
    gradescope: bool = False,
) -> list[Path]:
    """Build every source, then write all files; return their paths. Raises ``SourceError`` first if any is wrong.

    ``hidden_seed`` redraws the hidden tests' random inputs; ``cell_timeout`` limits each cell's time
    (default ``source.CELL_TIMEOUT``); ``gradescope`` also writes ``out/autograder.zip``.
    """
    from .format import dump_json
    from .source import CELL_TIMEOUT, SourceError, build, notebook_text

    out = Path(out)
    public = Path(public_dir) if public_dir is not None else out / "public"
    files: dict[Path, str | bytes] = {}
    owners: dict[str, str] = {}
    bundles: dict[str, str] = {}
    timeout = CELL_TIMEOUT if cell_timeout is None else cell_timeout
    for source in map(Path, sources):
        built = build(source, timeout=timeout, hidden_seed=hidden_seed)
        for question in built.bundle["questions"]:
            if question["name"] in owners:
                raise SourceError(
                    f"{source.name}: the question {question['name']} is also in {owners[question['name']]};"
                    " question names must be unique across the exercise files (check would mix them up)."
                )
            owners[question["name"]] = source.name
        student = out / f"{source.stem}.ipynb"
        if student.resolve() == source.resolve():
            raise SourceError(
                f"{source.name}: --out {out} is the source's own folder; the student notebook would overwrite the source."
            )
        for path, text in (
            (student, notebook_text(built.student)),
            (out / "autograder" / f"{source.stem}.json", dump_json(built.bundle)),
            (public / f"{source.stem}.json", dump_json(built.public)),
        ):
            if path in files:
                raise SourceError(
                    f"{source.name}: two sources named {source.stem} would write the same file {path}."
                )
            files[path] = text
        bundles[f"{source.stem}.json"] = dump_json(built.bundle)
    if gradescope:
        from ..grading.gradescope import autograder_zip

        files[out / "autograder.zip"] = autograder_zip(bundles)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", newline="\n")
    return list(files)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``assign`` subcommand's arguments (``nnlab.cli`` calls this, then ``run`` with the parsed args).

    Importing this module imports nothing heavy (not even NumPy), so ``nnlab`` can build its parser cheaply.
    """
    parser = sub.add_parser(
        "assign",
        help="build student notebooks and autograder bundles from exercise sources",
        description="Build the student notebook, the autograder bundle and the public tests from each source.",
    )
    parser.add_argument(
        "sources", nargs="+", type=Path, metavar="SOURCE.ipynb", help="exercise source notebooks"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for the student notebooks")
    parser.add_argument(
        "--public-dir", type=Path, default=None, help="folder for the public tests (default: OUT/public)"
    )
    parser.add_argument(
        "--hidden-seed",
        type=int,
        default=None,
        metavar="S",
        help="redraw the hidden tests' random inputs from seed S (keep S private) and recompute their expected values",
    )
    parser.add_argument(
        "--cell-timeout", type=float, default=None, help="seconds each cell of a source may run (default 60)"
    )
    parser.add_argument(
        "--gradescope", action="store_true", help="also write OUT/autograder.zip for Gradescope"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``assign`` for parsed arguments: 0 on success, 2 (and one sentence on stderr) on a bad source."""
    from .source import SourceError

    try:
        written = assign(
            args.sources,
            args.out,
            args.public_dir,
            hidden_seed=getattr(args, "hidden_seed", None),
            cell_timeout=getattr(args, "cell_timeout", None),
            gradescope=getattr(args, "gradescope", False),
        )
    except SourceError as exc:
        print(f"nnlab assign: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m nnlab.exercises.assign SOURCE.ipynb --out DIR`` (the same as ``nnlab assign``)."""
    parser = argparse.ArgumentParser(prog="nnlab")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return run(parser.parse_args(["assign", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    raise SystemExit(main())
