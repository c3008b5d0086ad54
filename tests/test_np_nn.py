"""The NumPy reference library: gradients, numerical stability, learning, and the lectures' numbers."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from nnlab import np_nn as nn
from nnlab.gradcheck import check_loss, check_module
from nnlab.np_nn import functional as F

TOL = 1e-6  # largest relative error allowed between backward and centred differences (float64)


def _away_from_kinks(x: np.ndarray) -> np.ndarray:
    """Move entries off 0, where ReLU-like derivatives jump and finite differences are invalid."""
    x = x.copy()
    x[np.abs(x) < 0.05] += 0.1
    return x


MODULES = {
    "Linear": lambda: nn.Linear(4, 3, rng=0),
    "Linear-he": lambda: nn.Linear(4, 3, init="he", bias_init=nn.init.constant(0.1), rng=1),
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "ReLU": nn.ReLU,
    "LeakyReLU": lambda: nn.LeakyReLU(0.2),
    "PReLU": nn.PReLU,
    "PReLU-channels": lambda: nn.PReLU(4, init=0.1),
    "Softmax": nn.Softmax,
    "Dropout": lambda: nn.Dropout(0.4, rng=3),
    "Dropout-lecture-form": lambda: nn.Dropout(0.4, rng=3, inverted=False),
    "Flatten": nn.Flatten,
    "Step": nn.Step,
    "Sign": nn.Sign,
    "MLP": lambda: nn.Sequential(
        nn.Linear(4, 6, rng=0), nn.Tanh(), nn.Linear(6, 5, rng=1), nn.ReLU(), nn.Linear(5, 2, rng=2)
    ),
}


@pytest.mark.parametrize("name", MODULES)
def test_module_gradients_match_finite_differences(name, rng):
    module = MODULES[name]()
    x = _away_from_kinks(rng.normal(size=(5, 4)))
    result = check_module(module, x, rng=7)
    assert set(result.errors) == {"x", *module.params}
    assert result.max_error < TOL, f"{name}:\n{result}"
    # the original module keeps its float32 weights; the check ran on a float64 copy
    assert all(p.dtype == np.float32 for p in module.params.values())


def test_gradients_are_not_trivially_zero(rng):
    """A check of an all-zero gradient would pass for a broken layer that returns zeros."""
    result = check_module(nn.Linear(4, 3, rng=0), rng.normal(size=(5, 4)))
    for name in ("x", "W", "b"):
        assert np.abs(result.analytic[name]).max() > 1e-2


def test_flatten_gradient_on_images(rng):
    result = check_module(nn.Flatten(), rng.normal(size=(3, 2, 4, 4)))
    assert result.max_error < TOL


def test_gradcheck_catches_a_wrong_backward(rng):
    class HalfGradSigmoid(nn.Sigmoid):
        def backward(self, dout):
            return 0.5 * super().backward(dout)

    assert check_module(HalfGradSigmoid(), rng.normal(size=(4, 3))).max_error > 0.3


def test_step_and_sign_have_zero_gradient(rng):
    x = _away_from_kinks(rng.normal(size=(6, 3)))
    for module in (nn.Step(), nn.Sign()):
        module(x)
        assert not module.backward(np.ones_like(x)).any()
    np.testing.assert_array_equal(F.sign(np.array([-2.0, 0.0, 3.0])), [-1, -1, 1])
    np.testing.assert_array_equal(F.step(np.array([-2.0, 0.0, 3.0])), [0, 0, 1])


LOSSES = {
    "MSE-half_sum": (nn.MSELoss(), "real"),
    "MSE-mean": (nn.MSELoss(convention="mean"), "real"),
    "BCE": (nn.BCELoss(), "prob"),
    "BCEWithLogits": (nn.BCEWithLogitsLoss(), "binary"),
    "CrossEntropy-labels": (nn.CrossEntropyLoss(), "labels"),
    "CrossEntropy-onehot": (nn.CrossEntropyLoss(), "onehot"),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_gradients_match_finite_differences(name, rng):
    loss, kind = LOSSES[name]
    pred = rng.normal(size=(6, 3))
    if kind == "real":
        target = rng.normal(size=(6, 3))
    elif kind == "prob":
        pred, target = F.sigmoid(pred), rng.integers(0, 2, size=(6, 3)).astype(float)
    elif kind == "binary":
        target = rng.integers(0, 2, size=(6, 3)).astype(float)
    elif kind == "labels":
        target = rng.integers(0, 3, size=6)
    else:
        target = np.eye(3)[rng.integers(0, 3, size=6)]
    result = check_loss(loss, pred, target)
    assert result.max_error < TOL, f"{name}:\n{result}"


def test_mse_half_convention_matches_the_lectures():
    a, y = np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [0.0, 1.0]])
    # C = ½‖a − y‖² per example, averaged over the batch: (½·5 + ½·1) / 2
    assert nn.MSELoss()(a, y) == pytest.approx(1.5)
    assert nn.MSELoss(convention="mean")(a, y) == pytest.approx(6 / 4)


def test_cross_entropy_labels_equal_one_hot(rng):
    z, labels = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    a, b = nn.CrossEntropyLoss(), nn.CrossEntropyLoss()
    assert a(z, labels) == pytest.approx(b(z, np.eye(4)[labels]))
    np.testing.assert_allclose(a.backward(), b.backward())


# -- numerical stability: every test here runs with warnings as errors -------------------------
pytestmark_stability = pytest.mark.filterwarnings("error")


@pytestmark_stability
def test_relu_keeps_dtype_and_nan():
    """F.relu is max(0, z): the input's dtype, NaN stays NaN, integers stay integers."""
    z = np.array([-2.0, -0.0, 0.0, 3.5, np.nan, np.inf, -np.inf], dtype=np.float32)
    out = F.relu(z)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [0, 0, 0, 3.5, np.nan, np.inf, 0])
    ints = F.relu(np.array([-3, 0, 4]))
    assert ints.dtype.kind == "i" and ints.tolist() == [0, 0, 4]


