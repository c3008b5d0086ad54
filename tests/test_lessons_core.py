"""The shared slider-and-figure helper: a slider change redraws, without a browser or a kernel."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from nnlab.lessons import Lesson, float_slider, int_slider


def _line_lesson():
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    x = np.linspace(-1, 1, 11)
    (line,) = ax.plot(x, 0 * x)
    calls = []

    def draw(slope, power):
        calls.append((slope, power))
        line.set_ydata(slope * x**power)
        return f"slope {slope:.1f}"

    lesson = Lesson(
        {"slope": float_slider("slope", 1.0, -2, 2, 0.1), "power": int_slider("p", 1, 1, 3)}, fig, draw
    )
    return lesson, line, x, calls


def test_a_slider_change_redraws_the_figure():
    lesson, line, x, calls = _line_lesson()
    np.testing.assert_allclose(line.get_ydata(), x)  # drawn once when built
    lesson.sliders["slope"].value = -2.0
    np.testing.assert_allclose(line.get_ydata(), -2.0 * x)
    assert lesson.text == "slope -2.0"
    lesson.set(power=2)
    np.testing.assert_allclose(line.get_ydata(), -2.0 * x**2)
    assert calls == [(1.0, 1), (-2.0, 1), (-2.0, 2)]
    assert lesson.values == {"slope": -2.0, "power": 2}


def test_out_of_range_values_are_clamped_by_the_slider():
    lesson, line, x, _ = _line_lesson()
    lesson.sliders["slope"].value = 99.0
    np.testing.assert_allclose(line.get_ydata(), 2.0 * x)


def test_png_changes_with_the_slider():
    lesson, *_ = _line_lesson()
    before = lesson.png()
    assert before.startswith(b"\x89PNG")
    lesson.set(slope=-1.5)
    assert lesson.png() != before


def test_unknown_slider_name_gets_a_sentence():
    lesson, *_ = _line_lesson()
    with pytest.raises(ValueError, match=r"has no slider 'slop'; its sliders are \['power', 'slope'\]"):
        lesson.set(slop=1.0)


def test_import_nnlab_does_not_load_widgets_or_matplotlib():
    code = "import sys, nnlab, nnlab.np_nn; print(sorted(m for m in ('ipywidgets', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
