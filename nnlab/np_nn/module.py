"""The ``Module`` contract every NumPy layer follows, and ``Sequential`` that chains them.

A module computes ``forward(x)``, keeps exactly what its backward pass needs, and ``backward(dout)``
returns the gradient with respect to its input while writing the gradients of its parameters into
``grads``. ``params`` and ``grads`` share their keys, so an optimiser walks matching pairs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .._checks import check_array, fail

__all__ = ["Module", "Sequential"]


class Module:
    r"""Base class of every layer, activation and network in ``nnlab.np_nn``.

    Subclasses implement ``forward(x)`` and ``backward(dout) -> dx``. ``backward`` overwrites
    ``grads`` with the gradients of the last ``forward`` (it does not accumulate), so one
    ``forward``/``backward`` pair gives the gradients of one minibatch.

    Attributes:
        params: name -> ndarray of learnable values, updated in place by the optimisers.
        grads: name -> ndarray of the same shape, filled by ``backward``.
        training: True in training mode (``train()``), False after ``eval()``.

    Chapter: 3, backpropagation.
    """

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.training = True

    # -- the two passes -------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement backward(dout)")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    # -- modes and parameters -------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Switch to training mode (dropout active); returns the module."""
        self.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (dropout off); returns the module."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set every gradient to zero, in place."""
        for g in self.grads.values():
            g.fill(0)

    def astype(self, dtype: np.dtype | type) -> Module:
        """Cast every parameter (and gradient) to ``dtype`` in place of the old arrays; returns the module."""
        for name in list(self.params):
            self.params[name] = self.params[name].astype(dtype)
            self.grads[name] = np.zeros_like(self.params[name])
        return self

    @property
    def dtype(self) -> np.dtype | None:
        """The dtype of the parameters, or None for a module without parameters."""
        for p in self.params.values():
            return p.dtype
        return None

    def num_params(self) -> int:
        """How many learnable numbers the module holds."""
        return int(sum(p.size for p in self.params.values()))

    # -- helpers for subclasses -----------------------------------------------------------------
    def _add_param(self, name: str, value: np.ndarray) -> None:
        self.params[name] = value
        self.grads[name] = np.zeros_like(value)

    def _input(self, x: object, **kwargs) -> np.ndarray:
        """Check ``x`` as this module's input (shape, finiteness), casting to the parameters' dtype."""
        kwargs.setdefault("dtype", self.dtype)
        return check_array(x, owner=type(self).__name__, **kwargs)

    def _cached(self, value: object) -> object:
        """``value``, what forward kept for backward; a sentence when it is None (backward before forward)."""
        if value is None:
            raise fail(
                type(self).__name__,
                "backward was called before forward.",
                "Run forward(x) (or call the module) first, so it can remember what backward needs.",
            )
        return value

    def _dout(
        self, dout: object, expected_shape: tuple[int, ...], dtype: np.dtype | None = None
    ) -> np.ndarray:
        """``dout`` as an array of the last output's shape, cast to ``dtype``; a sentence when the shape differs."""
        dout_arr = np.asarray(dout, dtype=dtype)
        if dout_arr.shape != tuple(expected_shape):
            raise fail(
                type(self).__name__,
                f"backward expected dout of shape {tuple(expected_shape)} (the shape of its last output);"
                f" got {dout_arr.shape}.",
            )
        return dout_arr

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def __getattr__(self, name: str) -> object:
        """Called only for a missing attribute: PyTorch's names get a sentence that points to ours."""
        if name in _TORCH_NAMES:
            raise AttributeError(
                f"{type(self).__name__} (a NumPy model) has no {name}(): that is PyTorch's. Here the learnable"
                " arrays are net.params (name -> array) and their gradients net.grads. For a PyTorch model"
                " with the same weights use nnlab.bridge.twin(net)."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


# What a PyTorch user reaches for first; on a NumPy model each one explains where to look instead.
_TORCH_NAMES = frozenset(
    {
        "parameters",
        "named_parameters",
        "state_dict",
        "load_state_dict",
        "to",
        "cuda",
        "cpu",
        "double",
        "float",
    }
)


class Sequential(Module):
    r"""Run modules one after another: forward in order, backward in reverse.

    Parameters are named by position, as in PyTorch: ``"0.W"``, ``"0.b"``, ``"2.W"``, ...

    Example:
        >>> from nnlab.np_nn import Linear, Sigmoid
        >>> net = Sequential(Linear(2, 3), Sigmoid(), Linear(3, 1))
        >>> sorted(net.params)
        ['0.W', '0.b', '2.W', '2.b']

    Chapter: 3, backpropagation.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise fail(
                    "Sequential",
                    f"expected nnlab.np_nn modules; got {type(m).__name__} at position {i}.",
                    "Pass layer objects such as Linear(2, 3), not classes or functions.",
                )
        self.modules = list(modules)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for m in self.modules:
            x = m.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        r"""Backpropagate ``dout`` through every module, last first; return the gradient for the input.

        $$\delta^{(l-1)} = \mathrm{backward}_l(\delta^{(l)})$$
        """
        for m in reversed(self.modules):
            dout = m.backward(dout)
        return dout

    @property
    def params(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return {f"{i}.{k}": v for i, m in enumerate(self.modules) for k, v in m.params.items()}

    @params.setter
    def params(self, value: dict) -> None:  # Module.__init__ assigns an empty dict
        if value:
            raise AttributeError("Sequential.params is built from its modules; set a module's params instead")

    @property
    def grads(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return {f"{i}.{k}": v for i, m in enumerate(self.modules) for k, v in m.grads.items()}

    @grads.setter
    def grads(self, value: dict) -> None:
        if value:
            raise AttributeError("Sequential.grads is built from its modules")

    def train(self, mode: bool = True) -> Sequential:
        self.training = bool(mode)
        for m in self.modules:
            m.train(mode)
        return self

    def zero_grad(self) -> None:
        for m in self.modules:
            m.zero_grad()

    def astype(self, dtype: np.dtype | type) -> Sequential:
        for m in self.modules:
            m.astype(dtype)
        return self

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def __len__(self) -> int:
        return len(self.modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def __repr__(self) -> str:
        lines = [f"  ({i}): {m!r}" for i, m in enumerate(self.modules)]
        return "Sequential(\n" + "\n".join(lines) + "\n)"
