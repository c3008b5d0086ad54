"""Chapter 4 (saturation, loss and activations): the lectures' numbers checked against the library, and the lesson."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nnlab import gradcheck
from nnlab import np_nn as nn
from nnlab.lessons import saturation as sat
from nnlab.np_nn import functional as F


def _library_not_gate(loss):
    """Olteanu's NOT gate through np_nn: Linear(1, 1) with w = 5, b = 0, then Sigmoid, on x = -1, y = 1."""
    neuron = nn.Linear(1, 1, dtype=np.float64)
    neuron.params["W"][:] = 5.0
    neuron.params["b"][:] = 0.0
    activation = nn.Sigmoid()
    a = activation(neuron(np.array([[-1.0]])))
    value = loss(a, np.array([[1.0]]))
    dz = activation.backward(loss.backward())
    neuron.backward(dz)
    return float(a[0, 0]), value, float(dz[0, 0]), float(neuron.grads["W"][0, 0])


def test_not_gate_numbers_against_the_library():
    gate = sat.not_gate(5.0, x=-1.0, b=0.0, y=1.0)
    assert sat.NOT_GATE == {"x": -1.0, "w": 5.0, "b": 0.0, "y": 1.0}
    # squared loss (a - y)^2: the lecture's form, np_nn's MSELoss(convention="mean") for one output
    a, loss, dz, dw = _library_not_gate(nn.MSELoss(convention="mean"))
    assert gate.a == pytest.approx(a, abs=1e-15) and gate.a == pytest.approx(0.0067, abs=5e-5)
    assert gate.squared_loss == pytest.approx(loss, abs=1e-15) and loss == pytest.approx(0.9867, abs=5e-5)
    assert gate.squared_grad == pytest.approx(dz, abs=1e-15) and dz == pytest.approx(-0.0132, abs=5e-5)
    assert gate.squared_grad_w == pytest.approx(dw, abs=1e-15)
    # cross-entropy: the gradient is a - y
    a, loss, dz, dw = _library_not_gate(nn.BCELoss())
    assert gate.cross_entropy == pytest.approx(loss, rel=1e-12) and loss == pytest.approx(5.0067, abs=5e-5)
    assert gate.cross_entropy_grad == pytest.approx(dz, abs=1e-12) and dz == pytest.approx(a - 1.0, abs=1e-12)
    assert dz == pytest.approx(-0.9933, abs=5e-5)
    assert gate.cross_entropy_grad_w == pytest.approx(dw, abs=1e-12)
    # the lecture's point: σ'(z) ≈ 0, the squared-loss gradient tiny, the loss large
    assert gate.sigma_prime < 0.01 and abs(gate.squared_grad) < 0.02 and gate.squared_loss > 0.95
    assert abs(gate.cross_entropy_grad / gate.squared_grad) == pytest.approx(75, abs=0.5)


def test_not_gate_with_logits_loss_and_autograd():
    torch = pytest.importorskip("torch")
    loss = nn.BCEWithLogitsLoss()
    loss(np.array([[-5.0]]), np.array([[1.0]]))
    assert loss.backward()[0, 0] == pytest.approx(sat.not_gate().cross_entropy_grad, abs=1e-12)
    w = torch.tensor(5.0, dtype=torch.float64, requires_grad=True)
    z = w * -1.0
    z.retain_grad()
    a = torch.sigmoid(z)
    ((a - 1.0) ** 2).backward()
    assert float(z.grad) == pytest.approx(sat.not_gate().squared_grad, abs=1e-15)


def _train_one_neuron(w, b, loss, eta=0.15, epochs=300, x=1.0, y=0.0):
    """Section 4.2's loop: Nielsen's neuron, gradient descent on one example; its output before and after each epoch."""
    outputs = []
    for _ in range(epochs + 1):
        a = F.sigmoid(w * x + b)
        outputs.append(a)
        dz = (a - y) * a * (1 - a) if loss == "squared" else a - y
        w, b = w - eta * dz * x, b - eta * dz
    return np.array(outputs)


