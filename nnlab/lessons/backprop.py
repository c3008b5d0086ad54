r"""Backpropagation on the 2-3-2 sigmoid network of Kheradpisheh's lecture (the half adder).

The network reads two bits $X_1, X_2$, has three sigmoid hidden units $O_1, O_2, O_3$ and two sigmoid
outputs $O_I$ (the carry) and $O_{II}$ (the sum). Weights are stored as PyTorch stores them:
``W1`` (3, 2) and ``b1`` (3,) for the hidden layer (the lecture's $W_{ji}$ and $W_{j0}$), ``W2``
(2, 3) and ``b2`` (2,) for the output layer. The loss is the lectures' squared error,
averaged over the examples (``T`` and ``t`` hold the targets, $y$ in the book's notation):

$$L = \frac{1}{N}\sum_n \tfrac12 \lVert a^{(n)} - t^{(n)} \rVert^2$$

The same gradients three ways: ``backprop_by_hand`` (the lecture's per-neuron formulas, one example),
``backprop_per_example`` (Honchar's loop over the examples) and ``backprop_minibatch`` (the four
equations as matrix products); ``numerical_gradients`` checks them by centred differences. The two
lessons are ``loss_slope`` (a weight and a learning-rate slider) and ``gradcheck_step`` (the step h
of the finite difference against the check's error).

Chapter: 3, backpropagation.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..gradcheck import numerical_gradient, relative_error

__all__ = [
    "HALF_ADDER_WEIGHTS",
    "backprop_by_hand",
    "backprop_minibatch",
    "backprop_per_example",
    "gradcheck_errors",
    "gradcheck_step",
    "gradcheck_step_figure",
    "half_adder_net",
    "loss_and_slope",
    "loss_slope",
    "loss_slope_figure",
    "minibatch_loss",
    "numerical_gradients",
]

BLUE, VERMILLION, GREEN, ORANGE, PURPLE = "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7"

HALF_ADDER_WEIGHTS = {
    "W1": ((0.5, -0.4), (0.3, 0.8), (-0.6, 0.2)),
    "b1": (0.1, -0.2, 0.3),
    "W2": ((0.7, -0.5, 0.2), (-0.3, 0.6, 0.4)),
    "b2": (-0.1, 0.2),
}
"""Starting weights of the 2-3-2 network (the lecture leaves the numbers to the reader; these are ours).

