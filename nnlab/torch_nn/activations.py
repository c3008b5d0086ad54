"""Activation functions as modules; autograd provides each derivative the NumPy twin writes by hand."""

from __future__ import annotations

import numpy as np
import torch

from .._checks import fail
from .._numbers import number, positive_int
from . import functional as F
from .module import DType, Module, numpy_dtype, parameter

__all__ = ["LeakyReLU", "PReLU", "ReLU", "Sigmoid", "Sign", "Softmax", "Step", "Tanh"]


class Step(Module):
    r"""Rosenblatt's threshold unit: $\mathrm{out} = 1$ if $z > 0$ else $0$.

    Its derivative is 0 wherever it exists, so backward gives zeros (not an error), as in NumPy.

    Shapes: z (N, ...) -> out of the same shape. Chapter: 1, the perceptron.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.step(self._input(z))


class Sign(Step):
    r"""The perceptron's sign output: $+1$ if $z > 0$ else $-1$; derivative 0 like ``Step``.

    Chapter: 1, the perceptron.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.sign(self._input(z))


class Sigmoid(Module):
    r"""The logistic function.

    $$\sigma(z) = \frac{1}{1 + e^{-z}},\qquad
      \frac{\partial L}{\partial z} = \mathrm{dout}\cdot\sigma(z)(1-\sigma(z))\ \text{(by autograd)}$$

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self._input(z))


class Tanh(Module):
    r"""$\tanh(z)$, with $\frac{\partial L}{\partial z} = \mathrm{dout}\cdot(1 - \tanh^2 z)$ by autograd.

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self._input(z))


class ReLU(Module):
    r"""$\max(0, z)$, with $\frac{\partial L}{\partial z} = \mathrm{dout}\cdot[z > 0]$ by autograd.

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.relu(self._input(z))


class LeakyReLU(Module):
    r"""$z$ for $z > 0$, else $\alpha z$: a small slope keeps "dead" units learning.

    $$\frac{\partial L}{\partial z} = \mathrm{dout}\cdot(1 \text{ if } z > 0 \text{ else } \alpha)$$

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = number(negative_slope, owner="LeakyReLU", name="negative_slope", example="0.01")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self._input(z), self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    r"""Leaky ReLU whose negative slope $a$ is learnt: one value, or one per channel (axis 1).

    $$\mathrm{out} = z \text{ if } z > 0 \text{ else } a z,\qquad
      \frac{\partial L}{\partial a} = \textstyle\sum_{z \le 0} \mathrm{dout}\cdot z\ \text{(by autograd)}$$

    Shapes: z (N, C, ...) -> out of the same shape; a (num_parameters,). Chapter: 4.
    """

    def __init__(
        self,
        num_parameters: int = 1,
        init: float = 0.25,
        *,
        dtype: DType = np.float32,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__()
        self.num_parameters = positive_int(
            num_parameters,
            owner="PReLU",
            name="num_parameters",
            example="PReLU(1), or PReLU(C) for C channels",
        )
        init = number(
            init, owner="PReLU", name="init", example="0.25", hint="Every slope a starts at this one number."
        )
        values = np.full((self.num_parameters,), init, dtype=numpy_dtype(dtype, owner="PReLU"))
        self.a = parameter(values, device, owner="PReLU")

    def _slope(self, z: torch.Tensor) -> torch.Tensor:
        if self.num_parameters == 1:
            return self.a.reshape((1,) * z.ndim) if z.ndim else self.a[0]
        if z.ndim < 2 or z.shape[1] != self.num_parameters:
            raise fail(
                "PReLU",
                f"expected x with {self.num_parameters} channels on axis 1; got shape {tuple(z.shape)}.",
                "Use PReLU() for one shared slope.",
            )
        return self.a.reshape((1, -1) + (1,) * (z.ndim - 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = self._input(z, like=self.a)
        return torch.where(z > 0, z, z * self._slope(z))

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax(Module):
    r"""Turn each row of scores into probabilities that sum to 1.

    $$s_j = \frac{e^{z_j}}{\sum_k e^{z_k}},\qquad
      \frac{\partial L}{\partial z} = s \odot \left(\mathrm{dout} - \textstyle\sum_k \mathrm{dout}_k s_k\right)$$

    Shapes: z (N, C) -> out (N, C). For training, ``CrossEntropyLoss`` on the logits is faster and
    more stable than Softmax followed by a log. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = self._input(z, shape=("N", "C"), hint="Softmax normalises each row of a 2-D batch of scores.")
        return torch.softmax(z, dim=1)
