"""Numeric settings (sizes, learning rates, momenta, decays), checked the same way on both paths.

``nnlab.np_nn`` and ``nnlab.torch_nn`` both import from here, so ``SGD(model, momentum="0.9")`` or
``Linear(True, 2)`` gets the same sentence on either path: what was expected, what came, a hint.
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import fail

__all__ = ["betas", "number", "positive_int", "sgd_momentum"]


def _is_real(value: object) -> bool:
    """A Python or NumPy int or float; not a bool (True is an int to Python, never a setting here)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _got(value: object) -> str:
    """``'0.9' (a str)``: the value, and its type when that is the mistake."""
    if _is_real(value) or value is None:
        return repr(value)
    kind = "NumPy array" if isinstance(value, np.ndarray) else type(value).__name__
    return f"{value!r} ({'an' if kind[0] in 'aeiou' else 'a'} {kind})"


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    """How the book writes the allowed values: "a number in [0, 1)", "a positive number", "a number"."""
    if low is None and high is None:
        return "a number"
    if high is None:
        return f"a {'positive' if low_open else 'non-negative'} number" if low == 0 else f"a number ≥ {low:g}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"a number in {left}{low:g}, {high:g}{right}"


def number(
    value: object,
    *,
    owner: str,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    example: str,
    hint: str | None = None,
) -> float:
    """``value`` as a float, if it is a finite real number between ``low`` and ``high``; else a sentence.

    Example:
        >>> number("0.9", owner="SGD", name="momentum", low=0, high=1, high_open=True, example="0.9")
        Traceback (most recent call last):
        ValueError: SGD expected momentum to be a number in [0, 1); got '0.9' (a str). Write it without ...
    """
    ok = _is_real(value) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low or (value == low and not low_open)
    if ok and high is not None:
        ok = value < high or (value == high and not high_open)
    if not ok:
        if isinstance(value, str):
            hint = f"Write it without quotes: {name}={example}."
        raise fail(
            owner,
            f"expected {name} to be {_interval(low, high, low_open, high_open)}; got {_got(value)}.",
            hint or f"For example {name}={example}.",
        )
    return float(value)  # type: ignore[arg-type]


def positive_int(value: object, *, owner: str, name: str, example: str) -> int:
    """``value`` as an int, if it is a whole number ≥ 1 (not a bool, not a float); else a sentence.

    Example:
        >>> positive_int(True, owner="Linear", name="in_features", example="Linear(784, 10)")
        Traceback (most recent call last):
        ValueError: Linear expected in_features to be a positive integer; got True (a bool). For ...
    """
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 1):
        raise fail(
            owner, f"expected {name} to be a positive integer; got {_got(value)}.", f"For example {example}."
        )
    return int(value)


def betas(value: object, *, owner: str) -> tuple[float, float]:
    """Adam's (β₁, β₂): a pair of numbers in [0, 1); else a sentence.

    Example:
        >>> betas(0.9, owner="Adam")
        Traceback (most recent call last):
        ValueError: Adam expected betas to be a pair (β₁, β₂) of numbers in [0, 1); got 0.9. For ...
    """
    pair = tuple(value) if isinstance(value, (tuple, list)) else None
    if pair is None or len(pair) != 2 or not all(_is_real(b) and 0 <= b < 1 for b in pair):
        raise fail(
            owner,
            f"expected betas to be a pair (β₁, β₂) of numbers in [0, 1); got {value!r}.",
            "For example betas=(0.9, 0.999).",
        )
    return float(pair[0]), float(pair[1])


def sgd_momentum(momentum: object, friction: object) -> float:
    """SGD's α from ``momentum=α`` or from Honchar's ``friction=μ`` (α = 1 − μ), or a sentence."""
    momentum = number(momentum, owner="SGD", name="momentum", low=0, high=1, high_open=True, example="0.9")
    if friction is None:
        return momentum
    if momentum:
        raise fail(
            "SGD",
            "got both momentum and friction; they are two names for one setting.",
            "Use momentum=α, or friction=μ with α = 1 - μ.",
        )
    mu = number(
        friction,
        owner="SGD",
        name="friction",
        low=0,
        high=1,
        low_open=True,
        example="0.1",
        hint="friction=μ keeps α = 1 − μ of the last change, so μ = 0 would keep all of it forever.",
    )
    return 1.0 - mu
