r"""A training playground in the spirit of TensorFlow Playground: watch a small network learn a 2-D set.

The network is one hidden layer between two inputs and one output,

$$z^1 = x W^{1\top} + b^1,\quad a^1 = g(z^1),\quad z^2 = a^1 W^{2\top} + b^2,\quad
  \hat y = \sigma(z^2),$$

trained by minibatch stochastic gradient descent with learning rate $\eta$ on the cross-entropy
$L = -\frac{1}{N}\sum [y \ln \hat y + (1 - y)\ln(1 - \hat y)]$ (``BCEWithLogitsLoss``), on one of the
two-class sets of ``nnlab.data`` (``xor_quadrants``, ``circles``, ``two_gaussians``, ``spirals``).
``train`` keeps the weights after every epoch and never trains an epoch twice, so the lesson's epoch
slider mostly looks a state up and redraws at once; the other sliders start a new run (a fraction of a
second), which is then kept too.

With ``activation="linear"`` the two layers collapse into one, $x W^{1\top} W^{2\top} + \dots$, a
single straight line: the playground then fails on XOR and circles, as chapter 1 says it must.

Chapter: 1, the perceptron (and 2, gradient descent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import data
from .. import np_nn as nn
from .._checks import NonFiniteError, fail
from ._core import SLIDER_STYLE, Lesson, int_slider

__all__ = [
    "ACTIVATIONS",
    "DATASETS",
    "LEARNING_RATES",
    "PlaygroundRun",
    "playground_data",
    "playground_figure",
    "train",
    "training_playground",
]

ORANGE, BLUE = "#E69F00", "#0072B2"
DATASETS = {
    "xor": data.xor_quadrants,
    "circles": data.circles,
    "two gaussians": data.two_gaussians,
    "spirals": data.spirals,
}
"""The playground's data sets, by name: functions of ``nnlab.data`` returning (X (n, 2), y (n,))."""
ACTIVATIONS = ("tanh", "ReLU", "sigmoid", "linear")
"""The hidden layer's activation g; "linear" means none (g(z) = z)."""
LEARNING_RATES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
"""The learning rates η the lesson's slider offers (TensorFlow Playground offers the same kind of ladder)."""
EXTENT = 1.5
"""The plane shown: [-1.5, 1.5] in both coordinates."""
GRID = 101
"""Points per side of the grid the decision regions are evaluated on."""


def _activation(name: str):
    layers = {"tanh": nn.Tanh, "ReLU": nn.ReLU, "sigmoid": nn.Sigmoid}
    return [layers[name]()] if name in layers else []  # "linear": no activation at all


def _check_choice(value, choices, *, name: str) -> None:
    if value not in choices:
        raise fail("playground", f"expected {name} to be one of {list(choices)}; got {value!r}.")


def playground_data(dataset: str = "circles", *, n: int = 200, noise: float = 0.1):
    """The training set (seed 0) and a test set of the same size (seed 1) of one playground set.

    Shapes: -> (X_train (n, 2), y_train (n,), X_test (n, 2), y_test (n,)), float64 inputs, int labels.

    Example:
        >>> X, y, X_test, y_test = playground_data("xor")
        >>> X.shape, X_test.shape
        ((200, 2), (200, 2))

    Chapter: 1, the perceptron.
    """
    _check_choice(dataset, DATASETS, name="dataset")
    X, y = DATASETS[dataset](n, noise=noise, rng=0)
    X_test, y_test = DATASETS[dataset](n, noise=noise, rng=1)
    return X.astype(np.float64), y, X_test.astype(np.float64), y_test


