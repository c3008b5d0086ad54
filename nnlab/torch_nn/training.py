"""``fit``: the minibatch training loop on the model's device, with early stopping and a progress bar.

The twin of ``nnlab.np_nn.fit``: the same signature, the same ``History``, and the same shuffling
(``nnlab.data.batches`` with the same ``rng``), so both paths see the same minibatches in the same
order. The data is copied to the model's device once; each step then picks its rows there, and the
loss and accuracy are summed on the device and read once per epoch, so a GPU is never kept waiting.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from .._checks import as_generator, check_finite, check_labels, fail
from .._training import EarlyStopping, check_fit_args, progress_enabled
from ..diagnostics import Monitor
from ..history import History
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss
from .module import as_input

__all__ = ["History", "accuracy", "fit"]


def accuracy(pred: torch.Tensor, target: torch.Tensor, loss: torch.nn.Module | None = None) -> float:
    """The fraction of examples classified right, judged the way ``loss`` reads ``pred``.

    The rules of ``nnlab.np_nn.accuracy``: integer labels, the arg-max of each row; one-hot rows with
    ``CrossEntropyLoss``, arg-max against arg-max; 0/1 targets, ``pred > 0`` for
    ``BCEWithLogitsLoss``, otherwise ``pred > 0.5``, all outputs of an example right. Anything else
    (a regression target) gives NaN.
    """
    pred = torch.as_tensor(pred).detach()
    target = torch.as_tensor(target, device=pred.device)
    if len(pred) == 0:
        return float("nan")
    rule = _accuracy_rule(pred.shape, target, loss, bool(((target == 0) | (target == 1)).all()))
    return float("nan") if rule is None else float(_correct(pred, target, rule)) / len(pred)


def _accuracy_rule(shape: torch.Size, target: torch.Tensor, loss: object, binary: bool) -> str | None:
    """Which rule of ``accuracy`` applies to outputs of ``shape`` and these targets (None: not a classifier)."""
    if target.ndim == 1 and len(shape) == 2 and shape[1] > 1 and not target.is_floating_point():
        return "labels"
    if isinstance(loss, CrossEntropyLoss) and target.shape[1:] == shape[1:] and len(shape) == 2:
        return "rows"
    if target.shape[1:] == shape[1:] and binary:
        return "logits" if isinstance(loss, BCEWithLogitsLoss) else "probabilities"
    return None


def _correct(pred: torch.Tensor, target: torch.Tensor, rule: str) -> torch.Tensor:
    """How many examples are right, as a 0-dim tensor on the device (reading it waits for the GPU)."""
    if rule == "labels":
        return (pred.argmax(dim=1) == target).sum()
    if rule == "rows":
        return (pred.argmax(dim=1) == target.argmax(dim=1)).sum()
    right = (pred > (0.0 if rule == "logits" else 0.5)) == (target > 0.5)
    return right.reshape(len(right), -1).all(dim=1).sum()


PROBE_ROWS = 256  # the examples _Data runs forward once, before training


class _Data:
    """A training or validation set moved to the device once, with what ``fit`` needs to know about it."""

    def __init__(
        self, X: object, y: object, what: str, model: torch.nn.Module, loss: torch.nn.Module
    ) -> None:
        self.X = as_input(X, owner="fit", name=f"{what} X", like=next(model.parameters(), None), finite=False)
        self.X = self.X.detach()
        if not bool(torch.isfinite(self.X.sum())):  # one pass on the device; the sentence comes from NumPy
            check_finite(self.X.cpu().numpy(), owner="fit", name=f"{what} X")
        y_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
        if self.X.ndim == 0 or y_np.ndim == 0 or self.X.shape[0] != y_np.shape[0]:
            raise fail(
                "fit",
                f"expected {what} X and y with the same number of examples;"
                f" got X of shape {tuple(self.X.shape)} and y of shape {y_np.shape}.",
            )
        if self.X.shape[0] == 0:
            raise fail("fit", f"expected at least one {what} example; got none.")
        self.n = self.X.shape[0]
        # One forward pass of a few examples (eval mode: no dropout mask drawn) tells the output shape,
        # and lets BCELoss check once, here, that the outputs are probabilities (not at every step on a GPU).
        was_training = model.training
        try:
            with torch.no_grad():
                out = model.eval()(self.X[:PROBE_ROWS])
        finally:
            model.train(was_training)
        shape = out.shape
        if isinstance(loss, BCELoss):
            loss.check_range(out)
        if isinstance(loss, CrossEntropyLoss) and y_np.ndim == 1 and len(shape) == 2:
            y_np = check_labels(y_np, shape[1], owner="CrossEntropyLoss", n=self.n)
        if np.issubdtype(y_np.dtype, np.integer) and y_np.ndim == 1 and len(shape) == 2 and shape[1] > 1:
            self.y = torch.from_numpy(y_np.astype(np.int64)).to(self.X.device)
        else:
            self.y = as_input(y_np, owner="fit", name=f"{what} y", like=self.X)
        binary = y_np.size > 0 and bool(np.isin(y_np, (0, 1)).all())
        self.rule = _accuracy_rule(shape, self.y, loss, binary)

    def evaluate(
        self, model: torch.nn.Module, loss: torch.nn.Module, chunk: int = 2048
    ) -> tuple[float, float]:
        """Loss and accuracy over the whole set in evaluation mode, in chunks so memory stays small."""
        was_training = model.training
        model.eval()
        total, right = 0.0, 0.0
        try:
            with torch.no_grad():
                for start in range(0, self.n, chunk):
                    xb, yb = self.X[start : start + chunk], self.y[start : start + chunk]
                    pred = model(xb)
                    total += float(loss(pred, yb)) * len(xb)
                    right += float(_correct(pred, yb, self.rule)) if self.rule else float("nan")
        finally:
            model.train(was_training)
        return total / self.n, right / self.n


def _epoch_order(n: int, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """One epoch's example order and batch sizes, drawn by ``nnlab.data.batches`` as the NumPy path does."""
    from ..data import batches

    index = np.arange(n)
    parts = [idx for idx, _ in batches(index, None, batch_size, rng)]
    return np.concatenate(parts), [len(p) for p in parts]


