# %% [markdown]
# # Chapter 4 · Saturation, loss and activations: when the gradient is too small to learn
#
# **What you will be able to do after this chapter**
#
# - explain what a saturated neuron is, and why under the squared loss a neuron that is badly wrong can
#   learn very slowly, and watch it happen over a training run;
# - derive the cross-entropy loss's gradient $a - y$ and say why it fixes that;
# - measure, layer by layer, how the gradient vanishes through a deep stack of sigmoids;
# - choose between ReLU, leaky ReLU and parametric ReLU, and recognise a dead ReLU;
# - compute the softmax and its derivative;
# - spot saturation caused by the initial weights, read nnlab's warning about it, and see what it does to
#   each layer's learning.
#
# Chapter 3 computed every gradient of a network exactly. Exact does not mean useful: this chapter is
# about the places where the exact gradient is nearly zero although the network is far from right.
# Symbols follow the book's [notation](01_perceptron.ipynb#Notation-used-in-this-book): $y$ is the target,
# $a$ the output, $\ell$ the loss of one example and $L$ the loss averaged over a batch.

# %%
# %matplotlib inline
import warnings

import numpy as np
import torch
from matplotlib.figure import Figure

import nnlab
from nnlab import bridge, gradcheck, lessons
from nnlab import np_nn as nn
from nnlab import torch_nn as tnn
from nnlab.diagnostics import TrainingWarning
from nnlab.lessons import saturation as sat
from nnlab.np_nn import functional as F

# %% [markdown]
# ## 4.1 A saturated NOT gate
#
# Olteanu's lecture (University of Zurich) trains a single sigmoid neuron $a = \sigma(wx + b)$ to be a NOT
# gate. Take the input $x = -1$ ("false"), whose right answer is $y = 1$ ("true"), and a neuron that starts
# with the weight $w = 5$ and the bias $b = 0$. Then $z = wx + b = -5$ and the neuron answers
# $a = \sigma(-5) \approx 0.0067$: confidently wrong. With the lecture's squared loss
# $\ell = (a - y)^2$ the chain rule gives
#
# $$\frac{\partial \ell}{\partial z} = 2(a - y)\,\sigma'(z), \qquad \sigma'(z) = \sigma(z)\,(1 - \sigma(z)).$$
#
# At $z = -5$ the sigmoid is almost flat, $\sigma'(-5) \approx 0.0066$, so the gradient is tiny while the loss
# is close to its largest possible value, 1. The neuron is **saturated**: its weighted input sits where
# the activation function is flat, and gradient descent barely moves it.

# %%
# NBVAL_CHECK_OUTPUT
gate = sat.not_gate(w=5.0, x=-1.0, b=0.0, y=1.0)
print(f"z = {gate.z:.0f},  a = σ(z) = {gate.a:.4f},  σ'(z) = {gate.sigma_prime:.4f}")
print(f"squared loss (a − y)² = {gate.squared_loss:.4f},   ∂ℓ/∂z = 2(a − y)σ'(z) = {gate.squared_grad:.4f}")

# %% [markdown]
# ## 4.2 Cross-entropy cancels the flat slope
#
# The lecture's remedy is a different loss, the cross-entropy
#
# $$\ell = -\big(y \log a + (1 - y) \log(1 - a)\big).$$
#
# Its derivative with respect to the output is $\frac{\partial \ell}{\partial a} = -\frac{y}{a} + \frac{1 - y}{1 - a}
# = \frac{a - y}{a(1 - a)}$, and the chain rule multiplies by $\frac{\partial a}{\partial z} = \sigma'(z) = a(1 - a)$:
#
# $$\frac{\partial \ell}{\partial z} = \frac{a - y}{a(1 - a)}\; a(1 - a) = a - y.$$
#
# The flat slope $\sigma'(z)$ cancels: the gradient is simply how far the output is from the target, so
# the more wrong the neuron is, the harder it is pushed. Honchar's
# lecture calls this the "huge error, huge influence" correspondence; averaged over $n$ examples,
# $\frac{\partial L}{\partial w_j} = \frac1n \sum_x x_j (\sigma(z) - y)$ depends only on how wrong the output is.

# %%
# NBVAL_CHECK_OUTPUT
print(f"cross-entropy −log a = {gate.cross_entropy:.4f},   ∂ℓ/∂z = a − y = {gate.cross_entropy_grad:.4f}")
print(
    f"cross-entropy's gradient is {gate.cross_entropy_grad / gate.squared_grad:.0f} times the squared loss's"
)

# %% [markdown]
# The library computes the same numbers. `MSELoss(convention="mean")` is the lecture's $(a - y)^2$ for one
# output (the default `"half_sum"` would halve it), and `Sigmoid.backward` multiplies by $\sigma'(z)$.
# `BCELoss` is the cross-entropy on probabilities.

