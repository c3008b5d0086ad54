"""The shared slider-and-figure helper: a slider change redraws, without a browser or a kernel."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from nnlab.lessons import Lesson, float_slider, int_slider

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


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


# ----------------------------------------------------------------------------- keeping up with the hand
def _decode(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)


def _full_render(fig) -> np.ndarray:
    """The figure as matplotlib's own savefig draws it, every artist from scratch."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return _decode(buffer.getvalue())


def _contour_lesson():
    """A costly static background (filled contours, a legend, a text) under a moving line and title."""
    fig = Figure(figsize=(4, 3), layout="constrained")
    ax = fig.add_subplot()
    g = np.linspace(-2, 2, 101)
    ax.contourf(g, g, np.add.outer(g**2, g**2), levels=20)
    (line,) = ax.plot([], [], "o-", color="white", label="moving line")
    ax.text(0, 0, "a static text above the line", ha="center")
    ax.legend(loc="upper left", framealpha=0.8)
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)

    def draw(slope):
        line.set_data(g, slope * g)
        ax.set_title(f"slope {slope:+.1f}")

    lesson = Lesson({"slope": float_slider("slope", 1.0, -2, 2, 0.1)}, fig, draw)
    return lesson, line


def test_moving_a_slider_draws_the_background_only_once():
    lesson, line = _contour_lesson()
    lesson.png()
    lesson.set(slope=0.5)
    lesson.png()  # the first change finds what moves: the background is drawn once more without it
    drawn = lesson.full_draws
    for slope in (-1.0, -0.3, 0.8, 1.9):
        lesson.set(slope=slope)
        png = lesson.png()
        np.testing.assert_allclose(line.get_ydata(), slope * line.get_xdata())
    assert lesson.full_draws == drawn  # four redraws, no full draw: background restored, line drawn
    assert lesson.png() is png  # nothing changed since: the same bytes, not drawn again


def test_the_blitted_png_is_the_figure_a_full_draw_gives():
    lesson, _ = _contour_lesson()
    for slope in (0.5, -1.5, 1.2):
        lesson.set(slope=slope)
        fast = _decode(lesson.png())
        full = _full_render(lesson.figure)
        assert fast.shape == full.shape
        # the line runs under the legend and the text: they must still be on top of it
        assert np.abs(fast - full).max() <= 2, f"slope {slope}: the PNG differs from a full draw"


def test_a_savefig_between_two_renders_does_not_hide_what_changed():
    lesson, _ = _contour_lesson()
    lesson.png()
    fig = lesson.figure
    text = fig.axes[0].texts[0]

    def draw(slope):  # a new draw that also changes an artist that never moved before
        text.set_text(f"now {slope:+.1f}")

    lesson._draw = draw
    lesson.set(slope=-0.5)
    fig.savefig(io.BytesIO(), format="png")  # a full draw by someone else clears matplotlib's marks
    assert np.abs(_decode(lesson.png()) - _full_render(fig)).max() <= 2


def test_new_limits_or_new_artists_redraw_the_background():
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    (line,) = ax.plot([0, 1], [0, 1])

    def draw(top):
        line.set_ydata([0, top])
        ax.set_ylim(0, top)  # the axes rescale: the ticks change, so must the background
        if top > 3 and len(ax.lines) == 1:
            ax.axhline(1, color="red")

    lesson = Lesson({"top": float_slider("top", 1.0, 0.5, 5, 0.5)}, fig, draw)
    lesson.png()
    for top in (2.0, 4.0, 5.0):
        lesson.set(top=top)
        drawn = lesson.full_draws
        assert np.abs(_decode(lesson.png()) - _full_render(fig)).max() <= 2
        assert lesson.full_draws == drawn + 1


def test_a_change_in_python_redraws_before_the_call_returns():
    lesson, line, x, calls = _line_lesson()
    lesson.sliders["slope"].value = 0.5
    assert lesson._worker is None  # no background thread: drawn already
    np.testing.assert_allclose(line.get_ydata(), 0.5 * x)
    assert calls[-1] == (0.5, 1)


def _from_the_browser(slider, value):
    """What ipywidgets does with a value the browser sends (a comm message): set_state."""
    slider.set_state({"value": value})


