r"""Saturation, the choice of loss, and activations: Olteanu's NOT gate, vanishing gradients, ReLUs, softmax.

A sigmoid neuron saturates where $\sigma$ is flat: $\sigma'(z) = \sigma(z)(1 - \sigma(z)) \le 1/4$ and tends to
0 for large $|z|$. Under the squared loss the gradient carries that factor, so a neuron that is badly
wrong can learn very slowly; under cross-entropy it cancels. Through many sigmoid layers the factors
multiply and the gradient of the first layers vanishes. ReLU does not saturate for $z > 0$, but a unit
whose $z$ stays negative is dead; leaky and parametric ReLU keep a slope there.

The lessons are ``not_gate_gradients`` (a slider for the weight $w$, both losses' gradients) and
``vanishing_gradients`` (sliders for the depth of a stack and the size of its weights).

Chapter: 4, saturation, loss and activations.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..np_nn import functional as F

__all__ = [
    "NOT_GATE",
    "NotGate",
    "dead_units",
    "layer_gradient_norms",
    "not_gate",
    "not_gate_figure",
    "not_gate_gradients",
    "sigmoid_as_tanh",
    "softmax_jacobian",
    "vanishing_gradients",
]

BLUE, VERMILLION, GREEN, ORANGE, PURPLE = "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7"

NOT_GATE = {"x": -1.0, "w": 5.0, "b": 0.0, "y": 1.0}
r"""Olteanu's NOT-gate neuron $a = \sigma(w x + b)$: input $x = -1$, weight $w = 5$, bias $b = 0$; target $y = 1$."""


class NotGate(NamedTuple):
    """One sigmoid neuron on one example, under both losses (see ``not_gate``)."""

    z: float
    a: float
    sigma_prime: float
    squared_loss: float
    squared_grad: float
    cross_entropy: float
    cross_entropy_grad: float
    x: float

    @property
    def squared_grad_w(self) -> float:
        r"""$\partial\ell/\partial w = x\,\partial\ell/\partial z$ under the squared loss."""
        return self.x * self.squared_grad

    @property
    def cross_entropy_grad_w(self) -> float:
        r"""$\partial\ell/\partial w = x\,(a - y)$ under cross-entropy."""
        return self.x * self.cross_entropy_grad


def not_gate(w: float = 5.0, *, x: float = -1.0, b: float = 0.0, y: float = 1.0) -> NotGate:
    r"""Olteanu's NOT gate: one sigmoid neuron, its two losses and their gradients with respect to $z$.

    $$z = w x + b,\quad a = \sigma(z),\qquad \ell_2 = (a - y)^2,\quad
      \frac{\partial \ell_2}{\partial z} = 2(a - y)\,\sigma'(z)$$
    $$\ell_{CE} = -\big(y \log a + (1 - y)\log(1 - a)\big),\quad
      \frac{\partial \ell_{CE}}{\partial z} = \frac{a - y}{a(1 - a)}\,\sigma'(z) = a - y$$

    At the lecture's $x = -1$, $w = 5$, $b = 0$ (target 1) the neuron is saturated: $\sigma'(-5) \approx 0.0066$,
    so the squared loss's gradient is tiny although the loss is nearly 1; cross-entropy's is $a - y \approx -1$.

    Example:
        >>> g = not_gate()
        >>> round(g.a, 4), round(g.squared_loss, 4), round(g.squared_grad, 4)
        (0.0067, 0.9867, -0.0132)
        >>> round(g.cross_entropy, 4), round(g.cross_entropy_grad, 4)
        (5.0067, -0.9933)
    """
    z = w * x + b  # z = wx + b
    a = float(F.sigmoid(np.float64(z)))  # a = σ(z)
    sigma_prime = a * (1 - a)  # σ'(z) = σ(z)(1 − σ(z))
    squared_loss = (a - y) ** 2  # ℓ = (a − y)²
    squared_grad = 2 * (a - y) * sigma_prime  # ∂ℓ/∂z = 2(a − y)σ'(z)
    log_a, log_1_minus_a = -np.logaddexp(0, -z), -np.logaddexp(0, z)  # log σ(z), log(1 − σ(z)), stable
    cross_entropy = float(-(y * log_a + (1 - y) * log_1_minus_a))  # ℓ = −(y log a + (1 − y) log(1 − a))
    cross_entropy_grad = a - y  # ∂ℓ/∂z = a − y
    return NotGate(
        float(z), a, sigma_prime, squared_loss, squared_grad, cross_entropy, cross_entropy_grad, float(x)
    )