# %%
# NBVAL_CHECK_OUTPUT
neuron = nn.Linear(1, 1, dtype=np.float64)
neuron.params["W"][:] = 5.0
neuron.params["b"][:] = 0.0
x, y = np.array([[-1.0]]), np.array([[1.0]])
activation = nn.Sigmoid()
a = activation(neuron(x))
for loss in (nn.MSELoss(convention="mean"), nn.BCELoss()):
    value = loss(a, y)
    dz = activation.backward(loss.backward())  # ∂ℓ/∂z = ∂ℓ/∂a · σ'(z)
    print(f"{type(loss).__name__:<8} loss {value:.4f}   ∂ℓ/∂z = {dz[0, 0]:+.4f}")

# %% [markdown]
# Move the weight and watch both losses and both gradients. For $w < 0$ the neuron is right and every
# curve is near 0. As $w$ grows it becomes wrong, and ever more confidently: the squared loss climbs
# towards 1 while its gradient (blue, right) first grows and then dies away; the cross-entropy's gradient
# (vermillion) settles at −1 and stays there.

# %%
lessons.not_gate_gradients()

# %% [markdown]
# Without a kernel, the same picture with three weights marked (the lecture's $w = 5$ as a diamond):

# %%
sat.not_gate_figure()

# %% [markdown]
# **The slowdown, watched over training.** Honchar's lecture calls this the "learning slowdown". Nielsen's
# book shows it over a whole training run: it trains one sigmoid neuron on one example, the input $x = 1$
# with the target $y = 0$, by gradient descent for 300 epochs. His squared loss is $\ell = \tfrac12 (a - y)^2$,
# so $\partial \ell/\partial z = (a - y)\,\sigma'(z)$, against the cross-entropy's $a - y$. He starts the neuron twice:
# from $w = 0.6$, $b = 0.9$ (output 0.82, wrong but not badly) and from $w = b = 2$ (output 0.98, confidently
# wrong). His squared-loss runs use $\eta = 0.15$; for his cross-entropy runs he picks a much smaller
# $\eta = 0.005$, noting that a rate for one loss says nothing about the other. We keep $\eta = 0.15$ for both
# losses, so that the only difference between the runs is the loss. With $x = 1$,
# $\partial\ell/\partial w = \partial\ell/\partial b = \partial\ell/\partial z$:


# %%
def train_one_neuron(w, b, loss, eta=0.15, epochs=300, x=1.0, y=0.0):
    """Gradient descent on one sigmoid neuron and one example; the output a after every epoch (and before)."""
    outputs = []
    for _ in range(epochs + 1):
        a = F.sigmoid(w * x + b)  # a = σ(wx + b)
        outputs.append(a)
        dz = (a - y) * a * (1 - a) if loss == "squared" else a - y  # ∂ℓ/∂z: (a − y)σ'(z), or a − y
        w, b = w - eta * dz * x, b - eta * dz  # Δw = −η ∂ℓ/∂w, Δb = −η ∂ℓ/∂b
    return np.array(outputs)


def squared(a, y=0.0):
    return 0.5 * (a - y) ** 2  # ℓ = ½(a − y)²


def cross_entropy(a, y=0.0):
    return -(y * np.log(a) + (1 - y) * np.log(1 - a))  # ℓ = −(y log a + (1 − y) log(1 − a))


runs = {
    (start, loss): train_one_neuron(*start, loss)
    for start in ((0.6, 0.9), (2.0, 2.0))
    for loss in ("squared", "cross-entropy")
}

# %%
# NBVAL_CHECK_OUTPUT
print("start (w, b)   loss            a at start   epochs until a < 0.5   a after 300 epochs")
for (start, loss), a in runs.items():
    print(f"{start!s:<14} {loss:<15} {a[0]:10.2f}   {int(np.argmax(a < 0.5)):20d}   {a[-1]:18.2f}")
a_stuck = runs[(2.0, 2.0), "squared"]
print(
    f"w = b = 2, squared loss: the loss falls from {squared(a_stuck[0]):.3f} to {squared(a_stuck[50]):.3f} in the first 50 epochs"
)

# %%
fig = Figure(figsize=(10, 3.6), layout="constrained")
axes = fig.subplots(1, 2)
epochs = np.arange(301)
for ax, loss, loss_fn in zip(axes, ("squared", "cross-entropy"), (squared, cross_entropy)):
    for start, colour, style in (((0.6, 0.9), "#0072B2", "-"), ((2.0, 2.0), "#D55E00", "--")):
        ax.plot(
            epochs,
            loss_fn(runs[start, loss]),
            style,
            color=colour,
            label=f"start w = {start[0]}, b = {start[1]}",
        )
    ax.set_xlabel("epoch")
    ax.legend()
axes[0].set_ylabel(r"squared loss $\frac{1}{2}(a - y)^2$")
axes[0].set_title("Squared loss: the badly wrong start learns slowly")
axes[1].set_ylabel(r"cross-entropy $-\log(1 - a)$")
axes[1].set_title("Cross-entropy: the worse the start, the faster the fall")
fig

