# %% [markdown]
# # Chapter 3 · Backpropagation: every gradient of a network in one backward pass
#
# **What you will be able to do after this chapter**
#
# - write the loss of a whole data set and differentiate it along a chain with the chain rule;
# - derive the four backpropagation equations for a network of sigmoid layers, and the derivatives of
#   the sigmoid, tanh and ReLU they need;
# - compute every gradient of a small network by hand, read it as a sum over paths, and get the same
#   numbers from `nnlab.np_nn` and from PyTorch's autograd;
# - check any backward pass against finite differences, and choose the step of the check;
# - explain why a minibatch computed with matrices gives the same gradient as a loop over its examples,
#   only much faster;
# - train a network on both of nnlab's paths, and train one on real handwritten digits.
#
# Chapter 2 descended a loss whose gradient we could write down at once. A network's loss depends on
# every weight through layers of sigmoids; backpropagation is the bookkeeping of the chain rule that
# gets all those derivatives in one pass backwards through the network. The symbols are the book's
# [notation](01_perceptron.ipynb#Notation-used-in-this-book): $y$ is always the target, $z$ a weighted
# input, $a$ an activation, $L$ the loss, $\delta^l$ the error at layer $l$, and $\Delta w$ only ever the change
# one update makes to $w$.

# %%
# %matplotlib inline
import time
import warnings

import numpy as np
import torch
from matplotlib.figure import Figure

import nnlab
from nnlab import bridge, data, gradcheck, lessons
from nnlab import np_nn as nn
from nnlab import torch_nn as tnn
from nnlab.lessons import backprop as bp
from nnlab.lessons.diagram import network_diagram
from nnlab.np_nn import functional as F

# %% [markdown]
# ## 3.1 The half adder
#
# Kheradpisheh's lecture works backpropagation through a network that adds two bits. Its two outputs
# are the carry and the sum of $X_1 + X_2$ written in binary:
#
# | $X_1, X_2$ | carry $y_I$ | sum $y_{II}$ |
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
X, Y = (a.astype(np.float64) for a in data.half_adder())
W1, b1, W2, b2 = (np.array(bp.HALF_ADDER_WEIGHTS[name]) for name in ("W1", "b1", "W2", "b2"))
print("inputs X:", X.tolist())
print("targets Y (carry, sum):", Y.tolist())
print("W1 =", W1.tolist(), " b1 =", b1.tolist())
print("W2 =", W2.tolist(), " b2 =", b2.tolist())

# %% [markdown]
# ## 3.2 The loss of a data set, and the chain rule along a chain
#
# Training needs one number that says how wrong the network is on the whole data set. Chang's lecture
# calls it the **empirical loss**: the loss of each example, averaged over the $n$ examples,
#
# $$L(W) = \frac1n \sum_{i=1}^{n} \ell\big(f(x^{(i)}; W),\, y^{(i)}\big).$$
#
# His example asks whether a student will pass a class, from the number of lectures attended and the
# hours spent on the project. The network predicts the probabilities $f(x) = 0.1, 0.8, 0.6$ for three
# students, $x = (4, 5), (2, 1), (5, 8)$; the ticks and crosses of the slide mark the first two
# predictions wrong and the third right, so, reading a prediction above 0.5 as "pass", the three
# students' outcomes are $y = 1, 0, 1$. With the
# cross-entropy of chapter 4 (per example $-\log$ of the probability given to the right outcome) and
# with the squared error, the table and its empirical loss are:

# %%
# NBVAL_CHECK_OUTPUT
x_students = np.array([[4, 5], [2, 1], [5, 8]])  # lectures attended, hours on the project
f_x = np.array([[0.1], [0.8], [0.6]])  # the network's predictions, probability of passing
y_pass = np.array([[1.0], [0.0], [1.0]])  # what happened: pass, fail, pass
cross_entropy = -(
    y_pass * np.log(f_x) + (1 - y_pass) * np.log(1 - f_x)
)  # ℓ = −(y log f + (1 − y) log(1 − f))
squared = (f_x - y_pass) ** 2  # ℓ = (f − y)²
print("   x     f(x)   y   right?   cross-entropy   squared error")
for x_i, f, y_i, ce, se in zip(x_students, f_x[:, 0], y_pass[:, 0], cross_entropy[:, 0], squared[:, 0]):
    right = "yes" if (f > 0.5) == (y_i == 1) else "no"
    print(f" {x_i[0]}, {x_i[1]}    {f:.1f}   {y_i:.0f}   {right:<6}   {ce:13.4f}   {se:13.2f}")
