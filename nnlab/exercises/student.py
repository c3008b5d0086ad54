r"""The student's side: ``check("ch03.linear_backward", linear_backward)`` and ``summary("ch03")``.

``check`` runs a question's public tests on the answer at once and prints what to do next: which
test fails, the expected and received shapes and dtypes, the largest error and where, and the hint
for the usual mistake the answer looks like (only that one: an answer of the wrong shape gets no hint,
and wrong numbers that match no usual mistake are told so in one line, never given a guess). An answer still ``...`` (or raising
``NotImplementedError``) is "not answered yet"; an answer that raises shows the student's own line.
The public tests ship inside nnlab (``nnlab/exercises/public/*.json``, written by ``nnlab assign``),
so nothing is downloaded; hidden tests are not in the package at all.
"""

from __future__ import annotations

import ast
import inspect
import json
import linecache
import os
import sys
import textwrap
import traceback
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .format import FORMAT, FORMAT_VERSION, compare, decode, describe, run_test

__all__ = ["check", "load_tests", "summary"]

_authoring = False  # True while ``nnlab assign`` runs a source: check() and summary() stay silent
_questions: dict[str, dict] | None = None
_results: dict[str, Result] = {}


@dataclass
class Result:
    """The last outcome of ``check`` for one question: "pass", "fail" or "unanswered", and its points."""

    status: str
    points: float
    passed: int = 0
    total: int = 0


def _package_files() -> list[Any]:
    folder = resources.files(__package__) / "public"
    try:
        return sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _known() -> dict[str, dict]:
    global _questions
    if _questions is None:
        _questions = {}
        for file in _package_files():
            _add(json.loads(file.read_text(encoding="utf-8")), file.name)
    return _questions


def _add(data: dict, origin: str) -> int:
    if data.get("format") != FORMAT or not isinstance(data.get("format_version"), int):
        raise ValueError(f"load_tests expected an nnlab exercise file; {origin} is not one.")
    if data["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"load_tests expected format version {FORMAT_VERSION} or older; {origin} has version"
            f" {data['format_version']}. Update nnlab (pip install -U nnlab)."
        )
    for question in data["questions"]:
        _known()[question["name"]] = question
    return len(data["questions"])


def load_tests(path: str | os.PathLike) -> int:
    """Add the public tests of a file written by ``nnlab assign`` (for exercises outside the book)."""
    return _add(json.loads(Path(path).read_text(encoding="utf-8")), str(path))


def _unanswered_code(fn: Any) -> bool:
    """True when the function's code still contains a bare ``...`` statement (the blank left to fill)."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    return any(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value is Ellipsis
        for node in ast.walk(tree)
    )


_LIBRARY_DIRS = tuple(
    {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    | {os.path.realpath(str(Path(__file__).resolve().parents[1]))}
)


def _own_line(exc: BaseException) -> str | None:
    """The deepest line of the traceback that is the student's own code (not nnlab, NumPy or Python)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = frame.filename
        if name.startswith("<frozen"):
            continue
        if not name.startswith("<") and os.path.realpath(name).startswith(_LIBRARY_DIRS):
            continue
        code = (frame.line or linecache.getline(name, frame.lineno or 0)).strip()
        return f"your line {frame.lineno}: {code}" if code else f"your line {frame.lineno}"
    return None


def _input(value: Any) -> str:
    """An input as the feedback shows it: a number by its value, an array by its shape and dtype."""
    if isinstance(value, (bool, int, float, np.generic)) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    ):
        return repr(value.item() if hasattr(value, "item") else value)
    return describe(value)


def _inputs(test: dict) -> str:
    parts = [_input(v) for v in decode(test["args"])]
    parts += [f"{k}={_input(v)}" for k, v in decode(test["kwargs"]).items()]
    return ", ".join(parts)


def _print(lines: list[str]) -> None:
    print("\n".join(lines))


