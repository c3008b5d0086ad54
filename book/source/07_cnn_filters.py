# %% [markdown]
# # Chapter 7 · CNN filters: what a convolution layer computes and what its filters detect
#
# **What you will be able to do after this chapter**
#
# - compute a convolution layer's output by hand: the cross-correlation $S(i, j) = \sum_m \sum_n I(i + m, j + n) K(m, n)$;
# - predict the size of its output from the image size, the kernel size, the stride and the padding, and
#   say when a stride does not fit;
# - read a hand-made filter as a pattern detector, with its truth table;
# - build the lectures' toy convolutional network and follow a digit through it;
# - look at the filters a small network learns from MNIST, and at the feature maps they make;
# - count the parameters of LeNet-5 and compare them with the networks that made CNNs famous.
#
# Until now every layer was dense: each unit looked at every input. An image has structure a dense layer
# ignores: a stroke is a stroke wherever it sits. A convolution layer looks at one small patch at a
# time, and uses the *same* weights on every patch.
#
# Symbols follow the book's [notation](01_perceptron.ipynb#Notation-used-in-this-book).

# %%
# %matplotlib inline
import numpy as np
from matplotlib.figure import Figure

from nnlab import filters, lessons, models
from nnlab import np_nn as nn
from nnlab.lessons import convolution as cv
from nnlab.lessons import mnist
from nnlab.np_nn.conv import Conv2d

# %% [markdown]
# ## 7.1 Cross-correlation
#
# Olteanu's lecture slides a small grid of weights, the **filter** or **kernel** $K$, over an image $I$.
# At each position it multiplies the kernel entry by entry with the patch under it and adds the
# products up:
#
# $$S(i, j) = \sum_m \sum_n I(i + m,\ j + n)\; K(m, n).$$
#
# The result $S$ is a **feature map**. Mathematicians call this the *cross-correlation*; the convolution
# of mathematics flips the kernel first, $\sum_m \sum_n I(i - m, j - n) K(m, n)$. A kernel whose
# entries are learnt can just as well be learnt flipped, so neural networks use the cross-correlation
# and still call the layer "convolutional". With a 2×2 kernel one output reads four pixels:
#
# $$S(i, j) = I(i, j)K(0, 0) + I(i, j{+}1)K(0, 1) + I(i{+}1, j)K(1, 0) + I(i{+}1, j{+}1)K(1, 1).$$
#
# `cv.cross_correlate` is that formula written as four loops. On a 4×3 image and a 2×2 kernel it gives
# a 3×2 feature map, the six positions the lecture visits; `Conv2d` with the kernel copied into its
# weights gives the same numbers:

# %%
# NBVAL_CHECK_OUTPUT
I = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
K = np.array([[1.0, -1.0], [0.0, 2.0]])
S = cv.cross_correlate(I, K)
print("S by the formula:\n", S)
conv = Conv2d(1, 1, 2, dtype=np.float64)
conv.W[0, 0], conv.b[:] = K, 0.0
print("S by Conv2d:\n", conv(I[None, None])[0, 0])
print("S(0, 0) = 1·1 + 2·(−1) + 0·0 + 1·2 =", 1 * 1 + 2 * (-1) + 0 * 0 + 1 * 2)

# %% [markdown]
# The mathematicians' convolution is the same sum with the kernel turned by 180°:

# %%
# NBVAL_CHECK_OUTPUT
print("convolution of I with K:\n", cv.convolve(I, K))
print("cross-correlation of I with K turned by 180°:\n", cv.cross_correlate(I, np.flip(K)))

