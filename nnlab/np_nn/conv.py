r"""Convolution and pooling: ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``, and the loop ``conv2d_naive``.

A convolution layer slides each filter over the image and takes a weighted sum at every position.
Like every deep-learning library, and like Olteanu's lecture, it computes the cross-correlation

$$S(i, j) = \sum_m \sum_n I(i + m, j + n)\, K(m, n)$$

summed over the input channels, plus one bias per filter. ``conv2d_naive`` is that formula written as
loops; ``Conv2d`` computes the same numbers with one matrix product per image (im2col):

1. Copy every kH x kW window of the input into one column of a matrix ``cols`` of shape
   (N, C_in·kH·kW, H_out·W_out): row (c, m, k) holds $I_c(i s_H + m, j s_W + k)$ for every position (i, j).
2. Then $\mathrm{out} = W_{2d}\,\mathrm{cols} + b$ with the weights flattened to (C_out, C_in·kH·kW).

The same matrix gives the weight gradient, $\partial L/\partial W_{2d} = \sum_n \delta_n\,\mathrm{cols}_n^\top$,
and the input gradient comes from $W_{2d}^\top\,\delta$ by adding every column back onto the window
it came from (col2im).

``Conv2d(..., fast=True)`` computes the same numbers with the tuned code of ``_fast_conv.py``
(batch-last storage, reused buffers, a blocked weight gradient); ``nnlab.models.lenet5`` uses it.
The tests check that the fast layer, this plain one and ``conv2d_naive`` agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from .._checks import as_generator, fail
from .._shapes import Pair, Window, check_image_shape, conv_repr, output_size, pair, pool_window, show_pair
from . import _fast_conv
from . import init as _init
from .module import Module

__all__ = ["AvgPool2d", "Conv2d", "MaxPool2d", "conv2d_naive"]


# -- convolution ------------------------------------------------------------------------------------
def conv2d_naive(
    x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: Pair = 1, padding: Pair = 0
) -> np.ndarray:
    r"""The convolution layer as the formula reads, one loop per index: slow, the reference for ``Conv2d``.

    $$\mathrm{out}[n, f, i, j] = b_f + \sum_{c} \sum_{m} \sum_{k}
      x_{pad}[n, c, i s_H + m, j s_W + k]\; W[f, c, m, k]$$

    which for one channel, stride 1 and no padding is the lectures'
    $S(i, j) = \sum_m \sum_n I(i + m, j + n) K(m, n)$.

    Shapes: x (N, C_in, H, W), W (C_out, C_in, kH, kW), b (C_out,) -> out (N, C_out, H_out, W_out).

    Example:
        >>> I = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_naive(I, np.ones((1, 1, 2, 2)), np.zeros(1))[0, 0]   # sums of 2x2 windows
        array([[ 8., 12.],
               [20., 24.]])
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    C_out, C_in, kH, kW = W.shape
    check_image_shape(x.shape, W.shape, owner="conv2d_naive")
    sH, sW = pair(stride, owner="conv2d_naive", name="stride", minimum=1)
    pH, pW = pair(padding, owner="conv2d_naive", name="padding", minimum=0)
    window = Window((kH, kW), (sH, sW), (pH, pW))
    H_out, W_out = output_size(x.shape, window, weight_shape=W.shape, owner="conv2d_naive")
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
        fast: compute with the tuned code of ``_fast_conv.py`` (the same numbers, faster; default False).

    Example:
        >>> conv = Conv2d(1, 6, 5, rng=0)                      # LeNet-5's first layer
        >>> conv(np.zeros((64, 1, 32, 32))).shape
        (64, 6, 28, 28)
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
        fast: bool = False,
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
        self.fast = bool(fast)
        rng = as_generator(rng, owner="Conv2d")
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self._add_param("W", _init.get(init, owner="Conv2d")(shape, rng, dtype=dtype))
        self._add_param("b", _init.get(bias_init, owner="Conv2d")((self.out_channels,), rng, dtype=dtype))
        self._cols: np.ndarray | None = None  # the im2col matrix of the last forward, for backward
        self._x_shape: tuple[int, ...] = ()
        self._out_hw: tuple[int, int] = (0, 0)
        self._fast_cache: _fast_conv.Cache | None = None  # what the fast path keeps instead

    @property
    def W(self) -> np.ndarray:
        return self.params["W"]

    @property
    def b(self) -> np.ndarray:
        return self.params["b"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        check_image_shape(x.shape, self.W.shape, owner="Conv2d")
        H_out, W_out = output_size(x.shape, self, weight_shape=self.W.shape)
        if self.fast:  # the tuned code in _fast_conv.py, tested equal to the lines below
            return _fast_conv.forward(self, x, H_out, W_out)
        (pH, pW), N = self.padding, x.shape[0]
        x_pad = np.pad(x, ((0, 0), (0, 0), (pH, pH), (pW, pW)))  # zeros around the border
        cols = _im2col(x_pad, self.kernel_size, self.stride, (H_out, W_out))  # (N, C_in·kH·kW, H_out·W_out)
        W_2d = self.W.reshape(self.out_channels, -1)  # (C_out, C_in·kH·kW)
        out = W_2d @ cols + self.b[:, None]  # out = W_2d·cols + b, (N, C_out, H_out·W_out)
        self._cols, self._x_shape, self._out_hw = cols, x.shape, (H_out, W_out)  # what backward needs
        return out.reshape(N, self.out_channels, H_out, W_out)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        if self.fast:  # the tuned code in _fast_conv.py, tested equal to the lines below
            return _fast_conv.backward(self, dout)
        cols = self._cached(self._cols)  # the im2col matrix kept by forward
        N, C_in, H, W = self._x_shape  # x's shape
        H_out, W_out = self._out_hw  # out's height and width
        dout = self._dout(dout, (N, self.out_channels, H_out, W_out), self.dtype)  # ∂L/∂out
        delta = dout.reshape(N, self.out_channels, H_out * W_out)  # δ, one row per filter
        W_2d = self.W.reshape(self.out_channels, -1)  # (C_out, C_in·kH·kW), as in forward
        dW_2d = (delta @ cols.transpose(0, 2, 1)).sum(axis=0)  # ∂L/∂W_2d = Σ_n δ_n cols_nᵀ
        self.grads["W"] = dW_2d.reshape(self.W.shape)  # ∂L/∂W, (C_out, C_in, kH, kW)
        self.grads["b"] = delta.sum(axis=(0, 2))  # ∂L/∂b_f = Σ_{n,i,j} δ[n, f, i, j]
        dcols = W_2d.T @ delta  # ∂L/∂cols = W_2dᵀ δ
        (pH, pW) = self.padding  # p_H, p_W
        padded_shape = (N, C_in, H + 2 * pH, W + 2 * pW)  # x_pad's shape
        dx_pad = _col2im(dcols, padded_shape, self.kernel_size, self.stride, (H_out, W_out))  # ∂L/∂x_pad
        return dx_pad[:, :, pH : pH + H, pW : pW + W]  # the padding's gradient is dropped

    def extra_repr(self) -> str:
        return conv_repr(self)  # the same as the PyTorch twin's; fast changes the speed, not the numbers


def _window_slices(m: int, k: int, stride: tuple[int, int], out_size: tuple[int, int]) -> tuple[slice, slice]:
    """Rows i·s_H + m and columns j·s_W + k for every output position (i, j): offset (m, k) of every window."""
    (sH, sW), (H_out, W_out) = stride, out_size
    return slice(m, m + sH * (H_out - 1) + 1, sH), slice(k, k + sW * (W_out - 1) + 1, sW)


def _im2col(
    x_pad: np.ndarray, kernel_size: tuple[int, int], stride: tuple[int, int], out_size: tuple[int, int]
) -> np.ndarray:
    """cols[n, (c, m, k), (i, j)] = x_pad[n, c, i·s_H + m, j·s_W + k]: every window as one column."""
    (N, C_in), (kH, kW) = x_pad.shape[:2], kernel_size
    cols = np.empty((N, C_in, kH, kW, *out_size), dtype=x_pad.dtype)
    for m in range(kH):
        for k in range(kW):
            rows, columns = _window_slices(m, k, stride, out_size)
            cols[:, :, m, k] = x_pad[:, :, rows, columns]
    return cols.reshape(N, C_in * kH * kW, out_size[0] * out_size[1])


def _col2im(
    dcols: np.ndarray,
    padded_shape: tuple[int, ...],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    out_size: tuple[int, int],
) -> np.ndarray:
    """The reverse of ``_im2col``: add every column back onto the window it was copied from."""
    (N, C_in), (kH, kW) = padded_shape[:2], kernel_size
    dcols = dcols.reshape(N, C_in, kH, kW, *out_size)
    dx_pad = np.zeros(padded_shape, dtype=dcols.dtype)
    for m in range(kH):
        for k in range(kW):
            rows, columns = _window_slices(m, k, stride, out_size)
            dx_pad[:, :, rows, columns] += dcols[:, :, m, k]  # a pixel in several windows collects the sum
    return dx_pad


# -- pooling ----------------------------------------------------------------------------------------
class _Pool(Module):
    """What both pools share: the window and stride, the input checks, and the strided window views."""

    def __init__(self, kernel_size: Pair, stride: Pair | None = None) -> None:
        super().__init__()
        self.kernel_size, self.stride = pool_window(kernel_size, stride, owner=type(self).__name__)
        self._x: np.ndarray | None = None
        self._out_shape: tuple[int, ...] = ()

    def _checked(self, x: object) -> np.ndarray:
        name = type(self).__name__
        x = self._input(x)
        check_image_shape(x.shape, None, owner=name)
        H_out, W_out = output_size(x.shape, self)
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
        text = f"kernel_size={show_pair(self.kernel_size)}"
        return text if self.stride == self.kernel_size else text + f", stride={show_pair(self.stride)}"


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
    """

    def __init__(self, kernel_size: Pair, stride: Pair | None = None) -> None:
        super().__init__(kernel_size, stride)
        self._out: np.ndarray | None = None  # the maxima, to find where they came from in backward

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._checked(x)
        offsets = self._offsets()
        out = self._windows(x, *next(offsets)).copy()
        for m, k in offsets:
            out = np.maximum(out, self._windows(x, m, k))  # s = max over the window Ω, offset by offset
        self._out = out
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x = self._cached(self._x)  # the input kept by forward
        dout = self._dout(dout, self._out_shape)  # δ = ∂L/∂s
        dx = np.zeros_like(x)  # ∂L/∂a, summed below window by window
        unclaimed = np.ones(self._out_shape, dtype=bool)  # windows whose maximum has not been found yet
        for m, k in self._offsets():  # row-major order, so the first maximum of a tie wins
            is_max = (self._windows(x, m, k) == self._out) & unclaimed  # 𝕀((i, j) = argmax_Ω a)
            unclaimed &= ~is_max  # a window's maximum is claimed once
            self._windows(dx, m, k)[...] += dout * is_max  # ∂L/∂a = Σ δ·𝕀(argmax)
        return dx  # ∂L/∂a


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
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._checked(x)
        total = np.zeros(self._out_shape, dtype=x.dtype)
        for m, k in self._offsets():
            total += self._windows(x, m, k)  # Σ over the window Ω, offset by offset
        return total / math.prod(self.kernel_size)  # s = Σ_Ω a / (kH·kW)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        x = self._cached(self._x)  # the input kept by forward
        dout = self._dout(dout, self._out_shape)  # δ = ∂L/∂s
        share = dout / math.prod(self.kernel_size)  # ∂s/∂a = 1 / (kH·kW) for each a in the window
        dx = np.zeros_like(x)  # ∂L/∂a, summed below offset by offset
        for m, k in self._offsets():  # every offset (m, k) inside the window
            self._windows(dx, m, k)[...] += share  # ∂L/∂a = Σ over the windows Ω holding a of δ / (kH·kW)
        return dx  # ∂L/∂a
