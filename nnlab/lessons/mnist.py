r"""A first network on MNIST: the book's data split, live loss curves, a confusion matrix, the worst digits.

``book_mnist`` gives the split the chapters train on: 8,000 training and 2,000 test images taken
from MNIST's test set (the 10,000 images every copy of MNIST has), or, on a machine without MNIST,
scikit-learn's bundled 8x8 digits, saying so. ``train_live`` trains epoch by epoch with either
path's ``fit`` and redraws the loss curves after every epoch. ``confusion_matrix`` counts

$$C_{ij} = \#\{\text{examples of class } i \text{ that the network calls } j\},$$

so the diagonal holds the right answers and row $i$ sums to the number of examples of class $i$;
``worst_classified`` finds the images whose true class got the lowest probability.

Chapter: 9, a first network on MNIST.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "MnistSplit",
    "book_mnist",
    "confusion_figure",
    "confusion_matrix",
    "mistakes",
    "mistakes_browser",
    "pad_to_32",
    "train_live",
    "worst_classified",
    "worst_figure",
]

BLUE, VERMILLION, GREEN, ORANGE = "#0072B2", "#D55E00", "#009E73", "#E69F00"

# Where a developer's checkout keeps the real MNIST test set: ../shared/data/mnist beside the repository.
_CHECKOUT_MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"


class MnistSplit(NamedTuple):
    """Training and test images (N, H, W) in [0, 1] with their labels, and where they came from."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def is_mnist(self) -> bool:
        """True for real 28x28 MNIST digits, False for the 8x8 fallback."""
        return self.X_train.shape[1:] == (28, 28)


def book_mnist(
    n_train: int = 8000, n_test: int = 2000, *, data_dir: str | os.PathLike | None = None
) -> MnistSplit:
    """The book's MNIST split: the first ``n_train`` images of MNIST's test set to train on, the last ``n_test`` to test.

    MNIST is looked for, without downloading, in ``data_dir``, then where ``load_mnist`` keeps it
    (``$NNLAB_DATA_DIR`` or the user's cache), then in a developer's checkout. Where none has it, the
    split comes from scikit-learn's 8x8 digits (1,797 images: 1,437 to train, 360 to test) and
    ``source`` says so, in a sentence a notebook prints (no warning on stderr).

    Shapes: -> X_train (n_train, 28, 28), y_train (n_train,), X_test (n_test, 28, 28), y_test (n_test,).

    Example:
        >>> split = book_mnist(data_dir="no-such-folder", n_train=100, n_test=50)   # doctest: +SKIP
        >>> split.source                                                          # doctest: +SKIP
        "scikit-learn's 8x8 digits, not MNIST: ..."
    """
    from ..data import load_mnist

    if n_train < 1 or n_test < 1 or n_train + n_test > 10_000:
        raise ValueError(
            f"book_mnist expected n_train + n_test at most 10,000 (MNIST's test set), each at least 1;"
            f" got n_train={n_train}, n_test={n_test}."
        )
    folders = [data_dir] if data_dir is not None else [None, _CHECKOUT_MNIST]
    for folder in folders:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            X, y = load_mnist("test", data_dir=folder, download=False, fallback="digits")
        if X.shape[1:] == (28, 28):
            source = f"MNIST: {n_train:,} training and {n_test:,} test images from its 10,000-image test set"
            return MnistSplit(X[:n_train], y[:n_train], X[-n_test:], y[-n_test:], source)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X_train, y_train = load_mnist("train", data_dir=folders[0], download=False, fallback="digits")
    why = str(caught[0].message).split(" because ", 1)[-1].rstrip(".") if caught else "MNIST was not found"
    source = f"scikit-learn's 8x8 digits, not MNIST, because {why}"
    return MnistSplit(X_train[:n_train], y_train[:n_train], X[:n_test], y[:n_test], source)


def pad_to_32(X: np.ndarray) -> np.ndarray:
    """MNIST's 28x28 digits padded with 2 rows and columns of zeros on each side, as LeNet-5 expects.

    Shapes: X (N, 28, 28) -> (N, 1, 32, 32). Smaller images (the 8x8 fallback) are padded to 32x32 too.
    """
    X = np.asarray(X, dtype=np.float32)
    top, left = (32 - X.shape[1]) // 2, (32 - X.shape[2]) // 2
    pad = ((0, 0), (top, 32 - X.shape[1] - top), (left, 32 - X.shape[2] - left))
    return np.pad(X, pad)[:, None]


