r"""Olteanu's two hand-made 2x2 filters, and the tools to see which black-and-white patches they detect.

A filter followed by a rectifier fires (gives a positive output) on the patches that match it:

$$\mathrm{out} = \max\!\left(0,\ \begin{bmatrix} a & b \\ c & d \end{bmatrix} * K + \mathrm{bias}\right)$$

with black = 0 and white = 1. Over all sixteen binary 2x2 patches,

- ``EDGE_FILTER``, $K = \begin{bmatrix} -1 & 1 \\ -1 & 1 \end{bmatrix}$ with bias -1, gives
  $\max(0, -a + b - c + d - 1)$: it fires only on $\begin{bmatrix} 0 & 1 \\ 0 & 1 \end{bmatrix}$,
  a vertical black-to-white edge;
- ``L_FILTER``, $K = \begin{bmatrix} -1 & 1 \\ -1 & -1 \end{bmatrix}$ with bias 0, gives
  $\max(0, -a + b - c - d)$: it fires only on $\begin{bmatrix} 0 & 1 \\ 0 & 0 \end{bmatrix}$,
  a black L.

The outputs are computed by ``nnlab.np_nn.conv.Conv2d`` with the filter copied into its weights, so
the library's convolution is what is being checked.

Example:
    >>> table = truth_table(*EDGE_FILTER)
    >>> table.firing()                      # the patches with a positive output
    array([[[0, 1],
            [0, 1]]])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .np_nn.conv import Conv2d

__all__ = ["EDGE_FILTER", "L_FILTER", "TruthTable", "all_binary_patches", "apply_filter", "truth_table"]

EDGE_FILTER: tuple[np.ndarray, float] = (np.array([[-1, 1], [-1, 1]]), -1.0)
"""(kernel, bias) of the vertical black-to-white edge detector: fires only on [[0, 1], [0, 1]]."""

L_FILTER: tuple[np.ndarray, float] = (np.array([[-1, 1], [-1, -1]]), 0.0)
"""(kernel, bias) of the black L detector: fires only on [[0, 1], [0, 0]]."""


def all_binary_patches() -> np.ndarray:
    """All sixteen 2x2 patches of black (0) and white (1) pixels, shape (16, 2, 2).

    Patch number p has the pixels a b / c d of p written in binary (a the highest bit), so patch 5
    is [[0, 1], [0, 1]] and patch 4 is [[0, 1], [0, 0]].
    """
    bits = (np.arange(16)[:, None] >> np.array([3, 2, 1, 0])) & 1
    return bits.reshape(16, 2, 2)


def apply_filter(kernel: np.ndarray, bias: float, patches: np.ndarray) -> np.ndarray:
    r"""$\max(0, \sum \mathrm{patch} \odot K + \mathrm{bias})$ for each patch, by a one-filter ``Conv2d``.

    Shapes: kernel (kH, kW), patches (N, kH, kW) -> out (N,), one number per patch.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    conv = Conv2d(1, 1, kernel.shape, dtype=np.float64)
    conv.W[...] = kernel  # the filter becomes the layer's only weight kernel...
    conv.b[...] = bias  # ...and the bias its bias
    z = conv(np.asarray(patches, dtype=np.float64)[:, None])  # (N, 1, 1, 1): one window per patch
    return np.maximum(z, 0.0).reshape(len(z))  # the rectifier


class TruthTable(NamedTuple):
    """Every binary patch, the filter's output on it, and whether it fires (output > 0)."""

    patches: np.ndarray
    outputs: np.ndarray
    fires: np.ndarray

    def firing(self) -> np.ndarray:
        """The patches the filter detects, shape (k, 2, 2)."""
        return self.patches[self.fires]

    def __str__(self) -> str:
        rows = ["patch (a b / c d)   output   fires"]
        for patch, out, fire in zip(self.patches, self.outputs, self.fires):
            (a, b), (c, d) = patch
            rows.append(f"{a} {b} / {c} {d}           {out:6.1f}   {'yes' if fire else ''}".rstrip())
        return "\n".join(rows)


def truth_table(kernel: np.ndarray, bias: float) -> TruthTable:
    """Apply a 2x2 filter with a rectifier to all sixteen binary patches; ``print`` it for a table.

    Example:
        >>> truth_table(*L_FILTER).firing()
        array([[[0, 1],
                [0, 0]]])
    """
    patches = all_binary_patches()
    outputs = apply_filter(kernel, bias, patches)
    return TruthTable(patches, outputs, outputs > 0)
