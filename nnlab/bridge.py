r"""Between the two paths: copy weights from a NumPy model to its PyTorch twin and back, and prove they agree.

``compare`` runs the same input through both models and the same upstream gradient back through
both, and reports the largest difference of the outputs, of the gradient for the input and of
every parameter's gradient: the notebook cell that says "your backprop = autograd".

Example:
    >>> net = np_nn.Sequential(np_nn.Linear(4, 3, rng=0, dtype=np.float64), np_nn.Tanh())
    >>> result = compare(net, twin(net), np.random.default_rng(0).normal(size=(5, 4)))
    >>> print(result)                                            # doctest: +ELLIPSIS
             max |NumPy - PyTorch|
    output   ...
    dL/dx    ...
    dL/d0.W  ...
    dL/d0.b  ...
    The two paths agree within 1e-10 (float64).

Chapter: 3, backpropagation (the PyTorch twin).
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import dataclass, field

import numpy as np

try:
    import torch
except ImportError as exc:
    raise ImportError('nnlab.bridge needs PyTorch: pip install "nnlab[torch]"') from exc

from . import np_nn, torch_nn
from ._checks import fail
from .torch_nn.module import numpy_dtype, resolve_device, torch_dtype

__all__ = ["Comparison", "compare", "copy_weights", "twin"]


def _parameters(model: object, owner: str) -> tuple[str, dict[str, np.ndarray | torch.Tensor]]:
    """Which path ``model`` belongs to, and its parameters by name."""
    if isinstance(model, torch.nn.Module):
        return "PyTorch", dict(model.named_parameters())
    if isinstance(model, np_nn.Module):
        return "NumPy", model.params
    raise fail(owner, f"expected an nnlab.np_nn or a torch model; got {type(model).__name__}.")


def copy_weights(src: object, dst: object) -> object:
    """Copy every parameter of ``src`` into ``dst``, NumPy to PyTorch or back; returns ``dst``.

    The two models must have the same parameter names (``"0.W"``, ``"0.b"``, ...) in the same order
    and the same shapes; the first mismatch is named in a sentence. Values are cast to ``dst``'s
    dtype and device.
    """
    src_kind, src_params = _parameters(src, "copy_weights")
    dst_kind, dst_params = _parameters(dst, "copy_weights")
    src_kind, dst_kind = f"the {src_kind} model (src)", f"the {dst_kind} model (dst)"
    for a, b in itertools.zip_longest(src_params, dst_params):
        if a != b:
            raise fail(
                "copy_weights",
                f"expected the same parameter names in both models;"
                f" {_has(src_kind, a)} where {_has(dst_kind, b)}.",
                "Build both with the same layers in the same order.",
            )
        if tuple(src_params[a].shape) != tuple(dst_params[b].shape):
            raise fail(
                "copy_weights",
                f"expected parameter {a!r} to have the same shape in both models;"
                f" {src_kind} has {tuple(src_params[a].shape)}, {dst_kind} {tuple(dst_params[b].shape)}.",
            )
    for name, value in src_params.items():
        target = dst_params[name]
        if isinstance(target, torch.Tensor):
            with torch.no_grad():
                target.copy_(
                    value.detach() if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))
                )
        else:
            target[...] = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value
    return dst


def _has(kind: str, name: str | None) -> str:
    return f"{kind} has {name!r}" if name is not None else f"{kind} has no more parameters"


@dataclass
class Comparison:
    """The largest absolute difference between the two paths, for the output and every gradient."""

    output: float
    input_grad: float
    grads: dict[str, float] = field(default_factory=dict)
    dtype: str = "float64"

    @property
    def max_difference(self) -> float:
        return max([self.output, self.input_grad, *self.grads.values()])

    def tolerance(self) -> float:
        """The default bound: 1e-10 in float64, 1e-5 in float32 (what the test suite asserts)."""
        return 1e-10 if self.dtype == "float64" else 1e-5

    def passed(self, tol: float | None = None) -> bool:
        """True when every difference is below ``tol`` (default: ``tolerance()`` for the dtype)."""
        return self.max_difference < (self.tolerance() if tol is None else tol)

    def __str__(self) -> str:
        rows = [("output", self.output), ("dL/dx", self.input_grad)]
        rows += [(f"dL/d{name}", value) for name, value in self.grads.items()]
        width = max(len(name) for name, _ in rows) + 2
        lines = [f"{'':<{width}}max |NumPy - PyTorch|"] + [
            f"{name:<{width}}{value:.2e}" for name, value in rows
        ]
        verdict = "agree" if self.passed() else "DIFFER"
        lines.append(f"The two paths {verdict} within {self.tolerance():.0e} ({self.dtype}).")
        return "\n".join(lines)


def compare(
    np_model: np_nn.Module,
    torch_model: torch.nn.Module,
    x: np.ndarray,
    *,
    dout: np.ndarray | None = None,
    rng: np.random.Generator | int | None = 0,
) -> Comparison:
    r"""Run ``x`` forward through both models and the same upstream gradient back; report the differences.

    $$\Delta = \max \left| \mathrm{NumPy} - \mathrm{PyTorch} \right|$$
    for the output, $\partial L / \partial x$ and every $\partial L / \partial \theta$, where
    $L = \sum \mathrm{out} \odot \mathrm{dout}$ and ``dout`` is drawn from ``rng`` unless given.
    Copy the weights first (``copy_weights`` or ``twin``); a Dropout in training mode is refused,
    since the two paths draw different masks.

    Shapes: x (N, ...) as the models take it; dout the shape of the output.
    """
    for kind, model in (("NumPy", np_model), ("PyTorch", torch_model)):
        _parameters(model, "compare")
        if any(type(m).__name__ == "Dropout" and m.training and m.p > 0 for m in _modules(model)):
            raise fail(
                "compare",
                f"got a Dropout in training mode in the {kind} model: the two paths draw different masks.",
                "Call eval() on both models (or use p=0) before comparing.",
            )
    x = np.asarray(x)
    out = np_model.forward(x)
    if dout is None:
        dout = np.random.default_rng(rng).normal(size=np.shape(out))
    dout = np.asarray(dout, dtype=out.dtype)
    dx = np_model.backward(dout)

    like = next(torch_model.parameters(), None)
    dtype = like.dtype if like is not None else torch_dtype(out.dtype)
    xt = torch.tensor(x, dtype=dtype, device=like.device if like is not None else resolve_device(None))
    xt.requires_grad_(True)
    for p in torch_model.parameters():
        p.grad = None
    out_t = torch_model(xt)
    out_t.backward(torch.as_tensor(dout).to(device=out_t.device, dtype=out_t.dtype))

    grads = dict(np_model.grads)
    torch_grads = {k: p.grad for k, p in torch_model.named_parameters()}
    if list(grads) != list(torch_grads):
        raise fail(
            "compare",
            f"expected the same parameters in both models; got {list(grads)} and {list(torch_grads)}.",
            "Build the PyTorch model with twin(np_model).",
        )
    precision = "float64" if out.dtype == np.float64 and dtype == torch.float64 else "float32"
    return Comparison(
        output=_difference(out, out_t),
        input_grad=_difference(dx, xt.grad),
        grads={k: _difference(g, torch_grads[k]) for k, g in grads.items()},
        dtype=precision,
    )


def twin(model: object, *, device: str | torch.device | None = None) -> object:
    """Build the other path's twin of ``model`` (NumPy -> PyTorch or back) with the same weights.

    Knows the layers, activations and losses of both paths and ``Sequential`` of them; anything
    else is refused with a sentence (build that twin by hand and use ``copy_weights``). The twin has
    the same dtype and mode (train or eval); a PyTorch twin lives on ``device`` (None:
    ``nnlab.device()``).
    """
    to_torch = isinstance(model, np_nn.Module) or isinstance(model, np_nn.Loss)
    if not to_torch and not isinstance(model, torch.nn.Module):
        raise fail("twin", f"expected an nnlab.np_nn or nnlab.torch_nn model; got {type(model).__name__}.")
    built = _build(model, torch_nn if to_torch else np_nn, device)
    if not isinstance(built, (np_nn.Loss, torch_nn.Loss)):
        built.train(model.training)
        copy_weights(model, built)
    return built


_WITHOUT_SETTINGS = ("Flatten", "Step", "Sign", "Sigmoid", "Tanh", "ReLU", "Softmax", "BCELoss", "BCEWithLogitsLoss",
                     "CrossEntropyLoss")  # fmt: skip


def _build(m: object, path: object, device: object) -> object:
    """A fresh module of ``path`` (np_nn or torch_nn) with the settings of ``m``; weights come later."""
    name = type(m).__name__
    if not type(m).__module__.startswith("nnlab."):  # a plain torch.nn.Linear has other names (weight, bias)
        name = f"{type(m).__module__}.{name}"
    extra = {"device": device} if path is torch_nn else {}
    dtype = _dtype(m) if name in ("Linear", "PReLU", "Perceptron", "Conv2d") else None
    if name == "Sequential":
        return path.Sequential(*[_build(child, path, device) for child in m])
    if name == "Linear":
        return path.Linear(m.in_features, m.out_features, dtype=dtype, **extra)
    if name == "PReLU":
        return path.PReLU(m.num_parameters, dtype=dtype, **extra)
    if name == "Perceptron":
        return path.Perceptron(m.n_inputs, output=m.output, lr=m.lr, dtype=dtype, **extra)
    if name in ("Conv2d", "MaxPool2d", "AvgPool2d"):
        conv = importlib.import_module(f"{path.__name__}.conv")  # wired into the packages separately
        if name != "Conv2d":
            return getattr(conv, name)(m.kernel_size, m.stride)
        return conv.Conv2d(
            m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, dtype=dtype, **extra
        )
    if name == "Dropout":
        return path.Dropout(m.p, inverted=m.inverted)
    if name == "LeakyReLU":
        return path.LeakyReLU(m.negative_slope)
    if name == "MSELoss":
        return path.MSELoss(m.convention)
    if name in _WITHOUT_SETTINGS:
        return getattr(path, name)()
    raise fail(
        "twin",
        f"does not know how to build a twin of {name}.",
        "Build it by hand with the same layers, then use copy_weights(src, dst).",
    )


def _dtype(m: object) -> np.dtype:
    """The NumPy dtype of a module's parameters, on either path."""
    return numpy_dtype(next(iter(_parameters(m, "twin")[1].values())).dtype, owner="twin")


def _modules(model: object) -> list[object]:
    if isinstance(model, torch.nn.Module):
        return list(model.modules())
    return [model, *(m for child in getattr(model, "modules", []) for m in _modules(child))]


def _difference(a: np.ndarray | None, t: torch.Tensor | None) -> float:
    """max |a - t| in float64; a missing gradient counts as zeros."""
    a = np.zeros(()) if a is None else np.asarray(a, dtype=np.float64)
    b = np.zeros(()) if t is None else t.detach().cpu().numpy().astype(np.float64)
    return float(np.max(np.abs(a - b), initial=0.0))
