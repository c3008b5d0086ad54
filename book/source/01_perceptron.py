# %% [markdown]
# # Chapter 1 · The perceptron: should I go to the party?
#
# **What you will be able to do after this chapter**
#
# - compute the output of a single artificial neuron by hand and with `nnlab`;
# - explain what the weights and the threshold (bias) of a neuron mean, and move them to change its answers;
# - train Rosenblatt's perceptron on AND and OR, and see why it can never learn XOR;
# - read logistic regression as a sigmoid neuron, and train it by gradient descent, in NumPy and in
#   PyTorch, with the same result.
#
# Run the cells from top to bottom (Shift-Enter). Every number printed below is also checked by the
# book's test suite, so what you read is what the code computes.
#
# ## Notation used in this book
#
# The lectures this book follows write the same things in different letters (Kheradpisheh's writes $Y$
# for the target and $y$ for the prediction, Chang's $J$ and Nielsen's $C$ for the cost, Honchar's
# $\lambda$ for the step size). The book uses one notation throughout, in the text, in code comments
# and in the library's docstrings:
#
# | symbol | meaning |
# |---|---|
# | $x$, $X$ | one input (a row of numbers), a batch of inputs of shape (N, D_in) |
# | $y$ | the **target**: the answer we want (a label, or a one-hot row); never the prediction |
# | $z = Wx + b$ (code `x @ W.T + b`) | the weighted input (pre-activation) of a layer |
# | $a = g(z)$, $\sigma$ | the activation, $g$ a generic activation function, $\sigma$ the sigmoid |
# | $\hat y = a^L$ | the network's output, its **prediction** |
# | $W$, $b$ | weights, shape (D_out, D_in), and bias; $W^l$, $b^l$ for layer $l$ |
# | $L$ | the loss averaged over a batch (the cost; the lectures and Nielsen write $C$ or $J$); $\ell$ the loss of one example |
# | $\eta$ | the learning rate (step size) |
# | $\lambda$ | the regularisation strength |
# | $\delta^l = \partial L/\partial z^l$ | the error at layer $l$ |
# | upstream gradient | $\partial L/\partial(\text{a layer's output})$: what a layer receives from the layer after it during backpropagation (`dout` in code) |
# | $\Delta w$ | the change one update makes to $w$ (the only meaning of $\Delta$) |
# | $N$, $n$ | the batch size; the number of training examples |
# | $K$ | the number of classes |
# | $\odot$ | the element-wise product: $(u \odot v)_i = u_i v_i$ |
# | one-hot | a label $k$ written as a row of $K$ zeros with a 1 in place $k$: class 2 of 4 is $(0, 0, 1, 0)$ |
# | $p$ | dropout: the probability of *dropping* a unit (keep probability $1 - p$) |
# | epoch | one pass over the whole training set |

# %%
# %matplotlib inline
import matplotlib.patches
import numpy as np
from matplotlib.figure import Figure

from nnlab import bridge, data, lessons, torch_nn
from nnlab import np_nn as nn

# %% [markdown]
# ## 1.1 A neuron that makes a decision
#
# The example is the one in Honchar's lecture (University of Verona). Tonight there is a party. Three
# things matter to you, each either true (1) or false (0):
#
# | input | meaning |
# |---|---|
# | $x_1$ | you have an important exam tomorrow |
# | $x_2$ | there are free drinks at the party |
# | $x_3$ | the person you like asked you to come |
#
# A neuron weighs the evidence. Each input gets a weight that says how much it pushes towards going
# (positive) or staying home (negative). The exam counts heavily against: $w_1 = -6$. Free drinks
# help a little, $w_2 = 3$, and the invitation a bit more, $w_3 = 4$. The neuron goes to the party when
# the weighted sum is above a threshold of 0:
#
# $$\text{output} = \begin{cases} 1 & \text{if } \sum_i w_i x_i > 0 \\ 0 & \text{otherwise.} \end{cases}$$

# %%
# NBVAL_CHECK_OUTPUT
weights = np.array([-6.0, 3.0, 4.0])
questions = {
    "no exam, free drinks": [0, 1, 0],
    "exam tomorrow, but free drinks": [1, 1, 0],
    "exam, free drinks, and the invitation": [1, 1, 1],
}
for question, x in questions.items():
    z = weights @ x
    print(f"{question:<40} z = {z:+.0f}  ->  {'party' if z > 0 else 'stay home'}")

