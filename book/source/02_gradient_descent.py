# %% [markdown]
# # Chapter 2 · Gradient descent: rolling down a bowl
#
# **What you will be able to do after this chapter**
#
# - take a gradient-descent step by hand, and check it against the library's optimiser and PyTorch;
# - say, for the bowl $J = x_1^2 + x_2^2$, which learning rates $\eta$ converge, which oscillate and
#   which diverge, and why the boundaries sit at $\eta = 0.5$ and $\eta = 1$;
# - explain why the learning rate and the starting point decide which minimum of a bumpy cost you
#   land in, and how a learning rate that is too large kills ReLU units;
# - fit a line by minibatch stochastic gradient descent, and measure how bigger batches allow bolder steps;
# - describe what momentum and the adaptive optimisers (Adagrad, RMSProp, Adadelta, Adam) add.
#
# The worked example is the one in Honchar's lecture (University of Verona); Krippahl's, Chang's and
# Kheradpisheh's lectures describe the stochastic and minibatch variants, Honchar's and
# Kheradpisheh's lectures add momentum, and Chang's lecture the adaptive optimisers. The symbols are
# the book's [notation](01_perceptron.ipynb#Notation-used-in-this-book): $\eta$ is the learning rate
# (Honchar's lecture writes $\lambda$, a letter this book keeps for regularisation).

# %%
# %matplotlib inline
import warnings

import numpy as np
import torch
from matplotlib.figure import Figure

import nnlab
from nnlab import lessons
from nnlab import np_nn as nn
from nnlab.lessons import gradient_descent as gd
from nnlab.lessons import playground as pg

# %% [markdown]
# ## 2.1 Downhill on a bowl, by hand
#
# Training a network means making a cost small. Before any network, take the smallest example there is:
#
# $$J(x_1, x_2) = x_1^2 + x_2^2 .$$
#
# On this chapter's bowls and valleys (everywhere but the line fit of section 2.4) there are no
# inputs: the point $x = (x_1, x_2)$ is what gradient descent moves, playing the part of the weights,
# and $J$, as in Honchar's lecture, is a cost given as a plain formula rather than the book's loss
# $L$ averaged over examples.
#
# Its gradient $\nabla J = (\partial J/\partial x_1,\ \partial J/\partial x_2) = (2x_1,\ 2x_2)$ points
# where $J$ grows fastest, so a small step against it goes downhill. Gradient descent repeats that step
# with a **learning rate** (step size) $\eta$:
#
# $$x^{(k+1)} = x^{(k)} - \eta\,\nabla J\big(x^{(k)}\big).$$
#
# Start, as the lecture does, at $x^{(0)} = (5, 5)$ with $\eta = 0.1$. The gradient there is $(10, 10)$,
# so
#
# $$x^{(1)} = (5, 5) - 0.1\cdot(10, 10) = (4, 4),$$
#
# and from there the gradient is $(8, 8)$:
#
# $$x^{(2)} = (4, 4) - 0.1\cdot(8, 8) = (3.2, 3.2).$$
#
# The same two steps in code, one formula per line:

# %%
# NBVAL_CHECK_OUTPUT
eta = 0.1
x = np.array([5.0, 5.0])  # x⁽⁰⁾
for k in range(2):
    grad = 2 * x  # ∇J(x) = (2x₁, 2x₂)
    x = x - eta * grad  # x ← x − η ∇J(x)
    print(f"step {k + 1}: gradient {grad}, x = {x}, J = {gd.bowl(x):.2f}")

# %% [markdown]
# **Check.** The library's optimiser must take the same steps. `gd.Bowl` is the bowl written as a
# module whose only parameter is the point $x$: `backward()` puts $\nabla J$ in its `grads`, and
# `nn.optim.SGD` applies $x \leftarrow x - \eta \nabla J$. PyTorch, for its part, gets the gradient by
# automatic differentiation of `(x**2).sum()`, on `nnlab.device()`. All three print the point after
# the two steps:

# %%
# NBVAL_CHECK_OUTPUT
point = gd.Bowl(start=(5.0, 5.0))
optimizer = nn.optim.SGD(point, lr=0.1)
for _ in range(2):
    J = point.forward()
    point.backward()  # grads["x"] = ∇J(x)
    optimizer.step()  # x ← x − η ∇J(x)
print("np_nn SGD:     ", point.params["x"].round(12))

x_t = torch.tensor([5.0, 5.0], dtype=torch.float64, device=nnlab.device(), requires_grad=True)
torch_optimizer = torch.optim.SGD([x_t], lr=0.1)
for _ in range(2):
    torch_optimizer.zero_grad()
    (x_t**2).sum().backward()  # autograd: ∇J = 2x
    torch_optimizer.step()
print("PyTorch SGD:   ", x_t.detach().cpu().numpy().round(12))
print("descent_path:  ", gd.descent_path((5, 5), lr=0.1, steps=2)[-1].round(12))

