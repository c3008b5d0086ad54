r"""Activation functions as plain NumPy functions, numerically stable for any input.

``sigmoid(±1000)`` and a softmax of logits near 1e4 are finite and raise no RuntimeWarning: the
sigmoid only ever exponentiates a non-positive number, and the softmax subtracts the row maximum.

Chapter: 4, saturation and cross-entropy.
"""

from __future__ import annotations

import numpy as np

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


def step(z: np.ndarray) -> np.ndarray:
    r"""Rosenblatt's threshold: $\mathrm{step}(z) = 1$ if $z > 0$ else $0$."""
    z = np.asarray(z)
    return (z > 0).astype(z.dtype if np.issubdtype(z.dtype, np.floating) else np.float32)


def sign(z: np.ndarray) -> np.ndarray:
    r"""The perceptron's sign output: $+1$ if $z > 0$ else $-1$ (so $\mathrm{sign} = 2\,\mathrm{step} - 1$)."""
    z = np.asarray(z)
    dtype = z.dtype if np.issubdtype(z.dtype, np.floating) else np.float32
    return np.where(z > 0, 1, -1).astype(dtype)


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""$\sigma(z) = 1 / (1 + e^{-z})$, computed without overflow.

    For $z \ge 0$ it uses $1/(1+e^{-z})$, for $z < 0$ the equal $e^{z}/(1+e^{z})$; both only
    exponentiate $-|z|$.

    Example:
        >>> round(float(sigmoid(-6.0)), 5)   # Chang's g(-6) ≈ 0.002
        0.00247
    """
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    r"""$\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$: at most 0.25, near 0 when the neuron saturates."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z: np.ndarray) -> np.ndarray:
    r"""$\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})$."""
    return np.tanh(z)


def tanh_prime(z: np.ndarray) -> np.ndarray:
    r"""$\tanh'(z) = 1 - \tanh^2(z)$."""
    t = np.tanh(z)
    return 1.0 - t * t


def relu(z: np.ndarray) -> np.ndarray:
    r"""$\mathrm{ReLU}(z) = \max(0, z)$."""
    return np.maximum(z, 0)


def leaky_relu(z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    r"""$z$ for $z > 0$, else $\alpha z$ with $\alpha$ = ``negative_slope``."""
    z = np.asarray(z)
    return np.where(z > 0, z, negative_slope * z)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""$\mathrm{softmax}(z)_j = e^{z_j} / \sum_k e^{z_k}$, with the row maximum subtracted first."""
    z = np.asarray(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    r"""$\log \mathrm{softmax}(z)_j = z_j - \max z - \log \sum_k e^{z_k - \max z}$, finite for any logits."""
    z = np.asarray(z)
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