# %% [markdown]
# Under the squared loss these are the numbers of Nielsen's book: the neuron that starts at 0.82 gets
# down to 0.09 in 300 epochs, while the one that starts at 0.98 is still at 0.20. For the first 50
# epochs its loss hardly moves (0.482 to 0.476, the flat start of the dashed curve): $\sigma'(4) \approx 0.018$
# smothers the gradient, and it takes 232 epochs before its output even drops below 0.5. With the
# cross-entropy the worse start falls *fastest* (its gradient $a - y$ is largest), both runs are below 0.5
# within 17 epochs, and both end at 0.01; with Nielsen's $\eta = 0.005$ the same fall takes about 30 times as
# many epochs. (The two panels' vertical scales differ: each loss is plotted on its own.)

# %% [markdown]
# ## 4.3 Vanishing gradients through deep sigmoid stacks
#
# Saturation need not be extreme to hurt. Olteanu's lecture follows the gradient back through a chain of
# sigmoid layers, one unit each, with the cross-entropy at the end:
#
# $$\frac{\partial \ell}{\partial z^2_1} = (a^4_1 - y)\; w^4_{11}\, \sigma'(z^3_1)\; w^3_{11}\, \sigma'(z^2_1).$$
#
# (The slide's own last line writes the weight as $w^3_{21}$ and leaves out the factor $\sigma'(z^3_1)$; with
# one unit per layer the weight is $w^3_{11}$, and the chain rule keeps the factor.) Every layer back adds
# one factor $w\,\sigma'(z)$, and the sigmoid's slope is never more than $\sigma'(0) = 1/4$. With weights
# of moderate size the product shrinks by a factor of roughly 4 to 8 per layer: the
# **vanishing gradient problem**. (Large weights can instead make the product grow: exploding gradients.)

# %%
# NBVAL_CHECK_OUTPUT
z = np.linspace(-10, 10, 20001)
print(f"largest σ'(z): {F.sigmoid_prime(z).max():.4f} at z = {z[np.argmax(F.sigmoid_prime(z))]:.1f}")
print(f"largest tanh'(z): {F.tanh_prime(z).max():.4f}")
print("bound on the product of σ' over 10 layers: (1/4)^10 =", f"{0.25**10:.1e}")

# %% [markdown]
# BP2 of chapter 3, $\delta^l = ((W^{l+1})^\top \delta^{l+1}) \odot \sigma'(z^l)$, is the same product for whole layers.
# `sat.layer_gradient_norms` builds a stack of ten `Linear(32, 32)` layers, runs one batch of 64 random
# examples forward and backward under the squared loss, and measures $\lVert \partial L / \partial W^l \rVert$ in
# every layer. The sigmoid and tanh stacks start from N(0, 1/32) weights; the ReLU stack starts from He's
# N(0, 2/32), the variance made for ReLU (which zeroes half its inputs; chapter 5 explains the factor 2).

# %%
# NBVAL_CHECK_OUTPUT
norms = {name: sat.layer_gradient_norms(name, depth=10) for name in ("sigmoid", "tanh", "relu")}
for name, values in norms.items():
    print(
        f"{name:<8} last layer {values[-1]:.1e}   first layer {values[0]:.1e}   ratio {values[-1] / values[0]:.0e}"
    )
ratios = norms["sigmoid"][1:] / norms["sigmoid"][:-1]
print(
    "sigmoid: each layer's gradient is",
    f"{ratios.min():.1f} to {ratios.max():.1f}",
    "times the one before it",
)
line_at_first = norms["sigmoid"][-1] * 0.25**9  # the last layer's gradient × (1/4)⁹
print(
    f"sigmoid: the first layer sits {line_at_first / norms['sigmoid'][0]:.1f} times below the 1/4-per-layer line"
)

# %%
fig = Figure(figsize=(7, 3.6), layout="constrained")
ax = fig.add_subplot()
colours = {"sigmoid": "#0072B2", "tanh": "#009E73", "relu": "#D55E00"}
for name, values in norms.items():
    ax.semilogy(range(1, 11), values, "o-", color=colours[name], label=name.replace("relu", "ReLU"))
ax.semilogy(
    range(1, 11),
    norms["sigmoid"][-1] * 0.25 ** (10 - np.arange(1, 11)),
    ":",
    color="black",
    label="× 1/4 per layer",
)
ax.set_xlabel("layer (1 = nearest the input)")
ax.set_ylabel(r"gradient size $\|\partial L / \partial W^l\|$")
ax.set_title("The gradient of each layer of a 10-layer stack")
ax.legend()
fig