# %% [markdown]
# Twelve steps, drawn on the contour lines of $J$ (circles: the bowl is round). Because the bowl is
# round, the path from $(5, 5)$ runs straight along the diagonal to the minimum at the origin.

# %%
path = gd.descent_path((5, 5), lr=0.1, steps=12)
fig = Figure(figsize=(4.5, 4.2), layout="constrained")
ax = fig.add_subplot()
g = np.linspace(-6, 6, 201)
g1, g2 = np.meshgrid(g, g)
contours = ax.contour(
    g1, g2, gd.bowl(np.stack([g1, g2], axis=-1)), levels=[1, 4, 9, 16, 25, 36, 50], colors="0.6"
)
ax.clabel(contours, fontsize=7, fmt="J=%.0f")
ax.plot(path[:, 0], path[:, 1], "o-", color="#0072B2", markersize=4, label=r"gradient descent, $\eta = 0.1$")
ax.plot(path[:3, 0], path[:3, 1], "o", color="#D55E00", markersize=7, label="(5, 5), (4, 4), (3.2, 3.2)")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_aspect("equal")
ax.legend(loc="lower left", fontsize=8)
ax.set_title("$J(x_1, x_2) = x_1^2 + x_2^2$")
fig

# %% [markdown]
# ## 2.2 How big a step? Converge, oscillate, diverge
#
# On this bowl one step has a closed form. Since $\nabla J(x) = 2x$,
#
# $$x^{(k+1)} = x^{(k)} - \eta \cdot 2 x^{(k)} = (1 - 2\eta)\, x^{(k)}, \qquad
#   x^{(k)} = (1 - 2\eta)^k\, x^{(0)} .$$
#
# Everything depends on the factor $1 - 2\eta$:
#
# | learning rate $\eta$ | factor $1 - 2\eta$ | what descent does |
# |---|---|---|
# | $0 < \eta < 0.5$ | between 0 and 1 | shrinks towards 0 from one side: **converges** |
# | $\eta = 0.5$ | 0 | lands on the minimum in **one step** |
# | $0.5 < \eta < 1$ | between −1 and 0 | overshoots, flips sign each step, and still shrinks: **oscillates and converges** |
# | $\eta = 1$ | −1 | bounces between $x$ and $-x$ **for ever** |
# | $\eta > 1$ | below −1 | flips and grows: **diverges** |
#
# The same argument works for any cost near a minimum, where it looks like a parabola
# $J \approx \tfrac12 J''\,(x - x^*)^2$: a step multiplies the distance to the minimum by
# $1 - \eta J''$, so descent can settle in that minimum only if $\eta < 2/J''$. Here $J'' = 2$ and the
# limit is $\eta < 1$. Chang's lecture makes the same point in words: timid steps take a long time to
# arrive, and steps that are too bold jump past the minimum, further each time, until the numbers blow
# up. Move the slider across 0.5 and 1 and watch the path change character.

# %%
lessons.learning_rate()

# %% [markdown]
# **Check.** The table's boundaries, computed by running descent for 40 steps and looking at what it did:
# whether $|x|$ shrank, and whether $x$ changed sign on the way.

# %%
# NBVAL_CHECK_OUTPUT
for eta in [0.1, 0.4, 0.5, 0.6, 0.9, 1.0, 1.1]:
    path = gd.descent_path((5, 5), lr=eta, steps=40)
    shrank = abs(path[-1, 0]) < abs(path[0, 0])
    flips = bool(np.any(path[1:, 0] * path[:-1, 0] < 0))
    print(
        f"η = {eta:.1f}: factor {gd.step_factor(eta):+.1f}, |x| shrank: {'yes' if shrank else 'no':<3},"
        f" sign flips: {'yes' if flips else 'no':<3}"
        f" -> {gd.regime(eta)}"
    )

# %% [markdown]
# The same picture without a kernel: $x_1^{(k)}$ for four learning rates, one from each row of the table.

# %%
fig = Figure(figsize=(9, 2.8), layout="constrained")
for i, (eta, colour) in enumerate(zip([0.1, 0.75, 1.0, 1.05], ["#0072B2", "#009E73", "#E69F00", "#D55E00"])):
    ax = fig.add_subplot(1, 4, i + 1)
    path = gd.descent_path((5, 5), lr=eta, steps=15)
    ax.plot(path[:, 0], "o-", color=colour, markersize=3)
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.set_ylim(-12, 12)
    ax.set_title(f"η = {eta}: {gd.regime(eta)}", fontsize=9)
    ax.set_xlabel("step k")
    if i == 0:
        ax.set_ylabel("$x_1^{(k)}$")
fig

