"""Chapter 3 (backpropagation): the lectures' loss examples, the half adder's gradients four ways, the sum over
paths, the gradient check, the lessons, and the digit reader of section 3.12."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest

from nnlab import data, gradcheck
from nnlab import np_nn as nn
from nnlab.lessons import backprop as bp
from nnlab.np_nn import functional as F

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

NAMES = ("W1", "b1", "W2", "b2")
LIBRARY_KEYS = {"W1": "0.W", "b1": "0.b", "W2": "2.W", "b2": "2.b"}


def _half_adder():
    X, T = data.half_adder()
    return X.astype(np.float64), T.astype(np.float64)


def test_the_half_adder_table_is_kheradpishehs():
    X, T = _half_adder()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert T.tolist() == [[0, 0], [0, 1], [0, 1], [1, 0]]  # (carry, sum)


def test_changs_empirical_loss_table():
    """Predictions 0.1, 0.8, 0.6; the slide's crosses and tick (wrong, wrong, right at 0.5) give y = 1, 0, 1."""
    f_x, y = np.array([[0.1], [0.8], [0.6]]), np.array([[1.0], [0.0], [1.0]])
    assert ((f_x > 0.5) == (y == 1)).ravel().tolist() == [False, False, True]
    per_example = -(y * np.log(f_x) + (1 - y) * np.log(1 - f_x))
    np.testing.assert_allclose(per_example.ravel(), [2.3026, 1.6094, 0.5108], atol=5e-5)
    assert nn.BCELoss()(f_x, y) == pytest.approx(1.4743, abs=5e-5)
    assert nn.BCELoss()(f_x, y) == pytest.approx(per_example.mean(), rel=1e-12)
    assert nn.MSELoss(convention="mean")(f_x, y) == pytest.approx((0.81 + 0.64 + 0.16) / 3, rel=1e-12)
    assert round(nn.MSELoss(convention="mean")(f_x, y), 4) == 0.5367


def test_honchars_cost_example():
    """y = (0, 1, 0), a = (0, 0.6, 0.2): ½‖a − y‖² = ½(0.16 + 0.04) = 0.1, MSELoss's default convention."""
    y, a = np.array([[0.0, 1.0, 0.0]]), np.array([[0.0, 0.6, 0.2]])
    assert nn.MSELoss()(a, y) == pytest.approx(0.1, abs=1e-15)
    assert nn.MSELoss(convention="mean")(a, y) == pytest.approx(0.2 / 3, abs=1e-15)
    # averaged over a batch: two copies of the example still give 0.1
    assert nn.MSELoss()(np.vstack([a, a]), np.vstack([y, y])) == pytest.approx(0.1, abs=1e-15)


def test_changs_chain_rule_example():
    """x = 1.5, w1 = 0.8, w2 = -1.2, y = 1: the product of the three factors is the measured slope 0.04664."""
    x, w1, w2, y = 1.5, 0.8, -1.2, 1.0

    def loss(w1_, w2_=w2):
        return 0.5 * (F.sigmoid(w2_ * F.sigmoid(w1_ * x)) - y) ** 2

    a1 = F.sigmoid(w1 * x)
    y_hat = F.sigmoid(w2 * a1)
    factors = (y_hat - y, y_hat * (1 - y_hat) * w2 * a1 * (1 - a1), x)
    assert factors[0] == pytest.approx(-0.7155, abs=5e-5) and factors[1] == pytest.approx(-0.04345, abs=5e-6)
    product = factors[0] * factors[1] * factors[2]
    assert product == pytest.approx(0.04664, abs=5e-6)
    assert product == pytest.approx((loss(w1 + 1e-6) - loss(w1 - 1e-6)) / 2e-6, rel=1e-8)
    assert loss(w1) == pytest.approx(0.2560, abs=5e-5)


