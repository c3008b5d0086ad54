r"""Networks from the lectures, ready to train in either path: LeNet-5, and a Keras-style parameter table.

Example:
    >>> net = lenet5(rng=0)                          # NumPy; lenet5("torch", rng=0) is its twin
    >>> count_params(net, print_table=False)   # without print_table=False, one row per layer first
    61706
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import as_generator, fail, format_shape

if TYPE_CHECKING:
    import torch

    from .np_nn import Sequential

__all__ = ["BACKENDS", "count_params", "lenet5", "predict_proba"]

BACKENDS = ("numpy", "torch")


def lenet5(
    backend: str = "numpy",
    *,
    rng: np.random.Generator | int | None = None,
    dtype: Any = np.float32,
    fast: bool = True,
) -> Sequential | torch.nn.Sequential:
    r"""LeNet-5 (LeCun et al., 1998) as Olteanu's lecture describes it, for 1 x 32 x 32 images and 10 classes.

    Two 5x5 convolutions with tanh, each followed by a 2x2 average pool, then three fully connected
    layers, two with tanh:

    | layer | output | parameters |
    | --- | --- | --- |
    | Conv2d(1, 6, 5), Tanh | 6 x 28 x 28 | 6·(1·25) + 6 = 156 |
    | AvgPool2d(2) | 6 x 14 x 14 | 0 |
    | Conv2d(6, 16, 5), Tanh | 16 x 10 x 10 | 16·(6·25) + 16 = 2,416 |
    | AvgPool2d(2), Flatten | 400 | 0 |
    | Linear(400, 120), Tanh | 120 | 48,120 |
    | Linear(120, 84), Tanh | 84 | 10,164 |
    | Linear(84, 10) | 10 | 850 |

    61,706 parameters in all (Olteanu's "60K"). The network outputs logits: the lecture's softmax
    output layer is the softmax inside ``CrossEntropyLoss`` during training, and
    ``predict_proba(net, x)`` applies it for class probabilities. MNIST's 28 x 28 digits are padded
    by 2 pixels on each side to 32 x 32, as in the original paper.

    Args:
        backend: ``"numpy"`` (an ``nnlab.np_nn.Sequential``) or ``"torch"`` (an ``nnlab.torch_nn.Sequential``).
        rng: a ``numpy.random.Generator`` (or int seed); the layers draw their initial weights from it
            in order, so both backends start from the same weights for the same seed.
        dtype: float32 (default) or float64.
        fast: on the NumPy path, build the convolutions with ``Conv2d(..., fast=True)``, the tuned
            code of ``nnlab/np_nn/_fast_conv.py`` that gives the same numbers (default True: an epoch
            of MNIST is long); ``fast=False`` gives the plain im2col layers. The PyTorch path ignores it.

    Example:
        >>> net = lenet5(rng=0)
        >>> net(np.zeros((8, 1, 32, 32))).shape
        (8, 10)
    """
    if backend not in BACKENDS:
        valid = ", ".join(repr(b) for b in BACKENDS)
        raise fail("lenet5", f"expected backend to be one of {valid}; got {backend!r}.")
    rng = as_generator(rng, owner="lenet5")
    if backend == "numpy":
        from .np_nn import Flatten, Linear, Sequential, Tanh
        from .np_nn.conv import AvgPool2d, Conv2d

        conv = {"fast": bool(fast)}
    else:
        from .torch_nn import Flatten, Linear, Sequential, Tanh  # says how to install PyTorch if missing
        from .torch_nn.conv import AvgPool2d, Conv2d

        conv = {}
    return Sequential(
        Conv2d(1, 6, 5, rng=rng, dtype=dtype, **conv), Tanh(), AvgPool2d(2),    # 1x32x32 -> 6x28x28 -> 6x14x14
        Conv2d(6, 16, 5, rng=rng, dtype=dtype, **conv), Tanh(), AvgPool2d(2),   # -> 16x10x10 -> 16x5x5
        Flatten(),                                                      # -> 400
        Linear(400, 120, rng=rng, dtype=dtype), Tanh(),
        Linear(120, 84, rng=rng, dtype=dtype), Tanh(),
        Linear(84, 10, rng=rng, dtype=dtype),                           # logits, one per class
    )  # fmt: skip


def predict_proba(model: Any, x: Any) -> np.ndarray | torch.Tensor:
    r"""Class probabilities: the softmax of the model's logits, $p_c = e^{z_c} / \sum_k e^{z_k}$, row by row.

    Works for both paths: a NumPy model gives an ndarray, a PyTorch model a tensor (computed without
    recording gradients).

    Shapes: x (N, ...) -> out (N, C), each row summing to 1.
    """
    if _is_torch(model):
        import torch

        with torch.no_grad():
            return torch.softmax(model(x), dim=1)
    from .np_nn.functional import softmax

    return softmax(model(x), axis=1)


def count_params(model: Any, *, input_shape: Sequence[int] | None = None, print_table: bool = True) -> int:
    """Count a model's learnable numbers and print them layer by layer, like Keras's ``model.summary()``.

    Works for ``nnlab.np_nn`` and PyTorch models (a ``Sequential`` gives one row per layer). With
    ``input_shape`` (one example's shape, without the batch axis, e.g. ``(1, 32, 32)``) a zero batch
    runs through the layers and the table shows each layer's output shape too; the layers then hold
    that batch as their last forward pass.

    Example:
        >>> count_params(lenet5(), input_shape=(1, 32, 32))
        #    layer                                                   output shape      params
        -------------------------------------------------------------------------------------
        0    Conv2d(in_channels=1, out_channels=6, kernel_size=5)    (N, 6, 28, 28)       156
        1    Tanh()                                                  (N, 6, 28, 28)         0
        ...
        11   Linear(in_features=84, out_features=10)                 (N, 10)              850
        -------------------------------------------------------------------------------------
        Total params: 61,706
        61706
    """
    torch_model = _is_torch(model)
    if torch_model:
        layers = [m for _, m in model.named_children()] or [model]
        counts = [sum(p.numel() for p in m.parameters()) for m in layers]
        total = int(sum(p.numel() for p in model.parameters()))
    else:
        if not hasattr(model, "params"):
            raise fail("count_params", f"expected an nnlab or PyTorch model; got {type(model).__name__}.")
        layers = (
            list(model.modules) if hasattr(model, "modules") and isinstance(model.modules, list) else [model]
        )
        counts = [sum(p.size for p in m.params.values()) for m in layers]
        total = int(sum(p.size for p in model.params.values()))
    shapes = _output_shapes(layers, input_shape, torch_model) if input_shape is not None else None
    if print_table:
        print(_table(layers, counts, shapes, total))
    return total


def _is_torch(model: object) -> bool:
    return hasattr(model, "named_children") and hasattr(model, "parameters")


def _output_shapes(layers: list, input_shape: Sequence[int], torch_model: bool) -> list[str]:
    """Each layer's output shape for a zero batch of one example, written (N, ...)."""
    shape = (1, *(int(s) for s in input_shape))
    if torch_model:
        import torch

        p = next((p for m in layers for p in m.parameters()), None)
        x = torch.zeros(
            shape,
            dtype=p.dtype if p is not None else torch.float32,
            device=p.device if p is not None else None,
        )
        with torch.no_grad():
            outs = []
            for m in layers:
                x = m(x)
                outs.append(tuple(x.shape))
    else:
        dtype = next((p.dtype for m in layers for p in m.params.values()), np.float32)
        x, outs = np.zeros(shape, dtype=dtype), []
        for m in layers:
            x = m.forward(x)
            outs.append(x.shape)
    return [format_shape(("N", *s[1:])) for s in outs]


def _table(layers: list, counts: list[int], shapes: list[str] | None, total: int) -> str:
    names = [repr(m).replace("\n", " ") for m in layers]
    header = ["#", "layer", *(["output shape"] if shapes else []), "params"]
    rows = [
        [str(i), name, *([shapes[i]] if shapes else []), f"{n:,}"]
        for i, (name, n) in enumerate(zip(names, counts))
    ]
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths)] + [cells[-1].rjust(widths[-1])]
        return "   ".join(padded)

    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *map(line, rows), rule, f"Total params: {total:,}"])
