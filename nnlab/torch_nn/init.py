r"""Weight initialisers: the NumPy path's own, so both paths start from the same numbers.

Every layer in ``nnlab.torch_nn`` draws its initial weights with these NumPy functions and copies
them into a tensor; ``torch_nn.Linear(784, 10, rng=0)`` and ``np_nn.Linear(784, 10, rng=0)`` start
identical. ``tensor`` does the same for a weight of your own.

Chapter: 4, saturation and cross-entropy (4.7, too large initial weights).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..np_nn.init import (
    INITIALISERS,
    Initialiser,
    constant,
    fans,
    get,
    he_normal,
    he_uniform,
    normal,
    scaled_normal,
    xavier_normal,
    xavier_uniform,
    zeros,
)
from .module import DType, numpy_dtype, resolve_device

__all__ = [
    "INITIALISERS",
    "Initialiser",
    "constant",
    "fans",
    "get",
    "he_normal",
    "he_uniform",
    "normal",
    "scaled_normal",
    "tensor",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]


def tensor(
    init: str | Initialiser,
    shape: Sequence[int],
    rng: np.random.Generator | int | None = None,
    *,
    dtype: DType = np.float32,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    r"""Draw a weight of ``shape`` with a NumPy initialiser and return it as a tensor on ``device``.

    Example:
        >>> w = tensor("he", (256, 784), rng=0)
        >>> round(w.std().item(), 3)                 # about sqrt(2/784) = 0.0505
        0.051
    """
    values = get(init)(tuple(shape), rng, dtype=numpy_dtype(dtype, owner="init"))
    return torch.from_numpy(values).to(resolve_device(device))
