"""Chapter 5 (weight initialisation): the lectures' numbers by formula and simulation, the variance per
layer under each scheme, symmetry, and the two lessons."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from nnlab import np_nn as nn
from nnlab.lessons import initialisation as ini

# The real MNIST test set beside the repository, where the book is developed (absent on a user's machine).
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def _two_sided_tail(t: float) -> float:
    """P(|u| > t) for u ~ N(0, 1)."""
    return math.erfc(t / math.sqrt(2))


# ----------------------------------------------------------------------------- 5.1 one neuron
def test_honchars_numbers_by_formula():
    assert ini.z_spread(1000, std=1.0, bias_std=1.0) == pytest.approx(math.sqrt(501))
    assert round(ini.z_spread(1000), 1) == 22.4
    assert ini.z_spread(1000, std=1000**-0.5) == pytest.approx(math.sqrt(1.5))
    assert round(ini.z_spread(1000, std=1000**-0.5), 2) == 1.22
    assert ini.z_spread(10, std=0.0, bias_std=0.0) == 0.0  # no spread in, none out


@pytest.mark.parametrize("std, expected", [(1.0, math.sqrt(501)), (1000**-0.5, math.sqrt(1.5))])
def test_honchars_numbers_by_simulation_within_3_percent(std, expected):
    z = ini.simulate_z(1000, std=std, neurons=2000, rng=0)
    assert z.shape == (2000,)
    assert z.std() == pytest.approx(expected, rel=0.03)
    # the library's own layer, drawn the same way, gives the same spread
    init = "normal" if std == 1.0 else "scaled_normal"
    layer = nn.Linear(1000, 2000, init=init, bias_init="normal", rng=1, dtype=np.float64)
    x = np.zeros((1, 1000))
    x[0, :500] = 1.0
    assert layer(x).std() == pytest.approx(expected, rel=0.03)


def test_saturated_share_matches_the_normal_tail():
    z = ini.simulate_z(1000, std=1.0, neurons=2000, rng=0)
    assert ini.saturated_share(z) == pytest.approx(_two_sided_tail(6 / math.sqrt(501)), abs=0.03)  # ≈ 0.79
    assert ini.saturated_share(ini.simulate_z(1000, std=1000**-0.5, rng=0)) == 0.0
    assert ini.saturated_share([0.0, 6.5, -7.0, 5.9]) == 0.5
    # |z| > 6 is where σ'(z) falls below 1% of its peak
    sigma_prime = lambda z: ini.F.sigmoid(z) * (1 - ini.F.sigmoid(z))  # noqa: E731
    assert sigma_prime(6.0) < 0.0025 < sigma_prime(5.9)


# ----------------------------------------------------------------------------- 5.3 deep stacks
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("scheme", ["N(0, 1)", "Xavier", "He"])
def test_variance_per_layer_within_20_percent_of_the_formula(activation, scheme):
    measured = ini.layer_variances(activation, scheme)
    formula = ini.predicted_variances(activation, scheme)
    assert measured.shape == formula.shape == (10,)
    np.testing.assert_allclose(measured, formula, rtol=0.2)


def test_formula_in_closed_form_for_relu():
    layers = np.arange(10)
    np.testing.assert_allclose(ini.predicted_variances("relu", "He"), 2.0, rtol=1e-6)  # He keeps it
    np.testing.assert_allclose(ini.predicted_variances("relu", "N(0, 1)"), 128.0 * 64.0**layers, rtol=1e-6)
    np.testing.assert_allclose(ini.predicted_variances("relu", "Xavier"), 0.5**layers, rtol=1e-6)
    # tanh with Xavier: Var(z¹) = n · (1/n) · 1, then it shrinks because tanh flattens
    tanh = ini.predicted_variances("tanh", "Xavier")
    assert tanh[0] == pytest.approx(1.0) and np.all(np.diff(tanh) < 0)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_formula_integrates_accurately_where_the_activation_is_almost_a_step(activation):
    # Independent: E[g(z)²] for z ~ N(0, v) by the trapezoid rule over z itself on a fine grid. An
    # 80-point Gauss-Hermite rule gave 125 for tanh under N(0, 1) in layer 10; the true value is 118.7
    # (and the measured one 119), so the book's "largest gap" was the quadrature's, not the stack's.
    g = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation]
    for scheme, var_w in (("N(0, 1)", 1.0), ("Xavier", 1 / 128), ("He", 2 / 128)):
        v = [128 * var_w]
        for _ in range(9):
            z = np.linspace(-12, 12, 200_001) * math.sqrt(v[-1])
            density = np.exp(-0.5 * z**2 / v[-1]) / math.sqrt(2 * math.pi * v[-1])
            v.append(128 * var_w * np.trapezoid(density * g(z) ** 2, z))
        np.testing.assert_allclose(ini.predicted_variances(activation, scheme), v, rtol=1e-3)
    if activation == "tanh":
        assert ini.predicted_variances("tanh", "N(0, 1)")[-1] == pytest.approx(118.7, abs=0.1)
        measured = ini.layer_variances("tanh", "N(0, 1)")
        np.testing.assert_allclose(measured, ini.predicted_variances("tanh", "N(0, 1)"), rtol=0.03)


def test_schemes_match_the_library_initialisers():
    rng = np.random.default_rng(0)
    for scheme, init in (
        ("N(0, 1)", nn.init.normal),
        ("Xavier", nn.init.xavier_normal),
        ("He", nn.init.he_normal),
    ):
        w = init((400, 300), rng, dtype=np.float64)
        assert w.var() == pytest.approx(ini.SCHEMES[scheme](300, 400), rel=0.03)


def test_bad_activation_or_scheme_gets_a_sentence():
    with pytest.raises(ValueError, match="expected activation 'tanh', 'sigmoid' or 'relu'; got 'step'"):
        ini.layer_variances("step", "He")
    with pytest.raises(ValueError, match="expected scheme 'N\\(0, 1\\)', 'Xavier' or 'He'; got 'lecun'"):
        ini.predicted_variances("relu", "lecun")


# ----------------------------------------------------------------------------- 5.4 symmetry, 5.5 biases
def test_all_equal_weights_stay_equal_and_random_ones_learn_xor():
    equal = ini.symmetric_training(0.5)
    assert np.allclose(equal.W_before, 0.5)
    np.testing.assert_allclose(
        equal.W_after, np.broadcast_to(equal.W_after[0], equal.W_after.shape), rtol=0, atol=0
    )
    assert not np.allclose(equal.W_after, equal.W_before)  # they did move, all together
    # the output can only depend monotonically on x₁ + x₂: the best is 0 for (0, 0) and 2/3 for the other
    # three, a binary cross-entropy of (2 ln 1.5 + ln 3) / 4 ≈ 0.477, which the book says it creeps towards
    floor = (2 * math.log(1.5) + math.log(3)) / 4
    assert floor < equal.losses[-1] < floor + 0.01 and equal.losses[-1] < equal.losses[1000]
    rand = ini.symmetric_training(None)
    assert np.ptp(rand.W_after, axis=0).min() > 0.5  # the rows became different features
    assert rand.losses[-1] < 0.01


def test_symmetry_diagram_shows_four_identical_hidden_units():
    pytest.importorskip("matplotlib")
    fig = ini.symmetry_diagram(ini.symmetric_training(0.5))
    texts = {t.get_gid(): t.get_text() for t in fig.axes[0].texts if t.get_gid()}
    for kind in ("value", "grad"):
        hidden = {texts[f"{kind} 1 {unit}"] for unit in range(4)}
        assert len(hidden) == 1, (kind, hidden)  # the same number on all four units
    outgoing = {text for gid, text in texts.items() if gid.startswith("weight 2 0 ")}
    assert len(outgoing) == 1
    rand = ini.symmetry_diagram(ini.symmetric_training(None))
    values = {t.get_text() for t in rand.axes[0].texts if (t.get_gid() or "").startswith("value 1 ")}
    assert len(values) > 1


def test_olteanus_bias_advice_through_linear():
    relu_layer = nn.Linear(784, 100, init="he", bias_init=nn.init.constant(0.01), rng=0)
    assert np.all(relu_layer.b == np.float32(0.01))
    sigmoid_layer = nn.Linear(784, 100, init="xavier", bias_init="normal", rng=0)
    assert abs(sigmoid_layer.b.mean()) < 0.3 and sigmoid_layer.b.std() > 0.5


# ----------------------------------------------------------------------------- 5.2 real digits
def test_real_digits_falls_back_to_the_small_digits_and_says_so(tmp_path):
    pytest.importorskip("sklearn")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning may escape: the note says it instead
        data = ini.real_digits(tmp_path / "nothing here", n_train=1000, n_val=300)
    assert data.source == "8x8 digits" and "MNIST is not on this machine" in data.note
    assert data.X_train.shape == (1000, 64) and data.X_val.shape == (300, 64)
    assert 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0


@pytest.fixture
def mnist_dir():
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST test set is not at {SHARED_MNIST}")
    return SHARED_MNIST


def test_real_digits_reads_mnist_and_the_scaled_start_learns_faster(mnist_dir):
    data = ini.real_digits(mnist_dir, n_train=2000, n_val=1000)
    assert data.source == "MNIST" and data.X_train.shape == (2000, 784)
    assert set(np.unique(data.y_val)) == set(range(10))
    accuracy = {}
    for init in ("normal", "scaled_normal"):
        net = nn.Sequential(
            nn.Linear(784, 100, init=init, bias_init="normal", rng=1),
            nn.Sigmoid(),
            nn.Linear(100, 10, init=init, bias_init="normal", rng=2),
        )
        history = nn.fit(net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1), data.X_train, data.y_train,
                         epochs=3, batch_size=32, validation=(data.X_val, data.y_val), rng=0, progress=False,
                         diagnostics=False)  # fmt: skip
        accuracy[init] = history.val_acc[-1]
    assert accuracy["scaled_normal"] > accuracy["normal"] + 0.05


# ----------------------------------------------------------------------------- the lessons
def _heights(stairs) -> np.ndarray:
    return np.asarray(stairs.get_data().values)


def test_weight_scale_lesson_histograms_follow_the_sliders():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = ini.weight_scale()
    ax_z, ax_a = lesson.figure.axes
    (z_bars,), (a_bars,) = ax_z.patches, ax_a.patches  # one filled step outline each
    curve = ax_z.lines[-1]
    for std, n_in in ((1.0, 1000), (1000**-0.5, 1000), (0.2, 100), (0.5, 2)):
        lesson.set(std=std, n_in=n_in)
        z = ini._lesson_z(lesson.values["std"], n_in)
        expected_z, expected_a = ini._histograms(z)
        np.testing.assert_allclose(_heights(z_bars), expected_z)
        np.testing.assert_allclose(_heights(a_bars), expected_a)
        assert _heights(z_bars).sum() == pytest.approx(1.0) and _heights(a_bars).sum() == pytest.approx(1.0)
        spread = ini.z_spread(n_in, std=lesson.values["std"])
        assert z.std() == pytest.approx(spread, rel=0.05)  # the simulation follows the formula
        peak = curve.get_ydata().max()
        assert peak == pytest.approx(1 / (spread * math.sqrt(2 * math.pi)), rel=1e-3)  # N(0, SD(z)²) density
    lesson.set(std=1.0, n_in=1000)
    share = ini.saturated_share(ini._lesson_z(1.0, 1000))
    assert share == pytest.approx(_two_sided_tail(6 / math.sqrt(501)), abs=0.03)
    assert f"saturated {share:.0%}" in lesson.text
    assert _heights(a_bars)[[0, -1]].sum() > 0.6  # σ(z) piles up at 0 and 1
    lesson.set(std=0.03)
    assert "saturated 0%" in lesson.text and _heights(a_bars)[[0, -1]].sum() < 0.05


def test_depth_and_scheme_lesson_shows_the_stack_for_the_chosen_activation():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = ini.depth_and_scheme()
    ax = lesson.figure.axes[0]
    lines = {line.get_label(): line for line in ax.lines}
    for activation in ("relu", "sigmoid", "tanh"):
        lesson.set(activation=activation)
        assert ax.get_title().startswith(activation)
        for scheme in ini.SCHEMES:
            np.testing.assert_allclose(
                lines[f"{scheme}: measured"].get_ydata(), ini.layer_variances(activation, scheme)
            )
            np.testing.assert_allclose(
                lines[f"{scheme}: formula"].get_ydata(), ini.predicted_variances(activation, scheme)
            )
    lesson.set(activation="relu")
    he = lines["He: measured"].get_ydata()
    assert np.allclose(he, 2.0, rtol=0.2)  # He keeps ReLU's variance
    ratios = np.diff(np.log(lines["N(0, 1): measured"].get_ydata()))
    assert np.allclose(np.exp(ratios), 64, rtol=0.3)  # N(0, 1): ×n/2 per layer
    assert "He       Var(z¹) = 1.99" in lesson.text


def test_lessons_keep_their_axis_limits_so_a_redraw_moves_only_artists():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    scale = ini.weight_scale()
    ax_z, ax_a = scale.figure.axes
    limits = (ax_z.get_ylim(), ax_a.get_ylim())
    for std, n_in in ((1.0, 1000), (0.01, 2), (0.3, 500), (1.0, 2)):
        scale.set(std=std, n_in=n_in)
        assert (ax_z.get_ylim(), ax_a.get_ylim()) == limits
        assert (
            _heights(ax_z.patches[0]).max() < limits[0][1] and _heights(ax_a.patches[0]).max() < limits[1][1]
        )
        assert ax_z.lines[-1].get_ydata().max() < limits[0][1]  # the formula's curve fits too
    depth = ini.depth_and_scheme()
    ax = depth.figure.axes[0]
    lo, hi = ax.get_ylim()
    note = ax.texts[0]
    full_draws = depth.full_draws
    for activation in ("relu", "sigmoid", "tanh", "relu"):
        depth.set(activation=activation)
        assert ax.get_ylim() == (lo, hi)
        inside = [
            m
            for scheme, (m, _) in ini.stacks(activation).items()
            if activation != "relu" or scheme != "N(0, 1)"
        ]
        assert all(((m > lo) & (m < hi)).all() for m in inside)
    assert depth.full_draws == full_draws  # no switch needed a new background
    assert "N(0, 1): off the chart after layer 2" in note.get_text()  # 128, 8192, then 128·64² > 10⁴
    depth.set(activation="tanh")
    assert note.get_text() == ""


def test_static_figures_are_labelled():
    pytest.importorskip("matplotlib")
    for fig in (ini.weight_scale_figure(), ini.depth_and_scheme_figure()):
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
