"""``nnlab grade BUNDLE SUBMISSION.ipynb|DIR ... --out DIR``: score a folder of untrusted notebooks.

For every submission the grader

1. reads the notebook as data (a file that is not a notebook scores 0 with a status saying so) and
   finds each answer cell by its cell id, then by its ``question:NAME`` tag, never by position;
2. builds the canonical notebook: the instructor's cells from the bundle, and only the answer
   cells from the submission (submitted outputs and metadata are ignored);
3. for each question, runs that notebook and the question's tests in a sandbox
   (``nnlab.grading.sandbox``), which receives the test inputs only and returns data only (the
   public tests in one run, the hidden tests in another, so no hidden input can reach the feedback);
4. checks every returned value (type, shape, dtype, finiteness) and compares it with the
   expected value here, in the grader's process, with ``nnlab.exercises.format.compare``;
5. writes, atomically, ``DIR/NAME/results.json`` (Gradescope's format), ``DIR/NAME/feedback.md``
   (what the student may read: no hidden input, source or expected value), ``DIR/NAME/raw/``
   (every log and raw result, for the instructor) and at the end ``DIR/grades.csv``.
"""

from __future__ import annotations

import argparse
import ast
import base64
import builtins
import csv
import io
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .sandbox import Limits, run, unprivileged_user

__all__ = ["GradeError", "Graded", "add_parser", "grade", "main", "run_cli"]

MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_RESULT_BYTES = 64 * 2**20
MAX_LOG_KEPT = 256 * 2**10
MAX_ELEMENTS = 50_000_000
ALLOWED_DTYPES = {
    "|b1",
    "|i1",
    "<i2",
    "<i4",
    "<i8",
    "|u1",
    "<u2",
    "<u4",
    "<u8",
    "<f2",
    "<f4",
    "<f8",
}
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class GradeError(ValueError):
    """A mistake in how ``nnlab grade`` was called (a missing or unreadable bundle), as one sentence."""


class BadResult(ValueError):
    """Data from the sandbox that is not a value the grader accepts."""


@dataclass
class Unsupported:
    """A returned object the grader does not accept (a subclass, an object with its own ``__eq__``)."""

    what: str


@dataclass
class Graded:
    """One submission's grade: the row of ``grades.csv``."""

    submission: str
    score: float
    max_score: float
    status: str
    seconds: float
    skipped: bool = False
    questions: list[dict] = field(default_factory=list)


# --- reading the bundle and the submissions -------------------------------------------------------