# %% [markdown]
# ## 7.2 Stride, padding and the size of the output
#
# Two settings change how the kernel travels. The **stride** $s$ is the step between positions: with
# $s = 2$ the kernel jumps two columns (and, at the end of a row, two rows). The **padding** $p$ adds
# $p$ rows and columns of zeros around the image, so that the border pixels are read as often as the
# others and, with the right $p$, the output keeps the input's size. An $n \times n$ image and a
# $k \times k$ kernel give an output of side
#
# $$n_{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1.$$
#
# The kernel has $n + 2p - k$ cells to travel after its first position, in steps of $s$. When $s$ does not
# divide $n + 2p - k$, the floor drops the last partial step, and the last $(n + 2p - k) \bmod s$ rows
# and columns of the padded image are never read: the stride does not fit.

# %%
# NBVAL_CHECK_OUTPUT
print(" n  k  s  p   formula   Conv2d   rows never read")
for n, k, s, p in [(28, 5, 1, 0), (28, 5, 1, 2), (7, 3, 2, 0), (8, 3, 2, 0), (32, 5, 1, 0), (10, 4, 3, 1)]:
    layer = Conv2d(1, 1, k, stride=s, padding=p)
    side = layer(np.zeros((1, 1, n, n), dtype=np.float32)).shape[-1]
    print(
        f"{n:2d} {k:2d} {s:2d} {p:2d}   {cv.output_side(n, k, s, p):7d}   {side:6d}   {cv.unread(n, k, s, p):6d}"
    )

# %% [markdown]
# A 5×5 kernel shrinks a 28×28 digit to 24×24; padding 2 keeps it at 28×28 (for stride 1, $p = (k - 1)/2$
# keeps the size whenever $k$ is odd). A 3×3 kernel with stride 2 fits a 7×7 image exactly, but on an 8×8
# image its last row and column are never read.
#
# Move the sliders: the left grid is the padded input, the right grid the output. Choose an output
# with the last two sliders to see the window it reads (dark blue); cells that no window reads are orange.

# %%
lessons.conv_geometry()

# %% [markdown]
# The same drawing as a still figure (it needs no running Python): four settings side by side, each with
# its first output's window:

# %%
cv.geometry_figure()

# %% [markdown]
# ## 7.3 Two hand-made filters: an edge and an L
#
# A filter followed by the rectifier $\max(0, \cdot)$ *fires* (gives a positive output) on the patches that
# look like it. Olteanu's lecture builds two for black (0) and white (1) pixels. The **edge filter**
# $\begin{bmatrix} -1 & 1 \\ -1 & 1 \end{bmatrix}$ with bias $-1$ computes $\max(0, -a + b - c + d - 1)$ on a patch
# $\begin{bmatrix} a & b \\ c & d \end{bmatrix}$; the **L filter** $\begin{bmatrix} -1 & 1 \\ -1 & -1 \end{bmatrix}$ with bias 0 computes
# $\max(0, -a + b - c - d)$. Their truth tables over all sixteen black-and-white patches, computed by `Conv2d`
# (`nnlab.filters`), show that each fires on exactly one patch:

# %%
# NBVAL_CHECK_OUTPUT
for name, (kernel, bias) in (("edge", filters.EDGE_FILTER), ("L", filters.L_FILTER)):
    table = filters.truth_table(kernel, bias)
    print(
        f"{name} filter fires on", table.firing()[0].tolist(), f"(output {table.outputs[table.fires][0]:.0f})"
    )
print()
print(filters.truth_table(*filters.EDGE_FILTER))

# %% [markdown]
# The edge filter fires on $\begin{bmatrix} 0 & 1 \\ 0 & 1 \end{bmatrix}$: black on the left, white on the right, a
# vertical black-to-white edge. Its output there is $-0 + 1 - 0 + 1 - 1 = 1$; every other patch gives 0 or less
# before the rectifier. The L filter fires on $\begin{bmatrix} 0 & 1 \\ 0 & 0 \end{bmatrix}$, three black pixels in an L.
#
# Slid over a whole picture, each filter marks where its pattern is. A small black-and-white picture: a
# white rectangle on black, and the two feature maps.