# %% [markdown]
# With the sigmoid the first layer's gradient is about a million times smaller than the last's: the first
# layers hardly learn. tanh, whose slope reaches 1 at $z = 0$, keeps the gradient's size here, and so does
# ReLU, whose slope is exactly 1 wherever it is active. The dotted line shrinks by the sigmoid's largest
# slope, 1/4, per layer; since most units' slopes are below that peak, the measured sigmoid gradients
# fall a little faster than the line, and the first layer ends 3.4 times below it.
#
# Change the depth of the stack and the size of its initial weights (the slider multiplies every initial
# weight). Deeper stacks of sigmoids lose more, and so do smaller weights. Larger weights help the
# sigmoid stack's *ratio* by orders of magnitude, though its gradient still vanishes: the first layer's
# share of the last layer's gradient grows from about $10^{-6}$ to $3 \cdot 10^{-3}$ at four times the usual
# size, because each factor $w\,\sigma'(z)$ gains more from the larger $w$ than it loses from the flatter
# $\sigma'$ while $z$ stays within a few units of 0. (Section 4.7 shows the other side: weights so large that
# $z$ lands far out on the wings saturate the units, and then the layer hardly learns.) The same large
# weights make the tanh stack's gradient grow towards the input instead, about 40-fold over ten layers:
# an exploding gradient.
#
# The ReLU stack's first-to-last ratio stays near 0.58 whatever the scale, but its gradients themselves
# explode. $\mathrm{ReLU}(cz) = c\,\mathrm{ReLU}(z)$ for $c > 0$, so with zero biases, multiplying every weight
# by $c$ multiplies the output of layer $l$ by $c^l$, and the network's output by $c^{10}$. The error at the
# top grows with the output, like $c^{10}$; on its way down to layer $l$ it is multiplied by the $10 - l$
# weight matrices above that layer, and $\partial L/\partial W^l = (\delta^l)^\top a^{l-1}$ multiplies it by the
# activation $a^{l-1}$, which carries $c^{l-1}$ from the matrices below. That is $c^{10 + (10 - l) + (l - 1)} = c^{19}$
# for every layer, the same factor, so their ratio cannot change. Doubling the weights from ×2 to ×4
# multiplies every gradient by $2^{19} \approx 5.2 \cdot 10^5$. From ×1 to ×2 the factor is larger, 6.4 to
# $6.7 \cdot 10^5$ depending on the layer: at ×1 the output is still small enough for the targets to cancel
# part of it in $a - y$, so the error grows faster than the output when the weights double. The table below
# shows both factors.

# %%
lessons.vanishing_gradients()

# %% [markdown]
# The numbers for ten layers at three weight sizes: first layer's gradient over the last layer's, and for
# ReLU the gradients themselves and how much they grow when the weights double:

# %%
# NBVAL_CHECK_OUTPUT
print("weights   first/last: sigmoid    tanh   ReLU      ReLU gradient: last layer   first layer")
relu_norms = {}
for scale in (1.0, 2.0, 4.0):
    sigmoid, tanh, relu = (
        sat.layer_gradient_norms(name, depth=10, scale=scale) for name in ("sigmoid", "tanh", "relu")
    )
    relu_norms[scale] = relu
    print(
        f"× {scale:g}{sigmoid[0] / sigmoid[-1]:24.1e}{tanh[0] / tanh[-1]:8.1f}{relu[0] / relu[-1]:7.2f}"
        f"{relu[-1]:28.1e}{relu[0]:14.1e}"
    )
for low, high in ((1.0, 2.0), (2.0, 4.0)):
    growth = relu_norms[high] / relu_norms[low]  # each layer's ReLU gradient, ×high over ×low
    print(f"ReLU, ×{low:g} to ×{high:g}: each layer's gradient × {growth.min():.2e} to {growth.max():.2e}")
print(f"2¹⁹ = {2**19:.2e}")

# %% [markdown]
# ## 4.4 A note on tanh and the sigmoid
#
# Honchar's lecture lists the hyperbolic tangent as $\frac{1 + \tanh(z/2)}{2}$. That expression is not tanh: it
# *is* the sigmoid. From $\tanh(u) = \frac{1 - e^{-2u}}{1 + e^{-2u}}$ with $u = z/2$,
#
# $$\frac{1 + \tanh(z/2)}{2} = \frac12\cdot\frac{(1 + e^{-z}) + (1 - e^{-z})}{1 + e^{-z}} = \frac{1}{1 + e^{-z}} = \sigma(z),$$
#
# and the other way round $\tanh(z) = 2\sigma(2z) - 1$: tanh is a sigmoid stretched to the range $(-1, 1)$, and
# saturates the same way.

# %% [markdown]
# On $z \in [-20, 20]$, the largest differences (the first and last are float64 rounding):

# %%
z = np.linspace(-20, 20, 4001)
print(f"|(1 + tanh(z/2))/2 − σ(z)|    at most {np.max(np.abs(sat.sigmoid_as_tanh(z) - F.sigmoid(z))):.0e}")
print(f"|(1 + tanh(z/2))/2 − tanh(z)| at most {np.max(np.abs(sat.sigmoid_as_tanh(z) - np.tanh(z))):.2f}")
print(f"|tanh(z) − (2σ(2z) − 1)|      at most {np.max(np.abs(np.tanh(z) - (2 * F.sigmoid(2 * z) - 1))):.0e}")