@pytestmark_stability
def test_sigmoid_is_finite_at_extremes():
    s = F.sigmoid(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]))
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s[[0, 2, 4]], [0.0, 0.5, 1.0])
    assert F.sigmoid(np.float32(-1000)) == 0.0
    assert np.isfinite(nn.Sigmoid()(np.array([[-1000.0, 1000.0]], dtype=np.float32))).all()


@pytestmark_stability
def test_softmax_and_cross_entropy_near_1e4():
    z = np.array([[1e4, 1e4 - 1.0, -1e4], [1e4, 1e4, 1e4]])
    s = F.softmax(z)
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(s[1], [1 / 3] * 3)
    loss = nn.CrossEntropyLoss()
    assert np.isfinite(loss(z, np.array([2, 0])))
    assert np.isfinite(loss.backward()).all()
    assert np.isfinite(nn.Softmax()(z.astype(np.float32))).all()


@pytestmark_stability
def test_binary_losses_at_extremes():
    bce = nn.BCEWithLogitsLoss()
    value = bce(np.array([[1000.0], [-1000.0]]), np.array([[0.0], [1.0]]))
    assert value == pytest.approx(1000.0)
    assert np.isfinite(bce.backward()).all()
    prob = nn.BCELoss()
    assert prob(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]])) == pytest.approx(100.0)  # logs clamped
    assert np.isfinite(prob.backward()).all()


# -- the lectures' numbers, computed by the library ---------------------------------------------
def test_party_neuron_answers_the_three_questions():
    neuron = nn.Perceptron(3)
    neuron.params["W"][:] = [-6, 3, 4]  # exam, free drinks, the date; threshold 0
    questions = np.array([[0, 1, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(neuron.predict(questions), [1, 0, 1])
    # the same neuron as a layer: Linear then Rosenblatt's Step
    layer = nn.Linear(3, 1)
    layer.params["W"][:] = [[-6, 3, 4]]
    layer.params["b"][:] = 0
    np.testing.assert_array_equal(nn.Step()(layer(questions)).ravel(), [1, 0, 1])


def test_sigmoid_neuron_of_the_lectures():
    # ŷ = g(1 + 3·x1 − 2·x2) at x = (−1, 2): g(−6) ≈ 0.0025 (the slide rounds to 0.002)
    layer = nn.Linear(2, 1)
    layer.params["W"][:] = [[3, -2]]
    layer.params["b"][:] = 1
    y_hat = nn.Sigmoid()(layer(np.array([[-1.0, 2.0]])))
    assert layer(np.array([[-1.0, 2.0]]))[0, 0] == -6
    assert y_hat[0, 0] == pytest.approx(0.0025, abs=5e-5)
    assert F.sigmoid(-6.0) == pytest.approx(1 / (1 + np.exp(6)))


def test_initialisation_numbers_of_the_lectures():
    """1000 inputs, half of them 1: z has SD √501 ≈ 22.4 with N(0, 1), √1.5 ≈ 1.22 with N(0, 1/n_in)."""
    rng = np.random.default_rng(0)
    x = np.r_[np.ones(500), np.zeros(500)]
    trials = 4000
    z_normal = [nn.init.normal((1, 1000), rng)[0] @ x + rng.normal() for _ in range(trials)]
    z_scaled = [nn.init.scaled_normal((1, 1000), rng)[0] @ x + rng.normal() for _ in range(trials)]
    assert np.std(z_normal) == pytest.approx(np.sqrt(501), rel=0.04)
    assert np.std(z_scaled) == pytest.approx(np.sqrt(1.5), rel=0.04)
    assert np.sqrt(501) == pytest.approx(22.4, abs=0.05) and np.sqrt(1.5) == pytest.approx(1.22, abs=0.005)


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("normal", 1.0),
        ("scaled_normal", 1 / np.sqrt(400)),
        ("xavier", np.sqrt(2 / 500)),
        ("he", np.sqrt(2 / 400)),
    ],
)
def test_initialiser_spreads(name, std):
    w = nn.init.get(name)((100, 400), np.random.default_rng(0))
    assert w.dtype == np.float32 and w.shape == (100, 400)
    assert w.std() == pytest.approx(std, rel=0.03)
    np.testing.assert_array_equal(w, nn.init.get(name)((100, 400), np.random.default_rng(0)))


# -- learning ----------------------------------------------------------------------------------
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float32)


