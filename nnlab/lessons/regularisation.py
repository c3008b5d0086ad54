r"""Overfitting and its remedies: L2 and L1, early stopping, cross-validation, dropout, more data.

Kheradpisheh's lecture shows overfitting in five inputs: two weight vectors fit the same four
examples exactly. The remedies follow Honchar's and Olteanu's lectures. L2 adds
$\frac{\lambda}{2n}\sum_w w^2$ to the cost, so every step first shrinks each weight,

$$w \leftarrow \Big(1 - \frac{\eta\lambda}{n}\Big) w - \eta\,\frac{\partial C_0}{\partial w};$$

L1 adds $\frac{\lambda}{n}\sum_w |w|$ and moves each weight by a constant amount towards 0,
$w \leftarrow w - \frac{\eta\lambda}{n}\,\mathrm{sgn}(w) - \eta\,\frac{\partial C_0}{\partial w}$. Biases are left out
of both. Dropout zeroes each hidden unit with probability $p$ during training and uses the whole
network, scaled by $1 - p$, at test time.

The lessons are ``weight_decay`` (a λ slider: the first layer's weights and the validation curve)
and ``dropout_rate`` (a slider for $p$: training and validation curves). Both draw from training runs
that are computed once (``runs``) and cached, so a slider move only redraws.

Chapter: 6, overfitting, regularisation and dropout.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..data import OVERFIT_W, TRUE_W, batches, overfitting_table
from .initialisation import one_blas_thread, real_digits

__all__ = [
    "LAMBDAS",
    "OVERFIT_W",
    "RATES",
    "TRUE_W",
    "Run",
    "adversarial",
    "bagging",
    "digits",
    "dropout_rate",
    "dropout_rate_figure",
    "k_fold",
    "l1_step",
    "l2_step",
    "network",
    "noisy",
    "overfitting_table",
    "runs",
    "shifted",
    "table_diagram",
    "train",
    "weight_decay",
    "weight_decay_figure",
]

from ._core import BLUE, GREEN, GREY, ORANGE, PURPLE, SKY, VERMILLION  # noqa: F401 (the lessons' shared colours)

LAMBDAS = (0.0, 1.0, 3.0, 10.0, 30.0)
"""The regularisation strengths λ the ``weight_decay`` lesson has runs for."""

RATES = (0.0, 0.2, 0.5, 0.8)
"""The dropout rates p the ``dropout_rate`` lesson has runs for."""


# ----------------------------------------------------------------------------- update rules
def l2_step(w: np.ndarray, grad: np.ndarray, lr: float, lam: float, n: int) -> np.ndarray:
    r"""One gradient step with L2 regularisation (weight decay), in place; returns ``w``.

    $$w \leftarrow \Big(1 - \frac{\eta\lambda}{n}\Big) w - \eta\,\frac{\partial C_0}{\partial w}$$

    ``grad`` is $\partial C_0/\partial w$ of the unregularised cost, ``n`` the number of training examples.

    Example:
        >>> l2_step(np.array([1.0, -2.0]), np.zeros(2), lr=0.5, lam=1.0, n=5)
        array([ 0.9, -1.8])
    """
    w *= 1 - lr * lam / n  # w ← (1 − ηλ/n) w
    w -= lr * grad  # w ← w − η ∂C₀/∂w
    return w


def l1_step(w: np.ndarray, grad: np.ndarray, lr: float, lam: float, n: int) -> np.ndarray:
    r"""One gradient step with L1 regularisation, in place; returns ``w``.

    $$w \leftarrow w - \frac{\eta\lambda}{n}\,\mathrm{sgn}(w) - \eta\,\frac{\partial C_0}{\partial w}$$

    Every weight moves the same distance $\eta\lambda/n$ towards 0, whatever its size.

    Example:
        >>> l1_step(np.array([1.0, -2.0, 0.0]), np.zeros(3), lr=0.5, lam=1.0, n=5)
        array([ 0.9, -1.9,  0. ])
    """
    w -= lr * lam / n * np.sign(w)  # w ← w − (ηλ/n) sgn(w)
    w -= lr * grad  # w ← w − η ∂C₀/∂w
    return w


# ----------------------------------------------------------------------------- training runs
class Run(NamedTuple):
    """One training run: per-epoch curves, the first layer's weights at the end, and the trained network."""

    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    W1: np.ndarray
    net: object


