r"""The exercise format: tests as data, how an answer is run on a test, and how its result is compared.

Everything a grader needs sits here, with no reference to a notebook's live objects: a test is its
inputs, the expected output and the tolerances, all plain JSON. One process can call a student's
answer on a test's inputs (``run_test``) and send back ``encode(result)``; another process, holding
the expected values, decodes it and judges it with ``compare``. The student-side ``check`` and
``nnlab assign`` use the same three functions, so a notebook, the command and a grader agree.

JSON encoding of values (``encode`` / ``decode``):

- ``None``, booleans, integers, floats and strings stay themselves; lists stay lists;
- a NumPy array or scalar: ``{"__ndarray__": nested list, "dtype": "float64", "shape": [2, 3]}``;
- a tuple: ``{"__tuple__": [...]}``; a dict with string keys: ``{"__dict__": {...}}``.

Floats are written with Python's shortest exact repr, so a value survives the round trip bit for bit.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "NAME_PATTERN",
    "Outcome",
    "compare",
    "decode",
    "describe",
    "dump_json",
    "encode",
    "run_test",
]

FORMAT = "nnlab-exercises"
"""The ``format`` field of every bundle and public-test file."""

FORMAT_VERSION = 1
"""Bumped whenever a reader of version N could misread a file written by version N + 1."""

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*\.[A-Za-z_][A-Za-z0-9_]*$")
"""A question name: the exercise set, a dot, the question, e.g. ``ch03.linear_backward``."""

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8


def encode(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (see the module docstring); anything else raises ``TypeError``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype == object or arr.dtype.kind not in "biufc":
            raise TypeError(f"cannot store an array of dtype {arr.dtype} in an exercise file")
        return {"__ndarray__": arr.tolist(), "dtype": str(arr.dtype), "shape": list(arr.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("cannot store a dict with non-string keys in an exercise file")
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__} in an exercise file")


def decode(data: Any) -> Any:
    """The value ``encode`` wrote: arrays come back with their dtype and shape."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "__ndarray__" in data:
            return np.array(data["__ndarray__"], dtype=data["dtype"]).reshape(data["shape"])
        if "__tuple__" in data:
            return tuple(decode(v) for v in data["__tuple__"])
        if "__dict__" in data:
            return {k: decode(v) for k, v in data["__dict__"].items()}
        raise ValueError(f"unknown value in an exercise file: keys {sorted(data)}")
    return data


def dump_json(data: Any) -> str:
    """The exact text nnlab writes for a bundle: the same data always gives the same bytes.

    Structure is indented one space per level; every stored value (an array, a list of numbers)
    stays on one line, so a test reads as one block and a diff shows which numbers changed.
    """
    return _dump(data, 0) + "\n"


def _dump(data: Any, level: int) -> str:
    flat = json.dumps(data, ensure_ascii=False, allow_nan=True)
    compact = (
        not isinstance(data, (dict, list))
        or (isinstance(data, dict) and ("__ndarray__" in data or len(flat) <= 60))
        or (isinstance(data, list) and all(not isinstance(v, (dict, list)) for v in data))
    )
    if compact:
        return flat
    pad, inner = " " * level, " " * (level + 1)
    if isinstance(data, list):
        return "[\n" + ",\n".join(inner + _dump(v, level + 1) for v in data) + "\n" + pad + "]"
    items = (inner + json.dumps(k, ensure_ascii=False) + ": " + _dump(v, level + 1) for k, v in data.items())
    return "{\n" + ",\n".join(items) + "\n" + pad + "}"


def describe(value: Any) -> str:
    """A value's shape and dtype the way feedback prints them: ``(4, 3) float64``, ``a float64 number``."""
    if isinstance(value, (tuple, list)) and not _numeric_list(value):
        return f"a {type(value).__name__} of {len(value)}"
    if value is None:
        return "None"
    if isinstance(value, str):
        return "a str"
    if isinstance(value, (bool, int, float, np.generic, np.ndarray, list, tuple)):
        arr = np.asarray(value)
        if arr.ndim == 0:
            return f"a {arr.dtype} number"
        return f"{_shape(arr.shape)} {arr.dtype}"
    return f"a {type(value).__name__}"


def _numeric_list(value: Sequence) -> bool:
    try:
        return np.asarray(value).dtype.kind in "biuf"
    except (ValueError, TypeError):
        return False


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def run_test(answer: Any, test: dict, *, kind: str) -> Any:
    """The answer's result on one test: ``answer(*args, **kwargs)`` for a function, the value itself otherwise.

    The inputs are decoded afresh for every call, so an answer that changes its arguments in place
    cannot change the next test. Exceptions from the answer propagate to the caller.
    """
    if kind == "value":
        return copy.deepcopy(answer)
    args = decode(test.get("args", []))
    kwargs = decode(test.get("kwargs", {"__dict__": {}}))
    return answer(*args, **kwargs)


