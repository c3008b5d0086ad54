"""The PyTorch twin: same names, same weights, same numbers as nnlab.np_nn; devices; fit; messages."""

from __future__ import annotations

import copy
import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nnlab  # noqa: E402
from nnlab import np_nn, torch_nn  # noqa: E402

TOL = {np.float64: 1e-10, np.float32: 1e-5}  # the largest |NumPy - PyTorch| allowed, per dtype
DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def _cpu(monkeypatch):
    """Every test runs on the CPU unless it sets NNLAB_DEVICE itself."""
    monkeypatch.setenv("NNLAB_DEVICE", "cpu")


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _copy_params(src: np_nn.Module, dst: torch_nn.Module) -> None:
    """Copy by name, the convention the bridge builds on (tested separately in test_bridge.py)."""
    assert list(src.params) == list(dst.params)
    with torch.no_grad():
        for name, p in dst.params.items():
            p.copy_(torch.from_numpy(src.params[name]))


def _both(make, dtype):
    """Build the NumPy module and its twin from one recipe ``make(path, dtype)`` and copy the weights."""
    np_module, torch_module = make(np_nn, dtype), make(torch_nn, dtype)
    rng = np.random.default_rng(11)
    for p in np_module.params.values():
        if p.ndim == 1:  # biases and PReLU slopes: random values instead of zeros and 0.25
            p[...] = rng.uniform(0.1, 0.5, size=p.shape)
    _copy_params(np_module, torch_module)
    return np_module, torch_module


def _sequential(path, dtype):
    return path.Sequential(
        path.Linear(5, 6, rng=0, dtype=dtype), path.Tanh(), path.Linear(6, 4, rng=1, dtype=dtype), path.ReLU(),
        path.Linear(4, 3, rng=2, dtype=dtype), path.Sigmoid(),
    )  # fmt: skip


# name -> (recipe(path, dtype), input shape)
MODULES = {
    "Linear": (lambda path, dt: path.Linear(5, 4, rng=0, dtype=dt), (6, 5)),
    "Linear-he-bias": (
        lambda path, dt: path.Linear(5, 4, init="he", bias_init=path.init.constant(0.1), rng=3, dtype=dt),
        (6, 5),
    ),
    "Dropout-eval": (lambda path, dt: path.Dropout(0.3, rng=0).eval(), (6, 5)),
    "Dropout-lecture-form-eval": (lambda path, dt: path.Dropout(0.3, rng=0, inverted=False).eval(), (6, 5)),
    "Dropout-p0": (lambda path, dt: path.Dropout(0.0), (6, 5)),
    "Flatten": (lambda path, dt: path.Flatten(), (3, 2, 2, 3)),
    "Step": (lambda path, dt: path.Step(), (6, 5)),
    "Sign": (lambda path, dt: path.Sign(), (6, 5)),
    "Sigmoid": (lambda path, dt: path.Sigmoid(), (6, 5)),
    "Tanh": (lambda path, dt: path.Tanh(), (6, 5)),
    "ReLU": (lambda path, dt: path.ReLU(), (6, 5)),
    "LeakyReLU": (lambda path, dt: path.LeakyReLU(0.2), (6, 5)),
    "PReLU": (lambda path, dt: path.PReLU(dtype=dt), (6, 5)),
    "PReLU-channels": (lambda path, dt: path.PReLU(3, init=0.1, dtype=dt), (4, 3, 2, 2)),
    "Softmax": (lambda path, dt: path.Softmax(), (6, 5)),
    "Sequential": (_sequential, (7, 5)),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", MODULES)
def test_module_outputs_and_gradients_agree(name, dtype):
    make, shape = MODULES[name]
    np_module, torch_module = _both(make, dtype)
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape)
    x[0, 0] = 0.0  # the kink of Step, Sign and the ReLUs: both paths must choose the same side
    out = np_module.forward(x.astype(dtype))
    dout = rng.normal(size=out.shape).astype(dtype)
    dx = np_module.backward(dout)

    xt = torch.tensor(x, dtype=torch_nn.module.torch_dtype(dtype), requires_grad=True)
    out_t = torch_module(xt)
    out_t.backward(torch.from_numpy(dout))

    tol = TOL[dtype]
    assert out_t.dtype == xt.dtype and out_t.shape == out.shape
    np.testing.assert_allclose(_numpy(out_t), out, rtol=0, atol=tol)
    np.testing.assert_allclose(_numpy(xt.grad), dx, rtol=0, atol=tol)
    assert list(torch_module.grads) == list(np_module.grads)
    for key, g in np_module.grads.items():
        np.testing.assert_allclose(_numpy(torch_module.grads[key]), g, rtol=0, atol=tol, err_msg=key)
    if name in ("Linear", "Sequential", "PReLU-channels"):  # a zero gradient would pass trivially
        assert all(np.abs(g).max() > 1e-2 for g in np_module.grads.values())


