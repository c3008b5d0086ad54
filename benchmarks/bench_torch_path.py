"""One training epoch of a 784-512-256-10 ReLU network: nnlab.torch_nn's fit against a plain PyTorch loop.

Softmax cross-entropy, minibatch SGD (lr 0.01), batch 128, on MNIST-shaped random float32 data, on
one device (``--device``, default ``nnlab.device()``). Both contenders start from NumPy arrays and
copy them to the device inside the timed run. The plain loop is the leanest one can write
(``torch.nn`` + ``torch.optim``, no loss or accuracy tracking); ``nnlab.torch_nn.fit`` also sums the
loss and accuracy of every step into its ``History`` and, by default, runs its diagnostics (a probe
of 256 examples before training and after the epoch, the gradient norms of 4 steps, all on the
device); a third row shows it with ``diagnostics=False``. Contenders run interleaved with a pause
before each run, best of ``--repeats`` (and the median of the paired ratios, steadier on a busy
machine); the target is at most 5 % overhead with diagnostics on.

    python benchmarks/bench_torch_path.py                     # 20,000 samples, batch 128, 3 repeats
    python benchmarks/bench_torch_path.py --device cuda --batch 1024
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import PAUSE_S, machine, table

SIZES = (784, 512, 256, 10)


def _sync(device) -> None:
    """Wait for the device, so the clock measures finished work."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def plain_torch_epoch(X: np.ndarray, y: np.ndarray, batch: int, device):
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    ).to(device)  # fmt: skip
    loss_fn = torch.nn.CrossEntropyLoss()

    def run() -> None:
        Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        perm = torch.from_numpy(np.random.default_rng(0).permutation(len(X))).to(device)
        for start in range(0, len(X), batch):
            idx = perm[start : start + batch]
            opt.zero_grad()
            loss = loss_fn(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        _sync(device)

    return run


def nnlab_epoch(X: np.ndarray, y: np.ndarray, batch: int, device, diagnostics: bool = True):
    from nnlab import torch_nn as nn

    net = nn.Sequential(
        nn.Linear(784, 512, init="he", rng=0, device=device), nn.ReLU(),
        nn.Linear(512, 256, init="he", rng=1, device=device), nn.ReLU(),
        nn.Linear(256, 10, init="he", rng=2, device=device),
    )  # fmt: skip
    loss = nn.CrossEntropyLoss()

    def run() -> None:
        nn.fit(net, loss, nn.optim.SGD(net, lr=0.01), X, y, epochs=1, batch_size=batch, rng=0, progress=False,
               diagnostics=diagnostics)  # fmt: skip
        _sync(device)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: nnlab.device())")
    parser.add_argument("--pause", type=float, default=PAUSE_S, help="seconds of sleep before each timed run")
    args = parser.parse_args(argv)

    import torch

    import nnlab

    device = torch.device(args.device) if args.device else nnlab.device()
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.samples).astype(np.int64)
    fns = {
        "plain PyTorch (torch.nn + torch.optim loop)": plain_torch_epoch(X, y, args.batch, device),
        "nnlab.torch_nn (fit)": nnlab_epoch(X, y, args.batch, device),
        "nnlab.torch_nn (fit, diagnostics=False)": nnlab_epoch(X, y, args.batch, device, diagnostics=False),
    }
    small = min(args.samples, 4 * args.batch)
    for fn in (
        plain_torch_epoch(X[:small], y[:small], args.batch, device),
        nnlab_epoch(X[:small], y[:small], args.batch, device),
    ):
        fn()  # warm up: the first torch optimiser imports torch._dynamo (about 1 s), kernels get chosen
    runs = {name: [] for name in fns}
    for _ in range(args.repeats):  # interleaved, as _common.best_of does, keeping every time
        for name, fn in fns.items():
            time.sleep(args.pause)
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
    seconds = {name: min(times) for name, times in runs.items()}
    rate = {name: args.samples / s for name, s in seconds.items()}

    print(
        f"\nOne epoch, 784-512-256-10 ReLU, batch {args.batch}, {args.samples:,} samples, on {device};"
        f" best of {args.repeats}, {args.pause:g} s pause before each run; {machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads\n"
    )
    print(
        table(
            [(n, f"{seconds[n]:.3f}", f"{rate[n]:,.0f}") for n in fns], ("contender", "seconds", "samples/s")
        )
    )
    plain_name = "plain PyTorch (torch.nn + torch.optim loop)"
    for name in list(fns)[1:]:
        overhead = 100 * (seconds[name] / seconds[plain_name] - 1)
        pairs = [b / a - 1 for a, b in zip(runs[plain_name], runs[name], strict=True)]  # run back to back
        print(
            f"\n{name} over plain PyTorch: {overhead:+.1f} % (target <= +5 %);"
            f" median over the {len(pairs)} interleaved pairs: {100 * float(np.median(pairs)):+.1f} %"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
