r"""Read an exercise source notebook, check it, and build the student notebook, the bundle and the public tests.

The format (version 1), in cell tags:

- ``question:NAME`` and ``points:N`` on the code cell a student completes. The solution sits
  between a line ``### BEGIN SOLUTION`` and a line ``### END SOLUTION`` (the student sees ``...``
  in their place), or on a line ending in ``# SOLUTION`` (``lam = 1.0  # SOLUTION`` becomes
  ``lam = ...``). The cell ends with ``check("NAME", answer)``, which names the answer.
- ``public:NAME`` and ``hidden:NAME`` on code cells that describe tests with ``case``, ``mistake``
  and ``returns`` from ``nnlab.exercises``. Both kinds are removed from the student notebook; public
  tests ship with nnlab so that ``check`` can run them, hidden tests go only into the bundle.

``build`` runs the source's code cells top to bottom in one namespace (plain Python: lines starting
with ``%`` or ``!`` are skipped), and computes every test's expected output by calling the solution.
Any mistake in the source raises ``SourceError`` with one sentence naming the cell.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import io
import json
import re
import signal
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import authoring
from .format import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    FORMAT,
    FORMAT_VERSION,
    NAME_PATTERN,
    compare,
    decode,
    encode,
    run_test,
)

__all__ = [
    "BEGIN",
    "END",
    "KERNELSPEC",
    "Built",
    "SourceError",
    "build",
    "notebook_text",
    "run_source",
    "student_source",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
INLINE = re.compile(r"^(?P<code>.*?)\s*#\s*SOLUTION\s*$")
ASSIGNMENT = re.compile(r"^(?P<target>\s*[A-Za-z_][\w.\[\], ]*?\s*=)(?!=)")
NBVAL_LINE = re.compile(r"^\s*#\s*NBVAL_\w+\s*$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
ROLES = ("question", "points", "public", "hidden")
CELL_TIMEOUT = 60.0
"""Seconds one cell of a source (or one call of a solution on a test) may run in ``nnlab assign``."""


class SourceError(ValueError):
    """A mistake in an exercise source, as one sentence that names the cell."""


@dataclass
class _Cell:
    index: int  # 1-based, as a person counts cells
    id: str
    data: dict
    text: str
    role: str | None = None  # "question", "public", "hidden" or None
    name: str | None = None
    points: float = 1
    answer: str | None = None

    def where(self) -> str:
        return f"cell {self.index} (id {self.id})"


@dataclass
class _Question:
    cell: _Cell
    value: Any = None
    public: list[tuple[_Cell, authoring.Recording]] = field(default_factory=list)
    hidden: list[tuple[_Cell, authoring.Recording]] = field(default_factory=list)


@dataclass
class Built:
    """What ``build`` makes from one source: three JSON-ready dicts."""

    student: dict
    bundle: dict
    public: dict


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _read(path: Path) -> dict:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"{path} does not exist.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path} is not a notebook: it is not valid JSON ({exc}).") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or nb.get("nbformat") != 4:
        raise SourceError(f"{path} is not a version-4 Jupyter notebook.")
    return nb


def _cells(nb: dict, path: Path) -> list[_Cell]:
    cells, seen_ids = [], {}
    for i, data in enumerate(nb["cells"], start=1):
        cell = _Cell(i, str(data.get("id") or f"cell-{i}"), data, _text(data))
        if cell.id in seen_ids:
            raise SourceError(
                f"{path.name}: {cell.where()} has the same id as cell {seen_ids[cell.id]}; give each cell its own id."
            )
        seen_ids[cell.id] = i
        tags = data.get("metadata", {}).get("tags", []) or []
        _check_tags(tags, cell, path)
        roles = [t for t in tags if t.split(":", 1)[0] in ROLES and ":" in t]
        named = [t for t in roles if not t.startswith("points:")]
        if len(named) > 1:
            raise SourceError(
                f"{path.name}: {cell.where()} has the tags {', '.join(named)}; give each cell at most one of question:, public: and hidden:."
            )
        for tag in roles:
            key, value = tag.split(":", 1)
            if key == "points":
                try:
                    points = float(value)
                except ValueError:
                    points = -1.0
                if not points > 0:
                    raise SourceError(
                        f"{path.name}: {cell.where()} has the tag {tag}; points must be a positive number, like points:2."
                    )
                cell.points = int(points) if points == int(points) else points
                continue
            if not NAME_PATTERN.match(value):
                raise SourceError(
                    f"{path.name}: {cell.where()} has the tag {tag}; a question name looks like ch03.linear_backward (set, dot, name)."
                )
            cell.role, cell.name = key, value
        if any(t.startswith("points:") for t in roles) and cell.role != "question":
            raise SourceError(f"{path.name}: {cell.where()} has a points: tag but no question: tag.")
        if cell.role and data.get("cell_type") != "code":
            raise SourceError(
                f"{path.name}: {cell.where()} is tagged {cell.role}:{cell.name} but is a {data.get('cell_type')} cell, not a code cell."
            )
        cells.append(cell)
    return cells


def _check_tags(tags: list, cell: _Cell, path: Path) -> None:
    """A tag shaped like a role (``word:NAME``) must be one of the four roles: a typo is an error, not silently ignored.

    A mistyped ``hiden:NAME`` would otherwise leave a hidden test cell in the student notebook.
    """
    for tag in tags:
        if not isinstance(tag, str):
            raise SourceError(f"{path.name}: {cell.where()} has the tag {tag!r}, which is not a string.")
        key = tag.split(":", 1)[0]
        close = difflib.get_close_matches(key.lower(), ROLES, n=1, cutoff=0.6)
        if (":" in tag and key not in ROLES) or (":" not in tag and key.lower() in ROLES):
            hint = f" (did you mean {close[0]}:...?)" if close else ""
            raise SourceError(
                f"{path.name}: {cell.where()} has the tag {tag!r}, which nnlab assign does not know{hint};"
                " the role tags are question:NAME, points:N, public:NAME and hidden:NAME."
            )


def _check_markers(cell: _Cell, path: Path) -> bool:
    """True when the cell marks a solution; raise on unbalanced markers."""
    opened, found = None, False
    for number, line in enumerate(_lines(cell.text), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if opened is not None:
                raise SourceError(
                    f"{path.name}: {cell.where()} opens {BEGIN} on line {number} while the one on line {opened} is still open; close it with {END} first."
                )
            opened, found = number, True
        elif stripped == END:
            if opened is None:
                raise SourceError(
                    f"{path.name}: {cell.where()} has {END} on line {number} with no {BEGIN} before it."
                )
            opened = None
        elif INLINE.match(line.rstrip("\n")):
            found = True
    if opened is not None:
        raise SourceError(
            f"{path.name}: {cell.where()} opens {BEGIN} on line {opened} and never closes it with {END}."
        )
    return found


def _answer_name(cell: _Cell, path: Path) -> str:
    """The answer named by the cell's ``check("NAME", answer)`` line."""
    try:
        tree = ast.parse(cell.text)
    except SyntaxError as exc:
        raise SourceError(
            f"{path.name}: {cell.where()} is not valid Python: {exc.msg} on line {exc.lineno}."
        ) from None
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "check"
            and len(call.args) == 2
            and isinstance(call.args[0], ast.Constant)
            and call.args[0].value == cell.name
            and isinstance(call.args[1], ast.Name)
        ):
            return call.args[1].id
    raise SourceError(
        f'{path.name}: {cell.where()} is tagged question:{cell.name} but has no line check("{cell.name}", answer) naming its answer.'
    )