def confusion_matrix(y_true, y_pred, classes: int = 10) -> np.ndarray:
    r"""$C_{ij}$ = how many examples of class $i$ were predicted as class $j$. Shapes: (n,), (n,) -> (K, K).

    Example:
        >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], classes=3)
        array([[1, 0, 0],
               [0, 1, 1],
               [0, 0, 1]])
    """
    C = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(C, (np.asarray(y_true), np.asarray(y_pred)), 1)  # C[y, ŷ] += 1 for every example
    return C


def worst_classified(proba: np.ndarray, y: np.ndarray, k: int = 8) -> np.ndarray:
    """The indices of the ``k`` examples whose true class got the lowest probability, worst first.

    Shapes: proba (n, K), y (n,) -> (k,).
    """
    p_true = np.asarray(proba)[np.arange(len(y)), np.asarray(y)]  # the probability of the right class
    return np.argsort(p_true, kind="stable")[:k]


def mistakes(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The indices of the misclassified examples, the most confident mistake first.

    Confidence is the probability the network gave its (wrong) answer ŷ = arg max.

    Shapes: proba (n, K), y (n,) -> (m,), m = the number of mistakes.
    """
    proba, y = np.asarray(proba), np.asarray(y)
    y_hat = proba.argmax(axis=1)  # the network's answer
    wrong = np.flatnonzero(y_hat != y)
    return wrong[np.argsort(-proba[wrong, y_hat[wrong]], kind="stable")]


def mistakes_browser(X: np.ndarray, y: np.ndarray, proba: np.ndarray):
    r"""Lesson: step through the network's mistakes, the most confident first: the digit and its 10 probabilities.

    The slider k picks the k-th mistake of ``mistakes(proba, y)``; the figure shows the image and a bar
    per class, the true class y in green and the answer ŷ in vermillion.

    Shapes: X (n, H, W) or (n, 1, H, W), y (n,), proba (n, K).

    Chapter: 9, a first network on MNIST.
    """
    from matplotlib.figure import Figure

    from .._checks import fail
    from ._core import Lesson, int_slider

    X, y, proba = np.asarray(X), np.asarray(y), np.asarray(proba)
    if X.ndim not in (3, 4) or y.ndim != 1 or proba.ndim != 2 or not len(X) == len(y) == len(proba):
        raise fail(
            "mistakes_browser",
            "expected images X (n, H, W), labels y (n,) and probabilities proba (n, K) for the same n;"
            f" got X {X.shape}, y {y.shape}, proba {proba.shape}.",
            "Pass the test images, their labels and the network's softmax outputs for them.",
        )
    X = X.reshape(len(y), *X.shape[-2:])
    order = mistakes(proba, y)
    if len(order) == 0:
        raise fail("mistakes_browser", "found no mistakes to show: every example is classified right.")
    classes = proba.shape[1]
    fig = Figure(figsize=(7.0, 3.0), layout="constrained")
    ax_img, ax_bar = fig.subplots(1, 2, width_ratios=[1, 1.6])
    image = ax_img.imshow(X[order[0]], cmap="gray_r", vmin=0, vmax=max(1.0, float(X.max())))
    ax_img.set_xticks([])
    ax_img.set_yticks([])
    bars = ax_bar.bar(range(classes), np.zeros(classes), color="#BBBBBB")
    ax_bar.set_ylim(0, 1)
    ax_bar.set_xticks(range(classes))
    ax_bar.set_xlabel("class")
    ax_bar.set_ylabel("probability")

    def draw(k: int) -> str:
        i = order[k]  # the k-th most confident mistake
        p, y_hat = proba[i], int(proba[i].argmax())
        image.set_data(X[i])
        for c, bar in enumerate(bars):
            bar.set_height(p[c])
            bar.set_color(VERMILLION if c == y_hat else GREEN if c == y[i] else "#BBBBBB")
        ax_img.set_title(f"test image {i}: y = {y[i]}, ŷ = {y_hat}")
        ax_bar.set_title(f"p(ŷ = {y_hat}) = {p[y_hat]:.2f}, p(y = {y[i]}) = {p[y[i]]:.2f}")
        return f"mistake {k + 1} of {len(order)}"

    sliders = {"k": int_slider("k-th mistake", 0, 0, len(order) - 1)}
    return Lesson(sliders, fig, draw, title="The network's mistakes, the most confident first")


def confusion_figure(C: np.ndarray, title: str = "Confusion matrix"):
    """The confusion matrix as an image with its counts written in; rows: true class, columns: predicted."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 4.6), layout="constrained")
    ax = fig.add_subplot()
    off = C.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    image = ax.imshow(np.log1p(C), cmap="Blues")
    for i, j in np.ndindex(C.shape):
        if C[i, j]:
            colour = "white" if C[i, j] > C.max() / 2 else "black"
            ax.text(j, i, str(C[i, j]), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(C.shape[1]))
    ax.set_yticks(range(C.shape[0]))
    ax.set_xlabel("predicted class ŷ")
    ax.set_ylabel("true class y")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    return fig


def worst_figure(X: np.ndarray, y: np.ndarray, proba: np.ndarray, k: int = 8):
    """The ``k`` worst-classified images with their true class, the answer, and the answer's probability."""
    from matplotlib.figure import Figure

    order = worst_classified(proba, y, k)
    fig = Figure(figsize=(1.5 * k, 2.0), layout="constrained")
    for ax, i in zip(fig.subplots(1, k), order):
        ax.imshow(X[i], cmap="gray_r")
        guess = int(np.argmax(proba[i]))
        ax.set_title(f"y = {y[i]}, ŷ = {guess}\np(ŷ) = {proba[i, guess]:.2f}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


class _LiveCurves:
    """A loss-and-accuracy figure redrawn in place after every epoch (a display handle, no widgets)."""

    def __init__(self, epochs: int, title: str) -> None:
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(9, 3.2), layout="constrained")
        self.ax_loss, self.ax_acc = self.figure.subplots(1, 2)
        (self.train_loss,) = self.ax_loss.plot([], [], "o-", color=BLUE, label="training loss")
        (self.test_loss,) = self.ax_loss.plot([], [], "s-", color=VERMILLION, label="test loss")
        (self.train_acc,) = self.ax_acc.plot([], [], "o-", color=BLUE, label="training accuracy")
        (self.test_acc,) = self.ax_acc.plot([], [], "s-", color=VERMILLION, label="test accuracy")
        for ax, what in ((self.ax_loss, "cross-entropy loss L"), (self.ax_acc, "accuracy")):
            ax.set_xlim(0.5, epochs + 0.5)
            ax.set_xlabel("epoch")
            ax.set_ylabel(what)
            ax.legend(fontsize=8)
        self.figure.suptitle(title)
        self.handle = None

    def update(self, history: dict[str, list[float]]) -> None:
        epochs = np.arange(1, len(history["train_loss"]) + 1)
        for line, key in ((self.train_loss, "train_loss"), (self.test_loss, "val_loss"),
                          (self.train_acc, "train_acc"), (self.test_acc, "val_acc")):  # fmt: skip
            line.set_data(epochs, history[key])
        losses = history["train_loss"] + history["val_loss"]
        self.ax_loss.set_ylim(0, max(losses) * 1.1)
        accs = history["train_acc"] + history["val_acc"]
        self.ax_acc.set_ylim(min(accs) - 0.02, 1.0)
        self._show()

    def _show(self) -> None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        if get_ipython() is None:
            return
        from IPython.display import Image, display

        image = Image(self._png())
        if self.handle is None:
            self.handle = display(image, display_id=True)
        else:
            self.handle.update(image)

    def _png(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()


def train_live(
    fit: Any,
    model: Any,
    loss: Any,
    optimizer: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    test: tuple[np.ndarray, np.ndarray],
    title: str = "Learning, epoch by epoch",
    live: bool = True,
    progress: bool = True,
    rng: Any = 0,
    **fit_kwargs: Any,
) -> tuple[dict[str, list[float]], Any]:
    """Train with ``fit`` (``np_nn.fit`` or ``torch_nn.fit``) one epoch at a time, redrawing the curves after each.

    Each epoch is one call ``fit(model, loss, optimizer, X, y, epochs=1, validation=test, ...)``; the
    optimizer keeps its state (momentum) from call to call and one random generator shuffles every
    epoch, so this is ``epochs`` epochs of ordinary training. In a notebook the figure shows after
    the first epoch and is redrawn in place (no widgets needed), under a progress bar over the
    epochs (``progress=False`` or ``NNLAB_PROGRESS=0`` hides it). Returns the per-epoch history
    (``train_loss``, ``train_acc``, ``val_loss`` and ``val_acc``, the last two on ``test``) and the figure.
    """
    from tqdm.auto import tqdm

    from .._training import progress_enabled

    rng = np.random.default_rng(rng)
    curves = _LiveCurves(epochs, title) if live else None
    history: dict[str, list[float]] = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    bar = tqdm(range(epochs), desc=title, unit="epoch", disable=not progress_enabled(progress), leave=False)
    for _ in bar:
        h = fit(
            model, loss, optimizer, X, y, epochs=1, validation=test, rng=rng, progress=False, **fit_kwargs
        )
        for key in history:
            history[key].append(float(getattr(h, key)[-1]))
        bar.set_postfix(
            {"loss": f"{history['train_loss'][-1]:.4f}", "test acc": f"{history['val_acc'][-1]:.2%}"}
        )
        if curves is not None:
            curves.update(history)
    bar.close()
    return history, (curves.figure if curves is not None else None)