def test_a_burst_from_the_browser_draws_only_the_newest_value():
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    (line,) = ax.plot(np.arange(3), np.zeros(3))
    calls = []
    started = threading.Event()

    def draw(level):
        calls.append(level)
        if len(calls) > 1:  # not the first draw, when the lesson is built
            started.set()
            time.sleep(0.3)  # a slow redraw: the rest of the burst arrives meanwhile
        line.set_ydata(np.full(3, level))

    lesson = Lesson({"level": int_slider("level", 0, 0, 20)}, fig, draw)
    slider = lesson.sliders["level"]
    _from_the_browser(slider, 1)
    assert started.wait(5)
    for value in range(2, 11):  # nine more key presses while the first is being drawn
        _from_the_browser(slider, value)
    assert lesson.wait(10)
    assert calls[0] == 0 and calls[1] == 1 and calls[-1] == 10
    assert len(calls) == 3, f"stale values were drawn: {calls}"
    np.testing.assert_allclose(line.get_ydata(), 10)
    assert lesson.redraws == 3 and lesson.error is None


def test_a_failing_redraw_in_the_background_is_shown_under_the_figure():
    fig = Figure(figsize=(3, 2))
    fig.add_subplot()

    def draw(w):
        if w > 1:
            raise ZeroDivisionError("w too large for this test")
        return f"w = {w}"

    lesson = Lesson({"w": float_slider("w", 0.0, 0, 2, 0.5)}, fig, draw)
    _from_the_browser(lesson.sliders["w"], 2.0)
    assert lesson.wait(10)
    assert "ZeroDivisionError: w too large" in lesson.error
    assert "redrawing failed" in lesson._label.value


CHAPTERS_1_TO_4 = ("perceptron", "gradient_descent", "backprop", "saturation")


def test_the_lessons_of_chapters_1_to_4_still_render_the_right_png():
    """Each lesson of chapters 1-4, moved through its sliders: the fast PNG equals a full draw."""
    import nnlab.lessons as lessons

    bench = _bench_lessons()
    found = bench.discover_lessons()
    mine = {n: f for n, f in found.items() if f.__module__.rsplit(".", 1)[-1] in CHAPTERS_1_TO_4}
    assert len(mine) >= 8
    for name, factory in mine.items():
        lesson = factory()
        lesson.png()
        for slider_name, value in bench.slider_moves(lesson, 2)[:4]:
            lesson.set(**{slider_name: value})
            fast = _decode(lesson.png())
            assert np.abs(fast - _full_render(lesson.figure)).max() <= 3, f"{name}: {slider_name}={value}"
    assert "party_neuron" in dir(lessons)


# ----------------------------------------------------------------------------- the benchmark
def _bench_lessons():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_lessons
    finally:
        sys.path.remove(str(BENCHMARKS))
    return bench_lessons


def test_the_benchmark_finds_every_lesson_and_nothing_else():
    found = _bench_lessons().discover_lessons()
    for name in ("party_neuron", "learning_rate", "minibatch", "momentum", "loss_slope", "gradcheck_step"):
        assert name in found
    for name in ("not_gate_gradients", "vanishing_gradients"):
        assert name in found
    for not_a_lesson in ("bowl", "plot_party", "minibatch_figure", "noisy_line", "Lesson", "float_slider"):
        assert not_a_lesson not in found


def test_the_benchmark_times_one_lesson(capsys):
    bench = _bench_lessons()
    result = bench.time_lesson(bench.discover_lessons()["party_neuron"], steps=2)
    assert result["redraws"] > 0 and 0 < result["median_ms"] <= result["max_ms"]
    assert result["sliders"] == ["w1", "w2", "w3", "threshold"]
    assert bench.main(["--only", "party_neuron", "--steps", "2", "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert "| party_neuron" in out and '"median_ms"' in out


def test_the_lessons_axes_stay_put_while_their_data_fits():
    from nnlab.lessons import learning_rate, vanishing_gradients

    lesson = learning_rate()
    ax_k = lesson.figure.axes[1]
    for steps in (1, 12, 30):
        lesson.set(steps=steps)
        assert ax_k.get_xlim() == (0.0, 30.0)  # the steps slider's range: no rescale, no full draw
        assert ax_k.lines[0].get_xdata()[-1] == steps

    lesson = vanishing_gradients()
    ax = lesson.figure.axes[0]
    lesson.png()
    for scale in (1.0, 1.25, 1.5, 4.0, 0.25):
        lesson.set(scale=scale)
        lo, hi = ax.get_ylim()
        ys = np.concatenate([line.get_ydata() for line in ax.lines])
        assert lo <= ys.min() and ys.max() <= hi, f"scale {scale}: data outside the y range"
        assert np.log10(hi) % 3 == 0 and np.log10(lo) % 3 == 0  # powers of 10 that are multiples of 3
        assert np.log10(ys.max() / ys.min()) >= np.log10(hi / lo) / 3  # the data fill a third of it
    changes = 0
    for depth in range(10, 21):  # a hand dragging the depth slider: the y range seldom changes
        limits = ax.get_ylim()
        lesson.set(depth=depth)
        changes += ax.get_ylim() != limits
    assert changes <= 4
