# %% [markdown]
# # Chapter 5 · Weight initialisation: where training starts
#
# **What you will be able to do after this chapter**
#
# - compute the spread of a neuron's weighted input $z$ from the spread of its weights, and check it
#   by simulation;
# - choose a weight scale that keeps $\mathrm{Var}(z) \approx 1$ for a given number of inputs;
# - say what N(0, 1) weights do to learning on real digits, and measure it;
# - follow the variance of $z$ through a deep stack under N(0, 1), Glorot/Xavier and He, and give the
#   one-line reason each scheme works for its activation;
# - explain why all-equal initial weights cannot learn different features, and how to start the biases.
#
# Chapter 4 ended with a network that was saturated before it had taken one step, because its first
# weights were too large. This chapter is about choosing them. The symbols are those of the
# [notation table](01_perceptron.ipynb#Notation-used-in-this-book): $z = Wx + b$, $a = g(z)$, $\sigma$ the
# sigmoid, $\eta$ the learning rate.

# %%
# %matplotlib inline
import functools
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from nnlab import lessons
from nnlab import np_nn as nn
from nnlab.lessons import initialisation as ini

# %% [markdown]
# ## 5.1 The lecture's example: one neuron, 1,000 inputs
#
# Honchar's lecture takes a sigmoid neuron with $n_{in} = 1000$ inputs, of which half are 1 and half are
# 0, and draws every weight and the bias from the standard normal distribution N(0, 1). The weighted
# input $z = \sum_i w_i x_i + b$ is then a sum of 500 weights (those whose input is 1) and the bias: 501
# independent N(0, 1) numbers. Variances of independent numbers add, so
#
# $$\mathrm{Var}(z) = 500 \cdot 1 + 1 = 501, \qquad \mathrm{SD}(z) = \sqrt{501} \approx 22.4.$$
#
# A typical $|z|$ is then in the tens, where $\sigma'(z)$ is practically 0: the neuron is saturated
# before it learns anything. The lecture's fix keeps the normal distribution but shrinks its standard
# deviation to $1/\sqrt{n_{in}}$: each weight now has variance $1/1000$, and
#
# $$\mathrm{Var}(z) = 500 \cdot \tfrac{1}{1000} + 1 = 1.5, \qquad \mathrm{SD}(z) = \sqrt{1.5} \approx 1.22.$$
#
# The next cell checks both numbers twice: by the formula, and by drawing 2,000 such neurons and measuring
# the spread of their $z$. "Saturated" here means
# $|z| > 6$, where $\sigma'(z) < 0.0025$, a hundredth of its peak $\sigma'(0) = 1/4$:

# %%
# NBVAL_CHECK_OUTPUT
for label, std in (("N(0, 1)", 1.0), ("N(0, 1/1000)", 1000**-0.5)):
    z = ini.simulate_z(1000, std=std, bias_std=1.0, neurons=2000, rng=0)
    print(
        f"weights {label:<13} SD(z): formula {ini.z_spread(1000, std=std):5.2f},"
        f" simulated {z.std():5.2f};  saturated neurons {ini.saturated_share(z):.0%}"
    )

# %% [markdown]
# The formula and the simulation agree to within 2%, and the difference is real: 77% of the N(0, 1)
# neurons start saturated (the normal distribution's tail, $P(|z| > 6)$ for $\mathrm{SD}(z) = 22.4$,
# gives 79%), none of the scaled ones do. The bias keeps its N(0, 1) here; it is now the
# largest single term of $\mathrm{Var}(z)$, which is fine, since 1.5 is a comfortable variance for a sigmoid.
#
# The general rule behind both numbers: with $n$ inputs $x_i$ and independent weights of mean 0,
#
# $$\mathrm{Var}(z) = \sum_i \mathrm{Var}(w_i)\, x_i^2 + \mathrm{Var}(b) = n\,\mathrm{Var}(w)\,\overline{x^2} + \mathrm{Var}(b),$$
#
# where $\overline{x^2}$ is the mean square of the inputs (here 1/2). To keep $\mathrm{Var}(z)$ near 1 whatever
# $n$ is, $\mathrm{Var}(w)$ must shrink like $1/n$: that is the scaled initialisation `init="scaled_normal"`,
# nnlab's default for `Linear`.
#
# Move the two sliders: the weights' standard deviation and the number of inputs. The bars on the left
# are the 2,000 neurons' $z$ (beyond ±40 they are piled into the end bins), the black curve is the
# formula's normal distribution, and the dotted lines mark $|z| = 6$. On the right, $\sigma(z)$: saturated
# neurons sit in the bins at 0 and 1.

