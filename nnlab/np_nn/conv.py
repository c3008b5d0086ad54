r"""Convolution and pooling: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, and the loop ``conv2d_naive``.

A convolution layer slides each filter over the image and takes a weighted sum at every position.
Like every deep-learning library, and like the seeds, it computes the cross-correlation

$$S(i, j) = \sum_m \sum_n I(i + m, j + n)\, K(m, n)$$

summed over the input channels, plus one bias per filter. ``conv2d_naive`` is that formula written as
loops; ``Conv2d`` computes the same numbers with one matrix product (im2col):

1. Copy every kH x kW window of the input into one column of a matrix ``cols`` of shape
   (C_in·kH·kW, H_out·W_out·N): row (c, m, n) holds $I_c(i + m, j + n)$ for every position (i, j).
2. Then $\mathrm{out} = W_{2d}\,\mathrm{cols} + b$ with the weights flattened to (C_out, C_in·kH·kW).

The same matrix gives the weight gradient, $\partial L/\partial W_{2d} = \mathrm{dout}\,\mathrm{cols}^\top$,
and the input gradient comes from $W_{2d}^\top\,\mathrm{dout}$ by adding every column back onto the
window it came from (col2im). Inside, images are stored batch-last, (C, H, W, N), so each of the
kH·kW copies moves runs of N numbers instead of rows of W_out: that made im2col several times faster
here, and matters more than the product itself for LeNet-sized layers.

Chapter: 7, CNN filters.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from .._checks import fail, format_shape
from . import init as _init
from .module import Module

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d", "conv2d_naive"]

Pair = int | tuple[int, int]

# The weight gradient is a product (C_out, P) x (P, C_in·kH·kW) with P = H_out·W_out·N up to ~50,000.
# OpenBLAS runs such a long, thin product up to 4x faster in blocks of a few thousand columns (measured
# on the 2-core machine for LeNet's conv1), so backward sums it block by block.
_BLOCK = 4096


# -- shared checks (also used by nnlab.torch_nn.conv, so both paths say the same sentences) ---------
def _pair(value: object, *, owner: str, name: str, minimum: int) -> tuple[int, int]:
    """Read an int or an (h, w) pair of ints, each at least ``minimum``."""

    def is_int(v: object) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if is_int(value):
        pair = (int(value), int(value))  # type: ignore[arg-type]
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise fail(owner, f"expected {name} as an int or an (h, w) pair of ints; got {value!r}.")
    if min(pair) < minimum:
        kind = "positive" if minimum > 0 else "non-negative"
        raise fail(owner, f"expected {name} to be {kind}; got {value!r}.")
    return pair


def _show(pair: tuple[int, int]) -> str:
    """``5`` for a square (5, 5), else ``(5, 3)``: what the repr prints."""
    return str(pair[0]) if pair[0] == pair[1] else str(pair)


def _conv_repr(layer: object) -> str:
    """The settings a Conv2d prints (both paths): stride and padding only when not the default."""
    text = (
        f"in_channels={layer.in_channels}, out_channels={layer.out_channels},"
        f" kernel_size={_show(layer.kernel_size)}"
    )
    if layer.stride != (1, 1):
        text += f", stride={_show(layer.stride)}"
    if layer.padding != (0, 0):
        text += f", padding={_show(layer.padding)}"
    return text


def _pool_window(
    kernel_size: Pair, stride: Pair | None, *, owner: str
) -> tuple[tuple[int, int], tuple[int, int]]:
    """A pool's (kernel_size, stride) as pairs; the stride defaults to the window (no overlap)."""
    kernel = _pair(kernel_size, owner=owner, name="kernel_size", minimum=1)
    return kernel, kernel if stride is None else _pair(stride, owner=owner, name="stride", minimum=1)


def _channel_hint(shape: tuple[int, ...], weight_shape: tuple[int, ...] | None) -> str | None:
    """A likely fix for an input of the wrong shape; ``weight_shape`` is a Conv2d's W (None for a pool)."""
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