print(f"empirical loss L = mean:               {cross_entropy.mean():13.4f}   {squared.mean():13.4f}")
print(
    f"np_nn: BCELoss {nn.BCELoss()(f_x, y_pass):.4f},  MSELoss(convention='mean') {nn.MSELoss(convention='mean')(f_x, y_pass):.4f}"
)

# %% [markdown]
# The confidently wrong first prediction costs most under both losses (2.30 and 0.81), the right one least.
#
# In this chapter the loss of one example is the lectures' squared error $\ell = \tfrac12\lVert a - y\rVert^2$ over
# all the network's outputs. Honchar's example has three outputs, the target $y = (0, 1, 0)$ and the
# network's answer $a = (0, 0.6, 0.2)$: $\ell = \tfrac12\,(0^2 + 0.4^2 + 0.2^2) = 0.1$. `nn.MSELoss` computes exactly
# this by default (its `"half_sum"` convention), averaged over the examples of a batch:

# %%
# NBVAL_CHECK_OUTPUT
y_honchar, a_honchar = np.array([[0.0, 1.0, 0.0]]), np.array([[0.0, 0.6, 0.2]])
print(
    f"½‖a − y‖² = {0.5 * np.sum((a_honchar - y_honchar) ** 2):.4f},   nn.MSELoss() gives {nn.MSELoss()(a_honchar, y_honchar):.4f}"
)

# %% [markdown]
# How does the loss change when one weight changes? Chang's lecture answers on the smallest network
# there is, a chain: the input $x$ goes through the weight $w_1$ to a hidden unit, whose output goes
# through $w_2$ to the output $\hat y$. With sigmoid units,
#
# $$z_1 = w_1 x,\quad a_1 = \sigma(z_1),\quad z_2 = w_2 a_1,\quad \hat y = \sigma(z_2),\quad L = \tfrac12(\hat y - y)^2.$$
#
# $L$ depends on $w_1$ only through $z_1$, and on $z_1$ only through $\hat y$, so the **chain rule** multiplies
# one local derivative per link:
#
# $$\frac{\partial L}{\partial w_1} = \frac{\partial L}{\partial \hat y}\cdot\frac{\partial \hat y}{\partial z_1}\cdot\frac{\partial z_1}{\partial w_1}
#   = (\hat y - y)\cdot\big(\sigma'(z_2)\, w_2\, \sigma'(z_1)\big)\cdot x.$$
#
# The slides leave the numbers to us; take $x = 1.5$, $w_1 = 0.8$, $w_2 = -1.2$ and the target $y = 1$, and check
# the product against the slope measured by nudging $w_1$:

# %%
# NBVAL_CHECK_OUTPUT
x_c, w1_c, w2_c, y_c = 1.5, 0.8, -1.2, 1.0


def chain_loss(w1, w2=w2_c):
    a1 = F.sigmoid(w1 * x_c)  # a₁ = σ(w₁x)
    y_hat = F.sigmoid(w2 * a1)  # ŷ = σ(w₂a₁)
    return 0.5 * (y_hat - y_c) ** 2  # L = ½(ŷ − y)²


z1 = w1_c * x_c
a1 = F.sigmoid(z1)
z2 = w2_c * a1
y_hat = F.sigmoid(z2)
dL_dyhat = y_hat - y_c  # ∂L/∂ŷ = ŷ − y
dyhat_dz1 = y_hat * (1 - y_hat) * w2_c * a1 * (1 - a1)  # ∂ŷ/∂z₁ = σ'(z₂) w₂ σ'(z₁)
dz1_dw1 = x_c  # ∂z₁/∂w₁ = x
print(f"forward:  z₁ = {z1:.2f}, a₁ = {a1:.4f}, z₂ = {z2:.4f}, ŷ = {y_hat:.4f}, L = {chain_loss(w1_c):.4f}")
print(f"∂L/∂w₁ = ({dL_dyhat:.4f}) × ({dyhat_dz1:.5f}) × ({dz1_dw1}) = {dL_dyhat * dyhat_dz1 * dz1_dw1:.5f}")
h = 1e-5
print(
    f"slope measured, (L(w₁ + h) − L(w₁ − h)) / 2h = {(chain_loss(w1_c + h) - chain_loss(w1_c - h)) / (2 * h):.5f}"
)