def student_source(text: str) -> str:
    """A question cell as the student gets it: solutions replaced by ``...``, nbval markers removed."""
    out, skipping = [], False
    for line in _lines(text):
        stripped = line.strip()
        if stripped == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}...\n")
            skipping = True
        elif stripped == END:
            skipping = False
        elif skipping:
            continue
        elif NBVAL_LINE.match(line):
            continue
        elif match := INLINE.match(line.rstrip("\n")):
            code = match.group("code")
            target = ASSIGNMENT.match(code)
            indent = code[: len(code) - len(code.lstrip())]
            newline = "\n" if line.endswith("\n") else ""
            out.append((f"{target.group('target')} ..." if target else f"{indent}...") + newline)
        else:
            out.append(line)
    return "".join(out)


def _without_nbval(text: str) -> str:
    return "".join(line for line in _lines(text) if not NBVAL_LINE.match(line))


def _plan(cells: list[_Cell], path: Path) -> dict[str, _Question]:
    questions: dict[str, _Question] = {}
    for cell in cells:
        marked = cell.data.get("cell_type") == "code" and _check_markers(cell, path)
        if cell.role == "question":
            if cell.name in questions:
                first = questions[cell.name].cell
                raise SourceError(
                    f"{path.name}: {cell.where()} repeats the question name {cell.name} of {first.where()}; question names must be unique."
                )
            if not marked:
                raise SourceError(
                    f"{path.name}: {cell.where()} is tagged question:{cell.name} but marks no solution ({BEGIN} ... {END}, or a line ending in # SOLUTION)."
                )
            cell.answer = _answer_name(cell, path)
            questions[cell.name] = _Question(cell)
        elif marked:
            raise SourceError(f"{path.name}: {cell.where()} marks a solution but has no question: tag.")
    for cell in cells:
        if cell.role in ("public", "hidden") and cell.name not in questions:
            raise SourceError(
                f"{path.name}: {cell.where()} is tagged {cell.role}:{cell.name}, but no cell is tagged question:{cell.name}."
            )
    for name, question in questions.items():
        if not any(c.role == "public" and c.name == name for c in cells):
            raise SourceError(
                f"{path.name}: {question.cell.where()} is tagged question:{name}, but no cell is tagged public:{name}; every question needs a public test."
            )
    return questions


