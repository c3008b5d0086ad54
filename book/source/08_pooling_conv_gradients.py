# %% [markdown]
# # Chapter 8 · Max-pool and convolution gradients: backpropagation through a CNN
#
# **What you will be able to do after this chapter**
#
# - compute a max-pool and an average pool, forward and backward;
# - explain max-pool's backward pass as routing: each gradient goes to its window's maximum, 0 elsewhere,
#   and say what happens at a tie;
# - derive the gradients of a convolution layer: $\partial L/\partial W$ as a cross-correlation of the input with
#   $\delta$, $\partial L/\partial x$ as a full convolution of $\delta$ with the kernel;
# - check them four ways: loops, `Conv2d.backward`, PyTorch's autograd and finite differences;
# - train a CNN with either pool on MNIST and compare.
#
# Chapter 3 backpropagated through dense layers; chapter 7 introduced the convolution and the max-pool.
# Olteanu's lecture asks the question that remains: what are the derivatives of these new layers? Symbols
# follow the book's [notation](01_perceptron.ipynb#Notation-used-in-this-book).

# %%
# %matplotlib inline
import numpy as np
import torch
from matplotlib.figure import Figure

from nnlab import gradcheck, lessons
from nnlab import np_nn as nn
from nnlab.lessons import convolution as cv
from nnlab.lessons import mnist
from nnlab.lessons import pooling as pl
from nnlab.np_nn.conv import AvgPool2d, Conv2d, MaxPool2d

# %% [markdown]
# ## 8.1 Max-pool, forward
#
# A max-pool layer keeps the largest entry of every window $\Omega(i', j')$:
#
# $$s_{i', j'} = \max_{(i, j) \in \Omega(i', j')} a_{i, j}.$$
#
# With 2×2 windows and stride 2 (the default: windows that do not overlap) a 4×4 map becomes 2×2. It has
# no parameters. Olteanu's lecture gives its reasons: it combines several values into one, so the next
# layers have fewer inputs, and it tolerates small shifts, because once a feature is found its exact
# position in the window no longer matters.

# %%
# NBVAL_CHECK_OUTPUT
a = pl.DEFAULT_GRID
pool = MaxPool2d(2)
s = pool(a[None, None])[0, 0]  # (1, 1, 4, 4) -> (1, 1, 2, 2)
print("a =\n", a)
print("s = max-pool(a) =\n", s)
print("the same by loops over the windows:\n", pl.maxpool_loops(a))

# %% [markdown]
# ## 8.2 Max-pool, backward: routing
#
# Each output depends on its window, and among the window's entries only on the maximum. The lecture's
# derivative is an indicator:
#
# $$\frac{\partial s_{i', j'}}{\partial a_{i, j}} = \mathbb{I}\big((i, j) = \arg\max_{(i, j) \in \Omega(i', j')} a_{i, j}\big),$$
#
# 1 at the maximum and 0 at every other entry. By the chain rule
# $\partial L/\partial a_{i,j} = \sum_{i',j'} (\partial L/\partial s_{i',j'})\, \partial s_{i',j'}/\partial a_{i,j}$, with
# $\partial L/\partial s$ the upstream gradient (`dout` in code): backward *routes* each $\partial L/\partial s_{i',j'}$ to the
# position its maximum came from, and every other entry gets 0. Give the four outputs
# the upstream gradients 1, 2, 3, 4 to see which goes where; `MaxPool2d.backward`, loops over the
# windows, and PyTorch's autograd through `max_pool2d` agree:

# %%
# NBVAL_CHECK_OUTPUT
dout = np.array([[1.0, 2.0], [3.0, 4.0]])
da = pool.backward(dout[None, None])[0, 0]
print("∂L/∂a by MaxPool2d.backward:\n", da)
print("by loops:\n", pl.maxpool_backward_loops(a, dout))
a_torch = torch.tensor(a[None, None], requires_grad=True)
torch.nn.functional.max_pool2d(a_torch, 2).backward(torch.tensor(dout[None, None]))
print("by PyTorch's autograd:\n", a_torch.grad[0, 0].numpy())