# %% [markdown]
# The gradient is positive: making $w_1$ larger makes the loss larger, so gradient descent makes it
# smaller. Chang's lecture closes the example by saying that every other weight is handled the same way,
# reusing the derivatives already computed for the layers after it. The next section turns that into
# four equations.
#
# ## 3.3 The four equations
#
# Write a network with layers $l = 1, \dots, L$ in vectors: the input is $a^0 = x$, and each layer computes
#
# $$z^l = W^l a^{l-1} + b^l, \qquad a^l = \sigma(z^l).$$
#
# Take one example with target $y$, so that the loss is $L = \tfrac12 \lVert a^L - y\rVert^2$. (The $L$ of the number
# of layers appears only as a superscript.) The quantity that makes everything simple is the **error of a
# unit**, the derivative of the loss with respect to its weighted input:
#
# $$\delta^l_j = \frac{\partial L}{\partial z^l_j}.$$
#
# **BP1, the output layer.** $z^L_k$ reaches $L$ only through $a^L_k = \sigma(z^L_k)$, so by the chain rule
#
# $$\delta^L_k = \frac{\partial L}{\partial a^L_k}\,\frac{\partial a^L_k}{\partial z^L_k} = (a^L_k - y_k)\,\sigma'(z^L_k).$$
#
# **BP2, one layer back.** $z^l_j$ reaches $L$ through every unit $k$ of the next layer, where
# $z^{l+1}_k = \sum_j W^{l+1}_{kj} a^l_j + b^{l+1}_k$. Summing over those paths,
#
# $$\delta^l_j = \sum_k \frac{\partial L}{\partial z^{l+1}_k}\,\frac{\partial z^{l+1}_k}{\partial a^l_j}\,
#   \frac{\partial a^l_j}{\partial z^l_j} = \Big(\sum_k W^{l+1}_{kj}\,\delta^{l+1}_k\Big)\,\sigma'(z^l_j),
#   \qquad\text{i.e.}\qquad \delta^l = \big((W^{l+1})^\top \delta^{l+1}\big) \odot \sigma'(z^l),$$
#
# where $\odot$ multiplies two vectors element by element. The vector $(W^{l+1})^\top \delta^{l+1} = \partial L/\partial a^l$
# is the **upstream gradient** of layer $l$: the derivative of the loss with respect to the layer's output,
# which the layer above hands down (`dout` in the code).
#
# **BP3 and BP4, the parameters.** A bias and a weight reach $L$ only through $z^l_j$, with
# $\partial z^l_j / \partial b^l_j = 1$ and $\partial z^l_j / \partial W^l_{jk} = a^{l-1}_k$:
#
# $$\frac{\partial L}{\partial b^l_j} = \delta^l_j, \qquad \frac{\partial L}{\partial W^l_{jk}} = \delta^l_j\, a^{l-1}_k.$$
#
# **The activations' derivatives.** For the sigmoid, write $\sigma(z) = (1 + e^{-z})^{-1}$ and differentiate:
#
# $$\sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2} = \frac{1}{1 + e^{-z}}\cdot\frac{e^{-z}}{1 + e^{-z}}
#   = \sigma(z)\,\big(1 - \sigma(z)\big),$$
#
# since $1 - \sigma(z) = \frac{(1 + e^{-z}) - 1}{1 + e^{-z}} = \frac{e^{-z}}{1 + e^{-z}}$. So $\sigma' = a(1 - a)$: the backward pass
# needs only the activations the forward pass already computed. The other two activations of this book
# are as cheap. From $\tanh z = \sinh z / \cosh z$ and the quotient rule,
# $\tanh'(z) = \frac{\cosh^2 z - \sinh^2 z}{\cosh^2 z} = 1 - \tanh^2 z$; and the rectifier $\mathrm{ReLU}(z) = \max(0, z)$ has
#
# $$\mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0,\\ 0 & z < 0,\end{cases}$$
#
# undefined at $z = 0$, where nnlab, like PyTorch, uses 0. The library's `F.sigmoid_prime`, `F.tanh_prime`
# and `ReLU.backward` compute exactly these formulas (the tests check it). Each formula against the slope
# measured by a centred difference over $z \in [-6, 6]$ (ReLU away from its corner) differs only by the
# difference's own error, around $10^{-10}$:

# %%
z = np.linspace(-6, 6, 1201)
formulas = {
    "σ'(z) = σ(z)(1 − σ(z))": (F.sigmoid(z) * (1 - F.sigmoid(z)), F.sigmoid),
    "tanh'(z) = 1 − tanh²(z)": (1 - np.tanh(z) ** 2, np.tanh),
    "ReLU'(z) = 1 if z > 0 else 0": ((z > 0).astype(float), F.relu),
}
away_from_zero = np.abs(z) > 1e-3
for name, (formula, f) in formulas.items():
    numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6  # the measured slope
    print(
        f"{name:<30} largest difference from the measured slope {np.max(np.abs(formula - numeric)[away_from_zero]):.0e}"
    )

