"""The ``Module`` every PyTorch layer builds on, and ``Sequential`` that chains them.

A module is a ``torch.nn.Module``: ``forward(x)`` computes the output and autograd records what the
backward pass needs, so there is no hand-written ``backward``. What the NumPy path calls ``params``
and ``grads`` are here too, under the same names (``"0.W"``, ``"0.b"``, ...), so one notebook cell
reads both paths.

The helpers below turn what arrives (a NumPy array, a list, a tensor on another device) into a
tensor on the module's device and in its dtype, with the NumPy path's sentences for wrong shapes.

Chapter: 3, backpropagation (the PyTorch twin).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .._checks import check_array, fail, format_shape, hint_text

__all__ = ["Module", "Sequential"]

DType = np.dtype | type | str | torch.dtype
_FLOATS = {
    np.dtype(np.float16): torch.float16,
    np.dtype(np.float32): torch.float32,
    np.dtype(np.float64): torch.float64,
}


class Module(torch.nn.Module):
    r"""Base class of every layer, activation and network in ``nnlab.torch_nn``.

    Subclasses implement ``forward(x)``; autograd provides the backward pass. After
    ``loss.backward()`` each parameter's gradient sits in its ``.grad``; ``grads`` collects them under
    the names ``params`` uses, as ``nnlab.np_nn`` does.

    Attributes:
        params: name -> ``torch.nn.Parameter``, i.e. ``dict(named_parameters())``.
        grads: name -> gradient tensor of the same shape (zeros before the first backward).
        training: True in training mode (``train()``), False after ``eval()``.

    Chapter: 3, backpropagation.
    """

    @property
    def params(self) -> dict[str, torch.nn.Parameter]:
        """The learnable tensors by name, the same names as ``nnlab.np_nn`` uses."""
        return dict(self.named_parameters())

    @property
    def grads(self) -> dict[str, torch.Tensor]:
        """The gradient of each parameter from the last backward pass (zeros where there is none yet)."""
        return {
            name: torch.zeros_like(p) if p.grad is None else p.grad for name, p in self.named_parameters()
        }

    @property
    def dtype(self) -> torch.dtype | None:
        """The dtype of the parameters, or None for a module without parameters."""
        p = next(self.parameters(), None)
        return None if p is None else p.dtype

    @property
    def device(self) -> torch.device | None:
        """The device the parameters live on, or None for a module without parameters."""
        p = next(self.parameters(), None)
        return None if p is None else p.device

    def astype(self, dtype: DType) -> Module:
        """Cast every parameter to ``dtype`` (a NumPy or torch float type); returns the module."""
        return self.to(torch_dtype(dtype, owner=type(self).__name__))

    def num_params(self) -> int:
        """How many learnable numbers the module holds."""
        return int(sum(p.numel() for p in self.parameters()))

    def _input(self, x: object, *, like: torch.Tensor | None = None, **shape_check) -> torch.Tensor:
        """``x`` as a tensor beside ``like`` (same device and dtype), shape-checked as the NumPy twin does."""
        return as_input(x, owner=type(self).__name__, like=like, **shape_check)


class Sequential(Module, torch.nn.Sequential):
    r"""Run modules one after another; autograd runs the backward pass in reverse.

    Parameters are named by position, as in ``nnlab.np_nn`` and PyTorch: ``"0.W"``, ``"0.b"``, ...
    It is a ``torch.nn.Sequential``, so it also holds plain ``torch.nn`` modules. A NumPy input is
    turned into a tensor on the parameters' device and in their dtype.

    Example:
        >>> from nnlab.torch_nn import Linear, Sigmoid
        >>> net = Sequential(Linear(2, 3), Sigmoid(), Linear(3, 1))
        >>> sorted(net.params)
        ['0.W', '0.b', '2.W', '2.b']

    Chapter: 3, backpropagation.
    """

    def __init__(self, *modules: torch.nn.Module) -> None:
        named = modules[0].values() if len(modules) == 1 and isinstance(modules[0], OrderedDict) else modules
        for i, m in enumerate(named):
            if not isinstance(m, torch.nn.Module):
                hint = "Pass layer objects such as Linear(2, 3), not classes or functions."
                if type(m).__module__.startswith("nnlab.np_nn"):
                    hint = f"Use nnlab.torch_nn.{type(m).__name__}, the PyTorch twin, here."
                raise fail(
                    "Sequential", f"expected torch modules; got {type(m).__name__} at position {i}.", hint
                )
        super().__init__(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor):
            x = self._input(x, like=next(self.parameters(), None))
        for m in self:
            x = m(x)
        return x


# -- dtypes, devices and inputs --------------------------------------------------------------------
def torch_dtype(dtype: DType, *, owner: str = "nnlab") -> torch.dtype:
    """The torch float dtype for ``dtype`` given as ``np.float64``, ``"float32"`` or ``torch.float64``."""
    if isinstance(dtype, torch.dtype):
        if dtype.is_floating_point:
            return dtype
    else:
        try:
            return _FLOATS[np.dtype(dtype)]
        except (TypeError, KeyError):
            pass
    raise fail(
        owner, f"expected dtype to be a float type such as np.float32 or torch.float64; got {dtype!r}."
    )


def numpy_dtype(dtype: DType, *, owner: str = "nnlab") -> np.dtype:
    """The NumPy dtype matching a torch (or NumPy) float dtype, for the NumPy initialisers."""
    wanted = torch_dtype(dtype, owner=owner)
    return next(np_type for np_type, t in _FLOATS.items() if t == wanted)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device``; None means ``nnlab.device()`` (CUDA, then MPS, then CPU)."""
    if device is None:
        from .._device import device as default_device

        return default_device()
    return torch.device(device)