def test_nielsens_learning_slowdown():
    """One neuron, x = 1, y = 0, η = 0.15, 300 epochs: Nielsen's book reports outputs 0.09 and 0.20 under the
    squared loss from (w, b) = (0.6, 0.9) and (2, 2); the cross-entropy has no such slowdown."""
    runs = {
        (start, loss): _train_one_neuron(*start, loss)
        for start in ((0.6, 0.9), (2.0, 2.0))
        for loss in ("squared", "cross-entropy")
    }
    assert runs[(0.6, 0.9), "squared"][0] == pytest.approx(0.82, abs=0.005)
    assert runs[(2.0, 2.0), "squared"][0] == pytest.approx(0.98, abs=0.005)
    assert runs[(0.6, 0.9), "squared"][-1] == pytest.approx(0.09, abs=0.005)  # Nielsen's 0.09
    assert runs[(2.0, 2.0), "squared"][-1] == pytest.approx(0.20, abs=0.005)  # Nielsen's 0.20
    below_half = {key: int(np.argmax(a < 0.5)) for key, a in runs.items()}
    assert below_half == {
        ((0.6, 0.9), "squared"): 36,
        ((0.6, 0.9), "cross-entropy"): 8,
        ((2.0, 2.0), "squared"): 232,
        ((2.0, 2.0), "cross-entropy"): 17,
    }
    for start in ((0.6, 0.9), (2.0, 2.0)):
        assert runs[start, "cross-entropy"][-1] == pytest.approx(0.01, abs=0.005)
    stuck = runs[(2.0, 2.0), "squared"]
    assert 0.5 * stuck[0] ** 2 == pytest.approx(0.482, abs=5e-4) and 0.5 * stuck[50] ** 2 == pytest.approx(
        0.476, abs=5e-4
    )
    assert F.sigmoid_prime(np.float64(4.0)) == pytest.approx(0.018, abs=5e-4)  # σ'(w + b) at the start
    # the loop is gradient descent on the two losses: its step is the library's gradient
    for loss, library in (("squared", nn.MSELoss()), ("cross-entropy", nn.BCELoss())):
        neuron, activation = nn.Linear(1, 1, dtype=np.float64), nn.Sigmoid()
        neuron.params["W"][:], neuron.params["b"][:] = 2.0, 2.0
        library(activation(neuron(np.array([[1.0]]))), np.array([[0.0]]))
        neuron.backward(activation.backward(library.backward()))
        a = F.sigmoid(4.0)
        assert neuron.grads["W"][0, 0] == pytest.approx(
            (a * a * (1 - a)) if loss == "squared" else a, rel=1e-12
        )


def test_nielsens_smaller_cross_entropy_rate_takes_about_30_times_as_many_epochs():
    """Section 4.2: Nielsen runs the cross-entropy with η = 0.005, not the 0.15 of his squared-loss runs; the
    fall below 0.5 then takes about 30 times as many epochs (228 and 498 against 8 and 17)."""
    for start, fast in (((0.6, 0.9), 8), ((2.0, 2.0), 17)):
        slow = int(np.argmax(_train_one_neuron(*start, "cross-entropy", eta=0.005, epochs=1000) < 0.5))
        assert slow == {8: 228, 17: 498}[fast]
        assert 25 < slow / fast < 32


def test_sigmoid_derivative_is_at_most_a_quarter_and_tanh_at_most_one():
    z = np.linspace(-10, 10, 20001)
    assert F.sigmoid_prime(z).max() == pytest.approx(0.25, abs=1e-15)
    assert z[np.argmax(F.sigmoid_prime(z))] == pytest.approx(0.0, abs=1e-12)
    assert F.tanh_prime(z).max() == pytest.approx(1.0, abs=1e-15)


