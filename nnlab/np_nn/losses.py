r"""Loss functions: ``loss(pred, target) -> float``, then ``loss.backward() -> dpred``.

Every loss averages over the batch, so its gradient carries a 1/N (or 1/M, over all M entries).

Chapter: 4, saturation and cross-entropy.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_labels, fail
from .._numbers import number
from . import functional as F
from .module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "L1Penalty", "Loss", "MSELoss"]


class Loss:
    """Base class: ``__call__`` runs ``forward(pred, target)``; ``backward()`` returns d loss / d pred."""

    def __init__(self) -> None:
        self._cache: tuple | None = None

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.forward(pred, target)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        raise NotImplementedError

    def _cached(self) -> tuple:
        if self._cache is None:
            raise fail(
                type(self).__name__,
                "backward was called before the loss was computed.",
                "Call loss(pred, target) first.",
            )
        return self._cache

    def _pair(self, pred: object, target: object) -> tuple[np.ndarray, np.ndarray]:
        """Check that pred and target are finite arrays of the same shape."""
        name = type(self).__name__
        pred = check_array(pred, owner=name, name="pred")
        target = check_array(target, owner=name, name="target", dtype=pred.dtype)
        if target.shape != pred.shape:
            hint = None
            if pred.ndim == 2 and target.ndim == 1 and pred.shape[0] == target.shape[0]:
                hint = "Reshape the targets to a column with y.reshape(-1, 1)."
            raise fail(
                name, f"expected target of shape {pred.shape} (the shape of pred); got {target.shape}.", hint
            )
        return pred, target

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    r"""Squared error, with the ½ of Olteanu's and Honchar's lectures made explicit.

    ``convention="half_sum"`` (default, the lectures' $\ell = \tfrac12\lVert a - y\rVert^2$ per example, which they write $C$):
    $$L = \frac{1}{N}\sum_n \tfrac12 \lVert a_n - y_n \rVert^2,\qquad \frac{\partial L}{\partial a} = \frac{a - y}{N}$$
    ``convention="mean"`` (PyTorch's ``nn.MSELoss``): the mean of $(a - y)^2$ over all M entries,
    gradient $2(a - y)/M$.

    Shapes: pred (N, D), target (N, D) -> float. An empty batch gives NaN, the mean of nothing, as in
    PyTorch.

    Example:
        >>> MSELoss()(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))   # ½ (1² + 2²)
        2.5
    """

    def __init__(self, convention: str = "half_sum") -> None:
        super().__init__()
        if convention not in ("half_sum", "mean"):
            raise fail("MSELoss", f"expected convention 'half_sum' or 'mean'; got {convention!r}.")
        self.convention = convention

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        a, y = self._pair(pred, target)
        self._cache = (a, y)
        if self.convention == "half_sum":
            return _mean(0.5 * np.sum((a - y) ** 2), _batch_size(a))  # L = (1/N) Σ ½‖a − y‖²
        return _mean(np.sum((a - y) ** 2), a.size)  # L = (1/M) Σ (a − y)²

    def backward(self) -> np.ndarray:
        a, y = self._cached()
        if self.convention == "half_sum":
            return (a - y) / _batch_size(a)  # ∂L/∂a = (a − y) / N
        return 2 * (a - y) / a.size  # ∂L/∂a = 2(a − y) / M

    def __repr__(self) -> str:
        return f"MSELoss(convention={self.convention!r})"


class BCELoss(Loss):
    r"""Binary cross-entropy on probabilities $a \in [0, 1]$ (after a ``Sigmoid``).

    $$L = -\frac{1}{M}\sum \big[y \ln a + (1-y)\ln(1-a)\big],\qquad
      \frac{\partial L}{\partial a} = \frac{1}{M}\,\frac{a - y}{a(1-a)}$$

    averaged over all M entries, as PyTorch does; each log is clamped at -100 (and the denominator
    $a(1-a)$ at $10^{-12}$), so a = 0 or 1 gives a large finite loss and gradient.
    Shapes: pred (N, ...) and target of the same shape -> float (NaN for an empty batch).
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        a, y = self._pair(pred, target)
        if a.size and (a.min() < 0 or a.max() > 1):
            raise fail(
                "BCELoss",
                f"expected pred as probabilities in [0, 1]; got values from {a.min():.3g} to {a.max():.3g}.",
                "Add a Sigmoid before the loss, or use BCEWithLogitsLoss on raw scores.",
            )
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped on the next lines
            log_a = np.maximum(np.log(a), -100)  # ln a, at least -100
            log_1ma = np.maximum(np.log1p(-a), -100)  # ln(1 − a), at least -100
        self._cache = (a, y)
        return _mean(-np.sum(y * log_a + (1 - y) * log_1ma), a.size)  # L = −(1/M) Σ [y ln a + (1−y) ln(1−a)]

    def backward(self) -> np.ndarray:
        a, y = self._cached()
        return (a - y) / np.maximum(a * (1 - a), 1e-12) / a.size  # ∂L/∂a = (a − y) / (a(1−a)) / M


class BCEWithLogitsLoss(Loss):
    r"""Binary cross-entropy on raw scores $z$: a sigmoid and ``BCELoss`` in one stable step.

    $$L = \frac{1}{M}\sum \big[\max(z, 0) - z y + \ln(1 + e^{-|z|})\big],\qquad
      \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{M}$$

    Shapes: pred (N, ...) and target of the same shape -> float (NaN for an empty batch).
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z, y = self._pair(pred, target)
        self._cache = (z, y)
        return _mean(np.sum(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))), z.size)

    def backward(self) -> np.ndarray:
        z, y = self._cached()
        return (F.sigmoid(z) - y) / z.size  # ∂L/∂z = (σ(z) − y) / M


class CrossEntropyLoss(Loss):
    r"""Softmax cross-entropy on logits, with integer class labels or target rows (one-hot or probabilities).

    $$L = -\frac{1}{N}\sum_n \sum_c y_{nc} \log \mathrm{softmax}(z_n)_c,\qquad
      \frac{\partial L}{\partial z} = \frac{\mathrm{softmax}(z) \textstyle\sum_c y_c - y}{N}$$

    For a one-hot or probability row $\sum_c y_c = 1$ and the gradient is the familiar
    $(\mathrm{softmax}(z) - y)/N$; the general form also holds for rows that do not sum to 1
    (multi-hot, scaled, all zero), as in PyTorch.

    Shapes: pred (N, C) logits; target (N,) int labels in 0..C-1 or (N, C) rows -> float (NaN for an
    empty batch).

    Example:
        >>> ce = CrossEntropyLoss()
        >>> round(ce(np.array([[2.0, 0.0, 0.0]]), np.array([0])), 4)   # −ln(e² / (e² + 2))
        0.2395
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = check_array(
            pred,
            owner="CrossEntropyLoss",
            name="pred",
            shape=("N", "C"),
            hint="Pass the raw scores of the last Linear layer, one row per example.",
        )
        y = self._target_rows(target, z)
        logp = F.log_softmax(z, axis=1)  # log softmax(z), computed stably
        self._cache = (logp, y)
        return _mean(-np.sum(y * logp), z.shape[0])  # L = −(1/N) Σ_n Σ_c y_nc log softmax(z_n)_c

    def backward(self) -> np.ndarray:
        logp, y = self._cached()
        s = np.exp(logp)  # softmax(z)
        return (s * y.sum(axis=1, keepdims=True) - y) / logp.shape[0]  # ∂L/∂z = (softmax(z)·Σ_c y_c − y) / N

    @staticmethod
    def _target_rows(target: object, z: np.ndarray) -> np.ndarray:
        """The target as (N, C) rows: integer labels become one-hot rows."""
        n, c = z.shape
        if np.ndim(target) == 1:
            labels = check_labels(target, c, owner="CrossEntropyLoss", n=n)
            return np.eye(c, dtype=z.dtype)[labels]  # one-hot: y_nc = 1 where c is the label
        return check_array(
            target,
            owner="CrossEntropyLoss",
            name="target",
            shape=(n, c),
            dtype=z.dtype,
            hint="Targets are class labels of shape (N,) or one-hot rows of shape (N, C).",
        )


class L1Penalty:
    r"""The L1 regulariser as a term added to the loss: $\lambda \sum_w |w|$ over every parameter.

    $$L = L_0 + \lambda \sum_w |w|,\qquad
      \frac{\partial L}{\partial w} = \frac{\partial L_0}{\partial w} + \lambda\,\mathrm{sign}(w)$$

    as in Honchar's lecture (which writes $\lambda/n$ for $\lambda$). ``penalty()`` gives the term to
    add to the loss; after ``model.backward``, ``penalty.backward()`` adds its gradient to every
    ``grads`` entry, so the optimiser steps on $\partial L / \partial w$. (L2 is the optimisers'
    ``weight_decay``.)

    Example:
        >>> from nnlab.np_nn import Linear
        >>> net, loss = Linear(2, 1, rng=0), MSELoss()
        >>> penalty = L1Penalty(net, strength=0.01)
        >>> x, y = np.ones((4, 2)), np.zeros((4, 1))
        >>> cost = loss(net(x), y) + penalty()       # L = L₀ + λ Σ|w|
        >>> dx = net.backward(loss.backward())       # ∂L₀/∂w into net.grads
        >>> penalty.backward()                       # ... plus λ·sign(w)
    """

    def __init__(self, model: object, strength: float) -> None:
        if not isinstance(model, Module):  # a torch_nn model has params and grads too, but not these arrays
            hint = "Pass the network itself: L1Penalty(model, strength=0.01)."
            if hasattr(model, "named_parameters"):
                hint = "This is a PyTorch model; use nnlab.torch_nn.L1Penalty for it."
            raise fail(
                "L1Penalty",
                f"expected a NumPy model (an nnlab.np_nn Module); got {type(model).__name__}.",
                hint,
            )
        self.model = model
        self.strength = number(strength, owner="L1Penalty", name="strength", low=0, example="0.01")

    def __call__(self) -> float:
        params = self.model.params
        return self.strength * float(sum(np.abs(w).sum() for w in params.values()))  # λ Σ|w|

    def backward(self) -> None:
        r"""Add $\lambda\,\mathrm{sign}(w)$ to the gradient of every parameter, in place."""
        grads = self.model.grads
        for name, w in self.model.params.items():
            grads[name] += self.strength * np.sign(w)  # ∂L/∂w = ∂L₀/∂w + λ·sign(w)

    def __repr__(self) -> str:
        return f"L1Penalty(strength={self.strength})"


def _batch_size(a: np.ndarray) -> int:
    """N, the number of examples (1 for a single number)."""
    return a.shape[0] if a.ndim else 1


def _mean(total: float, count: int) -> float:
    """total / count as a float; NaN without a warning when there is nothing to average (an empty batch)."""
    return float(total / count) if count else float("nan")
