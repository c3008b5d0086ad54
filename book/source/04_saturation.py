# %% [markdown]
# # Chapter 4 · Saturation, loss and activations: when the gradient is too small to learn
#
# **What you will be able to do after this chapter**
#
# - explain what a saturated neuron is, and why under the squared loss a neuron that is badly wrong can
#   learn very slowly;
# - derive the cross-entropy loss's gradient $a - y$ and say why it fixes that;
# - measure, layer by layer, how the gradient vanishes through a deep stack of sigmoids;
# - choose between ReLU, leaky ReLU and parametric ReLU, and recognise a dead ReLU;
# - compute the softmax and its derivative;
# - spot saturation caused by the initial weights, and read nnlab's warning about it.
#
# Chapter 3 computed every gradient of a network exactly. Exact does not mean useful: this chapter is
# about the places where the exact gradient is nearly zero although the network is far from right.

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
# $\frac{\partial C}{\partial w_j} = \frac1n \sum_x x_j (\sigma(z) - y)$ depends only on how wrong the output is.

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
# `sat.layer_gradient_norms` builds a stack of ten `Linear(32, 32)` layers with N(0, 1/32) weights, runs
# one batch forward and backward, and measures $\lVert \partial C / \partial W^l \rVert$ in every layer:

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
    ax.semilogy(range(1, 11), values, "o-", color=colours[name], label=name)
ax.semilogy(
    range(1, 11),
    norms["sigmoid"][-1] * 0.25 ** (10 - np.arange(1, 11)),
    ":",
    color="black",
    label="× 1/4 per layer",
)
ax.set_xlabel("layer (1 = nearest the input)")
ax.set_ylabel(r"gradient size $\|\partial C / \partial W^l\|$")
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
# Change the depth of the stack and the size of its initial weights. Deeper stacks of sigmoids lose
# more, and so do smaller weights. Larger weights help the sigmoid stack by orders of magnitude, though
# its gradient still vanishes: the first layer's share of the last layer's gradient grows from about
# $10^{-6}$ to $3 \cdot 10^{-3}$ at four times the usual size. The same large weights make the tanh stack's
# gradient grow towards the input instead, about 40-fold over ten layers: an exploding gradient. The
# ReLU stack hardly changes.

# %%
lessons.vanishing_gradients()

# %% [markdown]
# The numbers for ten layers at three weight sizes, first layer's gradient over the last layer's:

# %%
# NBVAL_CHECK_OUTPUT
for scale in (1.0, 2.0, 4.0):
    sigmoid = sat.layer_gradient_norms("sigmoid", depth=10, scale=scale)
    tanh = sat.layer_gradient_norms("tanh", depth=10, scale=scale)
    print(f"weights × {scale:g}: sigmoid {sigmoid[0] / sigmoid[-1]:.1e},  tanh {tanh[0] / tanh[-1]:.1f}")

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

# %%
# NBVAL_CHECK_OUTPUT
z = np.linspace(-20, 20, 4001)
print("(1 + tanh(z/2))/2 equals σ(z):", np.allclose(sat.sigmoid_as_tanh(z), F.sigmoid(z), rtol=0, atol=1e-15))
print("(1 + tanh(z/2))/2 equals tanh(z):", np.allclose(sat.sigmoid_as_tanh(z), np.tanh(z)))
print("tanh(z) equals 2σ(2z) − 1:", np.allclose(np.tanh(z), 2 * F.sigmoid(2 * z) - 1, rtol=0, atol=1e-15))

# %% [markdown]
# ## 4.5 ReLU and its relatives
#
# The rectifier $\mathrm{ReLU}(z) = \max(0, z)$ has derivative 1 for every $z > 0$: it does not saturate on that
# side, so active units pass the gradient back undiminished. Olteanu's lecture counts this as a partial
# cure for both saturation and vanishing gradients: partial, because the other side is flat. For $z < 0$
# its output and its derivative are 0. That makes networks sparse (not every unit fires for every input),
# but a unit whose weighted input is negative for *every* example is **dead**: it passes back no gradient,
# so its weights never change again. The lecture names two ways to get there: a bias so negative that
# no input can lift $z$ above 0, or a learning rate so large that one step throws the weights there.
#
# Below, a layer of 6 ReLU units on 100 examples of two inputs each, three of the units with a bias of
# −10. One gradient step changes the weights of the living units only:

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
print("size of ∂C/∂W per unit:  ", np.abs(layer.grads["W"]).sum(axis=1).round(1))

