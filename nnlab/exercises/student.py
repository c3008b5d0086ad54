r"""The student's side: ``check("ch03.linear_backward", linear_backward)`` and ``summary("ch03")``.

``check`` runs every public test of a question on the answer at once and prints what to do next: the
first test that fails, the expected and received shapes and dtypes, the largest error and where, which
other tests fail, and the hint for the usual mistake the answer looks like. A mistake is named only
when it explains every public test (the answer gives what that mistake gives on each of them), so a
coincidence on one test never earns a wrong hint; wrong numbers that match no usual mistake are told
so in one line, never given a guess. What the answer shows by itself is said as well: whole numbers
where fractions are due (``//``, an integer array), NaN or infinity, True/False or a list where an
array is due, and an answer that changes its inputs in place (``w += ...``). An answer still ``...``
(or raising ``NotImplementedError``) is "not answered yet"; an answer that raises shows the student's
own line.

Where the questions come from, first match wins:

1. the notebook being run: ``nnlab assign`` writes a student notebook's public tests into its
   metadata (``"nnlab"`` -> ``"questions"``), so a question an instructor added is known, and
   ``summary`` counts every question the notebook asks. The notebook is the one Jupyter names
   (``__session__``, ``JPY_SESSION_NAME``, VS Code's ``__vsc_ipynb_file__``), or else a notebook in
   the working directory that carries the exercise set (the most recently saved one);
2. files added with ``load_tests(path)``;
3. the public tests that ship inside nnlab (``nnlab/exercises/public/*.json``), so the book's
   exercises work where no notebook file can be found (Colab). Hidden tests are not in the package.
"""

from __future__ import annotations

import ast
import copy
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

from .format import FORMAT, FORMAT_VERSION, Outcome, compare, decode, describe

__all__ = ["check", "load_tests", "summary"]

_authoring = False  # True while ``nnlab assign`` runs a source: check() and summary() stay silent
_questions: dict[str, dict] | None = None  # the package's public tests and those of load_tests()
_results: dict[str, Result] = {}
_notebooks: dict[str, tuple[tuple[float, int], dict[str, dict] | None]] = {}  # path -> (stamp, questions)
_MAX_NOTEBOOK_BYTES = 20_000_000
_MAX_SCANNED = 200


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
    """The questions of the package's public tests and of every ``load_tests`` file, by name."""
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


# ---- the notebook's own questions -------------------------------------------------------------------


def _exercise_set(name: str) -> str:
    return name.split(".")[0]


def _read_notebook(path: Path) -> dict[str, dict] | None:
    """The questions a student notebook carries in its metadata, by name; None for any other file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    stamp = (stat.st_mtime, stat.st_size)
    key = str(path)
    if key in _notebooks and _notebooks[key][0] == stamp:
        return _notebooks[key][1]
    questions = None
    if stat.st_size <= _MAX_NOTEBOOK_BYTES:
        try:
            data = path.read_bytes()
            if b'"nnlab"' in data:
                meta = json.loads(data).get("metadata", {}).get("nnlab", {})
                carried = meta.get("questions") if isinstance(meta, dict) else None
                version = meta.get("format_version") if isinstance(meta, dict) else None
                if isinstance(carried, list) and isinstance(version, int) and version <= FORMAT_VERSION:
                    questions = {q["name"]: q for q in carried if isinstance(q, dict) and "name" in q}
        except (OSError, ValueError, AttributeError, TypeError):
            questions = None
    _notebooks[key] = (stamp, questions)
    return questions


def _session_path() -> Path | None:
    """The notebook file the kernel runs, where Jupyter or VS Code says so."""
    names = []
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    user_ns = getattr(shell, "user_ns", None) or {}
    names += [user_ns.get("__vsc_ipynb_file__"), user_ns.get("__session__")]
    names.append(os.environ.get("JPY_SESSION_NAME"))
    for name in names:
        if not isinstance(name, str) or not name.endswith(".ipynb"):
            continue
        path = Path(name)
        for candidate in (path, Path.cwd() / path.name):
            if candidate.is_file():
                return candidate
    return None


def _notebook_questions(exercise: str) -> dict[str, dict] | None:
    """The questions of the running notebook when it carries the exercise set ``exercise`` (e.g. "ch01")."""
    session = _session_path()
    if session is not None:
        questions = _read_notebook(session)
        if questions and any(_exercise_set(n) == exercise for n in questions):
            return questions
    try:
        candidates = sorted(Path.cwd().glob("*.ipynb"))[:_MAX_SCANNED]
    except OSError:
        return None
    found = []
    for path in candidates:
        questions = _read_notebook(path)
        if questions and any(_exercise_set(n) == exercise for n in questions):
            found.append((_notebooks[str(path)][0][0], str(path), questions))
    return max(found)[2] if found else None


def _question(name: str) -> dict | None:
    carried = _notebook_questions(_exercise_set(name))
    if carried and name in carried:
        return carried[name]
    return _known().get(name)


def _set_questions(exercise: str) -> dict[str, dict]:
    """Every question of an exercise set, in the notebook's order where a notebook carries the set."""
    carried = _notebook_questions(exercise)
    if carried:
        return {n: q for n, q in carried.items() if _exercise_set(n) == exercise}
    return {n: q for n, q in _known().items() if _exercise_set(n) == exercise}