def test_mlp_learns_xor():
    net = nn.Sequential(
        nn.Linear(2, 8, init="xavier", rng=0), nn.Tanh(), nn.Linear(8, 1, init="xavier", rng=1)
    )
    history = nn.fit(
        net,
        nn.BCEWithLogitsLoss(),
        nn.optim.Adam(net, lr=0.05),
        XOR_X,
        XOR_Y,
        epochs=300,
        batch_size=4,
        rng=0,
        progress=False,
    )
    assert history.train_acc[-1] == 1.0
    np.testing.assert_array_equal((net(XOR_X) > 0).astype(np.float32), XOR_Y)


def test_half_adder_with_a_2_3_2_sigmoid_network():
    X = XOR_X
    Y = np.array([[0, 0], [0, 1], [0, 1], [1, 0]], dtype=np.float32)  # (carry, sum)
    net = nn.Sequential(
        nn.Linear(2, 3, init="normal", rng=2),
        nn.Sigmoid(),
        nn.Linear(3, 2, init="normal", rng=3),
        nn.Sigmoid(),
    )
    nn.fit(
        net,
        nn.MSELoss(),
        nn.optim.SGD(net, lr=2.0, momentum=0.9),
        X,
        Y,
        epochs=2000,
        batch_size=4,
        rng=0,
        progress=False,
    )
    np.testing.assert_array_equal(np.round(net(X)), Y)


def test_perceptron_learns_and_or_and_fails_on_xor():
    X = XOR_X
    for target in ([0, 0, 0, 1], [0, 1, 1, 1]):
        p = nn.Perceptron(2).fit(X, np.array(target), epochs=50)
        assert p.converged and p.errors[-1] == 0
        np.testing.assert_array_equal(p.predict(X), target)
    with pytest.warns(nn.ConvergenceWarning, match="did not converge.*linearly separable"):
        p = nn.Perceptron(2).fit(X, XOR_Y.ravel(), epochs=25)
    assert p.converged is False and p.epochs_run == 25 and p.errors[-1] > 0


def test_perceptron_sign_output():
    p = nn.Perceptron(2, output="sign").fit(XOR_X, np.array([-1, -1, -1, 1]), epochs=50)
    assert p.converged
    np.testing.assert_array_equal(p.predict(XOR_X), [-1, -1, -1, 1])
    with pytest.raises(ValueError, match=r"Perceptron expected targets in .*output='sign'"):
        p.fit(XOR_X, np.array([0, 0, 0, 1]))


# -- optimisers --------------------------------------------------------------------------------
def _quadratic_model(dtype=np.float64):
    """A Linear layer whose loss ½‖x W^T + b − y‖² has known gradients."""
    return nn.Linear(3, 2, rng=0, dtype=dtype)