def test_dropout_in_training_agrees_given_the_same_mask():
    """The two paths draw different masks; with the NumPy mask injected, the numbers are the same."""
    for inverted in (True, False):
        np_drop = np_nn.Dropout(0.4, rng=1, inverted=inverted)
        torch_drop = torch_nn.Dropout(0.4, rng=1, inverted=inverted)
        x = np.random.default_rng(2).normal(size=(50, 8))
        out = np_drop.forward(x)
        keep = torch.from_numpy(np_drop._mask != 0)
        torch_drop._keep = lambda z, keep=keep: keep
        xt = torch.tensor(x, requires_grad=True)
        out_t = torch_drop(xt)
        dout = np.random.default_rng(3).normal(size=x.shape)
        out_t.backward(torch.from_numpy(dout))
        np.testing.assert_allclose(_numpy(out_t), out, rtol=0, atol=1e-12)
        np.testing.assert_allclose(_numpy(xt.grad), np_drop.backward(dout), rtol=0, atol=1e-12)


def test_dropout_masks_are_seeded_and_scaled():
    x = torch.ones(400, 50, dtype=torch.float64)
    a, b, c = torch_nn.Dropout(0.3, rng=5), torch_nn.Dropout(0.3, rng=5), torch_nn.Dropout(0.3, rng=6)
    out = a(x)
    assert torch.equal(out, b(x)) and not torch.equal(out, c(x))
    assert not torch.equal(a(x), out)  # a new mask at every step
    assert out.unique().tolist() == [0.0, pytest.approx(1 / 0.7)]
    assert abs(float((out == 0).double().mean()) - 0.3) < 0.02
    # a NumPy Generator seeds it too, and is only drawn from at the first training step
    gen = np.random.default_rng(0)
    drop = torch_nn.Dropout(0.5, rng=gen)
    state = gen.bit_generator.state
    drop.eval()(x)
    assert gen.bit_generator.state == state
    assert torch.equal(drop.train()(x), torch_nn.Dropout(0.5, rng=np.random.default_rng(0))(x))
    # the lectures' form keeps survivors unscaled in training and scales at test time
    lecture_form = torch_nn.Dropout(0.3, rng=5, inverted=False)
    assert set(lecture_form(x).unique().tolist()) == {0.0, 1.0}
    assert torch.allclose(lecture_form.eval()(x), 0.7 * x)


LOSSES = {
    "MSE-half_sum": (lambda path: path.MSELoss(), "regression"),
    "MSE-mean": (lambda path: path.MSELoss("mean"), "regression"),
    "BCE": (lambda path: path.BCELoss(), "probabilities"),
    "BCEWithLogits": (lambda path: path.BCEWithLogitsLoss(), "binary"),
    "CE-labels": (lambda path: path.CrossEntropyLoss(), "labels"),
    "CE-one-hot": (lambda path: path.CrossEntropyLoss(), "one-hot"),
    "CE-probabilities": (lambda path: path.CrossEntropyLoss(), "rows"),
}


