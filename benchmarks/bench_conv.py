"""Convolution and pooling: nnlab.np_nn against torch.nn.functional, and one LeNet-5 epoch in NumPy.

Forward plus backward (every gradient, dx included), batch 64, float32, on the layers of a LeNet-style
MNIST network:

- conv1: 1 -> 6 channels, 5x5, on 28x28
- conv2: 6 -> 16 channels, 5x5, on 12x12
- maxpool: 2x2 max-pool on 64x6x24x24

Each convolution is timed twice on the NumPy side: the plain im2col ``Conv2d`` students read, and
``Conv2d(..., fast=True)``, the tuned code of ``nnlab/np_nn/_fast_conv.py``. Contenders run
interleaved in blocks: each round runs one contender ``--block`` times in a row, then the next, and
the best single call over ``--rounds`` rounds is kept. (Alternating call by call made OpenBLAS's and
PyTorch's OpenMP threads fight over the two cores: both ran 2-3x slower, measured.) Ratios are NumPy
time over PyTorch time; targets: fast conv at most 3, plain conv at most 6, max-pool at most 4.
``--lenet-epoch`` times one LeNet-5 epoch (forward, cross-entropy, backward, SGD step) on 60,000
random MNIST-shaped images padded to 32x32 with ``nnlab.models.lenet5`` (the fast convolution;
target: under 30 s), and the same network in plain PyTorch for comparison.

The script also runs against older versions of nnlab (before the plain/fast split, whose only
``Conv2d`` was the tuned one): rows it cannot measure there say so.

    python benchmarks/bench_conv.py                        # the layer table
    python benchmarks/bench_conv.py --lenet-epoch          # plus one LeNet-5 epoch
    python benchmarks/bench_conv.py --lenet-epoch --samples 6400 --rounds 5     # a quick run
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import PAUSE_S, machine, table

from nnlab import np_nn as nn
from nnlab.models import lenet5
from nnlab.np_nn.conv import Conv2d, MaxPool2d

BATCH = 64
TARGETS = {"fast": 3.0, "plain": 6.0, "maxpool": 4.0}
HAS_FAST_SWITCH = "fast" in inspect.signature(Conv2d).parameters  # False before the plain/fast split


def conv_layer(c_in: int, c_out: int, seed: int, fast: bool) -> Conv2d | None:
    """The NumPy layer to time; None for the plain one in a version that has only the tuned layer."""
    if not HAS_FAST_SWITCH:
        return Conv2d(c_in, c_out, 5, rng=seed) if fast else None
    return Conv2d(c_in, c_out, 5, rng=seed, fast=fast)


def layer_cases(rng: np.random.Generator) -> dict[str, tuple]:
    """name -> (NumPy layer or None, input, torch function of (x, W, b), target key)."""
    import torch.nn.functional as F

    x1 = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    x2 = rng.standard_normal((BATCH, 6, 12, 12), dtype=np.float32)
    xp = rng.standard_normal((BATCH, 6, 24, 24), dtype=np.float32)
    conv = lambda x, W, b: F.conv2d(x, W, b)  # noqa: E731
    return {
        "conv1, fast": (conv_layer(1, 6, 0, True), x1, conv, "fast"),
        "conv1, plain": (conv_layer(1, 6, 0, False), x1, conv, "plain"),
        "conv2, fast": (conv_layer(6, 16, 1, True), x2, conv, "fast"),
        "conv2, plain": (conv_layer(6, 16, 1, False), x2, conv, "plain"),
        "maxpool": (MaxPool2d(2), xp, lambda x, W, b: F.max_pool2d(x, 2), "maxpool"),
    }


def numpy_step(layer, x: np.ndarray, dout: np.ndarray):
    def run():
        layer.forward(x)
        layer.backward(dout)

    return run


def torch_step(fn, layer, x: np.ndarray, dout: np.ndarray):
    import torch

    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)
    W = torch.from_numpy(layer.W.copy()).requires_grad_() if isinstance(layer, Conv2d) else None
    b = torch.from_numpy(layer.b.copy()).requires_grad_() if isinstance(layer, Conv2d) else None

    def run():
        x_in = xt.detach().requires_grad_(True)
        if W is not None:
            W.grad = b.grad = None
        fn(x_in, W, b).backward(dt)

    return run


def best_in_blocks(fns: dict, rounds: int, block: int) -> dict[str, float]:
    """Best seconds per call of each function, running each ``block`` times in a row per round.

    The best of a block comes from its later calls, which run after the same library's own, so the
    other library's spinning worker threads (see ``_common.best_of``) do not reach the figures.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(block):
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def layer_table(rounds: int, block: int) -> None:
    import torch

    rng = np.random.default_rng(0)
    rows = []
    for name, (layer, x, fn, target) in layer_cases(rng).items():
        if layer is None:
            rows.append((name, f"{tuple(x.shape)}", "n/a", "", "", "no plain Conv2d in this version"))
            continue
        dout = rng.standard_normal(layer.forward(x).shape, dtype=np.float32)
        fns = {"numpy": numpy_step(layer, x, dout), "torch": torch_step(fn, layer, x, dout)}
        seconds = best_in_blocks(fns, rounds, block)
        ratio = seconds["numpy"] / seconds["torch"]
        verdict = "ok" if ratio <= TARGETS[target] else "OVER"
        rows.append(
            (
                name,
                f"{tuple(x.shape)}",
                f"{seconds['numpy'] * 1e3:.3f}",
                f"{seconds['torch'] * 1e3:.3f}",
                f"{ratio:.2f}",
                f"<= {TARGETS[target]:g}  {verdict}",
            )
        )
    print(
        f"\nForward + backward, float32, best call of {rounds} rounds x {block}; torch {torch.__version__} with"
        f" {torch.get_num_threads()} threads; {machine()}\n"
    )
    print(table(rows, ("layer", "input", "NumPy ms", "PyTorch ms", "ratio", "target")))