# %%
picture = np.zeros((6, 7))
picture[1:5, 3:6] = 1.0  # a white 4x3 rectangle on black
maps = {}
for name, (kernel, bias) in (("edge", filters.EDGE_FILTER), ("L", filters.L_FILTER)):
    layer = Conv2d(1, 1, 2, dtype=np.float64)
    layer.W[0, 0], layer.b[:] = kernel, bias
    maps[name] = np.maximum(layer(picture[None, None])[0, 0], 0)  # max(0, I ⋆ K + bias)

fig = Figure(figsize=(9, 2.8), layout="constrained")
axes = fig.subplots(1, 3)
axes[0].imshow(picture, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("picture (black 0, white 1)")
for ax, (name, feature) in zip(axes[1:], maps.items()):
    image = ax.imshow(feature, cmap="viridis", vmin=0, vmax=1)
    ax.set_title(f"{name} filter's feature map (5×6)")
for ax in axes:
    ax.set_xlabel("column")
    ax.set_ylabel("row")
fig.colorbar(image, ax=axes[1:], label="max(0, S + bias)", shrink=0.8)
fig

# %%
# NBVAL_CHECK_OUTPUT
for name, feature in maps.items():
    print(
        f"{name} filter fires at (row, column):",
        [tuple(int(v) for v in rc) for rc in np.argwhere(feature > 0)],
    )

# %% [markdown]
# The edge filter fires in column 2 of the map, where the window covers columns 2 and 3 of the picture:
# black, then the rectangle's left side. It fires in three rows, not four: the window is two rows
# high, and only in rows 1 to 3 do both of its rows lie beside the rectangle (rows 1 to 4 of the
# picture); at the top and bottom ends it sees a single white pixel, and $-0 + 1 - 0 + 0 - 1 = 0$. The L
# filter fires once, at row 4, column 2: there the window holds the rectangle's bottom-left pixel in its
# top right and black elsewhere, $\begin{bmatrix} 0 & 1 \\ 0 & 0 \end{bmatrix}$, a black L around the corner.
#
# ## 7.4 A 3×3 filter on a real digit
#
# Real images are grey, not black and white, and real filters are larger. Below is a 7 from MNIST
# (or, on a machine without MNIST, one of scikit-learn's 8×8 digits; the next cell says which). Pick
# a preset or type your own nine weights; the feature map uses padding 1, so it keeps the digit's size.
# The pixel values are the ink (0 paper, 1 ink), drawn dark on light. The vertical-edge filter computes the
# right column minus the left one, so it answers red where the ink grows from left to right (the left side of
# an upright stroke) and blue where it fades (the right side). The horizontal-edge filter does the same from
# top to bottom: the 7's top bar gets red above it and blue below it. Blur averages the nine pixels; sharpen adds to each pixel
# its difference from its four neighbours.

# %%
# NBVAL_CHECK_OUTPUT
data = mnist.book_mnist()
print(data.source)
seven = data.X_train[np.flatnonzero(data.y_train == 7)[0]].astype(np.float64)
print("the digit:", seven.shape, "pixels in [0, 1]")

# %%
lessons.filter_playground(seven)

# %% [markdown]
# All five presets at once:

# %%
cv.filter_figure(seven)

# %% [markdown]
# ## 7.5 The lectures' toy network
#
# Olteanu's lecture plays with a spreadsheet convnet by Jeremy Howard (fast.ai) that reads a handwritten 7.
# `cv.toy_network` builds it in `nnlab.np_nn`: two convolution layers of two 3×3 filters each (the second
# layer's filters are 3×3×2: one 3×3 slice per feature map it reads), a 2×2 max-pool that keeps the largest
# of every 2×2 block, a dense layer with one weight per pooled value and class, and a softmax over the ten
# classes. Its first layer starts as the horizontal and vertical edge filters of section 7.4; the rest is random.

# %%
# NBVAL_CHECK_OUTPUT
X_train, X_test = data.X_train[:, None], data.X_test[:, None]  # (N, 1, H, W): one channel
side = X_train.shape[-1]
toy = cv.toy_network(rng=0, side=side)
total = models.count_params(toy, input_shape=(1, side, side))

# %% [markdown]
# 2,948 parameters, almost all in the dense layer (2,890); the two convolution layers have 20 and 38
# (2 × 9 weights + 2 biases, and 2 × 18 + 2). Their filters are shared by every position, so a 3×3 filter costs 9 weights whatever the size of the image. Here is the 7
# travelling through the untrained network: its two edge maps, the second layer's maps, the pooled maps,
# and the class probabilities.


# %%
def toy_figure(net, image, title):
    """The feature maps of one image after each layer of the toy network, and its class probabilities."""
    net.eval()
    a1 = net.modules[1](net.modules[0](image[None, None]))  # conv 1 + ReLU
    a2 = net.modules[3](net.modules[2](a1))  # conv 2 + ReLU
    pooled = net.modules[4](a2)  # max-pool
    proba = models.predict_proba(net, image[None, None])[0]
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    grid = fig.add_gridspec(2, 5)
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(image, cmap="gray_r")
    ax.set_title("input")
    for column, (maps, name) in enumerate(((a1, "conv 1"), (a2, "conv 2"), (pooled, "max-pool")), start=1):
        for f in range(2):
            ax = fig.add_subplot(grid[f, column])
            ax.imshow(maps[0, f], cmap="viridis")
            ax.set_title(f"{name}, filter {f + 1} ({maps.shape[-1]}×{maps.shape[-1]})", fontsize=8)
    for ax in fig.axes:
        ax.set_xticks([])
        ax.set_yticks([])
    ax = fig.add_subplot(grid[:, 4])
    ax.bar(range(10), proba, color="#0072B2")
    ax.set_xticks(range(10))
    ax.set_xlabel("class")
    ax.set_ylabel("softmax probability")
    ax.set_ylim(0, 1)
    fig.suptitle(title)
    return fig, proba


fig, proba = toy_figure(toy, seven, "The untrained toy network on a 7")
fig

# %%
# NBVAL_CHECK_OUTPUT
print("untrained: p(7) =", f"{proba[7]:.3f}", " most probable class:", int(np.argmax(proba)))

# %% [markdown]
# Untrained, the network has no idea: it gives the 7 a probability of 0.039 and prefers a 4. Two epochs of minibatch
# gradient descent on the 8,000 training digits (chapter 2's `fit`, chapter 4's cross-entropy) teach it:

# %%
# NBVAL_CHECK_OUTPUT
loss = nn.CrossEntropyLoss()
history = nn.fit(toy, loss, nn.optim.SGD(toy, lr=0.05, momentum=0.9), X_train, data.y_train,
                 epochs=2, batch_size=64, validation=(X_test, data.y_test), rng=0,
                 progress=False)  # fmt: skip
print("test accuracy after each epoch:", [f"{a:.1%}" for a in history.val_acc])

# %%
fig, proba = toy_figure(toy, seven, "The toy network after two epochs")
fig

# %%
# NBVAL_CHECK_OUTPUT
print("trained: p(7) =", f"{proba[7]:.3f}", " most probable class:", int(np.argmax(proba)))

# %% [markdown]
# With two 3×3 filters, two 3×3×2 ones and a 2×2 pool, the toy network classifies about 94% of the 2,000
# test digits right, and it is now sure about the 7.
#
# ## 7.6 Filters a network learns
#
# Nobody told the toy network which filters to use beyond its starting point. A network with more filters
# shows what gradient descent finds on its own. `cv.small_cnn` has one layer of eight 5×5 filters (He
# initialisation, random), a ReLU, a 2×2 max-pool, and a dense layer to the ten classes. Two epochs:

# %%
# NBVAL_CHECK_OUTPUT
cnn = cv.small_cnn(filters=8, rng=0, side=side)
history = nn.fit(cnn, loss, nn.optim.SGD(cnn, lr=0.05, momentum=0.9), X_train, data.y_train,
                 epochs=2, batch_size=64, validation=(X_test, data.y_test), rng=0,
                 progress=False)  # fmt: skip
print("test accuracy after each epoch:", [f"{a:.1%}" for a in history.val_acc])

# %%
learned = cnn.params["0.W"][:, 0]  # (8, 5, 5): the eight filters
cnn.eval()
feature_maps = cnn.modules[1](cnn.modules[0](seven[None, None].astype(np.float32)))[
    0
]  # (8, 24, 24) after ReLU
fig = Figure(figsize=(11, 3.0), layout="constrained")
axes = fig.subplots(2, 8)
for f in range(8):
    top = np.abs(learned[f]).max()
    axes[0, f].imshow(learned[f], cmap="RdBu_r", vmin=-top, vmax=top)
    axes[0, f].set_title(f"filter {f + 1}", fontsize=8)
    axes[1, f].imshow(feature_maps[f], cmap="viridis")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("5×5 weights")
axes[1, 0].set_ylabel("map of the 7")
fig.suptitle("Learned filters (red positive, blue negative) and the feature maps they make of the 7")
fig

# %% [markdown]
# The learned filters are not the tidy presets of section 7.4, but several read as oriented edge or
# stroke detectors: a band of positive weights beside a band of negative ones. The feature maps show
# each filter answering to a different part of the 7: its top bar, its slanted stroke, or their edges.
# This network reaches about 95.7% on the test digits after two epochs, more than the toy network's
# four filters.
#
# ## 7.7 Well-known CNNs and their sizes
#
# Olteanu's lecture lists networks that won or shaped the ImageNet competition (1.2 million photographs,
# 1,000 classes), with their parameter counts and top-1 accuracy on ImageNet's validation set:
#
# | network | parameters | top-1 accuracy |
# |---|---:|---:|
# | VGG16 | 138,357,544 | 0.713 |
# | InceptionV3 | 23,851,784 | 0.779 |
# | ResNet50 | 25,636,712 | 0.749 |
# | Xception | 22,910,480 | 0.790 |
# | InceptionResNetV2 | 55,873,736 | 0.803 |
# | ResNeXt50 | 25,097,128 | 0.777 |
#
# and the lecture gives LeNet-5 (LeCun et al., 1998), the network of chapter 9, "60K parameters".
# `models.lenet5` builds it (two 5×5 convolutions with tanh, each followed by a 2×2 average pool, then
# three dense layers) and `count_params` counts it layer by layer, on either path:

# %%
# NBVAL_CHECK_OUTPUT
lenet = models.lenet5(rng=0)
n_lenet = models.count_params(lenet, input_shape=(1, 32, 32))
print("the PyTorch twin:", f"{models.count_params(models.lenet5('torch', rng=0), print_table=False):,}")

# %%
# NBVAL_CHECK_OUTPUT
for name, count in (("VGG16", 138_357_544), ("ResNet50", 25_636_712), ("InceptionResNetV2", 55_873_736)):
    print(f"{name:<18} {count / n_lenet:6,.0f} times LeNet-5")

# %% [markdown]
# LeNet-5 has 61,706 parameters, and 48,120 of them, 78%, sit in its first dense layer: as in the toy
# network, the convolutions are cheap because every filter is shared across the image. VGG16 is about
# 2,240 times larger, mostly because of its own dense layers at the end.
#
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`07_cnn_filters.ipynb`, checked as you go)
# asks you to write:
#
# 1. the cross-correlation $S = I \star K$ with stride and padding;
# 2. the output-size formula, including a kernel that does not fit;
# 3. a filter with a bias and a rectifier, and where on a picture it fires;
# 4. the padding that keeps a stride-1 output the size of its input, and why an even kernel has none.
#
# To go further on your own: in the filter playground, find a 3×3 filter that fires only on the 7's
# top-right corner; and give `cv.small_cnn` 16 filters and see whether the test accuracy rises.
