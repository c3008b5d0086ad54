"""Write book/01_perceptron.ipynb from the cells below (run once; the notebook is the source after)."""

import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
CHECK = "# NBVAL_CHECK_OUTPUT\n"

cells = [
    md(r"""# Chapter 1 · The perceptron: should I go to the party?

**What you will be able to do after this chapter**

- compute the output of a single artificial neuron by hand and with `nnlab`;
- explain what the weights and the threshold (bias) of a neuron mean;
- train Rosenblatt's perceptron on AND and OR, and see why it can never learn XOR.

Run the cells from top to bottom (Shift-Enter). Every number printed below is also checked by the
book's test suite, so what you read is what the code computes."""),
    code("""%matplotlib inline
import numpy as np
from matplotlib.figure import Figure

from nnlab import np_nn as nn"""),
    md(r"""## 1.1 A neuron that makes a decision

Tonight there is a party. Three things matter to you, each either true (1) or false (0):

| input | meaning |
|---|---|
| $x_1$ | you have an important exam tomorrow |
| $x_2$ | there are free drinks at the party |
| $x_3$ | the person you like asked you to come |

A neuron weighs the evidence. Each input gets a weight that says how much it pushes towards going
(positive) or staying home (negative). The exam counts heavily against: $w_1 = -6$. Free drinks
help a little, $w_2 = 3$, and the invitation a bit more, $w_3 = 4$. The neuron goes to the party when
the weighted sum is above a threshold of 0:

$$\text{output} = \begin{cases} 1 & \text{if } \sum_i w_i x_i > 0 \\ 0 & \text{otherwise.} \end{cases}$"""),
    code(
        CHECK
        + """weights = np.array([-6.0, 3.0, 4.0])
questions = {
    "no exam, free drinks": [0, 1, 0],
    "exam tomorrow, but free drinks": [1, 1, 0],
    "exam, free drinks, and the invitation": [1, 1, 1],
}
for question, x in questions.items():
    z = weights @ x
    print(f"{question:<40} z = {z:+.0f}  ->  {'party' if z > 0 else 'stay home'}")"""
    ),
    md(r"""The same neuron, built from library parts: a `Perceptron` with the three weights, and
equally a `Linear` layer followed by Rosenblatt's `Step`. Moving the threshold to the left-hand side
and calling it the **bias** $b$ gives the form every later chapter uses: $\text{step}(W x + b)$."""),
    code(
        CHECK
        + """neuron = nn.Perceptron(3)
neuron.params["W"][:] = weights        # the threshold 0 is a bias of 0
X = np.array(list(questions.values()))
print("Perceptron:    ", neuron.predict(X))

layer = nn.Linear(3, 1)
layer.params["W"][:] = [weights]
layer.params["b"][:] = 0.0
print("Linear + Step: ", nn.Step()(layer(X)).ravel())"""
    ),
    md(r"""## 1.2 Softer decisions: the sigmoid neuron

A step jumps from 0 to 1, so a tiny change of a weight can flip the answer, or change nothing at all.
The sigmoid $\sigma(z) = 1/(1 + e^{-z})$ moves smoothly between the two. A neuron with bias 1 and weights
$(3, -2)$ on the input $x = (-1, 2)$ computes

$$\hat y = \sigma(1 + 3\cdot(-1) - 2\cdot 2) = \sigma(-6) \approx 0.0025,$$

a confident "no"."""),
    code(
        CHECK
        + """sigmoid_neuron = nn.Linear(2, 1)
sigmoid_neuron.params["W"][:] = [[3.0, -2.0]]
sigmoid_neuron.params["b"][:] = 1.0
x = np.array([[-1.0, 2.0]])
z = sigmoid_neuron(x)
print(f"z = {z[0, 0]:.0f},  sigma(z) = {nn.Sigmoid()(z)[0, 0]:.4f}")"""
    ),
    code("""z = np.linspace(-8, 8, 400)
fig = Figure(figsize=(6, 3))
ax = fig.add_subplot()
ax.plot(z, nn.functional.step(z), color="#0072B2", label="step (Rosenblatt)")
ax.plot(z, nn.functional.sigmoid(z), color="#D55E00", label=r"sigmoid $\\sigma(z)$")
ax.scatter([-6], [nn.functional.sigmoid(-6.0)], color="black", zorder=3, label=r"$\\sigma(-6) \\approx 0.0025$")
ax.set_xlabel("weighted input z")
ax.set_ylabel("output")
ax.legend()
fig"""),
    md(r"""## 1.3 Learning the weights: Rosenblatt's rule

So far we chose the weights. The perceptron *learns* them from examples $(X, Y)$: predict
$y = \text{step}(W \cdot X + b)$, and on a mistake move the weights towards the right answer,

$$W \leftarrow W + \eta\,(Y - y)\,X, \qquad b \leftarrow b + \eta\,(Y - y).$$

When the prediction is right, $Y - y = 0$ and nothing changes. Let us teach it the logic gates."""),
    code(
        CHECK
        + """X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
gates = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1]}
for name, Y in gates.items():
    p = nn.Perceptron(2).fit(X, np.array(Y), epochs=50)
    print(f"{name}: converged after {p.epochs_run} epochs, W = {p.params['W']}, b = {p.params['b'][0]:+.0f},"
          f" predictions {p.predict(X)}")"""
    ),
    md(r"""## 1.4 The limit: XOR

XOR is 1 when exactly one input is 1. No straight line separates its two classes in the plane, so a
single perceptron cannot represent it, and the rule cycles for ever. `fit` stops at its epoch limit
and says so."""),
    code(
        CHECK
        + """import warnings

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    xor = nn.Perceptron(2).fit(X, np.array([0, 1, 1, 0]), epochs=20)
print("converged:", xor.converged)
print("mistakes per epoch:", xor.errors[:8], "...")
print(caught[0].message)"""
    ),
    code("""fig = Figure(figsize=(9, 3))
for i, (name, Y) in enumerate({**gates, "XOR": [0, 1, 1, 0]}.items()):
    ax = fig.add_subplot(1, 3, i + 1)
    Y = np.array(Y)
    p = nn.Perceptron(2).fit(X, Y, epochs=20, warn=False)
    g = np.linspace(-0.5, 1.5, 200)
    gx, gy = np.meshgrid(g, g)
    ax.contourf(gx, gy, p.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(gx.shape),
                levels=[-0.5, 0.5, 1.5], colors=["#F0E442", "#56B4E9"], alpha=0.5)
    ax.scatter(X[:, 0], X[:, 1], c=["#D55E00" if t else "#000000" for t in Y], s=60, zorder=3)
    ax.set_title(f"{name}: {'learnt' if p.converged else 'not separable'}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
fig.tight_layout()
fig"""),
    md(r"""The shaded regions are what each trained perceptron answers (blue: 1, yellow: 0); dots are the
targets (orange: 1). For XOR some dot always sits on the wrong side. Chapter 3 fixes this with a
hidden layer, and a way to train it: backpropagation.

## Exercises

1. Change the weights so that the exam no longer matters when the invitation comes. Which weight did
   you change, and what is the smallest change that works?
2. Train a perceptron on NOT (one input). How many epochs does it need?
3. With `output="sign"` the perceptron uses targets $\pm 1$. Train it on AND written with $\pm 1$
   targets and compare the learnt weights with the 0/1 version."""),
]

nb = nbf.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbf.write(nb, "book/01_perceptron.ipynb")
