r"""Shapes, checked the same way on both paths: window settings, output sizes, and the hints for wrong input.

``nnlab.np_nn`` and ``nnlab.torch_nn`` both import from here (neither imports the other's private
helpers), so a wrong shape gets the same sentence on either path:

$$H_{out} = \left\lfloor \frac{H + 2p - kH}{s} \right\rfloor + 1$$

for a convolution or pooling window (W_out likewise), and hints such as "Did you forget Flatten?".
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._checks import fail, format_shape

__all__ = [
    "Pair",
    "Window",
    "channel_hint",
    "check_batch_axis",
    "check_image_shape",
    "conv_repr",
    "linear_hint",
    "output_size",
    "pair",
    "pool_window",
    "show_pair",
]

Pair = int | tuple[int, int]


def pair(value: object, *, owner: str, name: str, minimum: int) -> tuple[int, int]:
    """Read an int or an (h, w) pair of ints, each at least ``minimum``; anything else is a sentence."""

    def is_int(v: object) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if is_int(value):
        result = (int(value), int(value))  # type: ignore[call-overload]
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        result = (int(value[0]), int(value[1]))
    else:
        raise fail(owner, f"expected {name} as an int or an (h, w) pair of ints; got {value!r}.")
    if min(result) < minimum:
        kind = "positive" if minimum > 0 else "non-negative"
        raise fail(owner, f"expected {name} to be {kind}; got {value!r}.")
    return result


def show_pair(value: tuple[int, int]) -> str:
    """``5`` for a square (5, 5), else ``(5, 3)``: what a repr prints."""
    return str(value[0]) if value[0] == value[1] else str(value)


def conv_repr(layer: object) -> str:
    """The settings a Conv2d prints (both paths): stride and padding only when not the default."""
    text = (
        f"in_channels={layer.in_channels}, out_channels={layer.out_channels},"
        f" kernel_size={show_pair(layer.kernel_size)}"
    )
    if layer.stride != (1, 1):
        text += f", stride={show_pair(layer.stride)}"
    if layer.padding != (0, 0):
        text += f", padding={show_pair(layer.padding)}"
    return text


def pool_window(
    kernel_size: Pair, stride: Pair | None, *, owner: str
) -> tuple[tuple[int, int], tuple[int, int]]:
    """A pool's (kernel_size, stride) as pairs; the stride defaults to the window (no overlap)."""
    kernel = pair(kernel_size, owner=owner, name="kernel_size", minimum=1)
    return kernel, kernel if stride is None else pair(stride, owner=owner, name="stride", minimum=1)


class Window(NamedTuple):
    """A sliding window's settings, as (kH, kW), (s_H, s_W) and (p_H, p_W) pairs."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int] = (0, 0)


def output_size(
    shape: tuple[int, ...], layer: object, *, weight_shape: tuple[int, ...] | None = None, owner: str = ""
) -> tuple[int, int]:
    r"""$H_{out} = \lfloor (H + 2p - kH) / s \rfloor + 1$ (W_out likewise), or a sentence if the window won't fit.

    ``layer`` has ``kernel_size``, ``stride`` and (optionally) ``padding`` pairs: a layer or a ``Window``.

    Example:
        >>> output_size((64, 1, 28, 28), Window(kernel_size=(5, 5), stride=(1, 1), padding=(2, 2)))
        (28, 28)
    """
    kernel, stride, padding = layer.kernel_size, layer.stride, getattr(layer, "padding", (0, 0))
    (H, W), (kH, kW), (sH, sW), (pH, pW) = shape[2:], kernel, stride, padding
    if H + 2 * pH < kH or W + 2 * pW < kW:
        padded = f" (with padding {show_pair(padding)})" if pH or pW else ""
        what = f"W of shape {format_shape(weight_shape)}" if weight_shape else f"a window of shape {kernel}"
        raise fail(
            owner or type(layer).__name__,
            f"expected images at least as large as its {kH}x{kW} window{padded}; got x of shape"
            f" {format_shape(shape)} for {what}.",
            "Use padding, a smaller kernel, or fewer pooling layers before this one.",
        )
    return (H + 2 * pH - kH) // sH + 1, (W + 2 * pW - kW) // sW + 1


def channel_hint(shape: tuple[int, ...], weight_shape: tuple[int, ...] | None) -> str | None:
    """A likely fix for an image input of the wrong shape; ``weight_shape`` is a Conv2d's W (None for a pool)."""
    channels = None if weight_shape is None else weight_shape[1]
    if len(shape) == 3:
        if channels is not None and channels > 1 and shape[0] == channels:
            return "A single image needs a batch axis: use x[None]."
        if channels == 1:
            return "A batch of one-channel images needs a channel axis: use x[:, None]."
        return "Images come as (N, C, H, W): add a channel axis with x[:, None] or a batch axis with x[None]."
    if len(shape) == 2 and channels == 1 and math.isqrt(shape[1]) ** 2 == shape[1]:
        side = math.isqrt(shape[1])
        return f"Flat images need their shape back: x.reshape(-1, 1, {side}, {side})."
    if len(shape) == 4 and channels is not None and shape[3] == channels:
        return "Channels come first here, (N, C, H, W): use x.transpose(0, 3, 1, 2) on channels-last data."
    if len(shape) == 4 and weight_shape is not None:
        return (
            f"The input has {shape[1]} channel{'s' if shape[1] != 1 else ''} and W of shape"
            f" {format_shape(weight_shape)} expects {channels}: make in_channels match."
        )
    return None


def check_image_shape(shape: tuple[int, ...], weight_shape: tuple[int, ...] | None, *, owner: str) -> None:
    """Raise unless ``shape`` is (N, C, H, W) with the C_in of ``weight_shape`` (any C for a pool)."""
    channels = "C" if weight_shape is None else weight_shape[1]
    if len(shape) != 4 or (weight_shape is not None and shape[1] != channels):
        want = format_shape(("N", channels, "H", "W"))
        raise fail(
            owner,
            f"expected x of shape {want}; got {format_shape(shape)}.",
            channel_hint(shape, weight_shape),
        )


def linear_hint(in_features: int, shape: tuple[int, ...]) -> str | None:
    """The likely fix for a Linear input of the wrong shape (both paths use it).

    Example:
        >>> linear_hint(784, (32, 28, 28))
        'Did you forget Flatten?'
        >>> linear_hint(64, (8, 8))
        'If this is one example, it needs a batch axis: x.reshape(1, 8, 8), or x[None]; if it is 8 examples, make in_features 8.'
    """
    if len(shape) > 2 and math.prod(shape[1:]) == in_features:
        return "Did you forget Flatten?"
    if len(shape) == 1:
        return f"A single example needs a batch axis: x.reshape(1, -1) gives shape (1, {shape[0]})."
    if len(shape) == 2 and math.prod(shape) == in_features:
        sizes = ", ".join(str(s) for s in shape)
        return (
            f"If this is one example, it needs a batch axis: x.reshape(1, {sizes}), or x[None];"
            f" if it is {shape[0]} examples, make in_features {shape[1]}."
        )
    if len(shape) == 2:
        return f"The previous layer gives {shape[1]} features; make in_features match."
    return None


def check_batch_axis(shape: tuple[int, ...], *, owner: str) -> None:
    """Raise unless ``shape`` has a batch axis in front of at least one more axis (what Flatten needs)."""
    if len(shape) < 2:
        raise fail(
            owner,
            f"expected x of shape (N, ...) with a batch axis; got {format_shape(shape)}.",
            "A single example needs a batch axis: use x[None].",
        )
