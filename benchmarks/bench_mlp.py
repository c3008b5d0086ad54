"""One training epoch of a 784-512-256-10 ReLU network: nnlab.np_nn against plain PyTorch.

Softmax cross-entropy, minibatch SGD (lr 0.01), batch 128, on MNIST-shaped random float32 data.
PyTorch computes no gradient for the input batch; ``nnlab.np_nn`` does (its ``backward`` always
returns dx, as the math reads), which is one extra (128 x 512) x (512 x 784) product a step.
Contenders run interleaved, best of ``--repeats`` with a pause before each run, and the report gives
samples per second and ratios (targets: np_nn float32 at least 0.8x PyTorch; float64 at most 2.5x
slower than float32).
Two reference rows show where the ceiling is: a lean hand-written loop, and the batch gather and
matrix products alone (what is left when everything else is free).

    python benchmarks/bench_mlp.py                 # 20,000 samples, 3 repeats
    python benchmarks/bench_mlp.py --samples 5000 --repeats 1   # the quick CI report
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import PAUSE_S, best_of, machine, table

from nnlab import np_nn as nn

SIZES = (784, 512, 256, 10)


def numpy_net(dtype) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(784, 512, init="he", rng=0, dtype=dtype), nn.ReLU(),
        nn.Linear(512, 256, init="he", rng=1, dtype=dtype), nn.ReLU(),
        nn.Linear(256, 10, init="he", rng=2, dtype=dtype),
    )  # fmt: skip


def numpy_epoch(X, y, batch, dtype):
    def run():
        net = numpy_net(dtype)
        nn.fit(
            net,
            nn.CrossEntropyLoss(),
            nn.optim.SGD(net, lr=0.01),
            X.astype(dtype, copy=False),
            y,
            epochs=1,
            batch_size=batch,
            rng=0,
            progress=False,
        )
        return net

    return run


def _linear_params(net: nn.Sequential) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The weights and biases of ``numpy_net``'s three Linear layers, the arrays themselves (not copies)."""
    layers = [m for m in net if isinstance(m, nn.Linear)]
    return [m.W for m in layers], [m.b for m in layers]


def matmul_floor_epoch(X, y, batch):
    """Reference row: only the batch gather and the five matrix products of each step, nothing else.

    No NumPy training loop can be faster than this: it is what is left with activations, loss, bias
    and update all free.
    """

    def run():
        (W1, W2, W3), _ = _linear_params(numpy_net(np.float32))
        gW = [np.empty_like(W) for W in (W1, W2, W3)]
        order = np.random.default_rng(0).permutation(len(X))
        for start in range(0, len(X), batch):
            xb = X[order[start : start + batch]]
            h1 = xb @ W1.T
            h2 = h1 @ W2.T
            d3 = h2 @ W3.T
            np.matmul(d3.T, h2, out=gW[2])
            d2 = d3 @ W3
            np.matmul(d2.T, h1, out=gW[1])
            d1 = d2 @ W2
            np.matmul(d1.T, xb, out=gW[0])

    return run


def lean_epoch(X, y, batch, first_dx=False):
    """Reference row: the leanest hand-written NumPy loop, no checks, buffers reused, as the issue's baseline.

    It starts from the same weights and visits the batches in the same order as ``numpy_epoch``, and
    ends with the same weights (``tests/test_benchmarks.py`` checks this). With ``first_dx`` it also
    computes the first layer's input gradient δ₁W₁, as ``np_nn`` does (its ``backward`` always returns
    dx): the same arithmetic as ``fit``, one (N x 512) x (512 x 784) product a step more than without.
    """

    def run():
        net = numpy_net(np.float32)  # the same starting weights as nnlab's run
        Ws, bs = _linear_params(net)
        params = Ws + bs
        grads = [np.empty_like(p) for p in params]
        bufs = [np.empty_like(p) for p in params]
        order = np.random.default_rng(0).permutation(len(X))
        dx = np.empty((batch, X.shape[1]), dtype=np.float32)
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            xb, yb, n = X[idx], y[idx], len(idx)
            if first_dx and n != len(dx):
                dx = np.empty((n, X.shape[1]), dtype=np.float32)
            z1 = xb @ Ws[0].T
            z1 += bs[0]
            h1 = np.clip(z1, 0, np.inf)
            z2 = h1 @ Ws[1].T
            z2 += bs[1]
            h2 = np.clip(z2, 0, np.inf)
            z3 = h2 @ Ws[2].T
            z3 += bs[2]
            e = np.exp(z3 - z3.max(axis=1, keepdims=True))
            d3 = e / e.sum(axis=1, keepdims=True)  # softmax - one-hot, over n: the logits' gradient
            d3[np.arange(n), yb] -= 1
            d3 /= n
            np.matmul(d3.T, h2, out=grads[2])
            np.sum(d3, axis=0, out=grads[5])
            d2 = (d3 @ Ws[2]) * (h2 > 0)
            np.matmul(d2.T, h1, out=grads[1])
            np.sum(d2, axis=0, out=grads[4])
            d1 = (d2 @ Ws[1]) * (h1 > 0)
            np.matmul(d1.T, xb, out=grads[0])
            np.sum(d1, axis=0, out=grads[3])
            if first_dx:
                np.matmul(d1, Ws[0], out=dx)  # ∂L/∂x, which fit computes and throws away
            for p, g, b in zip(params, grads, bufs):
                np.multiply(g, 0.01, out=b)
                p -= b
        return net

    return run