# %% [markdown]
# Honchar's slides derive the same results as the gradients of the weights and the bias of an output
# unit and of a hidden unit ("Backpropagation 1" to "4"; his numbering differs from ours, and he writes
# $w_{jk}$ for the weight from $j$ to $k$, the transpose of our $W_{kj}$). Kheradpisheh's lecture works with the
# derivative with respect to a unit's *output* instead, $\partial L/\partial O$ (his slides give it a capital delta;
# in this book $\Delta$ only ever means the change an update makes): $\partial L/\partial O_k = -(y_k - O_k)$ at an output
# unit, $\partial L/\partial O_j = \sum_k W_{kj}\,(\partial L/\partial O_k)\,O_k(1 - O_k)$ at a hidden one, and every weight's
# gradient carries a factor $O(1 - O)$ of the unit the weight leads into. So $\delta = (\partial L/\partial O)\,O(1 - O)$:
# the same numbers. (One line of that slide prints $O_3(1 - O_1)$ for $W_{31}$; the pattern of the others, and
# the chain rule, say $O_3(1 - O_3)$.)

# %% [markdown]
# ## 3.4 By hand: one example, every number
#
# Take the example $X = (1, 1)$, whose targets are carry 1 and sum 0, and follow the formulas unit by unit.


# %%
# NBVAL_CHECK_OUTPUT
def sigma(z):
    return 1 / (1 + np.exp(-z))


x, y = X[3], Y[3]
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
    print(f"  O_{name:<2} = σ({z:+.4f}) = {O_out[k]:.4f}   (target {y[k]:.0f})")
loss_hand = 0.5 * np.sum((O_out - y) ** 2)  # L = ½ Σ_k (O_k − y_k)²
print(f"  loss L = ½[(O_I − 1)² + (O_II − 0)²] = {loss_hand:.4f}")

print("backward")
delta_out = (O_out - y) * O_out * (1 - O_out)  # BP1: δ_k = (O_k − y_k) O_k (1 − O_k)
for k, name in enumerate(("I", "II")):
    print(
        f"  δ_{name:<2} = ({O_out[k]:.4f} − {y[k]:.0f})({O_out[k]:.4f})(1 − {O_out[k]:.4f}) = {delta_out[k]:+.5f}"
    )
delta_hidden = (W2.T @ delta_out) * O_hidden * (1 - O_hidden)  # BP2: δ_j = (Σ_k W_kj δ_k) O_j (1 − O_j)
for j in range(3):
    print(
        f"  δ_{j + 1}  = [({W2[0, j]})({delta_out[0]:.5f}) + ({W2[1, j]})({delta_out[1]:.5f})]"
        f"({O_hidden[j]:.4f})(1 − {O_hidden[j]:.4f}) = {delta_hidden[j]:+.5f}"
    )
dW2 = np.outer(delta_out, O_hidden)  # BP4: ∂L/∂W_kj = δ_k O_j
dW1 = np.outer(delta_hidden, x)  # BP4: ∂L/∂W_ji = δ_j X_i
print(f"  ∂L/∂W_I1 = δ_I O_1 = ({delta_out[0]:.5f})({O_hidden[0]:.4f}) = {dW2[0, 0]:+.5f}")
print(f"  ∂L/∂W_11 = δ_1 X_1 = ({delta_hidden[0]:.5f})(1) = {dW1[0, 0]:+.5f}")
by_hand = {"W1": dW1, "b1": delta_hidden, "W2": dW2, "b2": delta_out}  # BP3: ∂L/∂b = δ

# %% [markdown]
# The same numbers on the network, drawn as a circuit in the style of the CS231n notes: each unit's
# forward value in green above it and its error $\delta$ in red below it; on each edge its weight, and under
# it in red the weight's gradient $\partial L/\partial W = \delta \cdot (\text{the value the edge carries})$. The biases are
# left out of the picture; by BP3 their gradients are the units' $\delta$s. `network_diagram` draws any small
# fully connected network this way.

# %%
network_diagram(
    (2, 3, 2),
    weights=[W1, W2],
    weight_grads=[dW1, dW2],
    values=[x, O_hidden, O_out],
    grads=[None, delta_hidden, delta_out],
    unit_names=[["$X_1$", "$X_2$"], ["$O_1$", "$O_2$", "$O_3$"], ["$O_I$", "$O_{II}$"]],
    layer_names=["input x = (1, 1)", "hidden layer", "output (target y = (1, 0))"],
    title="The half adder on X = (1, 1): forward values, errors δ and weight gradients",
)

