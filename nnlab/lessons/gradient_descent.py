r"""Chapter 2's functions and lessons: gradient descent on the bowl $J(x_1, x_2) = x_1^2 + x_2^2$.

Honchar's lecture starts at $x^{(0)} = (5, 5)$ with learning rate $\eta = 0.1$ and applies

$$x^{(k+1)} = x^{(k)} - \eta\,\nabla J(x^{(k)}),\qquad \nabla J(x) = 2x,$$

which gives $(4, 4)$, then $(3.2, 3.2)$. On this bowl each step multiplies $x$ by $1 - 2\eta$, so
the step size alone decides whether descent converges, oscillates or diverges. The module also holds
the stretched bowl $J = s_1 x_1^2 + s_2 x_2^2$ where momentum pays off, and the minibatch gradient of a
straight-line fit, the estimate stochastic gradient descent follows.

Chapter: 2, gradient descent.
"""

from __future__ import annotations

import numpy as np

from .._checks import fail
from ..np_nn.module import Module
from ._core import Lesson, float_slider, int_slider

__all__ = [
    "Bowl",
    "bowl",
    "bowl_gradient",
    "descent_path",
    "learning_rate",
    "linear_gradient",
    "minibatch",
    "minibatch_figure",
    "minibatch_gradients",
    "momentum",
    "noisy_line",
    "regime",
    "step_factor",
]

BLUE, VERMILLION, GREEN, ORANGE = "#0072B2", "#D55E00", "#009E73", "#E69F00"
START = (5.0, 5.0)
"""Honchar's lecture's starting point $x^{(0)}$."""
STRETCHED = (1.0, 10.0)
"""The scales $(s_1, s_2)$ of the stretched bowl $J = x_1^2 + 10 x_2^2$ used for momentum."""


def bowl(x, scale=(1.0, 1.0)) -> np.ndarray:
    r"""The bowl $J(x) = s_1 x_1^2 + s_2 x_2^2$; the lecture's $J = x_1^2 + x_2^2$ has $s = (1, 1)$.

    Shapes: x (..., 2) -> J (...).

    Example:
        >>> float(bowl([5.0, 5.0]))
        50.0

    Chapter: 2, gradient descent.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.sum(np.asarray(scale) * x**2, axis=-1)  # J = Σ s_i x_i²


def bowl_gradient(x, scale=(1.0, 1.0)) -> np.ndarray:
    r"""The gradient $\nabla J(x) = (2 s_1 x_1,\ 2 s_2 x_2)$ of ``bowl``.

    Shapes: x (..., 2) -> gradient (..., 2).

    Example:
        >>> bowl_gradient([5.0, 5.0]).tolist()       # the lecture's ∇J(x⁽⁰⁾)
        [10.0, 10.0]

    Chapter: 2, gradient descent.
    """
    x = np.asarray(x, dtype=np.float64)
    return 2 * np.asarray(scale) * x  # ∂J/∂x_i = 2 s_i x_i


class Bowl(Module):
    r"""The bowl as a module whose one parameter is the point $x$, so a library optimiser can walk it.

    ``forward()`` returns $J(x)$; ``backward()`` writes $\nabla J(x) = 2 s \odot x$ into
    ``grads["x"]``. Then ``nnlab.np_nn.optim.SGD(bowl, lr=0.1).step()`` is one step of the lecture's
    update $x \leftarrow x - \eta \nabla J(x)$.

    Example:
        >>> from nnlab.np_nn.optim import SGD
        >>> point = Bowl((5.0, 5.0))
        >>> opt = SGD(point, lr=0.1)
        >>> for _ in range(2):
        ...     J = point.forward()
        ...     point.backward()
        ...     opt.step()
        >>> point.params["x"].tolist()
        [3.2, 3.2]

    Chapter: 2, gradient descent.
    """

    def __init__(self, start=START, scale=(1.0, 1.0)) -> None:
        super().__init__()
        self.scale = tuple(float(s) for s in scale)
        self.params["x"] = np.array(start, dtype=np.float64)
        self.grads["x"] = np.zeros(2)

    def forward(self, x=None) -> float:
        return float(bowl(self.params["x"], self.scale))  # J(x) = Σ s_i x_i²

    def backward(self, dout: float = 1.0) -> None:
        self.grads["x"][...] = dout * bowl_gradient(self.params["x"], self.scale)  # ∇J = 2 s ⊙ x

    def __repr__(self) -> str:
        return f"Bowl(x={self.params['x'].tolist()}, scale={self.scale})"


def descent_path(
    start=START, lr: float = 0.1, steps: int = 10, *, momentum: float = 0.0, scale=(1.0, 1.0)
) -> np.ndarray:
    r"""Every point gradient descent visits on ``bowl``, from ``start``, in ``steps`` steps.

    Plain ($\alpha = 0$): $x \leftarrow x - \eta \nabla J(x)$. With momentum $\alpha$ (the lectures'
    "add a fraction of the last change"; Honchar writes $\alpha = 1 - \mu$):

    $$v \leftarrow \alpha v - \eta \nabla J(x),\qquad x \leftarrow x + v.$$

    Shapes: start (2,) -> path (steps + 1, 2), the start first.

    Example:
        >>> descent_path((5, 5), lr=0.1, steps=2).tolist()     # the lecture's two steps by hand
        [[5.0, 5.0], [4.0, 4.0], [3.2, 3.2]]

    Chapter: 2, gradient descent.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise fail("descent_path", f"expected steps to be a whole number >= 0; got {steps!r}.")
    x = np.array(start, dtype=np.float64)
    v = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(steps):
        v = momentum * v - lr * bowl_gradient(x, scale)  # v ← αv − η∇J(x)
        x = x + v  # x ← x + v
        path.append(x.copy())
    return np.array(path)