def _loss_data(kind: str, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    pred = rng.normal(size=(8, 4)).astype(dtype)
    if kind == "regression":
        return pred, rng.normal(size=(8, 4)).astype(dtype)
    if kind == "probabilities":
        return rng.uniform(0.05, 0.95, size=(8, 4)).astype(dtype), rng.integers(0, 2, (8, 4)).astype(dtype)
    if kind == "binary":
        return 3 * pred, rng.integers(0, 2, (8, 4)).astype(dtype)
    labels = rng.integers(0, 4, 8)
    if kind == "labels":
        return pred, labels
    if kind == "one-hot":
        return pred, np.eye(4, dtype=dtype)[labels]
    rows = rng.uniform(size=(8, 4))
    return pred, (rows / rows.sum(axis=1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_values_and_gradients_agree(name, dtype):
    make, kind = LOSSES[name]
    pred, target = _loss_data(kind, dtype)
    np_loss, torch_loss = make(np_nn), make(torch_nn)
    value = np_loss(pred, target)
    dpred = np_loss.backward()
    pred_t = torch.tensor(pred, requires_grad=True)
    value_t = torch_loss(pred_t, target)  # the target stays a NumPy array: it is accepted
    assert value_t.ndim == 0
    value_t.backward()
    assert value_t.item() == pytest.approx(value, abs=TOL[dtype])
    np.testing.assert_allclose(_numpy(pred_t.grad), dpred, rtol=0, atol=TOL[dtype])
    assert repr(torch_loss) == repr(np_loss)


def test_losses_take_numpy_and_agree_at_extremes():
    """The stable forms agree far out: logits near 1e4, probabilities at exactly 0 and 1 (logs clamped)."""
    z = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 1.0]])
    for make, target in (
        (lambda p: p.CrossEntropyLoss(), np.array([1, 0])),
        (lambda p: p.BCEWithLogitsLoss(), np.array([[1.0, 0, 1], [1, 0, 0]])),
    ):
        assert float(make(torch_nn)(z, target)) == pytest.approx(make(np_nn)(z, target), rel=1e-12)
    a, y = np.array([[0.0, 1.0, 0.5]]), np.array([[1.0, 0.0, 1.0]])
    assert float(torch_nn.BCELoss()(a, y)) == pytest.approx(np_nn.BCELoss()(a, y), rel=1e-12)


def test_functional_twins_agree():
    z = np.linspace(-8, 8, 33).reshape(3, 11)
    z[0, 0] = 0.0
    zt = torch.from_numpy(z)
    for name in np_nn.functional.__all__:
        np_f, torch_f = getattr(np_nn.functional, name), getattr(torch_nn.functional, name)
        np.testing.assert_allclose(_numpy(torch_f(zt)), np_f(z), rtol=0, atol=1e-12, err_msg=name)
    assert torch_nn.functional.sign(torch.tensor([0.0])).item() == -1.0  # not torch.sign's 0


def test_step_and_sign_pass_a_zero_gradient_instead_of_an_error():
    for Threshold in (torch_nn.Step, torch_nn.Sign):
        net = torch_nn.Sequential(torch_nn.Linear(3, 2, rng=0), Threshold())
        torch_nn.MSELoss()(net(np.ones((4, 3))), np.zeros((4, 2))).backward()
        assert all(float(g.abs().max()) == 0.0 for g in net.grads.values())


# -- optimisers ------------------------------------------------------------------------------------
OPTIMISERS = {
    "SGD": lambda o, m: o.SGD(m, lr=0.1),
    "SGD-momentum": lambda o, m: o.SGD(m, lr=0.1, momentum=0.9),
    "SGD-friction-decay": lambda o, m: o.SGD(m, lr=0.1, friction=0.2, weight_decay=0.01),
    "SGD-l1": lambda o, m: o.SGD(m, lr=0.1),
    "Adagrad": lambda o, m: o.Adagrad(m, lr=0.1),
    "RMSProp": lambda o, m: o.RMSProp(m, lr=0.01, alpha=0.9, weight_decay=0.01),
    "Adadelta": lambda o, m: o.Adadelta(m),
    "Adadelta-lr-l1": lambda o, m: o.Adadelta(m, lr=0.5, rho=0.8),
    "Adam": lambda o, m: o.Adam(m, lr=0.01),
    "Adam-decay-l1": lambda o, m: o.Adam(m, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1),
}
L1 = {"SGD-l1": 0.01, "Adadelta-lr-l1": 0.01, "Adam-decay-l1": 0.01}  # L1 is a term of the loss: L1Penalty


@pytest.mark.parametrize("name", OPTIMISERS)
def test_five_optimiser_steps_agree(name):
    np_net, torch_net = _both(lambda path, dt: path.Sequential(
        path.Linear(3, 4, rng=0, dtype=dt), path.Tanh(), path.Linear(4, 2, rng=1, dtype=dt)), np.float64)  # fmt: skip
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    np_opt = OPTIMISERS[name](np_nn.optim, np_net)
    torch_opt = OPTIMISERS[name](torch_nn.optim, torch_net)
    np_loss, torch_loss = np_nn.MSELoss(), torch_nn.MSELoss()
    np_l1 = np_nn.L1Penalty(np_net, L1.get(name, 0.0))
    torch_l1 = torch_nn.L1Penalty(torch_net, L1.get(name, 0.0))
    for _ in range(5):
        np_opt.zero_grad()
        np_cost = np_loss(np_net(X), Y) + np_l1()
        np_net.backward(np_loss.backward())
        np_l1.backward()
        np_opt.step()
        torch_opt.zero_grad()
        torch_cost = torch_loss(torch_net(X), Y) + torch_l1()
        torch_cost.backward()
        torch_opt.step()
        assert torch_cost.item() == pytest.approx(np_cost, rel=1e-12)
    for key, p in np_net.params.items():
        np.testing.assert_allclose(_numpy(torch_net.params[key]), p, rtol=0, atol=1e-8, err_msg=key)
    assert repr(torch_opt) == repr(np_opt)
    assert torch_opt.steps == 5


