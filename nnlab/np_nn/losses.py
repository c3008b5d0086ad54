r"""Loss functions: ``loss(pred, target) -> float``, then ``loss.backward() -> dpred``.

Every loss averages over the batch, so its gradient carries a 1/N.

Chapter: 4, saturation and cross-entropy.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_labels, fail
from . import functional as F

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Loss", "MSELoss"]


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
    r"""Squared error, with the seeds' ½ made explicit.

    ``convention="half_sum"`` (default, the seeds' $C = \tfrac12\lVert a - y\rVert^2$ per example):
    $$L = \frac{1}{N}\sum_n \tfrac12 \lVert a_n - y_n \rVert^2,\qquad \frac{\partial L}{\partial a} = \frac{a - y}{N}$$
    ``convention="mean"`` (PyTorch's ``nn.MSELoss``): the mean of $(a - y)^2$ over every entry,
    gradient $2(a - y)/(N D)$.

    Shapes: pred (N, D), target (N, D) -> float.
    """

    def __init__(self, convention: str = "half_sum") -> None:
        super().__init__()
        if convention not in ("half_sum", "mean"):
            raise fail("MSELoss", f"expected convention 'half_sum' or 'mean'; got {convention!r}.")
        self.convention = convention

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        a, y = self._pair(pred, target)
        diff = a - y
        self._cache = (diff,)
        if self.convention == "half_sum":
            return float(0.5 * np.sum(diff * diff) / max(a.shape[0] if a.ndim else 1, 1))
        return float(np.mean(diff * diff))

    def backward(self) -> np.ndarray:
        (diff,) = self._cached()
        if self.convention == "half_sum":
            return diff / max(diff.shape[0] if diff.ndim else 1, 1)
        return 2.0 * diff / max(diff.size, 1)

    def __repr__(self) -> str:
        return f"MSELoss(convention={self.convention!r})"


class BCELoss(Loss):
    r"""Binary cross-entropy on probabilities $a \in [0, 1]$ (after a ``Sigmoid``).

    $$L = -\frac{1}{M}\sum \big[y \ln a + (1-y)\ln(1-a)\big],\qquad
      \frac{\partial L}{\partial a} = \frac{1}{M}\,\frac{a - y}{a(1-a)}$$

    averaged over all M entries, as PyTorch does; each log is clamped at -100, so a = 0 or 1 gives a
    large finite loss. Shapes: pred (N, ...) and target of the same shape -> float.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        a, y = self._pair(pred, target)
        if a.size and (a.min() < 0 or a.max() > 1):
            raise fail(
                "BCELoss",
                f"expected pred as probabilities in [0, 1]; got values from {a.min():.3g} to {a.max():.3g}.",
                "Add a Sigmoid before the loss, or use BCEWithLogitsLoss on raw scores.",
            )
        with np.errstate(divide="ignore"):
            log_a = np.maximum(np.log(a), -100.0)
            log_1ma = np.maximum(np.log1p(-a), -100.0)
        self._cache = (a, y)
        return float(-np.mean(y * log_a + (1 - y) * log_1ma))

    def backward(self) -> np.ndarray:
        a, y = self._cached()
        eps = 1e-12
        return (a - y) / np.maximum(a * (1 - a), eps) / max(a.size, 1)


class BCEWithLogitsLoss(Loss):
    r"""Binary cross-entropy on raw scores $z$: a sigmoid and ``BCELoss`` in one stable step.

    $$L = \frac{1}{M}\sum \big[\max(z, 0) - z y + \ln(1 + e^{-|z|})\big],\qquad
      \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{M}$$

    Shapes: pred (N, ...) and target of the same shape -> float.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z, y = self._pair(pred, target)
        self._cache = (z, y)
        return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))

    def backward(self) -> np.ndarray:
        z, y = self._cached()
        return (F.sigmoid(z) - y) / max(z.size, 1)


class CrossEntropyLoss(Loss):
    r"""Softmax cross-entropy on logits, with integer class labels or one-hot (probability) rows.

    $$L = -\frac{1}{N}\sum_n \sum_c y_{nc} \log \mathrm{softmax}(z_n)_c,\qquad
      \frac{\partial L}{\partial z} = \frac{\mathrm{softmax}(z) - y}{N}$$

    Shapes: pred (N, C) logits; target (N,) int labels in 0..C-1 or (N, C) rows -> float.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = check_array(
            pred,
            owner="CrossEntropyLoss",
            name="pred",
            shape=("N", "C"),
            hint="Pass the raw scores of the last Linear layer, one row per example.",
        )
        n, c = z.shape
        t = np.asarray(target)
        logp = F.log_softmax(z, axis=1)
        if t.ndim == 1:
            labels = check_labels(t, c, owner="CrossEntropyLoss", n=n)
            self._cache = (logp, labels)
            return float(-logp[np.arange(n), labels].mean()) if n else 0.0
        y = check_array(
            t,
            owner="CrossEntropyLoss",
            name="target",
            shape=(n, c),
            dtype=z.dtype,
            hint="Targets are class labels of shape (N,) or one-hot rows of shape (N, C).",
        )
        self._cache = (logp, y)
        return float(-(y * logp).sum() / max(n, 1))

    def backward(self) -> np.ndarray:
        logp, t = self._cached()
        n = logp.shape[0]
        grad = np.exp(logp)
        if t.ndim == 1:
            grad[np.arange(n), t] -= 1.0
        else:
            grad -= t
        grad /= max(n, 1)
        return grad
