r"""Weight initialisation: how the spread of the first weights decides whether a network can learn.

Honchar's lecture: a neuron with 1,000 inputs, half of them 1, whose weights and bias are drawn from
N(0, 1), has a weighted input $z = \sum_i w_i x_i + b$ with standard deviation $\sqrt{501} \approx 22.4$,
so its sigmoid saturates; with weights from $N(0, 1/n_{in})$ it is $\sqrt{500/1000 + 1} = \sqrt{1.5} \approx 1.22$.
Through a deep stack the same sum repeats layer after layer:

$$\mathrm{Var}(z^l) = n_{in}\,\mathrm{Var}(w)\;\mathbb{E}\big[(a^{l-1})^2\big],$$

so N(0, 1) multiplies the variance by about $n_{in}$ per layer, Glorot/Xavier ($\mathrm{Var}(w) = 2/(n_{in} + n_{out})$)
keeps it for tanh, whose slope is 1 near 0, and He ($\mathrm{Var}(w) = 2/n_{in}$) keeps it for ReLU, which
zeroes half of its inputs and so halves $\mathbb{E}[a^2]$.

The lessons are ``weight_scale`` (sliders for the weights' standard deviation and the number of
inputs: histograms of $z$ and $\sigma(z)$, and the share of saturated units) and ``depth_and_scheme``
(the variance of $z^l$ layer by layer under N(0, 1), Xavier and He, for tanh, sigmoid and ReLU).

Chapter: 5, weight initialisation.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from typing import NamedTuple

import numpy as np

from ..np_nn import functional as F

__all__ = [
    "SCHEMES",
    "DigitData",
    "depth_and_scheme",
    "depth_and_scheme_figure",
    "layer_variances",
    "one_blas_thread",
    "predicted_variances",
    "real_digits",
    "saturated_share",
    "simulate_z",
    "stacks",
    "symmetric_training",
    "symmetry_diagram",
    "weight_scale",
    "weight_scale_figure",
    "z_spread",
]

from ._core import BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION  # noqa: F401 (the lessons' shared colours)

SATURATED_Z = 6.0
r"""$|z| > 6$: where $\sigma'(z) < 0.0025$, 1% of its peak $\sigma'(0) = 1/4$ (the threshold ``fit`` warns at)."""

SCHEMES = {
    "N(0, 1)": lambda n_in, n_out: 1.0,  # Var(w) = 1
    "Xavier": lambda n_in, n_out: 2.0 / (n_in + n_out),  # Var(w) = 2 / (n_in + n_out)
    "He": lambda n_in, n_out: 2.0 / n_in,  # Var(w) = 2 / n_in
}
"""The three schemes of section 5.4 as ``Var(w)`` for a layer with ``n_in`` inputs and ``n_out`` outputs."""

_ACTIVATIONS = {"tanh": np.tanh, "sigmoid": F.sigmoid, "relu": F.relu}


def one_blas_thread():
    """A context in which NumPy's BLAS uses one thread, where ``threadpoolctl`` is installed (it comes with
    scikit-learn); otherwise it changes nothing.

    The book's networks are small (a batch of 50 rows times 784 x 100): on a laptop's few busy cores a
    second BLAS thread mostly waits. Measured on 2 shared cores: chapter 5's ten epochs of section 5.2
    took 16.6 s with the default threads and 1.0 s with one; chapter 6's ``train`` 2.1 s and 0.34 s.
    The numbers computed are the same either way.

    Example:
        >>> with one_blas_thread():
        ...     float(np.ones((2, 3)) @ np.ones(3) @ np.ones(2))
        6.0
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn (and with it threadpoolctl) is not installed
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


