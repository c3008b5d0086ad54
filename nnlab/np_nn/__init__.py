"""The NumPy reference implementation: every layer with a hand-written backward pass.

Example:
    >>> from nnlab import np_nn as nn
    >>> net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    >>> loss, opt = nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1)
"""

from . import functional, init, optim
from .activations import LeakyReLU, PReLU, ReLU, Sigmoid, Sign, Softmax, Step, Tanh
from .layers import Dropout, Flatten, Linear
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, Sequential
from .perceptron import ConvergenceWarning, Perceptron
from .training import History, accuracy, fit

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "ConvergenceWarning",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "History",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
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
