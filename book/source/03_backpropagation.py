# %% [markdown]
# # Chapter 3 · Backpropagation: every gradient of a network in one backward pass
#
# **What you will be able to do after this chapter**
#
# - derive the four backpropagation equations for a network of sigmoid layers;
# - compute every gradient of a small network by hand, and get the same numbers from `nnlab.np_nn`
#   and from PyTorch's autograd;
# - check any backward pass against finite differences, and choose the step of the check;
# - explain why a minibatch computed with matrices gives the same gradient as a loop over its examples,
#   only much faster;
# - train the network on both of nnlab's paths and show that they agree.
#
# Chapter 2 descended a loss whose gradient we could write down at once. A network's loss depends on
# every weight through layers of sigmoids; backpropagation is the bookkeeping of the chain rule that
# gets all those derivatives in one pass backwards through the network.

# %%
# %matplotlib inline
import time

import numpy as np
import torch

import nnlab
from nnlab import bridge, data, gradcheck, lessons
from nnlab import np_nn as nn
from nnlab import torch_nn as tnn
from nnlab.lessons import backprop as bp

# %% [markdown]
# ## 3.1 The half adder
#
# Kheradpisheh's lecture works backpropagation through a network that adds two bits. Its two outputs
# are the carry and the sum of $X_1 + X_2$ written in binary:
#
# | $X_1, X_2$ | carry $t_I$ | sum $t_{II}$ |
# |---|---|---|
# | 0, 0 | 0 | 0 |
# | 0, 1 | 0 | 1 |
# | 1, 0 | 0 | 1 |
# | 1, 1 | 1 | 0 |
#
# The carry is AND of the two bits, and the sum is XOR: exactly the function that chapter 1 showed no
# single perceptron can compute. A hidden layer is what makes it possible.
#
# The network has two inputs, three hidden units $O_1, O_2, O_3$ and two outputs $O_I, O_{II}$, every unit a
# sigmoid $\sigma(z) = 1/(1 + e^{-z})$:
#
# $$O_j = \sigma\Big(W_{j0} + \sum_{i=1}^{2} W_{ji} X_i\Big), \qquad
#   O_k = \sigma\Big(W_{k0} + \sum_{j=1}^{3} W_{kj} O_j\Big), \qquad k \in \{I, II\}.$$
#
# $W_{ji}$ is the weight *into* unit $j$ *from* unit $i$, and $W_{j0}$ is unit $j$'s bias. The lecture leaves
# the weights' values to the reader, so we pick small ones: they are `bp.HALF_ADDER_WEIGHTS`. Stored
# as PyTorch stores them, row $j$ of `W1` holds the weights into hidden unit $j$.

# %%
# NBVAL_CHECK_OUTPUT
X, T = (a.astype(np.float64) for a in data.half_adder())
W1, b1, W2, b2 = (np.array(bp.HALF_ADDER_WEIGHTS[name]) for name in ("W1", "b1", "W2", "b2"))
print("inputs X:", X.tolist())
print("targets T (carry, sum):", T.tolist())
print("W1 =", W1.tolist(), " b1 =", b1.tolist())
print("W2 =", W2.tolist(), " b2 =", b2.tolist())