# %% [markdown]
# The remedies keep a slope for $z < 0$. **Leaky ReLU** uses a small constant slope (Olteanu's lecture
# suggests 0.001; `nn.LeakyReLU` defaults to PyTorch's 0.01): no part of it is flat, so no unit can die.
# **Parametric ReLU** makes the slope $a$ a parameter learnt with the weights, with
# $\partial \ell / \partial a = \sum_{z \le 0} \mathrm{dout} \cdot z$.

# %%
# NBVAL_CHECK_OUTPUT
for activation in (nn.LeakyReLU(0.001), nn.PReLU(init=0.25, dtype=np.float64)):
    z = layer(X)
    layer.backward(activation.backward(np.ones_like(activation(z))))
    extra = f", ∂C/∂a = {activation.grads['a'][0]:.1f}" if activation.params else ""
    print(f"{activation!r:<32} no unit dead: {bool(np.all(np.abs(layer.grads['W']).sum(axis=1) > 0))}{extra}")

# %%
z = np.linspace(-3, 3, 601)
prelu = nn.PReLU(init=0.25, dtype=np.float64)
curves = {
    "sigmoid": (F.sigmoid(z), F.sigmoid_prime(z), "#0072B2"),
    "tanh": (np.tanh(z), F.tanh_prime(z), "#009E73"),
    "ReLU": (F.relu(z), (z > 0).astype(float), "#D55E00"),
    "leaky ReLU (0.1, to be visible)": (F.leaky_relu(z, 0.1), np.where(z > 0, 1.0, 0.1), "#E69F00"),
    "PReLU (a = 0.25)": (prelu(z[:, None]).ravel(), np.where(z > 0, 1.0, 0.25), "#CC79A7"),
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
# For a choice among $C$ classes the output layer is often a **softmax**, which turns scores $z$ into
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
# $J^\top \mathrm{dout} = s \odot (\mathrm{dout} - \sum_k \mathrm{dout}_k s_k)$. We check both against centred differences.

# %%
# NBVAL_CHECK_OUTPUT
scores = np.array([1.0, 2.0, 3.0])
J = sat.softmax_jacobian(scores)
print("s =", F.softmax(scores).round(4))
print("J =\n", J.round(4))
print("each column sums to 0:", np.allclose(J.sum(axis=0), 0))
numeric = np.stack([gradcheck.numerical_gradient(lambda i=i: F.softmax(scores)[i], scores) for i in range(3)])
print("J agrees with centred differences:", np.allclose(J, numeric, rtol=0, atol=1e-9))
softmax = nn.Softmax()
softmax(scores[None, :])
dout = np.array([[0.3, -1.0, 2.0]])
print(
    "Softmax.backward(dout) = Jᵀ dout:",
    np.allclose(softmax.backward(dout)[0], J.T @ dout[0], rtol=0, atol=1e-15),
)

# %% [markdown]
# Followed by the cross-entropy $-\log s_y$, the softmax's derivative simplifies just as the sigmoid's did:
# $\partial \ell / \partial z = s - \text{onehot}(y)$, which is why `nn.CrossEntropyLoss` takes the scores and
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
print(
    "all agree:",
    np.allclose(by_np_nn, by_formula, atol=1e-15) and np.allclose(by_torch, by_formula, atol=1e-15),
)

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
        f"init {init!r:<16} measured spread of z {z.std():5.1f},  units with |z| > 6: {np.mean(np.abs(z) > 6):.0%}"
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
print(
    "np_nn warned about saturation:",
    any("derivative" in str(w.message) for w in caught),
)
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
print("torch_nn warned as well:", len(caught_torch) == len(caught))
gap = np.max(np.abs(np.array(history.train_loss) - np.array(torch_history.train_loss)))
print("loss curves of the two paths agree within 1e-4:", gap < 1e-4)
print(
    "trained networks agree (outputs and gradients):", bridge.compare(np_net, torch_net, X[:64]).passed(1e-4)
)

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
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`04_saturation.ipynb`, checked as you go) asks
# you to write:
#
# 1. the squared loss's gradient $2(a - y)\sigma'(z)$ of one neuron, and see it vanish on the NOT gate;
# 2. the cross-entropy's gradient $a - y$;
# 3. the cross-entropy cost of a batch;
# 4. its gradient with respect to the weights, $\frac1n \sum_x x_j(\sigma(z) - y)$.
#
# To go further on your own: with `sat.layer_gradient_norms`, find the depth at which the first layer of a
# sigmoid stack gets a gradient a billion times smaller than the last; and show that a ReLU layer with
# N(0, 1) weights on the 1,000 inputs of section 4.7 does not saturate, and see what happens to the size of
# its outputs.