# %% [markdown]
# The same neuron, built from library parts: a `Perceptron` with the three weights, and
# equally a `Linear` layer followed by Rosenblatt's `Step`. Moving the threshold to the left-hand side
# and calling it the **bias** $b$ gives the form every later chapter uses: $\text{step}(W x + b)$.

# %%
# NBVAL_CHECK_OUTPUT
neuron = nn.Perceptron(3)
neuron.params["W"][:] = weights  # the threshold 0 is a bias of 0
X = np.array(list(questions.values()))
print("Perceptron:    ", neuron.predict(X))

layer = nn.Linear(3, 1)
layer.params["W"][:] = [weights]
layer.params["b"][:] = 0.0
print("Linear + Step: ", nn.Step()(layer(X)).ravel())

# %% [markdown]
# **Check.** `nnlab.data` keeps the lecture's neuron (`PARTY_WEIGHTS`, `PARTY_QUESTIONS`), and
# `lessons.party_answers` answers its three questions; the book's tests hold them to the answers
# above: party, stay home, party.

# %%
# NBVAL_CHECK_OUTPUT
print("weights from nnlab.data:", data.PARTY_WEIGHTS)
print("answers:", lessons.party_answers(data.PARTY_WEIGHTS, threshold=0.0))

# %% [markdown]
# ### Try it: the party neuron on sliders
#
# Each bar is one question's weighted sum $z = w_1 x_1 + w_2 x_2 + w_3 x_3$; the dashed line is the
# threshold. A bar that ends right of the line means "party" (blue), left of it "stay home"
# (vermillion). Things to try: how negative must the exam weight $w_1$ be before the third answer
# flips to "stay home"? What does raising the threshold to 3 do? Can any setting answer "stay home"
# to question 1 and "party" to question 2?

# %%
lessons.party_neuron()

# %% [markdown]
# Without a kernel, here are three settings side by side: the lecture's neuron; a heavier exam
# ($w_1 = -8$), which turns the third answer around; and a pickier neuron (threshold 2), which needs
# $z > 2$ before it goes anywhere.

# %%
fig = Figure(figsize=(12, 2.8), layout="constrained")
settings = [((-6, 3, 4), 0.0), ((-8, 3, 4), 0.0), ((-6, 3, 4), 2.0)]
for i, (w, threshold) in enumerate(settings):
    ax = fig.add_subplot(1, 3, i + 1)
    lessons.plot_party(ax, w, threshold)
    if i:
        ax.set_yticks([])
        ax.get_legend().remove()
fig

# %% [markdown]
# ## 1.2 Softer decisions: the sigmoid neuron
#
# A step jumps from 0 to 1, so a tiny change of a weight can flip the answer, or change nothing at all.
# The sigmoid $\sigma(z) = 1/(1 + e^{-z})$ moves smoothly between the two. Chang's lecture gives a neuron
# with bias 1 and weights $(3, -2)$; on the input $x = (-1, 2)$ it computes
#
# $$\hat y = \sigma(1 + 3\cdot(-1) - 2\cdot 2) = \sigma(-6) \approx 0.0025,$$
#
# a confident "no" (the lecture rounds it to 0.002).

# %%
# NBVAL_CHECK_OUTPUT
sigmoid_neuron = nn.Linear(2, 1)
sigmoid_neuron.params["W"][:] = [[3.0, -2.0]]
sigmoid_neuron.params["b"][:] = 1.0
x = np.array([[-1.0, 2.0]])
z = sigmoid_neuron(x)
print(f"z = {z[0, 0]:.0f},  sigma(z) = {nn.Sigmoid()(z)[0, 0]:.4f}")

# %%
z = np.linspace(-8, 8, 400)
fig = Figure(figsize=(6, 3))
ax = fig.add_subplot()
ax.plot(z, nn.functional.step(z), color="#0072B2", label="step (Rosenblatt)")
ax.plot(z, nn.functional.sigmoid(z), color="#D55E00", label=r"sigmoid $\sigma(z)$")
ax.scatter([-6], [nn.functional.sigmoid(-6.0)], color="black", zorder=3, label=r"$\sigma(-6) \approx 0.0025$")
ax.set_xlabel("weighted input z")
ax.set_ylabel("output")
ax.legend()
fig