Row j of ``W1`` holds the weights into hidden unit $O_{j+1}$ ($W_{j1}, W_{j2}$), ``b1[j]`` its bias
$W_{j0}$; row k of ``W2`` the weights into output k ($W_{I1}, W_{I2}, W_{I3}$ for the carry).
"""

WEIGHT_NAMES = ("W1", "b1", "W2", "b2")


def _weights(weights: dict | None) -> dict[str, np.ndarray]:
    """The four arrays as float64 copies (default: ``HALF_ADDER_WEIGHTS``)."""
    weights = HALF_ADDER_WEIGHTS if weights is None else weights
    return {name: np.array(weights[name], dtype=np.float64) for name in WEIGHT_NAMES}


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def backprop_by_hand(x, t, weights: dict | None = None) -> dict:
    r"""One example through the 2-3-2 network, neuron by neuron, with the lecture's formulas.

    $$O_j = \sigma\big(W_{j0} + \textstyle\sum_i W_{ji} X_i\big),\qquad
      O_k = \sigma\big(W_{k0} + \textstyle\sum_j W_{kj} O_j\big)$$
    $$\frac{\partial L}{\partial O_k} = -(y_k - O_k),\qquad
      \frac{\partial L}{\partial W_{kj}} = \frac{\partial L}{\partial O_k}\, O_k(1 - O_k)\, O_j$$
    $$\frac{\partial L}{\partial O_j} = \textstyle\sum_k W_{kj}\, \frac{\partial L}{\partial O_k}\, O_k(1 - O_k),\qquad
      \frac{\partial L}{\partial W_{ji}} = \frac{\partial L}{\partial O_j}\, O_j(1 - O_j)\, X_i$$

    Plain Python floats and loops, so every number is one formula. $\partial L/\partial O$ is the
    derivative with respect to a unit's output, which Kheradpisheh's lecture writes with a capital delta
    (in this book $\Delta$ is only the change an update makes); $\delta = (\partial L/\partial O)\,O(1-O)$ is
    the error with respect to its weighted input $z$, the $\delta$ of the four backpropagation equations.
    ``t`` is the target ($y$ in the book's notation).

    Returns a dict: ``loss`` ($\tfrac12\lVert O - t\rVert^2$), ``hidden`` ($O_1..O_3$), ``output``
    ($O_I, O_{II}$), ``delta_out``, ``delta_hidden`` (the $\delta$s) and ``grads`` (``W1``, ``b1``,
    ``W2``, ``b2`` as arrays).

    Example:
        >>> hand = backprop_by_hand([1, 1], [1, 0])
        >>> [round(o, 4) for o in hand["output"]], round(hand["loss"], 4)
        ([0.5061, 0.6574], 0.338)
    """
    w = _weights(weights)
    W1, b1, W2, b2 = (w[name].tolist() for name in WEIGHT_NAMES)
    x, t = [float(v) for v in x], [float(v) for v in t]
    hidden = [_sigmoid(b1[j] + sum(W1[j][i] * x[i] for i in range(2))) for j in range(3)]  # O_j
    output = [_sigmoid(b2[k] + sum(W2[k][j] * hidden[j] for j in range(3))) for k in range(2)]  # O_k
    loss = sum(0.5 * (output[k] - t[k]) ** 2 for k in range(2))  # L = ½ Σ_k (O_k − t_k)²
    dloss_dout = [-(t[k] - output[k]) for k in range(2)]  # ∂L/∂O_k = −(y_k − O_k)
    delta_out = [dloss_dout[k] * output[k] * (1 - output[k]) for k in range(2)]  # δ_k = ∂L/∂O_k O_k(1 − O_k)
    dloss_dhidden = [
        sum(W2[k][j] * delta_out[k] for k in range(2)) for j in range(3)
    ]  # ∂L/∂O_j = Σ_k W_kj δ_k
    delta_hidden = [
        dloss_dhidden[j] * hidden[j] * (1 - hidden[j]) for j in range(3)
    ]  # δ_j = ∂L/∂O_j O_j(1 − O_j)
    grads = {
        "W1": np.array([[delta_hidden[j] * x[i] for i in range(2)] for j in range(3)]),  # ∂L/∂W_ji = δ_j X_i
        "b1": np.array(delta_hidden),  # ∂L/∂W_j0 = δ_j
        "W2": np.array(
            [[delta_out[k] * hidden[j] for j in range(3)] for k in range(2)]
        ),  # ∂L/∂W_kj = δ_k O_j
        "b2": np.array(delta_out),  # ∂L/∂W_k0 = δ_k
    }
    return {
        "loss": loss,
        "hidden": hidden,
        "output": output,
        "delta_out": delta_out,
        "delta_hidden": delta_hidden,
        "grads": grads,
    }


def backprop_minibatch(X, T, weights: dict | None = None) -> dict:
    r"""The four backpropagation equations for a whole minibatch at once, as matrix products.

    $$\delta^2 = \tfrac1N (A^2 - T) \odot \sigma'(Z^2)\quad\text{(BP1)},\qquad
      \delta^1 = (\delta^2 W^2) \odot \sigma'(Z^1)\quad\text{(BP2)}$$
    $$\frac{\partial L}{\partial b^l} = \textstyle\sum_n \delta^l_n\quad\text{(BP3)},\qquad
      \frac{\partial L}{\partial W^l} = (\delta^l)^\top A^{l-1}\quad\text{(BP4)}$$

    Shapes: X (N, 2), T (N, 2). Returns a dict: ``loss``, ``A1`` (N, 3), ``A2`` (N, 2), ``delta1``,
    ``delta2`` and ``grads`` (``W1``, ``b1``, ``W2``, ``b2``), the gradients of the mean loss.

    Example:
        >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
        >>> T = np.array([[0, 0], [0, 1], [0, 1], [1, 0]])
        >>> round(backprop_minibatch(X, T)["loss"], 4)
        0.2706
    """
    w = _weights(weights)
    W1, b1, W2, b2 = (w[name] for name in WEIGHT_NAMES)
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    N = X.shape[0]
    A1 = 1 / (1 + np.exp(-(X @ W1.T + b1)))  # A¹ = σ(X W¹ᵀ + b¹)
    A2 = 1 / (1 + np.exp(-(A1 @ W2.T + b2)))  # A² = σ(A¹ W²ᵀ + b²)
    loss = 0.5 * np.sum((A2 - T) ** 2) / N  # L = (1/N) Σ ½‖a − y‖², T the targets y
    delta2 = (A2 - T) / N * A2 * (1 - A2)  # BP1: δ² = ∇_a L ⊙ σ'(z²)
    delta1 = (delta2 @ W2) * A1 * (1 - A1)  # BP2: δ¹ = (δ² W²) ⊙ σ'(z¹)
    grads = {
        "W1": delta1.T @ X,  # BP4: ∂L/∂W¹ = δ¹ᵀ x
        "b1": delta1.sum(axis=0),  # BP3: ∂L/∂b¹ = Σₙ δ¹ₙ
        "W2": delta2.T @ A1,  # BP4: ∂L/∂W² = δ²ᵀ a¹
        "b2": delta2.sum(axis=0),  # BP3: ∂L/∂b² = Σₙ δ²ₙ
    }
    return {"loss": float(loss), "A1": A1, "A2": A2, "delta1": delta1, "delta2": delta2, "grads": grads}


def backprop_per_example(X, T, weights: dict | None = None) -> dict:
    r"""Honchar's loop: backpropagate one example at a time, then average the gradients.

    $$\frac{\partial L}{\partial W^l} = \frac1N \sum_x \delta^{x,l} (a^{x,l-1})^\top$$

    The same numbers as ``backprop_minibatch``, many times slower: each example is its own small
    NumPy computation. Returns ``loss`` and ``grads``.

    Example:
        >>> X, T = np.eye(2), np.array([[0, 1], [1, 0]])
        >>> a, b = backprop_per_example(X, T)["grads"], backprop_minibatch(X, T)["grads"]
        >>> all(np.allclose(a[k], b[k]) for k in a)
        True
    """
    w = _weights(weights)
    W1, b1, W2, b2 = (w[name] for name in WEIGHT_NAMES)
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    grads = {name: np.zeros_like(w[name]) for name in WEIGHT_NAMES}
    loss = 0.0
    for x, t in zip(X, T):
        a1 = 1 / (1 + np.exp(-(W1 @ x + b1)))  # a¹ = σ(W¹x + b¹)
        a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))  # a² = σ(W²a¹ + b²)
        loss += 0.5 * np.sum((a2 - t) ** 2)  # ℓ_x = ½‖a² − t‖²
        delta2 = (a2 - t) * a2 * (1 - a2)  # δ² = (a² − t) ⊙ σ'(z²)
        delta1 = (W2.T @ delta2) * a1 * (1 - a1)  # δ¹ = (W²ᵀδ²) ⊙ σ'(z¹)
        grads["W2"] += np.outer(delta2, a1)  # Σ_x δ² (a¹)ᵀ
        grads["b2"] += delta2
        grads["W1"] += np.outer(delta1, x)  # Σ_x δ¹ xᵀ
        grads["b1"] += delta1
    N = len(X)
    return {"loss": float(loss / N), "grads": {name: g / N for name, g in grads.items()}}


def minibatch_loss(X, T, weights: dict | None = None) -> float:
    r"""$L = \frac1N \sum_n \tfrac12 \lVert a^{(n)} - t^{(n)}\rVert^2$ for the 2-3-2 network (forward pass only)."""
    w = _weights(weights)
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    A1 = 1 / (1 + np.exp(-(X @ w["W1"].T + w["b1"])))
    A2 = 1 / (1 + np.exp(-(A1 @ w["W2"].T + w["b2"])))
    return float(0.5 * np.sum((A2 - T) ** 2) / len(X))


def numerical_gradients(X, T, weights: dict | None = None, *, h: float = 1e-6) -> dict[str, np.ndarray]:
    r"""Every weight's gradient by centred differences: $\frac{L(w + h) - L(w - h)}{2h}$, one weight at a time.

    Example:
        >>> X, T = np.array([[1.0, 1.0]]), np.array([[1.0, 0.0]])
        >>> num, exact = numerical_gradients(X, T), backprop_minibatch(X, T)["grads"]
        >>> max(float(np.max(np.abs(num[k] - exact[k]))) for k in num) < 1e-9
        True
    """
    w = _weights(weights)
    return {name: numerical_gradient(lambda: minibatch_loss(X, T, w), w[name], h=h) for name in WEIGHT_NAMES}


def half_adder_net(weights: dict | None = None):
    """The 2-3-2 network as an ``nnlab.np_nn.Sequential`` in float64, holding ``weights``.

    Its parameters are ``"0.W"``, ``"0.b"`` (the hidden layer) and ``"2.W"``, ``"2.b"`` (the output
    layer); ``nnlab.bridge.twin`` builds its PyTorch twin.

    Example:
        >>> net = half_adder_net()
        >>> net.params["2.W"].tolist()[0]
        [0.7, -0.5, 0.2]
    """
    from .. import np_nn as nn

    w = _weights(weights)
    net = nn.Sequential(
        nn.Linear(2, 3, dtype=np.float64), nn.Sigmoid(), nn.Linear(3, 2, dtype=np.float64), nn.Sigmoid()
    )
    for key, name in (("0.W", "W1"), ("0.b", "b1"), ("2.W", "W2"), ("2.b", "b2")):
        net.params[key][...] = w[name]
    return net


def _half_adder_data() -> tuple[np.ndarray, np.ndarray]:
    from ..data import half_adder

    X, T = half_adder()
    return X.astype(np.float64), T.astype(np.float64)


# ----------------------------------------------------------------------------- lesson: the loss's slope
_SLOPE_WEIGHT = ("W2", (0, 0))  # W_I1: from hidden unit O_1 to the carry output O_I


def _loss_at(value: float) -> tuple[float, float]:
    """The loss on the four half-adder examples and its backprop gradient when W_I1 = ``value``."""
    X, T = _half_adder_data()
    w = _weights(None)
    name, index = _SLOPE_WEIGHT
    w[name][index] = value
    result = backprop_minibatch(X, T, w)
    return result["loss"], float(result["grads"][name][index])


def loss_and_slope(w: float) -> tuple[float, float]:
    r"""The loss on the four half-adder examples and its slope $\partial L/\partial W_{I1}$ at $W_{I1} = w$.

    All other weights stay at ``HALF_ADDER_WEIGHTS``; the slope is the backpropagation gradient. This is
    the curve and the tangent that ``loss_slope`` draws.

    Example:
        >>> loss, slope = loss_and_slope(0.7)   # the starting weight
        >>> round(loss, 4), round(slope, 4)
        (0.2706, 0.0357)
    """
    return _loss_at(float(w))


def _draw_slope(ax, w: float, lr: float, curve: tuple[np.ndarray, np.ndarray], artists: dict | None = None):
    """Draw (or update) the point, tangent and gradient step for W_I1 = w; returns artists and numbers."""
    loss, grad = _loss_at(w)
    tx = np.array([w - 1.5, w + 1.5])
    ty = loss + grad * (tx - w)  # the tangent: L(w) + L'(w)(x − w)
    w_next = w - lr * grad  # one gradient step: w ← w − η ∂L/∂w
    loss_next, _ = _loss_at(w_next)
    if artists is None:
        artists = {
            "curve": ax.plot(*curve, color=BLUE, label="loss L as a function of $W_{I1}$")[0],
            "tangent": ax.plot(
                tx, ty, color=VERMILLION, label=r"tangent, slope $\partial L/\partial W_{I1}$"
            )[0],
            "point": ax.plot([w], [loss], "o", color="black", label="current $W_{I1}$")[0],
            "step": ax.plot(
                [w_next],
                [loss_next],
                "s",
                color=GREEN,
                label=r"after one step $w - \eta\,\partial L/\partial w$",
            )[0],
        }
        ax.set_xlabel("weight $W_{I1}$ (hidden unit 1 to the carry output)")
        ax.set_ylabel("loss L (mean over the 4 examples)")
        ax.legend(loc="upper left", fontsize=8)
    else:
        artists["tangent"].set_data(tx, ty)
        artists["point"].set_data([w], [loss])
        artists["step"].set_data([w_next], [loss_next])
    return artists, loss, grad, w_next, loss_next


@functools.lru_cache(maxsize=1)
def _slope_curve(lo: float = -6.0, hi: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    grid = np.linspace(lo, hi, 241)
    return grid, np.array([_loss_at(v)[0] for v in grid])


def loss_slope(w: float = 0.7, lr: float = 10.0):
    r"""Lesson: move one weight of the 2-3-2 network and see the loss, its slope, and one gradient step.

    The blue curve is the loss on the four half-adder examples as a function of $W_{I1}$ (all other
    weights fixed at ``HALF_ADDER_WEIGHTS``). The black point is the current weight, the vermillion
    line the tangent whose slope backpropagation computes, and the green square where one step
    $w \leftarrow w - \eta\,\partial L/\partial w$ lands.

    Sliders: ``w`` ($W_{I1}$, −6 to 6) and ``lr`` (η, 0 to 20).

    Example:
        >>> lesson = loss_slope()
        >>> lesson.set(w=-2.0).sliders["w"].value
        -2.0
    """
    from matplotlib.figure import Figure

    from ._core import Lesson, float_slider

    fig = Figure(figsize=(7, 3.8), layout="constrained")
    ax = fig.add_subplot()
    curve = _slope_curve()
    state: dict = {}

    def draw(w: float, lr: float) -> str:
        artists, loss, grad, w_next, loss_next = _draw_slope(ax, w, lr, curve, state.get("artists"))
        state["artists"] = artists
        ax.set_title(f"$W_{{I1}}$ = {w:.2f}: loss {loss:.4f}, slope {grad:+.4f}")
        verdict = "lower" if loss_next < loss else "not lower"
        return (
            f"W_I1 = {w:+.2f}   loss L = {loss:.5f}   dL/dW_I1 = {grad:+.5f} (backprop)\n"
            f"one step with lr = {lr:.1f}: W_I1 -> {w_next:+.3f}, loss {loss_next:.5f} ({verdict})"
        )

    sliders = {
        "w": float_slider("weight W_I1", w, -6.0, 6.0, 0.1),
        "lr": float_slider("learning rate η", lr, 0.0, 20.0, 0.5),
    }
    return Lesson(sliders, fig, draw, title="The gradient is the slope of the loss")


def loss_slope_figure(values=(-4.0, 0.7, 6.0), lr: float = 10.0):
    """The static version of ``loss_slope``: the tangent and one gradient step at three weights, side by side.

    The default weights sit on the left wing of the curve, at the starting weight, and on the right wing.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.4), layout="constrained")
    curve = _slope_curve()
    for i, w in enumerate(values):
        ax = fig.add_subplot(1, len(values), i + 1)
        _, _, grad, *_ = _draw_slope(ax, w, lr, curve)
        ax.set_title(f"$W_{{I1}}$ = {w:.1f}: slope {grad:+.3f}")
        if i:
            ax.get_legend().remove()
            ax.set_ylabel("")
    fig.suptitle(f"The tangent at three weights, and where one step with learning rate η = {lr:g} lands")
    return fig


