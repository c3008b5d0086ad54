# %% [markdown]
# # Chapter 2 · Gradient descent: rolling down a bowl
#
# **What you will be able to do after this chapter**
#
# - take a gradient-descent step by hand, and check it against the library's optimiser and PyTorch;
# - say, for the bowl $J = x_1^2 + x_2^2$, which step sizes $\lambda$ converge, which oscillate and which
#   diverge, and why the boundaries sit at $\lambda = 0.5$ and $\lambda = 1$;
# - explain why a minibatch gradient is a noisy but useful estimate of the full gradient;
# - describe what momentum adds, and see it speed up descent along a narrow valley.
#
# The worked example is the one in Honchar's lecture (University of Verona); Krippahl's, Chang's and
# Kheradpisheh's lectures describe the stochastic and minibatch variants, and Honchar's and
# Kheradpisheh's lectures add momentum.

# %%
# %matplotlib inline
import numpy as np
import torch
from matplotlib.figure import Figure

import nnlab
from nnlab import lessons
from nnlab import np_nn as nn
from nnlab.lessons import gradient_descent as gd

# %% [markdown]
# ## 2.1 Downhill on a bowl, by hand
#
# Training a network means making a cost small. Before any network, take the smallest example there is:
#
# $$J(x_1, x_2) = x_1^2 + x_2^2 .$$
#
# Its gradient $\nabla J = (\partial J/\partial x_1,\ \partial J/\partial x_2) = (2x_1,\ 2x_2)$ points
# where $J$ grows fastest, so a small step against it goes downhill. Gradient descent repeats that step
# with a **step size** (learning rate) $\lambda$:
#
# $$x^{(k+1)} = x^{(k)} - \lambda\,\nabla J\big(x^{(k)}\big).$$
#
# Start, as the lecture does, at $x^{(0)} = (5, 5)$ with $\lambda = 0.1$. The gradient there is $(10, 10)$,
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
lam = 0.1
x = np.array([5.0, 5.0])  # x⁽⁰⁾
for k in range(2):
    grad = 2 * x  # ∇J(x) = (2x₁, 2x₂)
    x = x - lam * grad  # x ← x − λ ∇J(x)
    print(f"step {k + 1}: gradient {grad}, x = {x}, J = {gd.bowl(x):.2f}")

# %% [markdown]
# **Check.** The library's optimiser must take the same steps. `gd.Bowl` is the bowl written as a
# module whose only parameter is the point $x$: `backward()` puts $\nabla J$ in its `grads`, and
# `nn.optim.SGD` applies $x \leftarrow x - \lambda \nabla J$. PyTorch, for its part, gets the gradient by
# automatic differentiation of `(x**2).sum()`, on `nnlab.device()`.

# %%
# NBVAL_CHECK_OUTPUT
point = gd.Bowl(start=(5.0, 5.0))
optimizer = nn.optim.SGD(point, lr=0.1)
for _ in range(2):
    J = point.forward()
    point.backward()  # grads["x"] = ∇J(x)
    optimizer.step()  # x ← x − λ ∇J(x)
print("np_nn SGD:     ", point.params["x"])

x_t = torch.tensor([5.0, 5.0], dtype=torch.float64, device=nnlab.device(), requires_grad=True)
torch_optimizer = torch.optim.SGD([x_t], lr=0.1)
for _ in range(2):
    torch_optimizer.zero_grad()
    (x_t**2).sum().backward()  # autograd: ∇J = 2x
    torch_optimizer.step()
print("PyTorch SGD:   ", x_t.detach().cpu().numpy())
print("descent_path:  ", gd.descent_path((5, 5), lr=0.1, steps=2)[-1])
print(
    "all agree:", np.allclose(point.params["x"], [3.2, 3.2]) and np.allclose(x_t.detach().cpu(), [3.2, 3.2])
)

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
ax.plot(
    path[:, 0], path[:, 1], "o-", color="#0072B2", markersize=4, label=r"gradient descent, $\lambda = 0.1$"
)
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
# $$x^{(k+1)} = x^{(k)} - \lambda \cdot 2 x^{(k)} = (1 - 2\lambda)\, x^{(k)}, \qquad
#   x^{(k)} = (1 - 2\lambda)^k\, x^{(0)} .$$
#
# Everything depends on the factor $1 - 2\lambda$:
#
# | step $\lambda$ | factor $1 - 2\lambda$ | what descent does |
# |---|---|---|
# | $0 < \lambda < 0.5$ | between 0 and 1 | shrinks towards 0 from one side: **converges** |
# | $\lambda = 0.5$ | 0 | lands on the minimum in **one step** |
# | $0.5 < \lambda < 1$ | between −1 and 0 | overshoots, flips sign each step, and still shrinks: **oscillates and converges** |
# | $\lambda = 1$ | −1 | bounces between $x$ and $-x$ **for ever** |
# | $\lambda > 1$ | below −1 | flips and grows: **diverges** |
#
# Chang's lecture makes the same point in words: timid steps take a long time to arrive, and steps that
# are too bold jump past the minimum, further each time, until the numbers blow up. Move the slider
# across 0.5 and 1 and watch the path change character.

