r"""Convolution and pooling, the PyTorch twins of ``nnlab.np_nn.conv``: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``.

The forward passes are ``torch.nn.functional.conv2d``, ``max_pool2d`` and ``avg_pool2d``, which
compute the same cross-correlation $S(i, j) = \sum_m \sum_n I(i + m, j + n) K(m, n)$ and the same
pools as the NumPy layers; autograd provides the backward pass that ``nnlab.np_nn`` writes by hand.
The initial weights are drawn by the NumPy initialisers, so ``Conv2d(1, 6, 5, rng=0)`` here starts
with exactly the weights of ``nnlab.np_nn.conv.Conv2d(1, 6, 5, rng=0)``. Wrong shapes fail with the
NumPy path's sentences.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import as_generator, fail
from .._shapes import Pair, check_image_shape, conv_repr, output_size, pair, pool_window, show_pair
from . import init as _init
from .module import DType, Module, as_input, numpy_dtype, parameter, torch_dtype

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d"]


def _as_images(x: object, *, owner: str, like: torch.Tensor | None) -> torch.Tensor:
    """``x`` as a float tensor (N, C, H, W) beside ``like`` (a Conv2d's W), or the NumPy path's sentence."""
    x = as_input(x, owner=owner, like=like)
    check_image_shape(tuple(x.shape), None if like is None else tuple(like.shape), owner=owner)
    return x


class Conv2d(Module):
    r"""A 2-D convolution layer: C_out learned filters slide over the image, each giving one feature map.

    $$\mathrm{out}[n, f, i, j] = b_f + \sum_{c, m, k} x_{pad}[n, c, i s_H + m, j s_W + k]\, W[f, c, m, k]$$

    computed by ``torch.nn.functional.conv2d``; the gradients come from autograd.

    Shapes: x (N, C_in, H, W) -> out (N, C_out, H_out, W_out) with
    H_out = (H + 2·p_H - kH) // s_H + 1 (W_out likewise); W (C_out, C_in, kH, kW), b (C_out,).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, init, bias_init, rng: as in
            ``nnlab.np_nn.conv.Conv2d``.
        dtype: float32 (default) or float64, as a NumPy or torch dtype.
        device: where the parameters live; None means ``nnlab.device()``.

    Example:
        >>> conv = Conv2d(1, 6, 5, rng=0)
        >>> conv(np.zeros((64, 1, 32, 32))).shape
        torch.Size([64, 6, 28, 28])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Pair,
        stride: Pair = 1,
        padding: Pair = 0,
        *,
        init: str | _init.Initialiser = "scaled_normal",
        bias_init: str | _init.Initialiser = "zeros",
        rng: np.random.Generator | int | None = None,
        dtype: DType | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise fail("Conv2d", f"expected {name} to be a positive integer; got {value!r}.")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, owner="Conv2d", name="kernel_size", minimum=1)
        self.stride = pair(stride, owner="Conv2d", name="stride", minimum=1)
        self.padding = pair(padding, owner="Conv2d", name="padding", minimum=0)
        self.init_name = getattr(init, "__name__", init)
        np_type = numpy_dtype(torch_dtype(torch.float32 if dtype is None else dtype, owner="Conv2d"))
        rng = as_generator(rng, owner="Conv2d")
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        W = _init.get(init, owner="Conv2d")(shape, rng, dtype=np_type)
        b = _init.get(bias_init, owner="Conv2d")((self.out_channels,), rng, dtype=np_type)
        self.W = parameter(W, device, owner="Conv2d")
        self.b = parameter(b, device, owner="Conv2d")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _as_images(x, owner="Conv2d", like=self.W)
        output_size(tuple(x.shape), self, weight_shape=tuple(self.W.shape))
        return F.conv2d(x, self.W, self.b, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return conv_repr(self)


class _Pool(Module):
    """What both pools share: the window, the stride and the input checks."""

    def __init__(self, kernel_size: Pair, stride: Pair | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = pool_window(kernel_size, stride, owner=type(self).__name__)

    def _checked(self, x: object) -> torch.Tensor:
        name = type(self).__name__
        x = _as_images(x, owner=name, like=None)
        output_size(tuple(x.shape), self)
        return x

    def extra_repr(self) -> str:
        text = f"kernel_size={show_pair(self.kernel_size)}"
        return text if self.stride == self.kernel_size else text + f", stride={show_pair(self.stride)}"


class MaxPool2d(_Pool):
    r"""Max pooling: each output is the largest entry of its kH x kW window, channel by channel.

    $$s_{i', j'} = \max_{(i, j) \in \Omega(i', j')} a_{i, j}$$

    Autograd sends each upstream gradient to the position of its window's maximum; on a tie, to the
    first maximum in row-major order, the rule ``nnlab.np_nn.conv.MaxPool2d`` follows (PyTorch's CPU
    kernel; other devices may pick another of the tied entries).

    Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out) with H_out = (H - kH) // s_H + 1.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool2d(self._checked(x), self.kernel_size, self.stride)


class AvgPool2d(_Pool):
    r"""Average pooling: each output is the mean of its kH x kW window, channel by channel (as in LeNet-5).

    $$s_{i', j'} = \frac{1}{kH\,kW} \sum_{(i, j) \in \Omega(i', j')} a_{i, j}$$

    Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out) with H_out = (H - kH) // s_H + 1.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self._checked(x), self.kernel_size, self.stride)