def load_bundle(path: Path) -> dict:
    """The bundle ``nnlab assign`` wrote, checked; a ``GradeError`` sentence if it is not usable."""
    from ..exercises.format import FORMAT, FORMAT_VERSION

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GradeError(f"the bundle {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GradeError(f"the bundle {path} is not readable JSON ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GradeError(f"{path} is not an nnlab bundle (written by nnlab assign into autograder/).")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise GradeError(f"{path} has format version {data['format_version']}; update nnlab.")
    if "cells" not in data:
        raise GradeError(
            f"{path} has no instructor cells (it was written by an older nnlab assign); rebuild it with nnlab assign."
        )
    return data


def read_notebook(path: Path) -> tuple[dict | None, str]:
    """The submission as a dict, or None and a status that says why it is not a notebook."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return None, f"not a notebook: cannot be read ({exc.strerror})"
    if size == 0:
        return None, "not a notebook: the file is empty"
    if size > MAX_NOTEBOOK_BYTES:
        return None, f"not a notebook: the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not a notebook: the file is not text (UTF-8)"
    except (ValueError, RecursionError):
        return None, "not a notebook: the file is not valid JSON"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "not a notebook: valid JSON, but not a Jupyter notebook (no list of cells)"
    return data, "ok"


def _text(cell: dict) -> str | None:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return source if isinstance(source, str) else None


def find_answers(nb: dict, questions: list[dict]) -> dict[str, str]:
    """Each question's answer cell source, found by cell id, then by ``question:NAME`` tag."""
    cells = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    found: dict[str, str] = {}
    for q in questions:
        match = next((c for c in cells if c.get("id") == q["cell_id"]), None)
        if match is None:
            tag = f"question:{q['name']}"
            match = next(
                (
                    c
                    for c in cells
                    if isinstance(c.get("metadata"), dict)
                    and isinstance(c["metadata"].get("tags"), list)
                    and tag in c["metadata"]["tags"]
                ),
                None,
            )
        text = _text(match) if match is not None else None
        if text is not None:
            found[q["name"]] = text
    return found


def _imports(cells: list[dict]) -> list[str]:
    """Modules the instructor's cells import (loaded before the sandbox drops its privileges)."""
    names: list[str] = []
    for cell in cells:
        try:
            tree = ast.parse(_commented(cell["source"]))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    return sorted(set(names))


_STDLIB = set(getattr(sys, "stdlib_module_names", ())) - {
    "antigravity",
    "this",
    "idlelib",
    "tkinter",
    "turtle",
    "turtledemo",
    "webbrowser",
}
"""Standard-library modules an answer cell may import: loaded before the sandbox drops root (see _runner)."""


# --- judging what came back -----------------------------------------------------------------------


def decode_result(data: Any, depth: int = 0) -> Any:
    """A returned value from the sandbox's data, checked: plain types, whitelisted dtypes, sizes that add up."""
    import numpy as np

    if depth > 25:
        raise BadResult("a value nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode_result(v, depth + 1) for v in data]
    if type(data) is not dict:
        raise BadResult(f"unexpected data of type {type(data).__name__}")
    keys = set(data)
    if keys == {"__array__", "dtype", "shape"}:
        dtype, shape = data["dtype"], data["shape"]
        if dtype not in ALLOWED_DTYPES:
            raise BadResult(f"an array of dtype {dtype!r}")
        if type(shape) is not list or len(shape) > 32 or not all(type(s) is int and s >= 0 for s in shape):
            raise BadResult("an array with an invalid shape")
        count = math.prod(shape)
        if count > MAX_ELEMENTS:
            raise BadResult(f"an array of {count} elements")
        raw = base64.b64decode(data["__array__"], validate=True)
        if len(raw) != count * np.dtype(dtype).itemsize:
            raise BadResult("an array whose data does not match its shape")
        return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape).copy()
    if keys == {"__tuple__"} and type(data["__tuple__"]) is list:
        return tuple(decode_result(v, depth + 1) for v in data["__tuple__"])
    if keys == {"__dict__"} and type(data["__dict__"]) is dict:
        return {str(k): decode_result(v, depth + 1) for k, v in data["__dict__"].items()}
    if keys == {"__float__"} and data["__float__"] in ("nan", "inf", "-inf"):
        return float(data["__float__"])
    if keys == {"__unsupported__"}:
        return Unsupported(str(data["__unsupported__"])[:200])
    raise BadResult("unexpected data")


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    return [value]


def _nonfinite(value: Any) -> int:
    import numpy as np

    count = 0
    for leaf in _leaves(value):
        if type(leaf) is float and not math.isfinite(leaf):
            count += 1
        elif isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
            count += int((~np.isfinite(leaf)).sum())
    return count


def judge(received: Any, test: dict, question: dict, *, reveal: bool) -> tuple[bool, str, list[str]]:
    """``(passed, kind of failure, lines)`` for one returned value against the test's expected value."""
    from ..exercises.format import compare, decode

    unsupported = [leaf for leaf in _leaves(received) if isinstance(leaf, Unsupported)]
    if unsupported:
        return (
            False,
            "wrong kind of value",
            [
                f"the answer returned {unsupported[0].what}, which the grader does not accept:"
                " return numbers, NumPy arrays, or tuples of them."
            ],
        )
    expected = decode(test["expected"])
    bad = _nonfinite(received)
    if bad and not _nonfinite(expected):
        return False, "NaN or infinity", [f"the answer contains NaN or infinity ({bad} value(s))."]
    outcome = compare(
        received,
        expected,
        rtol=test.get("rtol", 1e-5),
        atol=test.get("atol", 1e-8),
        names=question.get("returns"),
        reveal=reveal,
    )
    if outcome:
        return True, "passed", []
    return False, "wrong kind of value" if outcome.wrong_shape else "wrong values", list(outcome.lines)


def _same(before: Any, after: Any) -> bool:
    """True when an argument is unchanged by the call (as ``check()`` decides: arrays entry by entry)."""
    import numpy as np

    if isinstance(before, np.ndarray):
        return (
            type(after) is np.ndarray
            and before.shape == after.shape
            and before.dtype == after.dtype
            and bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
        )
    if isinstance(before, (list, tuple)):
        return (
            type(after) in (list, tuple)
            and len(before) == len(after)
            and all(_same(b, a) for b, a in zip(before, after))
        )
    if isinstance(before, dict):
        return (
            type(after) is dict
            and before.keys() == after.keys()
            and all(_same(before[k], after[k]) for k in before)
        )
    return True  # numbers, strings and None cannot be changed in place


def changed_inputs(record: dict, test: dict) -> list[str]:
    """The arguments the answer changed in place, from the inputs the sandbox sent back after the call.

    The originals are the bundle's (held here); inputs that did not come back, or came back as something
    else than data, count as changed.
    """
    from ..exercises.format import decode

    args = decode(test.get("args", []))
    kwargs = decode(test.get("kwargs", {"__dict__": {}}))
    import numpy as np

    if not any(isinstance(v, (list, tuple, dict, np.ndarray)) for v in [*args, *kwargs.values()]):
        return []  # numbers only: nothing can change in place
    try:
        after = decode_result(record.get("inputs"))
    except (BadResult, ValueError, TypeError):
        after = None
    if (
        type(after) is not dict
        or type(after.get("args")) is not list
        or type(after.get("kwargs")) is not dict
    ):
        return ["(the inputs did not come back)"]
    changed = [
        f"argument {i + 1}"
        for i, b in enumerate(args)
        if i >= len(after["args"]) or not _same(b, after["args"][i])
    ]
    changed += [k for k in kwargs if k not in after["kwargs"] or not _same(kwargs[k], after["kwargs"][k])]
    return changed


def _parse_events(path: Path) -> tuple[list[dict], str | None]:
    try:
        size = path.stat().st_size
    except OSError:
        return [], None
    if size > MAX_RESULT_BYTES:
        return [], f"returned more than {MAX_RESULT_BYTES // 2**20} MB of data"
    events, problem = [], None
    for line in path.read_bytes().splitlines():
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # a line the student's code wrote: skipped, and said
            problem = "returned data that is not valid JSON"
            continue
        if isinstance(event, dict):
            events.append(event)
    # The student's code can write to this file too, so what it holds is only ever data to judge. The
    # runner writes "cells_done" after the last cell: what came before it is forged and is dropped; a
    # test's last record wins over one forged before it (see grade_question).
    last = max((i for i, e in enumerate(events) if e.get("event") == "cells_done"), default=0)
    return events[last:], problem


def _process_problem(report: dict, limits: Limits) -> str | None:
    """What ended the sandbox abnormally, in words (None for a normal end)."""
    if report.get("supervisor_failed") is not None:
        return "the sandbox failed to start or was killed"
    if report.get("timed_out"):
        return f"time limit ({limits.timeout:g} s)"
    sig = report.get("signal")
    if sig == "SIGXCPU":
        return f"CPU time limit ({limits.timeout:g} s)"
    if sig == "SIGXFSZ":
        return f"file size limit ({limits.file_size_mb} MB)"
    if sig:
        return f"killed by signal {sig}"
    return None


_BUILTIN_ERRORS = {
    name for name, obj in vars(builtins).items() if isinstance(obj, type) and issubclass(obj, BaseException)
}


def exception_name(name: Any) -> str:
    """A class name the student's process sent, as the feedback may show it: a built-in exception's name,
    else "an exception of its own class" (a class name of the student's own could carry anything,
    a hidden test's inputs included)."""
    return name if type(name) is str and name in _BUILTIN_ERRORS else "an exception of its own class"


def _error_kind(error: dict, limits: Limits) -> str:
    kind = exception_name(error.get("type"))
    message = str(error.get("message", ""))
    if kind == "MemoryError":
        return f"memory limit ({limits.memory_mb} MB)"
    if kind == "OSError" and "File too large" in message:
        return f"file size limit ({limits.file_size_mb} MB)"
    if kind == "SystemExit":
        return "called sys.exit()"
    return f"raised {kind}"


def unanswered(source: str, answer: str) -> bool:
    """True when the answer cell still holds the blank: ``answer = ...``, or a bare ``...`` in ``def answer``.

    Read from the cell's text in the grader (as ``check`` does in the notebook): a function left blank
    returns None, which must not earn the points of a test whose expected value happens to be None.
    """
    try:
        tree = ast.parse(_commented(source))
    except SyntaxError:
        return False

    def bare(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and node.value.value is Ellipsis
        )

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == answer:
            return any(bare(inner) for inner in ast.walk(node))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == answer for t in node.targets
        ):
            return isinstance(node.value, ast.Constant) and node.value.value is Ellipsis
    return False