def test_honchars_tanh_formula_is_the_sigmoid():
    z = np.linspace(-20, 20, 4001)
    np.testing.assert_allclose(sat.sigmoid_as_tanh(z), F.sigmoid(z), rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.tanh(z), 2 * F.sigmoid(2 * z) - 1, rtol=0, atol=1e-15)
    assert not np.allclose(sat.sigmoid_as_tanh(z), np.tanh(z))


def test_gradient_vanishes_layer_by_layer_through_sigmoids_only():
    sigmoid = sat.layer_gradient_norms("sigmoid", depth=10)
    ratios = sigmoid[1:] / sigmoid[:-1]
    assert np.all(ratios > 2)  # every layer back shrinks the gradient (σ' ≤ 1/4 times the weights)
    assert sigmoid[-1] / sigmoid[0] > 1e5
    for name in ("tanh", "relu"):
        norms = sat.layer_gradient_norms(name, depth=10)
        assert norms[-1] / norms[0] < 10
    with pytest.raises(ValueError, match="expected activation 'sigmoid', 'tanh' or 'relu'; got 'step'"):
        sat.layer_gradient_norms("step")


def test_the_numbers_of_section_4_3():
    """Per-layer factors 3.5 to 7.8, the first layer 3.4x below the 1/4 line, and the weight scales."""
    sigmoid = sat.layer_gradient_norms("sigmoid", depth=10)
    ratios = sigmoid[1:] / sigmoid[:-1]
    assert round(ratios.min(), 1) == 3.5 and round(ratios.max(), 1) == 7.8
    assert sigmoid[-1] * 0.25**9 / sigmoid[0] == pytest.approx(3.4, abs=0.05)
    expected = {1.0: (1.1e-6, 0.8), 2.0: (8.0e-5, 3.4), 4.0: (3.3e-3, 43.2)}
    for scale, (sigmoid_ratio, tanh_ratio) in expected.items():
        s = sat.layer_gradient_norms("sigmoid", depth=10, scale=scale)
        t = sat.layer_gradient_norms("tanh", depth=10, scale=scale)
        assert s[0] / s[-1] == pytest.approx(sigmoid_ratio, rel=0.05)
        assert t[0] / t[-1] == pytest.approx(tanh_ratio, abs=0.05)


def test_relu_stack_keeps_its_ratio_while_its_gradients_explode():
    """Section 4.3: last layer ≈ 41, 2.7e7, 1.4e13 at ×1, ×2, ×4; first/last 0.59, 0.58, 0.58; ×2 -> ×4 is 2¹⁹."""
    relu = {scale: sat.layer_gradient_norms("relu", depth=10, scale=scale) for scale in (1.0, 2.0, 4.0)}
    for scale, (last, first) in {1.0: (41.3, 24.2), 2.0: (2.68e7, 1.54e7), 4.0: (1.40e13, 8.07e12)}.items():
        assert relu[scale][-1] == pytest.approx(last, rel=0.005) and relu[scale][0] == pytest.approx(
            first, rel=0.005
        )
    ratios = [relu[scale][0] / relu[scale][-1] for scale in (1.0, 2.0, 4.0)]
    np.testing.assert_allclose(ratios, [0.585, 0.575, 0.575], atol=5e-4)
    np.testing.assert_allclose(relu[4.0] / relu[2.0], 2.0**19, rtol=0.01)  # every layer's gradient ∝ c¹⁹
    # from ×1 to ×2 the factor is larger than 2¹⁹, 6.4e5 to 6.7e5: at ×1 the targets cancel part of a − y
    growth = relu[2.0] / relu[1.0]
    assert round(growth.min() / 1e5, 1) == 6.4 and round(growth.max() / 1e5, 1) == 6.7
    assert np.all(growth > 1.2 * 2.0**19)
    # the ReLU stack starts from He's N(0, 2/32), the sigmoid and tanh stacks from N(0, 1/32)
    np.testing.assert_allclose(
        sat.layer_gradient_norms("relu", depth=10, init="he"), relu[1.0], rtol=0, atol=0
    )
    assert not np.allclose(sat.layer_gradient_norms("relu", depth=10, init="scaled_normal"), relu[1.0])


