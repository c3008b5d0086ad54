"""Rosenblatt's perceptron and its learning rule."""

from __future__ import annotations

import warnings

import numpy as np

from .._checks import check_array, fail
from . import functional as F
from .module import Module

__all__ = ["ConvergenceWarning", "Perceptron"]


class ConvergenceWarning(UserWarning):
    """The perceptron reached its epoch limit while its rule was still making updates."""


class Perceptron(Module):
    r"""Rosenblatt's perceptron: a weighted sum, a threshold, and the error-driven update rule.

    $$\hat y = \mathrm{step}(w \cdot x + b)\ \text{(or sign)},\qquad
      w \leftarrow w + \eta\,(y - \hat y)\,x,\quad b \leftarrow b + \eta\,(y - \hat y)$$

    with $y$ the target, $\hat y$ the prediction and $\eta$ the learning rate ``lr`` (the book's
    notation, chapter 1). It is stochastic gradient descent on $L = \tfrac12\sum (y - \hat y)^2$ with
    the step's derivative (0 almost everywhere) replaced by a surrogate, $\partial \hat y / \partial z := 1$.

    The rule changes the weights only on a mistake. It converges whenever the classes are linearly
    separable (AND, OR); on XOR it cannot, so ``fit`` stops at ``epochs``, sets
    ``converged = False`` and warns.

    Shapes: X (N, D_in) -> ŷ (N,); W (D_in,), b (1,). ``output="step"`` uses targets {0, 1},
    ``output="sign"`` targets {-1, +1}.

    Example:
        >>> p = Perceptron(3)
        >>> p.params["W"][:] = [-6, 3, 4]          # Honchar's party neuron, threshold 0
        >>> p.predict(np.array([[0, 1, 0], [1, 1, 0], [1, 1, 1]]))
        array([1., 0., 1.], dtype=float32)

    Chapter: 1, the perceptron.
    """

    def __init__(
        self,
        n_inputs: int,
        *,
        output: str = "step",
        lr: float = 1.0,
        rng: np.random.Generator | int | None = None,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().__init__()
        if output not in ("step", "sign"):
            raise fail("Perceptron", f"expected output 'step' or 'sign'; got {output!r}.")
        if not isinstance(n_inputs, (int, np.integer)) or n_inputs < 1:
            raise fail("Perceptron", f"expected n_inputs to be a positive integer; got {n_inputs!r}.")
        self.n_inputs, self.output, self.lr = int(n_inputs), output, float(lr)
        # Rosenblatt started from zero weights; an rng draws small random ones instead.
        W = (
            np.zeros(n_inputs, dtype=dtype)
            if rng is None
            else np.random.default_rng(rng).normal(0, 0.1, n_inputs)
        )
        self._add_param("W", W.astype(dtype))
        self._add_param("b", np.zeros(1, dtype=dtype))
        self.converged: bool | None = None
        self.epochs_run = 0
        self.updates: list[int] = []  # weight updates made during each epoch
        self.misclassified: list[int] = []  # examples the weights get wrong at the end of each epoch

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x, shape=("N", self.n_inputs))
        z = x @ self.params["W"] + self.params["b"][0]
        return F.step(z) if self.output == "step" else F.sign(z)

    predict = forward

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise fail(
            "Perceptron",
            "has no backward pass: its step output has derivative 0 everywhere, so gradients cannot flow.",
            "Train it with perceptron.fit(X, Y), Rosenblatt's rule, or use Sigmoid for gradient descent.",
        )

    def fit(self, X: np.ndarray, Y: np.ndarray, *, epochs: int = 100, warn: bool = True) -> Perceptron:
        """Apply the rule example by example until an epoch makes no update, or ``epochs`` run out.

        Two counts are kept per epoch, because they differ: ``updates[k]``, how many examples the
        rule corrected during epoch k (the weights move between examples), and ``misclassified[k]``,
        how many examples the weights left after epoch k get wrong. On XOR the rule keeps making 4
        updates per epoch while its weights misclassify 2 of the 4 examples.
        """
        X = self._input(X, shape=("N", self.n_inputs))
        Y = check_array(Y, owner="Perceptron", name="Y", shape=(X.shape[0],), dtype=X.dtype)
        allowed = (0.0, 1.0) if self.output == "step" else (-1.0, 1.0)
        if not np.isin(Y, allowed).all():
            raise fail(
                "Perceptron",
                f"expected targets in {set(allowed)} for output={self.output!r};"
                f" got {sorted(set(np.unique(Y).tolist()) - set(allowed))[:5]}.",
                "Use output='sign' for ±1 targets, 'step' for 0/1.",
            )
        W, b = self.params["W"], self.params["b"]
        self.updates, self.misclassified, self.converged = [], [], False
        for epoch in range(1, epochs + 1):
            updates = 0
            for x_i, y_i in zip(X, Y):
                y_hat = self.forward(x_i[None, :])[0]  # ŷ = step(w·x + b)
                if y_hat != y_i:
                    W += self.lr * (y_i - y_hat) * x_i  # w ← w + η (y − ŷ) x
                    b += self.lr * (y_i - y_hat)  # b ← b + η (y − ŷ)
                    updates += 1
            self.updates.append(updates)
            self.misclassified.append(int(np.sum(self.forward(X) != Y)))
            self.epochs_run = epoch
            if updates == 0:
                self.converged = True
                break
        if not self.converged and warn:
            warnings.warn(
                f"Perceptron did not converge in {epochs} epochs: its last epoch still made"
                f" {self.updates[-1]} updates, and its final weights misclassify {self.misclassified[-1]}"
                f" of {len(X)} examples. The classes may not be linearly separable (like XOR).",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @property
    def errors(self) -> list[int]:
        """The former name of ``updates`` (weight updates per epoch); prefer ``updates``."""
        return self.updates

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, output={self.output!r}, lr={self.lr}"