def _commented(source: str) -> str:
    return "".join(("# " + ln) if ln.lstrip()[:1] in "%!" else ln for ln in source.splitlines(True))


def grade_question(
    question: dict,
    events: list[dict],
    report: dict,
    data_problem: str | None,
    limits: Limits,
    *,
    blank: bool = False,
) -> dict:
    """Score one question from the sandbox's events and report; every line for the instructor and the student.

    ``blank``: the answer cell still holds its ``...``; a None it returns is "not answered yet".
    """
    tests = question["tests"]
    reveal_all = question["kind"] != "value"
    weights = [float(t.get("weight", 1)) for t in tests]
    problem = _process_problem(report, limits) or data_problem
    cells_done = next((e for e in events if e.get("event") == "cells_done"), None)
    results: dict[int, dict] = {}
    for e in events:
        if e.get("event") == "test" and type(e.get("index")) is int and 0 <= e["index"] < len(tests):
            results[e["index"]] = e  # the last record of a test: the runner's, written after any forgery
    finished = any(e.get("event") == "done" for e in events)
    rows = []
    own_cell_errors = []
    if cells_done is not None:
        own_cell_errors = [
            err
            for err in cells_done.get("errors") or []
            if isinstance(err, dict) and err.get("cell") == question["cell_id"]
        ]
    if cells_done is None:
        if problem is None:
            code = report.get("returncode")
            problem = f"exited (status {code})"
        status = f"{problem} while the notebook's cells ran"
    elif any(e.get("event") == "missing" for e in events):
        status = f"the answer {question['answer']} is not defined"
        if own_cell_errors:
            status += f" (its cell raised {exception_name(own_cell_errors[0].get('type'))})"
    else:
        status = None
    early = status
    for index, test in enumerate(tests):
        hidden = test["visibility"] == "hidden"
        reveal = reveal_all and not hidden
        row = {
            "id": test["id"],
            "visibility": test["visibility"],
            "passed": False,
            "kind": "not run",
            "lines": [],
        }
        rec = results.get(index)
        if status is not None:
            row["kind"] = status
        elif rec is None:
            if problem is None:
                problem = (
                    f"exited (status {report.get('returncode')}) while its tests ran"
                    if not finished
                    else "returned no result"
                )
            row["kind"] = problem
        elif "error" in rec and isinstance(rec["error"], dict):
            row["kind"] = _error_kind(rec["error"], limits)
            if reveal:
                where = rec["error"].get("where")
                row["lines"] = [f"{rec['error'].get('type')}: {str(rec['error'].get('message'))[:300]}"] + (
                    [f"at {where}"] if where else []
                )
        else:
            try:
                received = decode_result(rec.get("value"))
            except (BadResult, ValueError, TypeError) as exc:
                row["kind"] = "wrong kind of value"
                row["lines"] = [f"the answer returned {exc}."]
            else:
                if blank and (received is None or isinstance(received, Unsupported)):
                    row["kind"], row["lines"] = "not answered yet", ["the answer still holds its `...`."]
                else:
                    row["passed"], row["kind"], row["lines"] = judge(received, test, question, reveal=reveal)
                    changed = changed_inputs(rec, test) if question["kind"] != "value" else []
                    if changed:
                        note = (
                            f"the answer changes its input {', '.join(changed)} in place: work on a new"
                            " array (x = x + ..., or x = x.copy() first), so the caller's data stays as it was."
                        )
                        if row["passed"]:
                            row["passed"], row["kind"], row["lines"] = False, "changed its input in place", []
                        row["lines"] = row["lines"] + [note]
        if not reveal:
            row["lines"] = []
        rows.append(row)
    passed_weight = sum(w for w, r in zip(weights, rows) if r["passed"])
    total_weight = sum(weights) or 1.0
    score = question["points"] * passed_weight / total_weight
    passed = sum(r["passed"] for r in rows)
    if status is None:
        if passed == len(rows):
            status = "passed"
        else:
            kinds = sorted({r["kind"] for r in rows if not r["passed"]})
            status = f"{passed} of {len(rows)} tests pass ({'; '.join(kinds)})"
    if report.get("strays"):
        status += f"; left {report['strays']} process(es) running, ended by the grader"
    return {
        "name": question["name"],
        "score": round(score, 6),
        "max_score": question["points"],
        "status": status,
        "problem": early or problem,
        "tests": rows,
        "report": report,
    }