@dataclass
class PlaygroundRun:
    """One training run, with the weights after every epoch (``params[0]`` are the initial weights).

    ``train_loss[k]``, ``test_loss[k]``, ``train_acc[k]``, ``test_acc[k]``: the cross-entropy and
    the accuracy of the weights after ``k`` epochs on the training and test sets. If the weights blow
    up (a learning rate far too large), ``diverged_at`` is the epoch it happened in, and every later
    entry is NaN.
    """

    dataset: str
    hidden: int
    activation: str
    lr: float
    network: nn.Sequential
    params: list[dict[str, np.ndarray]] = field(default_factory=list)
    train_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    test_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    train_acc: np.ndarray = field(default_factory=lambda: np.empty(0))
    test_acc: np.ndarray = field(default_factory=lambda: np.empty(0))
    diverged_at: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.params) - 1

    def probability(self, epoch: int, X: np.ndarray) -> np.ndarray:
        r"""$\hat y = \sigma(z^2)$, the probability of class 1, for the weights after ``epoch`` epochs.

        Shapes: X (M, 2) -> ŷ (M,).
        """
        if not 0 <= epoch <= self.epochs:
            raise fail("PlaygroundRun", f"expected an epoch between 0 and {self.epochs}; got {epoch!r}.")
        if self.diverged_at is not None and epoch >= self.diverged_at:
            return np.full(len(X), np.nan)  # the weights overflowed: no prediction
        for name, value in self.params[epoch].items():
            self.network.params[name][...] = value
        return nn.functional.sigmoid(self.network(X))[:, 0]  # ŷ = σ(z²)


