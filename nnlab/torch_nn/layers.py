"""Layers with parameters or shape changes: ``Linear``, ``Dropout``, ``Flatten`` (PyTorch twins)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import as_generator, fail
from .._numbers import number, positive_int
from .._shapes import check_batch_axis, linear_hint
from . import init as _init
from .module import DType, Module, as_input, numpy_dtype, parameter

__all__ = ["Dropout", "Flatten", "Linear"]


class Linear(Module):
    r"""A fully connected layer: every output is a weighted sum of every input plus a bias.

    $$\mathrm{out} = x W^\top + b$$
    $$\frac{\partial L}{\partial W} = \mathrm{dout}^\top x,\quad
      \frac{\partial L}{\partial b} = \textstyle\sum_n \mathrm{dout}_n\quad\text{(by autograd)}$$

    Shapes: x (N, D_in) -> out (N, D_out); W (D_out, D_in), b (D_out,), as in ``nnlab.np_nn``.

    The initial weights are drawn by the NumPy initialisers, so ``Linear(784, 10, rng=0)`` starts
    with exactly the weights of ``nnlab.np_nn.Linear(784, 10, rng=0)``.

    Args:
        in_features: D_in.
        out_features: D_out.
        init: weight initialiser, a name from ``nnlab.np_nn.init.INITIALISERS`` (default
            ``"scaled_normal"``, N(0, 1/D_in)) or a callable ``f(shape, rng, dtype=)``.
        bias_init: initialiser of the bias (default zeros).
        rng: a ``numpy.random.Generator`` (or int seed) for the initial weights.
        dtype: float32 (default) or float64, as a NumPy or torch dtype.
        device: where the parameters live; None means ``nnlab.device()``.

    Example:
        >>> layer = Linear(784, 10, rng=0)
        >>> layer(np.zeros((32, 784))).shape
        torch.Size([32, 10])

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
        dtype: DType = np.float32,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__()
        self.in_features = positive_int(
            in_features, owner="Linear", name="in_features", example="Linear(784, 10)"
        )
        self.out_features = positive_int(
            out_features, owner="Linear", name="out_features", example="Linear(784, 10)"
        )
        self.init_name = getattr(init, "__name__", init)
        rng, np_type = as_generator(rng, owner="Linear"), numpy_dtype(dtype, owner="Linear")
        W = _init.get(init, owner="Linear")((out_features, in_features), rng, dtype=np_type)
        b = _init.get(bias_init, owner="Linear")((out_features,), rng, dtype=np_type)
        self.W, self.b = parameter(W, device, owner="Linear"), parameter(b, device, owner="Linear")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        W = self.W
        x = as_input(x, owner="Linear", like=W, shape=("N", self.in_features), hint=self._hint)
        return F.linear(x, W, self.b)  # x @ W.T + b in one fused call

    def _hint(self, shape: tuple[int, ...]) -> str | None:
        return linear_hint(self.in_features, shape)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class Dropout(Module):
    r"""Inverted dropout: during training each input is zeroed with probability p, survivors scaled by 1/(1-p).

    $$\mathrm{out} = x \odot m / (1-p),\quad m_i \sim \mathrm{Bernoulli}(1-p);\qquad
      \frac{\partial L}{\partial x} = \mathrm{dout} \odot m / (1-p)$$

    In ``eval()`` mode it is the identity; ``inverted=False`` keeps survivors unscaled in training
    and multiplies by (1-p) at test time, as in ``nnlab.np_nn``. The masks come from a
    ``torch.Generator`` seeded from ``rng`` (an int seed, or one number drawn from a NumPy Generator
    at the first training step), so a seeded network drops the same units on every run; they are
    not the NumPy path's masks.

    Shapes: x (N, ...) -> out of the same shape.
    """

    def __init__(
        self, p: float = 0.5, rng: np.random.Generator | int | None = None, *, inverted: bool = True
    ) -> None:
        super().__init__()
        hint = "p is the probability of dropping a unit; 0.5 is usual, 0 turns dropout off."
        p = number(p, owner="Dropout", name="p", low=0, high=1, high_open=True, example="0.5", hint=hint)
        if not (rng is None or isinstance(rng, (int, np.integer, np.random.Generator))):
            raise fail(
                "Dropout",
                f"expected rng as a numpy.random.Generator or an int seed; got {type(rng).__name__}.",
            )
        self.p = float(p)
        self.inverted = bool(inverted)
        self.rng = rng
        self._seed: int | None = int(rng) if isinstance(rng, (int, np.integer)) else None
        self._generator: torch.Generator | None = None
        self._generator_device: torch.device | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._input(x)
        if not self.training or self.p == 0.0:
            return x * (1.0 - self.p) if (not self.training and not self.inverted) else x
        mask = self._keep(x).to(x.dtype)
        if self.inverted:
            mask *= 1.0 / (1.0 - self.p)
        return x * mask

    def _keep(self, x: torch.Tensor) -> torch.Tensor:
        r"""The boolean mask of surviving units: $u \ge p$ with $u \sim U(0, 1)$ drawn for each entry."""
        if self._generator is None or self._generator_device != x.device:  # the first step, or moved
            if self._seed is None:
                self._seed = int(as_generator(self.rng, owner="Dropout").integers(2**63))
            self._generator = torch.Generator(device=x.device).manual_seed(self._seed)
            self._generator_device = x.device
        return torch.rand(x.shape, generator=self._generator, device=x.device, dtype=x.dtype) >= self.p

    def extra_repr(self) -> str:
        return f"p={self.p}" + ("" if self.inverted else ", inverted=False")


class Flatten(Module):
    r"""Flatten every axis but the batch axis: (N, C, H, W) -> (N, C·H·W). Autograd reshapes back."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._input(x)
        check_batch_axis(tuple(x.shape), owner="Flatten")
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))  # (N, C·H·W), also for N = 0
