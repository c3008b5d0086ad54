r"""Optimisers that update a model's ``params`` in place from its ``grads``.

Each optimiser walks the model's matching ``params``/``grads`` pairs at every ``step()`` and keeps
its own state (velocities, running averages) under the same names. Each ``_update`` is its update
equation written out, one line per formula, as in the lectures.

Hyperparameters mean what they mean in ``torch.optim``, so the PyTorch path gives the same numbers.
Every optimiser takes ``weight_decay`` (L2: adds $\lambda w$ to the gradient). L1 is a term of the
loss instead: see ``nnlab.np_nn.L1Penalty``.

Chapter: 2, gradient descent.
"""

from __future__ import annotations

import numpy as np

from .._checks import fail
from .._numbers import betas as _betas
from .._numbers import number, sgd_momentum
from .module import Module

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Optimizer", "RMSProp"]


class Optimizer:
    """Base class: ``step()`` updates every parameter in place; ``zero_grad()`` clears the gradients."""

    def __init__(self, model: Module, lr: float, *, weight_decay: float = 0.0) -> None:
        name = type(self).__name__
        if not isinstance(model, Module):  # a torch_nn model has params and grads too, but not these arrays
            hint = f"Pass the network itself: {name}(model, lr=0.1)."
            if hasattr(model, "named_parameters"):
                hint = f"This is a PyTorch model; use nnlab.torch_nn.optim.{name} for it."
            raise fail(
                name, f"expected a NumPy model (an nnlab.np_nn Module); got {type(model).__name__}.", hint
            )
        if not model.params:
            raise fail(name, "got a model with no parameters to optimise.")
        self.model = model
        self.lr = number(lr, owner=name, name="lr", low=0, example="0.1")
        self.weight_decay = number(weight_decay, owner=name, name="weight_decay", low=0, example="1e-4")
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0

    def zero_grad(self) -> None:
        self.model.zero_grad()

    def step(self) -> None:
        """Apply one update to every parameter, in place."""
        self.steps += 1
        grads = self.model.grads
        for name, w in self.model.params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * w  # L2: g ← g + λw
            state = self.state.get(name)
            if state is None or any(s.shape != w.shape for s in state.values()):
                state = self.state[name] = self._init_state(w)
            self._update(w, g, state)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        """The arrays this optimiser keeps for one parameter, all zeros at the start."""
        return {}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Change ``w`` in place from its gradient ``g``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self._settings().items())
        return f"{type(self).__name__}(lr={self.lr}{extra})"

    def _settings(self) -> dict[str, float]:
        return {"weight_decay": self.weight_decay} if self.weight_decay else {}


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum.

    Plain: $w \leftarrow w - \eta\,g$. With momentum $\alpha$ (Kheradpisheh's lecture: "add a
    fraction of the last change"): $v \leftarrow \alpha v - \eta g$, $w \leftarrow w + v$. This equals
    ``torch.optim.SGD(momentum=α)`` (which stores $b = -v/\eta$) while η is constant.

    Honchar's lecture writes momentum with a friction $\mu$: $v \leftarrow (1-\mu) v - \eta \nabla L$;
    its "slippage coefficient" $1-\mu$ is the α above: pass ``friction=μ`` instead of ``momentum``.

    Example:
        >>> from nnlab.np_nn import Linear
        >>> model = Linear(3, 1, rng=0)
        >>> SGD(model, lr=0.1, momentum=0.9)
        SGD(lr=0.1, momentum=0.9)
        >>> SGD(model, lr=0.1, friction=0.1)             # the same setting, α = 1 − μ
        SGD(lr=0.1, momentum=0.9)
    """

    def __init__(
        self,
        model: Module,
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        *,
        friction: float | None = None,
    ) -> None:
        super().__init__(model, lr, weight_decay=weight_decay)
        self.momentum = sgd_momentum(momentum, friction)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"v": np.zeros_like(w)} if self.momentum else {}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if not self.momentum:
            w -= self.lr * g  # w ← w − ηg
            return
        state["v"] = self.momentum * state["v"] - self.lr * g  # v ← αv − ηg
        w += state["v"]  # w ← w + v

    def _settings(self) -> dict[str, float]:
        return ({"momentum": self.momentum} if self.momentum else {}) | super()._settings()


class Adagrad(Optimizer):
    r"""Per-weight step sizes that shrink with the sum of squared gradients.

    $$G \leftarrow G + g^2,\qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{G} + \epsilon}$$
    """

    def __init__(
        self, model: Module, lr: float = 0.01, eps: float = 1e-10, *, weight_decay: float = 0.0
    ) -> None:
        super().__init__(model, lr, weight_decay=weight_decay)
        self.eps = number(eps, owner="Adagrad", name="eps", low=0, example="1e-10")

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"G": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        state["G"] = state["G"] + g * g  # G ← G + g²
        w -= self.lr * g / (np.sqrt(state["G"]) + self.eps)  # w ← w − η g / (√G + ε)


class RMSProp(Optimizer):
    r"""Divide by a running average of squared gradients, so old gradients are forgotten.

    $$v \leftarrow \alpha v + (1-\alpha) g^2,\qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{v} + \epsilon}$$

    (``alpha`` as in ``torch.optim.RMSprop``; Keras calls it ``rho``.)
    """

    def __init__(
        self,
        model: Module,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay=weight_decay)
        self.alpha = number(
            alpha, owner="RMSProp", name="alpha", low=0, high=1, high_open=True, example="0.99"
        )
        self.eps = number(eps, owner="RMSProp", name="eps", low=0, example="1e-8")

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"v": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        state["v"] = self.alpha * state["v"] + (1 - self.alpha) * g * g  # v ← αv + (1 − α)g²
        w -= self.lr * g / (np.sqrt(state["v"]) + self.eps)  # w ← w − η g / (√v + ε)


class Adadelta(Optimizer):
    r"""Adagrad's successor with no global step size to tune (Zeiler, 2012).

    $$v \leftarrow \rho v + (1-\rho) g^2,\quad
      s = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g,\quad
      u \leftarrow \rho u + (1-\rho)s^2,\quad w \leftarrow w - \eta\,s$$

    Zeiler's method is ``lr=1.0`` (the default, as in ``torch.optim.Adadelta``).
    """

    def __init__(
        self,
        model: Module,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay=weight_decay)
        self.rho = number(rho, owner="Adadelta", name="rho", low=0, high=1, high_open=True, example="0.9")
        self.eps = number(eps, owner="Adadelta", name="eps", low=0, example="1e-6")

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"v": np.zeros_like(w), "u": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        state["v"] = self.rho * state["v"] + (1 - self.rho) * g * g  # v ← ρv + (1 − ρ)g²
        s = np.sqrt(state["u"] + self.eps) / np.sqrt(state["v"] + self.eps) * g  # s = √(u + ε) / √(v + ε) · g
        state["u"] = self.rho * state["u"] + (1 - self.rho) * s * s  # u ← ρu + (1 − ρ)s²
        w -= self.lr * s  # w ← w − ηs


class Adam(Optimizer):
    r"""Momentum on the gradient and RMSProp's scaling, with bias correction (Kingma and Ba, 2015).

    $$m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
      w \leftarrow w - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}$$
    """

    def __init__(
        self,
        model: Module,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(model, lr, weight_decay=weight_decay)
        self.betas = _betas(betas, owner="Adam")
        self.eps = number(eps, owner="Adam", name="eps", low=0, example="1e-8")

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        (b1, b2), t = self.betas, self.steps
        state["m"] = b1 * state["m"] + (1 - b1) * g  # m ← β₁m + (1 − β₁)g
        state["v"] = b2 * state["v"] + (1 - b2) * g * g  # v ← β₂v + (1 − β₂)g²
        m_hat = state["m"] / (1 - b1**t)  # m̂ = m / (1 − β₁ᵗ)
        v_hat = state["v"] / (1 - b2**t)  # v̂ = v / (1 − β₂ᵗ)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)  # w ← w − η m̂ / (√v̂ + ε)