def step_factor(lr: float) -> float:
    r"""What one step of gradient descent multiplies $x$ by on $J = x_1^2 + x_2^2$: $1 - 2\eta$.

    $$x - \eta \cdot 2x = (1 - 2\eta)\,x$$

    Example:
        >>> step_factor(0.1)
        0.8

    Chapter: 2, gradient descent.
    """
    return 1.0 - 2.0 * lr  # x ← (1 − 2η) x


def regime(lr: float) -> str:
    r"""What gradient descent does on $J = x_1^2 + x_2^2$ with learning rate $\eta$, from $x \leftarrow (1 - 2\eta)x$.

    - $0 < \eta < 0.5$: the factor is in (0, 1): "converges" monotonically;
    - $\eta = 0.5$: the factor is 0: "one step" to the minimum;
    - $0.5 < \eta < 1$: the factor is in (-1, 0): "oscillates and converges";
    - $\eta = 1$: the factor is -1: "oscillates for ever" between $x$ and $-x$;
    - $\eta > 1$: $|1 - 2\eta| > 1$: "diverges", flipping sign and growing;
    - $\eta = 0$: "stays put"; $\eta < 0$ climbs the bowl: "diverges".

    Example:
        >>> [regime(lr) for lr in (0.1, 0.5, 0.7, 1.0, 1.1)]
        ['converges', 'one step', 'oscillates and converges', 'oscillates for ever', 'diverges']

    Chapter: 2, gradient descent.
    """
    factor = step_factor(lr)
    if factor == 1.0:
        return "stays put"
    if factor == 0.0:
        return "one step"
    if factor == -1.0:
        return "oscillates for ever"
    if abs(factor) > 1.0:
        return "diverges"
    return "converges" if factor > 0 else "oscillates and converges"


# ----------------------------------------------------------------------------- minibatches
TRUE_LINE = (3.0, 1.0)
"""The slope and intercept behind ``noisy_line``: y = 3x + 1 + noise."""


def noisy_line(n: int = 1000, *, noise: float = 0.5, rng=0) -> tuple[np.ndarray, np.ndarray]:
    r"""A straight-line regression set: $y = 3x + 1 + \varepsilon$, $x \sim U(-1, 1)$, $\varepsilon \sim N(0, \text{noise}^2)$.

    Shapes: X (n, 1) float64 -> y (n, 1) float64.

    Example:
        >>> X, y = noisy_line(5)
        >>> X.shape, y.shape
        ((5, 1), (5, 1))

    Chapter: 2, gradient descent.
    """
    rng = np.random.default_rng(rng)
    X = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = TRUE_LINE[0] * X + TRUE_LINE[1] + noise * rng.standard_normal((n, 1))
    return X, y


def linear_gradient(X, y, w: float, b: float) -> np.ndarray:
    r"""The gradient $(\partial L/\partial w, \partial L/\partial b)$ of the line $\hat y = w x + b$ on a batch.

    $$L = \frac{1}{N}\sum_{i} \tfrac12 (\hat y_i - y_i)^2,\qquad
      \frac{\partial L}{\partial w} = \frac{1}{N}\sum_i (\hat y_i - y_i)\,x_i,\qquad
      \frac{\partial L}{\partial b} = \frac{1}{N}\sum_i (\hat y_i - y_i)$$

    the loss of ``nnlab.np_nn.MSELoss()`` (the lectures' ½ convention).

    Shapes: X (N, 1), y (N, 1) -> gradient (2,), for a batch of N examples.

    Example:
        >>> linear_gradient(np.array([[1.0], [2.0]]), np.array([[1.0], [1.0]]), w=1.0, b=0.0).tolist()
        [1.0, 0.5]

    Chapter: 2, gradient descent.
    """
    x, y = np.asarray(X, dtype=np.float64)[:, 0], np.asarray(y, dtype=np.float64)[:, 0]
    error = w * x + b - y  # ŷ − y
    return np.array([np.mean(error * x), np.mean(error)])  # (1/N) Σ (ŷ − y)(x, 1)