def parameter(
    values: np.ndarray, device: str | torch.device | None, *, owner: str = "nnlab"
) -> torch.nn.Parameter:
    """A ``Parameter`` holding a copy of ``values`` (drawn by a NumPy initialiser) on ``device``."""
    device = resolve_device(device)
    if device.type == "mps" and values.dtype == np.float64:
        raise fail(owner, "got dtype float64 on Apple's MPS, which computes in float32 at most.",
                   "Use dtype=np.float32, or NNLAB_DEVICE=cpu for float64.")  # fmt: skip
    return torch.nn.Parameter(torch.tensor(values, device=device))  # a copy in PyTorch's own memory


def as_input(
    x: object,
    *,
    owner: str,
    like: torch.Tensor | None = None,
    name: str = "x",
    shape: Sequence[int | str] | None = None,
    hint: str | Callable[[tuple[int, ...]], str | None] | None = None,
    finite: bool = True,
) -> torch.Tensor:
    r"""Return ``x`` as a float tensor on ``like``'s device and in its dtype, or raise one clear sentence.

    A tensor is moved or cast only when it has to be. Anything else goes through the NumPy path's
    ``check_array`` (numbers only, finite), then onto ``like``'s device, or ``nnlab.device()`` for a
    module without parameters. ``shape`` works as in ``check_array``: ``("N", 784)``. ``hint`` may
    be a function of the shape received, called only when there is a mistake to explain.
    ``finite=False`` skips the NaN check of an array (``fit`` checks its data on the device instead).
    """
    if isinstance(x, torch.Tensor):
        if like is not None:
            if x.dtype != like.dtype or x.device != like.device:
                x = x.to(device=like.device, dtype=like.dtype)
        elif not x.is_floating_point():
            x = x.to(torch.float32)
    else:
        np_type = None if like is None else numpy_dtype(like.dtype)
        arr = check_array(x, owner=owner, name=name, dtype=np_type, hint=hint, finite=finite)
        if not arr.flags.writeable or not arr.dtype.isnative:
            arr = np.array(arr, dtype=arr.dtype.newbyteorder("="))
        x = torch.from_numpy(arr).to(like.device if like is not None else resolve_device(None))
    if shape is not None and not _shape_matches(x.shape, shape):
        got = tuple(x.shape)
        raise fail(
            owner,
            f"expected {name} of shape {format_shape(shape)}; got {format_shape(got)}.",
            hint_text(hint, got),
        )
    return x


def _shape_matches(got: Sequence[int], want: Sequence[int | str]) -> bool:
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):  # a plain loop: this runs at every layer of every step
        if g != w and not isinstance(w, str):
            return False
    return True