# ---- running an answer --------------------------------------------------------------------------------


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


def _inputs(test: dict, answer: Any = None) -> str:
    """The test's call as the feedback shows it, keyword arguments in the order the answer takes them."""
    kwargs = decode(test.get("kwargs", {"__dict__": {}}))
    try:
        order = list(inspect.signature(answer).parameters)
    except (TypeError, ValueError):
        order = []
    keys = sorted(kwargs, key=lambda k: order.index(k) if k in order else len(order))
    parts = [_input(v) for v in decode(test.get("args", []))]
    parts += [f"{k}={_input(kwargs[k])}" for k in keys]
    return ", ".join(parts)


def _same(before: Any, after: Any) -> bool:
    """True when an argument is unchanged by the call (arrays entry by entry, NaN equal to NaN)."""
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and before.dtype == after.dtype
            and bool(np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"))
        )
    if isinstance(before, (list, tuple)):
        return len(before) == len(after) and all(_same(b, a) for b, a in zip(before, after))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    return True  # numbers, strings and None cannot be changed in place


def _call(answer: Any, test: dict, kind: str) -> tuple[Any, list[str]]:
    """The answer's result on one test, and the names of the arguments it changed in place."""
    if kind == "value":
        return copy.deepcopy(answer), []
    args = decode(test.get("args", []))
    kwargs = decode(test.get("kwargs", {"__dict__": {}}))
    before = copy.deepcopy((args, kwargs))
    result = answer(*args, **kwargs)
    changed = [k for k in kwargs if not _same(before[1][k], kwargs[k])]
    if args:
        try:
            params = list(inspect.signature(answer).parameters)
        except (TypeError, ValueError):
            params = []
        for i, (b, a) in enumerate(zip(before[0], args)):
            if not _same(b, a):
                changed.insert(i, params[i] if i < len(params) else f"argument {i + 1}")
    return result, changed


@dataclass
class _Run:
    number: int
    test: dict
    received: Any
    outcome: Outcome
    changed: list[str]


def _matched_hint(question: dict, runs: list[_Run]) -> str | None:
    """The hint of the first usual mistake that explains every public test; None when none does.

    A mistake explains the answer when, on every test, the answer gives what the mistake gives: each
    failing test fails the way the mistake fails, and the answer passes only where the mistake does.
    """
    for k, hint in enumerate(question.get("hints") or []):
        explains = True
        for run in runs:
            outputs = run.test.get("mistakes") or []
            out = outputs[k] if k < len(outputs) else None
            if out is None:
                explains = bool(run.outcome)  # the mistake raised here: it explains no failure
            else:
                tolerances = {"rtol": run.test["rtol"], "atol": run.test["atol"]}
                explains = bool(
                    compare(run.received, decode(out), names=question.get("returns"), **tolerances)
                )
            if not explains:
                break
        if explains:
            return hint
    return None


