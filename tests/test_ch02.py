"""Chapter 2, gradient descent: the lecture's steps, the step-size boundaries, minibatches, momentum."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnlab import np_nn as nn
from nnlab.lessons import gradient_descent as gd


# ----------------------------------------------------------------------------- Honchar's two steps
def test_the_lectures_steps_by_hand():
    path = gd.descent_path((5, 5), lr=0.1, steps=2)
    np.testing.assert_allclose(path, [[5, 5], [4, 4], [3.2, 3.2]], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(gd.bowl_gradient([5.0, 5.0]), [10.0, 10.0])
    np.testing.assert_array_equal(gd.bowl_gradient([4.0, 4.0]), [8.0, 8.0])
    assert gd.bowl([5.0, 5.0]) == 50.0


def test_the_library_sgd_takes_the_lectures_steps():
    point = gd.Bowl((5.0, 5.0))
    optimizer = nn.optim.SGD(point, lr=0.1)
    seen = []
    for _ in range(2):
        point.forward()
        point.backward()
        optimizer.step()
        seen.append(point.params["x"].copy())
    np.testing.assert_allclose(seen, [[4, 4], [3.2, 3.2]], atol=1e-15)


def test_pytorch_autograd_takes_the_lectures_steps():
    torch = pytest.importorskip("torch")
    x = torch.tensor([5.0, 5.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=0.1)
    seen = []
    for _ in range(2):
        optimizer.zero_grad()
        (x**2).sum().backward()
        optimizer.step()
        seen.append(x.detach().numpy().copy())
    np.testing.assert_allclose(seen, [[4, 4], [3.2, 3.2]], atol=1e-15)


# ----------------------------------------------------------------------------- the step-size boundaries
def _behaviour(lr: float, steps: int = 100) -> tuple[bool, bool, bool]:
    """(converges, oscillates, diverges), read off a simulated path, not off the formula."""
    size = np.abs(gd.descent_path((5, 5), lr=lr, steps=steps)[:, 0])
    sign = np.sign(gd.descent_path((5, 5), lr=lr, steps=steps)[:, 0])
    converges = bool(np.all(size[1:] < size[:-1]))  # |x| shrinks at every step
    oscillates = bool(np.any(sign[1:] != sign[:-1]))  # x changes sign
    diverges = bool(np.all(size[1:] > size[:-1]))  # |x| grows at every step
    return converges, oscillates, diverges


@pytest.mark.parametrize("lr", [0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49])
def test_small_steps_converge_without_oscillating(lr):
    assert _behaviour(lr) == (True, False, False)
    assert gd.regime(lr) == "converges"
    assert 0 < gd.step_factor(lr) < 1


@pytest.mark.parametrize("lr", [0.51, 0.6, 0.75, 0.9, 0.95])
def test_steps_between_half_and_one_oscillate_and_converge(lr):
    assert _behaviour(lr) == (True, True, False)
    assert gd.regime(lr) == "oscillates and converges"
    assert -1 < gd.step_factor(lr) < 0


@pytest.mark.parametrize("lr", [1.01, 1.05, 1.1, 1.5, 3.0])
def test_steps_beyond_one_diverge(lr):
    assert _behaviour(lr) == (False, True, True)
    assert gd.regime(lr) == "diverges"
    assert gd.step_factor(lr) < -1


def test_the_boundaries_themselves():
    np.testing.assert_allclose(gd.descent_path((5, 5), 0.5, 1)[1], [0.0, 0.0])  # one step to the minimum
    bounce = gd.descent_path((5, 5), 1.0, 6)[:, 0]
    np.testing.assert_allclose(bounce, [5, -5, 5, -5, 5, -5, 5])  # for ever between x and -x
    assert [gd.regime(lr) for lr in (0.0, 0.5, 1.0, -0.1)] == [
        "stays put",
        "one step",
        "oscillates for ever",
        "diverges",
    ]


def test_the_closed_form_matches_the_path():
    for lr in (0.1, 0.3, 0.7, 1.2):
        path = gd.descent_path((5, 5), lr=lr, steps=10)
        np.testing.assert_allclose(path[:, 0], 5 * gd.step_factor(lr) ** np.arange(11), rtol=1e-12)


# ----------------------------------------------------------------------------- minibatches
def test_the_line_gradient_is_what_backprop_computes():
    X, y = gd.noisy_line(300, rng=3)
    for w, b in [(0.0, 0.0), (2.0, -1.0)]:
        line = nn.Linear(1, 1, dtype=np.float64)
        line.params["W"][:] = w
        line.params["b"][:] = b
        loss = nn.MSELoss()
        loss(line(X), y)
        line.backward(loss.backward())
        np.testing.assert_allclose(
            gd.linear_gradient(X, y, w, b), [line.grads["W"][0, 0], line.grads["b"][0]], rtol=1e-12
        )


def test_minibatch_gradients_are_unbiased_and_shrink_like_one_over_sqrt_m():
    X, y = gd.noisy_line(1000, rng=0)
    full = gd.linear_gradient(X, y, 0.0, 0.0)
    spread = {}
    for m in (1, 10, 100):
        estimates = gd.minibatch_gradients(X, y, 0.0, 0.0, m, n_batches=2000, rng=1)
        np.testing.assert_allclose(
            estimates.mean(axis=0), full, atol=4 * estimates.std(axis=0).max() / np.sqrt(2000)
        )
        spread[m] = np.sqrt(np.mean(np.sum((estimates - full) ** 2, axis=1)))
    assert 2.6 < spread[1] / spread[10] < 3.8  # about sqrt(10) = 3.16
    assert 2.6 < spread[10] / spread[100] < 4.0  # a little more: sampling without replacement from 1000
    np.testing.assert_allclose(gd.minibatch_gradients(X, y, 0.0, 0.0, 1000, 2), [full, full], rtol=1e-12)


def test_minibatch_gradients_refuses_a_batch_larger_than_the_set():
    X, y = gd.noisy_line(10)
    with pytest.raises(ValueError, match="batch_size between 1 and the number of examples, 10"):
        gd.minibatch_gradients(X, y, 0.0, 0.0, 11)


# ----------------------------------------------------------------------------- momentum
@pytest.mark.parametrize("alpha", [0.0, 0.5, 0.9])
def test_momentum_path_is_the_library_sgd_in_both_forms(alpha):
    start, lr = (-8.0, 2.0), 0.08
    expected = gd.descent_path(start, lr=lr, steps=25, momentum=alpha, scale=gd.STRETCHED)
    for optimizer_kwargs in ({"momentum": alpha}, {"friction": 1 - alpha}):
        point = gd.Bowl(start, scale=gd.STRETCHED)
        optimizer = nn.optim.SGD(point, lr=lr, **optimizer_kwargs)
        for _ in range(25):
            point.forward()
            point.backward()
            optimizer.step()
        np.testing.assert_allclose(point.params["x"], expected[-1], rtol=1e-12, atol=1e-15)


def test_momentum_path_is_pytorchs_sgd():
    torch = pytest.importorskip("torch")
    start, lr, alpha = (-8.0, 2.0), 0.08, 0.5
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([x], lr=lr, momentum=alpha)
    scale = torch.tensor(gd.STRETCHED, dtype=torch.float64)
    for _ in range(25):
        optimizer.zero_grad()
        (scale * x**2).sum().backward()
        optimizer.step()
    expected = gd.descent_path(start, lr=lr, steps=25, momentum=alpha, scale=gd.STRETCHED)[-1]
    np.testing.assert_allclose(x.detach().numpy(), expected, rtol=1e-12, atol=1e-15)


def test_moderate_momentum_halves_the_steps_on_the_valley():
    def steps(alpha):
        path = gd.descent_path((-8.0, 2.0), lr=0.08, steps=200, momentum=alpha, scale=gd.STRETCHED)
        return int(np.argmax(gd.bowl(path, gd.STRETCHED) < 1e-3))

    assert steps(0.0) == 32
    assert steps(0.3) == 19  # even a little momentum pays
    assert steps(0.5) == 16  # the best of the chapter's values
    assert steps(0.7) == 28
    assert steps(0.9) == 96 == 3 * steps(0.0)  # too much momentum circles


# ----------------------------------------------------------------------------- the lessons
@pytest.fixture
def widgets():
    pytest.importorskip("matplotlib")
    return pytest.importorskip("ipywidgets")


def test_the_learning_rate_lesson_draws_the_path(widgets):
    lesson = gd.learning_rate()
    ax_path, ax_k = lesson.figure.axes
    path_line, x1_line = ax_path.lines[-2], ax_k.lines[0]
    np.testing.assert_allclose(np.column_stack(path_line.get_data()), gd.descent_path((5, 5), 0.1, 12))
    assert "converges" in lesson.text and "0.80 x" in lesson.text

    lesson.sliders["lr"].value = 0.75
    x1 = x1_line.get_ydata()
    np.testing.assert_allclose(x1, 5 * (-0.5) ** np.arange(13))
    assert np.all(x1[1:] * x1[:-1] < 0)  # flips sign each step
    assert "oscillates and converges" in lesson.text and "oscillates and converges" in ax_path.get_title()

    lesson.set(lr=1.1, steps=20)
    x1 = x1_line.get_ydata()
    np.testing.assert_allclose(x1, 5 * (-1.2) ** np.arange(21))  # |x| grows by 1.2 per step
    assert "diverges" in lesson.text

    lesson.set(lr=0.5)
    assert lesson.text.split(":")[1].strip().startswith("one step")
    lesson.set(lr=1.0)
    assert "oscillates for ever" in lesson.text


def test_the_momentum_lesson_compares_with_plain_descent(widgets):
    lesson = gd.momentum()
    plain, heavy = lesson.figure.axes[0].lines[-2:]
    lesson.sliders["alpha"].value = 0.0
    np.testing.assert_allclose(heavy.get_xydata(), plain.get_xydata())
    assert lesson.text.count("after 32 steps") == 2
    lesson.set(alpha=0.5, lr=0.08)
    np.testing.assert_allclose(
        heavy.get_xydata(), gd.descent_path((-8, 2), 0.08, 60, momentum=0.5, scale=gd.STRETCHED)
    )
    assert re.search(r"with momentum α = 0\.50, after 16 steps", lesson.text)


def test_the_minibatch_lesson_tightens_with_the_batch(widgets):
    lesson = gd.minibatch()
    cloud = lesson.figure.axes[0].collections[0]
    X, y = gd.noisy_line()
    full = gd.linear_gradient(X, y, 0.0, 0.0)

    def spread():
        return np.sqrt(np.mean(np.sum((cloud.get_offsets() - full) ** 2, axis=1)))

    lesson.sliders["batch_size"].value = 1
    wide = spread()
    lesson.sliders["batch_size"].value = 100
    assert len(cloud.get_offsets()) == 200
    assert 2.5 < wide / spread() < 20  # about sqrt(100) = 10
    assert lesson.text.startswith("m = 100")


# ----------------------------------------------------------------------------- docstrings
