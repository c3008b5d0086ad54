"""What an instructor writes in a test cell of an exercise source: ``case``, ``mistake``, ``returns``.

A test cell (tagged ``public:NAME`` or ``hidden:NAME``) calls these to describe tests as data:

    case(x=np.array([[0, 1, 0]]), w=np.array([-6, 3, 4]), b=0.0, expect=np.array([1]))
    mistake(neuron_with_ge, "At z = 0 the step neuron answers 0: compare with z > 0, not z >= 0.")
    returns("dx", "dW", "db")

``nnlab assign`` runs the cell and records the calls; the expected output of every case is what the
source's solution returns on it (``expect=`` only double-checks it). Run in a notebook, the calls
record nothing and print nothing, so a source notebook runs top to bottom like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["case", "mistake", "returns"]

_NO_EXPECT = object()


@dataclass
class Case:
    args: tuple
    kwargs: dict
    expect: Any = _NO_EXPECT
    rtol: float | None = None
    atol: float | None = None


@dataclass
class Recording:
    """What one test cell declared (filled in by ``nnlab assign`` while it runs the cell)."""

    cases: list[Case] = field(default_factory=list)
    mistakes: list[tuple[Any, str]] = field(default_factory=list)
    returns: tuple[str, ...] | None = None


_recording: Recording | None = None


def case(
    *args: Any, expect: Any = _NO_EXPECT, rtol: float | None = None, atol: float | None = None, **kwargs: Any
) -> None:
    """One test: the answer is called with these arguments (nothing for a value question).

    ``expect`` (optional) is checked against the solution's output when ``nnlab assign`` runs, so
    the lecture's figures stay true; ``rtol`` and ``atol`` loosen or tighten the comparison
    (defaults 1e-5 and 1e-8, NumPy's ``allclose`` rule). The names ``expect``, ``rtol`` and ``atol``
    are therefore not available as keyword arguments of the answer.
    """
    if _recording is not None:
        _recording.cases.append(Case(args, kwargs, expect, rtol, atol))


def mistake(wrong: Any, hint: str) -> None:
    """A usual mistake: a wrong answer (a function, or a value) and the hint a student sees for it.

    On every public test ``nnlab assign`` stores what ``wrong`` returns; when a student's answer
    fails and gives that, the feedback names the mistake with ``hint``. Declare it in a public test
    cell; the wrong answer must fail at least one public test.
    """
    if _recording is not None:
        _recording.mistakes.append((wrong, hint))


def returns(*names: str) -> None:
    """Name the parts of an answer that returns a tuple, e.g. ``returns("dx", "dW", "db")``."""
    if _recording is not None:
        _recording.returns = tuple(names)