# %% [markdown]
# ## 3.2 The four equations
#
# Write a network with layers $l = 1, \dots, L$ in vectors: the input is $a^0 = x$, and each layer computes
#
# $$z^l = W^l a^{l-1} + b^l, \qquad a^l = \sigma(z^l).$$
#
# For one example with target $t$ the loss is the lectures' squared error $C = \tfrac12 \lVert a^L - t\rVert^2$.
# The quantity that makes everything simple is the **error of a unit**, the derivative of the loss with
# respect to its weighted input:
#
# $$\delta^l_j = \frac{\partial C}{\partial z^l_j}.$$
#
# **BP1, the output layer.** $z^L_k$ reaches $C$ only through $a^L_k = \sigma(z^L_k)$, so by the chain rule
#
# $$\delta^L_k = \frac{\partial C}{\partial a^L_k}\,\frac{\partial a^L_k}{\partial z^L_k} = (a^L_k - t_k)\,\sigma'(z^L_k).$$
#
# **BP2, one layer back.** $z^l_j$ reaches $C$ through every unit $k$ of the next layer, where
# $z^{l+1}_k = \sum_j W^{l+1}_{kj} a^l_j + b^{l+1}_k$. Summing over those paths,
#
# $$\delta^l_j = \sum_k \frac{\partial C}{\partial z^{l+1}_k}\,\frac{\partial z^{l+1}_k}{\partial a^l_j}\,
#   \frac{\partial a^l_j}{\partial z^l_j} = \Big(\sum_k W^{l+1}_{kj}\,\delta^{l+1}_k\Big)\,\sigma'(z^l_j),
#   \qquad\text{i.e.}\qquad \delta^l = \big((W^{l+1})^\top \delta^{l+1}\big) \odot \sigma'(z^l).$$
#
# **BP3 and BP4, the parameters.** A bias and a weight reach $C$ only through $z^l_j$, with
# $\partial z^l_j / \partial b^l_j = 1$ and $\partial z^l_j / \partial W^l_{jk} = a^{l-1}_k$:
#
# $$\frac{\partial C}{\partial b^l_j} = \delta^l_j, \qquad \frac{\partial C}{\partial W^l_{jk}} = \delta^l_j\, a^{l-1}_k.$$
#
# For the sigmoid, $\sigma'(z) = \sigma(z)\,(1 - \sigma(z)) = a\,(1 - a)$: the backward pass needs only the
# activations the forward pass already computed. Honchar's slides derive the same results as the
# gradients of the weights and the bias of an output unit and of a hidden unit ("Backpropagation 1" to
# "4"; his numbering differs from ours, and he writes $w_{jk}$ for the weight from $j$ to $k$, the
# transpose of our $W_{kj}$). Kheradpisheh's lecture writes them with $\Delta = \partial C / \partial O$, the
# derivative with respect to a unit's *output*: $\Delta_k = -(t_k - O_k)$ at an output unit,
# $\Delta_j = \sum_k W_{kj}\,\Delta_k\,O_k(1 - O_k)$ at a hidden one, and every weight update carries a factor
# $O(1 - O)$ of the unit the weight leads into. So $\delta = \Delta\,O(1 - O)$: the same numbers. (One line of
# that slide prints $O_3(1 - O_1)$ for $W_{31}$; the pattern of the others, and the chain rule, say $O_3(1 - O_3)$.)

# %% [markdown]
# ## 3.3 By hand: one example, every number
#
# Take the example $X = (1, 1)$, whose targets are carry 1 and sum 0, and follow the formulas unit by unit.


# %%
# NBVAL_CHECK_OUTPUT
def sigma(z):
    return 1 / (1 + np.exp(-z))


x, t = X[3], T[3]
print("forward")
O_hidden = np.zeros(3)
for j in range(3):
    z = b1[j] + W1[j, 0] * x[0] + W1[j, 1] * x[1]  # z_j = W_j0 + W_j1 X_1 + W_j2 X_2
    O_hidden[j] = sigma(z)  # O_j = σ(z_j)
    print(f"  O_{j + 1} = σ({b1[j]} + ({W1[j, 0]})(1) + ({W1[j, 1]})(1)) = σ({z:.2f}) = {O_hidden[j]:.4f}")
O_out = np.zeros(2)
for k, name in enumerate(("I", "II")):
    z = b2[k] + W2[k] @ O_hidden  # z_k = W_k0 + Σ_j W_kj O_j
    O_out[k] = sigma(z)
    print(f"  O_{name:<2} = σ({z:+.4f}) = {O_out[k]:.4f}   (target {t[k]:.0f})")
C = 0.5 * np.sum((O_out - t) ** 2)  # C = ½ Σ_k (O_k − t_k)²
print(f"  loss C = ½[(O_I − 1)² + (O_II − 0)²] = {C:.4f}")