# --- writing files --------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename (a reader sees old or new, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fmt(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else f"{points:.4g}"


def question_feedback(q: dict) -> str:
    """What the student reads about one question: public failures in full, hidden ones by kind only."""
    lines = [f"{q['name']}: {_fmt(q['score'])} of {_fmt(q['max_score'])} points ({q['status']})."]
    counts = {"public": 0, "hidden": 0}
    totals = {v: sum(t["visibility"] == v for t in q["tests"]) for v in counts}
    for row in q["tests"]:
        counts[row["visibility"]] += 1
        label = f"{row['visibility']} test {counts[row['visibility']]} of {totals[row['visibility']]}"
        if row["passed"]:
            continue
        lines.append(f"  {label} fails: {row['kind']}.")
        lines += [f"    {line}" for line in row["lines"]]
    return "\n".join(lines)


def _results_json(graded: Graded, execution_time: float, header: str) -> dict:
    return {
        "score": round(graded.score, 6),
        "execution_time": round(execution_time, 3),
        "output": header,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": q["name"],
                "score": q["score"],
                "max_score": q["max_score"],
                "status": "passed" if q["score"] >= q["max_score"] else "failed",
                "output": question_feedback(q),
                "visibility": "visible",
            }
            for q in graded.questions
        ],
    }


