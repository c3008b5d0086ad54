"""The tuned convolution behind ``Conv2d(..., fast=True)``: the same numbers as the plain im2col, faster.

Nothing here is new mathematics; it is ``Conv2d.forward`` and ``Conv2d.backward`` rearranged for
speed on a CPU, and ``tests/test_conv.py`` checks it equal to the plain layer and to
``conv2d_naive`` (to 1e-10 in float64). Three changes, measured in ``benchmarks/bench_conv.py``
(the figures are in ``benchmarks/README.md``):

- Images are stored batch-last, (C, H, W, N), so each of the kH·kW copies of im2col moves runs of N
  numbers instead of rows of W_out.
- The work arrays (the padded input, the columns, their gradients) are kept between calls with the
  same batch size and dtype, since allocating fresh multi-megabyte arrays at every step is slow.
- The weight gradient, a long thin product, is summed over blocks of columns.

The input gradient and the parameter gradients are always new arrays, never views of a kept buffer
(the next backward would overwrite them), as the plain layer gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from .conv import Conv2d

__all__ = ["Cache", "backward", "forward"]

# The weight gradient is a product (C_out, P) x (P, C_in·kH·kW) with P = H_out·W_out·N up to ~50,000;
# OpenBLAS runs such a long, thin product faster in blocks of a few thousand columns.
_BLOCK = 4096


class Cache(NamedTuple):
    """What the fast forward keeps for backward: the batch-last columns and the input's shape."""

    cols: np.ndarray  # (C_in, kH, kW, H_out, W_out, N)
    x_shape: tuple[int, ...]


def forward(layer: Conv2d, x: np.ndarray, H_out: int, W_out: int) -> np.ndarray:
    """``layer``'s output for ``x`` (N, C_in, H, W), computed batch-last with kept buffers."""
    N, C_in, H, W = x.shape
    (pH, pW), (kH, kW) = layer.padding, layer.kernel_size
    # x padded with zeros and stored batch-last, (C_in, H + 2p_H, W + 2p_W, N); the border is never
    # written, so a kept buffer keeps its zeros.
    x_pad = _buffer(layer, "x_pad", (C_in, H + 2 * pH, W + 2 * pW, N), x.dtype)
    x_pad[:, pH : pH + H, pW : pW + W] = x.transpose(1, 2, 3, 0)
    # im2col: cols[c, m, k] holds the pixel at offset (m, k) of every window, for all positions.
    cols = _buffer(layer, "cols", (C_in, kH, kW, H_out, W_out, N), x.dtype)
    for m in range(kH):
        for k in range(kW):
            cols[:, m, k] = _windows(layer, x_pad, m, k, H_out, W_out)
    P = H_out * W_out * N  # every window position of every image (sizes spelt out: N may be 0)
    z = layer.W.reshape(layer.out_channels, -1) @ cols.reshape(C_in * kH * kW, P)  # (C_out, P)
    out = np.empty((N, layer.out_channels, H_out, W_out), dtype=z.dtype)
    np.add(
        z.reshape(layer.out_channels, H_out, W_out, N).transpose(3, 0, 1, 2), layer.b[:, None, None], out=out
    )
    layer._fast_cache = Cache(cols, x.shape)
    return out


def backward(layer: Conv2d, dout: np.ndarray) -> np.ndarray:
    """Set ``layer.grads`` and return dx, all new arrays, from the columns the fast forward kept."""
    cache = layer._cached(layer._fast_cache)
    cols = cache.cols
    N, _, H, W = cache.x_shape
    H_out, W_out = cols.shape[3], cols.shape[4]
    dout = layer._dout(dout, (N, layer.out_channels, H_out, W_out))
    # dout batch-last like cols: (C_out, H_out·W_out·N)
    P = H_out * W_out * N
    d = np.ascontiguousarray(dout.transpose(1, 2, 3, 0), dtype=cols.dtype).reshape(layer.out_channels, P)
    layer.grads["b"] = d.sum(axis=1)  # a new array, as the plain layer gives (never written in place)
    cols_2d = cols.reshape(-1, P) if P else cols.reshape(cols.shape[0] * cols.shape[1] * cols.shape[2], 0)
    dW = np.zeros((layer.out_channels, cols_2d.shape[0]), dtype=cols.dtype)
    for start in range(0, d.shape[1], _BLOCK):  # dW = d @ cols.T, summed block by block
        block = slice(start, start + _BLOCK)
        dW += (cols_2d[:, block] @ d[:, block].T).T
    layer.grads["W"] = dW.reshape(layer.W.shape)
    # col2im: each column of W_2d.T @ d goes back, added, onto the window it was copied from.
    dcols = _buffer(layer, "dcols", cols.shape, cols.dtype)
    np.matmul(layer.W.reshape(layer.out_channels, -1).T, d, out=dcols.reshape(cols_2d.shape))
    (pH, pW), (kH, kW) = layer.padding, layer.kernel_size
    dx_pad = _buffer(layer, "dx_pad", (layer.in_channels, H + 2 * pH, W + 2 * pW, N), cols.dtype)
    dx_pad.fill(0)
    for m in range(kH):
        for k in range(kW):
            _windows(layer, dx_pad, m, k, H_out, W_out)[...] += dcols[:, m, k]
    # a new array (np.array copies), never a view of dx_pad, which the next backward overwrites
    return np.array(dx_pad[:, pH : pH + H, pW : pW + W].transpose(3, 0, 1, 2), order="C")


def _windows(layer: Conv2d, x_pad: np.ndarray, m: int, k: int, H_out: int, W_out: int) -> np.ndarray:
    """The pixel at offset (m, k) of every window: a strided view of the batch-last ``x_pad``."""
    sH, sW = layer.stride
    return x_pad[:, m : m + sH * (H_out - 1) + 1 : sH, k : k + sW * (W_out - 1) + 1 : sW]


def _buffer(layer: Conv2d, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A zeroed work array kept on the layer between calls of the same shape and dtype."""
    buffers = layer.__dict__.setdefault("_fast_buffers", {})
    buf = buffers.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = buffers[name] = np.zeros(shape, dtype=dtype)
    return buf