# %% [markdown]
# ## 4.5 ReLU and its relatives
#
# The rectifier $\mathrm{ReLU}(z) = \max(0, z)$ has derivative 1 for every $z > 0$: it does not saturate on that
# side, so active units pass the gradient back undiminished. Olteanu's lecture counts this as a partial
# cure for both saturation and vanishing gradients: partial, because the other side is flat. For $z < 0$
# its output and its derivative are 0. That makes networks sparse (not every unit fires for every input),
# but a unit whose weighted input is negative for *every* example is **dead**: it passes back no gradient,
# so gradient descent leaves its incoming weights where they are. It can come back only if something
# else lifts its $z$ above 0 for some example (the layers below it changing what they feed it, or new
# examples), so a dead unit is unlikely to recover, though not certain never to; a unit of the first
# layer, whose inputs never change, stays dead for good. The lecture names two ways to get there: a bias
# so negative that no input can lift $z$ above 0, or a learning rate so large that one step throws the
# weights there (section 2.3 of [chapter 2](02_gradient_descent.ipynb) shows the second happen). Its advice
# for starting the biases follows from this: a small positive constant for
# ReLU units, so that every unit starts alive, and a small random value around 0 for sigmoid units
# ([chapter 5](05_initialisation.ipynb), section 5.5, tries both).
#
# Below, a layer of 6 ReLU units on 100 examples of two inputs each, three of the units with a bias of
# −10. Take as $L$ simply the sum of the layer's outputs, so that the upstream gradient dout is 1 everywhere:
# the gradient, and so a gradient step, reaches the weights of the living units only:

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
X = rng.normal(size=(100, 2))
layer = nn.Linear(2, 6, rng=1, dtype=np.float64)
layer.params["b"][:] = [0.0, 0.0, 0.0, -10.0, -10.0, -10.0]
relu = nn.ReLU()
z = layer(X)
out = relu(z)
layer.backward(relu.backward(np.ones_like(out)))  # the gradient of Σ ReLU(z)
print("dead units:              ", sat.dead_units(z).astype(int))
print("size of ∂L/∂W per unit:  ", np.abs(layer.grads["W"]).sum(axis=1).round(1))

# %% [markdown]
# The remedies keep a slope for $z < 0$. **Leaky ReLU** uses a small constant slope (Olteanu's lecture
# suggests 0.001; `nn.LeakyReLU` defaults to PyTorch's 0.01): no part of it is flat, so no unit can die.
# **Parametric ReLU** makes the slope a parameter $\alpha$ learnt with the weights (Olteanu's lecture
# writes it $a$, and so does the library's `params["a"]`; in this book $a$ is an activation), with
# $\partial L / \partial \alpha = \sum_{z \le 0} \mathrm{dout} \cdot z$. With either, the three units with the bias −10 get a
# gradient again: small (their slope is small), but not 0.

# %%
# NBVAL_CHECK_OUTPUT
for activation in (nn.LeakyReLU(0.001), nn.PReLU(init=0.25, dtype=np.float64)):
    z = layer(X)
    layer.backward(activation.backward(np.ones_like(activation(z))))
    extra = f"   ∂L/∂α = {activation.grads['a'][0]:.1f}" if activation.params else ""
    sizes = " ".join(f"{size:5.2f}" for size in np.abs(layer.grads["W"]).sum(axis=1))
    print(f"{activation!r:<32} size of ∂L/∂W per unit: {sizes}{extra}")

# %% [markdown]
# All the activations of this chapter side by side, with their derivatives: $\sigma' = \sigma(1 - \sigma)$,
# $\tanh' = 1 - \tanh^2$ and $\mathrm{ReLU}'$ = 1 for $z > 0$, 0 for $z < 0$, derived in [chapter 3](03_backpropagation.ipynb)
# (section 3.3); the leaky and parametric ReLUs' derivative is their slope, 1 for $z > 0$ and the small
# slope ($0.01$ by default, or $\alpha$) below.

# %%
z = np.linspace(-3, 3, 601)
prelu = nn.PReLU(init=0.25, dtype=np.float64)
curves = {
    "sigmoid": (F.sigmoid(z), F.sigmoid_prime(z), "#0072B2"),
    "tanh": (np.tanh(z), F.tanh_prime(z), "#009E73"),
    "ReLU": (F.relu(z), (z > 0).astype(float), "#D55E00"),
    "leaky ReLU (0.1, to be visible)": (F.leaky_relu(z, 0.1), np.where(z > 0, 1.0, 0.1), "#E69F00"),
    "PReLU (α = 0.25)": (prelu(z[:, None]).ravel(), np.where(z > 0, 1.0, 0.25), "#CC79A7"),
}
fig = Figure(figsize=(10, 3.6), layout="constrained")
ax_f, ax_d = fig.subplots(1, 2)
for name, (f, df, colour) in curves.items():
    ax_f.plot(z, f, color=colour, label=name)
    ax_d.plot(z, df, color=colour, label=name)
ax_f.set_xlabel("weighted input z")
ax_f.set_ylabel("activation f(z)")
ax_f.set_title("The activations")
ax_d.set_xlabel("weighted input z")
ax_d.set_ylabel("derivative f'(z)")
ax_d.set_title("Their derivatives: the factor BP2 multiplies by")
ax_f.legend(fontsize=8)
fig

