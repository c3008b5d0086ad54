# %% [markdown]
# # Chapter 6 · Overfitting, regularisation and dropout
#
# **What you will be able to do after this chapter**
#
# - recognise overfitting: in a table of five inputs, and in the training and validation curves of a
#   network on real digits;
# - write the L2 (weight decay) and L1 update rules, and say why the biases are left out;
# - stop training early on a validation split, and estimate accuracy by k-fold cross-validation;
# - train with dropout, use the whole network at test time, and show that scaling the weights and
#   inverted dropout agree in expectation;
# - see dropout as an ensemble, and write bagging in a few lines;
# - make more data from the data you have (augmentation, noise), and build an adversarial example.
#
# Chapters 2 to 5 were about making the training loss go down. This one is about the loss that matters,
# on examples the network has never seen. Notation as in the
# [notation table](01_perceptron.ipynb#Notation-used-in-this-book): $\eta$ the learning rate, $\lambda$ the
# regularisation strength, $n$ the number of training examples, $p$ the probability of *dropping* a unit.

# %%
# %matplotlib inline
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nnlab import lessons
from nnlab import np_nn as nn
from nnlab.lessons import regularisation as reg

# %% [markdown]
# ## 6.1 Overfitting in five inputs
#
# Kheradpisheh's lecture gives the smallest example of overfitting there is. One linear neuron,
# $\hat y = \sum_{i=1}^5 w_i x_i$, and four training examples:
#
# | $x_1$ | $x_2$ | $x_3$ | $x_4$ | $x_5$ | $y$ |
# |---|---|---|---|---|---|
# | 1 | 1 | 0 | 0 | 0 | 2 |
# | 2 | 0 | 1 | 0 | 0 | 4 |
# | 3 | 0 | 0 | 1 | 0 | 6 |
# | 4 | 0 | 0 | 0 | 1 | 8 |
#
# The rule behind the data is $y = 2x_1$, the weights $W = (2, 0, 0, 0, 0)$. But $W = (0, 2, 4, 6, 8)$ fits
# the four rows just as exactly: each of $x_2, \dots, x_5$ is 1 in one row only, so each can memorise
# that row's answer. Both have zero training error; only a new example tells them apart.

# %%
# NBVAL_CHECK_OUTPUT
X, y = reg.overfitting_table()
for name, w in (("correct   ", reg.TRUE_W), ("overfitted", reg.OVERFIT_W)):
    w = np.array(w)
    new = np.array([5.0, 0, 0, 0, 0])  # a new example: x₁ = 5, so y = 10
    print(f"{name} W = {w}: predictions {X @ w} (targets {y}), new example x₁ = 5 -> {new @ w:g}")

# %% [markdown]
# The diagram shows the neuron with both weight vectors on its edges:

# %%
reg.table_diagram()

# %% [markdown]
# The overfitted weights are also the larger ones: $\lVert W \rVert^2 = 120$ against 4. Keep that in mind
# for section 6.3.
#
# ## 6.2 Overfitting on real digits
#
# A network with many weights and few examples does the same thing on a larger scale. We train a
# network with 64 ReLU hidden units (50,890 weights and biases) on only 500 handwritten digits, and
# keep 1,000 others aside to validate on, never trained on. Plain SGD, $\eta = 0.2$, batches of 25,
# 30 epochs; the training and validation loss are measured after every epoch.

# %%
SHARED_MNIST = Path("../../shared/data/mnist")  # the real MNIST test set, where the book is developed
DATA_DIR = SHARED_MNIST if SHARED_MNIST.exists() else None
print(reg.digits(DATA_DIR).note)
lambda_runs = reg.runs("lambda", DATA_DIR)  # trains one network per λ, once; the lessons reuse them
plain = lambda_runs[0.0]

