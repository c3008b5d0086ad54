"""The PyTorch twin of ``nnlab.np_nn``: the same names and parameters, with autograd for backward.

Every class is a ``torch.nn.Module`` (losses too), so it also works with plain PyTorch code.
Models run on ``nnlab.device()`` (CUDA, then Apple's MPS, then the CPU; ``NNLAB_DEVICE``
overrides) and take NumPy arrays as input. ``nnlab.bridge`` copies weights between the two paths
and checks that they agree.

Example:
    >>> from nnlab import torch_nn as nn
    >>> net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    >>> loss, opt = nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1)
"""

try:
    import torch  # noqa: F401
except ImportError as exc:
    raise ImportError('nnlab.torch_nn needs PyTorch: pip install "nnlab[torch]"') from exc

from . import functional, init, optim
from .activations import LeakyReLU, PReLU, ReLU, Sigmoid, Sign, Softmax, Step, Tanh
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .layers import Dropout, Flatten, Linear
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Penalty, Loss, MSELoss
from .module import Module, Sequential
from .perceptron import ConvergenceWarning, Perceptron
from .training import History, accuracy, fit

__all__ = [
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Conv2d",
    "ConvergenceWarning",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "History",
    "L1Penalty",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "PReLU",
    "Perceptron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Sign",
    "Softmax",
    "Step",
    "Tanh",
    "accuracy",
    "fit",
    "functional",
    "init",
    "optim",
]
