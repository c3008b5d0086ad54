r"""Chapter 1's lessons: the party neuron of Honchar's lecture, with its weights and threshold on sliders.

The neuron answers the lecture's three questions with

$$\text{output} = \begin{cases} 1 & \text{if } \sum_i w_i x_i > \text{threshold} \\ 0 & \text{otherwise,} \end{cases}$$

for the inputs $x_1$ (an exam tomorrow), $x_2$ (free drinks) and $x_3$ (the date of your dreams asks
you out). The lecture's neuron has $w = (-6, 3, 4)$ and threshold 0, and answers party, stay home,
party.

Chapter: 1, the perceptron.
"""

from __future__ import annotations

import numpy as np

from ..data import PARTY_QUESTIONS, PARTY_WEIGHTS
from ._core import Lesson, float_slider

__all__ = ["party_answers", "party_neuron", "plot_party", "weighted_sums"]

BLUE, VERMILLION = "#0072B2", "#D55E00"
SHORT_QUESTIONS = ("1. no exam, free drinks", "2. exam, free drinks", "3. exam, drinks, date")
"""The three questions of ``nnlab.data.PARTY_QUESTIONS``, short enough for a figure's axis."""


def _question_inputs() -> np.ndarray:
    return np.array([x for _, x in PARTY_QUESTIONS], dtype=np.float64)


def weighted_sums(weights=PARTY_WEIGHTS) -> np.ndarray:
    r"""The weighted sum $z = \sum_i w_i x_i$ for each of the lecture's three questions.

    Shapes: weights (3,) -> z (3,), one per question of ``nnlab.data.PARTY_QUESTIONS``.

    Example:
        >>> weighted_sums().tolist()    # w = (-6, 3, 4)
        [3.0, -3.0, 1.0]

    Chapter: 1, the perceptron.
    """
    X = _question_inputs()
    return X @ np.asarray(weights, dtype=np.float64)  # z = Σ_i w_i x_i


def party_answers(weights=PARTY_WEIGHTS, threshold: float = 0.0) -> list[int]:
    r"""The party neuron's answers to the lecture's three questions: 1 = party, 0 = stay home.

    $$\text{output} = 1 \text{ if } \sum_i w_i x_i > \text{threshold, else } 0$$

    Example:
        >>> party_answers()                      # the lecture's w = (-6, 3, 4), threshold 0
        [1, 0, 1]
        >>> party_answers((-8, 3, 4))            # a heavier exam: the date no longer wins
        [1, 0, 0]
        >>> party_answers(threshold=3)           # a pickier neuron: z must exceed 3
        [0, 0, 0]

    Chapter: 1, the perceptron.
    """
    z = weighted_sums(weights)
    return [int(value > threshold) for value in z]  # 1 when z > threshold


def plot_party(ax, weights=PARTY_WEIGHTS, threshold: float = 0.0) -> dict:
    """Draw the party neuron's three weighted sums as bars against the threshold on ``ax``.

    A bar is blue when the neuron goes to the party (z > threshold) and vermillion when it stays
    home; the dashed line is the threshold. Returns the artists by name (``"bars"``, ``"threshold"``,
    ``"labels"``) so a lesson can update them.

    Chapter: 1, the perceptron.
    """
    z = weighted_sums(weights)
    rows = np.arange(len(z))[::-1]  # question 1 at the top
    bars = ax.barh(rows, z, color=BLUE, height=0.6)
    line = ax.axvline(threshold, color="black", linestyle="--", label="threshold")
    labels = [ax.text(0, row, "", va="center", fontsize=9) for row in rows]
    ax.set_yticks(rows, SHORT_QUESTIONS)
    ax.set_xlim(-32, 32)
    ax.set_xlabel(r"weighted sum $z = w_1 x_1 + w_2 x_2 + w_3 x_3$")
    ax.axvline(0, color="0.8", linewidth=0.8, zorder=0)
    ax.plot([], [], "s", color=BLUE, label="party")
    ax.plot([], [], "s", color=VERMILLION, label="stay home")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    artists = {"bars": bars, "threshold": line, "labels": labels, "ax": ax}
    _update_party(artists, weights, threshold)
    return artists


def _update_party(artists: dict, weights, threshold: float) -> list[int]:
    z = weighted_sums(weights)
    answers = party_answers(weights, threshold)
    for bar, label, value, answer in zip(artists["bars"], artists["labels"], z, answers):
        bar.set_width(value)
        bar.set_color(BLUE if answer else VERMILLION)
        label.set_text(f"z = {value:+.1f}: {'party' if answer else 'stay home'}")
        right = max(value, threshold, 0.0) + 1  # beside the bar and the threshold line, on their right
        inside = right > 15  # no room on the right: write it inside a long bar instead
        label.set_x(value - 1 if inside else right)
        label.set_horizontalalignment("right" if inside else "left")
        label.set_color("white" if inside else "black")
    artists["threshold"].set_xdata([threshold, threshold])
    w = ", ".join(f"{v:g}" for v in weights)
    artists["ax"].set_title(f"w = ({w}), threshold {threshold:g}")
    return answers


def party_neuron(weights=PARTY_WEIGHTS, threshold: float = 0.0) -> Lesson:
    r"""Sliders for the party neuron's three weights and its threshold; the three answers update live.

    The figure shows each question's weighted sum $z$ as a bar against the threshold (blue: party,
    vermillion: stay home), and the text under it lists the answers. Start from the lecture's
    $w = (-6, 3, 4)$, threshold 0, and find out how heavy the exam must be before the date stops
    winning (question 3).

    Sliders: ``w1``, ``w2``, ``w3`` in [-10, 10] and ``threshold`` in [-10, 10], steps of 0.5.

    Example:
        >>> lesson = party_neuron()
        >>> lesson.set(w1=-8.0).text.splitlines()[-1]
        '3. exam, drinks, date: z = -1.0 -> stay home'

    Chapter: 1, the perceptron.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 3.0), layout="constrained")
    artists = plot_party(figure.add_subplot(), weights, threshold)

    def draw(w1: float, w2: float, w3: float, threshold: float) -> str:
        answers = _update_party(artists, (w1, w2, w3), threshold)
        z = weighted_sums((w1, w2, w3))
        return "\n".join(
            f"{question}: z = {value:+.1f} -> {'party' if answer else 'stay home'}"
            for question, value, answer in zip(SHORT_QUESTIONS, z, answers)
        )

    sliders = {
        name: float_slider(label, float(value), -10.0, 10.0, 0.5)
        for name, label, value in (
            ("w1", "w1 (exam)", weights[0]),
            ("w2", "w2 (drinks)", weights[1]),
            ("w3", "w3 (date)", weights[2]),
            ("threshold", "threshold", threshold),
        )
    }
    return Lesson(sliders, figure, draw, title="The party neuron: move a weight, watch the answers")