@dataclass
class Outcome:
    """How a received value compares with the expected one: ``ok``, and the lines that say why not.

    ``wrong_shape`` is True when the received value is not even the right kind of thing: a wrong shape,
    a non-numeric dtype, a wrong type, a tuple with the wrong number of parts, ``None``. The lines
    then say all there is to say; a hint about the numbers would be beside the point.
    """

    ok: bool
    lines: list[str] = field(default_factory=list)
    wrong_shape: bool = False

    def __bool__(self) -> bool:
        return self.ok


def compare(
    received: Any,
    expected: Any,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    names: Sequence[str] | None = None,
    reveal: bool = True,
) -> Outcome:
    """Compare a received value with the expected one (both decoded); say what differs.

    Numbers and arrays must have the expected shape and agree to ``|got - want| <= atol + rtol*|want|``
    (NumPy's ``allclose``); any numeric dtype is accepted and both dtypes are shown. A tuple must have
    as many parts as expected, each compared in turn and called by ``names`` when given. With
    ``reveal=False`` the lines never contain the expected values (only shapes, dtypes and the index).
    ``Outcome.wrong_shape`` tells a wrong kind of value (shape, dtype, type, parts) from wrong numbers.
    """
    if isinstance(expected, tuple):
        if not isinstance(received, (tuple, list)) or len(received) != len(expected):
            what = describe(received)
            return Outcome(
                False,
                [f"expected a tuple of {len(expected)} ({_names(names, len(expected))}); got {what}."],
                wrong_shape=True,
            )
        lines: list[str] = []
        wrong_shape = False
        for i, (got, want) in enumerate(zip(received, expected)):
            label = names[i] if names and i < len(names) else f"part {i + 1}"
            part = compare(got, want, rtol=rtol, atol=atol, reveal=reveal)
            lines += [f"{label}: {line}" for line in part.lines]
            wrong_shape = wrong_shape or part.wrong_shape
        return Outcome(not lines, lines, wrong_shape)
    if expected is None or isinstance(expected, str):
        if received == expected and type(received) is type(expected):
            return Outcome(True)
        want = repr(expected) if reveal else describe(expected)
        got = _short(received) if reveal else describe(received)
        return Outcome(False, [f"expected {want}; got {got}."], type(received) is not type(expected))
    if isinstance(expected, dict):
        if not isinstance(received, dict) or set(received) != set(expected):
            return Outcome(
                False, [f"expected a dict with keys {sorted(expected)}; got {_short(received)}."], True
            )
        lines = []
        wrong_shape = False
        for key in expected:
            part = compare(received[key], expected[key], rtol=rtol, atol=atol, reveal=reveal)
            lines += [f"{key}: {line}" for line in part.lines]
            wrong_shape = wrong_shape or part.wrong_shape
        return Outcome(not lines, lines, wrong_shape)
    return _compare_arrays(received, expected, rtol=rtol, atol=atol, reveal=reveal)


def _names(names: Sequence[str] | None, n: int) -> str:
    return ", ".join(names) if names else f"{n} values"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _compare_arrays(received: Any, expected: Any, *, rtol: float, atol: float, reveal: bool) -> Outcome:
    want = np.asarray(expected)
    if received is None:
        return Outcome(
            False, [f"expected {describe(expected)}; got None. Did you forget to return the result?"], True
        )
    try:
        got = np.asarray(received)
    except (ValueError, TypeError):
        got = None
    if got is None or got.dtype == object or got.dtype.kind not in "biuf" or got.shape != want.shape:
        return Outcome(False, [f"expected {describe(expected)}; got {describe(received)}."], True)
    if want.size == 0:
        return Outcome(True)
    with np.errstate(invalid="ignore", over="ignore"):
        g, w = got.astype(np.float64), want.astype(np.float64)
        close = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return Outcome(True)
        err = np.where(close, 0.0, np.abs(g - w))
        err = np.where(np.isnan(err), np.inf, err)
    where = np.unravel_index(int(np.argmax(err)), want.shape)
    if want.ndim == 0:
        if reveal:
            return Outcome(False, [f"expected {_num(w)}; got {_num(g)} ({describe(received)})."])
        return Outcome(False, [f"{_num(g)} is not the expected value ({describe(received)})."])
    index = tuple(int(i) for i in where)
    head = f"{int((~close).sum())} of {want.size} entries differ (expected {describe(expected)}; got {describe(received)})"
    if reveal:
        return Outcome(
            False,
            [
                f"{head}; the largest error is {_num(err[where])} at index {index}: expected {_num(w[where])}, got {_num(g[where])}."
            ],
        )
    return Outcome(False, [f"{head}; the largest error is at index {index}."])


def _num(x: float) -> str:
    return f"{float(x):.6g}"