# %% [markdown]
# Read the red numbers backwards: the carry output is too low ($O_I = 0.506$, target 1), so $\delta_I < 0$ and
# every weight into it should grow; the sum output is too high, so $\delta_{II} > 0$. The hidden units' $\delta$s
# are the output errors sent back along the edges, mixed with weights of both signs and scaled by
# $\sigma' \le 1/4$, which is why they are so much smaller (0.009 to 0.032 against 0.12 and 0.15).
#
# The same formulas with plain Python floats are `bp.backprop_by_hand`; its numbers are those above
# (the tests check it).

# %%
hand = bp.backprop_by_hand(x, y)
gap_hand = max(np.max(np.abs(hand["grads"][name] - by_hand[name])) for name in by_hand)
print(
    f"bp.backprop_by_hand: loss {hand['loss']:.4f}, largest gradient difference from the cell above {gap_hand:.1e}"
)

# %% [markdown]
# ## 3.5 Backpropagation as a sum over paths
#
# Kheradpisheh's lecture puts BP2 another way. A change in an early quantity reaches the loss along
# every path through the network, and the chain rule gives one product of local derivatives per path;
# the derivative is the sum of those products over all paths. Take $\partial L/\partial X_1$ on our example. From $X_1$
# there are $3 \times 2 = 6$ paths to the loss, $X_1 \to O_j \to O_k \to L$, and each contributes
#
# $$\underbrace{W_{j1}}_{\partial z_j/\partial X_1}\;\underbrace{O_j(1 - O_j)}_{\partial O_j/\partial z_j}\;
#   \underbrace{W_{kj}}_{\partial z_k/\partial O_j}\;\underbrace{O_k(1 - O_k)}_{\partial O_k/\partial z_k}\;
#   \underbrace{(O_k - y_k)}_{\partial L/\partial O_k}.$$

# %%
# NBVAL_CHECK_OUTPUT
total = 0.0
for j in range(3):
    for k, name in enumerate(("I", "II")):
        path = (
            W1[j, 0]
            * O_hidden[j]
            * (1 - O_hidden[j])
            * W2[k, j]
            * O_out[k]
            * (1 - O_out[k])
            * (O_out[k] - y[k])
        )
        total += path
        print(f"  X_1 → O_{j + 1} → O_{name:<2} → L : {path:+.6f}")
print(f"sum over the 6 paths:                 {total:+.6f}")
print(f"backpropagation, (W¹ᵀ δ¹) for X_1:   {(W1.T @ delta_hidden)[0]:+.6f}")

# %% [markdown]
# The sum over paths and BP2 give the same number because BP2 *is* that sum, with the common parts
# factored out: $\delta_j$ already holds the sum over both paths from $O_j$ onwards, so the six products cost
# three multiplications by $W_{j1}$ at the last step. That factoring is what makes backpropagation fast. The
# number of paths multiplies with every layer (a network with three hidden layers of 100 units has
# $100^3 = 10^6$ paths from one input to one output), while backpropagation touches each weight once per
# backward pass, about the cost of the forward pass.

# %% [markdown]
# ## 3.6 The same gradients from `nnlab.np_nn`
#
# In the library the network is `Linear(2, 3)`, `Sigmoid`, `Linear(3, 2)`, `Sigmoid`, and the loss is
# `MSELoss`, whose default is the lectures' $\tfrac12\lVert a - y\rVert^2$ averaged over the batch. Each module's
# `backward` is one of the equations: `Sigmoid.backward` multiplies by $\sigma'(z)$ (BP1, BP2),
# `Linear.backward` returns the upstream gradient $W^\top\delta$ to the layer below (BP2) and stores $\delta^\top a$
# and $\sum \delta$ (BP4, BP3). The parameters are named by position: `"0.W"` is $W^1$, `"2.W"` is $W^2$.

# %%
# NBVAL_CHECK_OUTPUT
net = bp.half_adder_net()
loss = nn.MSELoss()
print(net)
loss_lib = loss(net(x[None, :]), y[None, :])
net.backward(loss.backward())
library = {"W1": net.grads["0.W"], "b1": net.grads["0.b"], "W2": net.grads["2.W"], "b2": net.grads["2.b"]}
print(f"loss: by hand {loss_hand:.6f}, np_nn {loss_lib:.6f}")

# %% [markdown]
# ## 3.7 And from autograd
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
xt, yt = torch.tensor(x), torch.tensor(y)
a1 = torch.sigmoid(weights["W1"] @ xt + weights["b1"])  # a¹ = σ(W¹x + b¹)
a2 = torch.sigmoid(weights["W2"] @ a1 + weights["b2"])  # a² = σ(W²a¹ + b²)
loss_torch = 0.5 * torch.sum((a2 - yt) ** 2)  # L = ½‖a² − y‖²
loss_torch.backward()
autograd = {name: w.grad.numpy() for name, w in weights.items()}