def test_optimisers_are_torch_optimisers_with_settable_hyperparameters():
    net = torch_nn.Linear(2, 1)
    opt = torch_nn.optim.SGD(net, lr=0.1, friction=0.1)
    assert isinstance(opt, torch.optim.SGD) and opt.momentum == pytest.approx(0.9)
    opt.lr = 0.05  # as on the NumPy path; PyTorch's schedulers see it too
    assert opt.param_groups[0]["lr"] == 0.05 and opt.lr == 0.05
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    torch_nn.MSELoss()(net(np.ones((2, 2))), np.ones((2, 1))).backward()
    opt.step()
    scheduler.step()
    assert opt.lr == pytest.approx(0.025)


def test_l1_is_a_term_of_the_loss_whose_gradient_autograd_adds():
    net = torch_nn.Linear(3, 2, rng=0)
    opt = torch_nn.optim.SGD(net, lr=0.1)
    penalty = torch_nn.L1Penalty(net, strength=0.5)
    torch_nn.MSELoss()(net(np.ones((4, 3))), np.zeros((4, 2))).backward()
    data_grads = {k: g.clone() for k, g in net.grads.items()}
    opt.zero_grad()
    (torch_nn.MSELoss()(net(np.ones((4, 3))), np.zeros((4, 2))) + penalty()).backward()
    W = net.W.detach().clone()
    assert torch.allclose(net.grads["W"], data_grads["W"] + 0.5 * torch.sign(W))
    opt.step()
    assert torch.allclose(net.W, W - 0.1 * (data_grads["W"] + 0.5 * torch.sign(W)))
    assert repr(penalty) == repr(np_nn.L1Penalty(np_nn.Linear(3, 2), 0.5)) == "L1Penalty(strength=0.5)"


def test_steps_with_a_closure_and_across_copies():
    def run(use_closure: bool, copy_first: bool = False) -> torch.Tensor:
        net = torch_nn.Linear(3, 2, rng=0, dtype=np.float64)
        opt = torch_nn.optim.Adam(net, lr=0.1, weight_decay=0.2)
        if copy_first:  # deepcopy and state_dict drop extra attributes; model and steps must survive
            opt = copy.deepcopy(opt)
            net = opt.model
            opt.load_state_dict(opt.state_dict())

        def closure():
            opt.zero_grad()
            loss = torch_nn.MSELoss()(net(np.ones((4, 3))), np.zeros((4, 2)))
            loss.backward()
            return loss

        for _ in range(3):
            if use_closure:
                opt.step(closure)
            else:
                closure()
                opt.step()
        assert opt.steps == 3 and opt.weight_decay == 0.2
        return net.W.detach()

    assert torch.allclose(run(True), run(False), rtol=0, atol=1e-15)
    assert torch.allclose(run(False, copy_first=True), run(False), rtol=0, atol=1e-15)


def test_optimiser_signatures_mirror_numpy():
    for name in np_nn.optim.__all__:
        if name == "Optimizer":
            continue
        np_sig = inspect.signature(getattr(np_nn.optim, name))
        torch_sig = inspect.signature(getattr(torch_nn.optim, name))
        for param in np_sig.parameters.values():
            assert torch_sig.parameters[param.name].default == param.default, (name, param.name)
            assert torch_sig.parameters[param.name].kind == param.kind, (name, param.name)


# -- structure: names, files, weights ---------------------------------------------------------------
def test_the_two_paths_mirror_names_and_files():
    later = {"AvgPool2d", "Conv2d", "MaxPool2d"}  # nnlab.torch_nn.conv is wired in separately
    numpy_only = {"conv2d_naive"}  # the loop that is the lesson; PyTorch has no loop to show
    assert set(np_nn.__all__) - later - numpy_only <= set(torch_nn.__all__)
    np_dir, torch_dir = Path(np_nn.__file__).parent, Path(torch_nn.__file__).parent
    fast_only = {"_fast_conv.py"}  # the tuned NumPy convolution; PyTorch has its own
    torch_files = {p.name for p in torch_dir.glob("*.py")}
    assert {p.name for p in np_dir.glob("*.py")} - {"conv.py"} - fast_only <= torch_files
    for sub in ("functional", "init", "optim"):
        assert set(getattr(np_nn, sub).__all__) <= set(getattr(torch_nn, sub).__all__)