# %%
# NBVAL_CHECK_OUTPUT
best = int(np.argmin(plain.val_loss))
print(f"training loss:   epoch 1 {plain.train_loss[0]:.3f},  epoch 30 {plain.train_loss[-1]:.3f}")
print(
    f"validation loss: epoch 1 {plain.val_loss[0]:.3f},  lowest {plain.val_loss[best]:.3f}"
    f" at epoch {best + 1},  epoch 30 {plain.val_loss[-1]:.3f}"
)
print(f"accuracy at epoch 30: training {plain.train_acc[-1]:.1%}, validation {plain.val_acc[-1]:.1%}")

# %%
fig = Figure(figsize=(7, 3.6), layout="constrained")
ax = fig.add_subplot()
epochs = np.arange(1, len(plain.val_loss) + 1)
ax.plot(epochs, plain.train_loss, "o-", color="#0072B2", markersize=3, label="training")
ax.plot(epochs, plain.val_loss, "s-", color="#D55E00", markersize=3, label="validation")
ax.axvline(best + 1, color="black", linestyle=":", label=f"lowest validation loss (epoch {best + 1})")
ax.set_xlabel("epoch")
ax.set_ylabel("cross-entropy loss")
ax.set_title("500 training digits, 64 hidden units: the gap opens")
ax.legend()
fig

# %% [markdown]
# The training loss falls towards 0 (every training image right, most with near certainty); the
# validation loss stops falling after about 17 epochs and then creeps up, while validation accuracy
# stays near 88%. From there on the network is learning the 500 images rather than digits. The gap
# between the two curves is the overfitting; the rest of the chapter is about narrowing it.
#
# ## 6.3 L2 and L1 regularisation
#
# The overfitted weights of section 6.1 were the large ones. Regularisation adds the weights' size to
# the cost, so that large weights must pay for themselves. Honchar's lecture writes L2 as
#
# $$C = C_0 + \frac{\lambda}{2n} \sum_w w^2, \qquad \frac{\partial C}{\partial w} = \frac{\partial C_0}{\partial w} + \frac{\lambda}{n} w,$$
#
# in the lecture's letters: $C$ is our loss $L$ with the penalty, $C_0$ the loss without it. So a
# gradient step becomes
#
# $$w \leftarrow \Big(1 - \frac{\eta \lambda}{n}\Big) w - \eta \frac{\partial C_0}{\partial w}:$$
#
# first shrink every weight by the same factor (hence **weight decay**), then the usual step. L1 uses
# $|w|$ instead:
#
# $$C = C_0 + \frac{\lambda}{n}\sum_w |w|, \qquad w \leftarrow w - \frac{\eta\lambda}{n}\,\mathrm{sgn}(w) - \eta \frac{\partial C_0}{\partial w}:$$
#
# every weight moves the same distance $\eta\lambda/n$ towards 0, whatever its size. (Honchar's slide gives
# the L1 gradient with its $\frac{\lambda}{n}\mathrm{sgn}(w)$ term, but its last line repeats the L2 factor
# $(1 - \eta\lambda/n)$; the step above is the one that gradient gives. Kheradpisheh's lecture
# writes the same L2 step as $\Delta w = \dots - \eta\lambda w$, with $\lambda$ absorbing the $1/n$.) In code, one
# line each, `reg.l2_step` and `reg.l1_step`. With no gradient from the data, ten steps on three weights
# of different sizes ($\eta = 0.5$, $\lambda = 1$, $n = 5$, so $\eta\lambda/n = 0.1$):

# %%
# NBVAL_CHECK_OUTPUT
w_l2, w_l1 = np.array([2.0, 0.5, 0.05]), np.array([2.0, 0.5, 0.05])
for _ in range(10):
    reg.l2_step(w_l2, np.zeros(3), lr=0.5, lam=1.0, n=5)  # w ← (1 − ηλ/n) w − η ∂C₀/∂w
    reg.l1_step(w_l1, np.zeros(3), lr=0.5, lam=1.0, n=5)  # w ← w − (ηλ/n) sgn(w) − η ∂C₀/∂w