def _grads_for(model, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    loss = nn.MSELoss()
    loss(model(x), y)
    model.backward(loss.backward())


def test_sgd_momentum_forms_agree_with_hand_loops():
    model = _quadratic_model()
    start = copy.deepcopy(model.params)
    opt = nn.optim.SGD(model, lr=0.1, momentum=0.9)
    friction_model = _quadratic_model()
    friction_opt = nn.optim.SGD(friction_model, lr=0.1, friction=0.1)  # the lectures' (1 − μ) slippage form
    w, v = start["W"].copy(), np.zeros_like(start["W"])
    for _ in range(5):
        _grads_for(model)
        g = model.grads["W"].copy()
        W_before = model.params["W"]
        opt.step()
        assert model.params["W"] is W_before  # updated in place
        _grads_for(friction_model)
        friction_opt.step()
        v = 0.9 * v - 0.1 * g  # Δw = α Δw − η g  (the lectures' "fraction of the last change")
        w = w + v
        np.testing.assert_allclose(model.params["W"], w, atol=1e-12)
    np.testing.assert_allclose(friction_model.params["W"], model.params["W"], atol=1e-12)


def test_weight_decay_and_l1_add_to_the_gradient():
    """L2 is the optimiser's weight_decay; L1 is a term of the loss whose backward adds λ·sign(w)."""
    model = _quadratic_model()
    w0 = model.params["W"].copy()
    _grads_for(model)
    g = model.grads["W"].copy()
    penalty = nn.L1Penalty(model, strength=0.01)
    assert penalty() == pytest.approx(0.01 * sum(np.abs(p).sum() for p in model.params.values()))
    penalty.backward()
    nn.optim.SGD(model, lr=0.5, weight_decay=0.1).step()
    np.testing.assert_allclose(model.params["W"], w0 - 0.5 * (g + 0.1 * w0 + 0.01 * np.sign(w0)), atol=1e-12)


def test_adam_matches_its_formula():
    model = _quadratic_model()
    w, m, v = model.params["W"].copy(), 0.0, 0.0
    opt = nn.optim.Adam(model, lr=0.01)
    for t in range(1, 6):
        _grads_for(model, t)
        g = model.grads["W"].copy()
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w = w - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(model.params["W"], w, rtol=1e-10)


# Each optimiser's update equations by hand, (w, state, g, t) -> (w, state): the library must keep
# the same state between steps, or the second step already differs.
def _sgd_by_hand(w, s, g, t):
    v = 0.9 * s.get("v", 0.0) - 0.1 * g  # v ← αv − ηg
    return w + v, {"v": v}


def _adagrad_by_hand(w, s, g, t):
    G = s.get("G", 0.0) + g * g  # G ← G + g²
    return w - 0.1 * g / (np.sqrt(G) + 1e-10), {"G": G}


def _rmsprop_by_hand(w, s, g, t):
    v = 0.99 * s.get("v", 0.0) + 0.01 * g * g  # v ← αv + (1 − α)g²
    return w - 0.1 * g / (np.sqrt(v) + 1e-8), {"v": v}


def _adadelta_by_hand(w, s, g, t):
    v = 0.9 * s.get("v", 0.0) + 0.1 * g * g  # v ← ρv + (1 − ρ)g²
    delta = np.sqrt(s.get("u", 0.0) + 1e-6) / np.sqrt(v + 1e-6) * g
    u = 0.9 * s.get("u", 0.0) + 0.1 * delta * delta  # u ← ρu + (1 − ρ)Δ²
    return w - 1.0 * delta, {"v": v, "u": u}


def _adam_by_hand(w, s, g, t):
    m = 0.9 * s.get("m", 0.0) + 0.1 * g
    v = 0.999 * s.get("v", 0.0) + 0.001 * g * g
    return w - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8), {"m": m, "v": v}


BY_HAND = {
    "SGD-momentum": (lambda m: nn.optim.SGD(m, lr=0.1, momentum=0.9), _sgd_by_hand),
    "Adagrad": (lambda m: nn.optim.Adagrad(m, lr=0.1), _adagrad_by_hand),
    "RMSProp": (lambda m: nn.optim.RMSProp(m, lr=0.1), _rmsprop_by_hand),
    "Adadelta": (lambda m: nn.optim.Adadelta(m, lr=1.0), _adadelta_by_hand),
    "Adam": (lambda m: nn.optim.Adam(m, lr=0.1), _adam_by_hand),
}