def sigmoid_as_tanh(z):
    r"""$\frac{1 + \tanh(z/2)}{2}$: the formula Honchar's lecture labels tanh, which is the sigmoid.

    Since $\tanh(u) = \frac{1 - e^{-2u}}{1 + e^{-2u}}$, putting $u = z/2$ gives
    $\frac{1 + \tanh(z/2)}{2} = \frac{1}{1 + e^{-z}} = \sigma(z)$; conversely $\tanh(z) = 2\sigma(2z) - 1$.

    Example:
        >>> z = np.linspace(-8, 8, 9)
        >>> bool(np.allclose(sigmoid_as_tanh(z), 1 / (1 + np.exp(-z))))
        True
    """
    return (1 + np.tanh(np.asarray(z, dtype=np.float64) / 2)) / 2


def softmax_jacobian(z) -> np.ndarray:
    r"""The derivative of the softmax $s = \mathrm{softmax}(z)$ for one vector of scores, as a matrix.

    $$\frac{\partial s_i}{\partial z_j} = \begin{cases} s_i(1 - s_i) & i = j \\ -s_i s_j & i \ne j\end{cases}
      \qquad\text{i.e.}\qquad J = \mathrm{diag}(s) - s s^\top$$

    (Kheradpisheh's lecture.) Shapes: z (K,) -> J (K, K). Each column sums to 0, since the
    outputs always sum to 1.

    Example:
        >>> J = softmax_jacobian([1.0, 2.0, 3.0])
        >>> J.shape, bool(np.allclose(J.sum(axis=0), 0))
        ((3, 3), True)
    """
    s = F.softmax(np.asarray(z, dtype=np.float64))
    return np.diag(s) - np.outer(s, s)  # J = diag(s) − s sᵀ


def dead_units(z) -> np.ndarray:
    r"""Which ReLU units are dead on a batch: their weighted input $z \le 0$ for every example.

    Shapes: z (N, D) -> (D,) booleans. A dead unit outputs 0 and passes back a gradient of 0 for all
    these examples, so while it stays dead gradient descent does not change its incoming weights.

    Example:
        >>> dead_units([[-1.0, 2.0], [-3.0, -1.0]]).tolist()
        [True, False]
    """
    return np.all(np.asarray(z) <= 0, axis=0)


def layer_gradient_norms(
    activation: str = "sigmoid",
    *,
    depth: int = 10,
    width: int = 32,
    n: int = 64,
    init: str | None = None,
    scale: float = 1.0,
    rng=0,
) -> np.ndarray:
    r"""The size of $\partial L/\partial W^l$ in each layer of a deep stack, first layer first.

    A stack of ``depth`` blocks ``Linear(width, width)`` + activation (``"sigmoid"``, ``"tanh"`` or
    ``"relu"``) in float64, on ``n`` random inputs with the squared loss against random targets.
    Returns the Frobenius norm $\lVert \partial L / \partial W^l \rVert$ of every layer. By BP2 each layer
    back multiplies $\delta$ by $W^\top$ and by $\sigma'(z) \le 1/4$, so with a sigmoid the norms shrink
    layer by layer towards the input.

    ``init`` defaults to ``"scaled_normal"`` (N(0, 1/n_in)) for sigmoid and tanh, ``"he"`` for ReLU;
    ``scale`` multiplies every initial weight (large weights can make the product explode instead).

    Example:
        >>> norms = layer_gradient_norms("sigmoid", depth=6)
        >>> bool(norms[0] < norms[-1] / 100)
        True
    """
    from .. import np_nn as nn

    activations = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
    if activation not in activations:
        raise ValueError(
            f"layer_gradient_norms expected activation 'sigmoid', 'tanh' or 'relu'; got {activation!r}."
        )
    init = init or ("he" if activation == "relu" else "scaled_normal")
    gen = np.random.default_rng(rng)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width, init=init, rng=gen, dtype=np.float64), activations[activation]()]
    net = nn.Sequential(*layers)
    for i in range(depth):
        net.params[f"{2 * i}.W"][...] *= scale
    X, T = gen.normal(size=(n, width)), gen.random((n, width))
    loss = nn.MSELoss()
    loss(net(X), T)
    net.backward(loss.backward())
    return np.array([np.linalg.norm(net.grads[f"{2 * i}.W"]) for i in range(depth)])