# %%
lessons.weight_scale()

# %% [markdown]
# Without a kernel, the two settings of the lecture, one above the other (the lesson draws its own
# 2,000 neurons, so its shares can differ by a point from the cell above):

# %%
ini.weight_scale_figure()

# %% [markdown]
# ## 5.2 What it does to learning, on real digits
#
# A saturated start is bad in theory; how bad is it in practice? We train the same network twice on
# real handwritten digits: 784 pixels (in [0, 1]), 100 sigmoid hidden units, 10 outputs with the
# cross-entropy loss, plain SGD with $\eta = 0.2$ and batches of 50, for 10 epochs. The only difference
# is where it starts: every weight and bias from N(0, 1), or weights from $N(0, 1/n_{in})$ with biases
# from N(0, 1) as in section 5.1. The data are MNIST's 10,000 test images when this machine has them
# (4,000 to train on, 2,000 to validate), otherwise scikit-learn's small 8x8 digits, and the next cell
# says which.

# %%
SHARED_MNIST = Path("../../shared/data/mnist")  # the real MNIST test set, where the book is developed
data = ini.real_digits(SHARED_MNIST if SHARED_MNIST.exists() else None, n_train=4000, n_val=2000)
print(data.note)
print(f"training on {len(data.y_train):,} images, validating on {len(data.y_val):,}")


# %%
def digit_net(init):
    n_in = data.X_train.shape[1]
    return nn.Sequential(
        nn.Linear(n_in, 100, init=init, bias_init="normal", rng=1, dtype=np.float64),
        nn.Sigmoid(),
        nn.Linear(100, 10, init=init, bias_init="normal", rng=2, dtype=np.float64),
    )


histories, movement, start_scores = {}, {}, {}
for init in ("normal", "scaled_normal"):
    net = digit_net(init)
    W_start = net.params["0.W"].copy()
    start_scores[init] = net(data.X_val).std()  # the spread of the 10 output scores before training
    with ini.one_blas_thread():  # small matrices train faster on one core (same numbers)
        histories[init] = nn.fit(
            net,
            nn.CrossEntropyLoss(),
            nn.optim.SGD(net, lr=0.2),
            data.X_train,
            data.y_train,
            epochs=10,
            batch_size=50,
            validation=(data.X_val, data.y_val),
            rng=0,
            progress=False,
            diagnostics=False,
        )
    change = net.params["0.W"] - W_start  # Δw of every first-layer weight, summed over training
    movement[init] = (np.linalg.norm(change), np.linalg.norm(change) / np.linalg.norm(W_start))

# %%
# NBVAL_CHECK_OUTPUT
for init, history in histories.items():
    print(
        f"{init:<14} validation accuracy after epochs 1, 5, 10:"
        f" {history.val_acc[0]:.1%}, {history.val_acc[4]:.1%}, {history.val_acc[9]:.1%};"
        f"  training loss {history.train_loss[0]:.2f} -> {history.train_loss[-1]:.2f}"
    )
ratio = histories["normal"].train_loss[-1] / histories["scaled_normal"].train_loss[-1]
print(f"training loss after epoch 10, N(0, 1) start over scaled start: {ratio:.2f}")
for init, (size, share) in movement.items():
    print(
        f"{init:<14} output scores at the start have SD {start_scores[init]:.1f};"
        f" the first layer moved by ‖ΔW‖ = {size:4.1f}, {share:.0%} of its starting size ‖W‖"
    )

# %%
fig = Figure(figsize=(10, 3.6), layout="constrained")
ax_loss, ax_acc = fig.subplots(1, 2)
colours = {"normal": "#D55E00", "scaled_normal": "#0072B2"}
names = {"normal": "N(0, 1)", "scaled_normal": "N(0, 1/n_in)"}
for init, history in histories.items():
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax_loss.plot(epochs, history.train_loss, "o-", color=colours[init], label=f"{names[init]}, training")
    ax_loss.plot(epochs, history.val_loss, "s:", color=colours[init], label=f"{names[init]}, validation")
    ax_acc.plot(epochs, history.val_acc, "s:", color=colours[init], label=f"{names[init]}, validation")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("cross-entropy loss")
ax_loss.set_title("Loss per epoch")
ax_acc.set_xlabel("epoch")
ax_acc.set_ylabel("accuracy")
ax_acc.set_title("Validation accuracy per epoch")
ax_loss.legend(fontsize=8)
ax_acc.legend(fontsize=8, loc="lower right")
fig

