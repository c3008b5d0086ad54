"""``fit``: the minibatch training loop, with diagnostics, early stopping and a progress bar."""

from __future__ import annotations

import time

import numpy as np

from .._checks import as_generator, check_array, check_finite, fail
from .._training import EarlyStopping, check_fit_args, progress_enabled
from ..diagnostics import Monitor
from ..history import History
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss
from .module import Module
from .optim import Optimizer

__all__ = ["History", "accuracy", "fit"]


def accuracy(pred: np.ndarray, target: np.ndarray, loss: Loss | None = None) -> float:
    """The fraction of examples classified right, judged the way ``loss`` reads ``pred``.

    Integer labels: the arg-max of each row. One-hot rows with ``CrossEntropyLoss``: arg-max against
    arg-max. 0/1 targets: ``pred > 0`` for ``BCEWithLogitsLoss``, otherwise ``pred > 0.5``; an example
    counts only when all its outputs are right. Anything else (a regression target) gives NaN.
    """
    pred, target = np.asarray(pred), np.asarray(target)
    if len(pred) == 0:
        return float("nan")
    if target.ndim == 1 and pred.ndim == 2 and pred.shape[1] > 1 and _whole_numbers(target):
        return np.count_nonzero(pred.argmax(axis=1) == target) / len(pred)
    if isinstance(loss, CrossEntropyLoss) and target.shape == pred.shape and pred.ndim == 2:
        return float(np.mean(pred.argmax(axis=1) == target.argmax(axis=1)))
    if target.shape == pred.shape and np.isin(target, (0, 1)).all():
        threshold = 0.0 if isinstance(loss, BCEWithLogitsLoss) else 0.5
        right = (pred > threshold) == (target > 0.5)
        return float(np.mean(right.reshape(len(right), -1).all(axis=1)))
    return float("nan")


def _whole_numbers(a: np.ndarray) -> bool:
    """Integer labels, or floats that are whole numbers (labels loaded as float still count)."""
    if a.dtype.kind in "iu":
        return True
    return bool(np.issubdtype(a.dtype, np.floating) and np.all(np.mod(a, 1) == 0))


def _evaluate(
    model: Module, loss: Loss, X: np.ndarray, y: np.ndarray, chunk: int = 2048
) -> tuple[float, float]:
    """Loss and accuracy over (X, y) in evaluation mode, in chunks so memory stays small."""
    was_training = model.training
    model.eval()
    total, right, n = 0.0, 0.0, len(X)
    try:
        for start in range(0, n, chunk):
            xb, yb = X[start : start + chunk], y[start : start + chunk]
            pred = model(xb)
            total += loss(pred, yb) * len(xb)
            right += accuracy(pred, yb, loss) * len(xb)
    finally:
        model.train(was_training)
    return total / n, right / n


def _check_xy(X: object, y: object, what: str) -> tuple[np.ndarray, np.ndarray]:
    X = check_array(X, owner="fit", name=f"{what} X")
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise fail(
            "fit",
            f"expected {what} X and y with the same number of examples;"
            f" got X of shape {X.shape} and y of shape {y.shape}.",
        )
    if X.shape[0] == 0:
        raise fail("fit", f"expected at least one {what} example; got none.")
    if np.issubdtype(y.dtype, np.number):
        check_finite(y, owner="fit", name=f"{what} y")  # NaN in a target is the data's, not divergence
    return X, y


def fit(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    patience: int | None = None,
    rng: np.random.Generator | int | None = None,
    progress: bool = True,
    diagnostics: bool = True,
) -> History:
    r"""Train ``model`` with minibatch gradient descent and return its ``History``.

    Each epoch shuffles the examples, and for every minibatch runs forward, the loss, backward and
    ``optimizer.step()``. With ``validation=(X_val, y_val)`` it records the validation loss and
    accuracy after each epoch; with ``patience=k`` it stops after k epochs without a lower
    validation loss and puts back the weights of the best epoch.

    While it trains, ``nnlab.diagnostics`` watches for divergence, saturated units, vanishing or
    exploding gradients, dead ReLUs and unscaled inputs, and warns once about each with a
    ``TrainingWarning`` that says what to change. A loss that blows up stops ``fit``, with the
    weights and the optimizer's state from before the blow-up put back.

    Args:
        epochs: the most epochs to run.
        batch_size: examples per step; the last batch of an epoch may be smaller.
        rng: a Generator or seed for the shuffling.
        progress: show a progress bar (``tqdm.auto``); ``NNLAB_PROGRESS=0`` turns it off everywhere.
        diagnostics: watch the training and warn (the default); False runs the plain loop.

    Example:
        >>> from nnlab.np_nn import CrossEntropyLoss, Linear, optim
        >>> X, y = np.eye(4, dtype=np.float32), np.arange(4)  # four examples, one class each
        >>> net = Linear(4, 4, rng=0)
        >>> history = fit(net, CrossEntropyLoss(), optim.SGD(net, lr=0.5), X, y, epochs=50, progress=False)
        >>> history.train_acc[-1]
        1.0

    Chapter: 2, gradient descent; 3, backpropagation.
    """
    from ..data import batches

    check_fit_args(model, loss, optimizer, epochs, batch_size, validation, patience, path="numpy")
    X, y = _check_xy(X, y, "training")
    if isinstance(loss, CrossEntropyLoss) and y.ndim == 1 and _whole_numbers(y):
        y = y.astype(np.int64, copy=False)  # labels as integers once, not at every batch
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise fail("fit", "expected validation as a pair (X_val, y_val).")
        X_val, y_val = _check_xy(*validation, "validation")
    rng = as_generator(rng, owner="fit")

    from tqdm.auto import tqdm

    n = X.shape[0]
    sizes = np.diff(np.r_[np.arange(0, n, batch_size), n]).astype(np.float64)  # examples per step
    history = History()
    stopper = EarlyStopping(model, patience)
    monitor = Monitor(model, loss, optimizer, X, y, history, steps_per_epoch=len(sizes), torch=False,
                      accuracy=accuracy, enabled=diagnostics)  # fmt: skip
    monitor.start()
    bar = tqdm(total=epochs * len(sizes), disable=not progress_enabled(progress), unit="batch", leave=False)
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            bar.set_description(f"epoch {epoch}/{epochs}")
            losses, total_right = np.full(len(sizes), np.nan), 0.0
            monitor.start_epoch()
            with monitor.watching():  # weights that blow up end the epoch, explained by the monitor
                for step, (xb, yb) in enumerate(batches(X, y, batch_size, rng)):
                    # no zero_grad needed: backward overwrites every gradient (np_nn does not accumulate)
                    pred = model(xb)  # forward
                    batch_loss = loss(pred, yb)  # the loss
                    model.backward(loss.backward())  # backward: every ∂L/∂w into model.grads
                    optimizer.step()  # w ← w − η ∂L/∂w (or the optimiser's own update)
                    losses[step] = batch_loss
                    total_right += accuracy(pred, yb, loss) * len(xb)
                    bar.update()
                    if monitor.after_step(step, batch_loss):  # gradient samples; True: the loss blew up
                        break
            # the monitor judges the epoch and warns; after a blow-up it puts the weights back
            diverged_at = monitor.end_epoch(epoch, losses)
            history.train_loss.append(float(losses @ sizes) / n if diverged_at is None else monitor.bad_loss)
            history.train_acc.append(total_right / n)
            postfix, patience_ran_out = {"loss": f"{history.train_loss[-1]:.4f}"}, False
            if validation is not None:
                val_loss, val_acc = (
                    (np.nan, np.nan) if diverged_at is not None else _evaluate(model, loss, X_val, y_val)
                )
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