@pytest.mark.parametrize("name", BY_HAND)
def test_optimisers_keep_the_state_of_their_update_equations(name):
    """Weights and state after each of four steps equal the equations by hand; weights change in place."""
    make, by_hand = BY_HAND[name]
    model = _quadratic_model()
    opt = make(model)
    w, state = model.params["W"].copy(), {}
    for t in range(1, 5):
        _grads_for(model, t)
        g = model.grads["W"].copy()
        W_before = model.params["W"]
        opt.step()
        w, state = by_hand(w, state, g, t)
        assert model.params["W"] is W_before  # updated in place
        np.testing.assert_allclose(model.params["W"], w, rtol=1e-12, atol=1e-14)
        assert set(opt.state["W"]) == set(state)
        for key, value in state.items():
            np.testing.assert_allclose(opt.state["W"][key], value, rtol=1e-12, atol=1e-14, err_msg=key)


@pytest.mark.parametrize("make", [nn.optim.Adagrad, nn.optim.RMSProp, nn.optim.Adadelta, nn.optim.Adam])
def test_adaptive_optimisers_lower_the_loss(make):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.0, -2.0, 0.5]]).T
    model = nn.Linear(3, 1, rng=0, dtype=np.float64)
    opt, loss = make(model, lr=0.1 if make is not nn.optim.Adadelta else 1.0), nn.MSELoss()
    first = loss(model(x), y)
    for _ in range(200):
        loss(model(x), y)
        model.backward(loss.backward())
        opt.step()
    assert loss(model(x), y) < 0.5 * first


# -- fit ---------------------------------------------------------------------------------------
def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 2)) * 0.5 + np.array([[0, 0], [3, 0], [0, 3]])[y]
    return X.astype(np.float32), y


def test_fit_records_history_and_learns():
    X, y = _blobs()
    net = nn.Sequential(nn.Linear(2, 16, rng=0), nn.ReLU(), nn.Linear(16, 3, rng=1))
    h = nn.fit(
        net,
        nn.CrossEntropyLoss(),
        nn.optim.SGD(net, lr=0.1),
        X,
        y,
        epochs=5,
        batch_size=16,
        validation=_blobs(60, 1),
        rng=0,
        progress=False,
    )
    assert h.epochs == 5 and len(h.val_loss) == 5 and len(h.train_acc) == 5
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.val_acc[-1] > 0.9
    assert "epochs=5" in repr(h)


def test_fit_counts_accuracy_for_labels_stored_as_floats():
    X, y = _blobs()
    net = nn.Sequential(nn.Linear(2, 16, rng=0), nn.ReLU(), nn.Linear(16, 3, rng=1))
    h = nn.fit(
        net,
        nn.CrossEntropyLoss(),
        nn.optim.SGD(net, lr=0.1),
        X,
        y.astype(np.float64),
        epochs=3,
        rng=0,
        progress=False,
    )
    assert 0.5 < h.train_acc[-1] <= 1.0
    assert nn.accuracy(np.eye(3)[[0, 2]], np.array([0.0, 1.0])) == 0.5


def test_fit_is_reproducible_from_its_seed():
    X, y = _blobs()
    results = []
    for _ in range(2):
        net = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Tanh(), nn.Linear(8, 3, rng=1))
        results.append(
            nn.fit(
                net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1), X, y, epochs=2, rng=5, progress=False
            ).train_loss
        )
    assert results[0] == results[1]


def test_early_stopping_restores_the_best_weights():
    X, y = _blobs(100)
    X_val, y_val = _blobs(100, 1)
    y_val = (y_val + 1) % 3  # validation labels that disagree: validation loss rises as training goes on
    net = nn.Sequential(nn.Linear(2, 16, rng=0), nn.ReLU(), nn.Linear(16, 3, rng=1))
    h = nn.fit(
        net,
        nn.CrossEntropyLoss(),
        nn.optim.SGD(net, lr=0.2),
        X,
        y,
        epochs=50,
        batch_size=10,
        validation=(X_val, y_val),
        patience=3,
        rng=0,
        progress=False,
    )
    assert h.stopped_early and h.epochs < 50
    assert h.best_epoch == int(np.argmin(h.val_loss)) + 1
    net.eval()
    assert nn.CrossEntropyLoss()(net(X_val), y_val) == pytest.approx(min(h.val_loss), rel=1e-5)


def test_fit_progress_bar_can_be_turned_off(monkeypatch, capsys):
    X, y = _blobs(50)
    net = nn.Sequential(nn.Linear(2, 3, rng=0))
    monkeypatch.setenv("NNLAB_PROGRESS", "1")
    nn.fit(net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1), X, y, epochs=1, progress=False)
    assert "epoch" not in capsys.readouterr().err
    nn.fit(net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1), X, y, epochs=1, progress=True)
    assert "epoch 1/1" in capsys.readouterr().err
    monkeypatch.setenv("NNLAB_PROGRESS", "0")
    nn.fit(net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1), X, y, epochs=1, progress=True)
    assert "epoch" not in capsys.readouterr().err


