"""The benchmarks compare equal work: their hand-written reference loops train the same network as nnlab."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench_mlp():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_mlp

        yield bench_mlp
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def bench_conv():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_conv

        yield bench_conv
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_conv_benchmark_times_both_numpy_convolutions_and_a_lenet_epoch(bench_conv):
    """The layer table has a plain and a fast row per convolution; the epoch runs (here on one batch)."""
    assert bench_conv.HAS_FAST_SWITCH
    plain, fast = bench_conv.conv_layer(1, 6, 0, fast=False), bench_conv.conv_layer(1, 6, 0, fast=True)
    assert (plain.fast, fast.fast) == (False, True)
    X, y = bench_conv.mnist_shaped(bench_conv.BATCH)
    assert X.shape == (64, 1, 32, 32) and bench_conv.numpy_epoch(X, y) > 0


def test_lean_reference_loop_ends_with_nnlabs_weights(bench_mlp):
    rng = np.random.default_rng(5)
    X = rng.random((300, 784), dtype=np.float32)  # 2 full batches of 128 and a last one of 44
    y = rng.integers(0, 10, 300)
    start = bench_mlp.numpy_net(np.float32).params
    nnlab_net = bench_mlp.numpy_epoch(X, y, 128, np.float32)()
    for first_dx in (False, True):
        lean_net = bench_mlp.lean_epoch(X, y, 128, first_dx=first_dx)()
        for name, w in nnlab_net.params.items():
            assert not np.allclose(w, start[name]), f"{name} did not train"
            np.testing.assert_allclose(lean_net.params[name], w, rtol=1e-5, atol=1e-6, err_msg=name)
