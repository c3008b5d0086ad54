"""The training playground: runs that learn what the chapters say, and a lesson whose figure follows its sliders."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab import np_nn as nn

pytest.importorskip("matplotlib")

from nnlab.lessons import playground as pg


# ----------------------------------------------------------------------------- training runs
def test_a_hidden_layer_of_four_tanh_units_learns_xor_and_circles():
    for dataset in ("xor", "circles"):
        run = pg.train(dataset, hidden=4, activation="tanh", lr=0.3, epochs=200)
        assert run.epochs == 200 and len(run.train_loss) == 201
        assert run.train_loss[0] == pytest.approx(np.log(2), abs=0.1)  # small weights: ŷ ≈ 0.5 everywhere
        assert run.train_loss[-1] < 0.1 < run.train_loss[0]
        assert run.train_acc[-1] >= 0.95 and run.test_acc[-1] >= 0.9


def test_without_an_activation_the_layers_collapse_into_one_line():
    for dataset in ("xor", "circles"):
        run = pg.train(dataset, hidden=4, activation="linear", lr=0.3, epochs=200)
        assert run.train_loss[-1] == pytest.approx(np.log(2), abs=0.01)  # no better than a coin
        assert run.train_acc[-1] < 0.65
        W1, W2 = run.params[-1]["0.W"], run.params[-1]["1.W"]
        b1, b2 = run.params[-1]["0.b"], run.params[-1]["1.b"]
        X = np.random.default_rng(0).normal(size=(50, 2))
        one_layer = X @ (W2 @ W1).T + (W2 @ b1 + b2)  # W = W²W¹, b = W²b¹ + b²
        np.testing.assert_allclose(run.probability(200, X), 1 / (1 + np.exp(-one_layer[:, 0])), rtol=1e-12)
    # a linearly separable set is learnt all the same
    assert pg.train("two gaussians", 4, "linear", 0.3, 100).train_acc[-1] == 1.0


def test_the_recorded_losses_are_the_losses_of_the_recorded_weights():
    run = pg.train("circles", hidden=3, activation="ReLU", lr=0.1, epochs=30)
    X, y, X_test, y_test = pg.playground_data("circles")
    for epoch in (0, 7, 30):
        p = run.probability(epoch, X)
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))  # L = −mean[y ln ŷ + (1 − y) ln(1 − ŷ)]
        assert loss == pytest.approx(run.train_loss[epoch], rel=1e-9)
        assert np.mean((p > 0.5) == (y == 1)) == run.train_acc[epoch]
        p_test = run.probability(epoch, X_test)
        assert np.mean((p_test > 0.5) == (y_test == 1)) == run.test_acc[epoch]


def test_one_epoch_is_the_sgd_steps_written_out():
    run = pg.train("xor", hidden=2, activation="tanh", lr=0.5, epochs=1, batch_size=10, rng=3)
    X, y, _, _ = pg.playground_data("xor")
    gen = np.random.default_rng(3)
    net = nn.Sequential(
        nn.Linear(2, 2, rng=gen, dtype=np.float64), nn.Tanh(), nn.Linear(2, 1, rng=gen, dtype=np.float64)
    )
    for name, w in run.params[0].items():
        np.testing.assert_array_equal(net.params[name], w)
    W1, b1, W2, b2 = (net.params[k].copy() for k in ("0.W", "0.b", "2.W", "2.b"))
    order = gen.permutation(len(X))
    for start in range(0, len(X), 10):
        x, t = X[order[start : start + 10]], y[order[start : start + 10], None]
        a1 = np.tanh(x @ W1.T + b1)  # a¹ = tanh(xW¹ᵀ + b¹)
        y_hat = 1 / (1 + np.exp(-(a1 @ W2.T + b2)))  # ŷ = σ(a¹W²ᵀ + b²)
        delta2 = (y_hat - t) / len(x)  # δ² = ∂L/∂z² = (ŷ − y)/N
        delta1 = (delta2 @ W2) * (1 - a1**2)  # δ¹ = δ²W² ⊙ tanh′(z¹)
        W2, b2 = W2 - 0.5 * delta2.T @ a1, b2 - 0.5 * delta2.sum(0)  # w ← w − η ∂L/∂w
        W1, b1 = W1 - 0.5 * delta1.T @ x, b1 - 0.5 * delta1.sum(0)
    for name, w in zip(("0.W", "0.b", "2.W", "2.b"), (W1, b1, W2, b2)):
        np.testing.assert_allclose(run.params[1][name], w, rtol=1e-12, atol=1e-14)


def test_runs_are_reproducible_cached_and_only_ever_extended():
    a = pg.train("spirals", 5, "tanh", 0.1, 20)
    misses = pg._trainer.cache_info().misses
    again = pg.train("spirals", 5, "tanh", 0.1, 10)  # fewer epochs: a slice of the same run
    assert pg._trainer.cache_info().misses == misses and again.epochs == 10
    np.testing.assert_array_equal(again.train_loss, a.train_loss[:11])
    longer = pg.train("spirals", 5, "tanh", 0.1, 30)  # more epochs: ten more, continuing
    np.testing.assert_array_equal(longer.train_loss[:21], a.train_loss)
    pg._trainer.cache_clear()
    at_once = pg.train("spirals", 5, "tanh", 0.1, 30)  # the same 30 epochs trained in one go
    np.testing.assert_array_equal(at_once.train_loss, longer.train_loss)
    for k in (0, 15, 30):
        for name in at_once.params[k]:
            np.testing.assert_array_equal(at_once.params[k][name], longer.params[k][name])


def test_a_learning_rate_far_too_large_is_caught_not_crashed():
    run = pg.train("circles", 4, "linear", 10.0, 50)
    assert run.diverged_at is not None and 1 <= run.diverged_at <= 50
    assert (
        np.isnan(run.train_loss[run.diverged_at :]).all()
        and np.isfinite(run.train_loss[: run.diverged_at]).all()
    )
    assert np.isnan(run.probability(50, np.zeros((3, 2)))).all()


def test_bad_settings_get_a_sentence():
    with pytest.raises(ValueError, match=r"playground expected dataset to be one of \['xor', 'circles'"):
        pg.train("moons")
    with pytest.raises(ValueError, match="expected activation to be one of"):
        pg.train("xor", activation="softplus")
    with pytest.raises(ValueError, match="expected hidden to be a whole number of units >= 1; got 0"):
        pg.train("xor", hidden=0)
    with pytest.raises(ValueError, match="expected epochs to be a whole number >= 0; got -1"):
        pg.train("xor", epochs=-1)
    with pytest.raises(ValueError, match="expected an epoch between 0 and 5; got 6"):
        pg.train("xor", epochs=5).probability(6, np.zeros((1, 2)))


# ----------------------------------------------------------------------------- the lesson
@pytest.fixture
def lesson():
    pytest.importorskip("ipywidgets")
    return pg.training_playground("xor", hidden=4, activation="tanh", lr=0.3, epochs=50, max_epochs=100)


def _image(lesson):
    return np.asarray(lesson.figure.axes[0].images[0].get_array())


def _grid():
    ticks = np.linspace(-pg.EXTENT, pg.EXTENT, pg.GRID)
    g1, g2 = np.meshgrid(ticks, ticks)
    return np.column_stack([g1.ravel(), g2.ravel()])


def test_the_regions_are_the_networks_predictions_at_the_chosen_epoch(lesson):
    run = pg.train("xor", 4, "tanh", 0.3, 100)
    for epoch in (50, 0, 100):
        lesson.sliders["epochs"].value = epoch
        np.testing.assert_allclose(_image(lesson).ravel(), run.probability(epoch, _grid()), rtol=1e-12)
        train_line = lesson.figure.axes[1].lines[0]
        np.testing.assert_array_equal(train_line.get_ydata(), run.train_loss[: epoch + 1])
        assert f"after {epoch} epochs: train loss {run.train_loss[epoch]:.3f}" in lesson.text
    # trained, the regions agree with the dots: orange (ŷ < 0.5) under class 0, blue under class 1
    X, y, _, _ = pg.playground_data("xor")
    assert np.mean((run.probability(100, X) > 0.5) == (y == 1)) == run.train_acc[100] >= 0.95


def test_the_boundary_is_where_the_network_is_undecided(lesson):
    lesson.sliders["epochs"].value = 100
    run = pg.train("xor", 4, "tanh", 0.3, 100)
    segments = lesson.figure.axes[0].collections[0].get_segments()
    points = np.concatenate(segments)
    assert len(points) > 20
    # ŷ = 0.5 up to the error of interpolating linearly between grid points
    np.testing.assert_allclose(run.probability(100, points), 0.5, atol=0.05)


def test_the_epoch_slider_only_looks_runs_up(lesson):
    lesson.sliders["epochs"].value = 100
    trainer = pg._trainer("xor", 4, "tanh", 0.3, 10, 0)
    before, trained = pg._trainer.cache_info().misses, trainer.epochs
    for epoch in range(100, -1, -10):
        lesson.sliders["epochs"].value = epoch
    assert pg._trainer.cache_info().misses == before and trainer.epochs == trained == 100


def test_the_other_sliders_change_the_run(lesson):
    lesson.set(epochs=100, activation="linear")
    assert lesson.text.startswith("xor, 4 linear units, η = 0.3, after 100 epochs: train loss 0.69")
    lesson.set(dataset="circles", activation="tanh", hidden=6, lr=1.0)
    X, _, _, _ = pg.playground_data("circles")
    dots = lesson.figure.axes[0].collections[1]
    np.testing.assert_array_equal(dots.get_offsets(), X)
    run = pg.train("circles", 6, "tanh", 1.0, 100)
    np.testing.assert_allclose(_image(lesson).ravel(), run.probability(100, _grid()), rtol=1e-12)
    assert "6 tanh units, η = 1" in lesson.figure.axes[1].get_title()


def test_dot_colours_match_region_colours(lesson):
    dots = lesson.figure.axes[0].collections[1]
    _, y, _, _ = pg.playground_data("xor")
    colours = dots.get_facecolors()[:, :3]
    cmap = lesson.figure.axes[0].images[0].get_cmap()
    orange_region, blue_region = np.array(cmap(0.0)[:3]), np.array(cmap(1.0)[:3])
    for label, region in ((0, orange_region), (1, blue_region)):
        dot = colours[y == label][0]
        other = colours[y != label][0]
        assert np.linalg.norm(dot - region) < np.linalg.norm(other - region)  # same hue family


def test_a_diverged_run_says_so(lesson):
    lesson.set(dataset="circles", activation="linear", lr=10.0, epochs=100)
    assert "the weights overflowed in epoch" in lesson.text and "lower the learning rate η" in lesson.text
    assert np.isnan(_image(lesson)).all()


def test_a_learning_rate_off_the_sliders_ladder_gets_a_sentence():
    pytest.importorskip("ipywidgets")
    with pytest.raises(
        ValueError, match=r"expected lr \(the slider's ladder of learning rates\) to be one of"
    ):
        pg.training_playground(lr=0.5)


def test_the_static_figure_shows_the_chosen_epochs():
    fig = pg.playground_figure("xor", epochs=(0, 100))
    titles = [ax.get_title() for ax in fig.axes]
    run = pg.train("xor", 4, "tanh", 0.3, 100)
    assert titles[:2] == [
        f"epoch 0: accuracy {run.train_acc[0]:.0%}",
        f"epoch 100: accuracy {run.train_acc[100]:.0%}",
    ]
    np.testing.assert_array_equal(fig.axes[2].lines[0].get_ydata(), run.train_loss)