# ----------------------------------------------------------------------------- lesson: the step h
def gradcheck_errors(steps) -> np.ndarray:
    r"""The gradient check's largest relative error on the half-adder network for each step ``h``.

    Too large an h and the difference quotient's $O(h^2)$ truncation error shows; too small and the
    rounding error of $L(w \pm h)$, about $10^{-16}/h$, does. In float64 the best h is near $10^{-5}$.

    Example:
        >>> errors = gradcheck_errors([1e-1, 1e-5, 1e-12])
        >>> bool(errors[1] < 1e-8 and errors[0] > 1e-4 and errors[2] > 1e-6)
        True
    """
    X, T = _half_adder_data()
    exact = backprop_minibatch(X, T)["grads"]
    out = []
    for h in np.asarray(steps, dtype=np.float64):
        num = numerical_gradients(X, T, h=float(h))
        out.append(max(float(np.max(relative_error(exact[k], num[k]))) for k in exact))
    return np.array(out)


_STEP_GRID = 10.0 ** np.arange(-12.0, -0.5 + 1e-9, 0.25)


@functools.lru_cache(maxsize=1)
def _grid_errors() -> np.ndarray:
    return gradcheck_errors(_STEP_GRID)


def _draw_steps(ax, log_h: float, artists: dict | None, errors: np.ndarray, label: str = "current h"):
    err = float(gradcheck_errors([10.0**log_h])[0])
    if artists is None:
        artists = {
            "curve": ax.loglog(_STEP_GRID, errors, color=BLUE, label="largest relative error")[0],
            "point": ax.loglog([10.0**log_h], [err], "o", color=VERMILLION, label=label)[0],
        }
        ax.axhline(1e-6, color="black", linestyle=":", label="a common pass mark, 1e-6")
        ax.set_xlabel("finite-difference step h")
        ax.set_ylabel("relative error against backprop")
        ax.legend(loc="upper center", fontsize=8)
    else:
        artists["point"].set_data([10.0**log_h], [err])
    return artists, err