# -- module behaviour --------------------------------------------------------------------------
def test_sequential_names_repr_astype_and_modes():
    net = nn.Sequential(nn.Linear(784, 32, rng=0), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10, rng=1))
    assert list(net.params) == ["0.W", "0.b", "3.W", "3.b"] and list(net.grads) == list(net.params)
    assert net.params["0.W"].shape == (32, 784) and net.params["3.b"].shape == (10,)
    assert "(0): Linear(in_features=784, out_features=32)" in repr(net) and "Dropout(p=0.5)" in repr(net)
    assert net.astype(np.float64) is net and net.params["0.W"].dtype == np.float64
    net.eval()
    assert not net[2].training
    x = np.ones((2, 784))
    np.testing.assert_array_equal(net(x), net(x))  # no dropout in eval mode
    net.zero_grad()
    assert all(not g.any() for g in net.grads.values())


def test_dropout_forms_are_one_network_with_rescaled_weights(rng):
    """Inverted dropout with weights W equals the lectures' form (scale at test time) with W / (1 − p)."""
    p, x = 0.5, rng.normal(size=(4, 6))
    inv = nn.Sequential(nn.Dropout(p, rng=9), nn.Linear(6, 2, rng=0, dtype=np.float64))
    lecture_form = nn.Sequential(
        nn.Dropout(p, rng=9, inverted=False), nn.Linear(6, 2, rng=0, dtype=np.float64)
    )
    lecture_form[1].params["W"][...] = inv[1].params["W"] / (1 - p)
    np.testing.assert_allclose(inv(x), lecture_form(x))  # training: same mask, same outputs
    inv.eval(), lecture_form.eval()
    np.testing.assert_allclose(
        inv(x), lecture_form(x)
    )  # test time: halve the activations = halve the weights
    drop = nn.Dropout(0.25, rng=0)
    assert drop(np.ones((200, 200))).mean() == pytest.approx(1.0, rel=0.02)  # unbiased in expectation


# -- bad input gets a sentence -----------------------------------------------------------------
def test_linear_wrong_shape_suggests_flatten():
    with pytest.raises(
        ValueError,
        match=r"^Linear expected x of shape \(N, 784\); got \(32, 28, 28\)\. "
        r"Did you forget Flatten\?$",
    ):
        nn.Linear(784, 10)(np.zeros((32, 28, 28)))


def test_linear_wrong_features_and_single_example():
    with pytest.raises(
        ValueError, match=r"expected x of shape \(N, 3\); got \(5, 4\)\. The previous layer gives 4"
    ):
        nn.Linear(3, 2)(np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"got \(3,\)\. A single example needs a batch axis"):
        nn.Linear(3, 2)(np.zeros(3))


def test_one_image_through_flatten_is_told_about_the_batch_axis():
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(
        ValueError,
        match=r"^Linear expected x of shape \(N, 64\); got \(8, 8\)\. If this is one example, it needs a batch"
        r" axis: x\.reshape\(1, 8, 8\), or x\[None\]; if it is 8 examples, make in_features 8\.$",
    ):
        net(np.zeros((8, 8)))
    assert net(np.zeros((8, 8))[None]).shape == (1, 10)  # the fix the hint names works
    with pytest.raises(ValueError, match=r"^Flatten expected x of shape \(N, \.\.\.\) with a batch axis; got \(64,\)\. "
                       r"A single example needs a batch axis: use x\[None\]\.$"):  # fmt: skip
        nn.Flatten()(np.zeros(64))


