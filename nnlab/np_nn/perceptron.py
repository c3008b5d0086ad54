"""Rosenblatt's perceptron and its learning rule."""

from __future__ import annotations

import warnings

import numpy as np

from .._checks import check_array, fail
from . import functional as F
from .module import Module

__all__ = ["ConvergenceWarning", "Perceptron"]


class ConvergenceWarning(UserWarning):
    """The perceptron reached its epoch limit with examples still misclassified."""


class Perceptron(Module):
    r"""Rosenblatt's perceptron: a weighted sum, a threshold, and the error-driven update rule.

    $$y = \mathrm{step}(W \cdot X + b)\ \text{(or sign)},\qquad
      W \leftarrow W + \eta\,(Y - y)\,X,\quad b \leftarrow b + \eta\,(Y - y)$$

    The rule changes the weights only on a mistake. It converges whenever the classes are linearly
    separable (AND, OR); on XOR it cannot, so ``fit`` stops at ``epochs``, sets
    ``converged = False`` and warns.

    Shapes: X (N, D_in) -> y (N,); W (D_in,), b (1,). ``output="step"`` uses targets {0, 1},
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
        self.errors: list[int] = []

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
        """Apply the rule example by example until an epoch makes no mistake, or ``epochs`` run out."""
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
        self.errors, self.converged = [], False
        for epoch in range(1, epochs + 1):
            mistakes = 0
            for x_i, Y_i in zip(X, Y):
                y_i = self.forward(x_i[None, :])[0]
                if y_i != Y_i:
                    W += self.lr * (Y_i - y_i) * x_i
                    b += self.lr * (Y_i - y_i)
                    mistakes += 1
            self.errors.append(mistakes)
            self.epochs_run = epoch
            if mistakes == 0:
                self.converged = True
                break
        if not self.converged and warn:
            warnings.warn(
                f"Perceptron did not converge: {self.errors[-1]} of {len(X)} examples still misclassified after"
                f" {epochs} epochs. The classes may not be linearly separable (like XOR).",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def extra_repr(self) -> str:
        return f"n_inputs={self.n_inputs}, output={self.output!r}, lr={self.lr}"
