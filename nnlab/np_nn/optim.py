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
from .module import Module

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Optimizer", "RMSProp"]


class Optimizer:
    """Base class: ``step()`` updates every parameter in place; ``zero_grad()`` clears the gradients."""

    def __init__(self, model: Module, lr: float, *, weight_decay: float = 0.0) -> None:
        name = type(self).__name__
        if not hasattr(model, "params") or not hasattr(model, "grads"):
            hint = "Pass the network itself: SGD(model, lr=0.1)."
            if hasattr(model, "named_parameters"):
                hint = f"This is a PyTorch model; use nnlab.torch_nn.optim.{name} for it."
            raise fail(name, f"expected a model with params and grads; got {type(model).__name__}.", hint)
        if not model.params:
            raise fail(name, "got a model with no parameters to optimise.")
        for label, value in (("lr", lr), ("weight_decay", weight_decay)):
            if not isinstance(value, (int, float, np.floating)) or value < 0 or not np.isfinite(value):
                raise fail(name, f"expected {label} to be a non-negative number; got {value!r}.")
        self.model = model
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
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
            if state is None or any(s.shape != w.shape or s.dtype != w.dtype for s in state.values()):
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

    Honchar's lecture writes momentum with a friction $\mu$: $v \leftarrow (1-\mu) v - \lambda \nabla C$;
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
        if friction is not None:
            if momentum:
                raise fail(
                    "SGD",
                    "got both momentum and friction; they are two names for one setting.",
                    "Use momentum=α, or friction=μ with α = 1 - μ.",
                )
            if not 0.0 <= friction <= 1.0:
                raise fail("SGD", f"expected friction in [0, 1]; got {friction!r}.")
            momentum = 1.0 - friction
        if not 0.0 <= momentum < 1.0:
            raise fail("SGD", f"expected momentum in [0, 1); got {momentum!r}.")
        self.momentum = float(momentum)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"v": np.zeros_like(w)} if self.momentum else {}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        if not self.momentum:
            w -= self.lr * g  # w ← w − ηg
            return
        v = state["v"]
        v[...] = self.momentum * v - self.lr * g  # v ← αv − ηg
        w += v  # w ← w + v

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
        self.eps = float(eps)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"G": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        G = state["G"]
        G += g * g  # G ← G + g²
        w -= self.lr * g / (np.sqrt(G) + self.eps)  # w ← w − η g / (√G + ε)


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
        self.alpha, self.eps = float(alpha), float(eps)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"v": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        v = state["v"]
        v[...] = self.alpha * v + (1 - self.alpha) * g * g  # v ← αv + (1 − α)g²
        w -= self.lr * g / (np.sqrt(v) + self.eps)  # w ← w − η g / (√v + ε)


class Adadelta(Optimizer):
    r"""Adagrad's successor with no global step size to tune (Zeiler, 2012).

    $$v \leftarrow \rho v + (1-\rho) g^2,\quad
      \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g,\quad
      u \leftarrow \rho u + (1-\rho)\Delta^2,\quad w \leftarrow w - \eta\,\Delta$$

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
        self.rho, self.eps = float(rho), float(eps)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"v": np.zeros_like(w), "u": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        v, u = state["v"], state["u"]
        v[...] = self.rho * v + (1 - self.rho) * g * g  # v ← ρv + (1 − ρ)g²
        delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g  # Δ = √(u + ε) / √(v + ε) · g
        u[...] = self.rho * u + (1 - self.rho) * delta * delta  # u ← ρu + (1 − ρ)Δ²
        w -= self.lr * delta  # w ← w − ηΔ


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
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)

    def _init_state(self, w: np.ndarray) -> dict[str, np.ndarray]:
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        (b1, b2), t = self.betas, self.steps
        m, v = state["m"], state["v"]
        m[...] = b1 * m + (1 - b1) * g  # m ← β₁m + (1 − β₁)g
        v[...] = b2 * v + (1 - b2) * g * g  # v ← β₂v + (1 − β₂)g²
        m_hat = m / (1 - b1**t)  # m̂ = m / (1 − β₁ᵗ)
        v_hat = v / (1 - b2**t)  # v̂ = v / (1 − β₂ᵗ)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)  # w ← w − η m̂ / (√v̂ + ε)