def _runnable(text: str) -> str:
    """Plain Python for ``exec``: IPython magics and shell lines become comments (line numbers stay)."""
    return "".join(("# " + line) if line.lstrip().startswith(("%", "!")) else line for line in _lines(text))


class _TimeLimit(BaseException):
    """Raised in the main thread when a cell of a source runs past its time limit."""


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Interrupt the block after ``seconds`` (main thread on POSIX; elsewhere no limit)."""
    usable = (
        seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        raise _TimeLimit()

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _reseeded(seed: int | None, salt: str):
    """Inside a hidden test cell: NumPy's generators draw from the instructor's ``seed`` mixed into theirs.

    ``np.random.default_rng(k)`` gives the generator of ``SeedSequence([seed, cell, k])`` and
    ``np.random.seed(k)`` sets the legacy generator up the same way, so every input a hidden cell draws
    at random changes with ``seed`` (literal inputs stay as written).
    """
    if seed is None:
        yield
        return
    import numpy as np

    mix = zlib.crc32(salt.encode("utf-8"))
    original_rng, original_seed = np.random.default_rng, np.random.seed

    def _entropy(value: Any) -> list[int]:
        if value is None:
            return []
        if isinstance(value, (int, np.integer)):
            return [abs(int(value))]
        if isinstance(value, (list, tuple)) and all(isinstance(v, (int, np.integer)) for v in value):
            return [abs(int(v)) for v in value]
        raise SourceError(
            f"with --hidden-seed, a hidden test cell must seed its generators with integers, not {type(value).__name__}."
        )

    def default_rng(value: Any = None) -> Any:
        return original_rng(np.random.SeedSequence([int(seed), mix, *_entropy(value)]))

    def legacy_seed(value: Any = None) -> None:
        state = np.random.SeedSequence([int(seed), mix, *_entropy(value)]).generate_state(1)[0]
        original_seed(int(state))

    np.random.default_rng, np.random.seed = default_rng, legacy_seed
    legacy_seed(0)
    try:
        yield
    finally:
        np.random.default_rng, np.random.seed = original_rng, original_seed


def _run(
    cells: list[_Cell],
    questions: dict[str, _Question],
    path: Path,
    *,
    timeout: float | None = CELL_TIMEOUT,
    hidden_seed: int | None = None,
) -> None:
    from . import student

    namespace: dict[str, Any] = {"__name__": "__main__"}
    student._authoring = True
    try:
        for cell in cells:
            if cell.data.get("cell_type") != "code":
                continue
            recording = authoring.Recording() if cell.role in ("public", "hidden") else None
            authoring._recording = recording
            seed = hidden_seed if cell.role == "hidden" else None
            try:
                code = compile(_runnable(cell.text), f"<{path.name} {cell.where()}>", "exec")
                with (
                    contextlib.redirect_stdout(io.StringIO()),
                    _time_limit(timeout),
                    _reseeded(seed, cell.id),
                ):
                    exec(code, namespace)
            except SyntaxError as exc:
                raise SourceError(
                    f"{path.name}: {cell.where()} is not valid Python: {exc.msg} on line {exc.lineno}."
                ) from None
            except SourceError:
                raise
            except _TimeLimit:
                raise SourceError(
                    f"{path.name}: {cell.where()} ran longer than {timeout:g} s, the time limit per cell"
                    " (an endless loop? raise the limit with --cell-timeout)."
                ) from None
            except SystemExit as exc:
                raise SourceError(
                    f"{path.name}: {cell.where()} called sys.exit({exc.code!r}); a source must run to its end"
                    " (remove the exit, or raise an exception that says what is wrong)."
                ) from None
            except Exception as exc:
                raise SourceError(
                    f"{path.name}: {cell.where()} raised {type(exc).__name__} ({exc}) when nnlab assign ran the source top to bottom."
                ) from None
            finally:
                authoring._recording = None
            if cell.role == "question":
                if cell.answer not in namespace:
                    raise SourceError(
                        f"{path.name}: {cell.where()} checks the answer {cell.answer}, which the cell never defines."
                    )
                questions[cell.name].value = namespace[cell.answer]
            elif recording is not None:
                if not recording.cases:
                    raise SourceError(
                        f"{path.name}: {cell.where()} is tagged {cell.role}:{cell.name} but declares no case(...)."
                    )
                if recording.mistakes and cell.role == "hidden":
                    raise SourceError(
                        f"{path.name}: {cell.where()} declares a mistake(...) in a hidden test cell; declare mistakes with the public tests."
                    )
                getattr(questions[cell.name], cell.role).append((cell, recording))
    finally:
        student._authoring = False


def _encoded(value: Any, what: str, cell: _Cell, path: Path) -> Any:
    try:
        return encode(value)
    except TypeError as exc:
        raise SourceError(
            f"{path.name}: {cell.where()}: {what} cannot be stored as test data ({exc})."
        ) from None


def _question_data(
    question: _Question, path: Path, *, timeout: float | None = CELL_TIMEOUT, reseeded: bool = False
) -> dict:
    qcell = question.cell
    kind = "function" if callable(question.value) else "value"
    names = next((r.returns for _, r in question.public + question.hidden if r.returns), None)
    mistakes = [m for _, r in question.public for m in r.mistakes]
    tests, public_outputs = [], []
    for visibility in ("public", "hidden"):
        number = 0
        for cell, recording in getattr(question, visibility):
            for case in recording.cases:
                number += 1
                what = f"{visibility} case {number} of {question.cell.name}"
                if kind == "value" and (case.args or case.kwargs):
                    raise SourceError(
                        f"{path.name}: {cell.where()}: {what} passes arguments, but the answer {qcell.answer} is a value, not a function."
                    )
                rtol = DEFAULT_RTOL if case.rtol is None else float(case.rtol)
                atol = DEFAULT_ATOL if case.atol is None else float(case.atol)
                test = {
                    "id": f"{qcell.name}/{visibility}/{number}",
                    "visibility": visibility,
                    "cell_id": cell.id,
                    "args": _encoded(list(case.args), "an argument of " + what, cell, path),
                    "kwargs": _encoded(dict(case.kwargs), "an argument of " + what, cell, path),
                }
                try:
                    with _time_limit(timeout):
                        result = run_test(question.value, test, kind=kind)
                except _TimeLimit:
                    raise SourceError(
                        f"{path.name}: {cell.where()}: the solution of {qcell.name} ran longer than {timeout:g} s on {what}"
                        " (an endless loop? raise the limit with --cell-timeout)."
                    ) from None
                except SystemExit as exc:
                    raise SourceError(
                        f"{path.name}: {cell.where()}: the solution of {qcell.name} called sys.exit({exc.code!r}) on {what}."
                    ) from None
                except Exception as exc:
                    raise SourceError(
                        f"{path.name}: {cell.where()}: the solution of {qcell.name} raised {type(exc).__name__} ({exc}) on {what}."
                    ) from None
                test["expected"] = _encoded(result, f"the solution's output on {what}", cell, path)
                test["rtol"], test["atol"] = rtol, atol
                expected = decode(test["expected"])
                if case.expect is not authoring._NO_EXPECT and not (reseeded and visibility == "hidden"):
                    outcome = compare(expected, case.expect, rtol=rtol, atol=atol, names=names)
                    if not outcome:
                        raise SourceError(
                            f"{path.name}: {cell.where()}: the solution of {qcell.name} disagrees with expect= on {what}: {' '.join(outcome.lines)}"
                        )
                if visibility == "public":
                    outputs = []
                    for wrong, _hint in mistakes:
                        try:
                            got = run_test(wrong, test, kind="function" if callable(wrong) else "value")
                            outputs.append(_encoded(got, f"a mistake's output on {what}", cell, path))
                        except Exception:
                            outputs.append(None)
                    test["mistakes"] = outputs
                    public_outputs.append((test, outputs))
                tests.append(test)
    for k, (_wrong, hint) in enumerate(mistakes):
        caught = any(
            out[k] is not None
            and not compare(
                decode(out[k]), decode(t["expected"]), rtol=t["rtol"], atol=t["atol"], names=names
            )
            for t, out in public_outputs
        )
        if not caught:
            raise SourceError(
                f'{path.name}: the mistake "{hint}" of {qcell.name} passes every public test; add a public case that it fails.'
            )
    return {
        "name": qcell.name,
        "points": qcell.points,
        "cell_id": qcell.id,
        "answer": qcell.answer,
        "kind": kind,
        "returns": list(names) if names else None,
        "hints": [hint for _, hint in mistakes],
        "tests": tests,
    }


def _student_cell(cell: _Cell) -> dict:
    data = cell.data
    tags = list(data.get("metadata", {}).get("tags", []) or [])
    out: dict[str, Any] = {
        "cell_type": data["cell_type"],
        "id": cell.id,
        "metadata": {"tags": tags} if tags else {},
    }
    if data["cell_type"] == "code":
        text = student_source(cell.text) if cell.role == "question" else _without_nbval(cell.text)
        out.update(execution_count=None, outputs=[], source=_lines(text))
    else:
        out["source"] = _lines(cell.text)
        if data.get("attachments"):
            out["attachments"] = data["attachments"]
    return out


def build(path: Path | str, *, timeout: float | None = CELL_TIMEOUT, hidden_seed: int | None = None) -> Built:
    """Read, check and run one source; return the student notebook, the bundle and the public tests.

    ``timeout``: seconds each cell (and each call of a solution on a test) may run. ``hidden_seed``:
    redraw the random inputs of the hidden tests from this seed (see ``_reseeded``); the expected
    values are computed from the solution on the new inputs, and ``expect=`` of hidden cases is not
    checked (it was written for the old inputs).
    """
    path = Path(path)
    nb = _read(path)
    cells = _cells(nb, path)
    questions = _plan(cells, path)
    if not questions:
        raise SourceError(f"{path.name} has no cell tagged question:NAME, so there is nothing to assign.")
    _run(cells, questions, path, timeout=timeout, hidden_seed=hidden_seed)
    data = [
        _question_data(q, path, timeout=timeout, reseeded=hidden_seed is not None) for q in questions.values()
    ]
    stem = path.stem
    student = {
        "cells": [_student_cell(c) for c in cells if c.role not in ("public", "hidden")],
        "metadata": {
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"},
            "nnlab": {"exercise": stem, "format_version": FORMAT_VERSION},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exercise": stem,
        "notebook": f"{stem}.ipynb",
        "total_points": sum(q["points"] for q in data),
    }
    bundle = {**header, "questions": data, "cells": _instructor_cells(cells)}
    public = {
        **header,
        "questions": [
            {
                **{k: v for k, v in q.items() if k != "tests"},
                "hidden_tests": sum(t["visibility"] == "hidden" for t in q["tests"]),
                "tests": [_public_test(t, q["kind"]) for t in q["tests"] if t["visibility"] == "public"],
            }
            for q in data
        ],
    }
    # The student notebook carries its own public tests (metadata "nnlab" -> "questions"), so check()
    # and summary() know every question it asks, even one this nnlab's package does not ship.
    # (The count of hidden tests is called "graded_tests" there: the notebook names no hidden thing.)
    student["metadata"]["nnlab"]["questions"] = [
        {
            **{k: v for k, v in q.items() if k not in ("tests", "hidden_tests")},
            "graded_tests": q["hidden_tests"],
            "tests": [{k: v for k, v in t.items() if k not in ("cell_id", "visibility")} for t in q["tests"]],
        }
        for q in public["questions"]
    ]
    return Built(student, bundle, public)


def _public_test(test: dict, kind: str) -> dict:
    """A public test as it ships to students: a value question's expected answer stays out (it IS the answer)."""
    if kind != "value":
        return test
    return {k: v for k, v in test.items() if k != "expected"}