# %% [markdown]
# ## 4.6 Softmax and its derivative
#
# For a choice among $K$ classes the output layer is often a **softmax**, which turns scores $z$ into
# probabilities that sum to 1:
#
# $$s_i = \frac{e^{z_i}}{\sum_k e^{z_k}}.$$
#
# Each $s_i$ depends on every score, so its derivative is a matrix. Kheradpisheh's lecture gives it:
#
# $$\frac{\partial s_i}{\partial z_j} = \begin{cases} s_i (1 - s_i) & i = j,\\ -s_i s_j & i \neq j,\end{cases}
#   \qquad J = \mathrm{diag}(s) - s s^\top.$$
#
# The diagonal is the sigmoid's $\sigma(1 - \sigma)$ again. `nn.Softmax.backward` never builds $J$: it returns
# $J^\top \mathrm{dout} = s \odot (\mathrm{dout} - \sum_k \mathrm{dout}_k s_k)$, where dout is the upstream gradient
# $\partial L/\partial s$. Each column of $J$ sums to 0, because the probabilities always sum to 1.

# %%
# NBVAL_CHECK_OUTPUT
scores = np.array([1.0, 2.0, 3.0])
J = sat.softmax_jacobian(scores)
print("s =", F.softmax(scores).round(4))
print("J =\n", J.round(4))

# %% [markdown]
# Checked against centred differences and against the library (the differences are float64 rounding):

# %%
numeric = np.stack([gradcheck.numerical_gradient(lambda i=i: F.softmax(scores)[i], scores) for i in range(3)])
softmax = nn.Softmax()
softmax(scores[None, :])
dout = np.array([[0.3, -1.0, 2.0]])
print(f"largest |column sum of J|:                {np.max(np.abs(J.sum(axis=0))):.0e}")
print(f"largest |J − centred differences|:        {np.max(np.abs(J - numeric)):.0e}")
print(
    f"largest |Softmax.backward(dout) − Jᵀdout|: {np.max(np.abs(softmax.backward(dout)[0] - J.T @ dout[0])):.0e}"
)

# %% [markdown]
# Followed by the cross-entropy $-\log s_y$, the softmax's derivative simplifies just as the sigmoid's did:
# $\partial \ell / \partial z = s - \text{onehot}(y)$, where onehot$(y)$ is the row with a 1 at the class $y$ and 0
# elsewhere. That is why `nn.CrossEntropyLoss` takes the scores and
# applies the softmax itself. **Check** with the scores above and the class $y = 0$, on both paths:

# %%
# NBVAL_CHECK_OUTPUT
label = np.array([0])
by_formula = F.softmax(scores) - np.eye(3)[label[0]]  # ∂ℓ/∂z = s − onehot(y)
ce = nn.CrossEntropyLoss()
ce(scores[None, :], label)
by_np_nn = ce.backward()[0]
ce_torch = tnn.CrossEntropyLoss()
scores_t = torch.tensor(scores[None, :], requires_grad=True)
ce_torch(scores_t, label).backward()
by_torch = scores_t.grad.numpy()[0]
print("s − onehot(y):            ", by_formula.round(4))
print("np_nn CrossEntropyLoss:   ", by_np_nn.round(4))
print("torch_nn CrossEntropyLoss:", by_torch.round(4))

# %% [markdown]
# ## 4.7 Saturation from the start: too large initial weights
#
# Saturation does not need training to go wrong; the starting weights can cause it. Honchar's lecture
# takes a neuron with 1,000 inputs, half of them 1 and half 0, and draws every weight and the bias from
# N(0, 1). Then $z = \sum_i w_i x_i + b$ is a sum of 501 independent N(0, 1) numbers, with standard deviation
# $\sqrt{501} \approx 22.4$: almost always far out on the sigmoid's flat wings. With weights from N(0, 1/1000) instead,
# the standard deviation is $\sqrt{500/1000 + 1} = \sqrt{1.5} \approx 1.22$.

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
X = np.zeros((512, 1000), dtype=np.float32)
for row in X:
    row[rng.permutation(1000)[:500]] = 1.0  # half of the 1,000 inputs are 1
y = ((X - 0.5) @ rng.normal(size=1000) > 0).astype(np.float32)[:, None]  # a linear rule to learn
print(
    f"predicted spread of z: sqrt(501) = {np.sqrt(501):.1f} with N(0, 1), sqrt(1.5) = {np.sqrt(1.5):.2f} with N(0, 1/1000)"
)
for init in ("normal", "scaled_normal"):
    first = nn.Linear(1000, 30, init=init, bias_init="normal", rng=1)
    z = first(X)
    print(
        f"init {init!r:<16} measured spread of z {z.std():5.1f},  weighted inputs with |z| > 6: {np.mean(np.abs(z) > 6):.0%}"
    )


# %% [markdown]
# `fit` watches for this. Before training and after every epoch it runs a small probe batch through the
# network, and when most units of a hidden sigmoid or tanh layer have a derivative below 1% of its peak
# it warns with a `TrainingWarning`. We train the N(0, 1) network with the NumPy path first and print the
# warning it gives:


# %%
def saturated_net(init):
    return nn.Sequential(
        nn.Linear(1000, 30, init=init, bias_init="normal", rng=1),
        nn.Sigmoid(),
        nn.Linear(30, 1, rng=2),
        nn.Sigmoid(),
    )


np_net = saturated_net("normal")
torch_net = bridge.twin(np_net, device=nnlab.device())  # the same weights, for the PyTorch path below
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", TrainingWarning)
    history = nn.fit(
        np_net,
        nn.BCELoss(),
        nn.optim.SGD(np_net, lr=0.5),
        X,
        y,
        epochs=3,
        batch_size=32,
        rng=0,
        progress=False,
    )
for warning in caught:
    print(f"{type(warning.message).__name__}: {warning.message}")

# %%
# NBVAL_CHECK_OUTPUT
print("share of saturated hidden units, epoch by epoch:", [f"{s:.0%}" for s in history.saturated["1"]])

# %% [markdown]
# The PyTorch twin, trained from the same weights on `nnlab.device()`, sees the same saturated layer and
# follows the same loss curve:

# %%
# NBVAL_CHECK_OUTPUT
with warnings.catch_warnings(record=True) as caught_torch:
    warnings.simplefilter("always", TrainingWarning)
    torch_history = tnn.fit(
        torch_net,
        tnn.BCELoss(),
        tnn.optim.SGD(torch_net, lr=0.5),
        X,
        y,
        epochs=3,
        batch_size=32,
        rng=0,
        progress=False,
    )
print(f"warnings: np_nn {len(caught)}, torch_nn {len(caught_torch)}")
print("torch_nn's loss, epoch by epoch:", [f"{value:.3f}" for value in torch_history.train_loss])
print("np_nn's loss, epoch by epoch:   ", [f"{value:.3f}" for value in history.train_loss])

# %% [markdown]
# The two trained networks agree within float32 rounding, outputs and gradients:

# %%
print(bridge.compare(np_net, torch_net, X[:64]))

# %% [markdown]
# With weights from N(0, 1/n_in) the same network starts unsaturated, and `fit` has nothing to say:

# %%
# NBVAL_CHECK_OUTPUT
calm = saturated_net("scaled_normal")
with warnings.catch_warnings(record=True) as caught_calm:
    warnings.simplefilter("always", TrainingWarning)
    calm_history = nn.fit(
        calm, nn.BCELoss(), nn.optim.SGD(calm, lr=0.5), X, y, epochs=3, batch_size=32, rng=0, progress=False
    )
print("warnings:", len(caught_calm))
print("share of saturated hidden units, epoch by epoch:", [f"{s:.0%}" for s in calm_history.saturated["1"]])

# %% [markdown]
# ### What the saturation costs
#
# The warning says the hidden layer is saturated; what does that do to learning? Train both networks
# side by side for 30 epochs and watch, after every epoch, the training loss, how far each layer's
# weights have moved from where they started relative to their size, $\lVert W - W_0\rVert / \lVert W_0\rVert$, and
# the share of saturated hidden units. First, how large is the first layer's gradient next to its weights
# at the start?

# %%
# NBVAL_CHECK_OUTPUT
start_ratio = {}
for init in ("normal", "scaled_normal"):
    net = saturated_net(init)
    bce = nn.BCELoss()
    bce(net(X), y)
    net.backward(bce.backward())
    ratio = np.linalg.norm(net.grads["0.W"]) / np.linalg.norm(net.params["0.W"])  # ‖∂L/∂W¹‖ / ‖W¹‖
    start_ratio[init] = ratio
    print(f"init {init!r:<16} first layer: ‖∂L/∂W¹‖ / ‖W¹‖ = {start_ratio[init]:.1e}")
print(f"the N(0, 1) network's is {start_ratio['scaled_normal'] / start_ratio['normal']:.0f} times smaller")


# %%
def train_and_watch(init, epochs=30):
    """Train saturated_net(init) epoch by epoch; record the loss, each layer's relative movement, saturation.

    Saturation here is the share of the hidden units' weighted inputs beyond ±6 on the training set, where
    σ'(z) < 1% of its peak, as in the spread cell above (fit's own watch is switched off, for speed).
    """
    net = saturated_net(init)
    start = {name: w.copy() for name, w in net.params.items()}
    optimizer, shuffle = nn.optim.SGD(net, lr=0.5), np.random.default_rng(0)
    record = {"loss": [], "first layer": [], "output layer": [], "saturated": []}
    for _ in range(epochs):
        one = nn.fit(net, nn.BCELoss(), optimizer, X, y, epochs=1, batch_size=32, rng=shuffle,
                     progress=False, diagnostics=False)  # fmt: skip
        record["loss"] += one.train_loss
        z = X @ net.params["0.W"].T + net.params["0.b"]  # the hidden layer's weighted inputs
        record["saturated"].append(np.mean(np.abs(z) > 6))
        for key, name in (("first layer", "0.W"), ("output layer", "2.W")):
            change = np.linalg.norm(net.params[name] - start[name])  # ‖W − W₀‖
            record[key].append(change / np.linalg.norm(start[name]))  # ‖W − W₀‖ / ‖W₀‖
    return record


