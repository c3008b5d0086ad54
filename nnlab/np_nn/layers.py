"""Layers with parameters or shape changes: ``Linear``, ``Dropout``, ``Flatten``."""

from __future__ import annotations

import math

import numpy as np

from .._checks import as_generator
from .._numbers import number, positive_int
from .._shapes import check_batch_axis, linear_hint
from . import init as _init
from .module import Module

__all__ = ["Dropout", "Flatten", "Linear"]


class Linear(Module):
    r"""A fully connected layer: every output is a weighted sum of every input plus a bias.

    $$\mathrm{out} = x W^\top + b$$
    $$\frac{\partial L}{\partial W} = \mathrm{dout}^\top x,\quad
      \frac{\partial L}{\partial b} = \textstyle\sum_n \mathrm{dout}_n,\quad
      \frac{\partial L}{\partial x} = \mathrm{dout}\, W$$

    Shapes: x (N, D_in) -> out (N, D_out); W (D_out, D_in), b (D_out,), as in PyTorch.

    Args:
        in_features: D_in.
        out_features: D_out.
        init: weight initialiser, a name from ``nnlab.np_nn.init.INITIALISERS`` (default
            ``"scaled_normal"``, N(0, 1/D_in) from Honchar's lecture) or a callable ``f(shape, rng, dtype=)``.
        bias_init: initialiser of the bias (default zeros; ``init.constant(0.01)`` for ReLU).
        rng: a ``numpy.random.Generator`` (or int seed) for the initial weights.
        dtype: float32 (default, as in PyTorch) or float64.

    Example:
        >>> layer = Linear(784, 10, rng=np.random.default_rng(0))
        >>> layer(np.zeros((32, 784))).shape
        (32, 10)

    Chapter: 3, backpropagation.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        init: str | _init.Initialiser = "scaled_normal",
        bias_init: str | _init.Initialiser = "zeros",
        rng: np.random.Generator | int | None = None,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().__init__()
        self.in_features = positive_int(
            in_features, owner="Linear", name="in_features", example="Linear(784, 10)"
        )
        self.out_features = positive_int(
            out_features, owner="Linear", name="out_features", example="Linear(784, 10)"
        )
        self.init_name = getattr(init, "__name__", init)
        rng = as_generator(rng, owner="Linear")
        self._add_param("W", _init.get(init, owner="Linear")((out_features, in_features), rng, dtype=dtype))
        self._add_param("b", _init.get(bias_init, owner="Linear")((out_features,), rng, dtype=dtype))
        self._x: np.ndarray | None = None

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray:
        return self.params["b"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x, shape=("N", self.in_features), hint=self._hint)
        self._x = x  # backward needs the input
        return x @ self.W.T + self.b  # out = xWᵀ + b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x = self._cached(self._x)  # the input kept by forward
        dout = self._dout(dout, (x.shape[0], self.out_features), self.dtype)  # δ = ∂L/∂out, (N, D_out)
        self.grads["W"] = dout.T @ x  # ∂L/∂W = δᵀx
        self.grads["b"] = dout.sum(axis=0)  # ∂L/∂b = Σₙ δₙ
        return dout @ self.W  # ∂L/∂x = δW

    def _hint(self, shape: tuple[int, ...]) -> str | None:
        return linear_hint(self.in_features, shape)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class Dropout(Module):
    r"""Inverted dropout: during training each input is zeroed with probability p, survivors scaled by 1/(1-p).

    $$\mathrm{out} = x \odot m / (1-p),\quad m_i \sim \mathrm{Bernoulli}(1-p);\qquad
      \frac{\partial L}{\partial x} = \mathrm{dout} \odot m / (1-p)$$

    In ``eval()`` mode it is the identity. Olteanu's lecture keeps survivors unscaled in training and
    multiplies the weights by (1-p) at test time (``inverted=False`` here scales the activations
    at test time, which is the same thing); the two are one network with weights rescaled by (1-p),
    which the tests check output for output.

    Shapes: x (N, ...) -> out of the same shape.
    """

    def __init__(
        self, p: float = 0.5, rng: np.random.Generator | int | None = None, *, inverted: bool = True
    ):
        super().__init__()
        hint = "p is the probability of dropping a unit; 0.5 is usual, 0 turns dropout off."
        p = number(p, owner="Dropout", name="p", low=0, high=1, high_open=True, example="0.5", hint=hint)
        self.p = float(p)
        self.inverted = bool(inverted)
        self.rng = as_generator(rng, owner="Dropout")
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        if not self.training or self.p == 0.0:
            self._mask = None
            return x * (1.0 - self.p) if (not self.training and not self.inverted) else x
        m = _uniform(self.rng, x) >= self.p  # m_i ~ Bernoulli(1 − p): u ≥ p with u ~ U(0, 1)
        scale = 1.0 / (1.0 - self.p) if self.inverted else 1.0  # 1 / (1 − p); 1 in the lectures' form
        self._mask = (m * scale).astype(x.dtype)  # m / (1 − p)
        return x * self._mask  # out = x ⊙ m / (1 − p)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self._mask is None:  # eval mode or p == 0: the identity (or a constant scale)
            scale = (1.0 - self.p) if (not self.training and not self.inverted) else 1.0  # out = x·scale
            return np.asarray(dout) * scale  # ∂L/∂x = δ·scale
        return self._dout(dout, self._mask.shape) * self._mask  # ∂L/∂x = δ ⊙ m / (1 − p)

    def extra_repr(self) -> str:
        return f"p={self.p}" + ("" if self.inverted else ", inverted=False")


class Flatten(Module):
    r"""Flatten every axis but the batch axis: (N, C, H, W) -> (N, C·H·W). Backward reshapes back."""

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        check_batch_axis(x.shape, owner="Flatten")
        self._shape = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, C·H·W), also for N = 0

    def backward(self, dout: np.ndarray) -> np.ndarray:
        shape = self._cached(self._shape)  # x's shape, kept by forward
        dout = self._dout(dout, (shape[0], math.prod(shape[1:])))  # δ = ∂L/∂out, (N, C·H·W)
        return dout.reshape(shape)  # ∂L/∂x = δ in x's shape: flattening only moves the entries


def _uniform(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """One U(0, 1) draw per entry of ``x``, in float64 for float64 input and float32 otherwise."""
    return rng.random(x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