# %%
lessons.learning_rate()

# %% [markdown]
# **Check.** The table's boundaries, computed by running descent for 40 steps and looking at what it did:
# whether $|x|$ shrank, and whether $x$ changed sign on the way.

# %%
# NBVAL_CHECK_OUTPUT
for lam in [0.1, 0.4, 0.5, 0.6, 0.9, 1.0, 1.1]:
    path = gd.descent_path((5, 5), lr=lam, steps=40)
    shrank = abs(path[-1, 0]) < abs(path[0, 0])
    flips = bool(np.any(path[1:, 0] * path[:-1, 0] < 0))
    print(
        f"λ = {lam:.1f}: factor {gd.step_factor(lam):+.1f}, |x| shrank: {shrank!s:<5}, sign flips: {flips!s:<5}"
        f" -> {gd.regime(lam)}"
    )

# %% [markdown]
# The same picture without a kernel: $x_1^{(k)}$ for four step sizes, one from each row of the table.

# %%
fig = Figure(figsize=(9, 2.8), layout="constrained")
for i, (lam, colour) in enumerate(zip([0.1, 0.75, 1.0, 1.05], ["#0072B2", "#009E73", "#E69F00", "#D55E00"])):
    ax = fig.add_subplot(1, 4, i + 1)
    path = gd.descent_path((5, 5), lr=lam, steps=15)
    ax.plot(path[:, 0], "o-", color=colour, markersize=3)
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.set_ylim(-12, 12)
    ax.set_title(f"λ = {lam}: {gd.regime(lam)}", fontsize=9)
    ax.set_xlabel("step k")
    if i == 0:
        ax.set_ylabel("$x_1^{(k)}$")
fig

# %% [markdown]
# ## 2.3 Stochastic gradient descent: estimating the gradient from a minibatch
#
# In a network the cost is an average over the training set, $C = \frac{1}{n}\sum_x C_x$, and so is its
# gradient, $\nabla C = \frac{1}{n}\sum_x \nabla C_x$. With millions of examples one exact step costs a
# pass over all of them. Honchar's lecture replaces the average by one over a random **minibatch** of
# $m \ll n$ examples,
#
# $$\frac{1}{m}\sum_{j=1}^{m} \nabla C_{x_j} \;\approx\; \frac{1}{n}\sum_{x} \nabla C_x = \nabla C,$$
#
# and with $m = 1$ this is **stochastic gradient descent** (SGD). Krippahl's lecture calls that extreme
# online learning: the weights move after every single example, the examples taken in a shuffled order.
# Each estimate is unbiased (right on average) but noisy; the noise shrinks like $1/\sqrt{m}$.
#
# To see it, fit a line $\hat y = w x + b$ to 1,000 noisy points of $y = 3x + 1$ with the loss
# $L = \frac{1}{m}\sum \tfrac12 (\hat y - y)^2$, whose gradient is
#
# $$\frac{\partial L}{\partial w} = \frac{1}{m}\sum (\hat y - y)\,x, \qquad
#   \frac{\partial L}{\partial b} = \frac{1}{m}\sum (\hat y - y).$$
#
# **Check** first that this formula is what the library's `Linear` layer and `MSELoss` compute by
# backpropagation, at the starting weights $w = b = 0$:

# %%
# NBVAL_CHECK_OUTPUT
X, y = gd.noisy_line(1000, rng=0)
line = nn.Linear(1, 1, dtype=np.float64)
line.params["W"][:] = 0.0
line.params["b"][:] = 0.0
loss = nn.MSELoss()  # L = (1/m) Σ ½ (ŷ − y)²
loss(line(X), y)
line.backward(loss.backward())
by_backprop = np.array([line.grads["W"][0, 0], line.grads["b"][0]])
by_formula = gd.linear_gradient(X, y, w=0.0, b=0.0)
print("full gradient by backprop:", by_backprop.round(4))
print("full gradient by formula: ", by_formula.round(4))
print("agree:", np.allclose(by_backprop, by_formula))

# %% [markdown]
# Now 200 minibatch estimates for each batch size. Their mean sits on the full gradient, and their
# spread (the root-mean-square distance from it) falls by about $\sqrt{10} \approx 3.2$ each time the
# batch grows tenfold:

# %%
# NBVAL_CHECK_OUTPUT
full = gd.linear_gradient(X, y, 0.0, 0.0)
for m in [1, 10, 100]:
    estimates = gd.minibatch_gradients(X, y, 0.0, 0.0, batch_size=m, n_batches=200, rng=1)
    spread = np.sqrt(np.mean(np.sum((estimates - full) ** 2, axis=1)))
    print(f"m = {m:>3}: mean estimate {estimates.mean(axis=0).round(2)}, spread {spread:.2f}")
print(f"full gradient:        {full.round(2)}")

# %%
gd.minibatch_figure([1, 10, 100])

# %% [markdown]
# The same cloud on a slider: slide the batch size from 1 (SGD) up to 200 and watch it tighten around
# the cross. A tighter cloud is what a larger batch pays for: each step points closer to the true
# downhill direction, so the path wobbles less and can afford a bolder step size, and the examples of
# one batch can be processed side by side on a GPU (Chang's lecture makes these points). Kheradpisheh's
# lecture adds the other side: the noise of small batches can shake descent out of a poor local minimum.

