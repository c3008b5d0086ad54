"""Convolution and pooling: nnlab.np_nn against torch.nn.functional, and one LeNet-5 epoch in NumPy.

Forward plus backward, batch 64, float32, on the layers of a LeNet-style MNIST network:

- conv1: 1 -> 6 channels, 5x5, on 28x28 (also without the input gradient, as a network's first layer)
- conv2: 6 -> 16 channels, 5x5, on 12x12
- maxpool: 2x2 max-pool on 64x6x24x24

Both sides compute every gradient the row names (with dx: PyTorch's input requires grad). Contenders
run interleaved in blocks: each round runs NumPy ``--block`` times in a row, then PyTorch, and the
best single call over ``--rounds`` rounds is kept. (Alternating call by call made OpenBLAS's and
PyTorch's OpenMP threads fight over the two cores: both ran 2-3x slower, measured.) Ratios are
NumPy time over PyTorch time (targets: at most 3 on each conv layer, 4 on max-pool). ``--lenet-epoch`` times one LeNet-5 epoch (forward,
cross-entropy, backward, SGD step) on 60,000 random MNIST-shaped images padded to 32x32 (target:
under 30 s here), and the same network in plain PyTorch for comparison.

    python benchmarks/bench_conv.py                        # the layer table
    python benchmarks/bench_conv.py --lenet-epoch          # plus one LeNet-5 epoch
    python benchmarks/bench_conv.py --lenet-epoch --samples 6400 --rounds 5     # a quick run
"""

from __future__ import annotations

import argparse
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
TARGETS = {"conv1": 3.0, "conv1, no dx": 3.0, "conv2": 3.0, "maxpool": 4.0}


def layer_cases(rng: np.random.Generator) -> dict[str, tuple]:
    """name -> (NumPy layer, input, upstream gradient, torch function of (x, W, b), needs dx)."""
    import torch.nn.functional as F

    conv1, conv2, pool = Conv2d(1, 6, 5, rng=0), Conv2d(6, 16, 5, rng=1), MaxPool2d(2)
    x1 = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    x2 = rng.standard_normal((BATCH, 6, 12, 12), dtype=np.float32)
    xp = rng.standard_normal((BATCH, 6, 24, 24), dtype=np.float32)
    conv = lambda x, W, b: F.conv2d(x, W, b)  # noqa: E731
    return {
        "conv1": (conv1, x1, conv, True),
        "conv1, no dx": (conv1, x1, conv, False),
        "conv2": (conv2, x2, conv, True),
        "maxpool": (pool, xp, lambda x, W, b: F.max_pool2d(x, 2), True),
    }


def numpy_step(layer, x: np.ndarray, dout: np.ndarray, dx: bool):
    def run():
        layer.forward(x)
        if isinstance(layer, Conv2d):
            layer.backward(dout, input_grad=dx)
        else:
            layer.backward(dout)

    return run


def torch_step(fn, layer, x: np.ndarray, dout: np.ndarray, dx: bool):
    import torch

    xt, dt = torch.from_numpy(x), torch.from_numpy(dout)
    W = torch.from_numpy(layer.W.copy()).requires_grad_() if isinstance(layer, Conv2d) else None
    b = torch.from_numpy(layer.b.copy()).requires_grad_() if isinstance(layer, Conv2d) else None

    def run():
        x_in = xt.detach().requires_grad_(dx)
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
    for name, (layer, x, fn, dx) in layer_cases(rng).items():
        dout = rng.standard_normal(layer.forward(x).shape, dtype=np.float32)
        fns = {"numpy": numpy_step(layer, x, dout, dx), "torch": torch_step(fn, layer, x, dout, dx)}
        seconds = best_in_blocks(fns, rounds, block)
        ratio = seconds["numpy"] / seconds["torch"]
        verdict = "ok" if ratio <= TARGETS[name] else "OVER"
        rows.append(
            (
                name,
                f"{tuple(x.shape)}",
                f"{seconds['numpy'] * 1e3:.3f}",
                f"{seconds['torch'] * 1e3:.3f}",
                f"{ratio:.2f}",
                f"<= {TARGETS[name]:g}  {verdict}",
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
    net, loss = lenet5(rng=0), nn.CrossEntropyLoss()
    opt = nn.optim.SGD(net, lr=0.05)
    order = np.random.default_rng(0).permutation(len(X))
    start = time.perf_counter()
    for first in range(0, len(X), BATCH):
        idx = order[first : first + BATCH]
        loss(net(X[idx]), y[idx])
        net.backward(loss.backward(), input_grad=False)  # the images need no gradient
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
                time.sleep(
                    PAUSE_S
                )  # let the other library's worker threads stop spinning (see _common.best_of)
                best[name] = min(best[name], fn(X, y))
        full = 60_000 / args.samples
        rows = [(name, f"{args.samples:,}", f"{s:.2f}", f"{s * full:.1f}") for name, s in best.items()]
        print(f"\nOne LeNet-5 epoch, batch {BATCH}, float32, SGD; best of {args.epoch_repeats}\n")
        print(table(rows, ("contender", "samples", "seconds", "s per 60,000 (target < 30 for NumPy)")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
