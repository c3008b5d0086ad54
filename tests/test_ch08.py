"""Chapter 8 (max-pool and convolution gradients): routing, ties, and the conv gradients four ways."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab import gradcheck
from nnlab.lessons import pooling as pl
from nnlab.np_nn.conv import AvgPool2d, Conv2d, MaxPool2d


def _library_maxpool(a, dout, k, s):
    pool = MaxPool2d(k, stride=s)
    out = pool(np.asarray(a, dtype=np.float64)[None, None])[0, 0]
    return out, pool.backward(np.asarray(dout, dtype=np.float64)[None, None])[0, 0]


def test_the_chapters_grid_forward_and_routed_backward():
    out, da = _library_maxpool(pl.DEFAULT_GRID, [[1.0, 2.0], [3.0, 4.0]], 2, 2)
    np.testing.assert_array_equal(out, [[4.0, 5.0], [2.0, 3.0]])
    expected = np.zeros((4, 4))
    expected[1, 0], expected[1, 3], expected[3, 1], expected[2, 2] = (
        1.0,
        2.0,
        3.0,
        4.0,
    )  # the tie: first 3 wins
    np.testing.assert_array_equal(da, expected)
    assert pl.ties(pl.DEFAULT_GRID) == [(1, 1, 2)]
    # stride 1: the 5 collects 3 + 6, the tied 3 collects 5 + 8 + 9
    r = pl.routing(pl.DEFAULT_GRID, 2, 1)
    assert r["dx"][1, 3] == 9.0 and r["dx"][2, 2] == 22.0 and r["dx"][1, 0] == 5.0
    assert r["dx"].sum() == r["dout"].sum() == 45.0


def test_a_2x2_max_pool_routes_to_a_quarter_of_the_map_and_the_average_pool_to_all():
    """Chapter 8: with stride 2, 4 of the 16 entries receive a gradient; the average pool gives each entry a quarter."""
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    _, da = _library_maxpool(pl.DEFAULT_GRID, dout, 2, 2)
    assert np.count_nonzero(da) == 4 and da.size == 16
    avg = AvgPool2d(2)
    np.testing.assert_array_equal(avg(pl.DEFAULT_GRID[None, None])[0, 0], [[2.5, 2.0], [1.0, 2.25]])
    np.testing.assert_array_equal(avg.backward(dout[None, None])[0, 0], np.kron(dout / 4, np.ones((2, 2))))


def test_maxpool_routing_ties_included_loops_library_and_pytorch_agree(rng):
    torch = pytest.importorskip("torch")
    for trial in range(30):
        k = int(rng.integers(2, 4))
        s = int(rng.integers(1, k + 1))
        H, W = int(rng.integers(k, 8)), int(rng.integers(k, 8))
        a = rng.integers(0, 3, size=(H, W)).astype(np.float64)  # few values: many ties
        if trial == 0:
            a[:] = 1.0  # every window one big tie
        out_shape = ((H - k) // s + 1, (W - k) // s + 1)
        dout = rng.normal(size=out_shape)
        out, da = _library_maxpool(a, dout, k, s)
        np.testing.assert_array_equal(out, pl.maxpool_loops(a, k, s))
        np.testing.assert_allclose(da, pl.maxpool_backward_loops(a, dout, k, s), atol=1e-12)
        a_torch = torch.tensor(a[None, None], requires_grad=True)
        torch.nn.functional.max_pool2d(a_torch, k, s).backward(torch.tensor(dout[None, None]))
        np.testing.assert_allclose(da, a_torch.grad[0, 0].numpy(), atol=1e-12)
        # routing: every window sends its whole gradient to one of its maxima
        assert da.sum() == pytest.approx(dout.sum())
        if s == k:
            assert np.count_nonzero(da) <= out.size
    a = np.ones((2, 2))
    _, da = _library_maxpool(a, [[1.0]], 2, 2)
    np.testing.assert_array_equal(da, [[1.0, 0.0], [0.0, 0.0]])  # all tied: the first entry


def test_finite_differences_split_the_gradient_at_a_tie():
    x = pl.DEFAULT_GRID[None, None].copy()
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    numeric = gradcheck.numerical_gradient(lambda: float(np.sum(MaxPool2d(2)(x) * dout)), x)[0, 0]
    assert numeric[2, 2] == pytest.approx(2.0) and numeric[2, 3] == pytest.approx(2.0)
    np.testing.assert_allclose(numeric[:2], [[0, 0, 0, 0], [1, 0, 0, 2]], atol=1e-8)


def test_average_pool_spreads_the_gradient_evenly(rng):
    np.testing.assert_allclose(pl.avgpool_loops(pl.DEFAULT_GRID), [[2.5, 2.0], [1.0, 2.25]])
    for k, s in ((2, 2), (2, 1), (3, 2)):
        a = rng.normal(size=(7, 6))
        pool = AvgPool2d(k, stride=s)
        out = pool(a[None, None])[0, 0]
        np.testing.assert_allclose(out, pl.avgpool_loops(a, k, s), atol=1e-12)
        dout = rng.normal(size=out.shape)
        da = pool.backward(dout[None, None])[0, 0]
        x = a[None, None].copy()
        numeric = gradcheck.numerical_gradient(
            lambda k=k, s=s, x=x, dout=dout: float(np.sum(AvgPool2d(k, stride=s)(x) * dout)), x
        )
        np.testing.assert_allclose(da, numeric[0, 0], atol=1e-8)
    pool = AvgPool2d(2)
    pool(np.zeros((1, 1, 4, 4)))
    da = pool.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))[0, 0]
    np.testing.assert_allclose(da[:2, :2], 0.25)
    np.testing.assert_allclose(da[2:, 2:], 1.0)


def test_the_worked_conv_gradient_example():
    x = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
    W = np.array([[1.0, -1.0], [2.0, 0.5]])
    delta = np.array([[1.0, 0.0], [-1.0, 2.0]])
    dx, dW, db = pl.conv_gradients_loops(x[None, None], W[None, None], delta[None, None])
    np.testing.assert_array_equal(dW[0, 0], [[3.0, 7.0], [-2.0, 3.0]])
    np.testing.assert_array_equal(dx[0, 0], [[1.0, -1.0, 0.0], [1.0, 3.5, -2.0], [-2.0, 3.5, 1.0]])
    assert db.tolist() == [2.0]


@pytest.mark.parametrize("fast", [False, True])
def test_conv_gradients_loops_equal_conv2d_backward_autograd_and_finite_differences(rng, fast):
    torch = pytest.importorskip("torch")
    for N, C_in, C_out, k, H in ((2, 3, 4, 3, 6), (1, 1, 2, 2, 5), (3, 2, 1, 1, 4), (1, 2, 3, 4, 4)):
        x = rng.normal(size=(N, C_in, H, H + 1))
        layer = Conv2d(C_in, C_out, k, rng=rng, dtype=np.float64, fast=fast)
        layer.b[:] = rng.normal(size=C_out)
        z = layer(x)
        dout = rng.normal(size=z.shape)
        dx = layer.backward(dout)
        dx_loops, dW_loops, db_loops = pl.conv_gradients_loops(x, layer.W, dout)
        np.testing.assert_allclose(dx, dx_loops, atol=1e-12)
        np.testing.assert_allclose(layer.grads["W"], dW_loops, atol=1e-12)
        np.testing.assert_allclose(layer.grads["b"], db_loops, atol=1e-12)
        xt = torch.tensor(x, requires_grad=True)
        Wt = torch.tensor(layer.W.copy(), requires_grad=True)
        bt = torch.tensor(layer.b.copy(), requires_grad=True)
        (torch.nn.functional.conv2d(xt, Wt, bt) * torch.tensor(dout)).sum().backward()
        np.testing.assert_allclose(xt.grad.numpy(), dx_loops, atol=1e-12)
        np.testing.assert_allclose(Wt.grad.numpy(), dW_loops, atol=1e-12)
        np.testing.assert_allclose(bt.grad.numpy(), db_loops, atol=1e-12)

        def L(layer=layer, x=x, dout=dout):
            return float(np.sum(layer(x) * dout))

        np.testing.assert_allclose(gradcheck.numerical_gradient(L, x), dx_loops, atol=1e-8)
        np.testing.assert_allclose(gradcheck.numerical_gradient(L, layer.W), dW_loops, atol=1e-8)
        np.testing.assert_allclose(gradcheck.numerical_gradient(L, layer.b), db_loops, atol=1e-8)


# ----------------------------------------------------------------------------- the lesson
def test_routing_lesson_follows_the_grid_window_and_stride():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = pl.maxpool_routing()
    _, ax_out, ax_dx = lesson.figure.axes
    dx_image = ax_dx.images[0]
    np.testing.assert_array_equal(dx_image.get_array(), pl.routing(pl.DEFAULT_GRID, 2, 2)["routed"])
    assert "window (1, 1) has a tie: 2 entries equal its maximum" in lesson.text
    assert "PyTorch picks the same one" in lesson.text
    grid = np.array([[1.0, 9.0, 2.0], [3.0, 4.0, 0.0], [8.0, 1.0, 7.0]])
    lesson.set(grid=pl._grid_text(grid), window=2, stride=1)
    r = pl.routing(grid, 2, 1)
    np.testing.assert_array_equal(r["dx"], [[0, 3, 0], [0, 0, 0], [3, 0, 4]])  # 9 wins windows 1 and 2
    np.testing.assert_array_equal(dx_image.get_array(), r["dx"] != 0)
    assert ax_dx.images[0].get_extent() == [-0.5, 2.5, 2.5, -0.5]
    assert ax_out.images[0].get_extent() == [-0.5, 1.5, 1.5, -0.5]
    texts = {t.get_text() for t in ax_dx.texts if t.get_text()}
    assert texts == {"0", "3", "4"}
    assert "no window has a tie" in lesson.text
    lesson.set(window=3, stride=1)
    assert pl.routing(grid, 3, 1)["dx"][0, 1] == 1.0 and ax_out.images[0].get_extent() == [
        -0.5,
        0.5,
        0.5,
        -0.5,
    ]
    lesson.set(grid="1 2\n3")
    assert "every row as long as the first; got rows of lengths [2, 1]" in lesson.text
    lesson.set(grid="1 2 x\n1 2 3")
    assert "expected numbers in the grid (like 1 or -2.5); got 'x'" in lesson.text
    lesson.set(grid="1 2\n3 4")
    assert "at least as large as its 3x3 window; got 2x2" in lesson.text
    with pytest.raises(ValueError, match="2 to 6 rows and columns; got 7x2"):
        pl.parse_grid("\n".join(["1 2"] * 7))


def test_static_routing_figure_has_both_strides():
    pytest.importorskip("matplotlib")
    fig = pl.routing_figure()
    titles = [ax.get_title() for ax in fig.axes]
    assert (
        "input a (4x4), windows 2x2, stride 2" in titles and "input a (4x4), windows 2x2, stride 1" in titles
    )
    assert "max-pool s (3x3)" in titles
    assert all(ax.get_xlim() == (-0.5, 3.5) for ax in fig.axes)  # the 4x4 grid fills its panel
    assert "∂L/∂a: each ∂L/∂s routed to its maximum" in titles  # the book's notation: no δ for ∂L/∂s