watched = {init: train_and_watch(init) for init in ("normal", "scaled_normal")}

# %%
# NBVAL_CHECK_OUTPUT
print("init             epoch   loss    first layer moved   output layer moved   |z| > 6")
for init, record in watched.items():
    for epoch in (10, 30):
        i = epoch - 1
        print(
            f"{init!r:<16} {epoch:5d}  {record['loss'][i]:.3f}  {record['first layer'][i]:18.1%}"
            f"  {record['output layer'][i]:19.0%}  {record['saturated'][i]:10.0%}"
        )
moved = watched["scaled_normal"]["first layer"][9] / watched["normal"]["first layer"][9]
print(f"after 10 epochs the first layer of the N(0, 1) network has moved {moved:.0f} times less")

# %%
fig = Figure(figsize=(11, 3.4), layout="constrained")
ax_loss, ax_moved, ax_sat = fig.subplots(1, 3)
epochs = np.arange(1, 31)
styles = {"normal": ("#D55E00", "--", "N(0, 1)"), "scaled_normal": ("#0072B2", "-", "N(0, 1/1000)")}
for init, record in watched.items():
    colour, style, label = styles[init]
    ax_loss.plot(epochs, record["loss"], style, color=colour, label=label)
    ax_moved.semilogy(epochs, record["first layer"], style, color=colour, label=f"{label}, first layer")
    ax_moved.semilogy(epochs, record["output layer"], ":", color=colour, label=f"{label}, output layer")
    ax_sat.plot(epochs, 100 * np.array(record["saturated"]), style, color=colour, label=label)
ax_loss.set_ylabel("training loss (cross-entropy)")
ax_loss.set_title("Close after 10 epochs, far apart after 30")
ax_moved.set_ylabel(r"weights moved, $\|W - W_0\| / \|W_0\|$")
ax_moved.set_title("The saturated first layer hardly moves")
ax_sat.set_ylabel(r"hidden weighted inputs with $|z| > 6$ (%)")
ax_sat.set_ylim(-5, 105)
ax_sat.set_title("and stays saturated")
for ax in (ax_loss, ax_moved, ax_sat):
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
fig

# %% [markdown]
# After 10 epochs the two losses are close, 0.589 against 0.567: the loss alone hides what is going on.
# Inside, the first layer of the N(0, 1) network has moved 1.2% of its size, against 91% for the scaled
# network, 77 times less, because its gradient starts 471 times smaller next to its weights
# ($1.7 \cdot 10^{-4}$ against $8.2 \cdot 10^{-2}$). 78% of its hidden weighted inputs stay beyond ±6 all the way: its hidden
# layer is practically frozen, a set of 30 fixed random features, and the network learns through its output
# layer alone (which moves more than twice its own size). That is enough to keep up for a while, not for
# long: after 30 epochs the scaled network has learnt its training set (loss 0.013), the saturated one is at
# 0.327.
#
# **Larger weights helped in section 4.3 and hurt here.** Both are true, at different sizes. Section 4.3
# multiplied N(0, 1/32) weights by at most 4, which keeps most weighted inputs within a few units of 0; there
# a larger $w$ raises the factor $w\,\sigma'(z)$ of BP2 more than the flatter slope lowers it, so more of the
# gradient reaches the first layers. Here N(0, 1) weights on 1,000 inputs are 32 times the scaled ones
# ($\sqrt{1000} \approx 32$), and $z$ has a standard deviation of about 22 (21.2 measured): 78% of the weighted
# inputs sit where $\sigma'(z)$ is below 1% of its peak. What decides whether a layer learns is not only the
# ratio between layers of section 4.3 but how large its gradient is next to the weights it has to move, and
# that collapses once the units saturate. Between
# weights so small that the gradient vanishes and so large that the units saturate lies the scale that
# chapter 5 chooses, N(0, 1/n_in) and its relatives.

# %% [markdown]
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`04_saturation.ipynb`, checked as you go) asks
# you to write:
#
# 1. the squared loss's gradient $2(a - y)\sigma'(z)$ of one neuron, and see it vanish on the NOT gate;
# 2. the cross-entropy's gradient $a - y$;
# 3. the cross-entropy cost of a batch;
# 4. its gradient with respect to the weights, $\frac1n \sum_x x_j(\sigma(z) - y)$;
# 5. and, from the formulas of questions 1 and 2 alone, a prediction of how many times larger the
#    cross-entropy's gradient is than the squared loss's.
#
# To go further on your own: with `sat.layer_gradient_norms`, find the depth at which the first layer of a
# sigmoid stack gets a gradient a billion times smaller than the last; and show that a ReLU layer with
# N(0, 1) weights on the 1,000 inputs of section 4.7 does not saturate, and see what happens to the size of
# its outputs.
