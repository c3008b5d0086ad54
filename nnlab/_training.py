"""What both paths' ``fit`` share: the checks of its arguments, the progress switch, early stopping.

The training step itself (forward, loss, backward, step) stays written out in each ``fit``, where a
student reads it; what is here is bookkeeping, written once so the two paths cannot drift apart.
Nothing here imports torch: a tensor is told from an array by its ``detach`` method.
"""

from __future__ import annotations

import copy
import math
import os
import sys

import numpy as np

from ._checks import fail

__all__ = [
    "EarlyStopping",
    "check_fit_args",
    "learning_rate",
    "progress_enabled",
    "restore",
    "restore_optimizer",
    "snapshot",
    "snapshot_optimizer",
]


def progress_enabled(progress: bool) -> bool:
    """A bar is shown when ``progress`` is true and ``NNLAB_PROGRESS`` is not set to 0/false/off/no."""
    return bool(progress) and os.environ.get("NNLAB_PROGRESS", "1").strip().lower() not in (
        "0",
        "false",
        "off",
        "no",
    )


def check_fit_args(
    model: object,
    loss: object,
    optimizer: object,
    epochs: object,
    batch_size: object,
    validation: object,
    patience: object,
    *,
    path: str,
) -> None:
    """The checks both paths' ``fit`` make on their arguments, each failing with one sentence.

    ``path`` is "numpy" or "torch": the model, the loss and the optimizer must all come from it,
    and the optimizer must update this model's parameters.
    """
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
    if patience is not None and (
        not isinstance(patience, (int, np.integer)) or isinstance(patience, bool) or patience < 1
    ):
        raise fail("fit", f"expected patience to be a positive integer; got {patience!r}.")
    if path == "numpy":
        _check_numpy_path(model, loss, optimizer)
    else:
        _check_torch_path(model, loss, optimizer)
    _check_optimizer_of(model, optimizer)


def _torch_kind(obj: object) -> str | None:
    """ "module" or "optimizer" for a PyTorch object, None otherwise (never imports torch)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    if isinstance(obj, torch.nn.Module):
        return "module"
    if isinstance(obj, torch.optim.Optimizer):
        return "optimizer"
    return None


def _twin(package: str, name: str, example: str) -> str:
    """``nnlab.np_nn.CrossEntropyLoss`` if ``package`` has a class of that name, else an example of one."""
    import importlib

    if hasattr(importlib.import_module(package), name.rpartition(".")[2]):
        return f"{package}.{name.rpartition('.')[2]}"
    return f"{package}.{example}"


def _check_numpy_path(model: object, loss: object, optimizer: object) -> None:
    from .np_nn.module import Module

    name = type(model).__name__
    if _torch_kind(model):
        raise fail(
            "fit",
            f"expected a NumPy model (an nnlab.np_nn module); got {name}, a PyTorch module.",
            "For a PyTorch model use nnlab.torch_nn.fit.",
        )
    if not isinstance(model, Module):
        raise fail("fit", f"expected a NumPy model (an nnlab.np_nn module); got {name}.")
    name = type(loss).__name__
    if _torch_kind(loss):
        twin = _twin("nnlab.np_nn", name, "CrossEntropyLoss")
        raise fail("fit", f"expected a NumPy loss; got {name}, a PyTorch module.", f"Use {twin}() here.")
    name = type(optimizer).__name__
    if _torch_kind(optimizer):
        twin = _twin("nnlab.np_nn.optim", name, "SGD")
        raise fail(
            "fit",
            f"expected a NumPy optimizer (from nnlab.np_nn.optim); got {name}, a PyTorch optimizer.",
            f"Use {twin}(net, lr=0.1) here.",
        )
    if not hasattr(optimizer, "model") or not hasattr(optimizer, "step"):
        raise fail("fit", f"expected a NumPy optimizer such as nnlab.np_nn.optim.SGD(net); got {name}.")


def _check_torch_path(model: object, loss: object, optimizer: object) -> None:
    from .np_nn.losses import Loss
    from .np_nn.module import Module
    from .np_nn.optim import Optimizer

    name = type(model).__name__
    if _torch_kind(model) != "module":
        hint = "For a NumPy model use nnlab.np_nn.fit." if isinstance(model, Module) else None
        raise fail("fit", f"expected a torch model (a torch.nn.Module); got {name}.", hint)
    name = type(loss).__name__
    if isinstance(loss, (Loss, Module)):
        twin = _twin("nnlab.torch_nn", name, "CrossEntropyLoss")
        raise fail("fit", f"expected a PyTorch loss; got {name} from nnlab.np_nn.", f"Use {twin}() here.")
    name = type(optimizer).__name__
    if _torch_kind(optimizer) != "optimizer":
        hint = None
        if isinstance(optimizer, Optimizer):
            hint = f"Use {_twin('nnlab.torch_nn.optim', name, 'SGD')}(net, lr=0.1) here."
        raise fail("fit", f"expected a PyTorch optimizer (a torch.optim.Optimizer); got {name}.", hint)


def _check_optimizer_of(model: object, optimizer: object) -> None:
    """Fail when the optimizer updates none of the model's parameters (an optimizer built for another model)."""
    if getattr(optimizer, "param_groups", None) is not None:  # torch.optim: the tensors it updates
        updated = {id(p) for group in optimizer.param_groups for p in group["params"]}
    else:
        updated = {id(p) for p in _named_params(optimizer.model).values()}
    own = {id(p) for p in _named_params(model).values()}
    if own and not own & updated:
        name = type(optimizer).__name__
        raise fail(
            "fit",
            f"expected an optimizer for this model; got a {name} that updates the parameters of another model.",
            "Did you run the cell that builds the model again, but not the one that builds the optimizer?"
            f" Build it again for this model: optimizer = {name}(net, lr=0.1).",
        )


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


def snapshot_optimizer(optimizer: object) -> dict:
    """A copy of the optimizer's state (velocities, running averages, step count), for ``restore_optimizer``.

    ``torch.optim``: a deep copy of ``state_dict()`` (tensors stay on their device); NumPy: of ``state``.
    """
    if hasattr(optimizer, "state_dict") and hasattr(optimizer, "load_state_dict"):
        saved = {"state_dict": copy.deepcopy(optimizer.state_dict())}
    else:
        saved = {"state": copy.deepcopy(getattr(optimizer, "state", None))}
    saved["steps"] = getattr(optimizer, "steps", None)
    return saved


def restore_optimizer(optimizer: object, saved: dict) -> None:
    """Put back an optimizer's state saved by ``snapshot_optimizer``."""
    if "state_dict" in saved:
        optimizer.load_state_dict(copy.deepcopy(saved["state_dict"]))
    elif saved["state"] is not None:
        optimizer.state = copy.deepcopy(saved["state"])
    if saved["steps"] is not None:
        optimizer.steps = saved["steps"]


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
