"""nnlab: an interactive textbook on neural networks, and the small library its chapters call.

The library:

- ``nnlab.np_nn``: the NumPy reference implementation, every layer with a hand-written backward
  pass; ``fit`` trains a model and returns a ``History``.
- ``nnlab.torch_nn``: its PyTorch twin, with the same names, running on ``nnlab.device()``.
- ``nnlab.bridge``: copy weights between the two paths and check that they agree.
- ``nnlab.data``: the lectures' small tables, 2-D playground sets, MNIST, minibatches.
- ``nnlab.diagnostics``: what ``fit`` watches while it trains (``TrainingWarning``).
- ``nnlab.gradcheck``: backward passes checked against finite differences.
- ``nnlab.models``, ``nnlab.filters``: LeNet-5, and the lectures' hand-made edge detectors.

Importing ``nnlab`` imports none of them: each loads on first use (``nnlab.np_nn``), so
``import nnlab`` and ``help(nnlab)`` stay quick and never import torch. ``torch_nn`` and ``bridge``
need PyTorch and are left out of ``__all__`` and ``dir(nnlab)`` for that reason; ask for them by
name (``from nnlab import torch_nn``).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = ("data", "diagnostics", "filters", "gradcheck", "history", "models", "np_nn")
_NEEDS_TORCH = ("bridge", "torch_nn")
_NAMES = {  # name -> (module, attribute)
    "History": ("history", "History"),
    "TrainingWarning": ("diagnostics", "TrainingWarning"),
    "device": ("_device", "device"),
}

__all__ = ["History", "TrainingWarning", "__version__", "device", *_SUBMODULES]


def __getattr__(name: str) -> object:
    """Load a submodule or name on first use (torch only with ``torch_nn`` and ``bridge``)."""
    if name in _SUBMODULES or name in _NEEDS_TORCH:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        module, attribute = _NAMES[name]
        return getattr(importlib.import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module 'nnlab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