print("backward")
delta_out = (O_out - t) * O_out * (1 - O_out)  # BP1: δ_k = (O_k − t_k) O_k (1 − O_k)
for k, name in enumerate(("I", "II")):
    print(
        f"  δ_{name:<2} = ({O_out[k]:.4f} − {t[k]:.0f})({O_out[k]:.4f})(1 − {O_out[k]:.4f}) = {delta_out[k]:+.5f}"
    )
delta_hidden = (W2.T @ delta_out) * O_hidden * (1 - O_hidden)  # BP2: δ_j = (Σ_k W_kj δ_k) O_j (1 − O_j)
for j in range(3):
    print(
        f"  δ_{j + 1}  = [({W2[0, j]})({delta_out[0]:.5f}) + ({W2[1, j]})({delta_out[1]:.5f})]"
        f"({O_hidden[j]:.4f})(1 − {O_hidden[j]:.4f}) = {delta_hidden[j]:+.5f}"
    )
dW2 = np.outer(delta_out, O_hidden)  # BP4: ∂C/∂W_kj = δ_k O_j
dW1 = np.outer(delta_hidden, x)  # BP4: ∂C/∂W_ji = δ_j X_i
print(f"  ∂C/∂W_I1 = δ_I O_1 = ({delta_out[0]:.5f})({O_hidden[0]:.4f}) = {dW2[0, 0]:+.5f}")
print(f"  ∂C/∂W_11 = δ_1 X_1 = ({delta_hidden[0]:.5f})(1) = {dW1[0, 0]:+.5f}")
by_hand = {"W1": dW1, "b1": delta_hidden, "W2": dW2, "b2": delta_out}  # BP3: ∂C/∂b = δ

# %% [markdown]
# The same formulas with plain Python floats are `bp.backprop_by_hand`; its numbers are those above.

# %%
# NBVAL_CHECK_OUTPUT
hand = bp.backprop_by_hand(x, t)
assert all(np.allclose(hand["grads"][name], by_hand[name], rtol=0, atol=1e-15) for name in by_hand)
print("bp.backprop_by_hand agrees with the cell above:", np.isclose(hand["loss"], C, rtol=0, atol=1e-15))

# %% [markdown]
# ## 3.4 The same gradients from `nnlab.np_nn`
#
# In the library the network is `Linear(2, 3)`, `Sigmoid`, `Linear(3, 2)`, `Sigmoid`, and the loss is
# `MSELoss`, whose default is the lectures' $\tfrac12\lVert a - t\rVert^2$ averaged over the batch. Each module's
# `backward` is one of the equations: `Sigmoid.backward` multiplies by $\sigma'(z)$ (BP1, BP2),
# `Linear.backward` returns $\delta W$ to the layer below (BP2) and stores $\delta^\top a$ and $\sum \delta$ (BP4, BP3).
# The parameters are named by position: `"0.W"` is $W^1$, `"2.W"` is $W^2$.

# %%
# NBVAL_CHECK_OUTPUT
net = bp.half_adder_net()
loss = nn.MSELoss()
print(net)
C_lib = loss(net(x[None, :]), t[None, :])
net.backward(loss.backward())
library = {"W1": net.grads["0.W"], "b1": net.grads["0.b"], "W2": net.grads["2.W"], "b2": net.grads["2.b"]}
gap = max(np.max(np.abs(library[name] - by_hand[name])) for name in by_hand)
print(f"loss: by hand {C:.6f}, np_nn {C_lib:.6f}")
print("largest gradient difference below 1e-15:", gap < 1e-15)

# %% [markdown]
# ## 3.5 And from autograd
#
# PyTorch records every operation of the forward pass and runs the chain rule backwards for us:
# `loss.backward()` fills each tensor's `.grad`. We write the same forward pass with torch tensors, on
# the CPU and in float64 like the hand computation.