# --- one submission -------------------------------------------------------------------------------

RESULT_FILES = ("results.json", "feedback.md", "summary.json")


def _prepare_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in RESULT_FILES:
        (folder / name).unlink(missing_ok=True)
    raw = folder / "raw"
    if raw.is_symlink() or raw.is_file():
        raw.unlink()
    shutil.rmtree(raw, ignore_errors=True)
    raw.mkdir(mode=0o700)
    return raw


def _safe(name: str) -> str:
    return SAFE_NAME.sub("_", name)[:80] or "question"


def grade_submission(
    bundle: dict, name: str, path: Path | None, folder: Path, limits: Limits, note: str | None = None
) -> Graded:
    """Grade one submission into ``folder`` (its old results removed first); return its row."""
    start = time.monotonic()
    raw = _prepare_folder(folder)
    questions = bundle["questions"]
    max_score = float(bundle.get("total_points", sum(q["points"] for q in questions)))
    nb, status = (None, note) if path is None else read_notebook(path)
    graded_questions: list[dict] = []
    if nb is None:
        graded_questions = [
            {
                "name": q["name"],
                "score": 0.0,
                "max_score": q["points"],
                "status": status,
                "problem": status,
                "tests": [
                    {
                        "id": t["id"],
                        "visibility": t["visibility"],
                        "passed": False,
                        "kind": status,
                        "lines": [],
                    }
                    for t in q["tests"]
                ],
            }
            for q in questions
        ]
    else:
        answers = find_answers(nb, questions)
        cells = []
        for cell in bundle["cells"]:
            if cell.get("question"):
                if cell["question"] in answers:
                    cells.append({"id": cell["id"], "source": answers[cell["question"]], "origin": "answer"})
            else:
                cells.append({"id": cell["id"], "source": cell["source"], "origin": "instructor"})
        preload = _imports([c for c in cells if c["origin"] == "instructor"])
        preload += [m for m in _imports(cells) if m.split(".")[0] in _STDLIB and m not in preload]
        for q in questions:
            if q["name"] not in answers:
                status_q = "answer cell not found (deleted, or its id and tag changed)"
                graded_questions.append(
                    grade_question(q, [{"event": "cells_done"}, {"event": "missing"}], {}, None, limits)
                )
                graded_questions[-1]["status"] = status_q
                graded_questions[-1]["problem"] = status_q
                continue
            stem = _safe(q["name"])
            parts = []
            for suffix, indices in _runs_by_visibility(q):
                if parts and not any(e.get("event") == "cells_done" for e in parts[-1][1]):
                    break  # the same cells did not run through: the hidden tests' run would end the same way
                request = {
                    "cells": cells,
                    "question": {"name": q["name"], "answer": q["answer"], "kind": q["kind"]},
                    "tests": [
                        {"args": t.get("args", []), "kwargs": t.get("kwargs", {"__dict__": {}})}
                        for t in (q["tests"][i] for i in indices)
                    ],
                    "preload": preload,
                }
                log, result = raw / f"{stem}{suffix}.log", raw / f"{stem}{suffix}.jsonl"
                report = run(request, limits=limits, log=log, result=result)
                events, data_problem = _parse_events(result)
                parts.append((indices, events, report, data_problem))
                _trim(log)
            events, report, data_problem = _merge_runs(parts)
            blank = unanswered(answers[q["name"]], q["answer"])
            graded_questions.append(grade_question(q, events, report, data_problem, limits, blank=blank))
        notes = [f"{q['name']}: {q['status']}" for q in graded_questions if q["status"] != "passed"]
        status = "; ".join(notes) if notes else "ok"
    seconds = time.monotonic() - start
    score = sum(q["score"] for q in graded_questions)
    graded = Graded(name, round(score, 6), max_score, status, round(seconds, 3), questions=graded_questions)
    header = f"{name}: {_fmt(graded.score)} of {_fmt(max_score)} points."
    feedback = "\n\n".join(
        [f"# Feedback: {bundle.get('exercise', '')}\n\n{header}"]
        + [question_feedback(q) for q in graded_questions]
    )
    write_atomic(
        raw / "grader.json",
        json.dumps(
            {"submission": name, "source": str(path), "questions": graded_questions}, indent=1, default=str
        )
        + "\n",
    )
    write_atomic(folder / "feedback.md", feedback + "\n")
    write_atomic(folder / "results.json", json.dumps(_results_json(graded, seconds, header), indent=1) + "\n")
    summary = {k: getattr(graded, k) for k in ("submission", "score", "max_score", "status", "seconds")}
    write_atomic(folder / "summary.json", json.dumps(summary, indent=1) + "\n")
    return graded