# ----------------------------------------------------------------------------- one neuron
def z_spread(n_in: int = 1000, *, std: float = 1.0, bias_std: float = 1.0, share_on: float = 0.5) -> float:
    r"""The standard deviation of $z = \sum_i w_i x_i + b$ when ``share_on`` of the inputs are 1, the rest 0.

    $$\mathrm{SD}(z) = \sqrt{n_{on}\,\mathrm{std}^2 + \mathrm{bias\_std}^2},\qquad n_{on} = \mathrm{share\_on}\cdot n_{in}$$

    Each input that is 1 adds one weight, a variance of std²; the bias adds bias_std².

    Example:
        >>> round(z_spread(1000), 1), round(z_spread(1000, std=1000**-0.5), 2)
        (22.4, 1.22)
    """
    n_on = round(share_on * n_in)
    return float(np.sqrt(n_on * std**2 + bias_std**2))  # SD(z) = √(n_on·std² + bias_std²)


def simulate_z(
    n_in: int = 1000, *, std: float = 1.0, bias_std: float = 1.0, neurons: int = 2000, rng=0
) -> np.ndarray:
    r"""Draw ``neurons`` neurons' weights and biases and return their $z$ on one input, half of it 1.

    $$w_i \sim N(0, \mathrm{std}^2),\quad b \sim N(0, \mathrm{bias\_std}^2),\quad z = \textstyle\sum_i w_i x_i + b$$

    The input has its first ``n_in // 2`` entries 1 and the rest 0, as in Honchar's example.
    Shapes: -> z (neurons,).

    Example:
        >>> z = simulate_z(1000)
        >>> bool(abs(z.std() / z_spread(1000) - 1) < 0.03)
        True
    """
    gen = np.random.default_rng(rng)
    x = np.zeros(n_in)
    x[: n_in // 2] = 1.0  # half of the inputs are 1
    W = gen.normal(0.0, std, size=(neurons, n_in))  # w ~ N(0, std²)
    b = gen.normal(0.0, bias_std, size=neurons)  # b ~ N(0, bias_std²)
    return W @ x + b  # z = Σᵢ wᵢxᵢ + b


def saturated_share(z) -> float:
    r"""The share of units with $|z| > 6$, where $\sigma'(z)$ is below 1% of its peak.

    Example:
        >>> saturated_share([0.0, 7.0, -9.0, 1.0])
        0.5
    """
    return float(np.mean(np.abs(np.asarray(z)) > SATURATED_Z))


# ----------------------------------------------------------------------------- deep stacks
def predicted_variances(
    activation: str, scheme: str, *, depth: int = 10, width: int = 128, input_var: float = 1.0
) -> np.ndarray:
    r"""The formula's $\mathrm{Var}(z^l)$ for layers $l = 1..\mathrm{depth}$ of a stack of equal width.

    $$v_1 = n_{in}\,\mathrm{Var}(w)\,\mathbb{E}[x^2],\qquad
      v_l = n_{in}\,\mathrm{Var}(w)\;\mathbb{E}_{z \sim N(0, v_{l-1})}\big[g(z)^2\big]$$

    The expectation over $z \sim N(0, v)$ is taken numerically, as a sum over 4,001 evenly spaced
    points of $u = z/\sqrt{v}$ from −10 to 10 (a Gauss-Hermite rule of 80 points is 5% off for tanh at
    $v = 128$, where $g(\sqrt{v}\,u)^2$ is almost a step); the inputs have mean 0 and variance ``input_var``.

    Example:
        >>> predicted_variances("relu", "He", depth=3).round(3).tolist()
        [2.0, 2.0, 2.0]
    """
    _check(activation, scheme)
    g = _ACTIVATIONS[activation]
    var_w = SCHEMES[scheme](width, width)
    nodes = np.linspace(-10.0, 10.0, 4001)  # u = z / √v, spaced 0.005
    weights = np.exp(-0.5 * nodes**2)  # the N(0, 1) density, up to a constant
    weights = weights / weights.sum()  # now E[f(u)] ≈ Σ weights·f(nodes) for u ~ N(0, 1)
    v = [width * var_w * input_var]  # v₁ = n_in Var(w) E[x²]
    for _ in range(depth - 1):
        mean_square = float(weights @ g(np.sqrt(v[-1]) * nodes) ** 2)  # E[g(z)²], z ~ N(0, v)
        v.append(width * var_w * mean_square)  # v_l = n_in Var(w) E[g(z)²]
    return np.array(v)


def layer_variances(
    activation: str, scheme: str, *, depth: int = 10, width: int = 128, n: int = 256, repeats: int = 16, rng=0
) -> np.ndarray:
    r"""The measured variance of $z^l$ in each layer of a random stack, first layer first.

    A stack of ``depth`` layers ``Linear(width, width)`` with weights from ``scheme`` (a key of
    ``SCHEMES``), zero biases and ``activation`` after each, run on ``n`` inputs from N(0, 1), in
    float64. Returns $\mathrm{Var}(z^l)$ over every unit and example of layer $l$, averaged over
    ``repeats`` independently drawn stacks (one stack of 128 units is a noisy sample of the formula).

    Example:
        >>> v = layer_variances("relu", "He", depth=3)
        >>> bool(np.allclose(v, 2.0, rtol=0.2))
        True
    """
    _check(activation, scheme)
    g = _ACTIVATIONS[activation]
    gen = np.random.default_rng(rng)
    std = np.sqrt(SCHEMES[scheme](width, width))
    variances = np.zeros(depth)
    with one_blas_thread():  # 256 x 128 products: one BLAS thread is faster on a few busy cores
        for _ in range(repeats):
            a = gen.normal(size=(n, width))  # x ~ N(0, 1)
            for layer in range(depth):
                W = gen.normal(0.0, std, size=(width, width))  # w ~ N(0, Var(w))
                z = a @ W.T  # z = Wa (biases 0)
                variances[layer] += z.var() / repeats  # Var(zˡ), averaged over the stacks
                a = g(z)  # a = g(z)
    return variances


def _check(activation: str, scheme: str) -> None:
    if activation not in _ACTIVATIONS:
        raise ValueError(f"expected activation 'tanh', 'sigmoid' or 'relu'; got {activation!r}.")
    if scheme not in SCHEMES:
        raise ValueError(f"expected scheme 'N(0, 1)', 'Xavier' or 'He'; got {scheme!r}.")


# ----------------------------------------------------------------------------- symmetry
class SymmetryRun(NamedTuple):
    """Hidden-layer weights before and after training (see ``symmetric_training``)."""

    W_before: np.ndarray
    W_after: np.ndarray
    losses: list
    net: object


def symmetric_training(
    constant: float | None = 0.5, *, steps: int = 2000, lr: float = 2.0, rng=0
) -> SymmetryRun:
    r"""Train a 2-4-1 sigmoid network on XOR from all-equal weights (``constant``) or random ones (None).

    With every hidden unit starting from the same weights, every unit computes the same $a$, receives
    the same $\delta$ and takes the same step, so the rows of $W^1$ stay equal for ever: four units
    do the work of one. Random weights break that symmetry.

    Example:
        >>> run = symmetric_training(0.5)
        >>> bool(np.allclose(run.W_after, run.W_after[0]))
        True
    """
    from .. import np_nn as nn

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    net = nn.Sequential(
        nn.Linear(2, 4, rng=rng, dtype=np.float64),
        nn.Sigmoid(),
        nn.Linear(4, 1, rng=rng + 1, dtype=np.float64),
        nn.Sigmoid(),
    )
    if constant is not None:
        for w in net.params.values():
            w[...] = constant  # every weight and bias the same number
    loss, opt = nn.BCELoss(), nn.optim.SGD(net, lr=lr)
    W_before, losses = net.params["0.W"].copy(), []
    for _ in range(steps):
        losses.append(loss(net(X), y))
        net.backward(loss.backward())
        opt.step()
    return SymmetryRun(W_before, net.params["0.W"].copy(), losses, net)


def symmetry_diagram(run: SymmetryRun, x=(1.0, 0.0), y: float = 1.0):
    r"""Draw a trained ``symmetric_training`` network on one XOR example with its numbers on the edges.

    Forward values $a$ above the units, errors $\delta = \partial L/\partial z$ below them, weights on the
    edges with $\partial L/\partial W$ under them (``diagram.network_diagram``). From an all-equal start,
    the four hidden units show the same numbers everywhere.
    """
    from .. import np_nn as nn
    from .diagram import network_diagram

    net = run.net
    first, sigmoid1, second, sigmoid2 = net.modules
    x = np.asarray([x], dtype=np.float64)
    a1 = sigmoid1(first(x))  # a¹ = σ(W¹x + b¹)
    a2 = sigmoid2(second(a1))  # a² = σ(W²a¹ + b²)
    loss = nn.BCELoss()
    loss(a2, np.array([[y]]))
    delta2 = sigmoid2.backward(loss.backward())  # δ² = ∂L/∂z²
    delta1 = sigmoid1.backward(second.backward(delta2))  # δ¹ = (W²ᵀδ²) ⊙ σ'(z¹)
    first.backward(delta1)
    return network_diagram(
        (2, 4, 1),
        weights=[first.W, second.W],
        weight_grads=[first.grads["W"], second.grads["W"]],
        values=[x[0], a1[0], a2[0]],
        grads=[None, delta1[0], delta2[0]],
        unit_names=[["$x_1$", "$x_2$"], [f"$h_{i}$" for i in range(1, 5)], [r"$\hat y$"]],
        layer_names=[f"input x = ({x[0, 0]:g}, {x[0, 1]:g})", "hidden layer", f"output (target y = {y:g})"],
        title="After training from all-equal weights: four copies of one unit",
        fmt="{:+.2f}",
        figsize=(8, 5),
    )


# ----------------------------------------------------------------------------- real data
class DigitData(NamedTuple):
    """Images flattened to rows, split into training and validation parts, and where they came from."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    source: str
    note: str


def real_digits(data_dir=None, *, n_train: int = 6000, n_val: int = 2000, rng=0) -> DigitData:
    r"""Real handwritten digits for the book's experiments: MNIST if it is on this machine, else 8x8 digits.

    Reads MNIST's 10,000 test images from ``data_dir`` (or nnlab's cache) without downloading
    anything; where there is no MNIST it uses scikit-learn's bundled 8x8 digits and says so in
    ``note`` instead of warning. The images are shuffled with ``rng``, flattened to rows of 784 (or 64)
    float64 pixels in [0, 1], and split into ``n_train`` training and ``n_val`` validation examples (fewer
    when the data set is smaller).
    """
    from ..data import load_mnist

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")  # the fallback's warning becomes the note below
        images, labels = load_mnist("test", data_dir=data_dir, download=False, fallback="digits")
        is_mnist = images.shape[1:] == (28, 28)
        if not is_mnist:  # the 8x8 digits' test part has only 360 images: take all 1,797
            more_images, more_labels = load_mnist(
                "train", data_dir=data_dir, download=False, fallback="digits"
            )
            images, labels = np.concatenate([more_images, images]), np.concatenate([more_labels, labels])
    source = "MNIST" if is_mnist else "8x8 digits"
    if is_mnist:
        note = f"MNIST: {len(labels):,} real handwritten digits of 28 x 28 pixels"
    else:
        note = (
            f"MNIST is not on this machine, so these are scikit-learn's {len(labels):,} bundled 8x8 digits"
            " instead; the numbers differ from the ones in the text"
        )
    order = np.random.default_rng(rng).permutation(len(labels))
    X = images.reshape(len(images), -1)[order].astype(np.float64)  # float64: results independent of threads
    y = labels[order]
    n_val = min(n_val, len(y) // 4)
    n_train = min(n_train, len(y) - n_val)
    return DigitData(
        X[:n_train], y[:n_train], X[n_train : n_train + n_val], y[n_train : n_train + n_val], source, note
    )


# ----------------------------------------------------------------------------- lesson: weight scale
_Z_EDGES = np.linspace(-40.0, 40.0, 81)  # 1-wide bins for z
_A_EDGES = np.linspace(0.0, 1.0, 21)  # 0.05-wide bins for σ(z)
_NEURONS = 2000


@functools.lru_cache(maxsize=2)
def _weight_sums(max_on: int = 500, neurons: int = _NEURONS, rng: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sums of N(0, 1) weights (neurons, max_on) and N(0, 1) biases: z for any n_on and std at once."""
    gen = np.random.default_rng(rng)
    sums = np.cumsum(gen.standard_normal((neurons, max_on)), axis=1)  # Σ_{i ≤ k} uᵢ, uᵢ ~ N(0, 1)
    return sums, gen.standard_normal(neurons)