# %%
# NBVAL_CHECK_OUTPUT
weights = {
    name: torch.tensor(value, requires_grad=True)
    for name, value in zip(("W1", "b1", "W2", "b2"), (W1, b1, W2, b2))
}
xt, tt = torch.tensor(x), torch.tensor(t)
a1 = torch.sigmoid(weights["W1"] @ xt + weights["b1"])  # a¹ = σ(W¹x + b¹)
a2 = torch.sigmoid(weights["W2"] @ a1 + weights["b2"])  # a² = σ(W²a¹ + b²)
C_torch = 0.5 * torch.sum((a2 - tt) ** 2)  # C = ½‖a² − t‖²
C_torch.backward()
autograd = {name: w.grad.numpy() for name, w in weights.items()}

print(f"{'one gradient':<14}{'by hand':>12}{'np_nn':>12}{'autograd':>12}")
for name, index in (("W1", (0, 0)), ("b1", (1,)), ("W2", (0, 0)), ("b2", (1,))):
    label = f"{name}[{', '.join(map(str, index))}]"  # e.g. W1[0, 0]
    print(
        f"{label:<14}{by_hand[name][index]:>+12.6f}{library[name][index]:>+12.6f}{autograd[name][index]:>+12.6f}"
    )
agree = all(np.allclose(autograd[name], by_hand[name], rtol=0, atol=1e-15) for name in by_hand)
print("all 17 gradients agree, by hand = np_nn = autograd:", agree and gap < 1e-15)

# %% [markdown]
# `nnlab.bridge` makes the same comparison for any model: `bridge.twin(net)` is the PyTorch model
# with the NumPy model's weights, and `bridge.compare` sends the same input forward and the same
# upstream gradient back through both.

# %%
# NBVAL_CHECK_OUTPUT
comparison = bridge.compare(net, bridge.twin(net, device="cpu"), X)
print("np_nn and torch_nn agree on all four examples (outputs and every gradient):", comparison.passed())

# %% [markdown]
# ## 3.6 The gradient check
#
# What if we had made a mistake in the derivation? The definition of the derivative gives an
# independent answer. Change one weight by a small $h$ both ways and measure the loss:
#
# $$\frac{\partial C}{\partial w} \approx \frac{C(w + h) - C(w - h)}{2h}.$$
#
# Expanding $C(w \pm h)$ in a Taylor series, the $h^2$ terms cancel and this **centred difference** is off by
# only $O(h^2)$, against $O(h)$ for the one-sided $(C(w + h) - C(w))/h$. It costs two forward passes per
# weight: far too slow to train with (a million weights, two million passes per step), exactly right to
# test a backward pass with. We compare with the relative error
# $|g_{\text{backprop}} - g_{\text{numeric}}| / \max(|g_{\text{backprop}}|, |g_{\text{numeric}}|)$.

# %%
# NBVAL_CHECK_OUTPUT
exact = bp.backprop_minibatch(X, T)["grads"]
numeric = bp.numerical_gradients(X, T, h=1e-5)
for name in exact:
    error = np.max(gradcheck.relative_error(exact[name], numeric[name]))
    print(f"{name}: largest relative error below 1e-7: {error < 1e-7}")

# %% [markdown]
# `nnlab.gradcheck.check_module` does this for any module, on its input and on every parameter, with a
# random upstream gradient so that no mistake can hide behind a symmetry. Every layer of the library is
# tested this way.

# %%
result = gradcheck.check_module(net, X)
print(result)

# %%
# NBVAL_CHECK_OUTPUT
print("check_module passes at 1e-6:", result.passed(1e-6))

# %% [markdown]
# A check is only worth something if it fails on a wrong backward pass. Forget the factor $\sigma'(z^L)$ in
# BP1, a classic slip, and the relative error is of order 1:

# %%
# NBVAL_CHECK_OUTPUT
forward = bp.backprop_minibatch(X, T)
A1, A2 = forward["A1"], forward["A2"]
wrong_delta2 = (A2 - T) / len(X)  # BP1 without σ'(z²): the bug
wrong_dW2 = wrong_delta2.T @ A1
error = np.max(gradcheck.relative_error(wrong_dW2, numeric["W2"]))
print(f"largest relative error of the buggy ∂C/∂W2: {error:.2f}")

# %% [markdown]
# How small should $h$ be? Move the slider. For a large $h$ the $O(h^2)$ truncation error dominates; for a
# tiny $h$, $C(w + h)$ and $C(w - h)$ agree in almost all their 16 significant digits and the rounding error,
# about $10^{-16}/h$, takes over. In float64 the sweet spot is near $h = 10^{-5}$; in float32, with only about
# 7 digits, no $h$ gets close, which is why checks run in float64.

# %%
lessons.gradcheck_step()

# %% [markdown]
# The same curve without a kernel, with three steps marked:

# %%
bp.gradcheck_step_figure()

# %% [markdown]
# ## 3.7 One example at a time, or the whole minibatch at once
#
# Honchar's lecture states the algorithm for a minibatch of $m$ examples as a loop: for every example
# $x$, run forward, compute $\delta^{x,L}$, backpropagate, then average,
# $\partial C / \partial W^l = \frac1m \sum_x \delta^{x,l} (a^{x,l-1})^\top$. Stack the examples as the rows of a
# matrix and the loop disappears into matrix products: row $n$ of $\Delta^l$ is $\delta^{x_n,l}$, and
# $\sum_x \delta^{x,l} (a^{x,l-1})^\top = (\Delta^l)^\top A^{l-1}$. `bp.backprop_per_example` is the loop,
# `bp.backprop_minibatch` the matrix form. On a minibatch of 4,000 examples they agree:

# %%
# NBVAL_CHECK_OUTPUT
X_big, T_big = np.tile(X, (1000, 1)), np.tile(T, (1000, 1))
loop = bp.backprop_per_example(X_big, T_big)
batch = bp.backprop_minibatch(X_big, T_big)
same = all(
    np.allclose(loop["grads"][name], batch["grads"][name], rtol=1e-12, atol=1e-15) for name in loop["grads"]
)
print(f"examples: {len(X_big)}, loss {batch['loss']:.4f}, same gradients: {same}")

# %% [markdown]
# They compute the same numbers; the difference is speed. The loop pays Python's overhead for every
# example, while the matrix form hands NumPy a few large products. (Timings depend on your machine.)


# %%
def seconds(f, repeat=3):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


t_loop = seconds(lambda: bp.backprop_per_example(X_big, T_big))
t_batch = seconds(lambda: bp.backprop_minibatch(X_big, T_big))
print(
    f"per-example loop: {1e3 * t_loop:.1f} ms, minibatch: {1e3 * t_batch:.2f} ms, {t_loop / t_batch:.0f} times faster"
)

# %% [markdown]
# ## 3.8 The gradient is the slope
#
# Each number backpropagation returns is the slope of the loss along one weight. Move the weight
# $W_{I1}$ (from hidden unit 1 to the carry output) and watch the tangent follow the curve of the loss on
# the four examples; the green square is where one gradient-descent step of chapter 2 takes the weight.
# Where the slope is steep, a step moves far; where the curve flattens, on its wings, the step hardly
# moves. A large learning rate can jump past the minimum.

# %%
lessons.loss_slope()

# %% [markdown]
# The lesson without a kernel, at three settings of $W_{I1}$: on the left wing, at the starting weight,
# and on the right wing:

# %%
bp.loss_slope_figure()

# %% [markdown]
# **Check.** The three weights of the figure, and the lowest point and the steepest slope of the curve:

# %%
# NBVAL_CHECK_OUTPUT
for w in (-4.0, 0.7, 6.0):
    loss_w, slope_w = bp.loss_and_slope(w)
    print(f"W_I1 = {w:+.1f}: loss {loss_w:.3f}, slope {slope_w:+.4f}")