def test_activation_derivatives_are_the_written_formulas():
    z = np.linspace(-6, 6, 1201)
    s = F.sigmoid(z)
    np.testing.assert_allclose(F.sigmoid_prime(z), s * (1 - s), rtol=0, atol=1e-16)  # σ' = σ(1 − σ)
    np.testing.assert_allclose(F.tanh_prime(z), 1 - np.tanh(z) ** 2, rtol=0, atol=1e-15)  # tanh' = 1 − tanh²
    relu = nn.ReLU()
    relu(z[None, :])
    assert np.array_equal(relu.backward(np.ones((1, z.size)))[0], (z > 0).astype(float))  # ReLU' = [z > 0]
    away = np.abs(z) > 1e-3
    for formula, f in ((s * (1 - s), F.sigmoid), (1 - np.tanh(z) ** 2, np.tanh), ((z > 0) * 1.0, F.relu)):
        numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
        assert np.max(np.abs(formula - numeric)[away]) < 1e-8
    # the derivation's step: e^{-z}/(1 + e^{-z})² is σ(1 − σ)
    np.testing.assert_allclose(np.exp(-z) / (1 + np.exp(-z)) ** 2, s * (1 - s), rtol=1e-12)


def test_backprop_is_a_sum_over_paths():
    """Section 3.5: the six paths X_1 -> O_j -> O_k -> L sum to W¹ᵀδ¹, the input gradient np_nn returns."""
    x, y = np.array([1.0, 1.0]), np.array([1.0, 0.0])
    hand = bp.backprop_by_hand(x, y)
    W1, W2 = np.array(bp.HALF_ADDER_WEIGHTS["W1"]), np.array(bp.HALF_ADDER_WEIGHTS["W2"])
    O_h, O_o = np.array(hand["hidden"]), np.array(hand["output"])
    paths = [
        W1[j, 0] * O_h[j] * (1 - O_h[j]) * W2[k, j] * O_o[k] * (1 - O_o[k]) * (O_o[k] - y[k])
        for j in range(3)
        for k in range(2)
    ]
    assert len(paths) == 6 and paths[0] == pytest.approx(-0.010695, abs=5e-7)
    net = bp.half_adder_net()
    loss = nn.MSELoss()
    loss(net(x[None, :]), y[None, :])
    dx = net.backward(loss.backward())[0]
    assert sum(paths) == pytest.approx(dx[0], abs=1e-15)
    assert sum(paths) == pytest.approx((W1.T @ np.array(hand["delta_hidden"]))[0], abs=1e-15)
    assert sum(paths) == pytest.approx(-0.012077, abs=5e-7)


def test_hand_numbers_of_the_chapter():
    """The numbers section 3.4 prints for X = (1, 1), t = (1, 0), checked against the library."""
    hand = bp.backprop_by_hand([1, 1], [1, 0])
    np.testing.assert_allclose(hand["hidden"], [0.5498, 0.7109, 0.4750], atol=5e-5)
    np.testing.assert_allclose(hand["output"], [0.5061, 0.6574], atol=5e-5)
    assert hand["loss"] == pytest.approx(0.3380, abs=5e-5)
    np.testing.assert_allclose(hand["delta_out"], [-0.12346, 0.14806], atol=5e-6)
    np.testing.assert_allclose(hand["delta_hidden"], [-0.03238, 0.03094, 0.00861], atol=5e-6)
    net = bp.half_adder_net()
    loss = nn.MSELoss()
    assert loss(net(np.array([[1.0, 1.0]])), np.array([[1.0, 0.0]])) == pytest.approx(hand["loss"], abs=1e-15)
    net.backward(loss.backward())
    for name in NAMES:
        np.testing.assert_allclose(net.grads[LIBRARY_KEYS[name]], hand["grads"][name], rtol=0, atol=1e-15)