# %% [markdown]
# What the numbers show, and no more. Both networks learn: saturation slows learning, it does not stop
# it, because not every unit is saturated on every image and the output layer still gets a gradient.
# But the N(0, 1) network is behind all the way: after one epoch it classifies 49.1% of the validation
# images right against 74.2% for the scaled start, and after ten epochs 80.2% against 90.6%, with a
# training loss still 44% larger (0.43 against 0.30). Its mean loss over the first epoch is also much
# higher (3.70 against 1.83), because its 10 outputs start with scores of standard deviation 7.8: it begins confidently
# wrong.
#
# The weight movement needs care. Measured in absolute terms, the N(0, 1) network's first layer moved
# *more* ($\lVert \Delta W \rVert$ of 13.9 against 9.2): its large errors produce large gradients on the units
# that are not saturated. Measured against where each started, the picture flips: the N(0, 1) weights
# changed by 5% of their size, the scaled ones by 92%. Training rebuilt the scaled first layer from its
# small random start, and barely dented the large one: after ten epochs the N(0, 1) network still
# computes mostly with its random starting weights.
#
# ## 5.3 Deeper networks: the variance layer by layer
#
# In a stack of layers the sum of section 5.1 happens in every layer, with the previous layer's
# activations as inputs. For weights of mean 0, independent of the activations,
#
# $$\mathrm{Var}(z^l) = n_{in}\,\mathrm{Var}(w)\;\mathbb{E}\big[(a^{l-1})^2\big], \qquad a^{l-1} = g(z^{l-1}).$$
#
# Whether the variance stays put depends on the product $n_{in}\mathrm{Var}(w)$ and on what the activation
# does to $\mathbb{E}[a^2]$. Three schemes:
#
# | scheme | $\mathrm{Var}(w)$ | the one-line reason |
# |---|---|---|
# | N(0, 1) | 1 | none: every layer multiplies the variance by about $n_{in}$ |
# | Glorot/Xavier | $\frac{2}{n_{in} + n_{out}}$ ($= \frac{1}{n}$ when both are $n$) | tanh has slope 1 at 0, so near 0 $\mathbb{E}[a^2] \approx \mathrm{Var}(z)$, and $n \cdot \frac1n = 1$ keeps it (forward and, with $n_{out}$, backward) |
# | He | $\frac{2}{n_{in}}$ | ReLU zeroes the negative half, so $\mathbb{E}[a^2] = \mathrm{Var}(z)/2$; the factor 2 gives it back |
#
# We test the formula on a 10-layer stack of 128 units with zero biases, on inputs from N(0, 1). The
# formula's $\mathbb{E}[g(z)^2]$ is computed for $z \sim N(0, \mathrm{Var}(z^{l-1}))$ (`ini.predicted_variances`);
# the measurement averages 16 independently drawn stacks (`ini.layer_variances`), since one stack of
# 128 units is a noisy sample:

# %%
# NBVAL_CHECK_OUTPUT
for activation in ("tanh", "sigmoid", "relu"):
    for scheme, (measured, formula) in ini.stacks(activation).items():  # computed once, kept for the lesson
        worst = np.max(np.abs(measured / formula - 1))
        print(
            f"{activation:<8} {scheme:<8} Var(z¹) {measured[0]:8.3g}   Var(z¹⁰) {measured[-1]:9.3g}"
            f"   formula {formula[-1]:9.3g}   largest gap to the formula {worst:.0%}"
        )

# %% [markdown]
# Every layer of every stack is within 12% of the formula (the largest gaps are ReLU's: each of its
# layers passes the previous layers' sampling noise on). With ReLU, He keeps the variance at 2 in every
# layer (the inputs have variance 1, and $128 \cdot \frac{2}{128} \cdot 1 = 2$ in the first layer), while
# N(0, 1) multiplies it by $128/2 = 64$ per layer, to about $2 \cdot 10^{18}$ in layer 10, and Xavier halves it
# per layer, to 0.002. With tanh, N(0, 1) stays near $n_{in} = 128$ (119 in layer 10) because almost every
# unit is saturated at ±1
# ($\mathbb{E}[a^2] \approx 1$); Xavier's variance shrinks slowly (to 0.06 in layer 10) because tanh flattens
# away from 0, and He's factor 2 only partly makes up for that (0.61). The sigmoid's outputs average
# about 1/2, so $\mathbb{E}[a^2] \ge 1/4$ whatever $z$ does: under Xavier and He its variance settles a little
# above $n\,\mathrm{Var}(w)/4$ (0.26 and 0.55), and under N(0, 1), with most units saturated at 0 or 1, at 58.
#
# Switch the activation and compare the three schemes. The lesson keeps one y range, from $10^{-4}$ to
# $10^4$, for all three activations, so that a switch only moves the points; ReLU under N(0, 1) leaves it
# after layer 2, and a note in the corner gives where it ends (the static figure further down shows all
# of it):

