"""What fit's diagnostics cost: one epoch of the 784-512-256-10 ReLU MLP with diagnostics on and off.

The MLP benchmark's network and data (softmax cross-entropy, SGD lr 0.01, batch 128, MNIST-shaped
random float32 data), on both paths: ``nnlab.np_nn.fit`` and ``nnlab.torch_nn.fit`` (on
``--device``, default ``nnlab.device()``), each run with ``diagnostics=True`` and ``diagnostics=False``.
Each timed run is a whole ``fit(..., epochs=1)``, so the checks made once per fit (the inputs'
scale, the probe before training) are charged to that one epoch: the worst case. Contenders run
side by side (on, off, off, on, on, off, ...) with a pause before each run, so one library's spinning
threads do not slow the next; the report gives the best of ``--repeats`` and the median of the
paired ratios. Target: diagnostics cost under 5% of an epoch.

    python benchmarks/bench_diagnostics.py                          # 20,000 samples, 5 repeats
    python benchmarks/bench_diagnostics.py --samples 4000 --repeats 3   # quick
    python benchmarks/bench_diagnostics.py --paths torch --device cuda
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import PAUSE_S, machine, table


def _epoch(path: str, X: np.ndarray, y: np.ndarray, batch: int, diagnostics: bool, device):
    """A function that trains one epoch; the network is built once, outside the timing."""
    if path == "numpy":
        from nnlab import np_nn as nn

        kw = {}
    else:
        from nnlab import torch_nn as nn

        kw = {"device": device}
    net = nn.Sequential(
        nn.Linear(784, 512, init="he", rng=0, **kw), nn.ReLU(),
        nn.Linear(512, 256, init="he", rng=1, **kw), nn.ReLU(),
        nn.Linear(256, 10, init="he", rng=2, **kw),
    )  # fmt: skip
    loss, opt = nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.01)

    def run() -> None:
        nn.fit(
            net, loss, opt, X, y, epochs=1, batch_size=batch, rng=0, progress=False, diagnostics=diagnostics
        )
        if path != "numpy" and device.type == "cuda":
            import torch

            torch.cuda.synchronize(device)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pause", type=float, default=PAUSE_S, help="seconds of sleep before each timed run")
    parser.add_argument("--paths", default="numpy,torch", help="numpy, torch or both (comma-separated)")
    parser.add_argument("--device", default=None, help="for the torch path: cpu, cuda or mps")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.samples).astype(np.int64)
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    device = None
    if "torch" in paths:
        import torch

        import nnlab

        device = torch.device(args.device) if args.device else nnlab.device()
    rows, summary = [], []
    for path in paths:
        fns = {on: _epoch(path, X, y, args.batch, on, device) for on in (True, False)}
        for fn in fns.values():
            fn()  # warm-up: imports, first-call set-up, kernels chosen
        times = {True: [], False: []}
        for repeat in range(args.repeats):
            for on in (True, False) if repeat % 2 == 0 else (False, True):  # alternate who goes first
                fn = fns[on]
                time.sleep(args.pause)
                start = time.perf_counter()
                fn()
                times[on].append(time.perf_counter() - start)
        best = {on: min(t) for on, t in times.items()}
        pairs = [a / b - 1 for a, b in zip(times[True], times[False])]
        where = "NumPy" if path == "numpy" else f"PyTorch on {device}"
        for on in (True, False):
            rows.append((f"{where}, diagnostics={on}", f"{best[on]:.3f}", f"{args.samples / best[on]:,.0f}"))
        summary.append(
            f"{where}: diagnostics add {100 * (best[True] / best[False] - 1):+.1f} % (best of"
            f" {args.repeats}); median of the paired ratios {100 * float(np.median(pairs)):+.1f} %"
        )
    print(
        f"\nOne fit epoch, 784-512-256-10 ReLU, batch {args.batch}, {args.samples:,} samples, float32;"
        f" best of {args.repeats}, {args.pause:g} s pause before each run; {machine()}\n"
    )
    print(table(rows, ("contender", "seconds", "samples/s")))
    print()
    print("\n".join(summary))
    print("target: under +5 %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
