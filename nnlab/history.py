"""``History``: what ``fit`` records epoch by epoch, shared by the NumPy and PyTorch paths."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ._checks import fail

__all__ = ["History", "check_fit_settings"]


@dataclass
class History:
    """Per-epoch training and validation loss and accuracy, as returned by ``fit``.

    Accuracies are NaN where they do not apply (a regression target). ``best_epoch`` is the epoch
    (counting from 1) whose weights the model holds after early stopping, and ``stopped_early``
    says whether patience ran out before ``epochs``.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    samples_per_second: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "train_loss": self.train_loss,
            "train_acc": self.train_acc,
            "val_loss": self.val_loss,
            "val_acc": self.val_acc,
        }

    def plot(self, ax=None, *, accuracy: bool = False):
        """Draw the loss curves (or accuracy with ``accuracy=True``) on a matplotlib Axes; returns it."""
        if ax is None:
            from matplotlib.figure import Figure

            ax = Figure(figsize=(5, 3.2)).add_subplot()
        key = "acc" if accuracy else "loss"
        epochs = range(1, self.epochs + 1)
        ax.plot(epochs, getattr(self, f"train_{key}"), color="#0072B2", marker="o", ms=3, label="training")
        if getattr(self, f"val_{key}"):
            ax.plot(
                epochs, getattr(self, f"val_{key}"), color="#D55E00", marker="s", ms=3, label="validation"
            )
        if self.best_epoch is not None and self.val_loss:
            ax.axvline(self.best_epoch, color="0.5", ls="--", lw=1, label=f"best epoch ({self.best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if accuracy else "loss")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        if not self.train_loss:
            return "History(no epochs)"
        parts = [f"epochs={self.epochs}", f"train_loss={self.train_loss[-1]:.4g}"]
        if not math.isnan(self.train_acc[-1]):
            parts.append(f"train_acc={self.train_acc[-1]:.3f}")
        if self.val_loss:
            parts.append(f"val_loss={self.val_loss[-1]:.4g}")
            if not math.isnan(self.val_acc[-1]):
                parts.append(f"val_acc={self.val_acc[-1]:.3f}")
        if self.best_epoch is not None:
            parts.append(f"best_epoch={self.best_epoch}")
        if self.stopped_early:
            parts.append("stopped_early=True")
        return "History(" + ", ".join(parts) + ")"


def check_fit_settings(epochs: object, batch_size: object, validation: object, patience: object) -> None:
    """The checks both paths' ``fit`` make on their settings, each failing with one sentence."""
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise fail("fit", f"expected epochs to be a positive integer; got {epochs!r}.")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise fail("fit", f"expected batch_size to be a positive integer; got {batch_size!r}.")
    if patience is not None and validation is None:
        raise fail(
            "fit",
            "got patience but no validation set to watch.",
            "Pass validation=(X_val, y_val), or drop patience.",
        )
    if patience is not None and (not isinstance(patience, (int, np.integer)) or patience < 1):
        raise fail("fit", f"expected patience to be a positive integer; got {patience!r}.")
