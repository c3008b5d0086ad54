r"""Loss functions: ``loss(pred, target)`` returns a 0-dim tensor, and ``.backward()`` on it runs autograd.

The twins of ``nnlab.np_nn.losses``, with the same conventions (every loss averages over the batch)
and the same sentences for wrong input. ``loss(pred, target).item()`` gives the number the NumPy
path returns. Targets may be NumPy arrays; they move to ``pred``'s device.

Chapter: 4, saturation and cross-entropy.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import check_finite, check_labels, fail
from .module import as_input

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "L1Penalty", "Loss", "MSELoss"]


class Loss(torch.nn.Module):
    """Base class: ``loss(pred, target)`` runs ``forward`` and returns a 0-dim tensor."""

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(pred, target)")

    def _pair(self, pred: object, target: object) -> tuple[torch.Tensor, torch.Tensor]:
        """Check that pred and target are float tensors of the same shape, target beside pred."""
        name = type(self).__name__
        pred = as_input(pred, owner=name, name="pred")
        target = as_input(target, owner=name, name="target", like=pred)
        if target.shape != pred.shape:
            hint = None
            if pred.ndim == 2 and target.ndim == 1 and pred.shape[0] == target.shape[0]:
                hint = "Reshape the targets to a column with y.reshape(-1, 1)."
            raise fail(
                name,
                f"expected target of shape {tuple(pred.shape)} (the shape of pred); got {tuple(target.shape)}.",
                hint,
            )
        return pred, target


class MSELoss(Loss):
    r"""Squared error, with the ½ of Olteanu's and Honchar's lectures made explicit.

    ``convention="half_sum"`` (default, the lectures' $\ell = \tfrac12\lVert a - y\rVert^2$ per example, which they write $C$):
    $$L = \frac{1}{N}\sum_n \tfrac12 \lVert a_n - y_n \rVert^2,\qquad \frac{\partial L}{\partial a} = \frac{a - y}{N}$$
    ``convention="mean"`` (PyTorch's ``nn.MSELoss``): the mean of $(a - y)^2$ over every entry,
    gradient $2(a - y)/(N D)$.

    Shapes: pred (N, D), target (N, D) -> 0-dim tensor.
    """

    def __init__(self, convention: str = "half_sum") -> None:
        super().__init__()
        if convention not in ("half_sum", "mean"):
            raise fail("MSELoss", f"expected convention 'half_sum' or 'mean'; got {convention!r}.")
        self.convention = convention

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        a, y = self._pair(pred, target)
        if self.convention == "mean":
            return F.mse_loss(a, y)
        return 0.5 * ((a - y) ** 2).sum() / (a.shape[0] if a.ndim else 1)  # L = (1/N) Σ ½‖a − y‖²

    def extra_repr(self) -> str:
        return f"convention={self.convention!r}"


class BCELoss(Loss):
    r"""Binary cross-entropy on probabilities $a \in [0, 1]$ (after a ``Sigmoid``).

    $$L = -\frac{1}{M}\sum \big[y \ln a + (1-y)\ln(1-a)\big],\qquad
      \frac{\partial L}{\partial a} = \frac{1}{M}\,\frac{a - y}{a(1-a)}$$

    averaged over all M entries; each log is clamped at -100, as PyTorch does. On the CPU every call
    checks that pred holds probabilities; on a GPU that check would wait for the device at every
    step, so there ``fit`` makes it once, before training (``check_range``).
    Shapes: pred (N, ...) and target of the same shape -> 0-dim tensor.
    """

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        a, y = self._pair(pred, target)
        if a.device.type == "cpu":
            self.check_range(a)
        return F.binary_cross_entropy(a, y)

    @staticmethod
    def check_range(a: torch.Tensor) -> None:
        """Fail with a sentence unless every entry of ``a`` is a probability (reads two numbers back)."""
        if not a.numel():
            return
        low, high = (float(v) for v in torch.aminmax(a.detach()))
        if math.isnan(low) or math.isnan(high):
            check_finite(a.detach().cpu().numpy(), owner="BCELoss", name="pred")
        if low < 0 or high > 1:
            raise fail(
                "BCELoss",
                f"expected pred as probabilities in [0, 1]; got values from {low:.3g} to {high:.3g}.",
                "Add a Sigmoid before the loss, or use BCEWithLogitsLoss on raw scores.",
            )


class BCEWithLogitsLoss(Loss):
    r"""Binary cross-entropy on raw scores $z$: a sigmoid and ``BCELoss`` in one stable step.

    $$L = \frac{1}{M}\sum \big[\max(z, 0) - z y + \ln(1 + e^{-|z|})\big],\qquad
      \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{M}$$

    Shapes: pred (N, ...) and target of the same shape -> 0-dim tensor.
    """

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        z, y = self._pair(pred, target)
        return F.binary_cross_entropy_with_logits(z, y)


class CrossEntropyLoss(Loss):
    r"""Softmax cross-entropy on logits, with integer class labels or one-hot (probability) rows.

    $$L = -\frac{1}{N}\sum_n \sum_c y_{nc} \log \mathrm{softmax}(z_n)_c,\qquad
      \frac{\partial L}{\partial z} = \frac{\mathrm{softmax}(z) \textstyle\sum_c y_c - y}{N}$$

    (for one-hot or probability rows $\sum_c y_c = 1$: the familiar $(\mathrm{softmax}(z) - y)/N$).

    Shapes: pred (N, C) logits; target (N,) int labels in 0..C-1 or (N, C) rows -> 0-dim tensor
    (NaN for an empty batch, as on the NumPy path).
    Labels given as NumPy are range-checked with a sentence; a label tensor is checked by PyTorch
    (``fit`` checks every label once before training).
    """

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        z = as_input(
            pred,
            owner="CrossEntropyLoss",
            name="pred",
            shape=("N", "C"),
            hint="Pass the raw scores of the last Linear layer, one row per example.",
        )
        n, c = z.shape
        if target.ndim == 1 if isinstance(target, torch.Tensor) else np.ndim(target) == 1:
            return F.cross_entropy(z, self._labels(target, n, c, z.device))
        y = as_input(
            target,
            owner="CrossEntropyLoss",
            name="target",
            like=z,
            shape=(n, c),
            hint="Targets are class labels of shape (N,) or one-hot rows of shape (N, C).",
        )
        return F.cross_entropy(z, y)  # probability rows: -(y * log_softmax(z)).sum() / N

    @staticmethod
    def _labels(target: object, n: int, c: int, device: torch.device) -> torch.Tensor:
        if not isinstance(target, torch.Tensor):
            return torch.from_numpy(check_labels(target, c, owner="CrossEntropyLoss", n=n)).to(device)
        if target.is_floating_point() or target.dtype == torch.bool:
            raise fail(
                "CrossEntropyLoss",
                f"expected integer class labels in target; got dtype {target.dtype}.",
                "Pass labels like [3, 0, 7], or one-hot rows of shape (N, C).",
            )
        if target.shape[0] != n:
            raise fail(
                "CrossEntropyLoss",
                f"expected target class labels of shape ({n},); got {tuple(target.shape)}.",
            )
        return target.to(device=device, dtype=torch.long)


class L1Penalty:
    r"""The L1 regulariser as a term added to the loss: $\lambda \sum_w |w|$ over every parameter.

    $$L = L_0 + \lambda \sum_w |w|,\qquad
      \frac{\partial L}{\partial w} = \frac{\partial L_0}{\partial w} + \lambda\,\mathrm{sign}(w)$$

    The twin of ``nnlab.np_nn.L1Penalty``: ``penalty()`` returns the term as a 0-dim tensor; add it
    to the loss before ``backward()`` and autograd adds $\lambda\,\mathrm{sign}(w)$ to every
    gradient. (L2 is the optimisers' ``weight_decay``.)

    Example:
        >>> from nnlab.torch_nn import Linear
        >>> net, loss = Linear(2, 1, rng=0), MSELoss()
        >>> penalty = L1Penalty(net, strength=0.01)
        >>> cost = loss(net(np.ones((4, 2))), np.zeros((4, 1))) + penalty()   # L = L₀ + λ Σ|w|
        >>> cost.backward()
    """

    def __init__(self, model: torch.nn.Module, strength: float) -> None:
        if not isinstance(model, torch.nn.Module):
            raise fail(
                "L1Penalty", f"expected a torch model (a torch.nn.Module); got {type(model).__name__}."
            )
        if not isinstance(strength, (int, float, np.floating)) or not 0 <= strength < np.inf:
            raise fail("L1Penalty", f"expected strength to be a non-negative number; got {strength!r}.")
        self.model, self.strength = model, float(strength)

    def __call__(self) -> torch.Tensor:
        return self.strength * sum(w.abs().sum() for w in self.model.parameters())  # λ Σ|w|

    def __repr__(self) -> str:
        return f"L1Penalty(strength={self.strength})"