def network(d_in: int, hidden: int = 64, p: float = 0.0, seed: int = 0):
    """The chapter's network: ``Linear(d_in, hidden)`` (He), ReLU, ``Dropout(p)``, ``Linear(hidden, 10)``.

    In float64, so that the book's numbers do not depend on how many threads the matrix products use.
    """
    from .. import np_nn as nn

    return nn.Sequential(
        nn.Linear(d_in, hidden, init="he", rng=seed, dtype=np.float64),
        nn.ReLU(),
        nn.Dropout(p, rng=seed + 2),
        nn.Linear(hidden, 10, rng=seed + 1, dtype=np.float64),
    )


def train(
    X_train,
    y_train,
    X_val,
    y_val,
    *,
    lam: float = 0.0,
    l1: bool = False,
    p: float = 0.0,
    hidden: int = 64,
    epochs: int = 30,
    lr: float = 0.2,
    batch_size: int = 25,
    seed: int = 0,
) -> Run:
    r"""Train a ``D_in``-``hidden``-10 ReLU network (dropout ``p`` on the hidden layer) and record its curves.

    Minibatch SGD on the cross-entropy; the weights (not the biases) take ``l2_step`` with strength
    ``lam`` (``l1_step`` with ``l1=True``). After every epoch the loss and accuracy on the whole
    training and validation sets are measured in ``eval()`` mode (dropout off).
    """
    from .. import np_nn as nn

    n = len(y_train)
    net = network(X_train.shape[1], hidden, p, seed)
    loss, rng = nn.CrossEntropyLoss(), np.random.default_rng(seed)
    step = l1_step if l1 else l2_step
    curves = np.zeros((epochs, 4))
    with one_blas_thread():  # small matrices: a second BLAS thread only slows them down
        for epoch in range(epochs):
            net.train()
            for xb, yb in batches(X_train, y_train, batch_size, rng):
                loss(net(xb), yb)
                net.backward(loss.backward())
                for name, w in net.params.items():
                    if name.endswith("W"):
                        step(w, net.grads[name], lr, lam, n)  # weights: regularised
                    else:
                        w -= lr * net.grads[name]  # biases: b ← b − η ∂C₀/∂b, not regularised
            net.eval()
            for column, (X, y) in enumerate(((X_train, y_train), (X_val, y_val))):
                out = net(X)
                curves[epoch, column] = loss(out, y)
                curves[epoch, 2 + column] = np.mean(out.argmax(axis=1) == y)
    return Run(curves[:, 0], curves[:, 1], curves[:, 2], curves[:, 3], net.params["0.W"].copy(), net)


@functools.lru_cache(maxsize=4)
def _data(data_dir: str | None, n_train: int, n_val: int):
    return real_digits(data_dir, n_train=n_train, n_val=n_val, rng=1)


@functools.lru_cache(maxsize=32)
def _run(data_dir, n_train, n_val, lam, p, epochs) -> Run:
    d = _data(data_dir, n_train, n_val)
    return train(d.X_train, d.y_train, d.X_val, d.y_val, lam=lam, p=p, epochs=epochs)


def runs(
    kind: str, data_dir=None, *, n_train: int = 500, n_val: int = 1000, epochs: int = 30
) -> dict[float, Run]:
    """The cached training runs behind a lesson: ``kind="lambda"`` (one per ``LAMBDAS``) or ``"dropout"`` (``RATES``).

    Each run trains the same 64-hidden-unit ReLU network on the same ``n_train`` real digits
    (``real_digits``), validated on ``n_val`` others; computed once per setting and kept.
    """
    key = None if data_dir is None else str(data_dir)
    if kind == "lambda":
        return {lam: _run(key, n_train, n_val, lam, 0.0, epochs) for lam in LAMBDAS}
    if kind == "dropout":
        return {p: _run(key, n_train, n_val, 0.0, p, epochs) for p in RATES}
    raise ValueError(f"expected kind 'lambda' or 'dropout'; got {kind!r}.")


def digits(data_dir=None, *, n_train: int = 500, n_val: int = 1000):
    """The real digits the cached runs train on (``real_digits``: MNIST, or the 8x8 fallback), loaded once."""
    return _data(None if data_dir is None else str(data_dir), n_train, n_val)


