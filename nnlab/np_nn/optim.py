r"""Optimisers that update a model's ``params`` in place from its ``grads``.

Each optimiser walks the model's matching ``params``/``grads`` pairs at every ``step()`` and keeps
its own state (velocities, running averages) under the same names. Updates are written into the
existing arrays, never into new ones: allocating a fresh weight array every step made float64
training several times slower here.

Hyperparameters mean what they mean in ``torch.optim``, so the PyTorch path gives the same numbers.
Every optimiser takes ``weight_decay`` (L2: adds $\lambda w$ to the gradient) and ``l1`` (adds
$\lambda_1 \operatorname{sign}(w)$).

Chapter: 2, gradient descent; 6, regularisation.
"""

from __future__ import annotations

import numpy as np

from .._checks import fail
from .module import Module

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Optimizer", "RMSProp"]


class Optimizer:
    """Base class: ``step()`` updates every parameter in place; ``zero_grad()`` clears the gradients."""

    def __init__(self, model: Module, lr: float, *, weight_decay: float = 0.0, l1: float = 0.0) -> None:
        name = type(self).__name__
        if not hasattr(model, "params") or not hasattr(model, "grads"):
            raise fail(
                name,
                f"expected a model with params and grads; got {type(model).__name__}.",
                "Pass the network itself: SGD(model, lr=0.1).",
            )
        if not model.params:
            raise fail(name, "got a model with no parameters to optimise.")
        for label, value in (("lr", lr), ("weight_decay", weight_decay), ("l1", l1)):
            if not isinstance(value, (int, float, np.floating)) or value < 0 or not np.isfinite(value):
                raise fail(name, f"expected {label} to be a non-negative number; got {value!r}.")
        self.model = model
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.l1 = float(l1)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0

    def zero_grad(self) -> None:
        self.model.zero_grad()

    def step(self) -> None:
        """Apply one update to every parameter, in place."""
        self.steps += 1
        grads = self.model.grads
        for name, p in self.model.params.items():
            state = self.state.get(name)
            if state is None or state["buf"].shape != p.shape or state["buf"].dtype != p.dtype:
                state = self.state[name] = self._init_state(p)
            self._update(p, self._effective_grad(p, grads[name], state), state)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return {"buf": np.empty_like(p), "g": np.empty_like(p)}

    def _effective_grad(self, p: np.ndarray, g: np.ndarray, state: dict) -> np.ndarray:
        """The gradient plus the regularisers' terms: g + weight_decay·w + l1·sign(w)."""
        if not self.weight_decay and not self.l1:
            return g
        out = state["g"]
        np.copyto(out, g)
        if self.weight_decay:
            out += self.weight_decay * p
        if self.l1:
            out += self.l1 * np.sign(p)
        return out

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self._settings().items())
        return f"{type(self).__name__}(lr={self.lr}{extra})"

    def _settings(self) -> dict[str, float]:
        out = {}
        if self.weight_decay:
            out["weight_decay"] = self.weight_decay
        if self.l1:
            out["l1"] = self.l1
        return out


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum.

    Plain: $w \leftarrow w - \eta\,g$. With momentum $\alpha$ (the classical form, "add a fraction
    of the last change"): $v \leftarrow \alpha v - \eta g$, $w \leftarrow w + v$. This equals
    ``torch.optim.SGD(momentum=α)`` (which stores $b = -v/\eta$) while η is constant.

    The seeds also write momentum with a friction $\mu$: $v \leftarrow (1-\mu) v - \lambda \nabla C$,
    the "slippage coefficient" $1-\mu$ is the α above: pass ``friction=μ`` instead of ``momentum``.

    Example:
        >>> opt = SGD(model, lr=0.1, momentum=0.9)       # or SGD(model, lr=0.1, friction=0.1)
    """

    def __init__(
        self,
        model: Module,
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        l1: float = 0.0,
        *,
        friction: float | None = None,
    ) -> None:
        super().__init__(model, lr, weight_decay=weight_decay, l1=l1)
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

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        state = super()._init_state(p)
        if self.momentum:
            state["v"] = np.zeros_like(p)
        return state

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        if self.momentum:
            v = state["v"]
            v *= self.momentum
            np.multiply(g, self.lr, out=state["buf"])
            v -= state["buf"]
            p += v
        else:
            np.multiply(g, self.lr, out=state["buf"])
            p -= state["buf"]

    def _settings(self) -> dict[str, float]:
        return ({"momentum": self.momentum} if self.momentum else {}) | super()._settings()


class Adagrad(Optimizer):
    r"""Per-weight step sizes that shrink with the sum of squared gradients.

    $$G \leftarrow G + g^2,\qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{G} + \epsilon}$$
    """

    def __init__(self, model: Module, lr: float = 0.01, eps: float = 1e-10, **regularisers: float) -> None:
        super().__init__(model, lr, **regularisers)
        self.eps = float(eps)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return super()._init_state(p) | {"G": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        G, buf = state["G"], state["buf"]
        G += g * g
        np.sqrt(G, out=buf)
        buf += self.eps
        np.divide(g, buf, out=buf)
        buf *= self.lr
        p -= buf


class RMSProp(Optimizer):
    r"""Divide by a running average of squared gradients, so old gradients are forgotten.

    $$v \leftarrow \alpha v + (1-\alpha) g^2,\qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{v} + \epsilon}$$

    (``alpha`` as in ``torch.optim.RMSprop``; Keras calls it ``rho``.)
    """

    def __init__(
        self, model: Module, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, **regularisers: float
    ) -> None:
        super().__init__(model, lr, **regularisers)
        self.alpha, self.eps = float(alpha), float(eps)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return super()._init_state(p) | {"v": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        v, buf = state["v"], state["buf"]
        v *= self.alpha
        v += (1.0 - self.alpha) * (g * g)
        np.sqrt(v, out=buf)
        buf += self.eps
        np.divide(g, buf, out=buf)
        buf *= self.lr
        p -= buf


class Adadelta(Optimizer):
    r"""Adagrad's successor with no global step size to tune (Zeiler, 2012).

    $$v \leftarrow \rho v + (1-\rho) g^2,\quad
      \Delta = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g,\quad
      u \leftarrow \rho u + (1-\rho)\Delta^2,\quad w \leftarrow w - \eta\,\Delta$$

    Zeiler's method is ``lr=1.0`` (the default, as in ``torch.optim.Adadelta``).
    """

    def __init__(
        self, model: Module, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, **regularisers: float
    ) -> None:
        super().__init__(model, lr, **regularisers)
        self.rho, self.eps = float(rho), float(eps)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return super()._init_state(p) | {"v": np.zeros_like(p), "u": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        v, u, delta = state["v"], state["u"], state["buf"]
        v *= self.rho
        v += (1.0 - self.rho) * (g * g)
        np.divide(np.sqrt(u + self.eps), np.sqrt(v + self.eps), out=delta)
        delta *= g
        u *= self.rho
        u += (1.0 - self.rho) * (delta * delta)
        delta *= self.lr
        p -= delta


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
        **regularisers: float,
    ) -> None:
        super().__init__(model, lr, **regularisers)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)

    def _init_state(self, p: np.ndarray) -> dict[str, np.ndarray]:
        return super()._init_state(p) | {"m": np.zeros_like(p), "v": np.zeros_like(p)}

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        b1, b2 = self.betas
        m, v, buf = state["m"], state["v"], state["buf"]
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        t = self.steps
        np.sqrt(v, out=buf)
        buf /= np.sqrt(1.0 - b2**t)
        buf += self.eps
        np.divide(m, buf, out=buf)
        buf *= self.lr / (1.0 - b1**t)
        p -= buf