# %% [markdown]
# The bottom-right window, $\begin{bmatrix} 3 & 3 \\ 1 & 2 \end{bmatrix}$, holds its maximum twice. There the maximum has no
# derivative: raising either 3 raises $s$, lowering one of them leaves $s$ at the other's 3. Some choice
# has to be made, and nnlab makes PyTorch's: the gradient goes to the **first** maximum, reading the window row by
# row, here the 3 at row 2, column 2 (rows and columns are counted from 0). Centred finite differences see the kink and split the
# gradient: nudging the first 3 up by $h$ raises $s$ by $h$, nudging it down changes nothing, so they
# report $(h - 0)/2h = 1/2$ of the upstream gradient for each of the two.

# %%
# NBVAL_CHECK_OUTPUT
print("windows with a tie (row, column, how many maxima):", pl.ties(a))
x = a[None, None].copy()
numeric = gradcheck.numerical_gradient(lambda: float(np.sum(MaxPool2d(2)(x) * dout)), x)
print("∂L/∂a by centred differences:\n", numeric[0, 0].round(6))

# %% [markdown]
# Type your own grid below (rows of numbers), and change the window and the stride. The upstream
# gradients are numbered 1, 2, 3, ... row by row, so every number on the right says which output it came
# from. With stride 1 the windows overlap, and an entry that is the maximum of several windows collects
# the sum of their gradients; the text names every tie.

# %%
lessons.maxpool_routing()

# %% [markdown]
# The same grid as a still figure (it needs no running Python): 2×2 windows with stride 2 (top) and stride 1 (bottom). With stride 1
# the 5 at row 1, column 3 is the maximum of two windows, numbers 3 and 6, and receives $3 + 6 = 9$; the 3 at
# row 2, column 2 wins three windows (5, 8 and 9, the last by a tie with its right-hand neighbour) and
# receives $5 + 8 + 9 = 22$.

# %%
pl.routing_figure()

# %% [markdown]
# ## 8.3 Average pooling, for contrast
#
# LeNet-5 uses average pooling, which Olteanu's lecture calls a softer version of max-pooling: each output
# is the mean of its window, $s_{i',j'} = \frac{1}{k^2}\sum_{\Omega(i',j')} a_{i,j}$, so every entry of the window has the
# derivative $1/k^2$, and backward spreads each upstream gradient evenly over its window instead of routing it:

# %%
# NBVAL_CHECK_OUTPUT
avg = AvgPool2d(2)
print("average pool:\n", avg(a[None, None])[0, 0])
print("by loops:\n", pl.avgpool_loops(a))
print("∂L/∂a: each upstream gradient split in four:\n", avg.backward(dout[None, None])[0, 0])

# %% [markdown]
# Max-pool sends all of an output's upstream gradient to one entry of its window, so with 2×2 windows and stride 2 only a quarter of
# the map's entries (one in each window, here 4 of 16) receive a gradient from each example, and only the
# weights that made them learn from it; average pooling sends a quarter of it to every entry.
#
# ## 8.4 The gradients of a convolution layer
#
# Olteanu's lecture writes one output of a convolution layer (stride 1, no padding) as
#
# $$z_{i',j',f'} = b_{f'} + \sum_{i}\sum_{j}\sum_{f} a_{i'+i-1,\ j'+j-1,\ f}\; w_{i,j,f,f'}.$$
#
# Each weight multiplies one input in every output position, so with $\delta = \partial L/\partial z$,
#
# $$\frac{\partial L}{\partial w_{i,j,f,f'}} = \sum_{i',j'} \delta_{i',j',f'}\; a_{i'+i-1,\ j'+j-1,\ f}:$$
#
# the weight gradient is the **cross-correlation of the input with $\delta$**, $\partial L/\partial W_{f',f} = a_f \star \delta_{f'}$.
# (The lecture's slide labels this line $\partial z/\partial a$; what it computes is the derivative with respect to the
# weight.) The bias is added at every position, so $\partial L/\partial b_{f'} = \sum_{i',j'} \delta_{i',j',f'}$. Each input
# pixel is read by every window that covers it, once by each kernel entry:
#
# $$\frac{\partial L}{\partial a_{i,j,f}} = \sum_{f'}\sum_{i',j'} \delta_{i',j',f'}\; w_{i-i'+1,\ j-j'+1,\ f,\ f'},$$
#
# the **full convolution** of $\delta$ with the kernel: pad $\delta$ with $k - 1$ zeros on every side and
# cross-correlate it with the kernel turned by 180°. Both are cross-correlations again, the operation the
# forward pass uses. A small example first, one channel, a 3×3 input and a 2×2 kernel:

# %%
# NBVAL_CHECK_OUTPUT
x = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
W = np.array([[1.0, -1.0], [2.0, 0.5]])
delta = np.array([[1.0, 0.0], [-1.0, 2.0]])  # ∂L/∂z for the 2x2 output
print("∂L/∂W = x ⋆ δ:\n", cv.cross_correlate(x, delta))
print("∂L/∂x = pad(δ, 1) ⋆ flip(W):\n", cv.cross_correlate(np.pad(delta, 1), W[::-1, ::-1]))
layer = Conv2d(1, 1, 2, dtype=np.float64)
layer.W[0, 0], layer.b[:] = W, 0.0
layer(x[None, None])
dx = layer.backward(delta[None, None])
print("Conv2d.backward gives ∂L/∂W:\n", layer.grads["W"][0, 0], "\nand ∂L/∂x:\n", dx[0, 0])

# %% [markdown]
# Check the corner: $\partial L/\partial W_{0,0} = 1 \cdot 1 + 2 \cdot 0 + 0 \cdot (-1) + 1 \cdot 2 = 3$, the four inputs that
# $w_{0,0}$ multiplied, each times the $\delta$ of its output.
#
# Now a whole layer: a batch of 2 images with 3 channels, 4 filters of 3×3, in float64. `pl.conv_gradients_loops`
# computes the two formulas with loops (through `cv.cross_correlate`), `Conv2d.backward` with one matrix
# product (im2col: every window copied into a column of one matrix), PyTorch by autograd, and `gradcheck` by centred differences of
# $L = \sum z \odot \mathrm{dout}$ for a random upstream gradient:

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
x = rng.normal(size=(2, 3, 6, 6))
layer = Conv2d(3, 4, 3, rng=1, dtype=np.float64)
layer.b[:] = rng.normal(size=4)
z = layer(x)
dout = rng.normal(size=z.shape)
dx_library = layer.backward(dout)
dx_loops, dW_loops, db_loops = pl.conv_gradients_loops(x, layer.W, dout)

x_torch = torch.tensor(x, requires_grad=True)
W_torch = torch.tensor(layer.W.copy(), requires_grad=True)
b_torch = torch.tensor(layer.b.copy(), requires_grad=True)
(torch.nn.functional.conv2d(x_torch, W_torch, b_torch) * torch.tensor(dout)).sum().backward()


def L():
    return float(np.sum(layer(x) * dout))  # L = Σ z ⊙ dout, so ∂L/∂z = dout


numeric = {"x": gradcheck.numerical_gradient(L, x), "W": gradcheck.numerical_gradient(L, layer.W)}
numeric["b"] = gradcheck.numerical_gradient(L, layer.b)
rows = {
    "∂L/∂x": (dx_loops, dx_library, x_torch.grad, numeric["x"]),
    "∂L/∂W": (dW_loops, layer.grads["W"], W_torch.grad, numeric["W"]),
    "∂L/∂b": (db_loops, layer.grads["b"], b_torch.grad, numeric["b"]),
}