def _numbers(numbers: list[int]) -> str:
    text = [str(n) for n in numbers]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def _in_place(changed: list[str]) -> str:
    first = changed[0] if not changed[0].startswith("argument") else "x"
    return (
        f"`{first} += ...`, `{first} -= ...` or `{first}[...] = ...` write into the array the caller passed"
        f" in, so the caller's data changes too. Work on a new array: {first} = {first} + ..., or"
        f" {first} = {first}.copy() first."
    )


def _print(lines: list[str]) -> None:
    print("\n".join(lines))


def check(name: str, answer: Any) -> None:
    """Run the public tests of question ``name`` on ``answer`` and print feedback; remember the outcome.

    Example (in an exercise notebook, after the answer):
        check("ch03.linear_backward", linear_backward)
    """
    if _authoring:
        return
    question = _question(name)
    if question is None:
        sets = sorted({_exercise_set(n) for n in _known()})
        print(
            f"check does not know the question {name!r}: neither this notebook's own tests nor this nnlab's"
            f" (for {', '.join(sets) or 'no exercises'}) have it. Is the name spelled as in the notebook, is"
            " the notebook saved in the folder you run it from, and is nnlab up to date?"
        )
        return
    points = question["points"]
    tests = question["tests"]
    if answer is Ellipsis:
        _unanswered(name, points, len(tests))
        return
    options = {"names": question.get("returns")}
    runs: list[_Run] = []
    for number, test in enumerate(tests, start=1):
        label = f"public test {number} of {len(tests)}"
        try:
            received, changed = _call(answer, test, question["kind"])
        except NotImplementedError:
            _unanswered(name, points, len(tests))
            return
        except Exception as exc:
            own = _own_line(exc)
            lines = [
                f"{name}: your answer raised {type(exc).__name__} on {label}, {question['answer']}({_inputs(test, answer)})."
            ]
            if own:
                lines.append(f"  {own}")
            lines.append(f"  {type(exc).__name__}: {exc}")
            if isinstance(exc, TypeError) and "keyword argument" in str(exc):
                names = ", ".join(decode(test.get("kwargs", {"__dict__": {}})))
                lines.append(
                    f"  The tests call {question['answer']} with the argument names of the notebook's def line"
                    f" ({names}): keep those names."
                )
            _failed(name, question, lines, sum(bool(r.outcome) for r in runs), len(tests))
            return
        if received is None and callable(answer) and _unanswered_code(answer):
            _unanswered(name, points, len(tests))
            return
        if "expected" not in test:  # a value question: its answer does not ship; it is checked when graded
            _answered_value(name, question, test, received)
            return
        outcome = compare(
            received,
            decode(test["expected"]),
            rtol=test["rtol"],
            atol=test["atol"],
            reveal=question["kind"] != "value",
            **options,
        )
        runs.append(_Run(number, test, received, outcome, changed))
    failing = [r for r in runs if not r.outcome]
    changers = [r for r in runs if r.changed]
    passed = len(runs) - len(failing)
    call = f"{question['answer']}({{}})"
    if not failing and not changers:
        print(f"{name}: passes its {_count(len(tests), 'public test')}.")
        _results[name] = Result("pass", points, len(tests), len(tests))
        return
    if not failing:
        first = changers[0]
        _failed(
            name,
            question,
            [
                f"{name}: your answer gives the right values but changes its input"
                f" {', '.join(first.changed)} in place (public test {first.number} of {len(tests)},"
                f" {call.format(_inputs(first.test, answer))}).",
                f"  {_in_place(first.changed)}",
            ],
            passed,
            len(tests),
        )
        return
    first = failing[0]
    lines = [f"{name}: public test {first.number} of {len(tests)} fails."]
    if question["kind"] == "function":
        lines[0] += f" The test called {call.format(_inputs(first.test, answer))}."
    lines += [f"  {line}" for line in first.outcome.lines]
    if len(failing) > 1:
        others = [r.number for r in failing[1:]]
        lines.append(
            f"  Public test{'s' if len(others) > 1 else ''} {_numbers(others)} fail{'' if len(others) > 1 else 's'} too."
        )
    hint = _matched_hint(question, runs)
    # what the numbers show by themselves: truncation only when it explains every failing test (a 0
    # where 0.25 is due may be a coincidence), NaN or infinity whenever it appears (it is a fact)
    if all(r.outcome.cause == "truncated" for r in failing):
        diagnosis = first.outcome.diagnosis
    else:
        diagnosis = next((r.outcome.diagnosis for r in failing if r.outcome.cause == "nonfinite"), None)
    if hint:
        lines.append(f"  Hint: this looks like a usual mistake. {hint}")
    elif diagnosis:
        lines.append(f"  {diagnosis}")
    elif question.get("hints") and not first.outcome.wrong_shape:
        # a wrong shape or type is said above; only wrong numbers get this line
        lines.append(f"  {_NO_MATCH}")
    if changers:
        lines.append(
            f"  Your answer also changes its input {', '.join(changers[0].changed)} in place: {_in_place(changers[0].changed)}"
        )
    _failed(name, question, lines, passed, len(tests))