def test_pytorch_vocabulary_on_a_numpy_model_points_to_params():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with pytest.raises(AttributeError, match=r"no parameters\(\): that is PyTorch's\. .* net\.params .*"
                       r"nnlab\.bridge\.twin\(net\)"):  # fmt: skip
        net.parameters()
    with pytest.raises(AttributeError, match=r"Linear \(a NumPy model\) has no state_dict\(\)"):
        net[0].state_dict()
    assert not hasattr(net, "named_parameters")  # so code that asks "is this PyTorch?" gets no
    with pytest.raises(AttributeError, match=r"'Sequential' object has no attribute 'weights'"):
        net.weights  # noqa: B018


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("bad", "word"), [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")])
def test_non_finite_input_is_named(bad, word, dtype, layout):
    x = np.zeros((4, 3), dtype=dtype, order=layout)
    x[2, 1] = bad
    with pytest.raises(
        ValueError,
        match=rf"Linear expected finite values in x; got 1 {word} entries "
        rf"\(the first at index \(2, 1\)\)",
    ):
        nn.Linear(3, 2, dtype=dtype)(x)


@pytestmark_stability
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_finite_input_passes_the_check_quietly(dtype):
    """The fast check sums squares; when that overflows on finite values, the exact check decides."""
    big = np.finfo(dtype).max / 4
    x = np.full((4, 3), big, dtype=dtype)
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.dot(x.ravel(), x.ravel()))  # the fast pass overflows here
    assert nn.Flatten()(x).shape == (4, 3)
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="got 1 NaN entries"):
        nn.Flatten()(x)


def test_labels_out_of_range():
    with pytest.raises(
        ValueError,
        match=r"CrossEntropyLoss expected class labels in 0\.\.2 for 3 classes; "
        r"got 3\. Does the last layer have one output per class\?",
    ):
        nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"got -1"):
        nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match=r"expected integer class labels.*got dtype float"):
        nn.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0.5, 1.0]))


def test_other_mistakes_get_sentences():
    with pytest.raises(ValueError, match=r"Linear backward was called before forward\. Run forward"):
        nn.Linear(3, 2).backward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss backward was called before the loss"):
        nn.CrossEntropyLoss().backward()
    with pytest.raises(
        ValueError, match=r"BCELoss expected pred as probabilities in \[0, 1\]; got values from -1"
    ):
        nn.BCELoss()(np.array([[-1.0]]), np.array([[1.0]]))
    with pytest.raises(ValueError, match=r"MSELoss expected target of shape \(4, 1\).*got \(4,\)\. Reshape"):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(
        ValueError,
        match=r"Dropout expected p to be a number in \[0, 1\); got 1\.5\. p is the probability of dropping",
    ):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"Linear expected init to be one of 'normal'"):
        nn.Linear(2, 2, init="uniformish")
    with pytest.raises(ValueError, match=r"SGD got both momentum and friction"):
        nn.optim.SGD(nn.Linear(2, 2), lr=0.1, momentum=0.9, friction=0.1)
    with pytest.raises(ValueError, match=r"fit got patience but no validation set"):
        net = nn.Linear(2, 2)
        nn.fit(
            net,
            nn.MSELoss(),
            nn.optim.SGD(net),
            np.zeros((4, 2)),
            np.zeros((4, 2)),
            epochs=1,
            patience=2,
        )
    with pytest.raises(ValueError, match=r"fit expected training X and y with the same number of examples"):
        net = nn.Linear(2, 2)
        nn.fit(
            net,
            nn.MSELoss(),
            nn.optim.SGD(net),
            np.zeros((4, 2)),
            np.zeros((3, 2)),
            epochs=1,
        )
    with pytest.raises(ValueError, match=r"Sequential expected nnlab.np_nn modules; got type at position 1"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)
    with pytest.raises(ValueError, match=r"Perceptron has no backward pass"):
        nn.Perceptron(2).backward(np.zeros(1))


