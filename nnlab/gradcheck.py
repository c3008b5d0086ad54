r"""Numerical gradient checks: is the hand-written backward pass right?

The centred difference $\frac{f(x + h) - f(x - h)}{2h}$ has error $O(h^2)$. In float64 with
$h = 10^{-6}$ it agrees with a correct analytic gradient to about $10^{-9}$ relative error; a wrong
backward pass is off by order 1. Checks always run on a float64 copy of the module, so the original
keeps its dtype and weights.

Chapter: 3, backpropagation derived and checked.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._checks import fail

__all__ = ["GradCheckResult", "check_loss", "check_module", "numerical_gradient", "relative_error"]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, *, h: float = 1e-6) -> np.ndarray:
    r"""$\partial f / \partial x$ by centred differences, changing each entry of ``x`` in place and back.

    ``f`` takes no argument and reads ``x`` (or something that shares its memory).
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise fail("numerical_gradient", "expected a contiguous array it can perturb in place.")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    r"""Entry by entry $|a - n| / \max(|a|, |n|, \mathrm{floor})$; the floor keeps zeros from dividing."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


@dataclass
class GradCheckResult:
    """Largest relative error per checked array (``"x"`` for the input, then parameter names)."""

    errors: dict[str, float] = field(default_factory=dict)
    where: dict[str, tuple[int, ...]] = field(default_factory=dict)
    analytic: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    numeric: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    def passed(self, tol: float = 1e-6) -> bool:
        return self.max_error < tol

    def _add(self, name: str, analytic: np.ndarray, numeric: np.ndarray) -> None:
        if analytic is None:
            raise fail("check_module", f"got no gradient for {name} from backward.")
        if np.shape(analytic) != np.shape(numeric):
            raise fail(
                "check_module",
                f"expected the gradient for {name} to have shape {np.shape(numeric)};"
                f" backward gave {np.shape(analytic)}.",
            )
        err = relative_error(analytic, numeric)
        idx = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
        self.errors[name] = float(err.max()) if err.size else 0.0
        self.where[name] = tuple(int(i) for i in idx)
        self.analytic[name], self.numeric[name] = np.asarray(analytic, np.float64), numeric

    def __str__(self) -> str:
        rows = [f"{'array':<12}{'max rel. error':>16}  at index"]
        rows += [f"{k:<12}{v:>16.2e}  {self.where[k]}" for k, v in self.errors.items()]
        return "\n".join(rows)


def _generators(module: object) -> list[np.random.Generator]:
    """Every Generator a module (or a Sequential's modules) holds, so random masks can be replayed."""
    found, stack = [], [module]
    while stack:
        m = stack.pop()
        for value in vars(m).values():
            if isinstance(value, np.random.Generator):
                found.append(value)
            elif isinstance(value, list):
                stack.extend(v for v in value if hasattr(v, "__dict__") and hasattr(v, "params"))
    return found


def check_module(
    module: object,
    x: np.ndarray,
    *,
    dout: np.ndarray | None = None,
    rng: np.random.Generator | int | None = 0,
    h: float = 1e-6,
) -> GradCheckResult:
    r"""Compare a module's backward pass with centred differences, on the input and every parameter.

    The scalar checked is $L = \sum \mathrm{forward}(x) \odot \mathrm{dout}$ with a random upstream
    gradient ``dout`` (drawn from ``rng`` unless given), so every output entry is weighted
    differently and a transposed or mis-summed gradient cannot pass by symmetry. The module is
    deep-copied and cast to float64 first; random layers replay the same mask at every evaluation.

    Example:
        >>> from nnlab.np_nn import Linear
        >>> result = check_module(Linear(4, 3), np.random.default_rng(0).normal(size=(5, 4)))
        >>> result.max_error < 1e-6
        True
    """
    m = copy.deepcopy(module)
    if hasattr(m, "astype"):
        m.astype(np.float64)
    x = np.array(x, dtype=np.float64)  # a copy we may perturb
    gens = _generators(m)
    states = [g.bit_generator.state for g in gens]

    def forward() -> np.ndarray:
        for g, s in zip(gens, states):
            g.bit_generator.state = s
        return m.forward(x)

    out = forward()
    if dout is None:
        dout = np.random.default_rng(rng).normal(size=np.shape(out))
    dout = np.asarray(dout, dtype=np.float64)
    dx = m.backward(dout)
    result = GradCheckResult()
    result._add("x", dx, numerical_gradient(lambda: float(np.sum(forward() * dout)), x, h=h))
    for name, p in m.params.items():
        forward()
        m.backward(dout)
        analytic = m.grads[name].copy()
        result._add(name, analytic, numerical_gradient(lambda: float(np.sum(forward() * dout)), p, h=h))
    return result


def check_loss(loss: object, pred: np.ndarray, target: np.ndarray, *, h: float = 1e-6) -> GradCheckResult:
    """Compare ``loss.backward()`` with centred differences of ``loss(pred, target)`` in float64."""
    pred = np.array(pred, dtype=np.float64)
    target = np.asarray(target)
    if np.issubdtype(target.dtype, np.floating):
        target = target.astype(np.float64)
    loss(pred, target)
    analytic = loss.backward()
    result = GradCheckResult()
    result._add("pred", analytic, numerical_gradient(lambda: loss(pred, target), pred, h=h))
    return result
