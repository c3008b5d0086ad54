"""Chapter 1, the perceptron: the lecture's numbers checked against the library, and the party lesson."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnlab import data
from nnlab import np_nn as nn

pytest.importorskip("matplotlib")

from nnlab.lessons import perceptron

VERMILLION, BLUE = "#D55E00", "#0072B2"


# ----------------------------------------------------------------------------- Honchar's party neuron
def test_the_party_neuron_is_the_lectures():
    assert data.PARTY_WEIGHTS == (-6.0, 3.0, 4.0)  # w1 (exam), w2 (drinks), w3 (date), threshold 0
    assert [x for _, x in data.PARTY_QUESTIONS] == [(0, 1, 0), (1, 1, 0), (1, 1, 1)]


def test_the_three_questions_are_answered_party_stay_home_party():
    assert perceptron.weighted_sums().tolist() == [3.0, -3.0, 1.0]
    assert perceptron.party_answers() == [1, 0, 1]


def test_the_library_perceptron_gives_the_same_answers():
    neuron = nn.Perceptron(3)
    neuron.params["W"][:] = data.PARTY_WEIGHTS
    neuron.params["b"][:] = 0.0  # threshold 0
    X = np.array([x for _, x in data.PARTY_QUESTIONS], dtype=np.float64)
    assert neuron.predict(X).tolist() == [1, 0, 1]
    layer = nn.Linear(3, 1)
    layer.params["W"][:] = [data.PARTY_WEIGHTS]
    layer.params["b"][:] = 0.0
    assert nn.Step()(layer(X)).ravel().tolist() == [1, 0, 1]


def test_the_threshold_is_strict_and_moves_the_answers():
    assert perceptron.party_answers((-6, 3, 3)) == [1, 0, 0]  # z = 0 is not above the threshold 0
    assert perceptron.party_answers(threshold=-3.5) == [1, 1, 1]
    assert perceptron.party_answers(threshold=3) == [0, 0, 0]
    assert perceptron.party_answers((-8, 3, 4)) == [1, 0, 0]


def test_the_sigmoid_neuron_gives_g_of_minus_6():
    """Section 1.2: bias 1, W = (3, -2), x = (-1, 2): z = -6, sigma(-6) = 0.0025."""
    neuron = nn.Linear(2, 1, dtype=np.float64)
    neuron.params["W"][:] = [[3.0, -2.0]]
    neuron.params["b"][:] = 1.0
    z = neuron(np.array([[-1.0, 2.0]]))
    assert z[0, 0] == -6.0
    assert nn.Sigmoid()(z)[0, 0] == pytest.approx(0.0025, abs=5e-5)
    assert nn.Sigmoid()(z)[0, 0] == pytest.approx(1 / (1 + np.exp(6)))


def test_warm_up_exercise_one_smallest_invitation_weight_is_seven():
    """Exercise 1: once invited, the exam must not matter whatever the drinks; w3 > 6, so 7 is the smallest whole number."""

    def exam_matters(w3):
        w = np.array([-6.0, 3.0, w3])
        return any(
            (w @ [1, drinks, 1] > 0) != (w @ [0, drinks, 1] > 0) for drinks in (0, 1)
        )  # the same answer with and without the exam?

    assert exam_matters(4.0)  # the lecture's neuron: the exam still matters
    assert exam_matters(6.0)  # z = 0 with the exam and no drinks: not above the threshold
    assert not exam_matters(7.0)


# ----------------------------------------------------------------------------- the lesson
@pytest.fixture
def party():
    pytest.importorskip("ipywidgets")
    return perceptron.party_neuron()


def _bars(lesson):
    return lesson.figure.axes[0].patches


def test_the_lesson_starts_at_the_lectures_neuron(party):
    assert party.values == {"w1": -6.0, "w2": 3.0, "w3": 4.0, "threshold": 0.0}
    assert [bar.get_width() for bar in _bars(party)] == [3.0, -3.0, 1.0]
    assert party.text.splitlines() == [
        "1. no exam, free drinks: z = +3.0 -> party",
        "2. exam, free drinks: z = -3.0 -> stay home",
        "3. exam, drinks, date: z = +1.0 -> party",
    ]


def test_a_heavier_exam_turns_the_third_answer_around(party):
    party.sliders["w1"].value = -8.0
    bars = _bars(party)
    assert [bar.get_width() for bar in bars] == [3.0, -5.0, -1.0]  # z = w·x for each question
    assert bars[2].get_facecolor()[:3] == pytest.approx(_rgb(VERMILLION))
    assert party.text.splitlines()[2].endswith("stay home")
    assert "w = (-8, 3, 4)" in party.figure.axes[0].get_title()


def test_the_threshold_slider_moves_the_line_and_the_answers(party):
    party.sliders["threshold"].value = 2.0
    line = next(ln for ln in party.figure.axes[0].lines if ln.get_label() == "threshold")
    assert list(line.get_xdata()) == [2.0, 2.0]
    assert [s.endswith("party") for s in party.text.splitlines()] == [True, False, False]
    party.set(threshold=-4.0, w2=0.0)
    assert [bar.get_width() for bar in _bars(party)] == [0.0, -6.0, -2.0]
    assert [s.endswith("party") for s in party.text.splitlines()] == [True, False, True]
    assert _bars(party)[0].get_facecolor()[:3] == pytest.approx(_rgb(BLUE))


def test_each_answer_follows_the_formula_for_any_sliders(party):
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = rng.integers(-20, 21, size=3) / 2  # the slider's grid of 0.5
        threshold = rng.integers(-20, 21) / 2
        party.set(w1=w[0], w2=w[1], w3=w[2], threshold=threshold)
        z = np.array([x for _, x in data.PARTY_QUESTIONS]) @ w
        answers = ["party" if value > threshold else "stay home" for value in z]
        assert [re.split(r" -> ", s)[1] for s in party.text.splitlines()] == answers


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    return tuple(int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


# ----------------------------------------------------------------------------- logistic regression
def test_the_cross_entropy_gradient_is_the_formula():
    X, y = data.pass_the_class(200, rng=0)
    X, Y = X / 10, y[:, None].astype(np.float64)
    neuron = nn.Sequential(nn.Linear(2, 1, rng=0, dtype=np.float64))
    loss = nn.BCEWithLogitsLoss()
    loss(neuron(X), Y)
    neuron.backward(loss.backward())
    p = 1 / (1 + np.exp(-neuron(X)))
    np.testing.assert_allclose(neuron.grads["0.W"], (p - Y).T @ X / len(X), atol=1e-12)
    np.testing.assert_allclose(neuron.grads["0.b"], [np.mean(p - Y)], atol=1e-12)


def test_logistic_regression_trains_the_same_on_both_paths():
    pytest.importorskip("torch")
    from nnlab import bridge, torch_nn

    X, y = data.pass_the_class(200, rng=0)
    X, Y = X / 10, y[:, None].astype(np.float32)
    neuron = nn.Sequential(nn.Linear(2, 1, rng=0))
    twin = bridge.twin(neuron)
    h = nn.fit(
        neuron, nn.BCEWithLogitsLoss(), nn.optim.SGD(neuron, lr=2.0), X, Y, epochs=300, batch_size=200, rng=0
    )
    ht = torch_nn.fit(
        twin,
        torch_nn.BCEWithLogitsLoss(),
        torch_nn.optim.SGD(twin, lr=2.0),
        X,
        Y,
        epochs=300,
        batch_size=200,
        rng=0,
    )
    assert h.train_loss[-1] == pytest.approx(ht.train_loss[-1], abs=1e-5)
    assert bridge.compare(neuron, twin, X).passed()
    # near the rule behind the data: (0.5, 0.5) per lecture / hour = (5, 5) on inputs / 10, bias -5
    np.testing.assert_allclose(neuron.params["0.W"][0], [5.0, 5.0], atol=0.5)
    assert neuron.params["0.b"][0] == pytest.approx(-5.0, abs=0.5)
    assert h.train_acc[-1] > 0.75


# ----------------------------------------------------------------------------- docstrings
