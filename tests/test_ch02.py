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


# ----------------------------------------------------------------------------- section 2.3: a bumpy cost
def _bumpy_gradient(w):
    return 0.2 * w + 0.3 * (w - 2) / 0.25**2 * np.exp(-((w - 2) ** 2) / (2 * 0.25**2))


def _bumpy(w):
    return 0.1 * w**2 - 0.3 * np.exp(-((w - 2) ** 2) / (2 * 0.25**2))


def _descend(w, eta, steps=200):
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            w = w - eta * _bumpy_gradient(w)
    return w


def test_the_bumpy_cost_has_the_minima_the_chapter_states():
    w = np.linspace(-4, 5, 900001)
    J = _bumpy(w)
    minima = np.flatnonzero((J[1:-1] < J[:-2]) & (J[1:-1] < J[2:])) + 1
    np.testing.assert_allclose(w[minima], [0.0, 1.9155], atol=1e-4)
    assert J[minima[1]] == pytest.approx(0.084, abs=5e-4) and abs(J[minima[0]]) < 1e-10
    h = 1e-5
    curvature = (_bumpy_gradient(w[minima[1]] + h) - _bumpy_gradient(w[minima[1]] - h)) / (2 * h)
    assert curvature == pytest.approx(4.2, abs=0.05) and 2 / curvature == pytest.approx(0.47, abs=0.01)


def test_the_start_and_the_learning_rate_decide_the_minimum():
    assert _descend(3.0, 0.3) == pytest.approx(1.9155, abs=1e-4)  # small step from +3: local
    assert abs(_descend(-3.0, 0.3)) < 1e-4  # same step from −3: global (initial weights matter)
    assert abs(_descend(3.0, 2.0)) < 1e-9  # a bold step skips the sharp dip (learning rate matters)
    assert abs(_descend(3.0, 10.5)) > 1e3  # beyond the wide bowl's limit 2 / 0.2 = 10: diverges
    # exercise 4: the smallest η = 0.1k that reaches the global minimum from +3 is 0.8
    reached = [k for k in range(1, 21) if abs(_descend(3.0, 0.1 * k)) < 1e-3]
    assert reached[0] == 8 and reached == list(range(8, 21))


def test_a_learning_rate_too_large_kills_relu_units():
    """Olteanu: 8 ReLU units on circles, 100 epochs: dead units per learning rate, as section 2.3 prints."""
    from nnlab.lessons import playground as pg

    X, _, _, _ = pg.playground_data("circles")

    def dead(params):
        return int(np.sum(np.all(X @ params["0.W"].T + params["0.b"] <= 0, axis=0)))

    expected = {0.1: (0, 0, 0, "100%"), 1.0: (0, 1, 1, "100%"), 3.0: (0, 5, 5, "84%"), 10.0: (0, 8, 8, "50%")}
    for eta, (start, one, end, accuracy) in expected.items():
        run = pg.train("circles", hidden=8, activation="ReLU", lr=eta, epochs=100)
        assert (dead(run.params[0]), dead(run.params[1]), dead(run.params[100])) == (start, one, end)
        assert f"{run.train_acc[-1]:.0%}" == accuracy
    bold = pg.train("circles", hidden=8, activation="ReLU", lr=3.0, epochs=100)
    assert f"{bold.train_loss[50]:.2f} {bold.train_loss[100]:.2f}" == "0.12 0.46"  # the survivors jump about
    assert min(bold.train_loss[40:]) < 0.1 and max(bold.train_loss[40:]) > 0.5  # "between about 0.1 and 0.5"
    gentle = pg.train("circles", hidden=8, activation="ReLU", lr=0.1, epochs=100)
    assert np.all(np.diff(gentle.train_loss) < 0)  # at η = 0.1 the loss falls smoothly, every epoch
    dead_all = pg.train("circles", hidden=8, activation="ReLU", lr=10.0, epochs=100)
    assert min(dead_all.train_loss[1:]) >= np.log(2) - 1e-12  # a constant answer cannot beat ln 2
    assert f"{dead_all.train_loss[50]:.2f} {dead_all.train_loss[100]:.2f}" == "1.70 0.86"
    # a dead unit's gradient is zero on every example: backprop cannot move its incoming weights
    run = pg.train("circles", hidden=8, activation="ReLU", lr=10.0, epochs=100)
    np.testing.assert_array_equal(run.params[1]["0.W"], run.params[100]["0.W"])


# ----------------------------------------------------------------------------- section 2.4: fitting the line
def _sgd_line(X, y, eta, batch_size, epochs=3, rng=0):
    rng = np.random.default_rng(rng)
    w, b = 0.0, 0.0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]
            dw, db = gd.linear_gradient(X[rows], y[rows], w, b)
            w, b = w - eta * dw, b - eta * db
    return w, b


def test_minibatch_sgd_fits_the_line_like_the_library_does():
    X, y = gd.noisy_line(1000, rng=0)
    w, b = _sgd_line(X, y, 0.1, 10)
    assert f"{w:.3f}, {b:.3f}" == "3.010, 1.007"
    best = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0].ravel()
    assert f"{best[0]:.3f}, {best[1]:.3f}" == "2.995, 0.994"
    # the same steps as the library's Linear + MSELoss + SGD on the same batches
    line = nn.Linear(1, 1, dtype=np.float64)
    line.params["W"][:], line.params["b"][:] = 0.0, 0.0
    loss, optimizer = nn.MSELoss(), nn.optim.SGD(line, lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(3):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 10):
            rows = order[start : start + 10]
            loss(line(X[rows]), y[rows])
            line.backward(loss.backward())
            optimizer.step()
    np.testing.assert_allclose([line.params["W"][0, 0], line.params["b"][0]], [w, b], rtol=1e-12)