@pytest.mark.parametrize(
    "name", ["Linear", "Dropout", "LeakyReLU", "PReLU", "MSELoss", "Perceptron", "Sequential", "Flatten"]
)
def test_constructor_signatures_mirror_numpy(name):
    np_params = inspect.signature(getattr(np_nn, name)).parameters
    torch_params = dict(inspect.signature(getattr(torch_nn, name)).parameters)
    torch_params.pop("device", None)
    assert list(torch_params) == list(np_params)
    for key, p in np_params.items():
        assert (torch_params[key].kind, torch_params[key].default) == (p.kind, p.default), key


def test_same_seed_same_initial_weights_and_names():
    for init in ("scaled_normal", "he", "xavier_uniform"):
        a, b = np_nn.Linear(784, 10, init=init, rng=0), torch_nn.Linear(784, 10, init=init, rng=0)
        assert b.W.dtype == torch.float32 and tuple(b.W.shape) == (10, 784)
        assert np.array_equal(_numpy(b.W), a.W) and np.array_equal(_numpy(b.b), a.b)
    np_net, torch_net = _sequential(np_nn, np.float64), _sequential(torch_nn, torch.float64)
    assert list(torch_net.params) == list(np_net.params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert all(np.array_equal(_numpy(torch_net.params[k]), v) for k, v in np_net.params.items())
    assert repr(torch_net) == repr(np_net)
    assert torch_net.num_params() == np_net.num_params() and torch_net.dtype == torch.float64
    assert all(float(g.abs().sum()) == 0 for g in torch_net.grads.values())  # zeros before any backward
    assert torch_nn.init.tensor("he", (256, 784), rng=0).std().item() == pytest.approx(
        np.sqrt(2 / 784), rel=0.02
    )


def test_modules_take_numpy_lists_and_cast_like_their_parameters():
    net = _sequential(torch_nn, np.float32)
    out = net(np.ones((2, 5)))  # float64 NumPy in, the model's float32 out
    assert out.dtype == torch.float32 and out.device.type == "cpu"
    assert net([[0, 1, 2, 3, 4]]).shape == (1, 3)  # integer lists too
    assert net.astype(np.float64).dtype == torch.float64
    assert torch_nn.ReLU()(np.array([-1.0, 2.0])).dtype == torch.float64
    assert torch_nn.Linear(2, 3, rng=0, dtype="float64").W.dtype == torch.float64


def test_sequential_holds_plain_torch_modules_and_refuses_others():
    net = torch_nn.Sequential(torch_nn.Linear(3, 4, rng=0), torch.nn.GELU(), torch.nn.Linear(4, 2))
    assert net(np.ones((5, 3))).shape == (5, 2)
    assert isinstance(net[0:2], torch_nn.Sequential)
    with pytest.raises(ValueError, match=r"Use nnlab\.torch_nn\.Linear"):
        torch_nn.Sequential(np_nn.Linear(2, 3))
    with pytest.raises(ValueError, match="got type at position 0"):
        torch_nn.Sequential(torch_nn.Linear)


# -- the same sentences as the NumPy path ----------------------------------------------------------
def _message(fn) -> str:
    with pytest.raises(ValueError) as info:
        fn()
    return str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda p: p.Linear(784, 10, rng=0)(np.zeros((32, 28, 28))),
        lambda p: p.Linear(4, 3, rng=0)(np.zeros(4)),
        lambda p: p.Linear(4, 3, rng=0)(np.zeros((2, 5))),
        lambda p: p.Linear(4, 3, rng=0)(np.array([[np.nan, 0, 0, 0]])),
        lambda p: p.Linear(0, 3),
        lambda p: p.Dropout(1.0),
        lambda p: p.Flatten()(np.zeros(3)),
        lambda p: p.Sequential(p.Flatten(), p.Linear(64, 10, rng=0))(np.zeros((8, 8))),
        lambda p: p.Linear(64, 10, rng=0)(np.zeros((8, 8))),
        lambda p: p.Sequential(p.Flatten(), p.Linear(64, 10, rng=0))(np.zeros((1, 8, 9))),
        lambda p: p.Softmax()(np.zeros((2, 3, 4))),
        lambda p: p.PReLU(3)(np.zeros((2, 4))),
        lambda p: p.MSELoss()(np.zeros((4, 1)), np.zeros(4)),
        lambda p: p.MSELoss("sum"),
        lambda p: p.BCELoss()(np.array([[1.5]]), np.array([[1.0]])),
        lambda p: p.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3])),
        lambda p: p.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.5, 1])),
        lambda p: p.CrossEntropyLoss()(np.zeros((2, 3)), np.zeros((2, 4))),
        lambda p: p.Perceptron(2, output="tanh"),
        lambda p: p.Perceptron(2).fit(np.zeros((2, 2)), np.array([0, 2])),
        lambda p: p.optim.SGD(p.Linear(2, 1), momentum=0.9, friction=0.1),
        lambda p: p.optim.Adam(p.Linear(2, 1), lr=-1),
        lambda p: p.optim.SGD(p.ReLU()),
        lambda p: p.optim.SGD(p.Linear(2, 1), momentum="0.9"),
        lambda p: p.optim.SGD(p.Linear(2, 1), momentum=1.0),
        lambda p: p.optim.SGD(p.Linear(2, 1), friction=0),
        lambda p: p.optim.SGD(p.Linear(2, 1), lr=True),
        lambda p: p.optim.SGD(p.Linear(2, 1), weight_decay=-1),
        lambda p: p.optim.Adam(p.Linear(2, 1), betas=0.9),
        lambda p: p.optim.Adam(p.Linear(2, 1), betas=(0.9, 1.0)),
        lambda p: p.optim.Adam(p.Linear(2, 1), eps=None),
        lambda p: p.optim.RMSProp(p.Linear(2, 1), alpha=1.5),
        lambda p: p.optim.Adadelta(p.Linear(2, 1), rho="0.9"),
        lambda p: p.optim.Adagrad(p.Linear(2, 1), eps=-1e-10),
        lambda p: p.Linear(True, 2),
        lambda p: p.Linear(2, 2.0),
        lambda p: p.PReLU(2, init=np.ones(3)),
        lambda p: p.PReLU(True),
        lambda p: p.LeakyReLU("0.1"),
        lambda p: p.Dropout("0.5"),
        lambda p: p.fit(net := p.Linear(2, 1), p.MSELoss(), p.optim.SGD(net), np.zeros((3, 2)),
                        np.zeros((4, 1)), epochs=1),
        lambda p: p.fit(net := p.Linear(2, 1), p.MSELoss(), p.optim.SGD(net), np.zeros((3, 2)),
                        np.zeros((3, 1)), epochs=1, patience=2),
        lambda p: p.fit(net := p.Linear(2, 1), p.MSELoss(), p.optim.SGD(net), np.array([[0, 1], [np.inf, 0]]),
                        np.zeros((2, 1)), epochs=1),
    ],
)  # fmt: skip
def test_mistakes_get_the_numpy_paths_sentences(call):
    assert _message(lambda: call(torch_nn)) == _message(lambda: call(np_nn))