def test_cross_entropy_gradient_is_softmax_minus_onehot_on_both_paths():
    torch = pytest.importorskip("torch")
    from nnlab import torch_nn as tnn

    scores, label = np.array([1.0, 2.0, 3.0]), np.array([0])
    expected = F.softmax(scores) - np.eye(3)[0]
    ce = nn.CrossEntropyLoss()
    ce(scores[None, :], label)
    np.testing.assert_allclose(ce.backward()[0], expected, atol=1e-15)
    z = torch.tensor(scores[None, :], requires_grad=True)
    tnn.CrossEntropyLoss()(z, label).backward()
    np.testing.assert_allclose(z.grad.numpy()[0], expected, atol=1e-15)
    np.testing.assert_allclose(expected, [-0.91, 0.2447, 0.6652], atol=5e-5)


def test_softmax_jacobian_against_differences_and_the_library():
    scores = np.array([1.0, 2.0, 3.0])
    J = sat.softmax_jacobian(scores)
    s = F.softmax(scores)
    np.testing.assert_allclose(np.diag(J), s * (1 - s), atol=1e-15)
    assert J[0, 1] == pytest.approx(-s[0] * s[1])
    np.testing.assert_allclose(J.sum(axis=0), 0, atol=1e-15)
    numeric = np.stack(
        [gradcheck.numerical_gradient(lambda i=i: F.softmax(scores)[i], scores) for i in range(3)]
    )
    np.testing.assert_allclose(J, numeric, atol=1e-9)
    softmax = nn.Softmax()
    softmax(scores[None, :])
    dout = np.array([[0.3, -1.0, 2.0]])
    np.testing.assert_allclose(softmax.backward(dout)[0], J.T @ dout[0], atol=1e-15)


def test_dead_relu_gets_no_gradient_while_leaky_and_parametric_do():
    X = np.random.default_rng(0).normal(size=(100, 2))
    layer = nn.Linear(2, 6, rng=1, dtype=np.float64)
    layer.params["b"][:] = [0.0, 0.0, 0.0, -10.0, -10.0, -10.0]
    z = layer(X)
    assert sat.dead_units(z).tolist() == [False, False, False, True, True, True]
    relu = nn.ReLU()
    layer.backward(relu.backward(np.ones_like(relu(z))))
    assert np.all(layer.grads["W"][3:] == 0) and np.all(np.abs(layer.grads["W"][:3]).sum(axis=1) > 0)
    for activation in (nn.LeakyReLU(0.001), nn.PReLU(init=0.25, dtype=np.float64)):
        layer(X)
        layer.backward(activation.backward(np.ones_like(activation(z))))
        assert np.all(np.abs(layer.grads["W"]).sum(axis=1) > 0)
    sizes = {}
    for activation in (nn.LeakyReLU(0.001), nn.PReLU(init=0.25, dtype=np.float64)):
        layer.backward(activation.backward(np.ones_like(activation(z))))
        sizes[type(activation).__name__] = np.abs(layer.grads["W"]).sum(axis=1)
    np.testing.assert_allclose(sizes["LeakyReLU"][3:], 0.02, atol=0.005)  # small, not 0: the numbers of 4.5
    np.testing.assert_allclose(sizes["PReLU"][3:], 4.30, atol=0.005)
    prelu = nn.PReLU(init=0.25, dtype=np.float64)
    prelu(z)
    prelu.backward(np.ones_like(z))
    assert prelu.grads["a"][0] == pytest.approx(z[z <= 0].sum())  # ∂C/∂a = Σ_{z ≤ 0} dout·z