def _check_image_shape(shape: tuple[int, ...], weight_shape: tuple[int, ...] | None, *, owner: str) -> None:
    """Raise unless ``shape`` is (N, C, H, W) with the C_in of ``weight_shape`` (any C for a pool)."""
    channels = "C" if weight_shape is None else weight_shape[1]
    if len(shape) != 4 or (weight_shape is not None and shape[1] != channels):
        want = format_shape(("N", channels, "H", "W"))
        hint = _channel_hint(shape, weight_shape)
        raise fail(owner, f"expected x of shape {want}; got {format_shape(shape)}.", hint)


class _Window(NamedTuple):
    """A sliding window's settings, as (kH, kW), (s_H, s_W) and (p_H, p_W) pairs."""

    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int] = (0, 0)


def _output_size(
    shape: tuple[int, ...], layer: object, *, weight_shape: tuple[int, ...] | None = None, owner: str = ""
) -> tuple[int, int]:
    r"""$H_{out} = \lfloor (H + 2p - kH) / s \rfloor + 1$ (W_out likewise), or a sentence if the window won't fit.

    ``layer`` has ``kernel_size``, ``stride`` and (optionally) ``padding`` pairs: a layer or a ``_Window``.
    """
    kernel, stride, padding = layer.kernel_size, layer.stride, getattr(layer, "padding", (0, 0))
    (H, W), (kH, kW), (sH, sW), (pH, pW) = shape[2:], kernel, stride, padding
    if H + 2 * pH < kH or W + 2 * pW < kW:
        padded = f" (with padding {_show(padding)})" if pH or pW else ""
        what = f"W of shape {format_shape(weight_shape)}" if weight_shape else f"a window of shape {kernel}"
        raise fail(
            owner or type(layer).__name__,
            f"expected images at least as large as its {kH}x{kW} window{padded}; got x of shape"
            f" {format_shape(shape)} for {what}.",
            "Use padding, a smaller kernel, or fewer pooling layers before this one.",
        )
    return (H + 2 * pH - kH) // sH + 1, (W + 2 * pW - kW) // sW + 1