print("L2 after 10 steps:", w_l2.round(3), "  each weight times 0.9¹⁰ =", round(0.9**10, 3))
print("L1 after 10 steps:", w_l1.round(3), "  each weight moved 0.1 per step towards 0, until it crossed 0")

# %% [markdown]
# L2 keeps every weight's sign and proportion and shrinks the large ones most in absolute terms; L1
# takes the same amount from each, so the small weights reach 0 first and then jump back and forth
# across it by at most $\eta\lambda/n$ (here 0.1): L1 drives small weights to (nearly) 0, and makes a
# network sparse.
#
# **Why the biases are left out.** Olteanu's lecture says plainly: do not regularise the bias terms. A
# weight multiplies an input, so a large weight makes the output sensitive to small changes of that
# input: that sensitivity is what memorising looks like. A bias multiplies nothing; it only moves a
# unit's threshold, and a unit may genuinely need a large one. There are also few of them (one per
# unit against one per input and unit), so they add little capacity to overfit with. `reg.train`
# takes `l2_step` for the weights and a plain step $b \leftarrow b - \eta\,\partial C_0/\partial b$ for the biases. (The
# optimisers' `weight_decay=λ/n` gives the same step, but on every parameter, biases included, as in
# PyTorch.)
#
# The same network as in section 6.2, trained with five strengths $\lambda$:

# %%
# NBVAL_CHECK_OUTPUT
for lam, run in lambda_runs.items():
    print(
        f"λ = {lam:4g}: mean |w| of the first layer {np.abs(run.W1).mean():.4f};  epoch 30: training loss"
        f" {run.train_loss[-1]:.3f}, validation loss {run.val_loss[-1]:.3f}"
        f" (lowest {run.val_loss.min():.3f} at epoch {np.argmin(run.val_loss) + 1}),"
        f" validation accuracy {run.val_acc[-1]:.1%}"
    )

# %% [markdown]
# Move λ. On the left, the trained first-layer weights (grey: without regularisation); on the right, the
# training and validation loss (dotted: without).

# %%
lessons.weight_decay(data_dir=DATA_DIR)

# %% [markdown]
# The static version, for three strengths:

# %%
reg.weight_decay_figure(data_dir=DATA_DIR)

# %% [markdown]
# What the runs show. $\lambda = 3$ shrinks the mean weight from 0.046 to 0.026 and flattens the rising end
# of the validation curve: its lowest point comes later (epoch 26 against 17), and the last validation
# loss is 0.387 instead of 0.427.
# The validation *accuracy* hardly changes (88.3% against 88.5%): here regularisation changes how confident
# the network is more than which answers it gives. Too much, $\lambda = 30$, and the network cannot
# fit even the training set: the training loss stays near 0.5 and validation accuracy drops. λ is a
# setting to choose on validation data, which is what the next two sections do.
#
# ## 6.4 Early stopping
#
# The simplest remedy uses the validation curve itself. Kheradpisheh's lecture splits the training
# examples 80/20 into a training and a validation set, and stops when the validation loss turns up.
# nnlab's `fit` does exactly that with `validation=(X_val, y_val)` and `patience=k`: it stops after $k$
# epochs without a new lowest validation loss and puts back the weights of the best epoch. We split the
# 500 training images 400/100 and keep the 1,000 validation images of section 6.2 as a test set that
# no decision has seen:

# %%
# NBVAL_CHECK_OUTPUT
d = reg.digits(DATA_DIR)  # the 500 training and 1,000 validation images of section 6.2
split = int(0.8 * len(d.y_train))
net = reg.network(d.X_train.shape[1], hidden=64, seed=0)
history = nn.fit(
    net,
    nn.CrossEntropyLoss(),
    nn.optim.SGD(net, lr=0.2),
    d.X_train[:split],
    d.y_train[:split],
    epochs=100,
    batch_size=25,
    validation=(d.X_train[split:], d.y_train[split:]),
    patience=5,
    rng=0,
    progress=False,
    diagnostics=False,
)
net.eval()
test_acc = np.mean(net(d.X_val).argmax(axis=1) == d.y_val)
print(f"stopped after epoch {history.epochs} of at most 100; best epoch {history.best_epoch}")
print(f"accuracy on the 1,000 held-out images with the best epoch's weights: {test_acc:.1%}")

