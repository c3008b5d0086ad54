r"""Activation functions as plain PyTorch functions, the twins of ``nnlab.np_nn.functional``.

Each takes a tensor (or anything ``torch.as_tensor`` reads) and is differentiable by autograd.
``step`` and ``sign`` have derivative 0 wherever it exists, so their backward pass returns zeros,
as in the NumPy path, instead of stopping the graph.

Chapter: 4, saturation and cross-entropy.
"""

from __future__ import annotations

import torch

__all__ = [
    "leaky_relu",
    "log_softmax",
    "relu",
    "sigmoid",
    "sigmoid_prime",
    "sign",
    "softmax",
    "step",
    "tanh",
    "tanh_prime",
]


def _float(z: object) -> torch.Tensor:
    z = torch.as_tensor(z)
    return z if z.is_floating_point() else z.to(torch.float32)


class _Threshold(torch.autograd.Function):
    """$1$ if $z > 0$ else ``low``, with the zero gradient of a flat function."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, low: float) -> torch.Tensor:
        out = (z > 0).to(z.dtype)
        return out if low == 0.0 else out * (1.0 - low) + low

    @staticmethod
    def backward(ctx, dout: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.zeros_like(dout), None


def step(z: torch.Tensor) -> torch.Tensor:
    r"""Rosenblatt's threshold: $\mathrm{step}(z) = 1$ if $z > 0$ else $0$; its gradient is 0."""
    return _Threshold.apply(_float(z), 0.0)


def sign(z: torch.Tensor) -> torch.Tensor:
    r"""The perceptron's sign output: $+1$ if $z > 0$ else $-1$ (not ``torch.sign``, which gives 0 at 0)."""
    return _Threshold.apply(_float(z), -1.0)


def sigmoid(z: torch.Tensor) -> torch.Tensor:
    r"""$\sigma(z) = 1 / (1 + e^{-z})$; ``torch.sigmoid`` is stable for any input."""
    return torch.sigmoid(_float(z))


def sigmoid_prime(z: torch.Tensor) -> torch.Tensor:
    r"""$\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$: at most 0.25, near 0 when the neuron saturates."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: torch.Tensor) -> torch.Tensor:
    r"""$\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})$."""
    return torch.tanh(_float(z))


def tanh_prime(z: torch.Tensor) -> torch.Tensor:
    r"""$\tanh'(z) = 1 - \tanh^2(z)$."""
    t = tanh(z)
    return 1.0 - t * t


def relu(z: torch.Tensor) -> torch.Tensor:
    r"""$\mathrm{ReLU}(z) = \max(0, z)$."""
    return torch.relu(_float(z))


def leaky_relu(z: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    r"""$z$ for $z > 0$, else $\alpha z$ with $\alpha$ = ``negative_slope``."""
    return torch.nn.functional.leaky_relu(_float(z), negative_slope)


def softmax(z: torch.Tensor, axis: int = -1) -> torch.Tensor:
    r"""$\mathrm{softmax}(z)_j = e^{z_j} / \sum_k e^{z_k}$ along ``axis`` (PyTorch subtracts the maximum too)."""
    return torch.softmax(_float(z), dim=axis)


def log_softmax(z: torch.Tensor, axis: int = -1) -> torch.Tensor:
    r"""$\log \mathrm{softmax}(z)_j = z_j - \log \sum_k e^{z_k}$, finite for any logits."""
    return torch.log_softmax(_float(z), dim=axis)