def minibatch_gradients(X, y, w: float, b: float, batch_size: int, n_batches: int = 200, *, rng=0):
    r"""``n_batches`` minibatch estimates of the gradient, each from ``batch_size`` random examples.

    $$\frac{1}{N}\sum_{j=1}^{N} \nabla \ell_j \approx \frac{1}{n}\sum_{i=1}^{n} \nabla \ell_i = \nabla L$$

    Each batch is drawn without replacement; the estimates scatter around the full gradient with a
    spread that shrinks like $1/\sqrt{N}$ ($N$ = ``batch_size``, $n$ = the number of examples).

    Shapes: X (n, 1), y (n, 1) -> estimates (n_batches, 2), columns (dL/dw, dL/db).

    Example:
        >>> X, y = noisy_line(100)
        >>> full = linear_gradient(X, y, 0.0, 0.0)
        >>> bool(np.allclose(minibatch_gradients(X, y, 0.0, 0.0, 100, 3), full))   # N = n is exact
        True

    Chapter: 2, gradient descent.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or not 1 <= batch_size <= n
    ):
        raise fail(
            "minibatch_gradients",
            f"expected batch_size between 1 and the number of examples, {n}; got {batch_size!r}.",
        )
    rng = np.random.default_rng(rng)
    estimates = []
    for _ in range(n_batches):
        rows = rng.choice(n, size=batch_size, replace=False)
        estimates.append(linear_gradient(X[rows], y[rows], w, b))
    return np.array(estimates)


# ----------------------------------------------------------------------------- lessons
def _contours(ax, scale, lim: float) -> None:
    grid = np.linspace(-lim, lim, 201)
    g1, g2 = np.meshgrid(grid, grid)
    J = bowl(np.stack([g1, g2], axis=-1), scale)
    levels = np.geomspace(0.5, J.max(), 12)
    contour = ax.contour(g1, g2, J, levels=levels, colors="0.65", linewidths=0.8)
    ax.clabel(contour, levels[::3], fontsize=7, fmt="%.0f")
    ax.plot([0], [0], "k+", markersize=10)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def learning_rate(lr: float = 0.1, steps: int = 12) -> Lesson:
    r"""A slider for the learning rate $\eta$ of gradient descent on $J = x_1^2 + x_2^2$ from (5, 5).

    Left: the contours of $J$ and the path; right: $x_1^{(k)}$ against the step $k$, next to the
    prediction $5\,(1 - 2\eta)^k$. Small $\eta$ creeps down, $\eta = 0.5$ lands in one step,
    $0.5 < \eta < 1$ overshoots and oscillates in, $\eta = 1$ bounces for ever and $\eta > 1$
    diverges. The text names the regime.

    Sliders: ``lr`` in [0.01, 1.2] (steps of 0.01) and ``steps`` in [1, 30].

    Example:
        >>> lesson = learning_rate()
        >>> lesson.set(lr=0.75).text.split(":")[0]
        'η = 0.75, x ← (1 − 2η) x = -0.50 x'

    Chapter: 2, gradient descent.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.0, 3.8), layout="constrained")
    ax_path, ax_k = figure.subplots(1, 2)
    _contours(ax_path, (1.0, 1.0), 8.0)
    (path_line,) = ax_path.plot([], [], "o-", color=BLUE, markersize=4, label="gradient descent")
    ax_path.plot(*START, "s", color="black", label="start (5, 5)")
    ax_path.legend(loc="lower left", fontsize=8)
    (x1_line,) = ax_k.plot([], [], "o-", color=BLUE, markersize=4, label="$x_1^{(k)}$, descent")
    (predicted,) = ax_k.plot([], [], "--", color=VERMILLION, label=r"$5\,(1 - 2\eta)^k$")
    ax_k.axhline(0, color="0.6", linewidth=0.8)
    ax_k.set_ylim(-10, 10)
    ax_k.set_xlim(0, 30)  # the steps slider's range, fixed: the axes are drawn once, only the lines move
    ax_k.set_xlabel("step k")
    ax_k.set_ylabel("$x_1^{(k)}$")
    ax_k.legend(loc="upper right", fontsize=8)

    def draw(lr: float, steps: int) -> str:
        path = descent_path(START, lr, steps)
        path_line.set_data(path[:, 0], path[:, 1])
        k = np.arange(steps + 1)
        x1_line.set_data(k, path[:, 0])
        fine = np.linspace(0, steps, 400) if step_factor(lr) >= 0 else k
        predicted.set_data(fine, START[0] * step_factor(lr) ** fine)  # x⁽ᵏ⁾ = (1 − 2η)ᵏ x⁽⁰⁾
        what = regime(lr)
        ax_path.set_title(f"η = {lr:.2f}: {what}")
        ax_k.set_title(f"each step multiplies x by 1 − 2η = {step_factor(lr):+.2f}")
        return (
            f"η = {lr:.2f}, x ← (1 − 2η) x = {step_factor(lr):.2f} x: {what};"
            f" after {steps} steps x = ({path[-1, 0]:.3g}, {path[-1, 1]:.3g}), J = {bowl(path[-1]):.3g}"
        )

    sliders = {
        "lr": float_slider("learning rate η", lr, 0.01, 1.2, 0.01),
        "steps": int_slider("steps", steps, 1, 30),
    }
    return Lesson(
        sliders, figure, draw, title="Gradient descent on J = x1² + x2²: choose the learning rate η"
    )


