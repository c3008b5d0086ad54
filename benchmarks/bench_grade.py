"""What ``nnlab grade`` costs: seconds per submission for a class of 30, graded with ``--jobs 2``.

The exercise is one of the book's (default: chapter 3's backpropagation set, built with ``nnlab
assign`` into a private temporary folder). The class: two thirds hand in the solution (every answer
cell as the source has it), one third the blank student notebook. Every question of every
submission runs in its own sandboxed process (interpreter start, NumPy import, the notebook's
cells, that question's tests), so the cost is mostly ``questions x (start-up + cells)``.

    python benchmarks/bench_grade.py                       # 30 submissions, --jobs 2
    python benchmarks/bench_grade.py --submissions 6 --jobs 1 2
    python benchmarks/bench_grade.py --exercise exercises/source/01_perceptron.ipynb
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from _common import PAUSE_S, machine, table

ROOT = Path(__file__).resolve().parents[1]


def make_class(source: Path, folder: Path, count: int) -> tuple[Path, list[Path]]:
    """Build the bundle and ``count`` submissions; return the bundle's path and the submissions' folder."""
    from nnlab.exercises.assign import assign

    with contextlib.redirect_stdout(io.StringIO()):
        assign([source], folder / "assign")
    bundle = folder / "assign" / "autograder" / f"{source.stem}.json"
    os.chmod(bundle, 0o600)
    student = json.loads((folder / "assign" / f"{source.stem}.ipynb").read_text(encoding="utf-8"))
    solutions = {
        cell.get("id"): cell["source"]
        for cell in json.loads(source.read_text(encoding="utf-8"))["cells"]
        if any(t.startswith("question:") for t in cell.get("metadata", {}).get("tags", []))
    }
    out = folder / "class"
    out.mkdir()
    for k in range(count):
        nb = json.loads(json.dumps(student))
        if k % 3 != 2:  # two in three hand in the solution, one in three the blank notebook
            for cell in nb["cells"]:
                if cell.get("id") in solutions:
                    cell["source"] = solutions[cell["id"]]
        (out / f"student{k:02d}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return bundle, [out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--exercise", type=Path, default=ROOT / "exercises" / "source" / "03_backpropagation.ipynb"
    )
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    os.environ["NNLAB_PROGRESS"] = "0"
    from nnlab.grading import Limits, grade

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.chmod(folder, 0o700)
        bundle, submissions = make_class(args.exercise, folder, args.submissions)
        questions = len(json.loads(bundle.read_text(encoding="utf-8"))["questions"])
        for jobs in args.jobs:
            time.sleep(PAUSE_S)
            start = time.perf_counter()
            graded = grade(
                bundle, submissions, folder / f"out{jobs}", jobs=jobs, limits=Limits(timeout=args.timeout)
            )
            wall = time.perf_counter() - start
            scores = sorted({g.score for g in graded})
            mean = sum(g.seconds for g in graded) / len(graded)
            rows.append(
                (
                    str(jobs),
                    str(len(graded)),
                    f"{wall:.1f}",
                    f"{wall / len(graded):.2f}",
                    f"{mean:.2f}",
                    f"{wall / (len(graded) * questions) * 1000:.0f}",
                    " / ".join(f"{s:g}" for s in scores),
                )
            )
    print(f"nnlab grade on {args.exercise.name} ({questions} questions), {machine()}")
    print(
        table(
            rows,
            (
                "jobs",
                "submissions",
                "wall s",
                "wall s per submission",
                "s per submission (each)",
                "ms per question run",
                "scores seen",
            ),
        )
    )


if __name__ == "__main__":
    main()