print(f"{'one gradient':<14}{'by hand':>12}{'np_nn':>12}{'autograd':>12}")
for name, index in (("W1", (0, 0)), ("b1", (1,)), ("W2", (0, 0)), ("b2", (1,))):
    label = f"{name}[{', '.join(map(str, index))}]"  # e.g. W1[0, 0]
    print(
        f"{label:<14}{by_hand[name][index]:>+12.6f}{library[name][index]:>+12.6f}{autograd[name][index]:>+12.6f}"
    )

# %% [markdown]
# Over all 17 gradients (12 weights, 5 biases), the largest differences between the three are at the
# level of float64 rounding, about $10^{-16}$:

# %%
for other, grads in (("np_nn", library), ("autograd", autograd)):
    gap = max(np.max(np.abs(grads[name] - by_hand[name])) for name in by_hand)
    print(f"largest |by hand − {other}| over the 17 gradients: {gap:.1e}")

# %% [markdown]
# `nnlab.bridge` makes the same comparison for any model: `bridge.twin(net)` is the PyTorch model
# with the NumPy model's weights, and `bridge.compare` sends the same input forward and the same
# upstream gradient back through both. On all four examples:

# %%
print(bridge.compare(net, bridge.twin(net, device="cpu"), X))

# %% [markdown]
# ## 3.8 The gradient check
#
# What if we had made a mistake in the derivation? The definition of the derivative gives an
# independent answer. Change one weight by a small $h$ both ways and measure the loss:
#
# $$\frac{\partial L}{\partial w} \approx \frac{L(w + h) - L(w - h)}{2h}.$$
#
# Expanding $L(w \pm h)$ in a Taylor series, the $h^2$ terms cancel and this **centred difference** is off by
# only $O(h^2)$, against $O(h)$ for the one-sided $(L(w + h) - L(w))/h$. It costs two forward passes per
# weight: far too slow to train with (a million weights, two million passes per step), exactly right to
# test a backward pass with. We compare with the relative error
# $|g_{\text{backprop}} - g_{\text{numeric}}| / \max(|g_{\text{backprop}}|, |g_{\text{numeric}}|)$, on the loss of all four
# examples. `nnlab.gradcheck` passes a check below $10^{-6}$, and a correct float64 backward pass usually
# reaches $10^{-7}$ or less; here every error is below $10^{-8}$:

# %%
exact = bp.backprop_minibatch(X, Y)["grads"]
numeric = bp.numerical_gradients(X, Y, h=1e-5)
for name in exact:
    error = np.max(gradcheck.relative_error(exact[name], numeric[name]))
    print(f"{name}: largest relative error {error:.0e}")

# %% [markdown]
# `nnlab.gradcheck.check_module` does this for any module, on its input and on every parameter, with a
# random upstream gradient so that no mistake can hide behind a symmetry. Every layer of the library is
# tested this way.

# %%
print(gradcheck.check_module(net, X))

# %% [markdown]
# A check is only worth something if it fails on a wrong backward pass. Forget the factor $\sigma'(z^L)$ in
# BP1, a classic slip, and the relative error is of order 1:

# %%
# NBVAL_CHECK_OUTPUT
forward = bp.backprop_minibatch(X, Y)
A1, A2 = forward["A1"], forward["A2"]
wrong_delta2 = (A2 - Y) / len(X)  # BP1 without σ'(z²): the bug
wrong_dW2 = wrong_delta2.T @ A1
error = np.max(gradcheck.relative_error(wrong_dW2, numeric["W2"]))
print(f"largest relative error of the buggy ∂L/∂W2: {error:.2f}")

# %% [markdown]
# How small should $h$ be? Move the slider. For a large $h$ the $O(h^2)$ truncation error dominates; for a
# tiny $h$, $L(w + h)$ and $L(w - h)$ agree in almost all their 16 significant digits and the rounding error,
# about $10^{-16}/h$, takes over. In float64 the sweet spot is near $h = 10^{-5}$. In float32, with only about
# 7 digits, the same check never gets below about $5 \cdot 10^{-4}$ whatever $h$, hundreds of times above the pass
# mark, which is why checks run in float64.

# %%
lessons.gradcheck_step()

# %% [markdown]
# The same curve without a kernel, with three steps marked:

# %%
bp.gradcheck_step_figure()

