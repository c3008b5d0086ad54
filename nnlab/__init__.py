"""nnlab: an interactive textbook on neural networks.

``nnlab.np_nn`` is the NumPy reference implementation, where every layer has a hand-written backward
pass; ``nnlab.torch_nn`` is its PyTorch twin with the same names. Importing ``nnlab`` never imports
torch: the PyTorch path loads on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]


def __getattr__(name: str) -> object:
    """Load the PyTorch side on first use: ``nnlab.device`` and ``nnlab.bridge`` (torch is not imported here)."""
    if name == "device":
        from ._device import device

        return device
    if name == "bridge":
        import importlib

        return importlib.import_module(".bridge", __name__)
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "bridge", "device"})