def _runs_by_visibility(question: dict) -> list[tuple[str, list[int]]]:
    """``(log suffix, test indices)`` per sandbox run: the public tests in one, the hidden tests in another.

    A process that has been given a hidden test's inputs can put them into anything it returns (an
    exception's message or class name, a value a public test's feedback shows). So the public tests,
    whose failures the feedback explains in full, run in a process that never sees a hidden input, and
    the hidden tests' feedback says only the kind of failure.
    """
    public = [i for i, t in enumerate(question["tests"]) if t.get("visibility") != "hidden"]
    hidden = [i for i, t in enumerate(question["tests"]) if t.get("visibility") == "hidden"]
    runs = [("", public)] if public else []
    if hidden:
        runs.append((".hidden" if public else "", hidden))
    return runs or [("", [])]


def _merge_runs(
    parts: list[tuple[list[int], list[dict], dict, str | None]],
) -> tuple[list[dict], dict, str | None]:
    """One question's events, report and data problem from its runs (test indices mapped back)."""
    events: list[dict] = []
    for indices, part, _, _ in parts:
        for e in part:
            if e.get("event") == "test":
                k = e.get("index")
                if type(k) is int and 0 <= k < len(indices):
                    events.append({**e, "index": indices[k]})
            elif e.get("event") in ("cells_done", "missing"):
                events.append(e)
    if all(any(e.get("event") == "done" for e in part) for _, part, _, _ in parts):
        events.append({"event": "done"})
    reports = [r for _, _, r, _ in parts]
    report = dict(reports[0])
    for key in ("supervisor_failed", "signal"):
        report[key] = next((r.get(key) for r in reports if r.get(key) is not None), None)
    report["returncode"] = next(
        (r.get("returncode") for r in reports if r.get("returncode")), reports[0].get("returncode")
    )
    report["timed_out"] = any(r.get("timed_out") for r in reports)
    report["strays"] = sum(int(r.get("strays") or 0) for r in reports)
    report["wall"] = round(sum(float(r.get("wall") or 0) for r in reports), 3)
    report["runs"] = len(reports)
    return events, report, next((p for _, _, _, p in parts if p), None)


def _trim(log: Path) -> None:
    """Keep the first 256 KiB of a log (a flood of output is cut, with a line that says so)."""
    try:
        if log.stat().st_size > MAX_LOG_KEPT:
            with open(log, "rb") as handle:
                head = handle.read(MAX_LOG_KEPT)
            log.write_bytes(head + b"\n[... output cut by nnlab grade]\n")
    except OSError:
        pass


# --- the batch ------------------------------------------------------------------------------------


def find_submissions(
    paths: list[Path], notebook: str, out: Path | None = None
) -> list[tuple[str, Path | None, str | None]]:
    """``(name, file, note)`` per submission: files as given, a folder's files, or a sub-folder's notebook.

    The results folder ``out`` is never taken for a submission, even when it sits among them.
    """
    found: list[tuple[str, Path | None, str | None]] = []
    skip = out.resolve() if out is not None else None
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                if entry.name.startswith(".") or entry.resolve() == skip:
                    continue
                if entry.is_symlink():  # a link could name the solution, a classmate's notebook, the bundle
                    found.append((entry.stem, None, LINK_STATUS))
                elif entry.is_dir():
                    file, note = notebook_in(entry, notebook)
                    found.append((entry.name, file, note))
                elif entry.is_file():
                    found.append((entry.stem, entry, None))
        else:
            found.append((path.stem, path, None))
    seen: dict[str, int] = {}
    unique = []
    for name, file, note in found:
        name = _safe(name)
        seen[name] = seen.get(name, 0) + 1
        unique.append((name if seen[name] == 1 else f"{name}-{seen[name]}", file, note))
    return unique


LINK_STATUS = "not a notebook: a symbolic link (a submission must be plain files)"


def _linked(path: Path, folder: Path) -> bool:
    """True when ``path``, or a folder between it and ``folder``, is a symbolic link."""
    try:
        parts = path.relative_to(folder).parts
    except ValueError:
        return True
    return any((folder.joinpath(*parts[: k + 1])).is_symlink() for k in range(len(parts)))


def notebook_in(folder: Path, notebook: str) -> tuple[Path | None, str | None]:
    """The notebook inside one submission folder: the bundle's name, else the only ``.ipynb``, else the only file."""
    if notebook and _linked(folder / notebook, folder):
        return None, LINK_STATUS
    if notebook and (folder / notebook).is_file():
        return folder / notebook, None
    everything = list(folder.rglob("*"))
    if any(_linked(p, folder) for p in everything):
        return None, LINK_STATUS
    files = sorted(p for p in everything if p.is_file() and not p.name.startswith("."))
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    if len(notebooks) == 1:
        return notebooks[0], None
    if not notebooks and len(files) == 1:
        return files[0], None
    if not files:
        return None, "not a notebook: the submission is empty"
    return None, f"not a notebook: no single .ipynb in the submission ({len(notebooks)} found)"