def fit(
    model: torch.nn.Module,
    loss: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    X: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 32,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    patience: int | None = None,
    rng: np.random.Generator | int | None = None,
    progress: bool = True,
    diagnostics: bool = True,
) -> History:
    r"""Train ``model`` with minibatch gradient descent on its device and return its ``History``.

    Each epoch shuffles the examples, and for every minibatch runs forward, the loss,
    ``backward()`` (autograd) and ``optimizer.step()``. With ``validation=(X_val, y_val)`` it records
    the validation loss and accuracy after each epoch; with ``patience=k`` it stops after k epochs
    without a lower validation loss and puts back the weights of the best epoch. ``X`` and ``y`` may
    be NumPy arrays or tensors; they are copied to the model's device once.

    While it trains, ``nnlab.diagnostics`` watches for divergence, saturated units, vanishing or
    exploding gradients, dead ReLUs and unscaled inputs, as the NumPy path does, and warns once
    about each with a ``TrainingWarning``. Its figures are computed on the device and read once per
    epoch. A loss that blows up stops ``fit`` after that epoch, with the weights and the optimizer's
    state from before the blow-up put back.

    Args:
        epochs: the most epochs to run.
        batch_size: examples per step; the last batch of an epoch may be smaller.
        rng: a Generator or seed for the shuffling (the same seed gives the NumPy path's batches).
        progress: show a progress bar (``tqdm.auto``); ``NNLAB_PROGRESS=0`` turns it off everywhere.
        diagnostics: watch the training and warn (the default); False runs the plain loop.

    Example:
        >>> from nnlab.torch_nn import CrossEntropyLoss, Linear, optim
        >>> X, y = np.eye(4, dtype=np.float32), np.arange(4)  # four examples, one class each
        >>> net = Linear(4, 4, rng=0)
        >>> history = fit(net, CrossEntropyLoss(), optim.SGD(net, lr=0.5), X, y, epochs=50, progress=False)
        >>> history.train_acc[-1]
        1.0

    Chapter: 2, gradient descent; 3, backpropagation.
    """
    check_fit_args(model, loss, optimizer, epochs, batch_size, validation, patience, path="torch")
    train = _Data(X, y, "training", model, loss)
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise fail("fit", "expected validation as a pair (X_val, y_val).")
        val = _Data(*validation, "validation", model, loss)
    rng = as_generator(rng, owner="fit")

    from tqdm.auto import tqdm

    n = train.n
    sizes = np.diff(np.r_[np.arange(0, n, batch_size), n]).astype(np.float64)  # examples per step
    history = History()
    stopper = EarlyStopping(model, patience)
    monitor = Monitor(model, loss, optimizer, train.X, train.y, history, steps_per_epoch=len(sizes), torch=True,
                      accuracy=accuracy, enabled=diagnostics)  # fmt: skip
    monitor.start()
    bar = tqdm(total=epochs * len(sizes), disable=not progress_enabled(progress), unit="batch", leave=False)
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            bar.set_description(f"epoch {epoch}/{epochs}")
            order, _ = _epoch_order(n, batch_size, rng)
            order = torch.from_numpy(order).to(train.X.device)
            losses, right, first = [], [], 0
            monitor.start_epoch()
            with monitor.watching():  # weights that blow up end the epoch, explained by the monitor
                for step, size in enumerate(sizes.astype(np.int64).tolist()):
                    rows = order[first : first + size]
                    first += size
                    xb, yb = train.X.index_select(0, rows), train.y.index_select(0, rows)
                    optimizer.zero_grad()
                    pred = model(xb)  # forward
                    batch_loss = loss(pred, yb)  # the loss
                    batch_loss.backward()  # backward: autograd fills every p.grad with ∂L/∂p
                    optimizer.step()  # w ← w − η ∂L/∂w (or the optimiser's own update)
                    losses.append(batch_loss.detach())
                    if train.rule:
                        right.append(_correct(pred.detach(), yb, train.rule))
                    bar.update()
                    if monitor.after_step(step, batch_loss):  # gradient samples, on the device: no waiting
                        break
            # the epoch's losses and accuracy are read from the device here, once
            losses = torch.stack(losses).double().cpu().numpy() if losses else np.empty(0)
            # the monitor judges the epoch and warns; after a blow-up it puts the weights back
            diverged_at = monitor.end_epoch(epoch, losses)
            history.train_loss.append(float(losses @ sizes) / n if diverged_at is None else monitor.bad_loss)
            history.train_acc.append(
                float(torch.stack(right).sum()) / n if train.rule and right else float("nan")
            )
            postfix, patience_ran_out = {"loss": f"{history.train_loss[-1]:.4f}"}, False
            if validation is not None:
                val_loss, val_acc = (np.nan, np.nan) if diverged_at is not None else val.evaluate(model, loss)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
                postfix["val_loss"] = f"{val_loss:.4f}"
                patience_ran_out = diverged_at is None and stopper.update(epoch, val_loss)
            bar.set_postfix(postfix)
            if diverged_at is not None:
                break
            if patience_ran_out:
                history.stopped_early = epoch < epochs
                break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - start
        history.samples_per_second = n * history.epochs / history.seconds if history.seconds else 0.0
    history.best_epoch = stopper.best_epoch
    stopper.restore_best()
    return history
