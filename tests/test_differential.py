"""Every np_nn layer, activation and loss against plain ``torch.nn.functional``, in float64.

Random shapes, strides, paddings and scales (tiny, ordinary, saturating), forward and backward: the
NumPy output, dx and every parameter gradient must equal what autograd gives through PyTorch's own
functions. Not against ``nnlab.torch_nn``, which could share a bug with the NumPy path.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nnlab import np_nn as nn
from nnlab.np_nn.conv import AvgPool2d, Conv2d, MaxPool2d

torch = pytest.importorskip("torch")
F = torch.nn.functional

TRIALS = 12
SCALES = (1e-3, 1.0, 30.0, 1e3)  # 30 saturates sigmoid and tanh; 1e3 is far into the flat tails
TOL = {"rtol": 1e-10, "atol": 1e-12}


def _t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _close(np_value: np.ndarray, torch_value: torch.Tensor, what: str, scale: float = 1.0) -> None:
    np.testing.assert_allclose(
        np_value,
        torch_value.detach().numpy(),
        rtol=TOL["rtol"],
        atol=TOL["atol"] * max(scale, 1.0),
        err_msg=what,
    )


def _check_module(module, torch_fn, x: np.ndarray, torch_params: dict[str, str], rng, what: str) -> None:
    """Forward and backward of ``module`` against ``torch_fn(x, **params)`` through autograd."""
    out = module(x)
    xt = _t(x, grad=True)
    params_t = {arg: _t(module.params[name], grad=True) for arg, name in torch_params.items()}
    out_t = torch_fn(xt, **params_t)
    scale = float(np.abs(x).max(initial=1.0))
    _close(out, out_t, f"{what}: forward", scale)
    dout = rng.normal(size=out.shape)
    dx = module.backward(dout)
    out_t.backward(_t(dout))
    assert dx.shape == x.shape
    if x.size:
        _close(dx, xt.grad, f"{what}: dx", scale)
    for arg, name in torch_params.items():
        expected = params_t[arg].grad if params_t[arg].grad is not None else torch.zeros_like(params_t[arg])
        _close(module.grads[name], expected, f"{what}: d{name}", scale * max(x.size, 1))


@pytest.mark.parametrize("trial", range(TRIALS))
def test_linear(trial):
    rng = np.random.default_rng(100 + trial)
    n, d_in, d_out = rng.integers(0, 5), rng.integers(1, 7), rng.integers(1, 5)
    layer = nn.Linear(d_in, d_out, rng=trial, bias_init="normal", dtype=np.float64)
    x = rng.normal(size=(n, d_in)) * rng.choice(SCALES)
    _check_module(layer, F.linear, x, {"weight": "W", "bias": "b"}, rng, f"Linear{(n, d_in, d_out)}")


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("trial", range(TRIALS))
def test_conv2d(trial, fast):
    rng = np.random.default_rng(200 + trial)
    c_in, c_out = rng.integers(1, 4, size=2)
    kernel, stride, padding = (
        rng.integers(1, 4, size=2),
        rng.integers(1, 4, size=2),
        rng.integers(0, 3, size=2),
    )
    H, W = np.maximum(kernel - 2 * padding, 1) + rng.integers(0, 5, size=2)
    n = rng.integers(0, 4)
    layer = Conv2d(int(c_in), int(c_out), tuple(kernel), tuple(stride), tuple(padding), rng=trial,
                   bias_init="normal", dtype=np.float64, fast=fast)  # fmt: skip
    x = rng.normal(size=(n, c_in, H, W)) * rng.choice(SCALES)
    conv = lambda x, weight, bias: F.conv2d(x, weight, bias, stride=tuple(stride), padding=tuple(padding))  # noqa: E731
    _check_module(layer, conv, x, {"weight": "W", "bias": "b"}, rng, f"Conv2d {layer!r} on {x.shape}")


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("trial", range(TRIALS))
def test_pools(trial, kind):
    rng = np.random.default_rng(300 + trial)
    kernel, stride = rng.integers(1, 4, size=2), rng.integers(1, 4, size=2)
    H, W = kernel + rng.integers(0, 5, size=2)
    x = rng.normal(size=(rng.integers(0, 3), rng.integers(1, 4), H, W)) * rng.choice(SCALES)
    Pool, fn = (MaxPool2d, F.max_pool2d) if kind == "max" else (AvgPool2d, F.avg_pool2d)
    pool = Pool(tuple(kernel), tuple(stride))
    _check_module(pool, lambda x: fn(x, tuple(kernel), tuple(stride)), x, {}, rng, f"{pool!r} on {x.shape}")


ACTIVATIONS = {
    "Sigmoid": (nn.Sigmoid, torch.sigmoid),
    "Tanh": (nn.Tanh, torch.tanh),
    "ReLU": (nn.ReLU, F.relu),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), lambda x: F.leaky_relu(x, 0.1)),
    "Softmax": (nn.Softmax, lambda x: F.softmax(x, dim=1)),
    "Flatten": (nn.Flatten, lambda x: torch.flatten(x, 1)),
    "Dropout-eval": (lambda: nn.Dropout(0.5).eval(), lambda x: F.dropout(x, 0.5, training=False)),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("trial", range(TRIALS // 2))
def test_activations(name, trial):
    rng = np.random.default_rng(400 + trial)
    make, fn = ACTIVATIONS[name]
    shape = (
        (rng.integers(0, 4), rng.integers(1, 6)) if name == "Softmax" else tuple(rng.integers(0, 4, size=3))
    )
    if name == "Flatten":
        shape = (shape[0], *(s + 1 for s in shape[1:]))
    x = rng.normal(size=shape) * rng.choice(SCALES)
    module = make()
    if hasattr(module, "astype"):
        module.astype(np.float64)
    _check_module(module, fn, x, {}, rng, f"{name} on {shape}")


@pytest.mark.parametrize("trial", range(TRIALS // 2))
def test_prelu(trial):
    rng = np.random.default_rng(500 + trial)
    c = int(rng.integers(1, 4))
    shared = trial % 2 == 0
    module = nn.PReLU(1 if shared else c, init=rng.uniform(-0.5, 0.5), dtype=np.float64)
    x = rng.normal(size=(rng.integers(1, 4), c, 3)) * rng.choice(SCALES)
    _check_module(module, F.prelu, x, {"weight": "a"}, rng, f"PReLU shared={shared} on {x.shape}")


def test_step_and_sign_are_heavisides_with_zero_gradient():
    rng = np.random.default_rng(6)
    z = rng.normal(size=(4, 5)) * 1e3
    z[0, :2] = 0.0
    expected = torch.heaviside(_t(z), _t(np.array(0.0))).numpy()
    np.testing.assert_array_equal(nn.Step()(z), expected)
    np.testing.assert_array_equal(nn.Sign()(z), 2 * expected - 1)
    for module in (nn.Step(), nn.Sign()):
        module(z)
        assert not module.backward(rng.normal(size=z.shape)).any()


# -- losses --------------------------------------------------------------------------------------------
def _check_loss(loss, torch_fn, pred: np.ndarray, target: np.ndarray, what: str, rtol: float = 1e-10) -> None:
    value = loss(pred, target)
    pred_t = _t(pred, grad=True)
    target_t = torch.tensor(target) if target.dtype.kind == "i" else _t(target)
    value_t = torch_fn(pred_t, target_t)
    if pred.shape[0] == 0:  # the mean over no examples
        assert np.isnan(value) and torch.isnan(value_t), what
        assert loss.backward().shape == pred.shape
        return
    np.testing.assert_allclose(value, value_t.item(), rtol=1e-10, atol=1e-12, err_msg=f"{what}: value")
    value_t.backward()
    np.testing.assert_allclose(
        loss.backward(), pred_t.grad.numpy(), rtol=rtol, atol=1e-12, err_msg=f"{what}: gradient"
    )


@pytest.mark.parametrize("trial", range(TRIALS))
def test_losses(trial):
    rng = np.random.default_rng(600 + trial)
    n, c = int(rng.integers(0, 5)), int(rng.integers(1, 5))
    scale = rng.choice(SCALES)
    z = rng.normal(size=(n, c)) * scale
    y = rng.normal(size=(n, c))
    _check_loss(nn.MSELoss("mean"), F.mse_loss, z, y, "MSE mean")
    half_sum = lambda a, y: 0.5 * F.mse_loss(a, y, reduction="sum") / a.shape[0]  # noqa: E731
    _check_loss(nn.MSELoss(), half_sum, z, y, "MSE half_sum")
    bits = rng.integers(0, 2, size=(n, c)).astype(np.float64)
    soft = rng.uniform(size=(n, c))
    for target, name in ((bits, "0/1"), (soft, "soft")):
        _check_loss(
            nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits, z, target, f"BCEWithLogits {name}"
        )
        a = 1 / (1 + np.exp(-np.clip(z, -30, 30)))  # probabilities, within 1e-13 of 0 and 1 at the extremes
        # where a(1 - a) < 1e-12 both clamp the denominator, PyTorch at a float32 1e-12 (4e-9 lower)
        _check_loss(nn.BCELoss(), F.binary_cross_entropy, a, target, f"BCE {name}", rtol=1e-8)
    labels = rng.integers(0, c, size=n)
    _check_loss(nn.CrossEntropyLoss(), F.cross_entropy, z, labels, "CE labels")
    rows = {
        "one-hot": np.eye(c)[labels],
        "probabilities": soft / soft.sum(axis=1, keepdims=True),
        "multi-hot": bits,
        "scaled": 3.0 * np.eye(c)[labels],
        "all-zero": np.zeros((n, c)),
    }
    for name, target in rows.items():
        _check_loss(nn.CrossEntropyLoss(), F.cross_entropy, z, target, f"CE {name} rows")


def test_cross_entropy_gradient_for_rows_that_do_not_sum_to_one():
    """Regression: the gradient was softmax - y; for rows that do not sum to 1 it is softmax·Σy - y."""
    ce = nn.CrossEntropyLoss()
    ce(np.array([[1.0, 2.0, 0.5]]), np.array([[1.0, 1.0, 0.0]]))
    np.testing.assert_allclose(ce.backward(), [[-0.538, 0.257, 0.280]], atol=1e-3)
    from nnlab.gradcheck import check_loss

    target = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    assert check_loss(nn.CrossEntropyLoss(), np.arange(9.0).reshape(3, 3) / 4, target).max_error < 1e-6


def test_losses_agree_on_an_empty_batch():
    """Regression: 0.0 for cross-entropy and MSE, NaN with a warning for BCE; now NaN for all, silently."""
    empty = np.zeros((0, 3))
    cases = [
        (nn.MSELoss(), empty),
        (nn.MSELoss("mean"), empty),
        (nn.BCELoss(), empty),
        (nn.BCEWithLogitsLoss(), empty),
        (nn.CrossEntropyLoss(), np.zeros(0, dtype=np.int64)),
        (nn.CrossEntropyLoss(), empty),
    ]
    with np.errstate(all="raise"):
        for loss, target in cases:
            assert np.isnan(loss(empty, target)), loss
            assert loss.backward().shape == (0, 3)


def test_layers_accept_an_empty_batch_and_keep_their_modules_independent():
    net = nn.Sequential(Conv2d(2, 3, 3, padding=1, rng=0, dtype=np.float64), nn.ReLU(), AvgPool2d(2), nn.Flatten(),
                        nn.Linear(12, 4, rng=0, dtype=np.float64))  # fmt: skip
    twin = copy.deepcopy(net)
    assert net(np.zeros((0, 2, 4, 4))).shape == (0, 4)
    assert net.backward(np.zeros((0, 4))).shape == (0, 2, 4, 4)
    x = np.random.default_rng(0).normal(size=(2, 2, 4, 4))
    np.testing.assert_array_equal(net(x), twin(x))