def train(
    dataset: str = "circles",
    hidden: int = 4,
    activation: str = "tanh",
    lr: float = 0.3,
    epochs: int = 200,
    *,
    batch_size: int = 10,
    rng: int = 0,
) -> PlaygroundRun:
    r"""Train the playground's network by minibatch SGD, keeping the weights after every epoch.

    One epoch is one pass over the 200 training examples in a shuffled order, in batches of
    ``batch_size``; each batch takes one step $w \leftarrow w - \eta\,\partial L/\partial w$.
    Training is cached per setting and only ever extended: asking for 200 epochs after 50 trains
    150 more, and asking for 50 after 200 trains nothing.

    Example:
        >>> run = train("xor", hidden=4, activation="tanh", lr=0.3, epochs=100)
        >>> bool(run.train_acc[-1] > 0.95 and run.train_loss[-1] < run.train_loss[0])
        True

    Chapter: 1, the perceptron.
    """
    _check_choice(dataset, DATASETS, name="dataset")
    _check_choice(activation, ACTIVATIONS, name="activation")
    if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or hidden < 1:
        raise fail("playground", f"expected hidden to be a whole number of units >= 1; got {hidden!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise fail("playground", f"expected epochs to be a whole number >= 0; got {epochs!r}.")
    trainer = _trainer(dataset, int(hidden), activation, float(lr), int(batch_size), int(rng))
    return trainer.run(int(epochs))


class _Trainer:
    """One setting of the playground, trained epoch by epoch on demand; keeps every epoch it has seen."""

    def __init__(self, dataset, hidden, activation, lr, batch_size, seed) -> None:
        self.setting = (dataset, hidden, activation, lr)
        X, y, X_test, y_test = playground_data(dataset)
        self.train_set = (X, y[:, None].astype(np.float64))
        self.test_set = (X_test, y_test[:, None].astype(np.float64))
        self.batch_size = batch_size
        self.gen = np.random.default_rng(seed)
        self.network = nn.Sequential(
            nn.Linear(2, hidden, rng=self.gen, dtype=np.float64), *_activation(activation),
            nn.Linear(hidden, 1, rng=self.gen, dtype=np.float64),
        )  # fmt: skip
        self.loss = nn.BCEWithLogitsLoss()
        self.optimizer = nn.optim.SGD(self.network, lr=lr)
        self.params: list[dict[str, np.ndarray]] = []
        self.curves: dict[str, list[float]] = {
            "train_loss": [],
            "test_loss": [],
            "train_acc": [],
            "test_acc": [],
        }
        self.diverged_at: int | None = None
        self._record()

    @property
    def epochs(self) -> int:
        return len(self.params) - 1

    def _record(self) -> None:
        """Append the weights and the four numbers of this epoch (all or nothing)."""
        numbers = {}
        for split, (inputs, targets) in {"train": self.train_set, "test": self.test_set}.items():
            with np.errstate(over="ignore", invalid="ignore"):
                z = self.network(inputs)
                numbers[f"{split}_loss"] = self.loss(z, targets)
            numbers[f"{split}_acc"] = float(np.mean((z > 0) == (targets == 1)))
        for name, value in numbers.items():
            self.curves[name].append(value)
        self.params.append({name: w.copy() for name, w in self.network.params.items()})

    def _epoch(self) -> None:
        """One pass over the training set in shuffled minibatches."""
        X, Y = self.train_set
        order = self.gen.permutation(len(X))
        for start in range(0, len(X), self.batch_size):
            rows = order[start : start + self.batch_size]
            with np.errstate(over="ignore", invalid="ignore"):
                self.loss(self.network(X[rows]), Y[rows])  # L on the minibatch
                self.network.backward(self.loss.backward())  # ∂L/∂w for every weight
                self.optimizer.step()  # w ← w − η ∂L/∂w

    def extend(self, epochs: int) -> None:
        """Train until ``epochs`` epochs are recorded (nothing to do if they already are)."""
        while self.epochs < epochs:
            if self.diverged_at is None:
                try:
                    self._epoch()
                    self._record()
                    continue
                except NonFiniteError:  # the weights overflowed: η was far too large
                    self.diverged_at = self.epochs + 1
            for values in self.curves.values():
                values.append(np.nan)
            self.params.append(self.params[-1])  # never shown: ŷ is NaN from diverged_at on

    def run(self, epochs: int) -> PlaygroundRun:
        """The first ``epochs`` epochs, as a ``PlaygroundRun``."""
        self.extend(epochs)
        keep = slice(0, epochs + 1)
        diverged = self.diverged_at if self.diverged_at is not None and self.diverged_at <= epochs else None
        return PlaygroundRun(
            *self.setting, self.network, self.params[keep],
            *(np.array(self.curves[name][keep]) for name in ("train_loss", "test_loss", "train_acc", "test_acc")),
            diverged_at=diverged,
        )  # fmt: skip


_trainer = lru_cache(maxsize=64)(_Trainer)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    ticks = np.linspace(-EXTENT, EXTENT, GRID)
    g1, g2 = np.meshgrid(ticks, ticks)
    return ticks, np.column_stack([g1.ravel(), g2.ravel()])


def _region_colours():
    from matplotlib.colors import LinearSegmentedColormap

    # class 0 orange, class 1 blue, undecided (ŷ = 0.5) white: the dots use the same two colours
    colours = LinearSegmentedColormap.from_list("playground", ["#F5C46B", "#FFFFFF", "#7FB8DA"])
    return colours.with_extremes(bad="0.8")  # grey where the weights overflowed: no prediction


def _boundary_segments(ticks: np.ndarray, prob: np.ndarray) -> list[np.ndarray]:
    """The curve ŷ = 0.5 on the grid, as line segments (marching squares, via contourpy)."""
    import contourpy

    if not np.all(np.isfinite(prob)):
        return []
    return list(contourpy.contour_generator(ticks, ticks, prob).lines(0.5))


def _draw_regions(ax, X, y):
    """The static part of the left panel: axes, the region image and the dots; returns the movers."""
    from matplotlib.collections import LineCollection

    image = ax.imshow(
        np.full((GRID, GRID), 0.5), extent=(-EXTENT, EXTENT, -EXTENT, EXTENT), origin="lower",
        cmap=_region_colours(), vmin=0.0, vmax=1.0, interpolation="nearest",
    )  # fmt: skip
    boundary = LineCollection([], colors="black", linewidths=1.5, label="boundary ŷ = 0.5")
    ax.add_collection(boundary)
    dots = ax.scatter(X[:, 0], X[:, 1], c=_dot_colours(y), s=14, edgecolors="black", linewidths=0.3)
    ax.scatter([], [], c=ORANGE, edgecolors="black", linewidths=0.3, label="class 0 (orange region)")
    ax.scatter([], [], c=BLUE, edgecolors="black", linewidths=0.3, label="class 1 (blue region)")
    ax.set_xlim(-EXTENT, EXTENT)
    ax.set_ylim(-EXTENT, EXTENT)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
    return image, boundary, dots


def _dot_colours(y: np.ndarray) -> list[str]:
    return [BLUE if label == 1 else ORANGE for label in y]


def training_playground(
    dataset: str = "circles",
    hidden: int = 4,
    activation: str = "tanh",
    lr: float = 0.3,
    epochs: int = 50,
    *,
    max_epochs: int = 200,
) -> Lesson:
    r"""TensorFlow Playground's idea on our sliders: a one-hidden-layer network learning a 2-D set.

    Left: the decision regions the network draws after ``epochs`` epochs (orange: it answers class 0,
    blue: class 1, white: undecided, $\hat y = 0.5$, with the boundary in black) and the training
    points in the same two colours. Right: the training and test loss against the epoch, up to the
    chosen epoch. Sliders: the data set, the hidden units, their activation, the learning rate
    $\eta$ and the epoch (up to ``max_epochs``). Each setting is trained once, as far as the epoch
    slider has gone, and kept: moving the epoch slider back only looks the weights up, moving it
    forward trains just the new epochs.

    Example:
        >>> lesson = training_playground("xor", hidden=4, epochs=100)
        >>> lesson.text.split(";")[0]
        'xor, 4 tanh units, η = 0.3, after 100 epochs: train loss 0.040'

    Chapter: 1, the perceptron.
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    _check_choice(lr, LEARNING_RATES, name="lr (the slider's ladder of learning rates)")
    ticks, grid = _grid()
    X, y, _, _ = playground_data(dataset)
    figure = Figure(figsize=(9.0, 4.0), layout="constrained")
    ax, ax_loss = figure.subplots(1, 2)
    image, boundary, dots = _draw_regions(ax, X, y)
    (train_line,) = ax_loss.plot([], [], color=BLUE, label="training loss")
    (test_line,) = ax_loss.plot([], [], "--", color="#D55E00", label="test loss")
    now = ax_loss.axvline(0, color="black", linewidth=0.8)
    ax_loss.set_xlim(0, max_epochs)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss L")
    ax_loss.legend(loc="upper right", fontsize=8)
    shown = {"dataset": dataset}

    def draw(dataset: str, hidden: int, activation: str, lr: float, epochs: int) -> str:
        run = train(dataset, hidden, activation, lr, epochs)  # trains only epochs not seen before
        if dataset != shown["dataset"]:  # a new data set: move the dots (rare, so not on the fast path)
            X_new, y_new, _, _ = playground_data(dataset)
            dots.set_offsets(X_new)
            dots.set_facecolors(_dot_colours(y_new))
            shown["dataset"] = dataset
        prob = run.probability(epochs, grid).reshape(GRID, GRID)  # ŷ on the grid
        image.set_data(prob)
        boundary.set_segments(_boundary_segments(ticks, prob))
        k = np.arange(epochs + 1)
        train_line.set_data(k, run.train_loss[: epochs + 1])
        test_line.set_data(k, run.test_loss[: epochs + 1])
        now.set_xdata([epochs, epochs])
        finite = run.train_loss[np.isfinite(run.train_loss)]
        top = min(max(1.0, 1.05 * finite.max(initial=0.0)), 5.0)
        if ax_loss.get_ylim() != (0.0, top):  # new limits redraw the whole axes: only when they change
            ax_loss.set_ylim(0.0, top)
        setting_title = f"{hidden} {activation} units, η = {lr:g}"
        if ax_loss.get_title() != setting_title:  # a changed text is redrawn: change it only when needed
            ax_loss.set_title(setting_title, fontsize=10)
        setting = f"{dataset}, {hidden} {activation} units, η = {lr:g}"
        if run.diverged_at is not None and epochs >= run.diverged_at:
            ax.set_title(f"diverged in epoch {run.diverged_at}", fontsize=10)
            return f"{setting}: the weights overflowed in epoch {run.diverged_at}; lower the learning rate η"
        ax.set_title(f"after {epochs} epochs: train accuracy {run.train_acc[epochs]:.0%}", fontsize=10)
        return (
            f"{setting}, after {epochs} epochs: train loss {run.train_loss[epochs]:.3f};"
            f" test loss {run.test_loss[epochs]:.3f}, train accuracy {run.train_acc[epochs]:.0%},"
            f" test accuracy {run.test_acc[epochs]:.0%}"
        )

    layout = widgets.Layout(width="420px")
    sliders = {
        "dataset": widgets.Dropdown(
            options=list(DATASETS), value=dataset, description="data set", style=SLIDER_STYLE, layout=layout
        ),
        "hidden": int_slider("hidden units", hidden, 1, 8),
        "activation": widgets.Dropdown(
            options=list(ACTIVATIONS), value=activation, description="activation g", style=SLIDER_STYLE,
            layout=layout,
        ),
        "lr": widgets.SelectionSlider(
            options=list(LEARNING_RATES), value=lr, description="learning rate η", style=SLIDER_STYLE,
            layout=layout, continuous_update=True,
        ),
        "epochs": int_slider("epochs", epochs, 0, max_epochs),
    }  # fmt: skip
    # Lay the figure out once, then freeze it: a redraw only moves data, it never re-runs the layout.
    draw(**{name: slider.value for name, slider in sliders.items()})
    figure.draw_without_rendering()
    figure.set_layout_engine("none")
    return Lesson(sliders, figure, draw, title="Playground: a hidden layer learning a 2-D data set")


def playground_figure(
    dataset: str = "circles",
    hidden: int = 4,
    activation: str = "tanh",
    lr: float = 0.3,
    epochs=(0, 10, 50, 200),
):
    """The static twin of ``training_playground``: the decision regions after a few epochs, and the loss curves.

    Example:
        >>> fig = playground_figure("xor", epochs=(0, 100))
        >>> [ax.get_title() for ax in fig.axes][:2]
        ['epoch 0: accuracy 52%', 'epoch 100: accuracy 100%']

    Chapter: 1, the perceptron.
    """
    from matplotlib.figure import Figure

    run = train(dataset, hidden, activation, lr, max(epochs))
    ticks, grid = _grid()
    X, y, _, _ = playground_data(dataset)
    figure = Figure(figsize=(2.6 * (len(epochs) + 1.3), 2.9), layout="constrained")
    axes = figure.subplots(1, len(epochs) + 1, width_ratios=[1] * len(epochs) + [1.3])
    for ax, epoch in zip(axes, epochs):
        image, boundary, _ = _draw_regions(ax, X, y)
        prob = run.probability(epoch, grid).reshape(GRID, GRID)
        image.set_data(prob)
        boundary.set_segments(_boundary_segments(ticks, prob))
        ax.set_title(f"epoch {epoch}: accuracy {run.train_acc[epoch]:.0%}", fontsize=9)
        if ax is not axes[0]:
            ax.get_legend().remove()
            ax.set_ylabel("")
    ax_loss = axes[-1]
    ax_loss.plot(run.train_loss, color=BLUE, label="training loss")
    ax_loss.plot(run.test_loss, "--", color="#D55E00", label="test loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss L")
    ax_loss.set_title(f"{dataset}: {hidden} {activation} units, η = {lr:g}", fontsize=9)
    ax_loss.legend(fontsize=8)
    return figure