# %% [markdown]
# ## 2.3 A bumpy cost: the learning rate and the start decide where you land
#
# A bowl has one minimum, and any $\eta$ below the limit finds it. A network's cost has many dips,
# and Chang's slide on choosing the learning rate, met in section 2.2, says more about them: a timid
# step can also come to rest in a poor dip that is not the lowest, while a step of the right size
# travels steadily past such dips. Kheradpisheh's lecture adds two slides whose titles say it all:
# "initial weights matter" and "learning rate matters". To see both, take a wide bowl with a narrow dip
# in its side,
#
# $$J(w) = 0.1\,w^2 - 0.3\, e^{-(w - 2)^2 / (2 \cdot 0.25^2)} .$$
#
# Its **global** minimum is $w = 0$, where $J = 0$. The dip makes a **local** minimum at
# $w \approx 1.92$, higher ($J \approx 0.084$) and sharp: its curvature is $J'' \approx 4.2$, so by the
# rule of section 2.2 it can hold descent only if $\eta < 2/4.2 \approx 0.47$. The wide bowl has
# $J'' = 0.2$ and holds any $\eta < 10$. Gradient descent, 200 steps, from four settings:


# %%
# NBVAL_CHECK_OUTPUT
def bumpy(w):
    return 0.1 * w**2 - 0.3 * np.exp(-((w - 2) ** 2) / (2 * 0.25**2))  # J(w)


def bumpy_gradient(w):
    return 0.2 * w + 0.3 * (w - 2) / 0.25**2 * np.exp(-((w - 2) ** 2) / (2 * 0.25**2))  # J′(w)


def descend(w, eta, steps=200):
    path = [w]
    for _ in range(steps):
        w = w - eta * bumpy_gradient(w)  # w ← w − η J′(w)
        path.append(w)
    return np.array(path)


settings = {"small step from +3": (3.0, 0.3), "small step from −3": (-3.0, 0.3),
            "bold step from +3": (3.0, 2.0), "too bold from +3": (3.0, 10.5)}  # fmt: skip
paths = {}
with np.errstate(over="ignore", invalid="ignore"):
    for name, (start, eta) in settings.items():
        paths[name] = descend(start, eta)
        w_end = paths[name][-1]
        if abs(w_end) > 1e3:
            print(f"{name:<20} η = {eta:<4}: |w| > 1000 after 200 steps, diverged")
        else:
            where = "local minimum" if w_end > 1 else "global minimum"
            print(f"{name:<20} η = {eta:<4}: |w| after 200 steps = {abs(w_end):.3f}, {where}")

# %%
fig = Figure(figsize=(10, 3.4), layout="constrained")
ax, ax_w = fig.subplots(1, 2)
w_grid = np.linspace(-3.5, 3.5, 701)
ax.plot(w_grid, bumpy(w_grid), color="0.3", label="$J(w)$")
colours = ["#0072B2", "#009E73", "#E69F00", "#D55E00"]
for (name, path), colour in zip(list(paths.items())[:3], colours):
    ax.plot(
        path[:30],
        bumpy(path[:30]),
        "o-",
        markersize=3,
        color=colour,
        label=f"{name}, η = {settings[name][1]}",
    )
ax.set_xlabel("w")
ax.set_ylabel("J(w)")
ax.set_ylim(-0.1, 1.3)
ax.legend(fontsize=7, loc="upper center")
ax.set_title("the first 30 steps on the cost")
for (name, path), colour in zip(paths.items(), colours):
    ax_w.plot(np.clip(path[:40], -5, 5), "o-", markersize=2, color=colour, label=name)
ax_w.axhline(1.9155, color="0.6", linestyle=":", label="local minimum w ≈ 1.92")
ax_w.axhline(0, color="0.6", linestyle="--", label="global minimum w = 0")
ax_w.set_ylim(-5.2, 5.2)
ax_w.set_xlabel("step k")
ax_w.set_ylabel("$w^{(k)}$ (clipped to ±5)")
ax_w.legend(fontsize=7, loc="lower right")
ax_w.set_title("where each run goes")
fig

# %% [markdown]
# With $\eta = 0.3$ the start decides: from $+3$ descent rolls into the nearby dip and stays there,
# from $-3$ it finds the global minimum (initial weights matter). From the same $+3$, the bold
# $\eta = 2$ overshoots the narrow dip, which cannot hold a step that large, and settles in the wide
# minimum; $\eta = 10.5$ is beyond even the wide bowl's limit of 10 and diverges (the learning rate
# matters). A network's cost has millions of dimensions rather than one, but the same two knobs,
# where the weights start and how large the steps are, decide which of its dips training ends in.
#
# ### A learning rate that is too large kills ReLU units
#
# Olteanu's lecture warns of a failure peculiar to the ReLU, $g(z) = \max(0, z)$. A ReLU unit whose
# weighted input is $z \le 0$ for *every* training example outputs 0 for all of them, and its
# derivative $g'(z) = 0$ is zero for all of them too, so no example can move its incoming weights any
# more. It is **dead**. In the first hidden layer, whose inputs are the fixed training points, plain
# gradient descent can never revive it; deeper in a network the unit's inputs still change as the
# layers before it learn, so it may come back, but, as the lecture says, it is unlikely to. One cause
# is a large negative bias; another is a step so large that a single update throws the unit's
# weights far into the negative region. The playground network of chapter 1 (8 ReLU units, circles,
# 100 epochs) counts its dead units for a few learning rates:

# %%
# NBVAL_CHECK_OUTPUT
X_circles, _, _, _ = pg.playground_data("circles")


def dead_units(params):
    """Hidden ReLU units whose weighted input z is ≤ 0 on every training example."""
    z = X_circles @ params["0.W"].T + params["0.b"]  # z = xW¹ᵀ + b¹, shape (n, 8)
    return int(np.sum(np.all(z <= 0, axis=0)))


for eta in [0.1, 1.0, 3.0, 10.0]:
    run = pg.train("circles", hidden=8, activation="ReLU", lr=eta, epochs=100)
    dead = [dead_units(run.params[epoch]) for epoch in (0, 1, 100)]
    print(f"η = {eta:>4}: dead units at the start {dead[0]}, after 1 epoch {dead[1]}, after 100 epochs"
          f" {dead[2]} of 8; train accuracy {run.train_acc[-1]:.0%};"
          f" loss after 50 epochs {run.train_loss[50]:.2f}, after 100 {run.train_loss[100]:.2f}")  # fmt: skip

# %% [markdown]
# At $\eta = 0.1$ all 8 units stay alive and the network learns the circles; at $\eta = 1$ one unit
# dies in the first epoch and the other seven still learn them. At $\eta = 3$ the first epoch kills 5
# (the accuracy stops at 84%), at $\eta = 10$ all 8, and in these runs no dead unit comes back. With
# no live unit left the network answers the same for every point, and its accuracy is that of a coin
# toss on these balanced classes; its loss can then be no lower than $\ln 2 \approx 0.693$, the loss
# of answering 0.5 everywhere (only the output's bias still learns, and at $\eta = 10$ it overshoots
# back and forth, hence 1.70 and 0.86). The cure the lecture gives is the first thing to try: a
# smaller learning rate (or, failing that, the leaky ReLU of chapter 4). See it in the playground:
# choose ReLU and $\eta = 3$ or 10.

# %%
lessons.training_playground("circles", hidden=8, activation="ReLU", lr=3.0, epochs=100)

# %% [markdown]
# Without a kernel: the same network with $\eta = 3$ after 0, 1 and 100 epochs. After the first
# epoch only 3 of the 8 units are alive. The survivors still learn, but a step this large keeps
# throwing them about: the training loss jumps between about 0.1 and 0.5 from one epoch to the
# next (0.12 after 50 epochs, 0.46 after 100, as printed above), where at $\eta = 0.1$ it falls
# smoothly.

# %%
lessons.playground_figure("circles", hidden=8, activation="ReLU", lr=3.0, epochs=(0, 1, 100))

# %% [markdown]
# ## 2.4 Stochastic gradient descent: estimating the gradient from a minibatch
#
# In a network the cost is an average over the $n$ training examples, $L = \frac{1}{n}\sum_i \ell_i$,
# and so is its gradient, $\nabla L = \frac{1}{n}\sum_i \nabla \ell_i$. With millions of examples one
# exact step costs a pass over all of them. Honchar's lecture replaces the average by one over a random
# **minibatch** of $N \ll n$ examples,
#
# $$\frac{1}{N}\sum_{j=1}^{N} \nabla \ell_{j} \;\approx\; \frac{1}{n}\sum_{i=1}^{n} \nabla \ell_i = \nabla L,$$
#
# and with $N = 1$ this is **stochastic gradient descent** (SGD). Krippahl's lecture calls that extreme
# online learning: the weights move after every single example, the examples taken in a shuffled order.
# Each estimate is unbiased (right on average) but noisy; the noise shrinks like $1/\sqrt{N}$.
#
# To see it, fit a line $\hat y = w x + b$ to $n = 1000$ noisy points made from $y = 3x + 1$ (plus
# Gaussian noise of standard deviation 0.5, `gd.noisy_line`) with the loss
# $L = \frac{1}{N}\sum \tfrac12 (\hat y - y)^2$ over a batch, whose gradient is
#
# $$\frac{\partial L}{\partial w} = \frac{1}{N}\sum (\hat y - y)\,x, \qquad
#   \frac{\partial L}{\partial b} = \frac{1}{N}\sum (\hat y - y).$$
#
# **Check** first that this formula is what the library's `Linear` layer and `MSELoss` compute by
# backpropagation, at the starting weights $w = b = 0$:

# %%
# NBVAL_CHECK_OUTPUT
X, y = gd.noisy_line(1000, rng=0)
line = nn.Linear(1, 1, dtype=np.float64)
line.params["W"][:] = 0.0
line.params["b"][:] = 0.0
loss = nn.MSELoss()  # L = (1/N) Σ ½ (ŷ − y)²
loss(line(X), y)
line.backward(loss.backward())
by_backprop = np.array([line.grads["W"][0, 0], line.grads["b"][0]])
by_formula = gd.linear_gradient(X, y, w=0.0, b=0.0)
print("full gradient by backprop:", by_backprop.round(4))
print("full gradient by formula: ", by_formula.round(4))