def _progress_on() -> bool:
    return os.environ.get("NNLAB_PROGRESS", "1").strip().lower() not in ("0", "false", "off", "no")


def _readable_by_others(path: Path) -> bool:
    """True when a user other than the owner can read ``path``: it is o+r and every folder above it o+x."""
    try:
        path = path.resolve()
        if not path.stat().st_mode & stat.S_IROTH:
            return False
        return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False


def _warnings(bundle: Path, submissions: list[Path]) -> list[str]:
    """When root: the bundle and the submissions must be out of the sandbox user's reach; say so when not.

    A readable bundle gives away the hidden tests; readable classmates' notebooks give away answers.
    """
    if unprivileged_user() is None:
        return []
    lines = []
    if _readable_by_others(bundle):
        lines.append(
            f"nnlab grade: warning: {bundle} is readable by every user, so the submissions (run unprivileged)"
            " could read its hidden tests; chmod 600 it (and its folder 700) before grading."
        )
    exposed = [p for p in submissions if _readable_by_others(p)]
    if len(exposed) > 1:
        lines.append(
            f"nnlab grade: warning: {len(exposed)} submissions (e.g. {exposed[0]}) are readable by every user, so"
            " each could read another's answers while it runs; chmod 700 their folder before grading."
        )
    return lines


def grade(
    bundle_path: Path | str,
    submissions: list[Path | str],
    out: Path | str,
    *,
    jobs: int = 1,
    limits: Limits | None = None,
    force: bool = False,
    progress: bool | None = None,
) -> list[Graded]:
    """Grade every submission into ``out``; write ``out/grades.csv``; return the rows.

    A submission already graded in ``out`` is skipped (its row is read back) unless ``force``.
    """
    limits = limits or Limits()
    bundle = load_bundle(Path(bundle_path))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if unprivileged_user() is not None:
        os.chmod(out, 0o700)
    todo = find_submissions([Path(p) for p in submissions], bundle.get("notebook", ""), out)
    for warning in _warnings(Path(bundle_path), [file for _, file, _ in todo if file is not None]):
        print(warning, file=sys.stderr)
    rows: dict[str, Graded] = {}
    pending = []
    for name, file, note in todo:
        summary = out / name / "summary.json"
        if not force and summary.is_file() and (out / name / "results.json").is_file():
            try:
                data = json.loads(summary.read_text(encoding="utf-8"))
                rows[name] = Graded(
                    **{k: data[k] for k in ("submission", "score", "max_score", "status", "seconds")},
                    skipped=True,
                )
                continue
            except (OSError, ValueError, KeyError, TypeError):
                pass
        pending.append((name, file, note))
    from tqdm.auto import tqdm

    show = _progress_on() if progress is None else progress
    bar = tqdm(total=len(pending), desc="grading", unit="submission", disable=not show, file=sys.stderr)

    def one(item: tuple[str, Path | None, str | None]) -> Graded:
        name, file, note = item
        try:
            return grade_submission(bundle, name, file, out / name, limits, note)
        except Exception as exc:
            status = f"grader error: {type(exc).__name__}: {exc}"
            return Graded(name, 0.0, float(bundle.get("total_points", 0)), status, 0.0)
        finally:
            bar.update(1)

    try:
        with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
            for graded in pool.map(one, pending):
                rows[graded.submission] = graded
    finally:
        bar.close()
    ordered = [rows[name] for name, _, _ in todo]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", "score", "max_score", "status", "seconds"])
    for row in ordered:
        writer.writerow(
            [row.submission, _fmt(row.score), _fmt(row.max_score), row.status, f"{row.seconds:.2f}"]
        )
    write_atomic(out / "grades.csv", buffer.getvalue())
    return ordered


# --- the command ----------------------------------------------------------------------------------


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``grade`` subcommand's arguments (importing this module loads nothing heavy)."""
    parser = sub.add_parser(
        "grade",
        help="grade submitted notebooks in a sandbox, write grades.csv and feedback",
        description="Grade untrusted submissions against a bundle written by nnlab assign: each question"
        " runs in its own sandboxed process; expected values and comparisons stay in the grader.",
    )
    parser.add_argument("bundle", type=Path, metavar="BUNDLE.json", help="the bundle (autograder/NAME.json)")
    parser.add_argument(
        "submissions", nargs="*", type=Path, metavar="SUBMISSION", help="notebooks, or folders of them"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for grades.csv and per-submission results"
    )
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per question (default 30)")
    parser.add_argument(
        "--memory", type=int, default=2048, help="MB of address space per process (default 2048)"
    )
    parser.add_argument("--file-size", type=int, default=32, help="MB: largest file or output (default 32)")
    parser.add_argument(
        "--force", action="store_true", help="grade again submissions already graded in --out"
    )
    parser.add_argument(
        "--gradescope",
        type=Path,
        default=None,
        metavar="ROOT",
        help="grade ROOT/submission as one submission and write ROOT/results/results.json (Gradescope's layout)",
    )
    return parser


