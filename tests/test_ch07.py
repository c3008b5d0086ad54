"""Chapter 7 (CNN filters): the lectures' filters and formulas checked against the library, and the lessons."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab import filters, models
from nnlab.lessons import convolution as cv
from nnlab.np_nn.conv import Conv2d, conv2d_naive


def _patch(a, b, c, d):
    return np.array([[a, b], [c, d]])


def test_the_lectures_filters_truth_tables():
    """Olteanu: the edge filter max(0, −a + b − c + d − 1) and the L filter max(0, −a + b − c − d) fire on one patch each."""
    patches = filters.all_binary_patches()
    edge = filters.truth_table(*filters.EDGE_FILTER)
    l_shape = filters.truth_table(*filters.L_FILTER)
    for p, out_edge, out_l in zip(patches, edge.outputs, l_shape.outputs):
        (a, b), (c, d) = p
        assert out_edge == max(0, -a + b - c + d - 1)
        assert out_l == max(0, -a + b - c - d)
    assert edge.firing().tolist() == [_patch(0, 1, 0, 1).tolist()]
    assert l_shape.firing().tolist() == [_patch(0, 1, 0, 0).tolist()]
    assert edge.fires.sum() == 1 and l_shape.fires.sum() == 1
    assert edge.outputs.max() == 1.0 and l_shape.outputs.max() == 1.0


def test_the_filters_on_the_chapters_picture():
    picture = np.zeros((6, 7))
    picture[1:5, 3:6] = 1.0
    fired = {}
    for name, (kernel, bias) in (("edge", filters.EDGE_FILTER), ("L", filters.L_FILTER)):
        S = cv.cross_correlate(picture, kernel) + bias
        fired[name] = [tuple(int(v) for v in rc) for rc in np.argwhere(np.maximum(S, 0) > 0)]
    assert fired == {"edge": [(1, 2), (2, 2), (3, 2)], "L": [(4, 2)]}


def test_cross_correlation_by_loops_equals_conv2d_and_pytorch(rng):
    torch = pytest.importorskip("torch")
    I = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    K = np.array([[1.0, -1.0], [0.0, 2.0]])
    np.testing.assert_array_equal(cv.cross_correlate(I, K), [[1.0, 8.0], [-1.0, 0.0], [4.0, -1.0]])
    for _ in range(10):
        n, k = int(rng.integers(4, 10)), int(rng.integers(1, 4))
        s, p = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        image, kernel = rng.normal(size=(n, n)), rng.normal(size=(k, k))
        S = cv.cross_correlate(image, kernel, stride=s, padding=p)
        conv = Conv2d(1, 1, k, stride=s, padding=p, dtype=np.float64)
        conv.W[0, 0], conv.b[:] = kernel, 0.0
        np.testing.assert_allclose(S, conv(image[None, None])[0, 0], atol=1e-12)
        np.testing.assert_allclose(
            S, conv2d_naive(image[None, None], kernel[None, None], np.zeros(1), s, p)[0, 0]
        )
        expected = torch.nn.functional.conv2d(
            torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None], stride=s, padding=p
        )
        np.testing.assert_allclose(S, expected[0, 0].numpy(), atol=1e-12)


def test_the_lessons_fast_cross_correlation_equals_the_loops(rng):
    for shape, k, p in (((9, 9), 3, 1), ((6, 8), 2, 0), ((5, 5), 5, 2), ((4, 7), 1, 0)):
        image, kernel = rng.normal(size=shape), rng.normal(size=(k, k))
        np.testing.assert_allclose(
            cv._cross_correlate_by_offsets(image, kernel, p),
            cv.cross_correlate(image, kernel, padding=p),
            atol=1e-12,
        )


def test_convolution_is_cross_correlation_with_the_kernel_turned(rng):
    image, kernel = rng.normal(size=(6, 5)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(cv.convolve(image, kernel), cv.cross_correlate(image, kernel[::-1, ::-1]))
    # the mathematicians' sum Σ I(i + m, j + n) K(kH − 1 − m, kW − 1 − n), written out for one position
    S = cv.convolve(image, kernel)
    assert S[1, 2] == pytest.approx(
        sum(image[1 + m, 2 + n] * kernel[2 - m, 1 - n] for m in range(3) for n in range(2))
    )
    assert not np.allclose(S, cv.cross_correlate(image, kernel))


def test_output_size_formula_against_conv2d_for_random_settings(rng):
    for _ in range(40):
        n, k = int(rng.integers(3, 16)), int(rng.integers(1, 6))
        s, p = int(rng.integers(1, 5)), int(rng.integers(0, 3))
        if n + 2 * p < k:
            assert cv.output_side(n, k, s, p) == 0
            with pytest.raises(ValueError, match="expected images at least as large"):
                Conv2d(1, 1, k, stride=s, padding=p)(np.zeros((1, 1, n, n), dtype=np.float32))
            continue
        side = Conv2d(1, 1, k, stride=s, padding=p)(np.zeros((1, 1, n, n), dtype=np.float32)).shape[-1]
        assert cv.output_side(n, k, s, p) == side == (n + 2 * p - k) // s + 1
        # the last window ends exactly `unread` cells before the padded image's end
        last_end = (side - 1) * s + k
        assert n + 2 * p - last_end == cv.unread(n, k, s, p)
    assert cv.output_side(28, 5) == 24 and cv.output_side(28, 5, padding=2) == 28
    assert cv.unread(7, 3, 2) == 0 and cv.unread(8, 3, 2) == 1 and cv.unread(10, 4, 3, 1) == 2


def test_lenet5_has_61706_parameters_on_both_paths():
    assert models.count_params(models.lenet5(rng=0), print_table=False) == 61_706
    pytest.importorskip("torch")
    assert models.count_params(models.lenet5("torch", rng=0), print_table=False) == 61_706
    # the chapter's arithmetic: 48,120 in the first dense layer, 78%; VGG16 about 2,240 times larger
    assert 400 * 120 + 120 == 48_120 and round(48_120 / 61_706, 2) == 0.78
    assert round(138_357_544 / 61_706) == 2242


def test_toy_network_is_the_lectures():
    net = cv.toy_network(rng=0)
    assert models.count_params(net, input_shape=(1, 28, 28), print_table=False) == 2_948
    shapes = []
    x = np.zeros((1, 1, 28, 28), dtype=np.float32)
    for module in net.modules:
        x = module(x)
        shapes.append(x.shape[1:])
    assert shapes[0] == (2, 26, 26) and shapes[2] == (2, 24, 24) and shapes[4] == (2, 12, 12)
    assert shapes[-1] == (10,)
    np.testing.assert_array_equal(net.params["0.W"][0, 0], cv.PRESETS["horizontal edge"])
    np.testing.assert_array_equal(net.params["0.W"][1, 0], cv.PRESETS["vertical edge"])
    assert net.params["2.W"].shape == (2, 2, 3, 3)  # two 3x3x2 filters


def test_presets_do_what_their_names_say():
    image = np.zeros((5, 5))
    image[:, 3:] = 1.0  # dark on the left, bright on the right: a vertical edge
    S = cv.cross_correlate(image, cv.PRESETS["vertical edge"], padding=1)
    assert S[2, 2] == 3.0 and S[2, 3] == 3.0 and S[2, 0] == 0.0
    np.testing.assert_array_equal(cv.cross_correlate(image.T, cv.PRESETS["horizontal edge"], padding=1), S.T)
    np.testing.assert_allclose(cv.cross_correlate(image, cv.PRESETS["identity"], padding=1), image)
    np.testing.assert_allclose(cv.cross_correlate(np.ones((4, 4)), cv.PRESETS["blur"])[0, 0], 1.0)
    assert cv.PRESETS["sharpen"].sum() == 1.0


def test_book_mnist_falls_back_to_the_digits_and_says_so(tmp_path):
    pytest.importorskip("sklearn")
    from nnlab.lessons import mnist

    split = mnist.book_mnist(n_train=500, n_test=100, data_dir=tmp_path)
    assert not split.is_mnist and split.X_train.shape == (500, 8, 8) and split.X_test.shape == (100, 8, 8)
    assert split.source.startswith("scikit-learn's 8x8 digits, not MNIST, because MNIST is not in")
    with pytest.raises(ValueError, match="at most 10,000"):
        mnist.book_mnist(n_train=9000, n_test=2000)


# ----------------------------------------------------------------------------- the lessons
def test_geometry_lesson_draws_the_windows_and_says_when_the_stride_does_not_fit():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = cv.conv_geometry()
    ax_in, ax_out = lesson.figure.axes
    for n, k, s, p, row, col in (
        (7, 3, 2, 0, 1, 2),
        (8, 3, 2, 0, 0, 0),
        (5, 3, 1, 1, 4, 4),
        (10, 4, 3, 1, 13, 0),
    ):
        lesson.set(size=n, kernel=k, stride=s, padding=p, row=row, col=col)
        g = cv.geometry(n, k, s, p, row, col)
        N, side = n + 2 * p, cv.output_side(n, k, s, p)
        assert ax_in.images[0].get_extent() == [-0.5, N - 0.5, N - 0.5, -0.5]
        assert ax_out.images[0].get_extent() == [-0.5, max(side, 1) - 0.5, max(side, 1) - 0.5, -0.5]
        assert ax_in.get_xlim() == (-0.5, 13.5)  # fixed: a slider step never rescales the axes
        assert ax_in.images[0].get_array().shape[:2] == (12 * N, 12 * N)
        codes = g["codes"]
        assert ((codes == cv.WINDOW) | (codes == cv.WINDOW_ON_PADDING)).sum() == k * k
        i, j = g["chosen"]
        assert (i, j) == (min(row, side - 1), min(col, side - 1))
        window = codes[i * s : i * s + k, j * s : j * s + k]
        assert np.all((window == cv.WINDOW) | (window == cv.WINDOW_ON_PADDING))
        assert (codes == cv.NEVER_READ).any() == bool(cv.unread(n, k, s, p))
        assert (codes == cv.PADDING).sum() + (codes == cv.WINDOW_ON_PADDING).sum() == N * N - n * n
        assert f"= {side}" in lesson.text.splitlines()[0]
        assert ("does not fit" in lesson.text) == bool(cv.unread(n, k, s, p))
    lesson.set(size=8, kernel=3, stride=2, padding=0)
    assert "the last row and column are never read" in lesson.text
    lesson.set(size=3, kernel=5, padding=0)
    assert "larger than the 3x3 padded image: no output" in lesson.text


def test_filter_playground_applies_presets_and_typed_weights():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    digit = rng.random((9, 9))
    lesson = cv.filter_playground(digit, preset="identity")
    feature = lesson.figure.axes[2].images[0]
    kernel = lesson.figure.axes[1].images[0]
    np.testing.assert_allclose(feature.get_array(), digit)
    for name, K in cv.PRESETS.items():
        lesson.set(preset=name)
        np.testing.assert_allclose(kernel.get_array(), K)
        np.testing.assert_allclose(feature.get_array(), cv.cross_correlate(digit, K, padding=1))
        assert [lesson.sliders[f"w{m}{n}"].value for m in range(3) for n in range(3)] == pytest.approx(
            np.round(K, 3).ravel()
        )
    lesson.set(preset="vertical edge", w11=2.0)  # typing a weight makes the filter custom
    assert lesson.sliders["preset"].value == "custom"
    K = cv.PRESETS["vertical edge"].copy()
    K[1, 1] = 2.0
    np.testing.assert_allclose(feature.get_array(), cv.cross_correlate(digit, K, padding=1))
    assert lesson.figure.axes[1].texts[4].get_text() == "2"
    assert "filter: custom" in lesson.text


def test_static_figures_are_labelled():
    pytest.importorskip("matplotlib")
    fig = cv.geometry_figure()
    assert len(fig.axes) == 4 and all(ax.get_title() for ax in fig.axes)
    fig = cv.filter_figure(np.eye(6))
    assert [ax.get_title() for ax in fig.axes[1:]] == list(cv.PRESETS)


def test_toy_network_fits_the_8x8_fallback_digits():
    """Without MNIST the chapter trains the toy network on 8x8 digits: its dense layer then takes 2 x 2 x 2."""
    net = cv.toy_network(rng=0, side=8)
    assert net(np.zeros((3, 1, 8, 8), dtype=np.float32)).shape == (3, 10)
    assert net.params["6.W"].shape == (10, 8)


def test_small_cnn_fits_the_8x8_fallback_digits():
    net = cv.small_cnn(filters=8, rng=0, side=8)
    assert net(np.zeros((2, 1, 8, 8), dtype=np.float32)).shape == (2, 10)


def test_filter_playground_coalesces_a_burst_of_browser_edits_into_one_redraw():
    """Typing in a box from the browser goes through the core's coalescing: stale values are never drawn."""
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    import threading
    import time

    digit = np.eye(5)
    lesson = cv.filter_playground(digit, preset="identity")
    feature = lesson.figure.axes[2].images[0]
    drawn, started = [], threading.Event()
    draw = lesson._draw

    def slow_draw(**values):
        drawn.append(values["w11"])
        started.set()
        time.sleep(0.3)  # a slow redraw: the rest of the burst arrives meanwhile
        return draw(**values)

    lesson._draw = slow_draw
    box = lesson.sliders["w11"]
    box.set_state({"value": 2.0})  # what ipywidgets does with a value the browser sends
    assert started.wait(5)
    for value in range(3, 12):  # nine more key presses while the first is being drawn
        box.set_state({"value": float(value)})
    assert lesson.wait(10) and lesson.error is None
    assert drawn == [2.0, 11.0], f"stale values were drawn: {drawn}"
    assert lesson.sliders["preset"].value == "custom"
    np.testing.assert_allclose(feature.get_array(), 11.0 * digit)  # the identity's centre weight set to 11
    before = lesson.redraws
    lesson.set(preset="blur")  # a preset fills nine boxes: one redraw, not ten
    assert lesson.redraws == before + 1
    np.testing.assert_allclose(feature.get_array(), cv.cross_correlate(digit, cv.PRESETS["blur"], padding=1))