def per_example_epoch(X, y, batch):
    """Nielsen's network.py style: backprop one example at a time, sum the gradients, then step."""

    def run():
        net = numpy_net(np.float32)
        loss, opt = nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.01)
        total = {k: np.zeros_like(v) for k, v in net.grads.items()}
        for start in range(0, len(X), batch):
            for t in total.values():
                t.fill(0)
            xb, yb = X[start : start + batch], y[start : start + batch]
            for i in range(len(xb)):
                loss(net(xb[i : i + 1]), yb[i : i + 1])
                net.backward(loss.backward())
                for k, g in net.grads.items():
                    total[k] += g
            grads = net.grads
            for k, t in total.items():
                np.divide(t, len(xb), out=grads[k])
            opt.step()

    return run


def torch_epoch(X, y, batch):
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def run():
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 10),
        )  # fmt: skip
        opt, loss_fn = torch.optim.SGD(net.parameters(), lr=0.01), torch.nn.CrossEntropyLoss()
        perm = torch.from_numpy(np.random.default_rng(0).permutation(len(X)))
        for start in range(0, len(X), batch):
            idx = perm[start : start + batch]
            opt.zero_grad()
            loss = loss_fn(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--per-example-samples",
        type=int,
        default=2_000,
        help="the per-example loop is slow: it runs on this many samples",
    )
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument(
        "--pause",
        type=float,
        default=PAUSE_S,
        help="seconds of sleep before each timed run, so no contender starts while the previous one's"
        " BLAS/OpenMP threads still spin (0 runs them back to back)",
    )
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, args.samples).astype(np.int64)
    n_slow = min(args.per_example_samples, args.samples)
    fns = {
        "nnlab.np_nn float32 (fit)": numpy_epoch(X, y, args.batch, np.float32),
        "nnlab.np_nn float64 (fit)": numpy_epoch(X, y, args.batch, np.float64),
        "reference: lean hand-written loop": lean_epoch(X, y, args.batch),
        "reference: lean loop + first layer's dx": lean_epoch(X, y, args.batch, first_dx=True),
        "reference: the matrix products alone": matmul_floor_epoch(X, y, args.batch),
    }
    if n_slow:
        fns["per-example loop float32"] = per_example_epoch(X[:n_slow], y[:n_slow], args.batch)
    if not args.no_torch:
        try:
            fns["plain PyTorch (torch.nn + torch.optim)"] = torch_epoch(X, y, args.batch)
        except ImportError:
            print("PyTorch not installed: comparing the NumPy paths only")
    seconds = best_of(fns, args.repeats, pause=args.pause)
    counts = {name: (n_slow if name.startswith("per-example") else args.samples) for name in fns}
    rate = {name: counts[name] / seconds[name] for name in fns}

    print(
        f"\nOne epoch, 784-512-256-10 ReLU, batch {args.batch}, {args.samples:,} samples; best of "
        f"{args.repeats}, {args.pause:g} s pause before each run; {machine()}\n"
    )
    print(
        table(
            [(n, f"{counts[n]:,}", f"{seconds[n]:.3f}", f"{rate[n]:,.0f}") for n in fns],
            ("contender", "samples", "seconds", "samples/s"),
        )
    )
    np32 = rate["nnlab.np_nn float32 (fit)"]
    lean, floor = rate["reference: lean hand-written loop"], rate["reference: the matrix products alone"]
    print()
    torch_name = "plain PyTorch (torch.nn + torch.optim)"
    if torch_name in rate:
        pt = rate[torch_name]
        print(f"np_nn float32 / PyTorch: {np32 / pt:.2f}x the samples per second (target >= 0.8)")
        print(f"  ceiling: the matrix products alone / PyTorch: {floor / pt:.2f}x")
        print(f"  lean hand-written loop / PyTorch: {lean / pt:.2f}x")
    lean_dx = rate["reference: lean loop + first layer's dx"]
    print(f"np_nn float32 / lean hand-written loop: {np32 / lean:.2f}x")
    print(
        f"np_nn float32 / lean loop + first layer's dx: {np32 / lean_dx:.2f}x"
        " (equal arithmetic: what is left is the library's checks, modules and diagnostics)"
    )
    print(f"float64 is {np32 / rate['nnlab.np_nn float64 (fit)']:.2f}x slower than float32 (target <= 2.5)")
    if n_slow:
        print(
            f"vectorised is {np32 / rate['per-example loop float32']:.1f}x faster than the per-example loop"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