def mnist_shaped(samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Random 28x28 'digits' padded by 2 pixels to 32x32, as LeNet-5 expects, and random labels."""
    rng = np.random.default_rng(0)
    X = np.zeros((samples, 1, 32, 32), dtype=np.float32)
    X[:, :, 2:30, 2:30] = rng.random((samples, 1, 28, 28), dtype=np.float32)
    return X, rng.integers(0, 10, samples)


def numpy_epoch(X: np.ndarray, y: np.ndarray) -> float:
    net, loss = lenet5(rng=0), nn.CrossEntropyLoss()  # the fast convolution (the only one in older versions)
    opt = nn.optim.SGD(net, lr=0.05)
    order = np.random.default_rng(0).permutation(len(X))
    start = time.perf_counter()
    for first in range(0, len(X), BATCH):
        idx = order[first : first + BATCH]
        loss(net(X[idx]), y[idx])
        net.backward(loss.backward())
        opt.step()
    return time.perf_counter() - start


def torch_epoch(X: np.ndarray, y: np.ndarray) -> float:
    import torch
    from torch import nn as tnn

    torch.manual_seed(0)
    net = tnn.Sequential(
        tnn.Conv2d(1, 6, 5), tnn.Tanh(), tnn.AvgPool2d(2), tnn.Conv2d(6, 16, 5), tnn.Tanh(), tnn.AvgPool2d(2),
        tnn.Flatten(), tnn.Linear(400, 120), tnn.Tanh(), tnn.Linear(120, 84), tnn.Tanh(), tnn.Linear(84, 10),
    )  # fmt: skip
    opt, loss_fn = torch.optim.SGD(net.parameters(), lr=0.05), tnn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    order = torch.from_numpy(np.random.default_rng(0).permutation(len(X)))
    start = time.perf_counter()
    for first in range(0, len(X), BATCH):
        idx = order[first : first + BATCH]
        opt.zero_grad()
        loss_fn(net(Xt[idx]), yt[idx]).backward()
        opt.step()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds of the layer timings")
    parser.add_argument("--block", type=int, default=5, help="calls in a row per contender and round")
    parser.add_argument("--lenet-epoch", action="store_true", help="also time one LeNet-5 epoch")
    parser.add_argument("--samples", type=int, default=60_000, help="images in the LeNet-5 epoch")
    parser.add_argument("--epoch-repeats", type=int, default=1)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch (layer table and epoch)")
    args = parser.parse_args(argv)

    if not args.no_torch:
        layer_table(args.rounds, args.block)
    if args.lenet_epoch:
        X, y = mnist_shaped(args.samples)
        contenders = {"nnlab.np_nn LeNet-5": numpy_epoch}
        if not args.no_torch:
            contenders["plain PyTorch LeNet-5"] = torch_epoch
        best = dict.fromkeys(contenders, float("inf"))
        for _ in range(args.epoch_repeats):
            for name, fn in contenders.items():
                time.sleep(PAUSE_S)  # the other library's worker threads stop spinning (_common.best_of)
                best[name] = min(best[name], fn(X, y))
        full = 60_000 / args.samples
        rows = [(name, f"{args.samples:,}", f"{s:.2f}", f"{s * full:.1f}") for name, s in best.items()]
        print(f"\nOne LeNet-5 epoch, batch {BATCH}, float32, SGD; best of {args.epoch_repeats}\n")
        print(table(rows, ("contender", "samples", "seconds", "s per 60,000 (target < 30 for NumPy)")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