def agreement(gap):
    """How far apart two gradients are, as a bound."""
    return "< 1e-12" if gap < 1e-12 else "< 1e-8" if gap < 1e-8 else f"{gap:.1e}"


print("largest difference from the loops:      Conv2d.backward   autograd   finite differences")
for name, (loops, library, autograd, differences) in rows.items():
    gaps = [np.max(np.abs(loops - np.asarray(other))) for other in (library, autograd, differences)]
    print(f"{name:<6} of shape {loops.shape!s:<16}", "      ".join(f"{agreement(g):<10}" for g in gaps))

# %% [markdown]
# The loops, the library and autograd agree to rounding (below $10^{-12}$); centred differences with step
# $h = 10^{-6}$ agree to within $10^{-8}$, their own truncation and rounding error. The formulas of the lecture
# are the gradient.
#
# ## 8.5 Max-pool or average pool, on MNIST
#
# Does the choice of pool matter? The same small CNN as in chapter 7, eight 5×5 filters, a ReLU, a 2×2
# pool and a dense layer, trained for two epochs on the 8,000 training digits, once with each pool:

# %%
# NBVAL_CHECK_OUTPUT
data = mnist.book_mnist()
print(data.source)
X_train, X_test = data.X_train[:, None], data.X_test[:, None]
curves = {}
for name in ("max-pool", "average pool"):
    cnn = cv.small_cnn(filters=8, rng=0, side=X_train.shape[-1])
    if name == "average pool":
        cnn.modules[2] = AvgPool2d(2)
    history = nn.fit(cnn, nn.CrossEntropyLoss(), nn.optim.SGD(cnn, lr=0.05, momentum=0.9), X_train, data.y_train,
                     epochs=2, batch_size=64, validation=(X_test, data.y_test), rng=0,
                     progress=False)  # fmt: skip
    curves[name] = history
    print(f"{name:<13} test accuracy after each epoch:", [f"{acc:.1%}" for acc in history.val_acc])

# %%
fig = Figure(figsize=(9, 3.2), layout="constrained")
ax_loss, ax_acc = fig.subplots(1, 2)
for (name, history), colour in zip(curves.items(), ("#0072B2", "#D55E00")):
    ax_loss.plot([1, 2], history.train_loss, "o-", color=colour, label=f"{name}, training")
    ax_loss.plot([1, 2], history.val_loss, "s--", color=colour, label=f"{name}, test")
    ax_acc.plot([1, 2], history.val_acc, "s--", color=colour, label=f"{name}, test")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy loss L")
ax_acc.set_xlabel("epoch")
ax_acc.set_ylabel("test accuracy")
ax_loss.set_xticks([1, 2])
ax_acc.set_xticks([1, 2])
ax_loss.legend(fontsize=8)
ax_acc.legend(fontsize=8)
fig

# %% [markdown]
# After one epoch the network with max-pool is two points ahead (94.8% against 92.8% of the test
# digits); after the second they are level (95.7% and 95.8%). Max-pool learns faster at first here, but on these
# digits the choice of pool matters little once the network has trained a while.
#
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`08_pooling_conv_gradients.ipynb`, checked as you go)
# asks you to write:
#
# 1. a 2×2 max-pool, forward;
# 2. its backward pass, ties included;
# 3. the weight gradient of a convolution, $\partial L/\partial W = x \star \delta$;
# 4. the input gradient, a full convolution of $\delta$ with the kernel (a cross-correlation with the turned kernel);
# 5. which share of a map's entries receive a gradient through a max-pool (a reasoning question).
#
# To go further on your own: with stride 2, the weight gradient is still a cross-correlation of the input
# with $\delta$, but $\delta$'s entries sit $s$ apart ("dilated"): write it, and check it against `Conv2d(..., stride=2)`.