def _lesson_z(std: float, n_in: int) -> np.ndarray:
    """z of 2,000 neurons for weights N(0, std²), biases N(0, 1), n_in inputs with half of them 1."""
    sums, b = _weight_sums()
    n_on = max(n_in // 2, 1)
    return std * sums[:, n_on - 1] + b  # z = Σᵢ wᵢxᵢ + b with wᵢ = std·uᵢ


def _histograms(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    clipped = np.clip(z, _Z_EDGES[0], _Z_EDGES[-1])  # the outermost bins also hold what lies beyond
    z_share = np.histogram(clipped, _Z_EDGES)[0] / len(z)
    a_share = np.histogram(F.sigmoid(z), _A_EDGES)[0] / len(z)
    return z_share, a_share


def _weight_scale_axes(fig):
    ax_z, ax_a = fig.subplots(1, 2)
    # one filled step outline per histogram: its heights change with set_data, nothing is re-plotted
    z_bars = ax_z.stairs(
        np.zeros(len(_Z_EDGES) - 1), _Z_EDGES, fill=True, color=BLUE, label="simulated neurons"
    )
    a_bars = ax_a.stairs(np.zeros(len(_A_EDGES) - 1), _A_EDGES, fill=True, color=VERMILLION)
    for edge in (-SATURATED_Z, SATURATED_Z):
        ax_z.axvline(edge, color="black", linestyle=":", linewidth=1)
    ax_z.set_xlabel("weighted input z  (values beyond ±40 are counted in the end bins)")
    ax_z.set_ylabel("share of neurons per bin of width 1")
    ax_a.set_xlabel("activation σ(z)")
    ax_a.set_ylabel("share of neurons per bin of width 0.05")
    ax_a.set_xlim(0, 1)
    return ax_z, ax_a, z_bars, a_bars


_Z_TOP = 0.45
"""The z histogram's fixed top: SD(z) ≥ 1 (the bias alone), so the formula's density peaks at most at
1/√(2π) ≈ 0.40 and no bin of width 1 holds more than 0.36 of the neurons (over every slider setting)."""
_A_TOP = 0.5
"""The σ(z) histogram's fixed top: an end bin holds at most about 0.45 of the neurons (std = 1, n_in = 1000)."""


def weight_scale(std: float = 1.0, n_in: int = 1000):
    r"""Lesson: the weights' standard deviation and the number of inputs against $z$ and $\sigma(z)$.

    2,000 simulated neurons, each with ``n_in`` inputs of which half are 1, weights from
    N(0, std²) and a bias from N(0, 1). Left, the histogram of $z$ with the formula's normal curve
    (standard deviation $\sqrt{(n_{in}/2)\,\mathrm{std}^2 + 1}$) and the lines $|z| = 6$; right, the
    histogram of $\sigma(z)$: saturated neurons pile up at 0 and 1. The text gives the share of
    neurons with $|z| > 6$.

    Sliders: ``std`` (0.01 to 1) and ``n_in`` (2 to 1000). At the lecture's std = 1 and 1,000
    inputs about 78% of the neurons are saturated; at std = $1/\sqrt{1000} \approx 0.032$ almost none.

    Example:
        >>> lesson = weight_scale()
        >>> "saturated" in lesson.set(std=0.03).text
        True
    """
    from matplotlib.figure import Figure

    from ._core import Lesson, float_slider, int_slider

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_z, ax_a, z_bars, a_bars = _weight_scale_axes(fig)
    # fixed y ranges that hold every setting of the sliders: a change of limits would redraw everything
    ax_z.set_ylim(0, _Z_TOP)
    ax_a.set_ylim(0, _A_TOP)
    grid = np.linspace(_Z_EDGES[0], _Z_EDGES[-1], 801)
    (curve,) = ax_z.plot([], [], color="black", label="formula: N(0, SD(z)²)")
    ax_z.legend(loc="upper left", fontsize=8)

    def draw(std: float, n_in: int) -> str:
        z = _lesson_z(std, n_in)
        z_share, a_share = _histograms(z)
        z_bars.set_data(values=z_share)  # the bins stay, the heights change
        a_bars.set_data(values=a_share)
        spread = z_spread(n_in, std=std)
        curve.set_data(
            grid, np.exp(-0.5 * (grid / spread) ** 2) / (spread * np.sqrt(2 * np.pi))
        )  # density × 1
        share = saturated_share(z)
        ax_z.set_title(f"SD(z): formula {spread:.2f}, simulated {z.std():.2f}")
        ax_a.set_title(f"{share:.0%} of the neurons saturated (|z| > 6)")
        return (
            f"std = {std:.3f}, n_in = {n_in}: SD(z) = √({n_in // 2}·{std:.3f}² + 1) = {spread:.2f};"
            f" simulated {z.std():.2f}; saturated {share:.0%}"
        )

    sliders = {
        "std": float_slider("weight std", std, 0.01, 1.0, 0.01),
        "n_in": int_slider("inputs n_in", n_in, 2, 1000, 2),
    }
    return Lesson(sliders, fig, draw, title="How the weights' spread sets the spread of z")


def weight_scale_figure(settings=((1.0, 1000), (1000**-0.5, 1000))):
    """The static version of ``weight_scale``: the histograms of z and σ(z) for two settings side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6 * len(settings)), layout="constrained")
    for row, (std, n_in) in zip(fig.subfigures(len(settings), 1), settings):
        ax_z, ax_a, z_bars, a_bars = _weight_scale_axes(row)
        z = _lesson_z(std, n_in)
        for bars, shares in zip((z_bars, a_bars), _histograms(z)):
            bars.set_data(values=shares)
        ax_z.relim()
        ax_z.autoscale_view(scalex=False)
        ax_a.relim()
        ax_a.autoscale_view(scalex=False)
        ax_z.set_title(f"std = {std:.3g}, n_in = {n_in}: SD(z) = {z_spread(n_in, std=std):.2f}")
        ax_a.set_title(f"{saturated_share(z):.0%} of the neurons saturated (|z| > 6)")
    return fig


# ----------------------------------------------------------------------------- lesson: depth and scheme
_SCHEME_COLOURS = {"N(0, 1)": VERMILLION, "Xavier": BLUE, "He": GREEN}


@functools.lru_cache(maxsize=8)
def stacks(activation: str, depth: int = 10, width: int = 128) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{scheme: (layer_variances, predicted_variances)}`` for one activation, computed once and kept."""
    return {
        scheme: (
            layer_variances(activation, scheme, depth=depth, width=width),
            predicted_variances(activation, scheme, depth=depth, width=width),
        )
        for scheme in SCHEMES
    }


def _depth_axes(ax, depth: int):
    measured, predicted = {}, {}
    for scheme, colour in _SCHEME_COLOURS.items():
        measured[scheme] = ax.semilogy([], [], "o", color=colour, label=f"{scheme}: measured")[0]
        predicted[scheme] = ax.semilogy([], [], "-", color=colour, alpha=0.6, label=f"{scheme}: formula")[0]
    ax.set_xlabel("layer l (1 = nearest the input)")
    ax.set_ylabel(r"variance of the weighted input, Var($z^l$)")
    ax.set_xlim(0.5, depth + 0.5)
    return measured, predicted


def _fill_depth(
    ax, measured, predicted, activation: str, depth: int, width: int, *, fit: bool = True
) -> dict:
    """Put one activation's stacks on the lines; ``fit`` sets the y range to hold them all."""
    runs = stacks(activation, depth, width)
    layers = np.arange(1, depth + 1)
    for scheme, (m, p) in runs.items():
        measured[scheme].set_data(layers, m)
        predicted[scheme].set_data(layers, p)
    if fit:
        values = np.concatenate([np.concatenate(pair) for pair in runs.values()])
        ax.set_ylim(values.min() / 5, values.max() * 5)
    ax.set_title(f"{activation}, {depth} layers of {width} units")
    return runs


_DEPTH_YLIM = (1e-4, 1e4)
"""The lesson's fixed y range: every stack but ReLU under N(0, 1) (×64 per layer) stays inside it."""


def _off_the_chart(runs, depth: int) -> str:
    """A line for the schemes whose variance leaves the lesson's fixed y range, or ''."""
    lo, hi = _DEPTH_YLIM
    notes = [
        f"{scheme}: off the chart after layer {int(np.argmax((m < lo) | (m > hi)))},"
        f" Var($z^{{{depth}}}$) = {m[-1]:.2g}"
        for scheme, (m, _) in runs.items()
        if np.any((m < lo) | (m > hi))
    ]
    return "\n".join(notes)


def depth_and_scheme(activation: str = "tanh", *, depth: int = 10, width: int = 128):
    r"""Lesson: $\mathrm{Var}(z^l)$ through a 10-layer stack under N(0, 1), Xavier and He, for one activation.

    Dots are measured on random inputs, averaged over 16 stacks (``layer_variances``), lines are the formula
    $v_l = n_{in}\mathrm{Var}(w)\,\mathbb{E}[g(z^{l-1})^2]$ (``predicted_variances``). The stacks are
    computed once per activation, and the y range (1e-4 to 1e4) is the same for all three, so switching
    only moves the lines. ReLU's N(0, 1) stack leaves that range after layer 2; a note in the corner
    gives its last variance (the static ``depth_and_scheme_figure`` shows all of it).

    Control: ``activation``, one of tanh, sigmoid and ReLU. With ReLU, He keeps the variance at 2
    in every layer while N(0, 1) multiplies it by 64 per layer; with tanh, Xavier's variance
    shrinks slowly and N(0, 1) saturates every unit.

    Example:
        >>> lesson = depth_and_scheme()
        >>> "He" in lesson.set(activation="relu").text
        True
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ._core import SLIDER_STYLE, Lesson

    for name in _ACTIVATIONS:  # every stack computed (or found cached) now, so a switch only redraws
        stacks(name, depth, width)
    fig = Figure(figsize=(8.5, 4), layout="constrained")
    ax = fig.add_subplot()
    measured, predicted = _depth_axes(ax, depth)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    # one fixed y range for all three activations, so a switch moves the lines and redraws nothing else
    ax.set_ylim(*_DEPTH_YLIM)
    note = ax.text(0.98, 0.97, "", transform=ax.transAxes, ha="right", va="top", fontsize=9, color=VERMILLION)

    def draw(activation: str) -> str:
        runs = _fill_depth(ax, measured, predicted, activation, depth, width, fit=False)
        note.set_text(_off_the_chart(runs, depth))
        return "\n".join(
            f"{scheme:<8} Var(z¹) = {m[0]:.3g}   Var(z^{depth}) = {m[-1]:.3g}   (formula {p[-1]:.3g})"
            for scheme, (m, p) in runs.items()
        )

    choice = widgets.ToggleButtons(
        options=list(_ACTIVATIONS), value=activation, description="activation", style=SLIDER_STYLE
    )
    return Lesson(
        {"activation": choice}, fig, draw, title="The variance of z, layer by layer, for three schemes"
    )


def depth_and_scheme_figure(depth: int = 10, width: int = 128):
    """The static version of ``depth_and_scheme``: the three activations side by side."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.4), layout="constrained")
    for ax, activation in zip(fig.subplots(1, 3), _ACTIVATIONS):
        measured, predicted = _depth_axes(ax, depth)
        _fill_depth(ax, measured, predicted, activation, depth, width)
    fig.legend(*fig.axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=6, fontsize=8)
    return fig
