"""What both paths' ``fit`` share: the checks of its arguments, the progress switch, early stopping.

The training step itself (forward, loss, backward, step) stays written out in each ``fit``, where a
student reads it; what is here is bookkeeping, written once so the two paths cannot drift apart.
Nothing here imports torch: a tensor is told from an array by its ``detach`` method.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ._checks import fail

__all__ = ["EarlyStopping", "check_fit_args", "learning_rate", "progress_enabled", "restore", "snapshot"]


def progress_enabled(progress: bool) -> bool:
    """A bar is shown when ``progress`` is true and ``NNLAB_PROGRESS`` is not set to 0/false/off/no."""
    return bool(progress) and os.environ.get("NNLAB_PROGRESS", "1").strip().lower() not in (
        "0",
        "false",
        "off",
        "no",
    )


def check_fit_args(
    loss: object, optimizer: object, epochs: object, batch_size: object, validation: object, patience: object
) -> None:
    """The checks both paths' ``fit`` make on their arguments, each failing with one sentence."""
    if isinstance(loss, type):
        raise fail(
            "fit",
            f"expected a loss object such as {loss.__name__}(); got the class {loss.__name__} itself.",
            f"Create one first: loss = {loss.__name__}().",
        )
    if isinstance(optimizer, type):
        raise fail(
            "fit",
            f"expected an optimizer object such as {optimizer.__name__}(net, lr=0.1);"
            f" got the class {optimizer.__name__} itself.",
            f"Create it with your model and a learning rate: optimizer = {optimizer.__name__}(net, lr=0.1).",
        )
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
        raise fail("fit", f"expected epochs to be a positive integer; got {epochs!r}.")
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise fail("fit", f"expected batch_size to be a positive integer; got {batch_size!r}.")
    if patience is not None and validation is None:
        raise fail(
            "fit",
            "got patience but no validation set to watch.",
            "Pass validation=(X_val, y_val), or drop patience.",
        )
    if patience is not None and (not isinstance(patience, (int, np.integer)) or patience < 1):
        raise fail("fit", f"expected patience to be a positive integer; got {patience!r}.")


def _named_params(model: object) -> dict:
    """name -> parameter: ``named_parameters()`` for a torch model, ``params`` for a NumPy one."""
    if hasattr(model, "named_parameters"):
        return dict(model.named_parameters())
    return model.params


def snapshot(model: object) -> dict:
    """A copy of every parameter (on the same device for tensors), to put back with ``restore``."""
    return {
        k: v.detach().clone() if hasattr(v, "detach") else v.copy() for k, v in _named_params(model).items()
    }


def restore(model: object, saved: dict) -> None:
    """Write the values of a ``snapshot`` back into the model's own parameters, in place."""
    for k, p in _named_params(model).items():
        if hasattr(p, "detach"):
            p.detach().copy_(saved[k])  # the same storage as p, without recording it for autograd
        else:
            p[...] = saved[k]


def params_finite(model: object) -> bool:
    """Whether every parameter holds finite numbers only."""
    for p in _named_params(model).values():
        if hasattr(p, "detach"):
            if not bool(p.detach().isfinite().all()):
                return False
        elif not np.isfinite(p).all():
            return False
    return True


def learning_rate(optimizer: object) -> float | None:
    """The optimizer's learning rate: its ``lr`` attribute, or the first parameter group's (torch.optim)."""
    lr = getattr(optimizer, "lr", None)
    if lr is None and getattr(optimizer, "param_groups", None):
        lr = optimizer.param_groups[0].get("lr")
    try:
        return float(lr)
    except (TypeError, ValueError):
        return None


class EarlyStopping:
    """Watch the validation loss: remember the best epoch (and, with ``patience``, its weights).

    ``update`` is called once per epoch with the validation loss and says whether to stop: after
    ``patience`` epochs without a lower loss. ``restore_best`` puts the best epoch's weights back.
    """

    def __init__(self, model: object, patience: int | None) -> None:
        self.model, self.patience = model, patience
        self.best_loss, self.best_epoch, self.waited, self.best_params = math.inf, None, 0, None

    def update(self, epoch: int, val_loss: float) -> bool:
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.waited = val_loss, epoch, 0
            if self.patience is not None:
                self.best_params = snapshot(self.model)
        else:
            self.waited += 1
        return self.patience is not None and self.waited >= self.patience

    def restore_best(self) -> None:
        if self.best_params is not None:
            restore(self.model, self.best_params)