# %% [markdown]
# `fit` stopped after epoch 14: the validation loss had not improved for 5 epochs since epoch 9, and the
# weights of epoch 9 were put back. On the 1,000 held-out images they score 85.4%, less than the 88.5%
# of section 6.2, and that is the price of the method: the network learnt from 400 images instead of
# 500, and for 9 epochs. What early stopping buys is a stopping point chosen without ever looking at
# the test images, and no training past it.
#
# ## 6.5 k-fold cross-validation in a few lines
#
# One validation split of 100 images is a noisy judge. Kheradpisheh's lecture's remedy for choosing
# settings is $k$-fold cross-validation: cut the data into $k$ folds, train $k$ times, each time
# validating on a different fold and training on the other $k - 1$, and average. `reg.k_fold` returns
# the index pairs; here it compares two strengths λ on the 500 training images with $k = 5$:

# %%
# NBVAL_CHECK_OUTPUT
for lam in (0.0, 3.0):
    scores = []
    for train_idx, val_idx in reg.k_fold(len(d.y_train), k=5, rng=0):
        run = reg.train(d.X_train[train_idx], d.y_train[train_idx], d.X_train[val_idx], d.y_train[val_idx],
                        lam=lam, epochs=30)  # fmt: skip
        scores.append(run.val_loss[-1])
    print(f"λ = {lam:g}: validation loss per fold {np.round(scores, 3)}, mean {np.mean(scores):.3f}")

# %% [markdown]
# With $\lambda = 3$ the validation loss is lower in each of the five folds (mean 0.521 against 0.573), so
# cross-validation chooses $\lambda = 3$: the choice the 1,000 held-out images supported in section 6.3,
# made here without them. It costs $k$ trainings instead of one; in exchange every example is used for
# validation once, and the spread over the folds (0.46 to 0.57 for $\lambda = 3$) shows how much a single
# split of 100 images could have misled.
#
# ## 6.6 Dropout
#
# Dropout, as Olteanu's and Chang's lectures describe it: at every training step, each hidden unit is
# switched off with probability $p$ (a fresh random mask each step), and the gradient step updates
# the units that were on. At test time the whole network is used. But then each unit of the next layer
# receives more input than it ever did in training, where only a share $1 - p$ of its inputs was on:
# so the weights out of a dropped layer are scaled by $1 - p$ at test time, **halved for $p = 1/2$**.
#
# The modern form, **inverted dropout**, does the scaling in training instead: it divides the surviving
# activations by $1 - p$, and leaves the network alone at test time. nnlab's `nn.Dropout(p)` is inverted
# (as in PyTorch); `nn.Dropout(p, inverted=False)` is the lectures' form. In both, `p` is the probability
# of dropping. One mask, on four activations of 1:

# %%
# NBVAL_CHECK_OUTPUT
a = np.ones((1, 4))
for inverted in (False, True):
    drop = nn.Dropout(0.5, rng=3, inverted=inverted)
    drop.train()
    print(f"inverted={inverted!s:<5}  training (one mask): {drop(a)[0]}   test: {drop.eval()(a)[0]}")

# %% [markdown]
# The two agree in expectation. Average the training output over many masks: the lectures' form keeps
# $1 - p$ of each activation on average, which is exactly what its test-time scaling gives; the inverted
# form keeps $(1 - p) \cdot \frac{1}{1 - p} = 1$, which is its test-time identity. Either way the test-time
# network gives what training gave *on average*:

# %%
# NBVAL_CHECK_OUTPUT
rng = np.random.default_rng(0)
activations = rng.random((1, 6))
many = np.repeat(activations, 100_000, axis=0)
for inverted in (False, True):
    drop = nn.Dropout(0.5, rng=1, inverted=inverted)
    train_mean = drop.train()(many).mean(axis=0)
    test = drop.eval()(activations)[0]
    print(
        f"inverted={inverted!s:<5} mean over 100,000 masks {train_mean.round(3)}, test time {test.round(3)},"
        f" largest gap {np.max(np.abs(train_mean - test)):.4f}"
    )

# %% [markdown]
# And the lectures' "halve the weights": a network trained with `inverted=False` at $p = 1/2$ gives at
# test time exactly what the same network without dropout gives with its next layer's weights halved:

# %%
# NBVAL_CHECK_OUTPUT
lecture_net = nn.Sequential(
    nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Dropout(0.5, inverted=False), nn.Linear(3, 2, rng=1)
)
halved_net = nn.Sequential(nn.Linear(4, 3, rng=0), nn.ReLU(), nn.Linear(3, 2, rng=1))
halved_net.params["2.W"][...] *= 0.5  # W ← (1 − p) W for p = 1/2; the bias is not scaled
x = np.random.default_rng(2).random((3, 4)).astype(np.float32)
gap = np.max(np.abs(lecture_net.eval()(x) - halved_net(x)))
print(f"largest difference between the two networks' outputs: {gap:.1e}")

# %% [markdown]
# Now the digits. The network of section 6.2, with dropout on its hidden layer at rates $p$ from 0 to 0.8
# (the losses and accuracies are measured after each epoch with the whole network, dropout off):

# %%
# NBVAL_CHECK_OUTPUT
dropout_runs = reg.runs("dropout", DATA_DIR)
for p, run in dropout_runs.items():
    print(
        f"p = {p:g}: epoch 30 training loss {run.train_loss[-1]:.3f}, validation loss {run.val_loss[-1]:.3f}"
        f" (lowest {run.val_loss.min():.3f} at epoch {np.argmin(run.val_loss) + 1}),"
        f" validation accuracy {run.val_acc[-1]:.1%}"
    )

# %%
lessons.dropout_rate(data_dir=DATA_DIR)

# %% [markdown]
# The static version:

# %%
reg.dropout_rate_figure(data_dir=DATA_DIR)

# %% [markdown]
# Moderate dropout helps a little here. With $p = 0.2$ and $p = 0.5$ the validation loss reaches a lower
# minimum (0.381 and 0.368, against 0.400). $p = 0.5$ reaches it later (epoch 24, against 17), and at the
# last epoch it is the best of the four on validation loss (0.396, against 0.427) and accuracy (88.7%,
# against 88.5%), while $p = 0.2$ has begun to climb again (0.408). $p = 0.8$ drops too many of 64 units:
# the training loss stays at 0.26, the validation loss is still falling at epoch 30 (0.495), and
# validation accuracy is 86.2%. On 500 images and 30 epochs the gains are small; dropout earns more in
# larger networks trained for longer.
#
# **Dropout as an ensemble.** Each mask picks one of the $2^{64}$ thinned networks that share these
# weights, and every step trains a different one of them; Kheradpisheh's lecture calls it training many
# networks inside one. At test time the full network with scaled weights stands in for the average of
# them all. Olteanu's lecture presents it as a practical form of **bagging** (Breiman, 1994): draw $k$
# data sets of $n$ examples *with replacement* from the training set, train one model on each, and let
# them vote. In a few lines, with five small networks:


# %%
def fit_predict(X_boot, y_boot, X_test):
    run = reg.train(X_boot, y_boot, X_boot[:1], y_boot[:1], hidden=32, epochs=15)
    run.net.eval()
    return run.net(X_test).argmax(axis=1)


# %%
# NBVAL_CHECK_OUTPUT
vote, members = reg.bagging(fit_predict, d.X_train, d.y_train, d.X_val, k=5, rng=0)
print("each bootstrapped network alone:", [f"{np.mean(m == d.y_val):.1%}" for m in members])
print(f"their majority vote:             {np.mean(vote == d.y_val):.1%}")