# %% [markdown]
# Now 200 minibatch estimates for each batch size. Their mean sits on the full gradient, and their
# spread (the root-mean-square distance from it) falls by about $\sqrt{10} \approx 3.2$ each time the
# batch grows tenfold:

# %%
# NBVAL_CHECK_OUTPUT
full = gd.linear_gradient(X, y, 0.0, 0.0)
for N in [1, 10, 100]:
    estimates = gd.minibatch_gradients(X, y, 0.0, 0.0, batch_size=N, n_batches=200, rng=1)
    spread = np.sqrt(np.mean(np.sum((estimates - full) ** 2, axis=1)))
    print(f"N = {N:>3}: mean estimate {estimates.mean(axis=0).round(2)}, spread {spread:.2f}")
print(f"full gradient:        {full.round(2)}")

# %%
gd.minibatch_figure([1, 10, 100])

# %% [markdown]
# The same cloud on a slider: slide the batch size from 1 (SGD) up to 200 and watch it tighten around
# the cross.

# %%
lessons.minibatch()

# %% [markdown]
# ### Fitting the line
#
# Minibatch SGD itself, one formula per line: each epoch shuffles the 1,000 points, cuts them into
# batches of $N$, and takes one step $w \leftarrow w - \eta\,\partial L/\partial w$ per batch. Three
# epochs with $N = 10$ and $\eta = 0.1$ are 300 steps:


# %%
# NBVAL_CHECK_OUTPUT
def sgd_line(X, y, eta, batch_size, epochs=3, rng=0):
    """Minibatch SGD for ŷ = wx + b from w = b = 0; returns every (w, b) it visits."""
    rng = np.random.default_rng(rng)
    w, b = 0.0, 0.0
    path = [(w, b)]
    for _ in range(epochs):
        order = rng.permutation(len(X))  # a fresh shuffle every epoch
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]  # one minibatch of N examples
            dw, db = gd.linear_gradient(X[rows], y[rows], w, b)  # (1/N) Σ (ŷ − y)(x, 1)
            w, b = w - eta * dw, b - eta * db  # w ← w − η ∂L/∂w, b ← b − η ∂L/∂b
            path.append((w, b))
    return np.array(path)


path = sgd_line(X, y, eta=0.1, batch_size=10)
best = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0].ravel()  # the exact least-squares line
print(f"after {len(path) - 1} steps: w = {path[-1, 0]:.3f}, b = {path[-1, 1]:.3f}")
print(f"least squares:     w = {best[0]:.3f}, b = {best[1]:.3f}   (the rule behind the data: w = 3, b = 1)")

# %%
fig = Figure(figsize=(10, 3.6), layout="constrained")
ax, ax_path = fig.subplots(1, 2)
ax.scatter(X[:, 0], y[:, 0], s=4, color="0.6", label="data: y = 3x + 1 + noise")
xs = np.array([-1.0, 1.0])
for step, colour in [(10, "#E69F00"), (50, "#009E73"), (300, "#0072B2")]:
    w_k, b_k = path[step]
    ax.plot(xs, w_k * xs + b_k, color=colour, label=f"after {step} steps: ŷ = {w_k:.2f}x + {b_k:.2f}")
ax.plot(xs, 3 * xs + 1, "--", color="black", label="the rule y = 3x + 1")
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(fontsize=7, loc="upper left")
ax.set_title("Minibatch SGD fits the line (N = 10, η = 0.1)")
ax_path.plot(path[:, 0], path[:, 1], "-", color="#0072B2", linewidth=0.8, label="(w, b) after each step")
ax_path.plot(*best, "kx", markersize=10, mew=2, label="least squares")
ax_path.set_xlabel("w")
ax_path.set_ylabel("b")
ax_path.legend(fontsize=8)
ax_path.set_title("the weights wander towards the best line")
fig

# %% [markdown]
# ### Bigger batches allow a bolder step
#
# A larger batch gives a gradient that points closer to the true downhill direction, so each step can
# be bolder; and the $N$ examples of one batch can be processed side by side on a GPU (Chang's lecture
# makes these points). Kheradpisheh's lecture adds the other side: the noise of small batches can
# shake descent out of a poor local minimum. To measure the first point, give every batch size the
# same budget of 3 epochs (3,000 examples seen: 3,000 steps for $N = 1$, 30 for $N = 100$) and
# compare, for several learning rates, how far the final loss is above the best possible one (the
# least-squares line's), averaged over three shuffles:


# %%
# NBVAL_CHECK_OUTPUT
def line_loss(w, b):
    return np.mean(0.5 * (w * X[:, 0] + b - y[:, 0]) ** 2)  # L = (1/n) Σ ½ (ŷ − y)²