def _linear():
    return nn.Linear(2, 2, rng=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nn.optim.SGD(_linear(), momentum="0.9"),
         r"^SGD expected momentum to be a number in \[0, 1\); got '0\.9' \(a str\)\. Write it without quotes: momentum=0\.9\.$"),
        (lambda: nn.optim.SGD(_linear(), momentum=1.0),
         r"^SGD expected momentum to be a number in \[0, 1\); got 1\.0\. For example momentum=0\.9\.$"),
        (lambda: nn.optim.SGD(_linear(), friction=0),
         r"^SGD expected friction to be a number in \(0, 1\]; got 0\. friction=μ keeps α = 1 − μ of the last change"),
        (lambda: nn.optim.SGD(_linear(), friction="0.1"),
         r"^SGD expected friction to be a number in \(0, 1\]; got '0\.1' \(a str\)\. Write it without quotes: friction=0\.1\.$"),
        (lambda: nn.optim.SGD(_linear(), lr=True),
         r"^SGD expected lr to be a non-negative number; got True \(a bool\)\. For example lr=0\.1\.$"),
        (lambda: nn.optim.SGD(_linear(), lr=float("nan")), r"^SGD expected lr to be a non-negative number; got nan\."),
        (lambda: nn.optim.SGD(_linear(), weight_decay=-1), r"^SGD expected weight_decay to be a non-negative number; got -1\."),
        (lambda: nn.optim.Adam(_linear(), betas=0.9),
         r"^Adam expected betas to be a pair \(β₁, β₂\) of numbers in \[0, 1\); got 0\.9\. For example betas=\(0\.9, 0\.999\)\.$"),
        (lambda: nn.optim.Adam(_linear(), betas=(0.9, 1.0)), r"^Adam expected betas to be a pair .*; got \(0\.9, 1\.0\)\."),
        (lambda: nn.optim.Adam(_linear(), eps=None), r"^Adam expected eps to be a non-negative number; got None\. For example eps=1e-8\.$"),
        (lambda: nn.optim.RMSProp(_linear(), alpha=1.5), r"^RMSProp expected alpha to be a number in \[0, 1\); got 1\.5\."),
        (lambda: nn.optim.Adadelta(_linear(), rho="0.9"), r"^Adadelta expected rho to be a number in \[0, 1\); got '0\.9' \(a str\)"),
        (lambda: nn.optim.Adagrad(_linear(), eps=-1e-10), r"^Adagrad expected eps to be a non-negative number; got -1e-10\."),
        (lambda: nn.Linear(True, 2),
         r"^Linear expected in_features to be a positive integer; got True \(a bool\)\. For example Linear\(784, 10\)\.$"),
        (lambda: nn.Linear(2, 2.0), r"^Linear expected out_features to be a positive integer; got 2\.0\. For example"),
        (lambda: nn.PReLU(2, init=np.ones(3)),
         r"^PReLU expected init to be a number; got array\(\[1\., 1\., 1\.\]\) \(a NumPy array\)\. Every slope a starts"),
        (lambda: nn.PReLU(True), r"^PReLU expected num_parameters to be a positive integer; got True \(a bool\)\."),
        (lambda: nn.LeakyReLU("0.1"), r"^LeakyReLU expected negative_slope to be a number; got '0\.1' \(a str\)\."),
        (lambda: nn.Dropout("0.5"), r"^Dropout expected p to be a number in \[0, 1\); got '0\.5' \(a str\)\. Write it"),
        (lambda: nn.L1Penalty(_linear(), strength="0.01"),
         r"^L1Penalty expected strength to be a non-negative number; got '0\.01' \(a str\)\. Write it without"),
        (lambda: nn.L1Penalty(object(), strength=0.01),
         r"^L1Penalty expected a NumPy model \(an nnlab\.np_nn Module\); got object\. Pass the network itself"),
        (lambda: nn.init.normal((2, 2), std=-1), r"^init expected std to be a non-negative number; got -1\. For example"),
        (lambda: nn.init.xavier_uniform((2, 2), gain="1"), r"^init expected gain to be a non-negative number; got '1' \(a str\)"),
        (lambda: nn.init.constant("a"), r"^init\.constant expected value to be a number; got 'a' \(a str\)"),
        (lambda: nn.optim.SGD(object()),
         r"^SGD expected a NumPy model \(an nnlab\.np_nn Module\); got object\. Pass the network itself: SGD\(model"),
    ],
)  # fmt: skip
def test_bad_settings_get_a_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_friction_one_is_plain_sgd_and_settings_keep_their_values():
    assert nn.optim.SGD(_linear(), lr=0.1, friction=1).momentum == 0.0  # α = 1 − μ = 0
    assert nn.optim.Adam(_linear(), betas=[0.8, 0.99]).betas == (0.8, 0.99)
    assert nn.PReLU(2, init=np.float32(0.1)).params["a"].tolist() == pytest.approx([0.1, 0.1])
    assert nn.Linear(np.int64(3), 2).in_features == 3


@pytest.mark.parametrize("name", [k for k in MODULES if not k.startswith("Dropout")])
def test_backward_before_forward_is_a_sentence(name):
    module = MODULES[name]()
    with pytest.raises(ValueError, match=r"backward was called before forward\. Run forward\(x\)"):
        module.backward(np.zeros((2, 3)))


def test_saturated_network_stays_finite_without_warnings():
    """Inputs of size 1e4 saturate every sigmoid; forward and backward must stay finite and quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, y = _blobs(64)
        net = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Sigmoid(), nn.Linear(8, 3, rng=1), nn.Softmax())
        probs = net(X * 1e4)
        dx = net.backward(probs - np.eye(3)[y])
    assert np.isfinite(probs).all() and np.isfinite(dx).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