# ----------------------------------------------------------------------------- validation, ensembles, data
def k_fold(n: int, k: int, rng=0) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""Split ``n`` examples into ``k`` folds; returns ``k`` pairs (training indices, validation indices).

    Every example is in exactly one validation fold, and each round trains on the other $k - 1$.

    Example:
        >>> [len(v) for _, v in k_fold(10, 5)]
        [2, 2, 2, 2, 2]
    """
    if not 2 <= k <= n:
        raise ValueError(f"k_fold expected 2 <= k <= n; got k={k} for n={n} examples.")
    folds = np.array_split(np.random.default_rng(rng).permutation(n), k)
    return [(np.concatenate(folds[:i] + folds[i + 1 :]), folds[i]) for i in range(k)]


def bagging(fit_predict, X, y, X_test, *, k: int = 5, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""Breiman's bagging: ``k`` models, each trained on n examples drawn with replacement, vote by majority.

    ``fit_predict(X_boot, y_boot, X_test)`` trains one model and returns its predicted classes.
    Returns the majority vote and the ``k`` models' own predictions (k, N_test).
    """
    gen = np.random.default_rng(rng)
    votes = []
    for _ in range(k):
        sample = gen.integers(0, len(y), size=len(y))  # n draws with replacement
        votes.append(fit_predict(X[sample], y[sample], X_test))
    votes = np.array(votes)
    counts = np.stack([(votes == c).sum(axis=0) for c in range(int(votes.max()) + 1)])
    return counts.argmax(axis=0), votes  # the class most models chose


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images (N, H, W) moved ``dy`` pixels down and ``dx`` right, filled with 0 where they moved away from.

    Example:
        >>> shifted(np.eye(3)[None], 0, 1)[0].astype(int).tolist()
        [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    """
    out = np.zeros_like(images)
    H, W = images.shape[1:]
    out[:, max(dy, 0) : H + min(dy, 0), max(dx, 0) : W + min(dx, 0)] = images[
        :, max(-dy, 0) : H + min(-dy, 0), max(-dx, 0) : W + min(-dx, 0)
    ]
    return out


def noisy(images: np.ndarray, std: float, rng=0) -> np.ndarray:
    """Images with N(0, std²) noise added to every pixel, clipped back to [0, 1]."""
    gen = np.random.default_rng(rng)
    return np.clip(images + gen.normal(0.0, std, size=images.shape), 0.0, 1.0).astype(images.dtype)


# ----------------------------------------------------------------------------- adversarial examples
def adversarial(net, loss, x: np.ndarray, y: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    r"""The fast gradient sign method (Goodfellow et al.): move every pixel by ε in the direction that raises the loss.

    $$\tilde x = x + \epsilon\,\mathrm{sign}\big(\nabla_x J(\theta, x, y)\big)$$

    $\nabla_x J$ is what ``net.backward`` returns: the gradient with respect to the input. The result
    is clipped to the pixel range [0, 1]. Returns ``(x_adv, grad_x)``. Shapes: x (N, D), y (N,).
    """
    net.eval()
    loss(net(x), y)
    grad_x = net.backward(loss.backward())  # ∇ₓJ(θ, x, y)
    x_adv = np.clip(x + eps * np.sign(grad_x), 0.0, 1.0)  # x̃ = x + ε sign(∇ₓJ)
    return x_adv.astype(x.dtype), grad_x


def table_diagram():
    """A drawing of the five-input neuron with both weight vectors of the overfitting table on its edges."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ys = np.linspace(2, -2, 5)
    for i, (y, w_true, w_over) in enumerate(zip(ys, TRUE_W, OVERFIT_W)):
        ax.plot([0, 3], [y, 0], color=GREY, linewidth=1, zorder=1)
        ax.add_patch(_circle((0, y)))
        ax.text(0, y, f"$x_{i + 1}$", ha="center", va="center", fontsize=10)
        ax.text(1.3, y * 0.57 + 0.12, f"{w_true:g}", color=BLUE, ha="right", fontsize=10)
        ax.text(1.45, y * 0.52 + 0.12, f"| {w_over:g}", color=VERMILLION, ha="left", fontsize=10)
    ax.add_patch(_circle((3, 0)))
    ax.text(3, 0, r"$\hat y$", ha="center", va="center", fontsize=11)
    ax.text(3.4, 0.5, "correct W = (2, 0, 0, 0, 0)", color=BLUE, fontsize=9)
    ax.text(3.4, -0.6, "overfitted W = (0, 2, 4, 6, 8)", color=VERMILLION, fontsize=9)
    ax.set_xlim(-0.5, 6.5)
    ax.set_ylim(-2.6, 2.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(r"$\hat y = \sum_i w_i x_i$: both weight vectors fit the four rows exactly", fontsize=10)
    return fig


def _circle(centre):
    from matplotlib.patches import Circle

    return Circle(centre, 0.32, facecolor="white", edgecolor="black", zorder=2)


# ----------------------------------------------------------------------------- lesson: weight decay
_W_EDGES = np.linspace(-0.3, 0.3, 61)


def _curve_axes(fig_or_axes):
    ax_hist, ax_curve = fig_or_axes
    ax_hist.set_xlabel("first-layer weight w  (beyond ±0.3 counted in the end bins)")
    ax_hist.set_ylabel("share of the weights per bin of width 0.01")
    ax_curve.set_xlabel("epoch")
    ax_curve.set_ylabel("cross-entropy loss")
    return ax_hist, ax_curve


def _weight_shares(W: np.ndarray) -> np.ndarray:
    return np.histogram(np.clip(W, _W_EDGES[0], _W_EDGES[-1]), _W_EDGES)[0] / W.size


def weight_decay(lam: float = 10.0, data_dir=None):
    r"""Lesson: the L2 strength λ against the first layer's weights and the loss curves.

    Left, the histogram of the trained first-layer weights for the chosen λ (grey outline: λ = 0);
    right, the training and validation loss per epoch for that λ (dotted: λ = 0). Larger λ pulls the
    weights towards 0 and holds the training loss up; the validation loss no longer climbs at the end.

    Slider ``lam``: the values in ``LAMBDAS``; every run is computed once (``runs("lambda")``).
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ._core import SLIDER_STYLE, Lesson

    results = runs("lambda", data_dir)
    base = results[0.0]
    epochs = np.arange(1, len(base.val_loss) + 1)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_hist, ax_curve = _curve_axes(fig.subplots(1, 2))
    centres = (_W_EDGES[:-1] + _W_EDGES[1:]) / 2
    ax_hist.step(centres, _weight_shares(base.W1), where="mid", color=GREY, label="λ = 0")
    shares = {lam: _weight_shares(run.W1) for lam, run in results.items()}  # histograms computed once
    bars = ax_hist.stairs(shares[lam], _W_EDGES, fill=True, color=BLUE, alpha=0.8, label="chosen λ")
    ax_hist.set_ylim(0, max(h.max() for h in shares.values()) * 1.1)
    ax_hist.legend(fontsize=8)
    ax_curve.plot(epochs, base.train_loss, ":", color=SKY, label="training, λ = 0")
    ax_curve.plot(epochs, base.val_loss, ":", color=ORANGE, label="validation, λ = 0")
    (train_line,) = ax_curve.plot(epochs, base.train_loss, color=BLUE, label="training, chosen λ")
    (val_line,) = ax_curve.plot(epochs, base.val_loss, color=VERMILLION, label="validation, chosen λ")
    top = max(max(r.val_loss.max(), r.train_loss.max()) for r in results.values())
    ax_curve.set_ylim(0, top * 1.05)
    ax_curve.legend(fontsize=8)

    def draw(lam: float) -> str:
        run = results[lam]
        bars.set_data(values=shares[lam])  # the bins stay, the heights change
        train_line.set_ydata(run.train_loss)
        val_line.set_ydata(run.val_loss)
        mean_abs = np.abs(run.W1).mean()
        ax_hist.set_title(f"λ = {lam:g}: mean |w| = {mean_abs:.4f} (λ = 0: {np.abs(base.W1).mean():.4f})")
        ax_curve.set_title(f"validation loss: lowest {run.val_loss.min():.3f}, last {run.val_loss[-1]:.3f}")
        return (
            f"λ = {lam:g}: mean |w| {mean_abs:.4f};  last epoch: training loss {run.train_loss[-1]:.3f},"
            f" validation loss {run.val_loss[-1]:.3f}, validation accuracy {run.val_acc[-1]:.1%}"
        )

    choice = widgets.SelectionSlider(
        options=list(LAMBDAS), value=lam, description="λ (L2)", continuous_update=True, style=SLIDER_STYLE
    )
    return Lesson(
        {"lam": choice}, fig, draw, title="L2 regularisation: smaller weights, a flatter validation curve"
    )


def weight_decay_figure(values=(0.0, 3.0, 30.0), data_dir=None):
    """The static version of ``weight_decay``: weights and loss curves for three strengths."""
    from matplotlib.figure import Figure

    results = runs("lambda", data_dir)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_hist, ax_curve = _curve_axes(fig.subplots(1, 2))
    centres = (_W_EDGES[:-1] + _W_EDGES[1:]) / 2
    for lam, colour in zip(values, (GREY, BLUE, VERMILLION)):
        run = results[lam]
        epochs = np.arange(1, len(run.val_loss) + 1)
        ax_hist.step(centres, _weight_shares(run.W1), where="mid", color=colour, label=f"λ = {lam:g}")
        ax_curve.plot(epochs, run.train_loss, ":", color=colour)
        ax_curve.plot(epochs, run.val_loss, color=colour, label=f"λ = {lam:g}")
    ax_hist.legend(fontsize=8)
    ax_curve.legend(fontsize=8, title="validation (solid), training (dotted)", title_fontsize=8)
    ax_hist.set_title("The trained first-layer weights")
    ax_curve.set_title("Loss per epoch")
    return fig


# ----------------------------------------------------------------------------- lesson: dropout rate
def _dropout_axes(ax_loss, ax_acc):
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")


def dropout_rate(p: float = 0.5, data_dir=None):
    r"""Lesson: the dropout rate $p$ against training and validation curves.

    Left, the training and validation loss per epoch; right, the accuracies; dotted, the same
    network without dropout. Both are measured with the whole network (dropout off). Moderate
    rates reach a lower validation loss; large ones keep even the training loss up.

    Slider ``p``: the values in ``RATES``; every run is computed once (``runs("dropout")``).
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ._core import SLIDER_STYLE, Lesson

    results = runs("dropout", data_dir)
    base = results[0.0]
    epochs = np.arange(1, len(base.val_loss) + 1)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    _dropout_axes(ax_loss, ax_acc)
    ax_loss.plot(epochs, base.train_loss, ":", color=SKY, label="training, p = 0")
    ax_loss.plot(epochs, base.val_loss, ":", color=ORANGE, label="validation, p = 0")
    ax_acc.plot(epochs, base.val_acc, ":", color=ORANGE, label="validation, p = 0")
    lines = {
        "train_loss": ax_loss.plot(epochs, base.train_loss, color=BLUE, label="training, chosen p")[0],
        "val_loss": ax_loss.plot(epochs, base.val_loss, color=VERMILLION, label="validation, chosen p")[0],
        "train_acc": ax_acc.plot(epochs, base.train_acc, color=BLUE, label="training, chosen p")[0],
        "val_acc": ax_acc.plot(epochs, base.val_acc, color=VERMILLION, label="validation, chosen p")[0],
    }
    top = max(max(r.val_loss.max(), r.train_loss.max()) for r in results.values())
    ax_loss.set_ylim(0, top * 1.05)
    low = min(r.val_acc.min() for r in results.values())
    ax_acc.set_ylim(low - 0.02, 1.005)
    ax_loss.legend(fontsize=8)
    ax_acc.legend(fontsize=8, loc="lower right")

    def draw(p: float) -> str:
        run = results[p]
        for name, line in lines.items():
            line.set_ydata(getattr(run, name))
        ax_loss.set_title(
            f"p = {p:g}: validation loss lowest {run.val_loss.min():.3f}, last {run.val_loss[-1]:.3f}"
        )
        ax_acc.set_title(f"validation accuracy, last epoch {run.val_acc[-1]:.1%}")
        return (
            f"p = {p:g}: last epoch training loss {run.train_loss[-1]:.3f}, validation loss"
            f" {run.val_loss[-1]:.3f}, validation accuracy {run.val_acc[-1]:.1%}"
        )

    choice = widgets.SelectionSlider(
        options=list(RATES), value=p, description="dropout rate p", continuous_update=True, style=SLIDER_STYLE
    )
    return Lesson({"p": choice}, fig, draw, title="Dropout: training thinned networks")


def dropout_rate_figure(values=(0.0, 0.5, 0.8), data_dir=None):
    """The static version of ``dropout_rate``: loss and accuracy curves for three rates."""
    from matplotlib.figure import Figure

    results = runs("dropout", data_dir)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    _dropout_axes(ax_loss, ax_acc)
    for p, colour in zip(values, (GREY, BLUE, VERMILLION)):
        run = results[p]
        epochs = np.arange(1, len(run.val_loss) + 1)
        ax_loss.plot(epochs, run.train_loss, ":", color=colour)
        ax_loss.plot(epochs, run.val_loss, color=colour, label=f"p = {p:g}")
        ax_acc.plot(epochs, run.val_acc, color=colour, label=f"p = {p:g}")
    ax_loss.legend(fontsize=8, title="validation (solid), training (dotted)", title_fontsize=8)
    ax_acc.legend(fontsize=8, loc="lower right")
    ax_loss.set_title("Loss per epoch")
    ax_acc.set_title("Validation accuracy per epoch")
    return fig