def test_honchars_initialisation_numbers():
    """1,000 inputs, half of them 1, weights and bias N(0, 1): z has SD sqrt(501) ≈ 22.4; N(0, 1/n): sqrt(1.5) ≈ 1.22."""
    assert np.sqrt(501) == pytest.approx(22.4, abs=0.05)
    assert np.sqrt(1.5) == pytest.approx(1.22, abs=0.005)
    x = np.zeros((1, 1000))
    x[0, :500] = 1.0
    for init, expected in (("normal", np.sqrt(501)), ("scaled_normal", np.sqrt(1.5))):
        layer = nn.Linear(1000, 4000, init=init, bias_init="normal", rng=0, dtype=np.float64)
        assert layer(x).std() == pytest.approx(expected, rel=0.05)


def test_fit_warns_about_a_saturated_network_and_not_about_a_scaled_one():
    diagnostics = pytest.importorskip("nnlab.diagnostics")
    rng = np.random.default_rng(0)
    X = (rng.random((128, 1000)) < 0.5).astype(np.float32)
    y = (X[:, :1] > 0.5).astype(np.float32)
    for init, should_warn in (("normal", True), ("scaled_normal", False)):
        net = nn.Sequential(
            nn.Linear(1000, 30, init=init, bias_init="normal", rng=1),
            nn.Sigmoid(),
            nn.Linear(30, 1, rng=2),
            nn.Sigmoid(),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", diagnostics.TrainingWarning)
            nn.fit(net, nn.BCELoss(), nn.optim.SGD(net, lr=0.5), X, y, epochs=1, batch_size=32, rng=0)
        saturation = [
            w
            for w in caught
            if issubclass(w.category, diagnostics.TrainingWarning) and "derivative" in str(w.message)
        ]
        assert bool(saturation) == should_warn


# ----------------------------------------------------------------------------- the lesson
def test_not_gate_lesson_moves_its_points_to_the_weight():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = sat.not_gate_gradients()
    ax_loss, ax_grad = lesson.figure.axes
    markers = [line for ax in (ax_loss, ax_grad) for line in ax.lines if len(line.get_xdata()) == 1]
    assert len(markers) == 4
    for w in (-3.0, 0.0, 5.0, 9.5):
        lesson.sliders["w"].value = w
        gate = sat.not_gate(w)
        assert all(line.get_xdata()[0] == pytest.approx(w) for line in markers)
        loss_points = sorted(
            float(line.get_ydata()[0]) for line in ax_loss.lines if len(line.get_xdata()) == 1
        )
        grad_points = sorted(
            float(line.get_ydata()[0]) for line in ax_grad.lines if len(line.get_xdata()) == 1
        )
        assert loss_points == pytest.approx(sorted([gate.squared_loss, gate.cross_entropy]))
        assert grad_points == pytest.approx(sorted([gate.squared_grad, gate.cross_entropy_grad]))
        assert f"w = {w:+.1f}" in lesson.text
    lesson.set(w=5.0)
    assert "∂ℓ/∂z = -0.0132" in lesson.text and "∂ℓ/∂z = -0.9933" in lesson.text
    lesson.set(w=50.0)  # clamped to the slider's range
    assert lesson.sliders["w"].value == 10.0


def test_static_not_gate_figure_is_labelled():
    pytest.importorskip("matplotlib")
    fig = sat.not_gate_figure()
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None


def test_vanishing_gradients_lesson_follows_depth_and_scale():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = sat.vanishing_gradients()
    ax = lesson.figure.axes[0]
    lines = {line.get_label(): line for line in ax.lines}
    for depth, scale in ((4, 1.0), (15, 1.0), (8, 4.0)):
        lesson.set(depth=depth, scale=scale)
        for name in ("sigmoid", "tanh", "relu"):
            assert list(lines[name].get_xdata()) == list(range(1, depth + 1))
            np.testing.assert_allclose(
                lines[name].get_ydata(), sat.layer_gradient_norms(name, depth=depth, scale=scale)
            )
    sigmoid = lines["sigmoid"].get_ydata()
    assert sigmoid[0] < sigmoid[-1]  # at scale 4 the sigmoid stack still vanishes ...
    lesson.set(depth=10, scale=4.0)
    tanh = lines["tanh"].get_ydata()
    assert tanh[0] > 10 * tanh[-1]  # ... while tanh explodes
    lesson.set(scale=1.0)
    assert "sigmoid  first layer / last layer = 1." in lesson.text and "e-06" in lesson.text


# ----------------------------------------------------------------------------- section 4.7: what saturation costs
def _section_4_7_data():
    rng = np.random.default_rng(0)
    X = np.zeros((512, 1000), dtype=np.float32)
    for row in X:
        row[rng.permutation(1000)[:500]] = 1.0
    y = ((X - 0.5) @ rng.normal(size=1000) > 0).astype(np.float32)[:, None]
    return X, y


def _saturated_net(init):
    return nn.Sequential(
        nn.Linear(1000, 30, init=init, bias_init="normal", rng=1),
        nn.Sigmoid(),
        nn.Linear(30, 1, rng=2),
        nn.Sigmoid(),
    )


def test_what_the_saturated_network_learns():
    """Section 4.7: close losses after 10 epochs (0.589, 0.567), a first layer that moves 77x less, a gradient
    471x smaller next to its weights, and after 30 epochs 0.327 against 0.013."""
    X, y = _section_4_7_data()
    start_ratio = {}
    for init in ("normal", "scaled_normal"):
        net = _saturated_net(init)
        bce = nn.BCELoss()
        bce(net(X), y)
        net.backward(bce.backward())
        start_ratio[init] = np.linalg.norm(net.grads["0.W"]) / np.linalg.norm(net.params["0.W"])
    assert start_ratio["normal"] == pytest.approx(1.7e-4, rel=0.03)
    assert start_ratio["scaled_normal"] == pytest.approx(8.2e-2, rel=0.01)
    assert round(start_ratio["scaled_normal"] / start_ratio["normal"]) == 471  # the chapter's "471 times"

    watched = {}
    for init in ("normal", "scaled_normal"):
        net = _saturated_net(init)
        W0 = {name: net.params[name].copy() for name in ("0.W", "2.W")}
        optimizer, shuffle = nn.optim.SGD(net, lr=0.5), np.random.default_rng(0)
        losses, moved, saturated = [], [], []
        for _ in range(30):
            one = nn.fit(net, nn.BCELoss(), optimizer, X, y, epochs=1, batch_size=32, rng=shuffle,
                         progress=False, diagnostics=False)  # fmt: skip
            losses += one.train_loss
            moved.append({n: np.linalg.norm(net.params[n] - W0[n]) / np.linalg.norm(W0[n]) for n in W0})
            saturated.append(np.mean(np.abs(X @ net.params["0.W"].T + net.params["0.b"]) > 6))
        watched[init] = losses, moved, saturated
    (loss_n, moved_n, sat_n), (loss_s, moved_s, sat_s) = watched["normal"], watched["scaled_normal"]
    assert round(loss_n[9], 3) == 0.589 and round(loss_s[9], 3) == 0.567  # close after 10 epochs
    assert round(loss_n[29], 3) == 0.327 and round(loss_s[29], 3) == 0.013  # far apart after 30
    assert moved_n[9]["0.W"] == pytest.approx(0.012, abs=5e-4) and moved_s[9]["0.W"] == pytest.approx(
        0.906, abs=5e-4
    )
    assert round(moved_s[9]["0.W"] / moved_n[9]["0.W"]) == 77
    assert moved_n[9]["2.W"] > 2  # the saturated network learns through its output layer
    assert min(sat_n) > 0.77 and max(sat_s[:10]) <= 0.02
    # the single fit of the warning cells follows the same loss curve
    net = _saturated_net("normal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = nn.fit(net, nn.BCELoss(), nn.optim.SGD(net, lr=0.5), X, y, epochs=3, batch_size=32, rng=0)
    np.testing.assert_allclose(history.train_loss, loss_n[:3], rtol=1e-6)
    assert [round(s, 2) for s in history.saturated["1"]] == [0.78, 0.78, 0.78]
