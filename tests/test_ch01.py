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


# ----------------------------------------------------------------------------- sigmoid decisions
def test_honchars_half_rule_makes_the_steps_decisions():
    """sigma(z) > 0.5 exactly when z > 0: the party neuron through a sigmoid answers the same."""
    z = perceptron.weighted_sums()
    sure = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(sure, [0.953, 0.047, 0.731], atol=5e-4)  # the numbers section 1.2 prints
    assert [int(s > 0.5) for s in sure] == perceptron.party_answers() == [1, 0, 1]
    z = np.linspace(-5, 5, 1001)
    np.testing.assert_array_equal(nn.functional.sigmoid(z) > 0.5, nn.functional.step(z) == 1)


def test_changs_decision_line():
    """1 + 3x1 - 2x2 = 0 is where sigma = 0.5; (-1, 2) lies 6 units of z on the side of 0."""
    x1 = np.linspace(-3, 3, 7)
    on_line = np.column_stack([x1, 0.5 + 1.5 * x1])
    z = 1 + on_line @ np.array([3.0, -2.0])
    np.testing.assert_allclose(z, 0.0, atol=1e-12)
    assert 1 + 3 * -1 - 2 * 2 == -6  # above the line: answer 0
    assert 1 + 3 * 0 - 2 * -1 > 0  # below the line: answer 1


# ----------------------------------------------------------------------------- Rosenblatt's rule
GATES_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def test_the_gates_are_learnt_with_the_weights_the_chapter_prints():
    and_ = nn.Perceptron(2).fit(GATES_X, np.array([0, 0, 0, 1]), epochs=50)
    assert and_.epochs_run == 6 and and_.params["W"].tolist() == [2, 1] and and_.params["b"][0] == -2
    or_ = nn.Perceptron(2).fit(GATES_X, np.array([0, 1, 1, 1]), epochs=50)
    assert or_.epochs_run == 4 and or_.params["W"].tolist() == [1, 1] and or_.params["b"][0] == 0
    # the learnt lines run through a data point: z = 0 there, and step(0) = 0 makes it class 0
    assert (GATES_X @ and_.params["W"] + and_.params["b"][0]).tolist() == [-2, -1, 0, 1]
    assert (GATES_X @ or_.params["W"] + or_.params["b"][0]).tolist() == [0, 1, 1, 2]
    assert nn.functional.step(np.array([0.0]))[0] == 0


