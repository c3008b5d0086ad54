"""nnlab: an interactive textbook on neural networks.

``nnlab.np_nn`` is the NumPy reference implementation, where every layer has a hand-written backward
pass; ``nnlab.torch_nn`` is its PyTorch twin with the same names. Importing ``nnlab`` never imports
torch: the PyTorch path loads on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