def run_cli(args: argparse.Namespace, *, reap: bool = False) -> int:
    """Run ``grade`` for parsed arguments: 0 when the batch ran (whatever the scores), 2 on a usage error.

    ``reap``: the ``nnlab`` command's own process (not a library call) becomes a child subreaper, and
    at the end ends any process re-parented to it (a sandbox whose supervisor was killed).
    """
    limits = Limits(timeout=args.timeout, memory_mb=args.memory, file_size_mb=args.file_size)
    if reap:
        _become_subreaper()
    try:
        if args.gradescope is not None:
            return _gradescope(args, limits)
        if args.out is None or not args.submissions:
            print(
                "nnlab grade: give SUBMISSION files or folders and --out DIR (or --gradescope ROOT).",
                file=sys.stderr,
            )
            return 2
        missing = [str(p) for p in args.submissions if not p.exists()]
        if missing:
            print(f"nnlab grade: {', '.join(missing)} does not exist.", file=sys.stderr)
            return 2
        rows = grade(args.bundle, args.submissions, args.out, jobs=args.jobs, limits=limits, force=args.force)
    except GradeError as exc:
        print(f"nnlab grade: {exc}", file=sys.stderr)
        return 2
    finally:
        if reap:
            _sweep_orphans()
    graded = [r for r in rows if not r.skipped]
    print(
        f"graded {len(graded)} submission(s), skipped {len(rows) - len(graded)} already graded;"
        f" wrote {Path(args.out) / 'grades.csv'}"
    )
    return 0


def _pick_bundle(path: Path, submission: Path) -> Path | None:
    """The bundle for a Gradescope submission: the file given, or the one in a folder whose notebook was submitted."""
    if not path.is_dir():
        return path
    bundles = sorted(path.glob("*.json"))
    if len(bundles) == 1:
        return bundles[0]
    for candidate in bundles:
        try:
            notebook = json.loads(candidate.read_text(encoding="utf-8")).get("notebook", "")
        except (OSError, ValueError):
            continue
        if notebook and (submission / notebook).is_file():
            return candidate
    return None


def _gradescope(args: argparse.Namespace, limits: Limits) -> int:
    root = args.gradescope
    chosen = _pick_bundle(args.bundle, root / "submission")
    if chosen is None:
        names = sorted(p.name for p in args.bundle.glob("*.json"))
        text = f"No notebook of this assignment was found in the submission (expected one of the notebooks of {', '.join(names)})."
        write_atomic(
            root / "results" / "results.json",
            json.dumps({"score": 0, "output": text, "visibility": "visible", "tests": []}, indent=1) + "\n",
        )
        print(text)
        return 0
    bundle = load_bundle(chosen)
    out = root / "results" / "nnlab"
    file, note = notebook_in(root / "submission", bundle.get("notebook", ""))
    graded = grade_submission(bundle, "submission", file, out / "submission", limits, note)
    results = out / "submission" / "results.json"
    write_atomic(root / "results" / "results.json", results.read_text(encoding="utf-8"))
    print(f"{graded.submission}: {_fmt(graded.score)} of {_fmt(graded.max_score)} ({graded.status})")
    return 0


def _become_subreaper() -> None:
    """Linux: orphans of a killed supervisor come back to the command's process, to be ended."""
    from ._supervise import PR_SET_CHILD_SUBREAPER, _prctl

    if sys.platform.startswith("linux"):
        _prctl(PR_SET_CHILD_SUBREAPER, 1)


def _sweep_orphans() -> None:
    """End every process still a child of the command at the end (only sandbox processes can be)."""
    if not sys.platform.startswith("linux"):
        return
    import signal

    from ._supervise import _children, _reap

    for _ in range(100):
        pids = _children()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap()
        time.sleep(0.01)


def main(argv: list[str] | None = None) -> int:
    """``python -m nnlab.grading SUBMISSION... --out DIR`` (the same as ``nnlab grade``)."""
    parser = argparse.ArgumentParser(prog="nnlab")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    return run_cli(parser.parse_args(["grade", *(sys.argv[1:] if argv is None else argv)]), reap=argv is None)