def test_by_hand_loop_minibatch_library_and_finite_differences_agree():
    X, T = _half_adder()
    batch = bp.backprop_minibatch(X, T)
    loop = bp.backprop_per_example(X, T)
    numeric = bp.numerical_gradients(X, T, h=1e-5)
    net = bp.half_adder_net()
    loss = nn.MSELoss()
    assert loss(net(X), T) == pytest.approx(batch["loss"], abs=1e-15)
    net.backward(loss.backward())
    hand_mean = {
        name: np.mean([bp.backprop_by_hand(x, t)["grads"][name] for x, t in zip(X, T)], axis=0)
        for name in NAMES
    }
    for name in NAMES:
        np.testing.assert_allclose(loop["grads"][name], batch["grads"][name], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(hand_mean[name], batch["grads"][name], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(
            net.grads[LIBRARY_KEYS[name]], batch["grads"][name], rtol=1e-12, atol=1e-15
        )
        assert np.max(gradcheck.relative_error(batch["grads"][name], numeric[name])) < 1e-8  # section 3.8
    assert bp.minibatch_loss(X, T) == pytest.approx(batch["loss"], abs=1e-15)


def test_autograd_agrees_with_backprop():
    torch = pytest.importorskip("torch")
    X, T = _half_adder()
    w = {name: torch.tensor(np.array(bp.HALF_ADDER_WEIGHTS[name]), requires_grad=True) for name in NAMES}
    a1 = torch.sigmoid(torch.tensor(X) @ w["W1"].T + w["b1"])
    a2 = torch.sigmoid(a1 @ w["W2"].T + w["b2"])
    (0.5 * ((a2 - torch.tensor(T)) ** 2).sum() / len(X)).backward()
    exact = bp.backprop_minibatch(X, T)["grads"]
    for name in NAMES:
        np.testing.assert_allclose(w[name].grad.numpy(), exact[name], rtol=1e-12, atol=1e-15)


def test_check_module_passes_on_the_network_and_a_forgotten_sigma_prime_fails():
    X, T = _half_adder()
    assert gradcheck.check_module(bp.half_adder_net(), X).passed(1e-6)
    forward = bp.backprop_minibatch(X, T)
    wrong = ((forward["A2"] - T) / len(X)).T @ forward["A1"]  # BP1 without σ'(z²)
    numeric = bp.numerical_gradients(X, T, h=1e-5)["W2"]
    assert np.max(gradcheck.relative_error(wrong, numeric)) > 0.5


def test_gradcheck_error_is_smallest_for_a_middle_step():
    steps = 10.0 ** np.arange(-12.0, 0.0)
    errors = bp.gradcheck_errors(steps)
    best = steps[int(np.argmin(errors))]
    assert 1e-8 <= best <= 1e-3
    assert errors.min() < 1e-7
    assert errors[0] > 100 * errors.min() and errors[-1] > 100 * errors.min()  # rounding and truncation


def test_in_float32_no_step_gets_near_the_pass_mark():
    """Section 3.8: the same centred differences computed in float32 never get below about 5e-4, whatever h."""
    X, T = _half_adder()
    exact = bp.backprop_minibatch(X, T)["grads"]

    def loss32(w):  # the half adder's loss, every number in float32
        a1 = 1 / (1 + np.exp(-(X.astype(np.float32) @ w["W1"].T + w["b1"])))
        a2 = 1 / (1 + np.exp(-(a1 @ w["W2"].T + w["b2"])))
        return float(np.float32(0.5) * np.sum((a2 - T.astype(np.float32)) ** 2) / np.float32(len(X)))

    start = {name: np.array(bp.HALF_ADDER_WEIGHTS[name], dtype=np.float64) for name in NAMES}
    worst_per_step = []
    for h in 10.0 ** np.arange(-8.0, 0.01, 0.25):
        worst = 0.0
        for name in NAMES:
            for index in np.ndindex(start[name].shape):
                plus = {k: v.astype(np.float32) for k, v in start.items()}
                minus = {k: v.astype(np.float32) for k, v in start.items()}
                plus[name][index] += h
                minus[name][index] -= h
                numeric = (loss32(plus) - loss32(minus)) / (2 * h)
                worst = max(worst, float(gradcheck.relative_error(exact[name][index], numeric)))
        worst_per_step.append(worst)
    assert min(worst_per_step) == pytest.approx(5e-4, rel=0.3)  # hundreds of times above the 1e-6 mark
    assert bp.gradcheck_errors([1e-5])[0] < 1e-8  # while float64 gets far below it


def test_per_example_loop_equals_minibatch_on_many_examples():
    X, T = _half_adder()
    X_big, T_big = np.tile(X, (50, 1)), np.tile(T, (50, 1))
    loop, batch = bp.backprop_per_example(X_big, T_big), bp.backprop_minibatch(X_big, T_big)
    for name in NAMES:
        np.testing.assert_allclose(loop["grads"][name], batch["grads"][name], rtol=1e-12, atol=1e-15)
    assert loop["loss"] == pytest.approx(bp.backprop_minibatch(X, T)["loss"], rel=1e-12)


def test_both_paths_train_the_half_adder_alike():
    pytest.importorskip("torch")
    from nnlab import bridge
    from nnlab import torch_nn as tnn

    X, T = data.half_adder()
    np_net = bp.half_adder_net()
    torch_net = bridge.twin(np_net, device="cpu")
    h_np = nn.fit(np_net, nn.MSELoss(), nn.optim.SGD(np_net, lr=5.0), X, T, epochs=100, batch_size=4, rng=0)
    h_t = tnn.fit(
        torch_net, tnn.MSELoss(), tnn.optim.SGD(torch_net, lr=5.0), X, T, epochs=100, batch_size=4, rng=0
    )
    np.testing.assert_allclose(h_np.train_loss, h_t.train_loss, rtol=1e-10)
    assert h_np.train_loss[-1] < 0.75 * h_np.train_loss[0]
    assert bridge.compare(np_net, torch_net, X).passed()


# ----------------------------------------------------------------------------- the lessons
def _loss_with_w(value: float) -> float:
    X, T = _half_adder()
    w = {name: np.array(v, dtype=float) for name, v in bp.HALF_ADDER_WEIGHTS.items()}
    w["W2"][0, 0] = value
    return bp.minibatch_loss(X, T, w)


def test_loss_slope_lesson_follows_the_weight_slider():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = bp.loss_slope()
    ax = lesson.figure.axes[0]
    point, tangent, step = (
        next(line for line in ax.lines if line.get_label().startswith(p))
        for p in ("current", "tangent", "after")
    )
    for w in (-2.0, 0.7, 3.5):
        lesson.sliders["w"].value = w
        assert point.get_xdata()[0] == pytest.approx(w)
        assert point.get_ydata()[0] == pytest.approx(_loss_with_w(w), abs=1e-12)
        tx, ty = np.asarray(tangent.get_xdata()), np.asarray(tangent.get_ydata())
        slope = (ty[1] - ty[0]) / (tx[1] - tx[0])
        numeric = (_loss_with_w(w + 1e-5) - _loss_with_w(w - 1e-5)) / 2e-5
        assert slope == pytest.approx(numeric, rel=1e-6, abs=1e-10)
        assert step.get_xdata()[0] == pytest.approx(w - lesson.sliders["lr"].value * slope, rel=1e-9)
        assert f"W_I1 = {w:+.2f}" in lesson.text


def test_loss_slope_lesson_learning_rate_moves_only_the_step():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = bp.loss_slope(w=0.7, lr=2.0)
    ax = lesson.figure.axes[0]
    step = next(line for line in ax.lines if line.get_label().startswith("after"))
    point = next(line for line in ax.lines if line.get_label().startswith("current"))
    before_step, before_point = step.get_xdata()[0], point.get_xdata()[0]
    lesson.set(lr=10.0)
    assert point.get_xdata()[0] == before_point
    grad = bp.backprop_minibatch(*_half_adder())["grads"]["W2"][0, 0]
    assert step.get_xdata()[0] == pytest.approx(0.7 - 10.0 * grad)
    assert step.get_xdata()[0] != before_step
    lesson.set(lr=99.0)  # clamped to the slider's maximum
    assert lesson.sliders["lr"].value == 20.0


def test_gradcheck_step_lesson_marks_the_error_of_the_chosen_step():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = bp.gradcheck_step()
    ax = lesson.figure.axes[0]
    point = next(line for line in ax.lines if line.get_label() == "current h")
    for log_h in (-10.0, -5.0, -2.0):
        lesson.set(log_h=log_h)
        assert point.get_xdata()[0] == pytest.approx(10.0**log_h)
        assert point.get_ydata()[0] == pytest.approx(bp.gradcheck_errors([10.0**log_h])[0])
    lesson.set(log_h=-5.0)
    assert "passes" in lesson.text
    lesson.set(log_h=-1.0)
    assert "fails" in lesson.text


def test_the_two_wings_of_the_loss_curve():
    """Section 3.10: the left wing is near the minimum, the right wing is high and flat-ish."""
    left, start, right = (bp.loss_and_slope(w) for w in (-4.0, 0.7, 6.0))
    assert left == pytest.approx((0.246, -0.0057), abs=5e-4)
    assert start == pytest.approx((0.271, 0.0357), abs=5e-4)
    assert right == pytest.approx((0.470, 0.0180), abs=5e-4)
    assert start[0] == pytest.approx(bp.backprop_minibatch(*_half_adder())["loss"], abs=1e-15)
    grid = np.linspace(-6, 6, 241)
    curve = np.array([bp.loss_and_slope(w) for w in grid])
    lowest, steepest = int(np.argmin(curve[:, 0])), int(np.argmax(np.abs(curve[:, 1])))
    assert grid[lowest] == pytest.approx(-1.55) and curve[lowest, 0] == pytest.approx(0.234, abs=5e-4)
    assert grid[steepest] == pytest.approx(2.2) and curve[steepest, 1] == pytest.approx(0.0486, abs=5e-5)
    assert left[0] - curve[lowest, 0] < 0.02  # the left wing is almost as good as the minimum
    assert right[0] > 2 * curve[lowest, 0] - 0.001 and abs(right[1]) < abs(curve[steepest, 1]) / 2


def test_static_figures_are_labelled():
    pytest.importorskip("matplotlib")
    fig = bp.loss_slope_figure()
    assert len(fig.axes) == 3 and all(ax.get_xlabel() for ax in fig.axes)
    points = [next(line for line in ax.lines if line.get_label().startswith("current")) for ax in fig.axes]
    assert [p.get_xdata()[0] for p in points] == [-4.0, 0.7, 6.0]  # left wing, start, right wing
    assert fig.axes[0].get_ylabel() and fig.axes[0].get_legend() is not None
    fig = bp.gradcheck_step_figure()
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None


# ----------------------------------------------------------------------------- section 3.12: reading digits
def _digit_reader(images, labels, epochs=10):
    """The cells of section 3.12: 80% to train, 20% held out, 30 sigmoid hidden units, squared loss, η = 3."""
    X = images.reshape(len(images), -1)
    Y = np.eye(10, dtype=np.float32)[labels]
    n_train = int(0.8 * len(X))
    mlp = nn.Sequential(
        nn.Linear(X.shape[1], 30, rng=0), nn.Sigmoid(), nn.Linear(30, 10, rng=1), nn.Sigmoid()
    )
    optimizer = nn.optim.SGD(mlp, lr=3.0)
    shuffle = np.random.default_rng(0)

    def held_out_accuracy():
        return float(np.mean(mlp(X[n_train:]).argmax(axis=1) == labels[n_train:]))

    accuracies, losses = [held_out_accuracy()], []
    for _ in range(epochs):
        one = nn.fit(mlp, nn.MSELoss(), optimizer, X[:n_train], Y[:n_train], epochs=1, batch_size=10,
                     rng=shuffle, progress=False)  # fmt: skip
        losses += one.train_loss
        accuracies.append(held_out_accuracy())
    return accuracies, losses


def test_the_digit_reader_on_the_bundled_digits(tmp_path):
    """Without MNIST, load_mnist falls back to the 8x8 digits and warns; the chapter's numbers follow."""
    pytest.importorskip("sklearn")
    with pytest.warns(UserWarning, match="8x8 handwritten digits"):
        images, labels = data.load_mnist("train", data_dir=tmp_path, download=False, fallback="digits")
    assert images.shape == (1437, 8, 8)
    accuracies, losses = _digit_reader(images[:10_000], labels[:10_000])
    assert accuracies[0] == pytest.approx(0.097, abs=5e-4)  # 28 of 288: chance
    assert accuracies[-1] == pytest.approx(0.962, abs=5e-4)  # the 96.2% the chapter states
    assert losses[0] == pytest.approx(0.4185, abs=5e-4) and losses[-1] == pytest.approx(0.0269, abs=5e-4)
    assert all(b < a for a, b in itertools.pairwise(losses))  # the training loss falls every epoch


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="needs the real MNIST test set in ../shared")
def test_the_digit_reader_on_real_mnist():
    """The same cells on 10,000 real MNIST images: from chance to the 95.6% the chapter states."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback here
        images, labels = data.load_mnist("test", data_dir=SHARED_MNIST, download=False)
    accuracies, losses = _digit_reader(images[:10_000], labels[:10_000])
    assert accuracies[0] == pytest.approx(0.046, abs=5e-4)
    assert accuracies[-1] == pytest.approx(0.956, abs=5e-4)
    assert losses[-1] < losses[0] / 3
