"""Chapter 3 (backpropagation): the half adder's gradients four ways, the gradient check, and the lessons."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab import data, gradcheck
from nnlab import np_nn as nn
from nnlab.lessons import backprop as bp

NAMES = ("W1", "b1", "W2", "b2")
LIBRARY_KEYS = {"W1": "0.W", "b1": "0.b", "W2": "2.W", "b2": "2.b"}


def _half_adder():
    X, T = data.half_adder()
    return X.astype(np.float64), T.astype(np.float64)


def test_the_half_adder_table_is_kheradpishehs():
    X, T = _half_adder()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert T.tolist() == [[0, 0], [0, 1], [0, 1], [1, 0]]  # (carry, sum)


def test_hand_numbers_of_the_chapter():
    """The numbers section 3.3 prints for X = (1, 1), t = (1, 0), checked against the library."""
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
        assert np.max(gradcheck.relative_error(batch["grads"][name], numeric[name])) < 1e-7
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
    """Section 3.8: the left wing is near the minimum, the right wing is high and flat-ish."""
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
