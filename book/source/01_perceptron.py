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

# %%
# %matplotlib inline
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
print("the same as above:", lessons.party_answers(weights, 0.0) == [int(z > 0) for z in X @ weights])

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
# ## 1.3 Learning the weights: Rosenblatt's rule
#
# So far we chose the weights. The perceptron *learns* them from examples $(X, Y)$: predict
# $y = \text{step}(W \cdot X + b)$, and on a mistake move the weights towards the right answer,
#
# $$W \leftarrow W + \eta\,(Y - y)\,X, \qquad b \leftarrow b + \eta\,(Y - y).$$
#
# When the prediction is right, $Y - y = 0$ and nothing changes. Let us teach it the logic gates.

# %%
# NBVAL_CHECK_OUTPUT
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
gates = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1]}
for name, Y in gates.items():
    p = nn.Perceptron(2).fit(X, np.array(Y), epochs=50)
    print(
        f"{name}: converged after {p.epochs_run} epochs, W = {p.params['W']}, b = {p.params['b'][0]:+.0f},"
        f" predictions {p.predict(X)}"
    )

# %% [markdown]
# ## 1.4 The limit: XOR
#
# XOR is 1 when exactly one input is 1. No straight line separates its two classes in the plane, so a
# single perceptron cannot represent it, and the rule cycles for ever. `fit` stops at its epoch limit
# and says so.

# %%
# NBVAL_CHECK_OUTPUT
import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    xor = nn.Perceptron(2).fit(X, np.array([0, 1, 1, 0]), epochs=20)
print("converged:", xor.converged)
print("mistakes per epoch:", xor.errors[:8], "...")
print(caught[0].message)

# %%
fig = Figure(figsize=(9, 3))
for i, (name, Y) in enumerate({**gates, "XOR": [0, 1, 1, 0]}.items()):
    ax = fig.add_subplot(1, 3, i + 1)
    Y = np.array(Y)
    p = nn.Perceptron(2).fit(X, Y, epochs=20, warn=False)
    g = np.linspace(-0.5, 1.5, 200)
    gx, gy = np.meshgrid(g, g)
    ax.contourf(
        gx,
        gy,
        p.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape),
        levels=[-0.5, 0.5, 1.5],
        colors=["#F0E442", "#56B4E9"],
        alpha=0.5,
    )
    ax.scatter(X[:, 0], X[:, 1], c=["#D55E00" if t else "#000000" for t in Y], s=60, zorder=3)
    ax.set_title(f"{name}: {'learnt' if p.converged else 'not separable'}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
fig.tight_layout()
fig

# %% [markdown]
# The shaded regions are what each trained perceptron answers (blue: 1, yellow: 0); dots are the
# targets (orange: 1). For XOR some dot always sits on the wrong side. Chapter 3 fixes this with a
# hidden layer, and a way to train it: backpropagation.

# %% [markdown]
# ## 1.5 Logistic regression is a sigmoid neuron
#
# Honchar's lecture reaches the neuron from statistics too. **Logistic regression** models the
# probability that an example belongs to class 1 as
#
# $$h_w(x) = \sigma(W_0 + W_1 x_1 + W_2 x_2) = \frac{1}{1 + e^{-(W_0 + W_1 x_1 + W_2 x_2)}},$$
#
# which is exactly the sigmoid neuron of section 1.2, with the bias $b = W_0$. What is new is how its
# weights are found: not by Rosenblatt's rule, but by **gradient descent** (the subject of chapter 2)
# on the cross-entropy loss over the $N$ training examples,
#
# $$L = -\frac{1}{N}\sum_{n} \big[y_n \ln p_n + (1 - y_n)\ln(1 - p_n)\big], \qquad p_n = \sigma(w \cdot x_n + b),$$
#
# whose gradient is remarkably simple:
#
# $$\frac{\partial L}{\partial w_j} = \frac{1}{N}\sum_n (p_n - y_n)\,x_{n,j}, \qquad
#   \frac{\partial L}{\partial b} = \frac{1}{N}\sum_n (p_n - y_n).$$
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
Y_pass = y_pass[:, None].astype(np.float32)  # targets as a column, like the neuron's output
neuron = nn.Sequential(nn.Linear(2, 1, rng=0))
loss = nn.BCEWithLogitsLoss()
loss(neuron(X_pass), Y_pass)
neuron.backward(loss.backward())
p = nn.functional.sigmoid(neuron(X_pass))  # p = σ(w·x + b)
dW = (p - Y_pass).T @ X_pass / len(X_pass)  # ∂L/∂w = (1/N) Σ (p − y) x
db = np.mean(p - Y_pass)  # ∂L/∂b = (1/N) Σ (p − y)
print("by backprop:", neuron.grads["0.W"].round(4), neuron.grads["0.b"].round(4))
print("by formula: ", dW.round(4), np.round([db], 4))
print(
    "agree:",
    np.allclose(neuron.grads["0.W"], dW, atol=1e-6) and np.allclose(neuron.grads["0.b"], db, atol=1e-6),
)

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
    Y_pass,
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
    Y_pass,
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
print("the two paths agree:", comparison.passed())

# %% [markdown]
# The trained weights are close to the rule that generated the data, $(0.5, 0.5)$ per lecture and per
# hour, i.e. $(5, 5)$ on the scaled inputs, and bias $-5$. The details of the comparison, the largest
# difference between the two paths for the output and every gradient:

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
# p = 0.5 where w·x + b = 0, i.e. x2 = −(w1 x1 + b) / w2 on the scaled inputs
ax.plot(lectures, -(W[0] * lectures / 10 + b) / W[1] * 10, color="black", label="learnt: p = 0.5")
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
ax_loss.set_ylabel("cross-entropy loss")
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