# ----------------------------------------------------------------------------- the lesson
_W_GRID = np.linspace(-10.0, 10.0, 401)


def _curves() -> dict[str, np.ndarray]:
    gates = [not_gate(w) for w in _W_GRID]
    return {field: np.array([getattr(g, field) for g in gates]) for field in NotGate._fields}


def _draw_not_gate(
    axes, w: float, curves: dict, artists: dict | None = None, marker: str = "o", label: bool = True
):
    """Draw both losses and both gradients over w, and mark the current w; returns the marker artists."""
    g = not_gate(w)
    ax_loss, ax_grad = axes
    if artists is None:
        ax_loss.plot(_W_GRID, curves["squared_loss"], color=BLUE, label=r"squared loss $(a - y)^2$")
        ax_loss.plot(_W_GRID, curves["cross_entropy"], color=VERMILLION, label=r"cross-entropy $-\log a$")
        ax_loss.set_xlabel("weight w  (x = −1, b = 0, target y = 1)")
        ax_loss.set_ylabel("loss")
        ax_loss.set_ylim(-0.3, 10.5)
        ax_grad.plot(_W_GRID, curves["squared_grad"], color=BLUE, label=r"squared: $2(a - y)\,\sigma'(z)$")
        ax_grad.plot(_W_GRID, curves["cross_entropy_grad"], color=VERMILLION, label=r"cross-entropy: $a - y$")
        ax_grad.axhline(0, color="black", linewidth=0.5)
        ax_grad.set_xlabel("weight w  (x = −1, b = 0, target y = 1)")
        ax_grad.set_ylabel(r"gradient $\partial \ell / \partial z$")
        artists = {}
    points = {
        "squared_loss": (ax_loss, g.squared_loss, BLUE),
        "cross_entropy": (ax_loss, g.cross_entropy, VERMILLION),
        "squared_grad": (ax_grad, g.squared_grad, BLUE),
        "cross_entropy_grad": (ax_grad, g.cross_entropy_grad, VERMILLION),
    }
    for name, (ax, value, colour) in points.items():
        if name in artists:
            artists[name].set_data([w], [value])
        else:
            kwargs = {"label": f"w = {w:g}"} if (label and name == "squared_loss") else {}
            artists[name] = ax.plot([w], [value], marker, color=colour, markeredgecolor="black", **kwargs)[0]
    return artists, g


def not_gate_gradients(w: float = 5.0):
    r"""Lesson: the NOT gate's weight $w$ against both losses and both gradients.

    Left, the squared loss and the cross-entropy as functions of $w$; right, their gradients
    $\partial\ell/\partial z$. The points mark the slider's $w$. For large positive $w$ the neuron is
    saturated and confidently wrong: the squared loss is near its maximum 1 while its gradient is
    near 0; the cross-entropy's gradient $a - y$ stays near −1.

    Slider ``w``: −10 to 10.

    Example:
        >>> lesson = not_gate_gradients()
        >>> "∂ℓ/∂z = -0.0132" in lesson.text
        True
    """
    from matplotlib.figure import Figure

    from ._core import Lesson, float_slider

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    curves = _curves()
    state: dict = {}

    def draw(w: float) -> str:
        artists, g = _draw_not_gate(axes, w, curves, state.get("artists"), label=False)
        state["artists"] = artists
        if "legend" not in state:
            state["legend"] = [
                ax.legend(loc=loc, fontsize=8) for ax, loc in zip(axes, ("upper left", "lower left"))
            ]
        axes[0].set_title(f"w = {w:.1f}: a = σ({g.z:.1f}) = {g.a:.4f}")
        axes[1].set_title(f"σ'(z) = {g.sigma_prime:.4f}")
        return (
            f"w = {w:+.1f}   z = {g.z:+.1f}   a = {g.a:.4f}   σ'(z) = {g.sigma_prime:.4f}\n"
            f"squared loss  {g.squared_loss:.4f}   ∂ℓ/∂z = {g.squared_grad:+.4f}\n"
            f"cross-entropy {g.cross_entropy:.4f}   ∂ℓ/∂z = {g.cross_entropy_grad:+.4f}"
        )

    return Lesson(
        {"w": float_slider("weight w", w, -10.0, 10.0, 0.1)},
        fig,
        draw,
        title="A saturated neuron: squared loss against cross-entropy",
    )


