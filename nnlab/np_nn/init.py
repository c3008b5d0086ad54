r"""Weight initialisers: the lectures' N(0, 1), the scaled N(0, 1/n_in), Glorot/Xavier and He/Kaiming.

Every initialiser takes the shape and a ``numpy.random.Generator`` and returns a new array; fan-in
and fan-out follow PyTorch's layout: a ``Linear`` weight is (D_out, D_in), a ``Conv2d`` weight is
(C_out, C_in, kH, kW), so fan_in = D_in (or C_in·kH·kW) and fan_out = D_out (or C_out·kH·kW).

Why it matters (Honchar's example): with 1000 inputs, half of them 1, and every weight and the bias
drawn from N(0, 1), $z = \sum_i w_i x_i + b$ has standard deviation $\sqrt{501} \approx 22.4$, so a
sigmoid neuron starts saturated. Drawing weights from $N(0, 1/n_{in})$ gives
$\sqrt{500/1000 + 1} = \sqrt{1.5} \approx 1.22$.

Chapter: 4, saturation and cross-entropy (4.7, too large initial weights).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._checks import as_generator, fail
from .._numbers import number

__all__ = [
    "INITIALISERS",
    "constant",
    "fans",
    "get",
    "he_normal",
    "he_uniform",
    "normal",
    "scaled_normal",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Initialiser = Callable[..., np.ndarray]


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """Return (fan_in, fan_out) of a weight of this shape: (D_out, D_in) or (C_out, C_in, kH, kW)."""
    if len(shape) < 2:
        raise fail("init", f"expected a weight shape with at least 2 axes; got {tuple(shape)}.")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def _rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    return as_generator(rng, owner="init")


def normal(shape, rng=None, *, std: float = 1.0, dtype=np.float32) -> np.ndarray:
    r"""$w \sim N(0, \mathrm{std}^2)$; the lectures' first choice is std = 1."""
    std = number(std, owner="init", name="std", low=0, example="1.0")
    return (_rng(rng).standard_normal(tuple(shape)) * std).astype(dtype)


def scaled_normal(shape, rng=None, *, dtype=np.float32) -> np.ndarray:
    r"""$w \sim N(0, 1/n_{in})$: Honchar's fix for saturation (LeCun's initialisation)."""
    fan_in, _ = fans(shape)
    return normal(shape, rng, std=1.0 / np.sqrt(fan_in), dtype=dtype)


def xavier_normal(shape, rng=None, *, gain: float = 1.0, dtype=np.float32) -> np.ndarray:
    r"""Glorot: $w \sim N\!\left(0, \frac{2\,\mathrm{gain}^2}{n_{in} + n_{out}}\right)$, for sigmoid and tanh layers."""
    fan_in, fan_out = fans(shape)
    gain = number(gain, owner="init", name="gain", low=0, example="1.0")
    return normal(shape, rng, std=gain * np.sqrt(2.0 / (fan_in + fan_out)), dtype=dtype)


def xavier_uniform(shape, rng=None, *, gain: float = 1.0, dtype=np.float32) -> np.ndarray:
    r"""Glorot: $w \sim U(-a, a)$ with $a = \mathrm{gain}\sqrt{6 / (n_{in} + n_{out})}$."""
    fan_in, fan_out = fans(shape)
    gain = number(gain, owner="init", name="gain", low=0, example="1.0")
    a = gain * np.sqrt(6.0 / (fan_in + fan_out))
    return _rng(rng).uniform(-a, a, size=tuple(shape)).astype(dtype)


def he_normal(shape, rng=None, *, dtype=np.float32) -> np.ndarray:
    r"""He/Kaiming: $w \sim N(0, 2/n_{in})$, for ReLU layers (half the units are off)."""
    fan_in, _ = fans(shape)
    return normal(shape, rng, std=np.sqrt(2.0 / fan_in), dtype=dtype)


def he_uniform(shape, rng=None, *, dtype=np.float32) -> np.ndarray:
    r"""He/Kaiming: $w \sim U(-a, a)$ with $a = \sqrt{6 / n_{in}}$."""
    fan_in, _ = fans(shape)
    a = np.sqrt(6.0 / fan_in)
    return _rng(rng).uniform(-a, a, size=tuple(shape)).astype(dtype)


def zeros(shape, rng=None, *, dtype=np.float32) -> np.ndarray:
    """All zeros (the usual bias); ``rng`` is accepted and unused, so every initialiser has one signature."""
    return np.zeros(tuple(shape), dtype=dtype)


def constant(value: float) -> Initialiser:
    """An initialiser that fills with ``value``: ``constant(0.01)`` is the small positive ReLU bias."""
    number(value, owner="init.constant", name="value", example="0.01")  # a sentence unless value is a number

    def fill(shape, rng=None, *, dtype=np.float32) -> np.ndarray:
        return np.full(tuple(shape), value, dtype=dtype)

    fill.__name__ = f"constant({value})"
    return fill


INITIALISERS: dict[str, Initialiser] = {
    "normal": normal,
    "scaled_normal": scaled_normal,
    "lecun": scaled_normal,
    "xavier": xavier_normal,
    "glorot": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he": he_normal,
    "kaiming": he_normal,
    "he_uniform": he_uniform,
    "zeros": zeros,
}


def get(init: str | Initialiser, *, owner: str = "init") -> Initialiser:
    """Look an initialiser up by name (``"he"``, ``"xavier"``, ...) or pass a callable through."""
    if callable(init):
        return init
    try:
        return INITIALISERS[init]
    except (KeyError, TypeError):
        names = ", ".join(repr(k) for k in INITIALISERS)
        raise fail(owner, f"expected init to be one of {names} or a callable; got {init!r}.") from None