# %%
lessons.minibatch()

# %% [markdown]
# ## 2.4 Momentum
#
# On a round bowl the gradient points straight at the minimum. Real costs look more like a long, narrow
# valley, such as $J = x_1^2 + 10\,x_2^2$: across the valley the slope is steep, so a step large enough
# to make progress along it overshoots across it, and descent zig-zags. **Momentum** lets each step keep
# a fraction $\alpha$ of the previous one:
#
# $$v^{(k+1)} = \alpha\, v^{(k)} - \lambda \nabla J\big(x^{(k)}\big), \qquad x^{(k+1)} = x^{(k)} + v^{(k+1)}.$$
#
# Honchar's lecture writes $\alpha = 1 - \mu$ with a friction $\mu$ (the "slippage coefficient" is
# $1 - \mu$), and Kheradpisheh's lecture puts it as "add a fraction of the last change to the current
# change". Zig-zags across the valley point in alternating directions and cancel in $v$; steps along
# the valley point the same way and add up. `nn.optim.SGD(model, lr, momentum=α)` (or `friction=μ`)
# is this rule.
#
# **Check** that the library's optimiser and PyTorch's follow the formula, for $\alpha = 0.5$:

# %%
# NBVAL_CHECK_OUTPUT
start, lam, alpha = (-8.0, 2.0), 0.08, 0.5
by_formula = gd.descent_path(start, lr=lam, steps=30, momentum=alpha, scale=gd.STRETCHED)

point = gd.Bowl(start, scale=gd.STRETCHED)
optimizer = nn.optim.SGD(point, lr=lam, momentum=alpha)
x_t = torch.tensor(start, dtype=torch.float64, device=nnlab.device(), requires_grad=True)
torch_optimizer = torch.optim.SGD([x_t], lr=lam, momentum=alpha)
scale_t = torch.tensor(gd.STRETCHED, dtype=torch.float64, device=nnlab.device())
for _ in range(30):
    point.forward()
    point.backward()
    optimizer.step()
    torch_optimizer.zero_grad()
    (scale_t * x_t**2).sum().backward()
    torch_optimizer.step()
print("after 30 steps, formula:", by_formula[-1].round(6))
print("np_nn SGD agrees:  ", np.allclose(point.params["x"], by_formula[-1]))
print("PyTorch SGD agrees:", np.allclose(x_t.detach().cpu().numpy(), by_formula[-1]))

# %% [markdown]
# How many steps to reach $J < 10^{-3}$ from $(-8, 2)$ with $\lambda = 0.08$, for a few values of $\alpha$
# ($\alpha = 0$ is plain gradient descent). Even a little momentum pays: $\alpha = 0.3$ cuts the 32 steps of
# plain descent to 19, and $\alpha = 0.5$, the best of these, to 16. Beyond that the steps overshoot along
# the valley and circle round the minimum: $\alpha = 0.7$ needs 28, and $\alpha = 0.9$ needs 96, three
# times as many as no momentum at all.

# %%
# NBVAL_CHECK_OUTPUT
for alpha in [0.0, 0.3, 0.5, 0.7, 0.9]:
    path = gd.descent_path(start, lr=lam, steps=200, momentum=alpha, scale=gd.STRETCHED)
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
    path = gd.descent_path(start, lr=lam, steps=30, momentum=alpha, scale=gd.STRETCHED)
    ax.plot(path[:, 0], path[:, 1], "o-", color=["#0072B2", "#D55E00"][i], markersize=3)
    ax.set_aspect("equal")
    ax.set_title(f"{'plain descent' if alpha == 0 else 'momentum'} (α = {alpha}), 30 steps")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
fig

# %% [markdown]
# ## What to remember
#
# - Gradient descent steps against the gradient: $x \leftarrow x - \lambda \nabla J(x)$.
# - On $J = x_1^2 + x_2^2$ one step multiplies $x$ by $1 - 2\lambda$: it converges for $0 < \lambda < 1$
#   (with oscillation once $\lambda > 0.5$) and diverges for $\lambda > 1$. Every cost has such limits;
#   the steepest direction sets them.
# - A minibatch gradient is an unbiased, noisy estimate of the full one; bigger batches, less noise.
# - Momentum averages successive steps, damping zig-zags and speeding up travel along a valley.
#
# ## Exercises
#
# The exercise notebook for this chapter, `exercises/02_gradient_descent.ipynb`, checks your answers
# automatically. To warm up:
#
# 1. On $J = x_1^2 + x_2^2$, which $\lambda$ reaches $|x| < 0.01$ from $(5, 5)$ in the fewest steps, and
#    which other value takes exactly as many steps as $\lambda = 0.25$?
# 2. For the stretched bowl $J = x_1^2 + 10\,x_2^2$, find the largest step $\lambda$ for which plain
#    gradient descent still converges, by the same argument as in 2.2.
# 3. Using `gd.minibatch_gradients`, check that the spread of the estimates is about halved when the
#    batch size is multiplied by four.