# %% [markdown]
# A sigmoid neuron still has to decide in the end. Honchar's lecture turns its output into a yes or
# no with the rule
#
# $$\text{output} = \begin{cases} 1 & \text{if } \sigma(z) > 0.5 \\ 0 & \text{otherwise.} \end{cases}$$
#
# Since $\sigma(0) = 0.5$ and $\sigma$ only ever grows, $\sigma(z) > 0.5$ exactly when $z > 0$: the rule
# makes the same decisions as the step, and only adds how sure the neuron is. The party neuron, read
# through a sigmoid, answers the same three questions the same way:

# %%
# NBVAL_CHECK_OUTPUT
z_party = X @ weights  # the three weighted sums of section 1.1
sure = nn.functional.sigmoid(z_party)  # σ(z)
for question, z_q, s in zip(questions, z_party, sure):
    print(f"{question:<40} z = {z_q:+.0f}, σ(z) = {s:.3f}  ->  {'party' if s > 0.5 else 'stay home'}")

# %% [markdown]
# With two inputs a neuron's decision can be drawn. Chang's neuron is undecided, $\hat y = 0.5$,
# where $z = 0$, that is on the **decision line**
#
# $$1 + 3x_1 - 2x_2 = 0, \qquad\text{or}\qquad x_2 = \tfrac12 + \tfrac32 x_1 .$$
#
# Below the line $z > 0$ and the answer is 1; above it $z < 0$ and the answer is 0. The input
# $(-1, 2)$ sits above the line, 6 units of $z$ away, which is why the neuron is so sure. Every
# neuron with a step or a sigmoid draws such a straight line (a plane, with more inputs): remember
# this for section 1.4.

# %%
g = np.linspace(-3, 3, 121)
g1, g2 = np.meshgrid(g, g)
y_hat_plane = nn.functional.sigmoid(1 + 3 * g1 - 2 * g2)  # ŷ = σ(1 + 3x₁ − 2x₂)
fig = Figure(figsize=(5, 4), layout="constrained")
ax = fig.add_subplot()
image = ax.imshow(y_hat_plane, extent=(-3, 3, -3, 3), origin="lower", cmap="PuOr", vmin=0, vmax=1, alpha=0.8)
fig.colorbar(image, ax=ax, label=r"$\hat y = \sigma(z)$")
ax.plot(g, 0.5 + 1.5 * g, color="black", label=r"decision line $1 + 3x_1 - 2x_2 = 0$ ($\hat y = 0.5$)")
ax.plot(
    [-1], [2], "o", color="black", markerfacecolor="white", label=r"$x = (-1, 2)$: $\hat y \approx 0.0025$"
)
ax.set_xlim(-3, 3)
ax.set_ylim(-3, 3)
ax.set_xlabel("$x_1$")
ax.set_ylabel("$x_2$")
ax.legend(loc="lower right", fontsize=8)
ax.set_title("Chang's neuron: answer 1 below the line, 0 above")
fig

# %% [markdown]
# ## 1.3 Learning the weights: Rosenblatt's rule
#
# So far we chose the weights. The perceptron *learns* them from examples $(x, y)$, $y$ the target.
# It predicts $\hat y = \text{step}(w \cdot x + b)$ and, on a mistake, moves the weights towards the
# right answer with a learning rate $\eta$ ($\eta = 1$ in `nn.Perceptron`):
#
# $$w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).$$
#
# When the prediction is right, $y - \hat y = 0$ and nothing changes. One pass over all the examples
# is an **epoch**; training repeats epochs until one of them makes no update. Let us teach it the logic
# gates.

# %%
# NBVAL_CHECK_OUTPUT
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
gates = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1]}
for name, y in gates.items():
    p = nn.Perceptron(2).fit(X, np.array(y), epochs=50)
    print(
        f"{name}: converged after {p.epochs_run} epochs, w = {p.params['W']}, b = {p.params['b'][0]:+.0f},"
        f" predictions {p.predict(X)}"
    )

