# %% [markdown]
# # Chapter 9 · A first network on MNIST
#
# **What you will be able to do after this chapter**
#
# - load MNIST with `nnlab.data.load_mnist`, and know what happens on a machine without it;
# - train a multilayer perceptron with the NumPy reference, and LeNet-5 with the PyTorch twin on
#   `nnlab.device()`, watching the loss curves while they learn;
# - read a confusion matrix: which digits a network confuses, and how often;
# - look at the digits a network gets most wrong, and judge whether it was unreasonable;
# - switch one variable to train with the full settings that reach the published accuracies.
#
# Everything in chapters 1 to 8 comes together here: layers and their backward passes, cross-entropy,
# minibatch gradient descent with momentum, convolutions and pools. Symbols follow the book's
# [notation](01_perceptron.ipynb#Notation-used-in-this-book).

# %%
# %matplotlib inline
import numpy as np
import torch
from matplotlib.figure import Figure

import nnlab
from nnlab import models
from nnlab import np_nn as nn
from nnlab import torch_nn as tnn
from nnlab.data import load_mnist
from nnlab.lessons import mnist

# %% [markdown]
# ## 9.1 The settings, and the data
#
# MNIST holds 70,000 handwritten digits of 28×28 grey pixels: 60,000 to train on and 10,000 to test on. So
# that this chapter runs in seconds, its **quick default** trains on 8,000 digits and tests on 2,000 others,
# both taken from MNIST's test set, for a few epochs. Set `FULL = True` for the **full settings**: the
# 60,000 training images (downloaded once, about 10 MB, if this machine does not have them), the 10,000 test
# images, and as many epochs as the published results used. That takes minutes instead of seconds.

# %%
FULL = False  # True: 60,000 training images, Nielsen's 30 epochs for the MLP, 20 for LeNet-5

if FULL:
    X_train, y_train = load_mnist("train", fallback="digits")
    X_test, y_test = load_mnist("test", fallback="digits")
    is_mnist = X_train.shape[1:] == (28, 28)
    source = "MNIST: all 60,000 training and 10,000 test images" if is_mnist else "scikit-learn's 8x8 digits"
    MLP_EPOCHS, MLP_L2, LENET_EPOCHS = 30, 5e-4, 20
else:
    data = mnist.book_mnist(n_train=8000, n_test=2000)
    X_train, y_train, X_test, y_test, source = data
    MLP_EPOCHS, MLP_L2, LENET_EPOCHS = 5, 0.0, 3

# %% [markdown]
# On a machine without MNIST, `load_mnist(..., fallback="digits")` hands out scikit-learn's bundled 8×8 digits
# instead (1,797 small images), and says so; every cell below still runs, on smaller pictures. The next
# cell tells which data this run has:

# %%
# NBVAL_CHECK_OUTPUT
print(source)
print("training images:", X_train.shape, "  test images:", X_test.shape, "  pixels from 0 to 1")
print("training images per class:", np.bincount(y_train, minlength=10).tolist())