def test_bigger_batches_take_a_bolder_best_step():
    X, y = gd.noisy_line(1000, rng=0)
    best = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0].ravel()

    def loss(w, b):
        return np.mean(0.5 * (w * X[:, 0] + b - y[:, 0]) ** 2)

    etas = [0.01, 0.03, 0.1, 0.3, 1.0]
    best_eta, excess = {}, {}
    for N in (1, 10, 100):
        excess[N] = [
            np.mean([loss(*_sgd_line(X, y, eta, N, rng=s)) - loss(*best) for s in range(3)]) for eta in etas
        ]
        best_eta[N] = etas[int(np.argmin(excess[N]))]
    assert best_eta == {1: 0.01, 10: 0.1, 100: 1.0}
    assert f"{excess[1][-1]:.0e}" == "6e-01"  # "about 0.6 above the best" at η = 1 with N = 1
    assert excess[100][-1] < 0.01 < excess[100][0]


# ----------------------------------------------------------------------------- section 2.6: adaptive optimisers
def _steps_below(make, eta, steps=300):
    point = gd.Bowl((-8.0, 2.0), scale=gd.STRETCHED)
    optimizer = make(point, lr=eta)
    J = [point.forward()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            point.forward()
            point.backward()
            optimizer.step()
            J.append(point.forward())
    below = np.flatnonzero(np.array(J) < 1e-3)
    return (int(below[0]) if below.size else None), J[-1]


def test_the_adaptive_optimisers_table():
    etas = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
    table = {
        "SGD": [274, 90, None, None, None, None],
        "Adagrad": [None, None, None, None, 108, 16],
        "RMSProp": [None, None, 88, 16, 6, 6],
        "Adadelta": [None] * 6,
        "Adam": [None, None, 177, 99, 85, 97],
    }
    for name, expected in table.items():
        make = getattr(nn.optim, name)
        assert [_steps_below(make, eta)[0] for eta in etas] == expected, name
    assert _steps_below(nn.optim.RMSProp, 0.3)[1] > 1e-2  # reaches J < 1e-3, then rattles about the minimum
    # the rattle, as section 2.6 tells it: down to 2e-34 at step 93, thrown out to 9.6 at step 180, 0.04 at 300
    point = gd.Bowl((-8.0, 2.0), scale=gd.STRETCHED)
    rmsprop = nn.optim.RMSProp(point, lr=0.3)
    J = [point.forward()]
    for _ in range(300):
        point.backward()
        rmsprop.step()
        J.append(point.forward())
    J = np.array(J)
    assert J[16] < 1e-3 <= J[15] and int(np.argmin(J)) == 93 and f"{J.min():.0e}" == "2e-34"
    assert 100 + int(np.argmax(J[100:])) == 180 and f"{J[180]:.1f}" == "9.6" and f"{J[-1]:.2f}" == "0.04"
    # "in bursts of η and more": after the average has forgotten, some x₂ steps exceed η = 0.3
    point = gd.Bowl((-8.0, 2.0), scale=gd.STRETCHED)
    rmsprop, x2 = nn.optim.RMSProp(point, lr=0.3), [2.0]
    for _ in range(300):
        point.forward()
        point.backward()
        rmsprop.step()
        x2.append(point.params["x"][1])
    late_steps = np.abs(np.diff(x2))[150:]
    assert late_steps.max() > 1.5 and np.sum(late_steps > 0.3) >= 10
    assert _steps_below(nn.optim.SGD, 0.08)[0] == 32 < min(s for s in table["Adam"] if s is not None)
    # Adadelta's first step is sqrt(eps) / sqrt(1 - rho) per weight, about 0.003
    point = gd.Bowl((-8.0, 2.0), scale=gd.STRETCHED)
    optimizer = nn.optim.Adadelta(point, lr=1.0)
    point.backward()
    optimizer.step()
    np.testing.assert_allclose(np.abs(point.params["x"] - [-8.0, 2.0]), 1e-3 / np.sqrt(0.1), rtol=1e-4)


def test_the_optimisers_follow_pytorch_on_the_valley():
    torch = pytest.importorskip("torch")
    torch_names = {"RMSProp": "RMSprop"}
    for name in ("Adagrad", "RMSProp", "Adadelta", "Adam"):
        point = gd.Bowl((-8.0, 2.0), scale=gd.STRETCHED)
        optimizer = getattr(nn.optim, name)(point, lr=0.3)
        x = torch.tensor([-8.0, 2.0], dtype=torch.float64, requires_grad=True)
        torch_optimizer = getattr(torch.optim, torch_names.get(name, name))([x], lr=0.3)
        scale = torch.tensor(gd.STRETCHED, dtype=torch.float64)
        for _ in range(50):
            point.forward()
            point.backward()
            optimizer.step()
            torch_optimizer.zero_grad()
            (scale * x**2).sum().backward()
            torch_optimizer.step()
        np.testing.assert_allclose(point.params["x"], x.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


# ----------------------------------------------------------------------------- the lessons
@pytest.fixture
def widgets():
    pytest.importorskip("matplotlib")
    return pytest.importorskip("ipywidgets")


def test_the_learning_rate_lesson_draws_the_path(widgets):
    lesson = gd.learning_rate()
    assert lesson.sliders["lr"].description == "learning rate η"  # the book's notation, not λ
    assert "λ" not in lesson.text and "η = 0.10" in lesson.text
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
    assert lesson.text.startswith("N = 100")


# ----------------------------------------------------------------------------- docstrings