def _steps_to(path: np.ndarray, scale, tol: float = 1e-3) -> int | None:
    """The first step at which J falls below ``tol``, or None."""
    below = np.flatnonzero(bowl(path, scale) < tol)
    return int(below[0]) if below.size else None


def momentum(alpha: float = 0.5, lr: float = 0.08, steps: int = 60, start=(-8.0, 2.0)) -> Lesson:
    r"""Sliders for the momentum $\alpha$ and the learning rate $\eta$ on the stretched bowl $J = x_1^2 + 10 x_2^2$.

    Plain gradient descent (blue) zig-zags across the narrow valley and crawls along it; with
    momentum (vermillion), $v \leftarrow \alpha v - \eta \nabla J$, $x \leftarrow x + v$, the
    zig-zags cancel and the steps along the valley add up. Right: $J$ against the step for both, on a
    log scale. The text counts the steps each needs to reach $J < 10^{-3}$.

    Sliders: ``alpha`` in [0, 0.95] and ``lr`` in [0.01, 0.1].

    Example:
        >>> lesson = momentum()
        >>> lesson.set(alpha=0.0).text.startswith("plain descent")
        True

    Chapter: 2, gradient descent.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.0, 3.8), layout="constrained")
    ax_path, ax_J = figure.subplots(1, 2, width_ratios=(1.6, 1.0))
    grid1, grid2 = np.linspace(-9, 9, 241), np.linspace(-3.5, 3.5, 121)
    g1, g2 = np.meshgrid(grid1, grid2)
    J = bowl(np.stack([g1, g2], axis=-1), STRETCHED)
    ax_path.contour(g1, g2, J, levels=np.geomspace(0.3, J.max(), 12), colors="0.65", linewidths=0.8)
    ax_path.plot([0], [0], "k+", markersize=10)
    ax_path.set_aspect("equal")
    ax_path.set_xlabel("$x_1$")
    ax_path.set_ylabel("$x_2$")
    (plain_line,) = ax_path.plot([], [], "o-", color=BLUE, markersize=3, label="plain descent")
    (momentum_line,) = ax_path.plot([], [], "o-", color=VERMILLION, markersize=3, label="with momentum")
    ax_path.legend(loc="upper right", fontsize=8)
    (plain_J,) = ax_J.semilogy([], [], color=BLUE, label="plain")
    (momentum_J,) = ax_J.semilogy([], [], color=VERMILLION, label="momentum")
    ax_J.axhline(1e-3, color="0.6", linestyle=":", label="$J = 10^{-3}$")
    ax_J.set_xlim(0, steps)
    ax_J.set_ylim(1e-8, 1e4)
    ax_J.set_xlabel("step k")
    ax_J.set_ylabel("$J(x^{(k)})$ (log scale)")
    ax_J.legend(loc="upper right", fontsize=8)

    def draw(alpha: float, lr: float) -> str:
        plain = descent_path(start, lr, steps, scale=STRETCHED)
        heavy = descent_path(start, lr, steps, momentum=alpha, scale=STRETCHED)
        plain_line.set_data(plain[:, 0], plain[:, 1])
        momentum_line.set_data(heavy[:, 0], heavy[:, 1])
        k = np.arange(steps + 1)
        plain_J.set_data(k, bowl(plain, STRETCHED))
        momentum_J.set_data(k, bowl(heavy, STRETCHED))
        ax_path.set_title(f"J = x1² + 10 x2², η = {lr:.3f}, α = {alpha:.2f}")

        def count(path):
            n = _steps_to(path, STRETCHED)
            return f"after {n} steps" if n is not None else f"not within {steps} steps"

        return (
            f"plain descent reaches J < 0.001 {count(plain)}; with momentum α = {alpha:.2f}, {count(heavy)}"
        )

    sliders = {
        "alpha": float_slider("momentum α", alpha, 0.0, 0.95, 0.05),
        "lr": float_slider("learning rate η", lr, 0.01, 0.1, 0.005),
    }
    return Lesson(sliders, figure, draw, title="Momentum on a narrow valley")


def minibatch(batch_size: int = 10, n_batches: int = 200, w: float = 0.0, b: float = 0.0) -> Lesson:
    r"""A slider for the batch size: minibatch gradients of a line fit, scattered around the full gradient.

    Each dot is one minibatch's estimate $(\partial L/\partial w, \partial L/\partial b)$ at the
    weights $(w, b)$, for the 1,000 examples of ``noisy_line``; the black cross is the full gradient.
    A batch of 1 (stochastic gradient descent) points roughly the right way but scatters widely;
    the cloud shrinks like $1/\sqrt{N}$ as the batch size $N$ grows.

    Sliders: ``batch_size`` in [1, 200].

    Example:
        >>> lesson = minibatch()
        >>> lesson.set(batch_size=100).text.startswith("N = 100")
        True

    Chapter: 2, gradient descent.
    """
    from matplotlib.figure import Figure

    X, y = noisy_line()
    full = linear_gradient(X, y, w, b)
    figure = Figure(figsize=(5.0, 4.2), layout="constrained")
    ax = figure.add_subplot()
    cloud = _gradient_cloud(ax, np.empty((0, 2)), full)

    def draw(batch_size: int) -> str:
        estimates = minibatch_gradients(X, y, w, b, batch_size, n_batches)
        cloud.set_offsets(estimates)
        spread = np.sqrt(np.mean(np.sum((estimates - full) ** 2, axis=1)))  # RMS distance to ∇L
        ax.set_title(f"batch size N = {batch_size}: spread {spread:.2f}")
        return f"N = {batch_size}: {n_batches} estimates, RMS distance to the full gradient {spread:.3f}"

    return Lesson(
        {"batch_size": int_slider("batch size N", batch_size, 1, 200)},
        figure,
        draw,
        title="Minibatch gradients estimate the full gradient",
    )


def minibatch_figure(batch_sizes=(1, 10, 100), n_batches: int = 200, w: float = 0.0, b: float = 0.0):
    r"""The static twin of ``minibatch``: the cloud of minibatch gradients for a few batch sizes side by side.

    Example:
        >>> fig = minibatch_figure((1, 100))
        >>> [ax.get_title() for ax in fig.axes]
        ['batch size N = 1', 'batch size N = 100']

    Chapter: 2, gradient descent.
    """
    from matplotlib.figure import Figure

    X, y = noisy_line()
    full = linear_gradient(X, y, w, b)
    figure = Figure(figsize=(3 * len(batch_sizes), 3.2), layout="constrained")
    for i, size in enumerate(batch_sizes):
        ax = figure.add_subplot(1, len(batch_sizes), i + 1)
        _gradient_cloud(ax, minibatch_gradients(X, y, w, b, size, n_batches, rng=1), full, legend=i == 0)
        ax.set_title(f"batch size N = {size}")
        if i > 0:
            ax.set_ylabel("")
    return figure


def _gradient_cloud(ax, estimates: np.ndarray, full: np.ndarray, *, legend: bool = True):
    """Scatter minibatch gradient estimates around the full gradient (a black cross); returns the scatter."""
    cloud = ax.scatter(
        estimates[:, 0], estimates[:, 1], s=8, color=BLUE, alpha=0.5, label="minibatch estimates"
    )
    ax.plot(*full, "kx", markersize=10, mew=2.5, label="full gradient")
    ax.set_xlim(full[0] - 4, full[0] + 4)
    ax.set_ylim(full[1] - 4, full[1] + 4)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$\partial L / \partial w$")
    ax.set_ylabel(r"$\partial L / \partial b$")
    if legend:
        ax.legend(loc="upper left", fontsize=7)
    return cloud