def test_one_step_of_the_rule_is_a_surrogate_gradient_step():
    """Kheradpisheh: L = 1/2 (y - y_hat)^2 with step'(z) := 1 gives dL/dw = -(y - y_hat) x."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        w, b, x, y = rng.normal(size=2), rng.normal(), rng.integers(0, 2, size=2), rng.integers(0, 2)
        y_hat = float(w @ x + b > 0)
        surrogate_dw = -(y - y_hat) * x * 1.0  # dL/dy_hat * surrogate step'(z) * dz/dw
        surrogate_db = -(y - y_hat) * 1.0
        p = nn.Perceptron(2, lr=0.5, dtype=np.float64)
        p.params["W"][:], p.params["b"][:] = w, b
        p.fit(x[None, :], np.array([y]), epochs=1, warn=False)
        np.testing.assert_allclose(p.params["W"], w - 0.5 * surrogate_dw, rtol=1e-12)
        np.testing.assert_allclose(p.params["b"][0], b - 0.5 * surrogate_db, rtol=1e-12)


def _batch_perceptron(X, Y, eta=1.0, epochs=20):
    w, b, mistakes = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        y_hat = (X @ w + b > 0).astype(float)
        mistakes.append(int(np.sum(y_hat != Y)))
        if mistakes[-1] == 0:
            break
        w, b = w + eta * (Y - y_hat) @ X, b + eta * np.sum(Y - y_hat)
    return w, b, mistakes


def test_the_batch_form_learns_and_and_or_as_printed():
    w, b, mistakes = _batch_perceptron(GATES_X, np.array([0, 0, 0, 1.0]))
    assert w.tolist() == [1, 1] and b == -1 and mistakes == [1, 3, 1, 0]
    w, b, mistakes = _batch_perceptron(GATES_X, np.array([0, 1, 1, 1.0]))
    assert w.tolist() == [2, 2] and b == 0 and mistakes == [3, 1, 1, 1, 0]
    *_, mistakes = _batch_perceptron(GATES_X, np.array([0, 1, 1, 0.0]))
    assert min(mistakes) > 0  # XOR: never


def test_xor_counts_updates_and_misclassified_separately():
    """The rule makes 4 updates per epoch on XOR, while its weights misclassify 2 of 4."""
    with pytest.warns(nn.ConvergenceWarning, match="last epoch still made 4 updates.*misclassify 2 of 4"):
        p = nn.Perceptron(2).fit(GATES_X, np.array([0, 1, 1, 0]), epochs=20)
    assert p.updates[:3] == [2, 3, 4] and set(p.updates[2:]) == {4}
    assert p.misclassified == [2] * 20
    assert p.params["W"].tolist() == [-1, 0] and p.params["b"][0] == 1
    assert p.predict(GATES_X).tolist() == [1, 1, 0, 0]
    assert p.errors == p.updates  # the former name


def test_on_xor_the_four_corrections_of_an_epoch_cancel():
    """From the third epoch on, every epoch ends on the weights it started from (section 1.4)."""
    import warnings

    ends = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", nn.ConvergenceWarning)
        for epochs in (2, 3, 4, 7, 20):
            p = nn.Perceptron(2).fit(GATES_X, np.array([0, 1, 1, 0]), epochs=epochs)
            ends.append((p.params["W"].tolist(), float(p.params["b"][0])))
    assert ends[0] == ([-1.0, 0.0], 1.0) == ends[1] == ends[2] == ends[3] == ends[4]
    # the sum of the four corrections: −(0, 0) + (0, 1) + (1, 0) − (1, 1) for w, −1 + 1 + 1 − 1 for b
    signs = np.array([-1, 1, 1, -1])
    assert (signs @ GATES_X).tolist() == [0, 0] and signs.sum() == 0


def test_the_pytorch_perceptron_counts_the_same():
    pytest.importorskip("torch")
    import warnings

    from nnlab import torch_nn

    for Y in ([0, 0, 0, 1], [0, 1, 1, 0]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", nn.ConvergenceWarning)
            a = nn.Perceptron(2, rng=3).fit(GATES_X, np.array(Y), epochs=15)
            b = torch_nn.Perceptron(2, rng=3).fit(GATES_X, np.array(Y), epochs=15)
        assert (b.updates, b.misclassified, b.converged) == (a.updates, a.misclassified, a.converged)


def test_no_line_gets_more_than_three_or_fewer_than_one_of_xor_right():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(20000, 2))
    b = rng.normal(size=(20000, 1))
    answers = (w @ GATES_X.T + b > 0).astype(int)  # each row: one line's answers on the 4 points
    right = (answers == [0, 1, 1, 0]).sum(axis=1)
    assert right.max() == 3 and right.min() == 1


def test_two_linear_layers_are_one():
    first, second = nn.Linear(2, 4, rng=0, dtype=np.float64), nn.Linear(4, 1, rng=1, dtype=np.float64)
    x = np.random.default_rng(2).normal(size=(5, 2))
    one = x @ (second.W @ first.W).T + (second.W @ first.b + second.b)  # W = W²W¹, b = W²b¹ + b²
    np.testing.assert_allclose(second(first(x)), one, rtol=1e-12, atol=1e-15)


def test_the_playground_numbers_of_section_1_4():
    from nnlab.lessons import playground as pg

    tanh = pg.train("xor", hidden=4, activation="tanh", lr=0.3, epochs=200)
    linear = pg.train("xor", hidden=4, activation="linear", lr=0.3, epochs=200)
    assert f"{tanh.train_loss[0]:.3f} -> {tanh.train_loss[-1]:.3f}" == "0.693 -> 0.028"
    assert f"{tanh.train_acc[-1]:.0%} {tanh.test_acc[-1]:.0%}" == "99% 96%"
    assert f"{linear.train_loss[-1]:.3f}" == f"{np.log(2):.3f}"


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


# ----------------------------------------------------------------------------- the book's notation
def test_chapter_one_holds_the_notation_table_the_other_chapters_link_to():
    from pathlib import Path

    book = Path(__file__).resolve().parents[1] / "book" / "source"
    text = (book / "01_perceptron.py").read_text(encoding="utf-8")
    assert "# ## Notation used in this book\n" in text  # the anchor #Notation-used-in-this-book
    table = text.split("# ## Notation used in this book")[1].split("# ## 1.1")[0]
    for row in ("| $y$ | the **target**", "| $\\hat y = a^L$ |", "| $\\eta$ | the learning rate",
                "| $\\lambda$ | the regularisation strength", "| epoch |", "| one-hot |", "| $\\odot$ |",
                "| upstream gradient |", "| $K$ | the number of classes |"):  # fmt: skip
        assert row in table, row
    # defined before use: none of these words appears in chapter 1 before the table
    before = text.split("# ## Notation used in this book")[0]
    assert not any(word in before for word in ("epoch", "one-hot", "upstream", "⊙"))
    assert "(01_perceptron.ipynb#Notation-used-in-this-book)" in (book / "02_gradient_descent.py").read_text(
        encoding="utf-8"
    )