# %% [markdown]
# ### The rule is gradient descent with a surrogate gradient
#
# Kheradpisheh's lecture derives the rule instead of stating it. Count the mistakes with the squared
# error summed over the $n$ examples, $L = \tfrac12 \sum_i (y_i - \hat y_i)^2$ (a sum, as in the
# lecture, not the book's usual average: a factor $1/n$ would only rescale $\eta$). By the chain rule,
#
# $$\frac{\partial L}{\partial w_j} = -\sum_i (y_i - \hat y_i)\,\frac{\partial \hat y_i}{\partial w_j},
#   \qquad \frac{\partial \hat y_i}{\partial w_j} = \text{step}'(z_i)\, x_{i,j}.$$
#
# But the step is flat: $\text{step}'(z) = 0$ wherever it has a derivative (it has none at 0). The true
# gradient is zero and gradient descent would never move. The lecture replaces $\text{step}'$ by a
# **surrogate**, $\text{step}'(z) := 1$ (as if the neuron were linear), which gives
#
# $$\frac{\partial L}{\partial w_j} \approx -\sum_i (y_i - \hat y_i)\,x_{i,j}.$$
#
# A gradient-descent step $w \leftarrow w - \eta\,\partial L/\partial w$ taken on one example at a time
# (stochastic gradient descent, chapter 2) is then exactly Rosenblatt's rule. Summed over all examples
# before each step it is the **batch form**:
#
# $$w \leftarrow w + \eta \sum_i (y_i - \hat y_i)\, x_i, \qquad b \leftarrow b + \eta \sum_i (y_i - \hat y_i).$$
#
# The batch form in code, one formula per line, with the number of misclassified examples counted at
# the start of each epoch:


# %%
# NBVAL_CHECK_OUTPUT
def batch_perceptron(X, y, eta=1.0, epochs=20):
    """The perceptron's batch rule: all examples' corrections summed, one step per epoch."""
    w, b, mistakes = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        y_hat = (X @ w + b > 0).astype(float)  # ŷ = step(w·x + b) for every example
        mistakes.append(int(np.sum(y_hat != y)))
        if mistakes[-1] == 0:
            break
        w = w + eta * (y - y_hat) @ X  # w ← w + η Σᵢ (yᵢ − ŷᵢ) xᵢ
        b = b + eta * np.sum(y - y_hat)  # b ← b + η Σᵢ (yᵢ − ŷᵢ)
    return w, b, mistakes


for name, y in gates.items():
    w, b, mistakes = batch_perceptron(X, np.array(y, dtype=float))
    print(f"{name}: w = {w}, b = {b:+.0f}, misclassified at each epoch's start: {mistakes}")

# %% [markdown]
# Both forms learn both gates, by different paths. For AND they end on different lines; for OR on
# the same line $x_1 + x_2 = 0$, the batch form with weights twice as large (scaling $w$ and $b$
# together does not move the line). The book's tests also check that one step of the library's rule
# is one surrogate-gradient step.
#
# ## 1.4 The limit: XOR
#
# XOR is 1 when exactly one input is 1. No straight line separates its two classes in the plane, so a
# single perceptron cannot represent it, and the rule cycles for ever. `fit` stops at its epoch limit
# and says so. It keeps two counts per epoch, because they are not the same thing: `updates`, how many
# examples the rule corrected *during* the epoch (the weights move after each correction), and
# `misclassified`, how many examples the weights left *after* the epoch get wrong.

# %%
# NBVAL_CHECK_OUTPUT
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    xor = nn.Perceptron(2).fit(X, np.array([0, 1, 1, 0]), epochs=20)
print("converged:", xor.converged)
print("updates per epoch:      ", xor.updates[:8], "...")
print("misclassified after it: ", xor.misclassified[:8], "...")
print(f"final w = {xor.params['W']}, b = {xor.params['b'][0]:+.0f}, predictions {xor.predict(X)}")
print(caught[0].message)

# %% [markdown]
# From the third epoch on the rule corrects all 4 examples in every epoch, and the four corrections
# cancel out: $-(0, 0) + (0, 1) + (1, 0) - (1, 1) = (0, 0)$ for $w$ and $-1 + 1 + 1 - 1 = 0$ for $b$,
# so every epoch ends on the weights it started from. At the end of every epoch its line gets exactly
# 2 of the 4 right: the final
# $w = (-1, 0)$, $b = 1$ answers 1 left of $x_1 = 1$ and 0 on it. No line can do better than 3 of 4
# (the book's tests try them), and no line gets all 4 wrong either, since that would separate XNOR,
# which is just as impossible.
#
# In the figure each panel shows what a trained perceptron answers: the region where it says 1 is
# blue, where it says 0 orange, with its line $w \cdot x + b = 0$ in black; the dots are the targets
# in the same colours (blue squares: 1, orange circles: 0). Look closely at AND and OR: Rosenblatt's
# rule stops at the first line that makes no mistake, and here that line runs **through** a data
# point. Such a point has $z = 0$ exactly, and $\text{step}(0) = 0$ (the output is 1 only if
# $z > 0$), so a point on the line counts as class 0: right for AND's $(1, 0)$ and OR's $(0, 0)$,
# but only just. The smallest nudge of the weights would flip it. Gradient descent on the
# cross-entropy (section 1.5 and chapter 2) does better: it keeps pushing the line away from the
# points even after all of them are right.