def _answered_value(name: str, question: dict, test: dict, received: Any) -> None:
    """A value question's answer: named when it is a usual mistake, otherwise left to the grader."""
    tolerances = {"rtol": test["rtol"], "atol": test["atol"], "names": question.get("returns")}
    for hint, out in zip(question.get("hints") or [], test.get("mistakes") or []):
        if out is not None and compare(received, decode(out), **tolerances):
            lines = [f"{name}: your answer is a usual mistake.", f"  Hint: {hint}"]
            _failed(name, question, lines, 0, len(question["tests"]))
            return
    print(f"{name}: answered; its value is checked when your work is graded (the answer is not shipped).")
    _results[name] = Result("answered", question["points"], 0, len(question["tests"]))


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

    The questions are the notebook's own when it carries them (a question an instructor added counts);
    without an argument, every exercise set that ``check`` has seen in this session.
    """
    if _authoring:
        return None
    sets = [exercise] if exercise else sorted({_exercise_set(n) for n in _results})
    questions: dict[str, dict] = {}
    for one in sets:
        questions.update(_set_questions(one))
    if not questions:
        print(f"summary: no questions found for {exercise or 'this session'}; run the check lines first.")
        return None
    names = list(questions)
    width = max(len(n) for n in names)
    passed = [n for n in names if n in _results and _results[n].status == "pass"]
    total_points = sum(questions[n]["points"] for n in names)
    got_points = sum(questions[n]["points"] for n in passed)
    lines = [
        f"{len(passed)} of {len(names)} questions pass their public tests"
        f" ({_fmt(got_points)} of {_fmt(total_points)} points)."
    ]
    for n in names:
        result = _results.get(n)
        status = {
            "pass": "passes",
            "fail": "fails",
            "unanswered": "not answered yet",
            "answered": "answered (checked when graded)",
        }.get(result.status if result else "", "not checked yet")
        lines.append(f"  {n:<{width}}  {status}")
    # the package's public files say "hidden_tests"; a notebook's own metadata says "graded_tests"
    hidden = sum(questions[n].get("hidden_tests", questions[n].get("graded_tests", 0)) for n in names)
    if hidden:
        lines.append(f"When your work is graded, {_count(hidden, 'hidden test')} run as well.")
    _print(lines)
    return None


def _fmt(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else f"{points:g}"