etas = [0.01, 0.03, 0.1, 0.3, 1.0]
excess = {}
with np.errstate(over="ignore", invalid="ignore"):
    for N in [1, 10, 100]:
        excess[N] = [
            np.mean(
                [line_loss(*sgd_line(X, y, eta, N, rng=seed)[-1]) - line_loss(*best) for seed in range(3)]
            )
            for eta in etas
        ]
        print(f"N = {N:>3}: " + "  ".join(f"η={eta}: {e:.0e}" for eta, e in zip(etas, excess[N])))
        print(f"         best learning rate {etas[int(np.argmin(excess[N]))]}")

# %%
fig = Figure(figsize=(5.5, 3.6), layout="constrained")
ax = fig.add_subplot()
for (N, values), colour, marker in zip(excess.items(), ["#D55E00", "#009E73", "#0072B2"], ["o", "s", "^"]):
    ax.loglog(etas, values, marker=marker, color=colour, label=f"batch size N = {N}")
ax.set_xlabel("learning rate η")
ax.set_ylabel("final loss − best loss (after 3 epochs)")
ax.set_title("The best step grows with the batch")
ax.legend(fontsize=8)
fig

# %% [markdown]
# With one example per step, the best learning rate of this ladder is the smallest, 0.01: any bolder
# step and the noise of single examples throws the weights about (at $\eta = 1$ the final loss is
# about 0.6 above the best). With 100 examples per step the best is the largest, 1.0, a hundred times
# bolder, and small steps are hopeless: 30 steps of $\eta = 0.01$ barely leave the start. Batches of
# 10 sit in between, best at 0.1. (Part of this is the budget: a large batch takes fewer steps per
# epoch, so it needs larger ones; the other part is the noise, which punishes a bold step less when
# it is averaged over more examples.) The lesson, which deep-learning practice repeats: when you grow
# the batch, you can (and should) grow the learning rate with it.
#
# ## 2.5 Momentum
#
# On a round bowl the gradient points straight at the minimum. Real costs look more like a long, narrow
# valley, such as $J = x_1^2 + 10\,x_2^2$: across the valley the slope is steep, so a step large enough
# to make progress along it overshoots across it, and descent zig-zags. **Momentum** lets each step keep
# a fraction $\alpha$ of the previous one:
#
# $$v^{(k+1)} = \alpha\, v^{(k)} - \eta \nabla J\big(x^{(k)}\big), \qquad x^{(k+1)} = x^{(k)} + v^{(k+1)}.$$
#
# Honchar's lecture writes $\alpha = 1 - \mu$ with a friction $\mu$ (the "slippage coefficient" is
# $1 - \mu$), and Kheradpisheh's lecture puts it as "add a fraction of the last change to the current
# change". Zig-zags across the valley point in alternating directions and cancel in $v$; steps along
# the valley point the same way and add up. `nn.optim.SGD(model, lr, momentum=α)` (or `friction=μ`)
# is this rule.
#
# **Check** that the library's optimiser and PyTorch's follow the formula, for $\alpha = 0.5$: all three
# end at the same point after 30 steps.

# %%
# NBVAL_CHECK_OUTPUT
start, eta, alpha = (-8.0, 2.0), 0.08, 0.5
by_formula = gd.descent_path(start, lr=eta, steps=30, momentum=alpha, scale=gd.STRETCHED)

point = gd.Bowl(start, scale=gd.STRETCHED)
optimizer = nn.optim.SGD(point, lr=eta, momentum=alpha)
x_t = torch.tensor(start, dtype=torch.float64, device=nnlab.device(), requires_grad=True)
torch_optimizer = torch.optim.SGD([x_t], lr=eta, momentum=alpha)
scale_t = torch.tensor(gd.STRETCHED, dtype=torch.float64, device=nnlab.device())
for _ in range(30):
    point.forward()
    point.backward()
    optimizer.step()
    torch_optimizer.zero_grad()
    (scale_t * x_t**2).sum().backward()
    torch_optimizer.step()
print("after 30 steps, formula:", by_formula[-1].round(6))
print("np_nn SGD:              ", point.params["x"].round(6))
print("PyTorch SGD:            ", x_t.detach().cpu().numpy().round(6))

# %% [markdown]
# How many steps to reach $J < 10^{-3}$ from $(-8, 2)$ with $\eta = 0.08$, for a few values of $\alpha$
# ($\alpha = 0$ is plain gradient descent). Even a little momentum pays: $\alpha = 0.3$ cuts the 32 steps of
# plain descent to 19, and $\alpha = 0.5$, the best of these, to 16. Beyond that the steps overshoot along
# the valley and circle round the minimum: $\alpha = 0.7$ needs 28, and $\alpha = 0.9$ needs 96, three
# times as many as no momentum at all.

# %%
# NBVAL_CHECK_OUTPUT
for alpha in [0.0, 0.3, 0.5, 0.7, 0.9]:
    path = gd.descent_path(start, lr=eta, steps=200, momentum=alpha, scale=gd.STRETCHED)
    steps = int(np.argmax(gd.bowl(path, gd.STRETCHED) < 1e-3))
    print(f"α = {alpha:.1f}: J < 0.001 after {steps:>3} steps")