# -- convolution ------------------------------------------------------------------------------------
def conv2d_naive(
    x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: Pair = 1, padding: Pair = 0
) -> np.ndarray:
    r"""The convolution layer as the formula reads, one loop per index: slow, the reference for ``Conv2d``.

    $$\mathrm{out}[n, f, i, j] = b_f + \sum_{c} \sum_{m} \sum_{k}
      x_{pad}[n, c, i s_H + m, j s_W + k]\; W[f, c, m, k]$$

    which for one channel, stride 1 and no padding is the seeds'
    $S(i, j) = \sum_m \sum_n I(i + m, j + n) K(m, n)$.

    Shapes: x (N, C_in, H, W), W (C_out, C_in, kH, kW), b (C_out,) -> out (N, C_out, H_out, W_out).

    Example:
        >>> I = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_naive(I, np.ones((1, 1, 2, 2)), np.zeros(1))[0, 0]   # sums of 2x2 windows
        array([[ 8., 12.],
               [20., 24.]])

    Chapter: 7, CNN filters.
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    C_out, C_in, kH, kW = W.shape
    _check_image_shape(x.shape, W.shape, owner="conv2d_naive")
    sH, sW = _pair(stride, owner="conv2d_naive", name="stride", minimum=1)
    pH, pW = _pair(padding, owner="conv2d_naive", name="padding", minimum=0)
    window = _Window((kH, kW), (sH, sW), (pH, pW))
    H_out, W_out = _output_size(x.shape, window, weight_shape=W.shape, owner="conv2d_naive")
    x_pad = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))  # zeros around the border
    out = np.zeros((x.shape[0], C_out, H_out, W_out), dtype=np.result_type(x, W, b))
    for n in range(x.shape[0]):  # every image
        for f in range(C_out):  # every filter
            for i in range(H_out):  # every output row
                for j in range(W_out):  # every output column
                    total = b[f]
                    for c in range(C_in):  # summed over the input channels
                        for m in range(kH):
                            for k in range(kW):
                                total += x_pad[n, c, i * sH + m, j * sW + k] * W[f, c, m, k]
                    out[n, f, i, j] = total
    return out


class Conv2d(Module):
    r"""A 2-D convolution layer: C_out learned filters slide over the image, each giving one feature map.

    $$\mathrm{out}[n, f, i, j] = b_f + \sum_{c, m, k} x_{pad}[n, c, i s_H + m, j s_W + k]\, W[f, c, m, k]$$
    $$\frac{\partial L}{\partial W[f, c, m, k]} = \sum_{n, i, j} \mathrm{dout}[n, f, i, j]\,
      x_{pad}[n, c, i s_H + m, j s_W + k],\qquad
      \frac{\partial L}{\partial b_f} = \sum_{n, i, j} \mathrm{dout}[n, f, i, j]$$

    Each input pixel receives, in ``dx``, the sum of ``dout`` times the weight that touched it, over
    every window it sits in. Zero padding counts as input that is always 0; stride s keeps every
    s-th window position.

    Shapes: x (N, C_in, H, W) -> out (N, C_out, H_out, W_out) with
    H_out = (H + 2·p_H - kH) // s_H + 1 (W_out likewise); W (C_out, C_in, kH, kW), b (C_out,),
    as in PyTorch.

    Args:
        in_channels: C_in (1 for grayscale images, 3 for RGB, the previous layer's C_out after that).
        out_channels: C_out, the number of filters.
        kernel_size: kH = kW as an int, or an (kH, kW) pair.
        stride: step between window positions, an int or an (s_H, s_W) pair (default 1).
        padding: rows/columns of zeros added on each side, an int or a (p_H, p_W) pair (default 0).
        init: weight initialiser, a name from ``nnlab.np_nn.init.INITIALISERS`` (default
            ``"scaled_normal"``, N(0, 1/(C_in·kH·kW))) or a callable ``f(shape, rng, dtype=)``.
        bias_init: initialiser of the bias (default zeros).
        rng: a ``numpy.random.Generator`` (or int seed) for the initial weights.
        dtype: float32 (default, as in PyTorch) or float64.

    Example:
        >>> conv = Conv2d(1, 6, 5, rng=0)                      # LeNet-5's first layer
        >>> conv(np.zeros((64, 1, 32, 32))).shape
        (64, 6, 28, 28)

    Chapter: 7, CNN filters.
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
        dtype: np.dtype | type = np.float32,
    ) -> None:
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise fail("Conv2d", f"expected {name} to be a positive integer; got {value!r}.")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, owner="Conv2d", name="kernel_size", minimum=1)
        self.stride = _pair(stride, owner="Conv2d", name="stride", minimum=1)
        self.padding = _pair(padding, owner="Conv2d", name="padding", minimum=0)
        self.init_name = getattr(init, "__name__", init)
        rng = _init._rng(rng)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self._add_param("W", _init.get(init, owner="Conv2d")(shape, rng, dtype=dtype))
        self._add_param("b", _init.get(bias_init, owner="Conv2d")((self.out_channels,), rng, dtype=dtype))
        self._cols: np.ndarray | None = None  # the im2col matrix of the last forward, for backward
        self._x_shape: tuple[int, ...] = ()
        self._buffers: dict[str, np.ndarray] = {}

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray:
        return self.params["b"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        _check_image_shape(x.shape, self.W.shape, owner="Conv2d")
        H_out, W_out = _output_size(x.shape, self, weight_shape=self.W.shape)
        N, C_in, H, W = x.shape
        (pH, pW), (kH, kW) = self.padding, self.kernel_size
        # x padded with zeros and stored batch-last, (C_in, H + 2p_H, W + 2p_W, N); the border is
        # never written, so a reused buffer keeps its zeros.
        x_pad = self._buffer("x_pad", (C_in, H + 2 * pH, W + 2 * pW, N), x.dtype)
        x_pad[:, pH : pH + H, pW : pW + W] = x.transpose(1, 2, 3, 0)
        # im2col: cols[c, m, k] holds the pixel at offset (m, k) of every window, for all positions.
        cols = self._buffer("cols", (C_in, kH, kW, H_out, W_out, N), x.dtype)
        for m in range(kH):
            for k in range(kW):
                cols[:, m, k] = self._windows(x_pad, m, k, H_out, W_out)
        z = self.W.reshape(self.out_channels, -1) @ cols.reshape(C_in * kH * kW, -1)  # (C_out, H_out·W_out·N)
        out = np.empty((N, self.out_channels, H_out, W_out), dtype=z.dtype)
        np.add(z.reshape(-1, H_out, W_out, N).transpose(3, 0, 1, 2), self.b[:, None, None], out=out)
        self._cols, self._x_shape = cols, x.shape
        return out

    def backward(self, dout: np.ndarray, *, input_grad: bool = True) -> np.ndarray | None:
        cols = self._cols
        N, _, H, W = self._x_shape if cols is not None else (0, 0, 0, 0)
        H_out, W_out = (cols.shape[3], cols.shape[4]) if cols is not None else (0, 0)
        dout = self._cached(cols, dout, (N, self.out_channels, H_out, W_out))
        # dout batch-last like cols: (C_out, H_out·W_out·N)
        d = np.ascontiguousarray(dout.transpose(1, 2, 3, 0), dtype=cols.dtype).reshape(self.out_channels, -1)
        np.sum(d, axis=1, out=self.grads["b"])
        cols_2d = cols.reshape(-1, d.shape[1])  # (C_in·kH·kW, H_out·W_out·N)
        dW = self.grads["W"].reshape(self.out_channels, -1)
        dW.fill(0)
        for start in range(0, d.shape[1], _BLOCK):  # dW = d @ cols.T, summed block by block (see _BLOCK)
            block = slice(start, start + _BLOCK)
            dW += (cols_2d[:, block] @ d[:, block].T).T
        if not input_grad:
            return None
        # col2im: each column of W_2d.T @ d goes back, added, onto the window it was copied from.
        dcols = self._buffer("dcols", cols.shape, cols.dtype)
        np.matmul(self.W.reshape(self.out_channels, -1).T, d, out=dcols.reshape(cols_2d.shape))
        (pH, pW), (kH, kW) = self.padding, self.kernel_size
        dx_pad = self._buffer("dx_pad", (self.in_channels, H + 2 * pH, W + 2 * pW, N), cols.dtype)
        dx_pad.fill(0)
        for m in range(kH):
            for k in range(kW):
                self._windows(dx_pad, m, k, H_out, W_out)[...] += dcols[:, m, k]
        return np.ascontiguousarray(dx_pad[:, pH : pH + H, pW : pW + W].transpose(3, 0, 1, 2))

    def _windows(self, x_pad: np.ndarray, m: int, k: int, H_out: int, W_out: int) -> np.ndarray:
        """The pixel at offset (m, k) of every window: a strided view of the batch-last ``x_pad``."""
        sH, sW = self.stride
        return x_pad[:, m : m + sH * (H_out - 1) + 1 : sH, k : k + sW * (W_out - 1) + 1 : sW]

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """A zeroed work array kept between calls: fresh multi-MB arrays every step cost 2-5x here."""
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[name] = np.zeros(shape, dtype=dtype)
        return buf

    def extra_repr(self) -> str:
        return _conv_repr(self)


# -- pooling ----------------------------------------------------------------------------------------
class _Pool(Module):
    """What both pools share: the window and stride, the input checks, and the strided window views."""

    def __init__(self, kernel_size: Pair, stride: Pair | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = _pool_window(kernel_size, stride, owner=type(self).__name__)
        self._x: np.ndarray | None = None
        self._out_shape: tuple[int, ...] = ()

    def _checked(self, x: object) -> np.ndarray:
        name = type(self).__name__
        x = self._input(x)
        _check_image_shape(x.shape, None, owner=name)
        H_out, W_out = _output_size(x.shape, self)
        self._x, self._out_shape = x, (*x.shape[:2], H_out, W_out)
        return x

    def _offsets(self) -> Iterator[tuple[int, int]]:
        """Offsets (m, k) inside the window, in row-major order: top row first, left to right."""
        kH, kW = self.kernel_size
        return ((m, k) for m in range(kH) for k in range(kW))

    def _windows(self, x: np.ndarray, m: int, k: int) -> np.ndarray:
        """The entry at offset (m, k) of every window: a strided view of x, shaped like the output."""
        (sH, sW), (H_out, W_out) = self.stride, self._out_shape[2:]
        return x[:, :, m : m + sH * (H_out - 1) + 1 : sH, k : k + sW * (W_out - 1) + 1 : sW]

    def extra_repr(self) -> str:
        text = f"kernel_size={_show(self.kernel_size)}"
        return text if self.stride == self.kernel_size else text + f", stride={_show(self.stride)}"


class MaxPool2d(_Pool):
    r"""Max pooling: each output is the largest entry of its kH x kW window, channel by channel.

    $$s_{i', j'} = \max_{(i, j) \in \Omega(i', j')} a_{i, j},\qquad
      \frac{\partial s_{i', j'}}{\partial a_{i, j}} = \mathbb{I}((i, j) = \arg\max_{\Omega(i', j')} a)$$

    So backward sends each upstream gradient to the position of its window's maximum only, and
    every other entry gets 0 (an entry that is the maximum of several overlapping windows collects
    the sum).

    Ties: when several entries of a window share the maximum, the gradient goes to the *first* of
    them in row-major order (top row first, then left to right), as PyTorch's CPU kernel does. The
    indicator needs a single argmax, and this is the one picked.

    Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out) with H_out = (H - kH) // s_H + 1.

    Args:
        kernel_size: the window, an int or a (kH, kW) pair.
        stride: step between windows (default: kernel_size, windows that do not overlap).

    Example:
        >>> MaxPool2d(2)(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]))
        array([[[[3.]]]])

    Chapter: 8, pooling and max-pool gradients.
    """

    def __init__(self, kernel_size: Pair, stride: Pair | None = None) -> None:
        super().__init__(kernel_size, stride)
        self._out: np.ndarray | None = None  # the maxima, to find where they came from in backward

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._checked(x)
        offsets = self._offsets()
        out = self._windows(x, *next(offsets)).copy()
        for m, k in offsets:
            np.maximum(out, self._windows(x, m, k), out=out)
        self._out = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x = self._x
        dout = self._cached(x, dout, self._out_shape)
        dx = np.zeros_like(x)
        unclaimed = np.ones(self._out_shape, dtype=bool)  # windows whose maximum has not been found yet
        for m, k in self._offsets():  # row-major order, so the first maximum of a tie wins
            is_max = (self._windows(x, m, k) == self._out) & unclaimed
            unclaimed &= ~is_max
            self._windows(dx, m, k)[...] += dout * is_max
        return dx


class AvgPool2d(_Pool):
    r"""Average pooling: each output is the mean of its kH x kW window, channel by channel (as in LeNet-5).

    $$s_{i', j'} = \frac{1}{kH\,kW} \sum_{(i, j) \in \Omega(i', j')} a_{i, j},\qquad
      \frac{\partial s_{i', j'}}{\partial a_{i, j}} = \frac{1}{kH\,kW}\ \text{if}\ (i, j) \in \Omega(i', j')$$

    Backward spreads each upstream gradient evenly over its window.

    Shapes: x (N, C, H, W) -> out (N, C, H_out, W_out) with H_out = (H - kH) // s_H + 1.

    Args:
        kernel_size: the window, an int or a (kH, kW) pair.
        stride: step between windows (default: kernel_size, windows that do not overlap).

    Example:
        >>> AvgPool2d(2)(np.array([[[[1.0, 3.0], [2.0, 0.0]]]]))
        array([[[[1.5]]]])

    Chapter: 8, pooling and max-pool gradients.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._checked(x)
        out = np.zeros(self._out_shape, dtype=x.dtype)
        for m, k in self._offsets():
            out += self._windows(x, m, k)
        out /= math.prod(self.kernel_size)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x = self._x
        dout = self._cached(x, dout, self._out_shape)
        share = dout / math.prod(self.kernel_size)
        dx = np.zeros_like(x)
        for m, k in self._offsets():
            self._windows(dx, m, k)[...] += share
        return dx