grid = np.linspace(-6, 6, 241)
curve = np.array([bp.loss_and_slope(w) for w in grid])
lowest, steepest = np.argmin(curve[:, 0]), np.argmax(np.abs(curve[:, 1]))
print(f"lowest loss {curve[lowest, 0]:.3f} at W_I1 = {grid[lowest]:+.2f}")
print(f"steepest slope {curve[steepest, 1]:+.4f} at W_I1 = {grid[steepest]:+.2f}")

# %% [markdown]
# The two wings are flat for different reasons. On the left wing the loss at $W_{I1} = -4$ is 0.246, barely
# above the lowest value 0.234: the weight is nearly as good as it gets, and a small step costs nothing.
# On the right wing, at $W_{I1} = 6$, the loss is 0.470, twice the minimum, yet the slope 0.018 is less
# than half the steepest one, so gradient descent crawls exactly where it should hurry. Chapter 4 is about
# such flat stretches where the network is wrong.

# %% [markdown]
# ## 3.9 Training the half adder on both paths
#
# Gradient descent now has every gradient it needs, and with a hidden layer the network can learn what
# the single perceptron of chapter 1 could not: the sum bit, XOR. We train it from the weights above with
# the NumPy reference first: all four examples in each step, learning rate $\eta = 5$ (large for a
# textbook, but on this small, flat loss the gradients are small), 800 steps.

# %%
# NBVAL_CHECK_OUTPUT
np_net = bp.half_adder_net().astype(np.float32)
torch_net = bridge.twin(
    np_net, device=nnlab.device()
)  # the same starting weights, on the GPU if there is one
history = nn.fit(
    np_net, nn.MSELoss(), nn.optim.SGD(np_net, lr=5.0), X, T, epochs=800, batch_size=4, rng=0, progress=False
)
print(f"np_nn: loss {history.train_loss[0]:.4f} -> {history.train_loss[-1]:.4f}")
print("outputs (carry, sum):", np_net(X).astype(np.float64).round(2).tolist())
print("all four examples right:", history.train_acc[-1] == 1.0)

# %% [markdown]
# Then the PyTorch twin, on `nnlab.device()`, with autograd doing the backward pass:

# %%
torch_history = tnn.fit(
    torch_net,
    tnn.MSELoss(),
    tnn.optim.SGD(torch_net, lr=5.0),
    X,
    T,
    epochs=800,
    batch_size=4,
    rng=0,
    progress=False,
)
print(
    f"torch_nn on {nnlab.device()}: loss {torch_history.train_loss[0]:.4f} -> {torch_history.train_loss[-1]:.4f}"
)

# %% [markdown]
# After 800 steps in float32 the two trained networks still agree: their loss curves, their outputs
# and their gradients differ only by float32 rounding.

# %%
# NBVAL_CHECK_OUTPUT
curve_gap = np.max(np.abs(np.array(history.train_loss) - np.array(torch_history.train_loss)))
print("loss curves agree within 1e-5:", curve_gap < 1e-5)
trained = bridge.compare(np_net, torch_net, X)
print("trained networks agree (outputs and gradients, within 1e-5):", trained.passed())

# %%
print(trained)

# %% [markdown]
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`03_backpropagation.ipynb`, checked as you go)
# asks you to write the pieces of this chapter yourself:
#
# 1. the sigmoid's derivative $\sigma'(z) = \sigma(z)(1 - \sigma(z))$;
# 2. the output error of BP1, $\delta^L = (a^L - y) \odot \sigma'(z^L)$;
# 3. the error passed back to a hidden layer, BP2;
# 4. the backward pass of a linear layer: $dx$, $dW$ and $db$ from $\text{dout}$.
#
# To go further on your own: redo section 3.3 for the example $X = (0, 1)$ and check your numbers with
# `bp.backprop_by_hand`; and show with `bp.numerical_gradients` that the one-sided difference
# $(C(w + h) - C(w))/h$ has an error of order $h$, not $h^2$.