# %%
lessons.momentum()

# %%
fig = Figure(figsize=(9, 3), layout="constrained")
g1, g2 = np.meshgrid(np.linspace(-9, 9, 241), np.linspace(-3, 3, 101))
J_grid = gd.bowl(np.stack([g1, g2], axis=-1), gd.STRETCHED)
for i, alpha in enumerate([0.0, 0.5]):
    ax = fig.add_subplot(1, 2, i + 1)
    ax.contour(g1, g2, J_grid, levels=np.geomspace(0.3, J_grid.max(), 10), colors="0.65", linewidths=0.8)
    path = gd.descent_path(start, lr=eta, steps=30, momentum=alpha, scale=gd.STRETCHED)
    ax.plot(path[:, 0], path[:, 1], "o-", color=["#0072B2", "#D55E00"][i], markersize=3)
    ax.set_aspect("equal")
    ax.set_title(f"{'plain descent' if alpha == 0 else 'momentum'} (α = {alpha}), 30 steps")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
fig

# %% [markdown]
# ## 2.6 Adaptive learning rates
#
# On the valley $J = x_1^2 + 10\,x_2^2$ plain descent must keep $\eta$ below a limit set by the steep
# direction $x_2$ (exercise 2 asks for it), and then crawls along the flat one. Chang's lecture's
# second idea, after trying many learning rates by hand, is a learning rate that adapts: larger or
# smaller depending on how large the gradients are, separately for every weight. With $g$ the
# gradient of one weight and all operations element-wise (the library's `nn.optim` writes each as
# its update equation):
#
# | optimiser | update (per weight) | idea |
# |---|---|---|
# | **Adagrad** | $G \leftarrow G + g^2$, $\quad w \leftarrow w - \eta\, g / (\sqrt{G} + \epsilon)$ | divide by the size of all past gradients: steep weights get small steps, and every step shrinks over time |
# | **RMSProp** | $v \leftarrow \rho v + (1 - \rho) g^2$, $\quad w \leftarrow w - \eta\, g / (\sqrt{v} + \epsilon)$ | the same with a running average ($\rho = 0.99$, `alpha` in the code), so old gradients are forgotten |
# | **Adadelta** | $v \leftarrow \rho v + (1-\rho) g^2$, $\quad s = \dfrac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g$, $\quad u \leftarrow \rho u + (1-\rho) s^2$, $\quad w \leftarrow w - \eta\, s$ | RMSProp with the step's own running size $u$ in the numerator: no learning rate to tune ($\eta = 1$) |
# | **Adam** | $m \leftarrow \beta_1 m + (1-\beta_1) g$, $\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2$, $\quad w \leftarrow w - \eta\, \dfrac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}$ | momentum on the gradient ($m$) and RMSProp's scaling ($v$), with a correction for their start at 0 |
#
# Dividing $g$ by the root of its own running square makes the step about $\eta$ in size whatever
# the slope, in the steep direction and the flat one alike. What that buys is robustness: the
# learning rate no longer has to fit the steepest direction. Each optimiser, from $(-8, 2)$, for
# several learning rates: the number of steps until $J < 10^{-3}$ (a dash: not within 300 steps).

# %%
# NBVAL_CHECK_OUTPUT
optimisers = {
    "SGD": nn.optim.SGD,
    "Adagrad": nn.optim.Adagrad,
    "RMSProp": nn.optim.RMSProp,
    "Adadelta": nn.optim.Adadelta,
    "Adam": nn.optim.Adam,
}


def optimiser_path(make, eta, steps=300):
    point = gd.Bowl((-8.0, 2.0), scale=gd.STRETCHED)
    optimizer = make(point, lr=eta)
    path = [point.params["x"].copy()]
    for _ in range(steps):
        point.forward()
        point.backward()  # g = ∇J
        optimizer.step()  # the optimiser's update equation
        path.append(point.params["x"].copy())
    return np.array(path)


etas = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
print(f"{'η':<9}" + "".join(f"{eta:>7}" for eta in etas))
with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    for name, make in optimisers.items():
        steps = []
        for eta in etas:
            below = np.flatnonzero(gd.bowl(optimiser_path(make, eta), gd.STRETCHED) < 1e-3)
            steps.append(str(below[0]) if below.size else "–")
        print(f"{name:<9}" + "".join(f"{s:>7}" for s in steps))
J_rms = gd.bowl(optimiser_path(nn.optim.RMSProp, 0.3), gd.STRETCHED)  # J at every step of RMSProp, η = 0.3
k_low, k_high = int(np.argmin(J_rms)), 100 + int(np.argmax(J_rms[100:]))
print(f"RMSProp, η = 0.3: J = {J_rms[16]:.0e} at step 16, {J_rms[k_low]:.0e} at step {k_low},"
      f" {J_rms[k_high]:.1f} at step {k_high}, {J_rms[-1]:.2f} at step 300")  # fmt: skip