# %%
fig = Figure(figsize=(11, 3.6), layout="constrained")
gate_targets = {**gates, "XOR": [0, 1, 1, 0]}
g = np.linspace(-0.5, 1.5, 201)
gx, gy = np.meshgrid(g, g)
for i, (name, y) in enumerate(gate_targets.items()):
    ax = fig.add_subplot(1, 3, i + 1)
    y = np.array(y)
    p = nn.Perceptron(2).fit(X, y, epochs=20, warn=False)
    (w1, w2), b = p.params["W"], p.params["b"][0]
    answer = p.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape)
    ax.contourf(gx, gy, answer, levels=[-0.5, 0.5, 1.5], colors=["#F5C46B", "#7FB8DA"])
    if w2 != 0:
        ax.plot(g, -(w1 * g + b) / w2, color="black", linewidth=1.2, label="line $w \\cdot x + b = 0$")
    else:
        ax.axvline(-b / w1, color="black", linewidth=1.2, label="line $w \\cdot x + b = 0$")
    ax.scatter(
        *X[y == 0].T, marker="o", s=70, color="#E69F00", edgecolors="black", zorder=3, label="target 0"
    )
    ax.scatter(
        *X[y == 1].T, marker="s", s=70, color="#0072B2", edgecolors="black", zorder=3, label="target 1"
    )
    on_line = X[X @ p.params["W"] + b == 0]
    ax.scatter(*on_line.T, s=260, facecolors="none", edgecolors="black", linestyle=":", zorder=3,
               label="on the line: z = 0, answer 0")  # fmt: skip
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")
    right = int(np.sum(p.predict(X) == y))
    ax.set_title(f"{name}: w = ({w1:.0f}, {w2:.0f}), b = {b:.0f}, {right} of 4 right", fontsize=9)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
handles, labels = fig.axes[0].get_legend_handles_labels()
handles.insert(0, matplotlib.patches.Patch(color="#7FB8DA", label="answers 1"))
handles.insert(1, matplotlib.patches.Patch(color="#F5C46B", label="answers 0"))
fig.legend(handles=handles, loc="outside lower center", ncols=6, fontsize=8)
fig

# %% [markdown]
# ### Why not stack perceptrons?
#
# One line is not enough for XOR, so use several neurons in a row: a **hidden layer** between the
# inputs and the output. But the layers must not be linear. Two linear layers in a row,
#
# $$W^2 (W^1 x + b^1) + b^2 = (W^2 W^1)\, x + (W^2 b^1 + b^2),$$
#
# are one linear layer with weights $W^2 W^1$ and bias $W^2 b^1 + b^2$, so any number of them
# still draws a single straight line (Kheradpisheh's and Chang's lectures both make this point). A
# non-linear activation $g$ between them, $\hat y = \sigma(W^2 g(W^1 x + b^1) + b^2)$, breaks the
# collapse. The collapse in numbers, for two random layers on five random inputs (the tests check
# the two agree to rounding):

# %%
# NBVAL_CHECK_OUTPUT
first, second = nn.Linear(2, 4, rng=0, dtype=np.float64), nn.Linear(4, 1, rng=1, dtype=np.float64)
W_one = second.W @ first.W  # W = W²W¹
b_one = second.W @ first.b + second.b  # b = W²b¹ + b²
x_test = np.random.default_rng(2).normal(size=(5, 2))
stacked, single = second(first(x_test)), x_test @ W_one.T + b_one
print("two linear layers:", stacked.ravel().round(4))
print("one linear layer: ", single.ravel().round(4))

# %% [markdown]
# ### Try it: a hidden layer learns XOR (a playground)
#
# In the spirit of TensorFlow Playground, `lessons.training_playground` trains a network with one hidden layer,
# $\hat y = \sigma(W^2 g(W^1 x + b^1) + b^2)$, on 200 noisy points of a two-class set in the plane and
# shows the regions it answers, in the same colours as the gates above, with the loss against the
# epoch. The training uses gradient descent and backpropagation, which chapters 2 and 3 explain; here,
# just watch. Things to try: move the epoch slider and see the boundary bend into shape; choose the
# activation "linear" and see the layers collapse into one line that fails on XOR and circles; try
# the spirals; find a learning rate $\eta$ so large that training goes wrong.

