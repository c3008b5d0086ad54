"""Activation functions as modules, each with its hand-written derivative beside its forward."""

from __future__ import annotations

import numpy as np

from .._checks import fail
from .._numbers import number, positive_int
from . import functional as F
from .module import Module

__all__ = ["LeakyReLU", "PReLU", "ReLU", "Sigmoid", "Sign", "Softmax", "Step", "Tanh"]


class _Elementwise(Module):
    """An activation applied to each entry: forward keeps what backward needs under ``self._keep``."""

    def __init__(self) -> None:
        super().__init__()
        self._keep: np.ndarray | None = None

    def _kept(self, dout: object) -> tuple[np.ndarray, np.ndarray]:
        """What forward kept, and ``dout`` checked to have its shape and cast to its dtype."""
        keep = self._cached(self._keep)
        return keep, self._dout(dout, keep.shape, keep.dtype)


class Step(_Elementwise):
    r"""Rosenblatt's threshold unit: $\mathrm{out} = 1$ if $z > 0$ else $0$.

    Its derivative is 0 wherever it exists (and undefined at 0), so backward returns zeros: no
    gradient reaches the weights, which is why the perceptron has its own learning rule.

    Shapes: z (N, ...) -> out of the same shape. Chapter: 1, the perceptron.
    """

    def forward(self, z: np.ndarray) -> np.ndarray:
        z = self._input(z)
        self._keep = z
        return F.step(z)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        _, dout = self._kept(dout)  # δ = ∂L/∂out
        return np.zeros_like(dout)  # ∂L/∂z = 0: the step is flat wherever it has a derivative


class Sign(Step):
    r"""The perceptron's sign output: $+1$ if $z > 0$ else $-1$; derivative 0 like ``Step``.

    Chapter: 1, the perceptron.
    """

    def forward(self, z: np.ndarray) -> np.ndarray:
        z = self._input(z)
        self._keep = z
        return F.sign(z)


class Sigmoid(_Elementwise):
    r"""The logistic function.

    $$\sigma(z) = \frac{1}{1 + e^{-z}},\qquad \frac{\partial L}{\partial z} = \mathrm{dout}\cdot\sigma(z)(1-\sigma(z))$$

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: np.ndarray) -> np.ndarray:
        out = F.sigmoid(self._input(z))  # σ(z)
        self._keep = out  # backward needs σ(z)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        s, dout = self._kept(dout)  # s = σ(z)
        return dout * s * (1 - s)  # ∂L/∂z = δ·σ(z)(1 − σ(z))


class Tanh(_Elementwise):
    r"""$\tanh(z)$, with $\frac{\partial L}{\partial z} = \mathrm{dout}\cdot(1 - \tanh^2 z)$.

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: np.ndarray) -> np.ndarray:
        out = np.tanh(self._input(z))  # tanh(z)
        self._keep = out  # backward needs tanh(z)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        t, dout = self._kept(dout)  # t = tanh(z)
        return dout * (1 - t * t)  # ∂L/∂z = δ·(1 − tanh²z)


class ReLU(_Elementwise):
    r"""$\max(0, z)$, with $\frac{\partial L}{\partial z} = \mathrm{dout}\cdot[z > 0]$.

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: np.ndarray) -> np.ndarray:
        out = F.relu(self._input(z))  # max(0, z)
        self._keep = out  # backward needs to know where z > 0 (exactly where out > 0)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        out, dout = self._kept(dout)  # out = max(0, z)
        return dout * (out > 0)  # ∂L/∂z = δ·[z > 0]


class LeakyReLU(_Elementwise):
    r"""$z$ for $z > 0$, else $\alpha z$: a small slope keeps "dead" units learning.

    $$\frac{\partial L}{\partial z} = \mathrm{dout}\cdot(1 \text{ if } z > 0 \text{ else } \alpha)$$

    Shapes: z (N, ...) -> out of the same shape. Chapter: 4, saturation and cross-entropy.
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = number(negative_slope, owner="LeakyReLU", name="negative_slope", example="0.01")

    def forward(self, z: np.ndarray) -> np.ndarray:
        z = self._input(z)
        self._keep = z
        return np.where(z > 0, z, self.negative_slope * z)  # z if z > 0 else αz

    def backward(self, dout: np.ndarray) -> np.ndarray:
        z, dout = self._kept(dout)  # z, kept by forward
        return np.where(z > 0, dout, self.negative_slope * dout)  # ∂L/∂z = δ·(1 if z > 0 else α)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(_Elementwise):
    r"""Leaky ReLU whose negative slope $a$ is learnt: one value, or one per channel (axis 1).

    $$\mathrm{out} = z \text{ if } z > 0 \text{ else } a z,\qquad
      \frac{\partial L}{\partial a} = \textstyle\sum_{z \le 0} \mathrm{dout}\cdot z$$

    Shapes: z (N, C, ...) -> out of the same shape; a (num_parameters,). Chapter: 4.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, *, dtype: np.dtype | type = np.float32):
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
        self._add_param("a", np.full((self.num_parameters,), init, dtype=dtype))

    def _slope(self, z: np.ndarray) -> np.ndarray:
        a = self.params["a"]
        if self.num_parameters == 1:
            return a.reshape((1,) * z.ndim) if z.ndim else a[0]
        if z.ndim < 2 or z.shape[1] != self.num_parameters:
            raise fail(
                "PReLU",
                f"expected x with {self.num_parameters} channels on axis 1; got shape {z.shape}.",
                "Use PReLU() for one shared slope.",
            )
        return a.reshape((1, -1) + (1,) * (z.ndim - 2))

    def forward(self, z: np.ndarray) -> np.ndarray:
        z = self._input(z)
        self._keep = z
        return np.where(z > 0, z, self._slope(z) * z)  # z if z > 0 else az

    def backward(self, dout: np.ndarray) -> np.ndarray:
        z, dout = self._kept(dout)  # z, kept by forward
        da = np.where(z > 0, 0, dout * z)  # ∂L/∂a = Σ_{z ≤ 0} δ·z, summed below
        if self.num_parameters == 1:  # one slope a for every unit
            self.grads["a"] = da.sum().reshape(1)  # one slope: summed over everything
        else:  # one slope a_c per channel c
            self.grads["a"] = da.sum(axis=tuple(i for i in range(z.ndim) if i != 1))  # one per channel
        return np.where(z > 0, dout, self._slope(z) * dout)  # ∂L/∂z = δ·(1 if z > 0 else a)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmax(_Elementwise):
    r"""Turn each row of scores into probabilities that sum to 1.

    $$s_j = \frac{e^{z_j}}{\sum_k e^{z_k}},\qquad
      \frac{\partial L}{\partial z} = s \odot \left(\mathrm{dout} - \textstyle\sum_k \mathrm{dout}_k s_k\right)$$

    Shapes: z (N, C) -> out (N, C). For training, ``CrossEntropyLoss`` on the logits is faster and
    more stable than Softmax followed by a log. Chapter: 4, saturation and cross-entropy.
    """

    def forward(self, z: np.ndarray) -> np.ndarray:
        z = self._input(z, shape=("N", "C"), hint="Softmax normalises each row of a 2-D batch of scores.")
        out = F.softmax(z, axis=1)  # s_j = e^{z_j} / Σ_k e^{z_k}
        self._keep = out  # backward needs s
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        s, dout = self._kept(dout)  # s = softmax(z)
        return s * (dout - (dout * s).sum(axis=1, keepdims=True))  # ∂L/∂z = s ⊙ (δ − Σ_k δ_k s_k)