# %%
lessons.depth_and_scheme()

# %% [markdown]
# The static version, all three activations, each with its own y range:

# %%
ini.depth_and_scheme_figure()

# %% [markdown]
# ## 5.4 Symmetry: why the weights must differ
#
# Why not start every weight at the same small number, say 0.5? Because the hidden units would then be
# copies of one another. Each computes the same $z$ from the same inputs, so the same $a$; in the
# backward pass each receives the same $\delta$ (its outgoing weights are equal too), so each gets the
# same $\Delta w$. After the step they are still equal, and so after every step: the layer of four units
# learns what one unit could. Here is a 2-4-1 sigmoid network on XOR, trained for 2,000 steps with
# $\eta = 2$, from all weights and biases 0.5 and from small random weights:

# %%
# NBVAL_CHECK_OUTPUT
equal = ini.symmetric_training(0.5)
rand = ini.symmetric_training(None)
np.set_printoptions(precision=3, suppress=True)
print("all-equal start, W¹ after training (one row per hidden unit):\n", equal.W_after)
print(f"loss {equal.losses[0]:.3f} -> {equal.losses[-1]:.3f}")
print("random start, W¹ after training:\n", rand.W_after)
print(f"loss {rand.losses[0]:.3f} -> {rand.losses[-1]:.3f}")

# %% [markdown]
# The network trained from the equal start, drawn on the input $x = (1, 0)$ with its numbers: each hidden
# unit has the same activation (green), the same error $\delta$ (red, under it), the same weights and the
# same gradients on its edges.

# %%
ini.symmetry_diagram(equal)

# %% [markdown]
# From the equal start, the four rows are still identical after 2,000 steps, and the loss is stuck near
# 0.48: one hidden unit cannot compute XOR, and four copies of it cannot either. We can even say where it
# is stuck. The unit's two input weights stay equal too (the data treat $x_1$ and $x_2$ alike), so the
# output depends only on $x_1 + x_2$, and monotonically: the targets 0, 1, 0 for the sums 0, 1, 2 cannot
# all be met. At best it answers 0 for (0, 0) and $2/3$ for the other three inputs, two of whose targets
# are 1 (or the mirror image: 0 for (1, 1)), a loss of $(2\ln\frac32 + \ln 3)/4 \approx 0.477$, which it creeps towards.
# From the random start the rows have become different features and the loss has fallen to 0.003.
# The random draw is there to **break the symmetry**; its scale (section 5.1) is there to avoid
# saturation.
#
# ## 5.5 And the biases?
#
# The biases do not need to break any symmetry (the weights already do), so they can start equal.
# Olteanu's lecture gives the rule of thumb: for sigmoid units a random value around 0; for ReLU units
# a small positive constant, so that each unit starts in its active region and gets a gradient from
# the first step. nnlab's `Linear` takes both:

# %%
# NBVAL_CHECK_OUTPUT
around_zero = functools.partial(nn.init.normal, std=0.01)  # b ~ N(0, 0.01²)
sigmoid_layer = nn.Linear(784, 100, init="xavier", bias_init=around_zero, rng=0)
relu_layer = nn.Linear(784, 100, init="he", bias_init=nn.init.constant(0.01), rng=0)
print(f"sigmoid layer: biases around 0, mean {sigmoid_layer.b.mean():+.4f}, SD {sigmoid_layer.b.std():.4f}")
print(f"ReLU layer:    biases all {relu_layer.b[0]:.2f}")
print(f"weights: Xavier SD {sigmoid_layer.W.std():.4f} (√(2/884) = {np.sqrt(2 / 884):.4f}),"
      f" He SD {relu_layer.W.std():.4f} (√(2/784) = {np.sqrt(2 / 784):.4f})")  # fmt: skip

# %% [markdown]
# ## Exercises
#
# The exercise notebook for this chapter in `exercises/` (`05_initialisation.ipynb`, checked as you go)
# asks you to:
#
# 1. compute the standard deviation of $z$ for any number of inputs and any weight scale;
# 2. find the weight scale that gives $\mathrm{Var}(z) = 1$ for a given fan-in (reason first: the formula
#    is not above the cell);
# 3. write the Xavier and He standard deviations;
# 4. follow the variance through a stack of ReLU layers.
#
# To go further on your own: in `ini.weight_scale`, find the largest weight SD at which no neuron with
# 1,000 inputs is saturated; and train the network of section 5.2 with ReLU units from N(0, 1) and from
# He's scale, and see whether the gap is larger or smaller than with sigmoids.
