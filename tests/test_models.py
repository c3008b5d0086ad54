"""LeNet-5 in both paths, the parameter table, and the lectures' two hand-made filters."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nnlab import np_nn as nn
from nnlab.filters import EDGE_FILTER, L_FILTER, all_binary_patches, apply_filter, truth_table
from nnlab.models import count_params, lenet5, predict_proba
from nnlab.np_nn.conv import Conv2d

LENET_COUNTS = [156, 0, 0, 2416, 0, 0, 0, 48120, 0, 10164, 0, 850]  # per layer; the lectures' "60K"


def _torch_lenet(rng):
    """LeNet-5 in the PyTorch path, or a skip that says why it cannot be built here."""
    pytest.importorskip("torch")
    try:
        return lenet5("torch", rng=rng)
    except ImportError as exc:
        pytest.skip(f"nnlab.torch_nn is not importable yet: {exc}")


# -- LeNet-5 ----------------------------------------------------------------------------------------
def test_lenet5_has_the_seeds_layers_and_61706_parameters(rng):
    net = lenet5(rng=0)
    assert count_params(net, print_table=False) == 61_706 == net.num_params()
    assert [m.num_params() for m in net] == LENET_COUNTS
    assert [type(m).__name__ for m in net] == [
        "Conv2d", "Tanh", "AvgPool2d", "Conv2d", "Tanh", "AvgPool2d",
        "Flatten", "Linear", "Tanh", "Linear", "Tanh", "Linear",
    ]  # fmt: skip
    assert net(rng.random((3, 1, 32, 32))).shape == (3, 10)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert all(p.dtype == np.float64 for p in lenet5(dtype=np.float64).params.values())


def test_count_params_prints_a_keras_like_table(capsys):
    total = count_params(lenet5(rng=0), input_shape=(1, 32, 32))
    lines = capsys.readouterr().out.strip().splitlines()
    assert total == 61_706 and lines[-1] == "Total params: 61,706"
    assert lines[0].split() == ["#", "layer", "output", "shape", "params"]
    rows = [line for line in lines if line[:1].isdigit()]
    assert len(rows) == 12
    assert rows[0].startswith("0") and "Conv2d(in_channels=1, out_channels=6, kernel_size=5)" in rows[0]
    assert rows[0].rstrip().endswith("(N, 6, 28, 28)       156")
    for row, shape in zip(rows, ["(N, 6, 28, 28)", "(N, 6, 28, 28)", "(N, 6, 14, 14)", "(N, 16, 10, 10)",
                                  "(N, 16, 10, 10)", "(N, 16, 5, 5)", "(N, 400)", "(N, 120)"]):  # fmt: skip
        assert shape in row
    assert rows[7].rstrip().endswith("48,120")


def test_count_params_without_shapes_and_for_single_layers(capsys):
    assert count_params(Conv2d(1, 6, 5)) == 156
    out = capsys.readouterr().out
    assert "output shape" not in out and "Total params: 156" in out
    assert count_params(nn.Tanh(), print_table=False) == 0
    with pytest.raises(ValueError, match=r"count_params expected an nnlab or PyTorch model; got list\."):
        count_params([1, 2])


def test_lenet5_rejects_an_unknown_backend():
    with pytest.raises(
        ValueError, match=r"lenet5 expected backend to be one of 'numpy', 'torch'; got 'jax'\."
    ):
        lenet5("jax")


def test_lenet5_learns_a_small_batch(rng):
    """A few SGD steps on 32 images lower the loss: forward, backward and the update fit together."""
    net, loss = lenet5(rng=0), nn.CrossEntropyLoss()
    opt = nn.optim.SGD(net, lr=0.1, momentum=0.9)
    y = np.arange(32) % 10
    X = 0.1 * rng.random((32, 1, 32, 32), dtype=np.float32)
    for i, label in enumerate(y):  # class c: a bright bar at columns 2c .. 2c + 5
        X[i, 0, 8:24, 2 * label : 2 * label + 6] = 1.0
    losses = []
    for _ in range(15):
        losses.append(loss(net(X), y))
        net.backward(loss.backward())
        opt.step()
    assert losses[-1] < 0.1 * losses[0]


def test_predict_proba_is_the_softmax_of_the_logits(rng):
    net = lenet5(rng=0)
    x = rng.random((4, 1, 32, 32))
    p = predict_proba(net, x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(p, nn.functional.softmax(net(x), axis=1))


def test_torch_lenet5_is_the_numpy_twin(rng):
    """Same seed, same weights; then outputs and every parameter gradient agree in float32."""
    torch = pytest.importorskip("torch")
    twin = _torch_lenet(rng=0)
    net = lenet5(rng=0)
    assert count_params(twin, print_table=False) == 61_706
    assert [sum(p.numel() for p in m.parameters()) for m in twin] == LENET_COUNTS
    for (name, p), (name_t, p_t) in zip(net.params.items(), twin.named_parameters()):
        assert name == name_t
        np.testing.assert_array_equal(p, p_t.detach().cpu().numpy())

    x, y = rng.random((8, 1, 32, 32), dtype=np.float32), rng.integers(0, 10, 8)
    loss = nn.CrossEntropyLoss()
    out = net(x)
    loss(out, y)
    net.backward(loss.backward())
    device = next(twin.parameters()).device
    out_t = twin(torch.from_numpy(x).to(device))
    torch.nn.functional.cross_entropy(out_t, torch.from_numpy(y).to(device)).backward()
    np.testing.assert_allclose(out, out_t.detach().cpu().numpy(), rtol=1e-5, atol=1e-5)
    for name, p_t in twin.named_parameters():
        np.testing.assert_allclose(
            net.grads[name], p_t.grad.cpu().numpy(), rtol=1e-5, atol=1e-5, err_msg=name
        )
    np.testing.assert_allclose(predict_proba(twin, x).sum(dim=1).cpu().numpy(), 1.0, rtol=1e-6)


def test_numpy_models_never_import_torch_and_its_absence_is_explained():
    code = """
        import sys
        sys.modules["torch"] = None  # what Python does for a package that is not installed
        from nnlab.models import count_params, lenet5
        from nnlab.filters import truth_table, EDGE_FILTER
        assert count_params(lenet5(), print_table=False) == 61706 and truth_table(*EDGE_FILTER).fires.sum() == 1
        try:
            lenet5("torch")
        except ImportError as exc:
            print(exc)
    """
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=Path(__file__).parents[1],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "pip install" in result.stdout


# -- the lectures' filters -----------------------------------------------------------------------------
def test_all_binary_patches_are_the_sixteen_2x2_patterns():
    patches = all_binary_patches()
    assert patches.shape == (16, 2, 2)
    assert len({p.tobytes() for p in patches}) == 16 and set(np.unique(patches)) == {0, 1}
    np.testing.assert_array_equal(patches[5], [[0, 1], [0, 1]])


@pytest.mark.parametrize(
    "filt, formula, detects",
    [
        (EDGE_FILTER, lambda a, b, c, d: max(0, -a + b - c + d - 1), [[0, 1], [0, 1]]),  # black-white edge
        (L_FILTER, lambda a, b, c, d: max(0, -a + b - c - d), [[0, 1], [0, 0]]),  # black L
    ],
)
def test_each_seed_filter_fires_on_exactly_its_own_patch(filt, formula, detects):
    table = truth_table(*filt)
    assert table.fires.sum() == 1
    np.testing.assert_array_equal(table.firing(), [detects])
    expected = [formula(*patch.ravel()) for patch in table.patches]  # the lectures' worked expression
    np.testing.assert_array_equal(table.outputs, expected)
    assert table.outputs[table.fires][0] == 1.0


def test_filter_values_and_printed_table():
    np.testing.assert_array_equal(EDGE_FILTER[0], [[-1, 1], [-1, 1]])
    assert EDGE_FILTER[1] == -1.0 and L_FILTER[1] == 0.0
    np.testing.assert_array_equal(L_FILTER[0], [[-1, 1], [-1, -1]])
    np.testing.assert_array_equal(
        apply_filter(*EDGE_FILTER, np.array([[[0, 1], [0, 1]], [[1, 1], [1, 1]]])), [1, 0]
    )
    text = str(truth_table(*L_FILTER)).splitlines()
    assert len(text) == 17 and text[5].split() == ["0", "1", "/", "0", "0", "1.0", "yes"]


def test_lenet5_uses_the_fast_convolution_and_it_changes_no_number(rng):
    """lenet5 switches on Conv2d(fast=True); the plain layers give the same outputs and gradients."""
    fast, plain = lenet5(rng=0, dtype=np.float64), lenet5(rng=0, dtype=np.float64, fast=False)
    assert [m.fast for m in fast if isinstance(m, Conv2d)] == [True, True]
    assert [m.fast for m in plain if isinstance(m, Conv2d)] == [False, False]
    x = rng.random((3, 1, 32, 32))
    np.testing.assert_allclose(fast(x), plain(x), rtol=0, atol=1e-10)
    dout = rng.normal(size=(3, 10))
    np.testing.assert_allclose(fast.backward(dout), plain.backward(dout), rtol=0, atol=1e-10)
    for name, g in plain.grads.items():
        np.testing.assert_allclose(fast.grads[name], g, rtol=0, atol=1e-10, err_msg=name)
