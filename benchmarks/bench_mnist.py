"""Chapter 9's networks on real MNIST: accuracy and training time, trained on 8,000 digits, tested on 2,000 others.

The data is the real MNIST test set in ``../shared/data/mnist`` (beside the repository) or ``--data``:
its first 8,000 images train, its last 2,000 test (``nnlab.lessons.mnist.book_mnist``), the split chapter 9
uses. Four contenders, each trained once from a fixed seed (a report, not a timed test):

- ``MLP quick``: chapter 9's default, 784-100-10 ReLU, SGD (lr 0.1, momentum 0.9), batch 64, 5 epochs
  (target: above 94%);
- ``MLP tuned``: the same network with L2 regularisation (weight decay 5e-4) for 30 epochs, Nielsen's
  setting (target: at least 96.5%);
- ``LeNet-5 quick``: chapter 9's default, ``models.lenet5("torch")`` through ``nnlab.torch_nn.fit`` on
  ``nnlab.device()``, SGD (lr 0.05, momentum 0.9), 3 epochs;
- ``LeNet-5 tuned``: 20 epochs, the learning rate divided by 10 after epoch 12, and each epoch's
  training digits shifted at random by up to 2 pixels in each direction (target: at least 98%).

Times are wall-clock seconds of training (with ``fit``'s diagnostics on, as in the chapter), with
a pause between contenders; on a shared machine they are noisy. ``--threads N`` sets PyTorch's thread
count (on a busy 2-core machine, 1 thread was up to 4x faster than 2); for NumPy, set
``OPENBLAS_NUM_THREADS`` in the environment before starting.

    python benchmarks/bench_mnist.py                    # all four
    python benchmarks/bench_mnist.py --only mlp         # the two MLPs
    python benchmarks/bench_mnist.py --device cuda      # LeNet-5 on a GPU
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import PAUSE_S, machine, table

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
TARGETS = {"MLP quick": 0.94, "MLP tuned": 0.965, "LeNet-5 quick": None, "LeNet-5 tuned": 0.98}


def mlp(X_train, y_train, X_test, y_test, *, epochs: int, weight_decay: float) -> tuple[float, float]:
    """Chapter 9's 784-100-10 MLP with np_nn; returns (test accuracy, seconds)."""
    from nnlab import np_nn as nn

    net = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 100, init="he", rng=0), nn.ReLU(), nn.Linear(100, 10, rng=1)
    )
    optimizer = nn.optim.SGD(net, lr=0.1, momentum=0.9, weight_decay=weight_decay)
    start = time.perf_counter()
    history = nn.fit(net, nn.CrossEntropyLoss(), optimizer, X_train, y_train, epochs=epochs, batch_size=64,
                     validation=(X_test, y_test), rng=0, progress=False)  # fmt: skip
    return history.val_acc[-1], time.perf_counter() - start


def shifted(X: np.ndarray, rng: np.random.Generator, most: int = 2) -> np.ndarray:
    """Each padded digit (N, 1, 32, 32) moved by a random whole number of pixels, -most..most, each way."""
    out = np.empty_like(X)
    dy, dx = rng.integers(-most, most + 1, size=(2, len(X)))
    for i in range(len(X)):
        out[i] = np.roll(X[i], (dy[i], dx[i]), axis=(1, 2))  # the 2-pixel zero border keeps the ink inside
    return out


def lenet(
    X_train, y_train, X_test, y_test, *, epochs: int, tuned: bool, device: str | None
) -> tuple[float, float]:
    """LeNet-5 through torch_nn.fit, one epoch per call; returns (test accuracy, seconds)."""
    import torch

    import nnlab
    from nnlab import models
    from nnlab import torch_nn as tnn

    target = torch.device(device) if device else nnlab.device()
    net = models.lenet5("torch", rng=0).to(target)
    optimizer = tnn.optim.SGD(net, lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for epoch in range(epochs):
        if tuned and epoch == 12:
            for group in optimizer.param_groups:
                group["lr"] = 0.005  # η divided by 10 for the last epochs
        X = shifted(X_train, rng) if tuned else X_train
        history = tnn.fit(net, tnn.CrossEntropyLoss(), optimizer, X, y_train, epochs=1, batch_size=64,
                          validation=(X_test, y_test), rng=rng, progress=False)  # fmt: skip
    if target.type == "cuda":
        torch.cuda.synchronize()
    return history.val_acc[-1], time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_MNIST, help="folder with the MNIST test set")
    parser.add_argument("--only", choices=("mlp", "lenet"), help="run only these contenders")
    parser.add_argument("--device", help="torch device for LeNet-5 (default: nnlab.device())")
    parser.add_argument("--threads", type=int, help="PyTorch's threads (default: its own choice)")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"bench_mnist needs the real MNIST test set; {args.data} is not a folder (use --data).")
        return 2
    from nnlab.lessons.mnist import book_mnist, pad_to_32

    split = book_mnist(data_dir=args.data)
    if not split.is_mnist:
        print(f"bench_mnist needs real MNIST; got {split.source}.")
        return 2
    data = (split.X_train, split.y_train, split.X_test, split.y_test)
    padded = (pad_to_32(split.X_train), split.y_train, pad_to_32(split.X_test), split.y_test)
    if args.threads and args.only != "mlp":
        import torch

        torch.set_num_threads(args.threads)
    runs = {}
    if args.only in (None, "mlp"):
        runs["MLP quick"] = lambda: mlp(*data, epochs=5, weight_decay=0.0)
        runs["MLP tuned"] = lambda: mlp(*data, epochs=30, weight_decay=5e-4)
    if args.only in (None, "lenet"):
        runs["LeNet-5 quick"] = lambda: lenet(*padded, epochs=3, tuned=False, device=args.device)
        runs["LeNet-5 tuned"] = lambda: lenet(*padded, epochs=20, tuned=True, device=args.device)
    rows, missed = [], []
    for name, run in runs.items():
        time.sleep(PAUSE_S)  # let the previous contender's threads go idle
        accuracy, seconds = run()
        target = TARGETS[name]
        verdict = "-" if target is None else ("met" if accuracy >= target else "MISSED")
        if verdict == "MISSED":
            missed.append(name)
        rows.append(
            (name, f"{accuracy:.2%}", "-" if target is None else f"{target:.1%}", verdict, f"{seconds:.1f}")
        )
        print(f"{name}: {accuracy:.2%} in {seconds:.1f} s", flush=True)
    print()
    print(f"MNIST, 8,000 training / 2,000 test digits; {machine()}")
    print(table(rows, ("network", "test accuracy", "target", "", "seconds")))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