def test_edge_presets_are_red_on_a_strokes_near_side_and_blue_on_its_far_side():
    """Chapter 7's reading of the figure: ink values rise into a stroke (red), fall out of it (blue)."""
    stroke = np.zeros((7, 7))
    stroke[:, 3] = 1.0  # an upright stroke of ink, one pixel wide
    S = cv.cross_correlate(stroke, cv.PRESETS["vertical edge"], padding=1)
    assert S[3, 2] == 3.0 and S[3, 4] == -3.0 and S[3, 3] == 0.0  # left side red, right side blue
    bar = stroke.T  # a horizontal bar, like the 7's top
    S = cv.cross_correlate(bar, cv.PRESETS["horizontal edge"], padding=1)
    assert S[2, 3] == 3.0 and S[4, 3] == -3.0  # red above the bar, blue below it
    sharpen = cv.cross_correlate(stroke, cv.PRESETS["sharpen"], padding=1)
    neighbours = cv.cross_correlate(stroke, np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]), padding=1)
    np.testing.assert_allclose(sharpen, stroke + (4 * stroke - neighbours))  # each pixel + Σ (it − neighbour)


def test_the_chapters_filter_picture_is_a_4x3_rectangle():
    picture = np.zeros((6, 7))
    picture[1:5, 3:6] = 1.0
    rows, cols = np.nonzero(picture)
    assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (4, 3)  # not a square