def gradcheck_step(log_h: float = -6.0):
    r"""Lesson: the finite-difference step h against the gradient check's error, on the 2-3-2 network.

    Slider ``log_h``: $\log_{10} h$ from −12 to −1. The curve is the check's largest relative error
    over all 17 weights; the point is the current h. Large h: the centred difference's $O(h^2)$ error;
    tiny h: floating-point rounding, growing like $1/h$.

    Example:
        >>> lesson = gradcheck_step()
        >>> lesson.set(log_h=-2.0).text.startswith("h = 1e-02")
        True
    """
    from matplotlib.figure import Figure

    from ._core import Lesson, float_slider

    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    errors = _grid_errors()
    state: dict = {}

    def draw(log_h: float) -> str:
        artists, err = _draw_steps(ax, log_h, state.get("artists"), errors)
        state["artists"] = artists
        ax.set_title(f"h = {10.0**log_h:.0e}: relative error {err:.1e}")
        verdict = "passes" if err < 1e-6 else "fails"
        return f"h = {10.0**log_h:.0e}: largest relative error {err:.1e}; the check {verdict} at 1e-6"

    return Lesson(
        {"log_h": float_slider("log10 of the step h", log_h, -12.0, -1.0, 0.25)},
        fig,
        draw,
        title="How small should the step of a gradient check be?",
    )


def gradcheck_step_figure(marks=(-10.0, -5.0, -2.0)):
    """The static version of ``gradcheck_step``: the error curve with three steps h marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    errors = _grid_errors()
    _draw_steps(ax, marks[0], None, errors, label=f"h = {10.0 ** marks[0]:.0e}")
    for log_h, colour in zip(marks[1:], (GREEN, ORANGE)):
        err = float(gradcheck_errors([10.0**log_h])[0])
        ax.loglog([10.0**log_h], [err], "o", color=colour, label=f"h = {10.0**log_h:.0e}")
    ax.legend(loc="upper center", fontsize=8)
    ax.set_title("Gradient-check error against the step h")
    return fig
