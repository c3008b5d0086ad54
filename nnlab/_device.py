"""``nnlab.device()``: where the PyTorch path runs, CUDA first, then Apple's MPS, then the CPU.

The environment variable ``NNLAB_DEVICE`` overrides the choice: ``cpu``, ``cuda``, ``cuda:N`` or
``mps``. Importing this module does not import torch; calling ``device()`` does.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["device"]

VALID = '"cpu", "cuda", "cuda:N" (N the index of a GPU) or "mps"'


def device() -> torch.device:
    """The ``torch.device`` the PyTorch path uses: ``NNLAB_DEVICE`` if set, else CUDA, MPS or CPU.

    Example:
        >>> import nnlab
        >>> nnlab.device().type         # 'cpu' on a laptop without a GPU
        '...'

    Chapter: 3, backpropagation (the PyTorch twin).
    """
    try:
        import torch
    except ImportError as exc:
        raise ImportError('nnlab.device() needs PyTorch: pip install "nnlab[torch]"') from exc
    requested = os.environ.get("NNLAB_DEVICE", "").strip().lower()
    if requested:
        return _requested(torch, requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available(torch):
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _available(torch) -> list[str]:
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available(torch):
        names.append("mps")
    return names


def _requested(torch, requested: str) -> torch.device:
    """Check the value of ``NNLAB_DEVICE`` and that the machine has that device."""
    match = re.fullmatch(r"(cpu|mps|cuda)(?::(\d+))?", requested)
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise ValueError(f"NNLAB_DEVICE expected {VALID}; got {requested!r}.")
    kind, index = match.group(1), match.group(2)
    available = (
        kind == "cpu"
        or (kind == "mps" and _mps_available(torch))
        or (kind == "cuda" and torch.cuda.is_available() and int(index or 0) < torch.cuda.device_count())
    )
    if not available:
        raise ValueError(
            f"NNLAB_DEVICE asks for {requested!r}, which this machine does not have;"
            f" available here: {', '.join(_available(torch))}. Unset NNLAB_DEVICE to choose automatically."
        )
    return torch.device(requested)