def not_gate_figure(values=(-2.0, 0.0, 5.0)):
    """The static version of ``not_gate_gradients``: both losses and gradients with three weights marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    curves = _curves()
    _draw_not_gate(axes, values[0], curves, None, marker="o")
    for w, marker in zip(values[1:], ("s", "D")):
        _draw_not_gate(axes, w, curves, {}, marker=marker)
    for ax, loc in zip(axes, ("upper left", "lower left")):
        ax.legend(loc=loc, fontsize=8)
    axes[0].set_title("Both losses against the weight")
    axes[1].set_title("Their gradients: only cross-entropy stays large")
    return fig


# ----------------------------------------------------------------------------- lesson: vanishing gradients
_STACK_COLOURS = {"sigmoid": BLUE, "tanh": GREEN, "relu": VERMILLION}


def _decade_limits(current: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    """Log-axis limits for data in [lo, hi]: ``current`` while the data fills a third of them, else new ones.

    New limits lie on powers of ten that are multiples of 3, a decade or more beyond the data, so a
    moving slider seldom rescales the axes (each rescale redraws them; moving lines alone are cheap).
    """
    a, b = np.log10(current)
    low, high = np.log10(lo), np.log10(hi)
    if a <= low and high <= b and high - low >= (b - a) / 3:
        return current
    return 10.0 ** (3 * np.floor((low - 1) / 3)), 10.0 ** (3 * np.ceil((high + 1) / 3))


def vanishing_gradients(depth: int = 10, scale: float = 1.0):
    r"""Lesson: the gradient's size in every layer of a deep stack, for sigmoid, tanh and ReLU.

    Each line is ``layer_gradient_norms`` for one activation: $\lVert \partial L/\partial W^l \rVert$ against
    the layer $l$ (1 = nearest the input), on a log scale. The dotted line is the sigmoid's last layer
    times $(1/4)^{L - l}$: how fast the sigmoid's slope factors alone, at their largest, would shrink it.

    Sliders: ``depth`` (2 to 20 layers) and ``scale`` (0.25 to 4, multiplying every initial weight:
    small weights make the gradients vanish faster, large ones can make them explode).

    Example:
        >>> lesson = vanishing_gradients()
        >>> lesson.set(depth=4).figure.axes[0].lines[0].get_xdata().tolist()
        [1, 2, 3, 4]
    """
    from matplotlib.figure import Figure

    from ._core import Lesson, float_slider, int_slider

    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.add_subplot()
    lines = {
        name: ax.semilogy([], [], "o-", color=colour, label=name)[0]
        for name, colour in _STACK_COLOURS.items()
    }
    bound = ax.semilogy([], [], ":", color="black", label=r"sigmoid's last layer $\times (1/4)^{L-l}$")[0]
    ax.set_xlabel("layer l (1 = nearest the input)")
    ax.set_ylabel(r"gradient size $\|\partial L / \partial W^l\|$")
    ax.set_xlim(0.5, 20.5)  # the depth slider's range, fixed: the axes are drawn once, only the lines move
    ax.legend(loc="lower right", fontsize=8)

    def draw(depth: int, scale: float) -> str:
        layers = np.arange(1, depth + 1)
        norms = {name: layer_gradient_norms(name, depth=depth, scale=scale) for name in lines}
        for name, line in lines.items():
            line.set_data(layers, norms[name])
        bound.set_data(layers, norms["sigmoid"][-1] * 0.25 ** (depth - layers))
        values = np.concatenate([*norms.values(), bound.get_ydata()])
        ylim = _decade_limits(ax.get_ylim(), values.min(), values.max())
        if ylim != ax.get_ylim():  # rarely: a new y range redraws the axes, moving lines do not
            ax.set_ylim(*ylim)
        ax.set_title(f"{depth} layers, weights {scale:g} times their usual size")
        return "\n".join(
            f"{name:<8} first layer / last layer = {norms[name][0] / norms[name][-1]:.1e}" for name in lines
        )

    sliders = {
        "depth": int_slider("layers", depth, 2, 20),
        "scale": float_slider("weight scale", scale, 0.25, 4.0, 0.25),
    }
    return Lesson(sliders, fig, draw, title="How the gradient changes from the last layer to the first")
