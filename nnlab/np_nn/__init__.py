"""The NumPy reference implementation: every layer with a hand-written backward pass.

Example:
    >>> from nnlab import np_nn as nn
    >>> net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    >>> loss, opt = nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1)
"""

from . import functional, init, optim
from .activations import LeakyReLU, PReLU, ReLU, Sigmoid, Sign, Softmax, Step, Tanh
from .conv import AvgPool2d, Conv2d, MaxPool2d, conv2d_naive
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
    "conv2d_naive",
    "fit",
    "functional",
    "init",
    "optim",
]
