"""``fit``: the minibatch training loop, with early stopping and a progress bar."""

from __future__ import annotations

import os
import time

import numpy as np

from .._checks import check_array, fail
from ..history import History, check_fit_settings
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss
from .module import Module, Sequential
from .optim import Optimizer

__all__ = ["History", "accuracy", "fit", "progress_enabled"]


def progress_enabled(progress: bool) -> bool:
    """A bar is shown when ``progress`` is true and ``NNLAB_PROGRESS`` is not set to 0/false/off."""
    return bool(progress) and os.environ.get("NNLAB_PROGRESS", "1").strip().lower() not in (
        "0",
        "false",
        "off",
        "no",
    )


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
) -> History:
    r"""Train ``model`` with minibatch gradient descent and return its ``History``.

    Each epoch shuffles the examples, and for every minibatch runs forward, the loss, backward and
    ``optimizer.step()``. With ``validation=(X_val, y_val)`` it records the validation loss and
    accuracy after each epoch; with ``patience=k`` it stops after k epochs without a lower
    validation loss and puts back the weights of the best epoch.

    Args:
        epochs: the most epochs to run.
        batch_size: examples per step; the last batch of an epoch may be smaller.
        rng: a Generator or seed for the shuffling.
        progress: show a progress bar (``tqdm.auto``); ``NNLAB_PROGRESS=0`` turns it off everywhere.

    Example:
        >>> history = fit(net, CrossEntropyLoss(), SGD(net, lr=0.1), X, y, epochs=5, batch_size=64)

    Chapter: 9, a first MNIST network.
    """
    from ..data import batches

    check_fit_settings(epochs, batch_size, validation, patience)
    X, y = _check_xy(X, y, "training")
    if isinstance(loss, CrossEntropyLoss) and y.ndim == 1 and _whole_numbers(y):
        y = y.astype(np.int64, copy=False)  # labels as integers once, not at every batch
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise fail("fit", "expected validation as a pair (X_val, y_val).")
        X_val, y_val = _check_xy(*validation, "validation")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng

    from tqdm.auto import tqdm

    n = X.shape[0]
    steps_per_epoch = -(-n // batch_size)
    history = History()
    best_loss, best_params, waited = np.inf, None, 0
    skip_input_grad = isinstance(model, Sequential)
    bar = tqdm(
        total=epochs * steps_per_epoch, disable=not progress_enabled(progress), unit="batch", leave=False
    )
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            model.train()
            bar.set_description(f"epoch {epoch}/{epochs}")
            total_loss, total_right = 0.0, 0.0
            for xb, yb in batches(X, y, batch_size, rng):
                # no zero_grad needed: backward overwrites every gradient (np_nn does not accumulate)
                pred = model(xb)
                batch_loss = loss(pred, yb)
                dpred = loss.backward()
                if skip_input_grad:
                    model.backward(dpred, input_grad=False)
                else:
                    model.backward(dpred)
                optimizer.step()
                total_loss += batch_loss * len(xb)
                total_right += accuracy(pred, yb, loss) * len(xb)
                bar.update()
            history.train_loss.append(total_loss / n)
            history.train_acc.append(total_right / n)
            postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
            if validation is not None:
                val_loss, val_acc = _evaluate(model, loss, X_val, y_val)
                history.val_loss.append(val_loss)
                history.val_acc.append(val_acc)
                postfix["val_loss"] = f"{val_loss:.4f}"
                if val_loss < best_loss:
                    best_loss, waited, history.best_epoch = val_loss, 0, epoch
                    if patience is not None:
                        best_params = {k: v.copy() for k, v in model.params.items()}
                else:
                    waited += 1
            bar.set_postfix(postfix)
            if not np.isfinite(history.train_loss[-1]):
                raise fail(
                    "fit",
                    f"stopped at epoch {epoch}: the training loss became {history.train_loss[-1]}.",
                    "Lower the learning rate, or check the inputs are scaled (e.g. to [0, 1]).",
                )
            if patience is not None and waited >= patience:
                history.stopped_early = epoch < epochs
                break
    finally:
        bar.close()
        history.seconds = time.perf_counter() - start
        history.samples_per_second = n * history.epochs / history.seconds if history.seconds else 0.0
    if best_params is not None:
        params = model.params
        for k, v in best_params.items():
            params[k][...] = v
    return history