def test_mistakes_only_the_torch_path_can_make():
    assert "float type" in _message(lambda: torch_nn.Linear(2, 3, dtype=np.int32))
    assert "nnlab.np_nn.optim.SGD" in _message(lambda: torch_nn.optim.SGD(np_nn.Linear(2, 1)))
    assert "use nnlab.torch_nn.L1Penalty" in _message(lambda: np_nn.L1Penalty(torch_nn.Linear(2, 1), 0.01))
    assert _message(lambda: np_nn.optim.Adam(torch_nn.Linear(2, 1, device="cpu"))) == (
        "Adam expected a NumPy model (an nnlab.np_nn Module); got Linear."
        " This is a PyTorch model; use nnlab.torch_nn.optim.Adam for it."
    )
    assert "integer class labels" in _message(
        lambda: torch_nn.CrossEntropyLoss()(torch.zeros(2, 3), torch.tensor([0.0, 1.0]))
    )


# -- devices ---------------------------------------------------------------------------------------
def _fake_gpus(monkeypatch, cuda: int = 0, mps: bool = False) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"), [(2, True, "cuda"), (0, True, "mps"), (0, False, "cpu"), (1, False, "cuda")]
)
def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv("NNLAB_DEVICE")
    _fake_gpus(monkeypatch, cuda, mps)
    assert nnlab.device() == torch.device(expected)