# %%
lessons.training_playground("xor", hidden=4, activation="tanh", lr=0.3, epochs=50)

# %% [markdown]
# Without a kernel: XOR learnt by four tanh units with $\eta = 0.3$, after 0, 10, 50 and 200 epochs,
# and its loss on the training points and on 200 fresh test points.

# %%
lessons.playground_figure("xor", hidden=4, activation="tanh", lr=0.3, epochs=(0, 10, 50, 200))

# %%
# NBVAL_CHECK_OUTPUT
from nnlab.lessons import playground as pg

for activation in ["tanh", "linear"]:
    run = pg.train("xor", hidden=4, activation=activation, lr=0.3, epochs=200)
    print(
        f"{activation:>6}: loss {run.train_loss[0]:.3f} -> {run.train_loss[-1]:.3f},"
        f" train accuracy {run.train_acc[-1]:.0%}, test accuracy {run.test_acc[-1]:.0%}"
    )

# %% [markdown]
# Four tanh units learn XOR; four linear units are one line in disguise and stay at the loss of a
# coin toss, $\ln 2 \approx 0.693$. Chapter 3 explains how the hidden layer is trained:
# backpropagation.

# %% [markdown]
# ## 1.5 Logistic regression is a sigmoid neuron
#
# Honchar's lecture reaches the neuron from statistics too. **Logistic regression** models the
# probability that an example belongs to class 1 as
#
# $$\hat y = \sigma(b + w_1 x_1 + w_2 x_2) = \frac{1}{1 + e^{-(b + w_1 x_1 + w_2 x_2)}}$$
#
# (the lecture writes $h_w(x)$ and $W_0$ for the bias), which is exactly the sigmoid neuron of
# section 1.2, deciding by Honchar's rule $\hat y > 0.5$. What is new is how its weights are found:
# not by Rosenblatt's rule, but by **gradient descent** (the subject of chapter 2) on the
# cross-entropy loss, averaged over a batch of $N$ examples with targets $y_i \in \{0, 1\}$,
#
# $$L = -\frac{1}{N}\sum_{i} \big[y_i \ln \hat y_i + (1 - y_i)\ln(1 - \hat y_i)\big],
#   \qquad \hat y_i = \sigma(w \cdot x_i + b),$$
#
# whose gradient is remarkably simple:
#
# $$\frac{\partial L}{\partial w_j} = \frac{1}{N}\sum_i (\hat y_i - y_i)\,x_{i,j}, \qquad
#   \frac{\partial L}{\partial b} = \frac{1}{N}\sum_i (\hat y_i - y_i).$$
#
# The data: "will I pass the class?" from Chang's lecture, with two inputs per student, the lectures
# attended and the hours spent on the final project (both 0 to 10, divided by 10 here so that they
# lie in [0, 1]). `data.pass_the_class` draws 200 students who pass with probability
# $\sigma(0.5 x_1 + 0.5 x_2 - 5)$. The neuron is one `Linear(2, 1)`; `BCEWithLogitsLoss` applies
# the sigmoid and the cross-entropy in one numerically stable step.
#
# **Check** first that the library's backward pass computes the gradient above:

# %%
# NBVAL_CHECK_OUTPUT
X_pass, y_pass = data.pass_the_class(200, rng=0)
X_pass = X_pass / 10  # lectures and hours, scaled to [0, 1]
y_column = y_pass[:, None].astype(np.float32)  # targets as a column, like the neuron's output
neuron = nn.Sequential(nn.Linear(2, 1, rng=0))
loss = nn.BCEWithLogitsLoss()
loss(neuron(X_pass), y_column)
neuron.backward(loss.backward())
y_hat = nn.functional.sigmoid(neuron(X_pass))  # ŷ = σ(w·x + b)
dW = (y_hat - y_column).T @ X_pass / len(X_pass)  # ∂L/∂w = (1/N) Σ (ŷ − y) x
db = np.mean(y_hat - y_column)  # ∂L/∂b = (1/N) Σ (ŷ − y)
print("by backprop:", neuron.grads["0.W"].round(4), neuron.grads["0.b"].round(4))
print("by formula: ", dW.round(4), np.round([db], 4))