def check(name: str, answer: Any) -> None:
    """Run the public tests of question ``name`` on ``answer`` and print feedback; remember the outcome.

    Example (in an exercise notebook, after the answer):
        check("ch03.linear_backward", linear_backward)
    """
    if _authoring:
        return
    question = _known().get(name)
    if question is None:
        print(
            f"check does not know the question {name!r}: this nnlab has public tests for"
            f" {', '.join(sorted({n.split('.')[0] for n in _known()})) or 'no exercises'}."
            " Is the name spelled as in the notebook, and is nnlab up to date?"
        )
        return
    points = question["points"]
    tests = question["tests"]
    if answer is Ellipsis:
        _unanswered(name, points, len(tests))
        return
    for number, test in enumerate(tests, start=1):
        label = f"public test {number} of {len(tests)}"
        try:
            received = run_test(answer, test, kind=question["kind"])
        except NotImplementedError:
            _unanswered(name, points, len(tests))
            return
        except Exception as exc:
            own = _own_line(exc)
            lines = [
                f"{name}: your answer raised {type(exc).__name__} on {label}, {question['answer']}({_inputs(test)})."
            ]
            if own:
                lines.append(f"  {own}")
            lines.append(f"  {type(exc).__name__}: {exc}")
            _failed(name, question, lines, number - 1, len(tests))
            return
        if received is None and callable(answer) and _unanswered_code(answer):
            _unanswered(name, points, len(tests))
            return
        expected = decode(test["expected"])
        options = {"rtol": test["rtol"], "atol": test["atol"], "names": question.get("returns")}
        outcome = compare(received, expected, reveal=question["kind"] != "value", **options)
        if outcome:
            continue
        lines = [f"{name}: {label} fails."]
        if question["kind"] == "function":
            lines[0] += f" The test called {question['answer']}({_inputs(test)})."
        lines += [f"  {line}" for line in outcome.lines]
        hints = question.get("hints") or []
        matched = [
            hint
            for hint, out in zip(hints, test.get("mistakes") or [])
            if out is not None and compare(received, decode(out), **options)
        ]
        if matched:
            lines.append(f"  Hint: this looks like a usual mistake. {matched[0]}")
        elif hints and not outcome.wrong_shape:
            # a wrong shape or type is said above; only wrong numbers get this line
            lines.append(f"  {_NO_MATCH}")
        _failed(name, question, lines, number - 1, len(tests))
        return
    print(f"{name}: passes its {_count(len(tests), 'public test')}.")
    _results[name] = Result("pass", points, len(tests), len(tests))


_NO_MATCH = (
    "Your answer matches none of the usual mistakes of this question: check each line against its formula."
)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _unanswered(name: str, points: float, total: int) -> None:
    print(f"{name}: not answered yet.")
    _results[name] = Result("unanswered", points, 0, total)


def _failed(name: str, question: dict, lines: list[str], passed: int, total: int) -> None:
    _print(lines)
    _results[name] = Result("fail", question["points"], passed, total)


def summary(exercise: str | None = None) -> None:
    """Print which questions of ``exercise`` (e.g. ``"ch03"``) pass their public tests, out of how many.

    Without an argument: every exercise set that ``check`` has seen in this session.
    """
    if _authoring:
        return None
    sets = [exercise] if exercise else sorted({n.split(".")[0] for n in _results})
    names = [n for n in _known() if n.split(".")[0] in sets]
    if not names:
        print(f"summary: no questions found for {exercise or 'this session'}; run the check lines first.")
        return None
    width = max(len(n) for n in names)
    passed = [n for n in names if n in _results and _results[n].status == "pass"]
    total_points = sum(_known()[n]["points"] for n in names)
    got_points = sum(_known()[n]["points"] for n in passed)
    lines = [
        f"{len(passed)} of {len(names)} questions pass their public tests"
        f" ({_fmt(got_points)} of {_fmt(total_points)} points)."
    ]
    for n in names:
        result = _results.get(n)
        status = {"pass": "passes", "fail": "fails", "unanswered": "not answered yet"}.get(
            result.status if result else "", "not checked yet"
        )
        lines.append(f"  {n:<{width}}  {status}")
    hidden = sum(_known()[n].get("hidden_tests", 0) for n in names)
    if hidden:
        lines.append(f"When your work is graded, {_count(hidden, 'hidden test')} run as well.")
    _print(lines)
    return None


def _fmt(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else f"{points:g}"