# %% [markdown]
# Plain SGD converges only for the two smallest learning rates of the ladder; Adam reaches the minimum for
# every learning rate from 0.1 to 3, RMSProp for the same range and Adagrad for the two largest. The
# fastest entries are RMSProp's, but with a caveat the table hides. At $\eta = 0.3$ it reaches
# $J < 10^{-3}$ in 16 steps and goes on down to $J \approx 2 \times 10^{-34}$ at step 93; but its
# running average $v$ forgets ($\rho = 0.99$ remembers roughly the last hundred steps), and once the
# large early gradients are forgotten the steps grow again, however gentle the slope, in bursts of
# $\eta$ and more: far too long for the steep direction $x_2$ so close to the minimum. At step
# 180 the point has been thrown back out to $J \approx 10$, and at step 300 it is still at
# $J \approx 0.04$ (the last line under the table): it rattles about the minimum instead of settling.
# Adadelta, with no learning rate to set, starts with steps of $\sqrt{\epsilon}/\sqrt{1 - \rho}
# \approx 0.003$ per weight (its defaults are $\rho = 0.9$, $\epsilon = 10^{-6}$) and needs far more
# than 300 steps on this problem: no tuning is not the same as no cost. Nor are the adaptive methods
# magic: tuned to this valley ($\eta = 0.08$), plain SGD needs 32 steps, fewer than Adam at any
# learning rate of the ladder. What they offer is that they need far less tuning, which on a real
# network, with millions of weights of different scales, is what counts. The paths, each with a
# learning rate that works for it (and Adadelta with its fixed $\eta = 1$, still crawling):

# %%
choices = {"SGD": 0.08, "Adagrad": 1.0, "RMSProp": 0.1, "Adadelta": 1.0, "Adam": 0.3}
fig = Figure(figsize=(11, 3.6), layout="constrained")
ax, ax_J = fig.subplots(1, 2, width_ratios=(1.6, 1.0))
ax.contour(g1, g2, J_grid, levels=np.geomspace(0.3, J_grid.max(), 10), colors="0.7", linewidths=0.8)
colours = ["#000000", "#E69F00", "#56B4E9", "#009E73", "#D55E00"]
for (name, eta), colour in zip(choices.items(), colours):
    path = optimiser_path(optimisers[name], eta)
    ax.plot(
        path[:60, 0], path[:60, 1], "o-", markersize=2, linewidth=1, color=colour, label=f"{name}, η = {eta}"
    )
    ax_J.semilogy(gd.bowl(path, gd.STRETCHED), color=colour, label=name)
ax.set_aspect("equal")
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.set_title("first 60 steps on $J = x_1^2 + 10 x_2^2$")
ax.legend(fontsize=7, loc="upper right")
ax_J.axhline(1e-3, color="0.6", linestyle=":", label="$J = 10^{-3}$")
ax_J.set_ylim(1e-12, 1e3)
ax_J.set_xlabel("step")
ax_J.set_ylabel("J (log scale)")
ax_J.set_title("the cost, 300 steps")
ax_J.legend(fontsize=7)
fig

# %% [markdown]
# ## What to remember
#
# - Gradient descent steps against the gradient: $x \leftarrow x - \eta \nabla J(x)$.
# - On $J = x_1^2 + x_2^2$ one step multiplies $x$ by $1 - 2\eta$: it converges for $0 < \eta < 1$
#   (with oscillation once $\eta > 0.5$) and diverges for $\eta > 1$. Near any minimum the limit is
#   $\eta < 2/J''$: a sharp minimum cannot hold a large step.
# - On a bumpy cost the learning rate and the starting weights decide which minimum you end in; a
#   learning rate that is too large diverges, or kills ReLU units, which rarely recover.
# - A minibatch gradient is an unbiased, noisy estimate of the full one; bigger batches, less noise,
#   and a bolder best learning rate.
# - Momentum averages successive steps, damping zig-zags and speeding up travel along a valley.
# - Adagrad, RMSProp, Adadelta and Adam divide each weight's step by the size of its recent gradients,
#   which makes them far less sensitive to the choice of $\eta$.
#
# ## Exercises
#
# The exercise notebook for this chapter, `exercises/02_gradient_descent.ipynb`, checks your answers
# automatically. To warm up:
#
# 1. On $J = x_1^2 + x_2^2$, which $\eta$ reaches $|x| < 0.01$ from $(5, 5)$ in the fewest steps, and
#    which other value takes exactly as many steps as $\eta = 0.25$?
# 2. For the stretched bowl $J = x_1^2 + 10\,x_2^2$, find the largest learning rate $\eta$ for which plain
#    gradient descent still converges, by the same argument as in 2.2.
# 3. Using `gd.minibatch_gradients`, check that the spread of the estimates is about halved when the
#    batch size is multiplied by four.
# 4. On the bumpy cost of section 2.3, starting from $w = 3$, find the smallest learning rate of the
#    form $0.1k$ that reaches the global minimum.