# %% [markdown]
# Now train it: 300 steps of gradient descent on all 200 students at once (a batch of 200), first with
# the NumPy reference, then with its PyTorch twin on `nnlab.device()`. `bridge.twin` builds the twin
# with the same starting weights, so the two runs should end in the same place. (`progress=False`
# hides the progress bar, which for a run this short would only flash.)

# %%
# NBVAL_CHECK_OUTPUT
torch_neuron = bridge.twin(neuron)  # same starting weights, on nnlab.device()
history = nn.fit(
    neuron,
    nn.BCEWithLogitsLoss(),
    nn.optim.SGD(neuron, lr=2.0),
    X_pass,
    y_column,
    epochs=300,
    batch_size=200,
    rng=0,
    progress=False,
)
torch_history = torch_nn.fit(
    torch_neuron,
    torch_nn.BCEWithLogitsLoss(),
    torch_nn.optim.SGD(torch_neuron, lr=2.0),
    X_pass,
    y_column,
    epochs=300,
    batch_size=200,
    rng=0,
    progress=False,
)
W, b = neuron.params["0.W"][0], neuron.params["0.b"][0]
print(
    f"NumPy:   loss {history.train_loss[-1]:.3f}, accuracy {history.train_acc[-1]:.2f}, w = {W.round(2)}, b = {b:.2f}"
)
W_t = torch_neuron.state_dict()["0.W"].cpu().numpy()[0]
b_t = torch_neuron.state_dict()["0.b"].item()
print(
    f"PyTorch: loss {torch_history.train_loss[-1]:.3f}, accuracy {torch_history.train_acc[-1]:.2f},"
    f" w = {W_t.round(2)}, b = {b_t:.2f}"
)
comparison = bridge.compare(neuron, torch_neuron, X_pass)

# %% [markdown]
# The trained weights are close to the rule that generated the data, $(0.5, 0.5)$ per lecture and per
# hour, i.e. $(5, 5)$ on the scaled inputs, and bias $-5$; the two paths differ only by float32
# rounding. The details of the comparison, the largest difference between the two paths for the
# output and every gradient:

# %%
print(comparison)

# %%
fig = Figure(figsize=(10, 3.8), layout="constrained")
ax, ax_loss = fig.subplots(1, 2)
passed = y_pass == 1
ax.scatter(10 * X_pass[passed, 0], 10 * X_pass[passed, 1], s=14, color="#0072B2", label="passed")
ax.scatter(
    10 * X_pass[~passed, 0], 10 * X_pass[~passed, 1], s=14, color="#D55E00", marker="x", label="failed"
)
lectures = np.linspace(0, 10, 2)
# ŷ = 0.5 where w·x + b = 0, i.e. x2 = −(w1 x1 + b) / w2 on the scaled inputs
ax.plot(lectures, -(W[0] * lectures / 10 + b) / W[1] * 10, color="black", label="learnt: ŷ = 0.5")
ax.plot(lectures, 10 - lectures, "--", color="#009E73", label="true rule: x1 + x2 = 10")
ax.set_xlim(0, 10)
ax.set_ylim(0, 10)
ax.set_xlabel("lectures attended")
ax.set_ylabel("hours on the final project")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
ax.set_title("Will I pass? The trained sigmoid neuron")
ax_loss.plot(history.train_loss, color="#0072B2", label="NumPy")
ax_loss.plot(torch_history.train_loss, "--", color="#E69F00", label="PyTorch")
ax_loss.set_xlabel("step (one step per epoch here)")
ax_loss.set_ylabel("cross-entropy loss L")
ax_loss.legend()
ax_loss.set_title("Training: both paths")
fig

# %% [markdown]
# ## Exercises
#
# The exercise notebook for this chapter, `exercises/01_perceptron.ipynb`, checks your answers
# automatically. To warm up:
#
# 1. Change the invitation's weight $w_3$ so that, once you are invited, the exam no longer matters,
#    whatever the drinks: what is the smallest whole-number $w_3$ that works?
# 2. Train a perceptron on NOT (one input). How many epochs does it need?
# 3. With `output="sign"` the perceptron uses targets $\pm 1$. Train it on AND written with $\pm 1$
#    targets and compare the learnt weights with the 0/1 version.
# 4. Train the logistic-regression neuron of section 1.5 on `data.pass_the_class(200, rng=0, noise=0)`,
#    where the rule is exact. What happens to the size of the weights as you train longer, and why?
