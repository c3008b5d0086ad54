r"""Optimisers with the NumPy path's names and hyperparameters: thin subclasses of ``torch.optim``.

Each class is its ``torch.optim`` namesake, taking a model (a ``torch.nn.Module``) as
``nnlab.np_nn.optim`` does, so it works with PyTorch's learning-rate schedulers and ``state_dict``.
The update is PyTorch's own; the NumPy path writes the same equations by hand, and the tests run
five steps of each on both paths and compare the weights.

What differs, and why it does not change the numbers:

- SGD's momentum: NumPy keeps the velocity $v \leftarrow \alpha v - \eta g$; PyTorch keeps
  $b \leftarrow \alpha b + g$ and steps $w \leftarrow w - \eta b$, i.e. $b = -v/\eta$. Same
  weights while η is constant; if you change ``lr`` mid-training, PyTorch rescales the past
  velocity by the new η, NumPy does not.
- ``RMSProp`` is ``torch.optim.RMSprop`` (its ``alpha`` is Keras's ``rho``); ``Adagrad`` has no
  ``lr_decay`` here. PyTorch's extra options (Nesterov, AMSGrad, ...) stay at their defaults.
- ``state`` is keyed by parameter tensor, not by name, and ``zero_grad()`` sets gradients to None
  (PyTorch's default); the model's ``grads`` shows them as zeros.

``weight_decay`` is L2 (adds $\lambda w$ to the gradient). L1 is a term of the loss instead:
``nnlab.torch_nn.L1Penalty``.

Chapter: 2, gradient descent.
"""

from __future__ import annotations

import torch

from .._checks import fail
from .._numbers import betas as _betas
from .._numbers import number, sgd_momentum

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "Optimizer", "RMSProp"]


def _setting(name: str, doc: str) -> property:
    """A hyperparameter read from (and written to) every parameter group, like the NumPy attributes."""

    def get(self: torch.optim.Optimizer) -> float:
        return self.param_groups[0][name]

    def set(self: torch.optim.Optimizer, value: float) -> None:
        for group in self.param_groups:
            group[name] = value

    return property(get, set, doc=doc)


class Optimizer(torch.optim.Optimizer):
    """Base class: the checks every optimiser here makes, and the NumPy path's ``model``, ``steps`` and repr.

    ``step()`` updates every parameter in place; ``zero_grad()`` clears the gradients; ``lr`` and
    the other hyperparameters are attributes you can change between steps.
    """

    lr = _setting("lr", "The learning rate η.")
    weight_decay = _setting("weight_decay", "L2 strength λ: adds λw to the gradient.")

    def __init__(self, model: torch.nn.Module, lr: float, *, weight_decay: float = 0.0, **settings) -> None:
        name = type(self).__name__
        if not isinstance(model, torch.nn.Module):
            hint = "Pass the network itself: SGD(model, lr=0.1)."
            if hasattr(model, "params") and hasattr(model, "grads"):
                hint = f"This is a NumPy model; use nnlab.np_nn.optim.{name} for it."
            raise fail(name, f"expected a torch model (a torch.nn.Module); got {type(model).__name__}.", hint)
        params = list(model.parameters())
        if not params:
            raise fail(name, "got a model with no parameters to optimise.")
        lr = number(lr, owner=name, name="lr", low=0, example="0.1")
        weight_decay = number(weight_decay, owner=name, name="weight_decay", low=0, example="1e-4")
        self.model = model
        self.steps = 0
        super().__init__(params, lr=lr, weight_decay=weight_decay, **settings)

    def step(self, closure=None):
        """One update of every parameter (PyTorch's own), counted in ``steps`` as on the NumPy path."""
        loss = super().step(closure)
        self.steps += 1
        return loss

    def __getstate__(self) -> dict:
        return super().__getstate__() | {"model": self.model, "steps": self.steps}

    def __setstate__(self, state: dict) -> None:
        """Used by copy.deepcopy and pickle (which would otherwise drop ``model`` and ``steps``) and by load_state_dict."""
        state = dict(state)
        for key in ("model", "steps"):
            if key in state:
                setattr(self, key, state.pop(key))
        super().__setstate__(state)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self._settings().items())
        return f"{type(self).__name__}(lr={self.lr}{extra})"

    def _settings(self) -> dict[str, float]:
        return {"weight_decay": self.weight_decay} if self.weight_decay else {}