# %% [markdown]
# The vote, 86.6%, is better than every one of the five networks that cast it (83.5% to 85.3%): their
# mistakes differ, because each saw a different sample, and a majority outvotes mistakes that are not
# shared. Bagging pays with $k$ trainings; dropout gets a similar averaging from one.
#
# ## 6.7 More data: augmentation and noise
#
# The surest cure for overfitting is more data, and Olteanu's lecture suggests faking it: an image
# moved by a pixel, turned slightly or made brighter is still the same digit. Honchar's lecture lists
# noise injection alongside. We make four copies of every training image moved one pixel up, down, left
# and right (`reg.shifted`), or four copies with Gaussian noise of standard deviation 0.2 (`reg.noisy`):

# %%
side = int(np.sqrt(d.X_train.shape[1]))
images = d.X_train.reshape(-1, side, side)
moves = ((-1, 0), (1, 0), (0, -1), (0, 1))
fig = Figure(figsize=(10, 2.2), layout="constrained")
axes = fig.subplots(1, 6)
panels = [("original", images[0])]
panels += [(f"moved ({dy:+d}, {dx:+d})", reg.shifted(images[:1], dy, dx)[0]) for dy, dx in moves]
panels += [("noise, SD 0.2", reg.noisy(images[:1], 0.2, rng=0)[0])]
for ax, (title, image) in zip(axes, panels):
    ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig

# %% [markdown]
# Trained on the 2,500 images (500 originals and 2,000 made ones) for 10 epochs, as many steps as 50
# epochs on the 500, the same network validates on the same 1,000 images:

# %%
# NBVAL_CHECK_OUTPUT
shifted_set = np.concatenate([images] + [reg.shifted(images, dy, dx) for dy, dx in moves])
noisy_set = np.concatenate([images] + [reg.noisy(images, 0.2, rng=seed) for seed in range(4)])
labels = np.tile(d.y_train, 5)
for name, made in (("moved by a pixel", shifted_set), ("with noise", noisy_set)):
    run = reg.train(made.reshape(len(made), -1), labels, d.X_val, d.y_val, epochs=10)
    print(
        f"500 originals + 2,000 {name:<16}: validation loss {run.val_loss[-1]:.3f},"
        f" accuracy {run.val_acc[-1]:.1%}"
    )
print(
    f"the 500 originals alone (30 epochs):          validation loss {plain.val_loss[-1]:.3f}, accuracy {plain.val_acc[-1]:.1%}"
)

# %% [markdown]
# Moving the images by a pixel helped more than any λ or $p$ above: validation accuracy 90.8% against
# 88.5%, validation loss 0.368 against 0.427. The made-up set also had more steps (1,000 against 600),
# but more epochs on the 500 originals alone would not have caught up: their validation loss was lowest,
# 0.400, at epoch 17, and did not fall again. The noisy copies did not help (88.3%, loss 0.467): not all
# made-up data is useful, and a small shift is a change that real handwriting does show.
#
# ## 6.8 Adversarial examples
#
# Olteanu's lecture closes its part on adding data with a warning and a use. Szegedy et al. found, and
# Goodfellow et al. explained, that a small change to an input, chosen against the network, can change its answer. The
# **fast gradient sign method** moves every pixel by $\epsilon$ in the direction that increases the loss
# (`reg.adversarial` then clips to the pixel range [0, 1], so a white pixel pushed lighter stays white):
#
# $$\tilde x = x + \epsilon\,\mathrm{sign}\big(\nabla_x J(\theta, x, y)\big),$$
#
# with the lecture's $\epsilon = 0.007$ ($J$ is the lecture's name for the loss $L$, $\theta$ the weights).
# The gradient with respect to the input is what the backward pass
# returns at its end (`dx = net.backward(dout)`); we take it for the trained network of section 6.2 and
# the 1,000 validation images, and count how many of the images it classified right change their
# answer, for several $\epsilon$:

# %%
# NBVAL_CHECK_OUTPUT
model, loss = plain.net, nn.CrossEntropyLoss()
model.eval()
right = model(d.X_val).argmax(axis=1) == d.y_val
for eps in (0.007, 0.02, 0.05, 0.1):
    x_adv, grad_x = reg.adversarial(model, loss, d.X_val, d.y_val, eps)
    flipped = right & (model(x_adv).argmax(axis=1) != d.y_val)
    print(
        f"ε = {eps:<5}: {flipped.sum():3d} of the {right.sum()} right answers change ({flipped.sum() / right.sum():.1%})"
    )

# %% [markdown]
# At the lecture's $\epsilon = 0.007$, less than 2 of a pixel's 255 grey levels, 29 of the 885 right answers
# (3.3%) change. The lecture's $\epsilon$ comes from Goodfellow et al.'s ImageNet example, where it turned a
# large network's confident answer; on this small network it flips only images that lie close to a
# decision boundary, such as the one below, which the network called an 8 with probability 0.35. Larger
# $\epsilon$ flips more: 11.6% at 0.02, a third at 0.05, four in five at 0.1.

# %%
# NBVAL_CHECK_OUTPUT
x_adv, grad_x = reg.adversarial(model, loss, d.X_val, d.y_val, 0.007)
flips = np.flatnonzero(right & (model(x_adv).argmax(axis=1) != d.y_val))
i = flips[0]
p_before = nn.functional.softmax(model(d.X_val[i : i + 1]))[0]
p_after = nn.functional.softmax(model(x_adv[i : i + 1]))[0]
print(f"validation image {i}, a {d.y_val[i]}:")
print(f"  before: the network says {p_before.argmax()} with probability {p_before.max():.3f}")
print(
    f"  after moving each pixel by ±0.007 (within [0, 1]): it says {p_after.argmax()} with probability {p_after.max():.3f}"
)

# %%
fig = Figure(figsize=(9, 3), layout="constrained")
axes = fig.subplots(1, 3)
panels = (
    (d.X_val[i], f"x\nthe network says {p_before.argmax()} ({p_before.max():.0%})", "gray_r", (0, 1)),
    (0.007 * np.sign(grad_x[i]), "0.007 · sign(∇ₓJ)\npurple +0.007, orange −0.007", "PuOr", (-0.007, 0.007)),
    (
        x_adv[i],
        f"x + 0.007 · sign(∇ₓJ), clipped to [0, 1]\nthe network says {p_after.argmax()} ({p_after.max():.0%})",
        "gray_r",
        (0, 1),
    ),
)
for ax, (image, title, cmap, (lo, hi)) in zip(axes, panels):
    shown = ax.imshow(image.reshape(side, side), cmap=cmap, vmin=lo, vmax=hi)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(shown, ax=axes, shrink=0.8, label="pixel value (0 = white, 1 = black)")
fig

# %% [markdown]
# The perturbation is no random noise: each pixel moves the way that most increases the loss, and
# 784 small moves in step add up. Olteanu's lecture lists adversarial examples under *adding data*:
# made from a trained model and added to its training set, they teach it to resist exactly these moves.

# %% [markdown]
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`06_regularisation.ipynb`, checked as you go)
# asks you to write:
#
# 1. the L2 (weight decay) step, leaving the biases alone;
# 2. the L1 step;
# 3. dropout in the lectures' form, and the test-time scaling that keeps the expected output unchanged
#    (reason first: which factor?);
# 4. inverted dropout;
# 5. the fast gradient sign step.
#
# To go further on your own: choose λ by 5-fold cross-validation over `reg.LAMBDAS`; train with L1
# (`reg.train(..., l1=True)`) and count the first-layer weights that end within 0.001 of 0; and train a
# network on adversarial examples made afresh at every epoch, and measure how many flip afterwards.