# %%
fig = Figure(figsize=(10, 2.3), layout="constrained")
for ax, image, label in zip(fig.subplots(2, 10).ravel(), X_train[:20], y_train[:20]):
    ax.imshow(image, cmap="gray_r")
    ax.set_title(f"y = {label}", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("The first twenty training digits and their labels")
fig

# %% [markdown]
# The classes are roughly balanced, from about 700 to 900 images each in the quick split, so a network
# that always answers the same digit would be right about one time in ten.
#
# ## 9.2 A multilayer perceptron with the NumPy reference
#
# The first network flattens each image into a row of $28 \cdot 28 = 784$ inputs: a 784-100-10 perceptron with a
# ReLU hidden layer (He initialisation, chapter 5) and the softmax with cross-entropy of chapter 4, trained
# by minibatch gradient descent with momentum (batches of 64, $\eta = 0.1$). It has
# $784 \cdot 100 + 100 + 100 \cdot 10 + 10 = 79{,}510$ parameters, more than LeNet-5's 61,706.
#
# `mnist.train_live` calls `nn.fit` one epoch at a time and redraws the curves after each, under a
# progress bar; the test loss and accuracy are measured on the 2,000 test digits after every epoch.

# %%
n_in = X_train[0].size  # 784 for MNIST, 64 for the 8x8 fallback
mlp = nn.Sequential(
    nn.Flatten(), nn.Linear(n_in, 100, init="he", rng=0), nn.ReLU(), nn.Linear(100, 10, rng=1)
)
optimizer = nn.optim.SGD(mlp, lr=0.1, momentum=0.9, weight_decay=MLP_L2)
mlp_history, fig = mnist.train_live(
    nn.fit, mlp, nn.CrossEntropyLoss(), optimizer, X_train, y_train,
    epochs=MLP_EPOCHS, batch_size=64, test=(X_test, y_test), title="784-100-10 MLP (np_nn)",
)  # fmt: skip

# %%
# NBVAL_CHECK_OUTPUT
print("MLP test accuracy after each epoch:", [f"{acc:.2%}" for acc in mlp_history["val_acc"]])
print("training accuracy:                 ", [f"{acc:.2%}" for acc in mlp_history["train_acc"]])
print("training loss:", [f"{v:.3f}" for v in mlp_history["train_loss"]])
print("test loss:    ", [f"{v:.3f}" for v in mlp_history["val_loss"]])

# %% [markdown]
# After one epoch the MLP recognises 92.15% of the test digits, after five 95.55%. The curves say more: the
# training loss keeps falling, from 0.552 to 0.070, while the test loss hardly moves after the second
# epoch (0.166, then between 0.157 and 0.175). From the third epoch on the network is more often right on
# its training digits than on the test digits (95.49% against 94.90%, and 97.66% against 95.55% after the
# fifth; the training figures are measured while each epoch trains). It has begun to learn its 8,000
# training digits by heart, the overfitting of chapter 6, which more data (`FULL = True`) and L2
# regularisation hold back.
#
# ## 9.3 Reading the errors: the confusion matrix
#
# Accuracy is one number. The **confusion matrix** $C$ spreads the test set out: $C_{ij}$ counts the digits of
# class $i$ that the network called $j$. The diagonal holds the right answers, row $i$ sums to the number of
# test digits of class $i$, and every count off the diagonal is a mistake of a particular kind.

# %%
mlp.eval()
proba_mlp = models.predict_proba(mlp, X_test)  # softmax of the logits, (2000, 10)
C_mlp = mnist.confusion_matrix(y_test, proba_mlp.argmax(axis=1))
mnist.confusion_figure(C_mlp, "The MLP on the test digits: rows true class, columns prediction")

# %%
# NBVAL_CHECK_OUTPUT
recall = np.diag(C_mlp) / C_mlp.sum(axis=1)  # share of each class recognised
off = C_mlp - np.diag(np.diag(C_mlp))
print("mistakes:", off.sum(), "of", C_mlp.sum(), " accuracy:", f"{np.trace(C_mlp) / C_mlp.sum():.2%}")
print("share recognised, class by class:", " ".join(f"{k}:{r:.0%}" for k, r in enumerate(recall)))
ranked = np.argsort(-off, axis=None, kind="stable")[:3]  # the three largest off-diagonal counts
pairs = [f"{off.flat[r]} digits {r // 10} taken for {r % 10}" for r in ranked]
print("most frequent confusions:", ", ".join(pairs))
print("the 8s taken for:", {int(k): int(off[8, k]) for k in np.flatnonzero(off[8])})

# %% [markdown]
# The MLP makes 89 mistakes among the 2,000 test digits. It recognises 99% of the 1s and 4s but only 90% of
# the 9s and 92% of the 8s. Its most frequent confusion is a 9 taken for a 7 (9 digits), closely followed by a
# 9 taken for a 4 (8 digits): a 9 with a small or open loop shares most of its ink with both. The 15 misread
# 8s are spread over five wrong answers, mostly 5 (6 digits) and 6 (5 digits).
#
# The **worst-classified** digits are those whose true class got the lowest probability. Above each, its label
# $y$, the network's answer $\hat y$ and the probability it gave that answer:

# %%
mnist.worst_figure(X_test, y_test, proba_mlp, k=8)

# %% [markdown]
# Several of these are hard for people too; others show that the MLP judges pixels, not strokes: a digit
# drawn thicker, smaller or off-centre moves its ink onto other inputs.
#
# The slider below steps through every mistake, ordered by how sure the network was of its wrong answer
# $\hat y$: the first is the one it was surest of. The bars show all ten probabilities, the right class $y$
# in green and the answer $\hat y$ in vermillion; moving right, the wrong answers get less and less sure.

# %%
browser = mnist.mistakes_browser(X_test, y_test, proba_mlp)
browser.figure  # the most confident mistake, as a still figure

# %%
browser  # move the slider to step through the mistakes

# %% [markdown]
# ## 9.4 LeNet-5 with the PyTorch twin
#
# A convolutional network looks at strokes wherever they are. LeNet-5 (LeCun et al., 1998; chapter 7 counted
# its 61,706 parameters) reads 32×32 images, so each digit is padded with two rows and columns of zeros on
# every side, as in the paper. `models.lenet5("torch")` builds it with `nnlab.torch_nn`, which runs on
# `nnlab.device()`: a GPU when there is one, else the CPU. The optimiser is the same minibatch gradient
# descent with momentum ($\eta = 0.05$); `tnn.fit` copies the data to the device once.

# %%
device = nnlab.device()  # CUDA, then MPS, else the CPU
print("LeNet-5 trains on:", "a GPU" if device.type == "cuda" else device.type)
X_train_32, X_test_32 = mnist.pad_to_32(X_train), mnist.pad_to_32(X_test)
print("padded images:", X_train_32.shape[1:])

# %%
lenet = models.lenet5("torch", rng=0).to(device)
lenet_history, fig = mnist.train_live(
    tnn.fit, lenet, tnn.CrossEntropyLoss(), tnn.optim.SGD(lenet, lr=0.05, momentum=0.9), X_train_32, y_train,
    epochs=LENET_EPOCHS, batch_size=64, test=(X_test_32, y_test), title="LeNet-5 (torch_nn)",
)  # fmt: skip

# %%
# NBVAL_CHECK_OUTPUT
print("LeNet-5 test accuracy after each epoch:", [f"{acc:.2%}" for acc in lenet_history["val_acc"]])
lenet.eval()
proba_lenet = models.predict_proba(lenet, torch.from_numpy(X_test_32).to(device)).cpu().numpy()
C_lenet = mnist.confusion_matrix(y_test, proba_lenet.argmax(axis=1))
print("mistakes: MLP", C_mlp.sum() - np.trace(C_mlp), "  LeNet-5", C_lenet.sum() - np.trace(C_lenet))
both = np.sum((proba_mlp.argmax(axis=1) != y_test) & (proba_lenet.argmax(axis=1) != y_test))
print("digits both networks get wrong:", both)

# %%
mnist.confusion_figure(C_lenet, "LeNet-5 on the test digits")

# %% [markdown]
# After three epochs LeNet-5 recognises 96.70% of the test digits, more than the MLP after five (95.55%),
# with fewer parameters: 61,706 against 79,510. A filter shared across the image uses its weights for a
# stroke wherever it is, where the MLP needs separate weights for every position. LeNet-5 makes 66
# mistakes, and 40 digits fool both networks.
#
# ## 9.5 What the quick default reaches, and the full settings
#
# The quick default (8,000 training digits) reaches 95.55% with the MLP after 5 epochs and 96.70% with LeNet-5
# after 3, the figures printed below. On the same split `benchmarks/bench_mnist.py` measures what more
# training buys: the MLP with L2 regularisation for 30 epochs reaches 96.65%, and LeNet-5 trained for 20
# epochs on digits shifted at random by up to two pixels reaches 99.15% (`benchmarks/README.md` has the
# times). With `FULL = True` this notebook trains
# on all 60,000 training images with the settings of the literature: Nielsen's book reports about 98% for a
# 784-100-10 network with cross-entropy and L2 regularisation after 30 epochs, and LeCun et al. about 99% for
# LeNet-5. Expect minutes for each on a laptop's CPU: scaled up from the quick runs on a 2-core machine,
# about 4 to 7 minutes for the MLP and 3 or more for LeNet-5 (its time depends most on PyTorch's threads);
# a GPU shortens LeNet-5's.

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'network':<10} {'parameters':>10}  {'epochs':>6}  {'test accuracy':>13}")
for name, net, history in (("MLP", mlp, mlp_history), ("LeNet-5", lenet, lenet_history)):
    count = models.count_params(net, print_table=False)
    print(f"{name:<10} {count:>10,}  {len(history['val_acc']):>6}  {history['val_acc'][-1]:>13.2%}")

# %% [markdown]
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`09_mnist.ipynb`, checked as you go) asks you to write:
#
# 1. the confusion matrix of a set of predictions;
# 2. the share of each class recognised (the diagonal over the row sums);
# 3. the most frequent confusion, read off the matrix;
# 4. the indices of the worst-classified examples;
# 5. the accuracy a network that always answers the most common class would reach (a reasoning question).
#
# To go further on your own: give the MLP a second hidden layer, or dropout (chapter 6), and see whether
# the quick split's test accuracy rises; and train LeNet-5 with max-pools instead of average pools.
