r"""The exercise format: tests as data, how an answer is run on a test, and how its result is compared.

Everything a grader needs sits here, with no reference to a notebook's live objects: a test is its
inputs, the expected output and the tolerances, all plain JSON. One process can call a student's
answer on a test's inputs (``run_test``) and send back ``encode(result)``; another process, holding
the expected values, decodes it and judges it with ``compare``. The student-side ``check`` and
``nnlab assign`` use the same three functions, so a notebook, the command and a grader agree.

JSON encoding of values (``encode`` / ``decode``):

- ``None``, booleans, integers, floats and strings stay themselves; lists stay lists;
- a NumPy array or scalar: ``{"__ndarray__": nested list, "dtype": "float64", "shape": [2, 3]}``;
- a tuple: ``{"__tuple__": [...]}``; a dict with string keys: ``{"__dict__": {...}}``;
- NaN and infinity stay standard JSON: a float is ``{"__float__": "nan"}`` (or ``"inf"``, ``"-inf"``),
  and inside an array's list they are the strings ``"nan"``, ``"inf"`` and ``"-inf"``.

Floats are written with Python's shortest exact repr, so a value survives the round trip bit for bit.
Complex numbers cannot be stored (``TypeError`` with a sentence saying so).
"""

from __future__ import annotations

import copy
import json
import math
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
    if isinstance(value, int) and not isinstance(value, np.generic):
        return value
    if isinstance(value, float) and not isinstance(value, np.generic):
        return value if math.isfinite(value) else {"__float__": _NONFINITE[_nonfinite_key(value)]}
    if isinstance(value, complex) or (
        isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind == "c"
    ):
        raise TypeError(
            "complex numbers cannot be stored in an exercise file; store the real and imaginary parts"
            " as two real arrays"
        )
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(f"cannot store an array of dtype {arr.dtype} in an exercise file")
        data = arr.tolist()
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            data = _finite_json(data)
        return {"__ndarray__": data, "dtype": str(arr.dtype), "shape": list(arr.shape)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("cannot store a dict with non-string keys in an exercise file")
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    raise TypeError(f"cannot store a {type(value).__name__} in an exercise file")


_NONFINITE = {"nan": "nan", "inf": "inf", "-inf": "-inf"}


def _nonfinite_key(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _finite_json(data: Any) -> Any:
    """An array's nested list with NaN and infinities written as the strings NumPy reads back."""
    if isinstance(data, list):
        return [_finite_json(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return _nonfinite_key(data)
    return data


def decode(data: Any) -> Any:
    """The value ``encode`` wrote: arrays come back with their dtype and shape."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "__float__" in data and data["__float__"] in _NONFINITE:
            return float(data["__float__"])
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
    flat = json.dumps(data, ensure_ascii=False, allow_nan=False)
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
    """A value's kind, shape and dtype the way feedback prints them, in plain words.

    ``(4, 3) float64`` for an array, ``a float64 number``, ``a whole number, int64``, ``a bool, True or
    False``, ``a list of 1 number``, ``a tuple of 3 items``, ``None``, ``a string``. Never the value itself,
    so it is safe to print for a hidden test.
    """
    if value is None:
        return "None"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        kind = type(value).__name__
        numbers = all(_is_number(v) for v in value)
        return f"a {kind} of {_count(len(value), 'number' if numbers and value else 'item')}"
    if isinstance(value, dict):
        return f"a dict of {_count(len(value), 'key')}"
    if isinstance(value, (bool, int, float, complex, np.generic, np.ndarray)):
        arr = np.asarray(value)
        if arr.ndim == 0:
            return _scalar_kind(arr.dtype)
        if arr.dtype == object:
            return f"{_shape(arr.shape)} array of Python objects"
        return f"{_shape(arr.shape)} {arr.dtype}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} object"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _scalar_kind(dtype: np.dtype) -> str:
    kind = dtype.kind
    if kind == "f":
        return f"a {dtype} number"
    if kind in "iu":
        return f"a whole number, {dtype}"
    if kind == "b":
        return "a bool, True or False"
    if kind == "c":
        return f"a complex number, {dtype}"
    if kind == "O":
        return "a Python object"
    return f"a value of dtype {dtype}"


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
    a non-numeric dtype, True/False where numbers are due, a list where an array is due, a wrong type,
    a tuple with the wrong number of parts, ``None``. The lines then say all there is to say; a hint
    about the numbers would be beside the point. ``diagnosis`` names a cause the value itself shows,
    never revealing the expected values, and ``cause`` is its kind: ``"truncated"`` (whole numbers
    where fractions are due) or ``"nonfinite"`` (NaN or infinity where numbers are due).
    """

    ok: bool
    lines: list[str] = field(default_factory=list)
    wrong_shape: bool = False
    diagnosis: str | None = None
    cause: str | None = None

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
    (NumPy's ``allclose``); any numeric dtype is accepted and both dtypes are shown, but True/False
    values are not numbers, and a list or tuple is not an array (each is a wrong kind of value). A
    tuple must have as many parts as expected, each compared in turn and called by ``names`` when
    given. With ``reveal=False`` the lines never contain the expected values (only shapes, dtypes and
    the index). ``Outcome.wrong_shape`` tells a wrong kind of value (shape, dtype, type, parts) from
    wrong numbers; ``Outcome.diagnosis`` names truncation to whole numbers, NaN or infinity.
    """
    if isinstance(expected, tuple):
        if not isinstance(received, (tuple, list)) or len(received) != len(expected):
            what = describe(received)
            return Outcome(
                False,
                [f"expected a tuple of {len(expected)} ({_names(names, len(expected))}); got {what}."],
                wrong_shape=True,
            )
        parts = []
        for i, (got, want) in enumerate(zip(received, expected)):
            label = names[i] if names and i < len(names) else f"part {i + 1}"
            parts.append((label, compare(got, want, rtol=rtol, atol=atol, reveal=reveal)))
        return _joined(parts)
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
        return _joined(
            [
                (key, compare(received[key], expected[key], rtol=rtol, atol=atol, reveal=reveal))
                for key in expected
            ]
        )
    return _compare_arrays(received, expected, rtol=rtol, atol=atol, reveal=reveal)


def _joined(parts: list[tuple[str, Outcome]]) -> Outcome:
    """One outcome for the parts of a tuple or dict: every part's lines, each called by its label."""
    lines = [f"{label}: {line}" for label, part in parts for line in part.lines]
    notes = [f"{label}: {part.diagnosis}" for label, part in parts if part.diagnosis]
    return Outcome(
        not lines,
        lines,
        any(part.wrong_shape for _, part in parts),
        " ".join(notes) if notes else None,
        next((part.cause for _, part in parts if part.cause), None),
    )


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
    if isinstance(received, (list, tuple)) and not isinstance(expected, (list, tuple)):
        # a list is not an array: list + list concatenates and 2 * list repeats, so say so at once
        due = "a NumPy array" if want.ndim else "a number"
        return Outcome(
            False,
            [
                f"expected {describe(expected)}; got {describe(received)}. Return {due}, not a"
                f" {type(received).__name__}{': np.array(...) makes one' if want.ndim else ''}."
            ],
            True,
        )
    try:
        got = np.asarray(received)
    except (ValueError, TypeError):
        got = None
    if got is None or got.dtype == object or got.dtype.kind not in "biuf" or got.shape != want.shape:
        return Outcome(False, [f"expected {describe(expected)}; got {describe(received)}."], True)
    if got.dtype.kind == "b" and want.dtype.kind != "b":
        return Outcome(
            False,
            [
                f"expected {describe(expected)}; got {describe(received) if got.ndim else 'a bool'}:"
                " True/False, not numbers. Turn a comparison into numbers, e.g. (z > 0).astype(int)."
            ],
            True,
        )
    if want.size == 0:
        return Outcome(True)
    with np.errstate(invalid="ignore", over="ignore"):
        g, w = got.astype(np.float64), want.astype(np.float64)
        close = np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        if close.all():
            return Outcome(True)
        err = np.where(close, 0.0, np.abs(g - w))
        err = np.where(np.isnan(err), np.inf, err)
    diagnosis, cause = _diagnosis(got, g, w, ~close)
    where = np.unravel_index(int(np.argmax(err)), want.shape)
    if want.ndim == 0:
        if reveal:
            return Outcome(
                False, [f"expected {_num(w)}; got {_num(g)} ({describe(received)})."], False, diagnosis, cause
            )
        return Outcome(
            False, [f"{_num(g)} is not the expected value ({describe(received)})."], False, diagnosis, cause
        )
    index = tuple(int(i) for i in where)
    wrong = int((~close).sum())
    head = f"{wrong} of {want.size} {'entry' if want.size == 1 else 'entries'} {'differs' if wrong == 1 else 'differ'} (expected {describe(expected)}; got {describe(received)})"
    if reveal:
        return Outcome(
            False,
            [
                f"{head}; the largest error is {_num(err[where])} at index {index}: expected {_num(w[where])}, got {_num(g[where])}."
            ],
            False,
            diagnosis,
            cause,
        )
    return Outcome(False, [f"{head}; the largest error is at index {index}."], False, diagnosis, cause)


def _diagnosis(
    got: np.ndarray, g: np.ndarray, w: np.ndarray, wrong: np.ndarray
) -> tuple[str | None, str | None]:
    """A cause the received numbers show by themselves: NaN or infinity, or whole numbers where fractions are due."""
    if not np.isfinite(g[wrong]).all() and np.isfinite(w[wrong]).all():
        return (
            "Your answer holds NaN or infinity where the expected values are finite: look for an overflow"
            " (np.exp of a large number), a log of 0 or a division by 0.",
            "nonfinite",
        )
    with np.errstate(invalid="ignore"):
        fraction = wrong & (np.abs(w - np.round(w)) > 1e-9)
        if not fraction.any():
            return None, None  # whole numbers are due where the answer is wrong: truncation is not the cause
        whole = np.all(g[wrong] == np.round(g[wrong]))
        truncated = whole and bool(
            np.all(
                (g[wrong] == np.trunc(w[wrong]))
                | (g[wrong] == np.floor(w[wrong]))
                | (g[wrong] == np.round(w[wrong]))
            )
        )
    if got.dtype.kind in "iu":
        kind = "an integer array" if got.ndim else "a whole number"
        cause = "they look truncated" if truncated else "an integer result cannot hold them"
        return (
            f"Your answer is {kind} ({got.dtype}) where the expected values have fractions: {cause}."
            " `//`, int(...) or an integer array (np.array([1, 2]), np.zeros(n, dtype=int)) drops the"
            " fraction; compute with floats and `/`.",
            "truncated",
        )
    if truncated:
        return (
            "Your numbers are whole where the expected values have fractions: they look truncated, as `//`,"
            " int(...), np.floor or an integer array would do. Compute with floats and `/`.",
            "truncated",
        )
    return None, None


def _num(x: float) -> str:
    return f"{float(x):.6g}"