# %% [markdown]
# ## 3.9 One example at a time, or the whole minibatch at once
#
# Honchar's lecture states the algorithm for a minibatch of $N$ examples as a loop: for every example
# $x$, run forward, compute $\delta^{x,L}$, backpropagate, then average,
# $\partial L / \partial W^l = \frac1N \sum_x \delta^{x,l} (a^{x,l-1})^\top$. Stack the examples as the rows of matrices and the
# loop disappears into matrix products: the errors become a matrix $\delta^l$ of shape $(N, D_\text{out})$ whose row
# $n$ is $\delta^{x_n,l}$, the activations a matrix $A^{l-1}$ of shape $(N, D_\text{in})$, and
# $\sum_x \delta^{x,l} (a^{x,l-1})^\top = (\delta^l)^\top A^{l-1}$. `bp.backprop_per_example` is the loop,
# `bp.backprop_minibatch` the matrix form. On a minibatch of 4,000 examples they agree to
# within $10^{-14}$, float64 rounding summed over 4,000 terms:

# %%
X_big, Y_big = np.tile(X, (1000, 1)), np.tile(Y, (1000, 1))
loop = bp.backprop_per_example(X_big, Y_big)
batch = bp.backprop_minibatch(X_big, Y_big)
gap = max(np.max(np.abs(loop["grads"][name] - batch["grads"][name])) for name in loop["grads"])
print(f"examples: {len(X_big)}, loss {batch['loss']:.4f}, largest gradient difference {gap:.0e}")

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


t_loop = seconds(lambda: bp.backprop_per_example(X_big, Y_big))
t_batch = seconds(lambda: bp.backprop_minibatch(X_big, Y_big))
print(
    f"per-example loop: {1e3 * t_loop:.1f} ms, minibatch: {1e3 * t_batch:.2f} ms, {t_loop / t_batch:.0f} times faster"
)

# %% [markdown]
# ## 3.10 The gradient is the slope
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
# ## 3.11 Training the half adder on both paths
#
# Gradient descent now has every gradient it needs, and with a hidden layer the network can learn what
# the single perceptron of chapter 1 could not: the sum bit, XOR. We train it from the weights above with
# the NumPy reference first: all four examples in each step, learning rate $\eta = 5$ (large for a
# textbook, but on this small, flat loss the gradients are small), 800 steps. One **epoch** is one pass
# over the training set; here, with all four examples in one batch, an epoch is one step.

# %%
# NBVAL_CHECK_OUTPUT
np_net = bp.half_adder_net().astype(np.float32)
torch_net = bridge.twin(
    np_net, device=nnlab.device()
)  # the same starting weights, on the GPU if there is one
history = nn.fit(
    np_net, nn.MSELoss(), nn.optim.SGD(np_net, lr=5.0), X, Y, epochs=800, batch_size=4, rng=0, progress=False
)
print(f"np_nn: loss {history.train_loss[0]:.4f} -> {history.train_loss[-1]:.4f}")
print("outputs (carry, sum):", np_net(X).astype(np.float64).round(2).tolist())
print(f"examples right (both outputs on the right side of 0.5): {history.train_acc[-1]:.0%}")

# %% [markdown]
# Then the PyTorch twin, on `nnlab.device()`, with autograd doing the backward pass:

# %%
torch_history = tnn.fit(
    torch_net,
    tnn.MSELoss(),
    tnn.optim.SGD(torch_net, lr=5.0),
    X,
    Y,
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
# and their gradients differ only by float32 rounding, below $10^{-5}$.

# %%
curve_gap = np.max(np.abs(np.array(history.train_loss) - np.array(torch_history.train_loss)))
print(f"largest difference between the two loss curves: {curve_gap:.0e}")
print(bridge.compare(np_net, torch_net, X))

# %% [markdown]
# ## 3.12 Real handwriting: a network that reads digits
#
# The same equations train networks on real data. Nielsen's book starts with exactly this network: an
# image's pixels as the input vector, one hidden layer of 30 sigmoid units, and ten sigmoid outputs, one
# per digit, trained with the squared loss against one-hot targets (the row $y$ with a 1 at the image's
# digit and 0 elsewhere). The prediction is the digit whose output is largest.
#
# `load_mnist` reads MNIST's 28×28 images if they are on this machine (run
# `nnlab.data.load_mnist("train")` once to download them, about 11 MB; `python -m nnlab doctor` tells
# you whether they are there). Without them it
# falls back to scikit-learn's bundled 8×8 digits and says so; the book never downloads by itself. We take
# up to `N_IMAGES` images, train on 80% of them and keep 20% aside to measure accuracy on images the
# network never saw.

# %%
# of MNIST's 60,000 training images (the digits' training split has 1,437): more is slower, and better
N_IMAGES = 10_000
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # the fallback's warning names this machine's folders
    images, labels = data.load_mnist("train", download=False, fallback="digits")
images, labels = images[:N_IMAGES], labels[:N_IMAGES]
on_mnist = images.shape[1:] == (28, 28)
print("data:", "MNIST" if on_mnist else "scikit-learn's 8×8 digits (MNIST is not on this machine)")
X_digits = images.reshape(len(images), -1)  # each image one row of pixels in [0, 1]
Y_digits = np.eye(10, dtype=np.float32)[labels]  # one-hot targets
n_train = int(0.8 * len(X_digits))
print(
    f"{n_train:,} images to train on, {len(X_digits) - n_train:,} held out, {X_digits.shape[1]} pixels each"
)

# %% [markdown]
# Ten epochs of minibatches of 10 with $\eta = 3$, measuring the held-out accuracy before training and after
# every epoch:

# %%
EPOCHS = 10
mlp = nn.Sequential(
    nn.Linear(X_digits.shape[1], 30, rng=0), nn.Sigmoid(), nn.Linear(30, 10, rng=1), nn.Sigmoid()
)
optimizer = nn.optim.SGD(mlp, lr=3.0)
shuffle = np.random.default_rng(0)


def held_out_accuracy():
    predicted = mlp(X_digits[n_train:]).argmax(axis=1)  # the digit whose output is largest
    return float(np.mean(predicted == labels[n_train:]))


start = time.perf_counter()
accuracies, train_losses = [held_out_accuracy()], []
for _ in range(EPOCHS):
    one = nn.fit(mlp, nn.MSELoss(), optimizer, X_digits[:n_train], Y_digits[:n_train],
                 epochs=1, batch_size=10, rng=shuffle, progress=False)  # fmt: skip
    train_losses += one.train_loss
    accuracies.append(held_out_accuracy())
print(f"held-out accuracy: {accuracies[0]:.1%} before training, {accuracies[-1]:.1%} after {EPOCHS} epochs")
print(f"training loss: {train_losses[0]:.4f} in the first epoch, {train_losses[-1]:.4f} in the last")
print(f"({time.perf_counter() - start:.1f} s on this machine)")

# %%
fig = Figure(figsize=(10, 3.4), layout="constrained")
ax_loss, ax_acc = fig.subplots(1, 2)
ax_loss.plot(range(1, EPOCHS + 1), train_losses, "o-", color="#0072B2")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss (mean of ½‖a − y‖²)")
ax_loss.set_title("The loss falls ...")
ax_acc.plot(range(EPOCHS + 1), 100 * np.array(accuracies), "o-", color="#D55E00")
ax_acc.axhline(10, color="black", linestyle=":", linewidth=1, label="guessing (10%)")
ax_acc.set_xlabel("epoch (0 = before training)")
ax_acc.set_ylabel("held-out accuracy (%)")
ax_acc.set_ylim(0, 100)
ax_acc.set_title("... and the network reads digits it never saw")
ax_acc.legend(loc="lower right")
fig

# %% [markdown]
# From chance (9.7% before training) the network climbs to 96.2% of the 288 held-out 8×8 digits, in a
# second or so (the cell prints the time it took on your machine). The same cells on real MNIST, measured
# in the tests on the 10,000 images of MNIST's test file split the same way (8,000 to train, 2,000 held
# out), climb from 4.6% to 95.6%, a few times slower with 784 pixels per image instead of 64; Nielsen's
# book reports about 95% for this network trained for 30 epochs on 50,000 MNIST images. Chapter 4
# shows why the squared loss we used here is not the best choice for classification, and what to use
# instead.

# %% [markdown]
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`03_backpropagation.ipynb`, checked as you go)
# asks you to write the pieces of this chapter yourself:
#
# 1. the sigmoid's derivative $\sigma'(z) = \sigma(z)(1 - \sigma(z))$;
# 2. the output error of BP1, $\delta^L = (a^L - y) \odot \sigma'(z^L)$;
# 3. the error passed back to a hidden layer, BP2;
# 4. the backward pass of a linear layer: $dx$, $dW$ and $db$ from $\text{dout}$;
# 5. with no formula given: the backward pass of a tanh layer, derived yourself.
#
# To go further on your own: redo section 3.4 for the example $X = (0, 1)$ and check your numbers with
# `bp.backprop_by_hand`; show with `bp.numerical_gradients` that the one-sided difference
# $(L(w + h) - L(w))/h$ has an error of order $h$, not $h^2$; and compute $\partial L/\partial X_2$ of section 3.5 as a
# sum over its six paths.