def test_nnlab_device_environment_variable_is_honoured(monkeypatch):
    _fake_gpus(monkeypatch, cuda=2, mps=True)
    for value, expected in (("cpu", "cpu"), (" CPU ", "cpu"), ("cuda:1", "cuda:1"), ("mps", "mps")):
        monkeypatch.setenv("NNLAB_DEVICE", value)
        assert nnlab.device() == torch.device(expected)
    monkeypatch.setenv("NNLAB_DEVICE", "cpu")
    assert torch_nn.Linear(2, 3).W.device.type == "cpu"
    assert torch_nn.PReLU().a.device.type == "cpu"


@pytest.mark.parametrize("value", ["gpu", "cuda:x", "cpu:0", "tpu", "cuda0"])
def test_bad_device_names_list_the_valid_ones(monkeypatch, value):
    monkeypatch.setenv("NNLAB_DEVICE", value)
    message = _message(nnlab.device)
    assert (
        message
        == f'NNLAB_DEVICE expected "cpu", "cuda", "cuda:N" (N the index of a GPU) or "mps"; got {value!r}.'
    )


def test_unavailable_devices_say_what_is_available(monkeypatch):
    _fake_gpus(monkeypatch, cuda=1)
    for value in ("cuda:1", "mps"):
        monkeypatch.setenv("NNLAB_DEVICE", value)
        assert (
            f"asks for {value!r}, which this machine does not have; available here: cpu, cuda:0."
            in _message(nnlab.device)
        )


def test_float64_on_mps_gets_a_sentence(monkeypatch):
    _fake_gpus(monkeypatch, mps=True)
    monkeypatch.setenv("NNLAB_DEVICE", "mps")
    assert _message(lambda: torch_nn.Linear(2, 3, dtype=np.float64)) == (
        "Linear got dtype float64 on Apple's MPS, which computes in float32 at most."
        " Use dtype=np.float32, or NNLAB_DEVICE=cpu for float64."
    )


def test_explicit_device_and_inputs_from_another_device():
    layer = torch_nn.Linear(3, 2, rng=0, device="cpu")
    assert layer.device == torch.device("cpu")
    assert layer(torch.ones(4, 3, dtype=torch.float64)).dtype == torch.float32  # cast to the weights
    assert torch_nn.Linear(3, 2, device=torch.device("cpu"), dtype=torch.float64).dtype == torch.float64


# -- fit -------------------------------------------------------------------------------------------
def _fit_both(loss_name, make_net, X, y, **kwargs):
    nets = []
    for path in (np_nn, torch_nn):
        net = make_net(path)
        history = path.fit(net, getattr(path, loss_name)(), path.optim.SGD(net, lr=0.2, momentum=0.5), X, y,
                           batch_size=16, rng=3, progress=False, **kwargs)  # fmt: skip
        nets.append((net, history))
    return nets