def _instructor_cells(cells: list[_Cell]) -> list[dict]:
    """The code cells of the student notebook, for ``nnlab grade``: the instructor's text, or the question
    a cell answers (the grader takes that cell's text from the submission)."""
    out = []
    for cell in cells:
        if cell.data.get("cell_type") != "code" or cell.role in ("public", "hidden"):
            continue
        if cell.role == "question":
            out.append({"id": cell.id, "question": cell.name})
        else:
            out.append({"id": cell.id, "question": None, "source": _without_nbval(cell.text)})
    return out


def run_source(path: Path | str) -> dict[str, dict]:
    """Run a source as ``build`` does; for each question, its ``solution`` object and its ``mistakes``.

    ``mistakes`` is the list of ``(wrong_answer, hint)`` pairs its public test cells declare: what a
    test of the feedback needs (each wrong answer must fail with its hint).
    """
    path = Path(path)
    cells = _cells(_read(path), path)
    questions = _plan(cells, path)
    _run(cells, questions, path)
    return {
        name: {"solution": q.value, "mistakes": [m for _, r in q.public for m in r.mistakes]}
        for name, q in questions.items()
    }


def notebook_text(nb: dict) -> str:
    """A notebook as nbformat writes it (sorted keys, one-space indent): identical input, identical bytes."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
