"""Rosenblatt's perceptron and its learning rule, on tensors (the twin of ``nnlab.np_nn.perceptron``)."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .._checks import fail
from ..np_nn.perceptron import ConvergenceWarning
from . import functional as F
from .module import DType, Module, as_input, numpy_dtype, parameter

__all__ = ["ConvergenceWarning", "Perceptron"]


class Perceptron(Module):
    r"""Rosenblatt's perceptron: a weighted sum, a threshold, and the error-driven update rule.

    $$\hat y = \mathrm{step}(w \cdot x + b)\ \text{(or sign)},\qquad
      w \leftarrow w + \eta\,(y - \hat y)\,x,\quad b \leftarrow b + \eta\,(y - \hat y)$$

    with $y$ the target, $\hat y$ the prediction and $\eta$ the learning rate ``lr`` (the book's
    notation, chapter 1). It is stochastic gradient descent on $L = \tfrac12\sum (y - \hat y)^2$ with
    the step's derivative (0 almost everywhere) replaced by a surrogate, $\partial \hat y / \partial z := 1$.

    The rule is not gradient descent (the step has derivative 0), so ``W`` and ``b`` are parameters
    that autograd leaves alone (``requires_grad=False``) and ``fit`` updates them by hand, example
    by example, exactly as the NumPy twin does: the same start gives the same weights and
    ``errors``.

    Shapes: X (N, D_in) -> ŷ (N,); W (D_in,), b (1,). ``output="step"`` uses targets {0, 1},
    ``output="sign"`` targets {-1, +1}.

    Chapter: 1, the perceptron.
    """

    def __init__(
        self,
        n_inputs: int,
        *,
        output: str = "step",
        lr: float = 1.0,
        rng: np.random.Generator | int | None = None,
        dtype: DType = np.float32,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__()
        if output not in ("step", "sign"):
            raise fail("Perceptron", f"expected output 'step' or 'sign'; got {output!r}.")
        if not isinstance(n_inputs, (int, np.integer)) or n_inputs < 1:
            raise fail("Perceptron", f"expected n_inputs to be a positive integer; got {n_inputs!r}.")
        self.n_inputs, self.output, self.lr = int(n_inputs), output, float(lr)
        np_type = numpy_dtype(dtype, owner="Perceptron")
        # Rosenblatt started from zero weights; an rng draws small random ones (the NumPy twin's draw).
        W = np.zeros(n_inputs) if rng is None else np.random.default_rng(rng).normal(0, 0.1, n_inputs)
        self.W = parameter(W.astype(np_type), device, owner="Perceptron").requires_grad_(False)
        self.b = parameter(np.zeros(1, dtype=np_type), device, owner="Perceptron").requires_grad_(False)
        self.converged: bool | None = None
        self.epochs_run = 0
        self.updates: list[int] = []  # weight updates made during each epoch
        self.misclassified: list[int] = []  # examples the weights get wrong at the end of each epoch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._input(x, like=self.W, shape=("N", self.n_inputs))
        z = x @ self.W + self.b[0]
        return F.step(z) if self.output == "step" else F.sign(z)

    predict = forward

    def fit(self, X: torch.Tensor, Y: torch.Tensor, *, epochs: int = 100, warn: bool = True) -> Perceptron:
        """Apply the rule example by example until an epoch makes no update, or ``epochs`` run out.

        ``updates[k]`` counts the examples the rule corrected during epoch k, ``misclassified[k]``
        the examples the weights left after epoch k get wrong, as in the NumPy twin.
        """
        X = self._input(X, like=self.W, shape=("N", self.n_inputs))
        Y = as_input(Y, owner="Perceptron", name="Y", like=self.W, shape=(X.shape[0],))
        allowed = (0.0, 1.0) if self.output == "step" else (-1.0, 1.0)
        bad = sorted(set(Y.unique().tolist()) - set(allowed))
        if bad:
            raise fail(
                "Perceptron",
                f"expected targets in {set(allowed)} for output={self.output!r}; got {bad[:5]}.",
                "Use output='sign' for ±1 targets, 'step' for 0/1.",
            )
        self.updates, self.misclassified, self.converged = [], [], False
        with torch.no_grad():
            for epoch in range(1, epochs + 1):
                updates = 0
                for x_i, y_i in zip(X, Y, strict=True):
                    y_hat = self.forward(x_i[None, :])[0]  # ŷ = step(w·x + b)
                    if y_hat != y_i:
                        self.W += self.lr * (y_i - y_hat) * x_i  # w ← w + η (y − ŷ) x
                        self.b += self.lr * (y_i - y_hat)  # b ← b + η (y − ŷ)
                        updates += 1
                self.updates.append(updates)
                self.misclassified.append(int((self.forward(X) != Y).sum()))
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