class SGD(Optimizer, torch.optim.SGD):
    r"""Stochastic gradient descent, with optional momentum.

    Plain: $w \leftarrow w - \eta\,g$. With momentum $\alpha$: $v \leftarrow \alpha v - \eta g$,
    $w \leftarrow w + v$, computed as PyTorch does with $b = -v/\eta$:
    $b \leftarrow \alpha b + g$, $w \leftarrow w - \eta b$ (the same while η is constant).

    ``friction=μ`` is Honchar's way to write momentum: α = 1 - μ.

    Example:
        >>> from nnlab.torch_nn import Linear
        >>> model = Linear(3, 1, rng=0)
        >>> SGD(model, lr=0.1, momentum=0.9)
        SGD(lr=0.1, momentum=0.9)
        >>> SGD(model, lr=0.1, friction=0.1)             # the same setting, α = 1 − μ
        SGD(lr=0.1, momentum=0.9)
    """

    momentum = _setting("momentum", "The fraction α of the last change kept in the next one.")

    def __init__(
        self,
        model: torch.nn.Module,
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        *,
        friction: float | None = None,
    ) -> None:
        momentum = sgd_momentum(momentum, friction)
        super().__init__(model, lr, weight_decay=weight_decay, momentum=momentum)

    def _settings(self) -> dict[str, float]:
        return ({"momentum": self.momentum} if self.momentum else {}) | super()._settings()


class Adagrad(Optimizer, torch.optim.Adagrad):
    r"""Per-weight step sizes that shrink with the sum of squared gradients.

    $$G \leftarrow G + g^2,\qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{G} + \epsilon}$$
    """

    eps = _setting("eps", "ε, added to the denominator.")

    def __init__(
        self,
        model: torch.nn.Module,
        lr: float = 0.01,
        eps: float = 1e-10,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        eps = number(eps, owner="Adagrad", name="eps", low=0, example="1e-10")
        super().__init__(model, lr, weight_decay=weight_decay, eps=eps)


class RMSProp(Optimizer, torch.optim.RMSprop):
    r"""Divide by a running average of squared gradients, so old gradients are forgotten.

    $$v \leftarrow \alpha v + (1-\alpha) g^2,\qquad w \leftarrow w - \eta\, \frac{g}{\sqrt{v} + \epsilon}$$

    (``torch.optim.RMSprop`` underneath, with its ``alpha``; Keras calls it ``rho``.)
    """

    alpha = _setting("alpha", "The decay α of the running average of g².")
    eps = _setting("eps", "ε, added to the denominator.")

    def __init__(
        self,
        model: torch.nn.Module,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        alpha = number(alpha, owner="RMSProp", name="alpha", low=0, high=1, high_open=True, example="0.99")
        eps = number(eps, owner="RMSProp", name="eps", low=0, example="1e-8")
        super().__init__(model, lr, weight_decay=weight_decay, alpha=alpha, eps=eps)


class Adadelta(Optimizer, torch.optim.Adadelta):
    r"""Adagrad's successor with no global step size to tune (Zeiler, 2012).

    $$v \leftarrow \rho v + (1-\rho) g^2,\quad
      s = \frac{\sqrt{u + \epsilon}}{\sqrt{v + \epsilon}}\, g,\quad
      u \leftarrow \rho u + (1-\rho)s^2,\quad w \leftarrow w - \eta\,s$$

    Zeiler's method is ``lr=1.0`` (the default here, in NumPy and in ``torch.optim.Adadelta``).
    """

    rho = _setting("rho", "The decay ρ of both running averages.")
    eps = _setting("eps", "ε, inside both square roots.")

    def __init__(
        self,
        model: torch.nn.Module,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        rho = number(rho, owner="Adadelta", name="rho", low=0, high=1, high_open=True, example="0.9")
        eps = number(eps, owner="Adadelta", name="eps", low=0, example="1e-6")
        super().__init__(model, lr, weight_decay=weight_decay, rho=rho, eps=eps)


class Adam(Optimizer, torch.optim.Adam):
    r"""Momentum on the gradient and RMSProp's scaling, with bias correction (Kingma and Ba, 2015).

    $$m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
      w \leftarrow w - \eta\,\frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}$$

    ``weight_decay`` adds λw to the gradient (L2, as ``torch.optim.Adam``), not AdamW's decoupled decay.
    """

    betas = _setting("betas", "(β₁, β₂), the decays of m and v.")
    eps = _setting("eps", "ε, added to the denominator.")

    def __init__(
        self,
        model: torch.nn.Module,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        betas = _betas(betas, owner="Adam")
        eps = number(eps, owner="Adam", name="eps", low=0, example="1e-8")
        super().__init__(model, lr, weight_decay=weight_decay, betas=betas, eps=eps)