def test_fit_follows_the_numpy_path_step_for_step():
    """Same start, same seed: the same minibatches in the same order, so the same weights and History."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(150, 4)), rng.integers(0, 3, 150)
    X_val, y_val = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)

    def make(path):
        return path.Sequential(path.Linear(4, 8, rng=0, dtype=np.float64), path.ReLU(),
                               path.Linear(8, 3, rng=1, dtype=np.float64))  # fmt: skip

    (np_net, np_hist), (torch_net, torch_hist) = _fit_both(
        "CrossEntropyLoss", make, X, y, epochs=4, validation=(X_val, y_val)
    )
    for key, p in np_net.params.items():
        np.testing.assert_allclose(_numpy(torch_net.params[key]), p, rtol=0, atol=1e-10)
    for field in ("train_loss", "train_acc", "val_loss", "val_acc"):
        np.testing.assert_allclose(
            getattr(torch_hist, field), getattr(np_hist, field), rtol=1e-10, err_msg=field
        )
    assert torch_hist.best_epoch == np_hist.best_epoch and torch_hist.samples_per_second > 0


def test_fit_binary_accuracy_and_one_hot_targets_follow_numpy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(np.float64)

    def make(path):
        return path.Sequential(path.Linear(2, 6, rng=0, dtype=np.float64), path.Tanh(),
                               path.Linear(6, 1, rng=1, dtype=np.float64))  # fmt: skip

    for loss_name, target in (("BCEWithLogitsLoss", y), ("MSELoss", 3 * y)):
        (_, np_hist), (_, torch_hist) = _fit_both(loss_name, make, X, target, epochs=2)
        np.testing.assert_allclose(torch_hist.train_loss, np_hist.train_loss, rtol=1e-10)
        np.testing.assert_allclose(torch_hist.train_acc, np_hist.train_acc, rtol=1e-10)  # NaN for regression
    labels = rng.integers(0, 2, 64)

    def make2(path):
        return path.Linear(2, 2, rng=0, dtype=np.float64)

    (_, np_hist), (_, torch_hist) = _fit_both("CrossEntropyLoss", make2, X, np.eye(2)[labels], epochs=2)
    np.testing.assert_allclose(torch_hist.train_acc, np_hist.train_acc, rtol=1e-10)


def test_fit_learns_xor_and_stops_early_with_the_best_weights():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, dtype=np.float32)
    y = np.array([0, 1, 1, 0] * 8)
    net = torch_nn.Sequential(
        torch_nn.Linear(2, 8, init="he", rng=0), torch_nn.Tanh(), torch_nn.Linear(8, 2, rng=1)
    )
    history = torch_nn.fit(net, torch_nn.CrossEntropyLoss(), torch_nn.optim.Adam(net, lr=0.05), X, y, epochs=150,
                           batch_size=8, rng=0, progress=False)  # fmt: skip
    assert history.train_acc[-1] == 1.0 and history.train_loss[-1] < 0.05
    assert torch_nn.accuracy(net(X), y) == 1.0

    noisy = torch_nn.Sequential(torch_nn.Linear(2, 32, rng=0), torch_nn.ReLU(), torch_nn.Linear(32, 1, rng=1))
    rng = np.random.default_rng(0)
    Xr, yr = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    history = torch_nn.fit(noisy, torch_nn.MSELoss(), torch_nn.optim.SGD(noisy, lr=0.3), Xr, yr, epochs=40,
                           batch_size=4, validation=(Xr[:5] + 1, yr[:5]), patience=3, rng=0, progress=False)  # fmt: skip
    assert history.stopped_early and history.epochs == history.best_epoch + 3
    assert torch_nn.MSELoss()(noisy(Xr[:5] + 1), yr[:5]).item() == pytest.approx(
        min(history.val_loss), rel=1e-5
    )


def test_fit_checks_labels_once_with_the_numpy_sentence():
    net = torch_nn.Linear(3, 4, rng=0)
    with pytest.raises(ValueError, match=r"expected class labels in 0\.\.3 for 4 classes; got 7"):
        torch_nn.fit(net, torch_nn.CrossEntropyLoss(), torch_nn.optim.SGD(net), np.zeros((5, 3)),
                     np.array([0, 1, 2, 3, 7]), epochs=1, progress=False)  # fmt: skip


def test_fit_takes_tensors_and_a_plain_torch_model():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    X, y = torch.randn(30, 3), torch.randint(0, 2, (30,))
    history = torch_nn.fit(net, torch_nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.1), X, y,
                           epochs=2, progress=False)  # fmt: skip
    assert history.epochs == 2 and 0 <= history.train_acc[-1] <= 1


def test_fit_progress_bar_can_be_turned_off(monkeypatch, capsys):
    net = torch_nn.Linear(2, 1, rng=0)
    monkeypatch.setenv("NNLAB_PROGRESS", "1")
    torch_nn.fit(net, torch_nn.MSELoss(), torch_nn.optim.SGD(net), np.ones((8, 2)), np.ones((8, 1)), epochs=1,
                 progress=False)  # fmt: skip
    assert capsys.readouterr().err == ""


# -- the perceptron --------------------------------------------------------------------------------
def test_perceptron_twin_learns_like_the_numpy_one():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    for output, Y in (("step", np.array([0, 0, 0, 1])), ("sign", np.array([-1, 1, 1, 1]))):
        a = np_nn.Perceptron(2, output=output, rng=4).fit(X, Y)
        b = torch_nn.Perceptron(2, output=output, rng=4).fit(X, Y)
        assert b.errors == a.errors and b.converged
        assert np.array_equal(_numpy(b.W), a.params["W"]) and np.array_equal(
            _numpy(b.predict(X)), a.predict(X)
        )
    with pytest.warns(np_nn.ConvergenceWarning, match="XOR"):
        torch_nn.Perceptron(2).fit(X, np.array([0, 1, 1, 0]), epochs=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch_nn.Perceptron(2).fit(X, np.array([0, 1, 1, 0]), epochs=5, warn=False)
    assert repr(torch_nn.Perceptron(3)) == repr(np_nn.Perceptron(3))
