"""Convolution and pooling: gradients, the loop reference, the max-pool tie rule, PyTorch parity, messages."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nnlab.gradcheck import check_module
from nnlab.np_nn import Flatten, Linear, ReLU, Sequential
from nnlab.np_nn.conv import AvgPool2d, Conv2d, MaxPool2d, conv2d_naive

# Largest relative error between backward and centred differences (float64). Every layer here is
# linear (max-pool piecewise) in each array, so the centred difference has no truncation error and
# h = 1e-5 keeps its roundoff near 1e-8; with h = 1e-6 some entries reach 5e-7.
TOL, H = 1e-6, 1e-5
PARITY = {"rtol": 1e-5, "atol": 1e-5}  # NumPy against PyTorch in float32

CONVS = {
    "3x3": (lambda: Conv2d(3, 4, 3, rng=0, bias_init="normal"), (2, 3, 7, 7)),
    "stride2-pad1": (lambda: Conv2d(3, 4, 3, stride=2, padding=1, rng=1, bias_init="normal"), (2, 3, 7, 8)),
    "rect-kernel": (lambda: Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(1, 0), rng=2), (3, 2, 6, 5)),
    "1x1": (lambda: Conv2d(4, 2, 1, rng=3), (2, 4, 3, 3)),
    "kernel=input": (lambda: Conv2d(1, 2, 5, rng=4), (2, 1, 5, 5)),
}
POOLS = {
    "max2": (lambda: MaxPool2d(2), (2, 3, 6, 6)),
    "max3-stride2-overlap": (lambda: MaxPool2d(3, stride=2), (2, 3, 7, 8)),
    "max-rect-odd": (lambda: MaxPool2d((2, 3), stride=(1, 2)), (2, 2, 5, 7)),
    "avg2": (lambda: AvgPool2d(2), (2, 3, 6, 6)),
    "avg2-odd-size": (lambda: AvgPool2d(2), (2, 3, 5, 7)),
    "avg3-stride1": (lambda: AvgPool2d(3, stride=1), (2, 3, 6, 5)),
}


def _distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values at least 0.01 apart, so no window of a max-pool has a near-tie that h could flip."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.01 - n * 0.005).reshape(shape)


# -- gradients --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CONVS)
def test_conv2d_gradients_match_finite_differences(name, rng):
    make, shape = CONVS[name]
    conv = make()
    result = check_module(conv, rng.normal(size=shape), rng=7, h=H)
    assert set(result.errors) == {"x", "W", "b"}
    assert result.max_error < TOL, f"{name}:\n{result}"
    assert conv.W.dtype == np.float32  # the check ran on a float64 copy


@pytest.mark.parametrize("name", POOLS)
def test_pool_gradients_match_finite_differences(name, rng):
    make, shape = POOLS[name]
    result = check_module(make(), _distinct(rng, shape), rng=7, h=H)
    assert result.max_error < TOL, f"{name}:\n{result}"


def test_lenet_shaped_stack_gradients(rng):
    net = Sequential(Conv2d(1, 2, 3, rng=0), AvgPool2d(2), Conv2d(2, 3, 2, padding=1, rng=1), MaxPool2d(2))
    result = check_module(net, rng.normal(size=(2, 1, 8, 8)), rng=3, h=H)
    assert result.max_error < TOL, str(result)


def test_backward_always_returns_a_fresh_dx_and_overwrites_grads(rng):
    """backward gives dx every time, never accumulates into grads, and dx and grads are the caller's to keep."""
    for fast in (False, True):
        conv = Conv2d(2, 3, 3, rng=0, fast=fast)
        x, dout = rng.normal(size=(4, 2, 6, 6)), rng.normal(size=(4, 3, 4, 4))
        conv(x)
        dx = conv.backward(dout)
        dx0 = dx.copy()
        full = {k: g.copy() for k, g in conv.grads.items()}
        conv.grads["W"].fill(7.0)  # overwritten, not accumulated
        assert conv.backward(dout).shape == x.shape
        for k in full:
            np.testing.assert_array_equal(conv.grads[k], full[k])
        np.testing.assert_array_equal(dx, dx0)  # the second backward left the first dx alone
        saved = dict(conv.grads)  # references to this step's gradients
        conv(x)
        conv.backward(2 * dout)  # another step: new arrays, the saved ones keep their values
        for k in full:
            np.testing.assert_array_equal(saved[k], full[k], err_msg=f"fast={fast} {k}")
            np.testing.assert_allclose(conv.grads[k], 2 * full[k], rtol=1e-6, err_msg=f"fast={fast} {k}")


@pytest.mark.parametrize("fast", [False, True])
def test_saliency_maps_image_by_image_are_not_overwritten(fast):
    """Regression: a batch of one without padding made the fast dx a view of a kept buffer."""
    net = Sequential(Conv2d(1, 2, 3, rng=0, dtype=np.float64, fast=fast), ReLU(), Flatten(),
                     Linear(18, 1, rng=0, dtype=np.float64))  # fmt: skip
    images = np.random.default_rng(1).normal(size=(3, 1, 1, 5, 5))
    maps = []
    for img in images:
        net(img)
        maps.append(net.backward(np.ones((1, 1))))
    assert not np.shares_memory(maps[0], maps[2])
    for img, saliency in zip(images, maps):  # each map is still the one computed for its own image
        net(img)
        np.testing.assert_array_equal(net.backward(np.ones((1, 1))), saliency)
    assert not np.allclose(maps[0], maps[2])


def test_fast_work_buffers_follow_batch_size_and_dtype(rng):
    """The fast Conv2d keeps its im2col buffers between calls; a new batch size or dtype must not reuse stale ones."""
    conv = Conv2d(2, 3, 3, padding=1, rng=0, dtype=np.float64, fast=True)
    ref = copy.deepcopy(conv)
    plain = copy.deepcopy(conv)
    plain.fast = False
    for n in (5, 2, 5):
        x, dout = rng.normal(size=(n, 2, 6, 6)), rng.normal(size=(n, 3, 6, 6))
        conv(rng.normal(size=(n + 1, 2, 6, 6)))  # a different batch first: buffers resized
        out, out_ref = conv(x), conv2d_naive(x, ref.W, ref.b, padding=1)
        np.testing.assert_allclose(out, out_ref, rtol=1e-12, atol=1e-12)
        dx = conv.backward(dout)
        plain(x)
        np.testing.assert_allclose(dx, plain.backward(dout), rtol=0, atol=1e-10, err_msg=f"dx, n={n}")
        for name in ("W", "b"):
            np.testing.assert_allclose(
                conv.grads[name], plain.grads[name], rtol=0, atol=1e-10, err_msg=f"{name}, n={n}"
            )
    conv.astype(np.float32)
    assert conv(np.ones((1, 2, 6, 6))).dtype == np.float32


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), (2, 0)), (3, 2), ((2, 3), (0, 1))])
@pytest.mark.parametrize("n", [1, 3])
def test_fast_plain_and_naive_convolutions_agree(stride, padding, n, rng):
    """Forward, dx, dW and db of the fast path equal the plain im2col's to 1e-10 in float64; outputs equal the loops'."""
    plain = Conv2d(3, 4, (3, 2), stride=stride, padding=padding, rng=5, bias_init="normal", dtype=np.float64)
    fast = copy.deepcopy(plain)
    fast.fast = True
    x = rng.normal(size=(n, 3, 7, 6))
    out = plain(x)
    np.testing.assert_allclose(fast(x), out, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out, conv2d_naive(x, plain.W, plain.b, stride, padding), rtol=0, atol=1e-10)
    dout = rng.normal(size=out.shape)
    np.testing.assert_allclose(fast.backward(dout), plain.backward(dout), rtol=0, atol=1e-10)
    for name in ("W", "b"):
        np.testing.assert_allclose(fast.grads[name], plain.grads[name], rtol=0, atol=1e-10, err_msg=name)
    assert repr(fast) == repr(plain)  # the same layer; only the speed differs


def test_empty_batches_pass_through_conv_and_flatten():
    """Regression: a batch of zero examples crashed Conv2d and Flatten (a reshape with -1), as in PyTorch it does not."""
    for fast in (False, True):
        net = Sequential(Conv2d(1, 2, 3, rng=0, fast=fast), MaxPool2d(2), Flatten(), Linear(8, 3, rng=0))
        out = net(np.zeros((0, 1, 6, 6)))
        assert out.shape == (0, 3)
        assert net.backward(np.zeros((0, 3))).shape == (0, 1, 6, 6)
        assert net.grads["0.W"].shape == (2, 1, 3, 3) and not net.grads["0.W"].any()


# -- the loop reference -----------------------------------------------------------------------------
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), (2, 0)), (3, 2)])
def test_conv2d_equals_the_naive_loops(stride, padding, rng):
    conv = Conv2d(3, 4, (3, 2), stride=stride, padding=padding, rng=5, bias_init="normal", dtype=np.float64)
    x = rng.normal(size=(2, 3, 7, 6))
    np.testing.assert_allclose(
        conv(x), conv2d_naive(x, conv.W, conv.b, stride, padding), rtol=1e-12, atol=1e-12
    )


def test_naive_conv_is_the_seeds_formula_on_a_small_example():
    """S(i, j) = I(i, j)K(0, 0) + I(i + 1, j)K(1, 0) + I(i, j + 1)K(0, 1) + I(i + 1, j + 1)K(1, 1)."""
    I = np.arange(12.0).reshape(3, 4)
    K = np.array([[1.0, 2.0], [3.0, 4.0]])
    S = np.array([[I[i, j] * K[0, 0] + I[i + 1, j] * K[1, 0] + I[i, j + 1] * K[0, 1] + I[i + 1, j + 1] * K[1, 1]
                   for j in range(3)] for i in range(2)])  # fmt: skip
    np.testing.assert_array_equal(conv2d_naive(I[None, None], K[None, None], np.zeros(1))[0, 0], S)
    conv = Conv2d(1, 1, 2, dtype=np.float64)
    conv.W[...] = K
    np.testing.assert_array_equal(conv(I[None, None])[0, 0], S)


def test_padding_and_stride_output_sizes():
    assert Conv2d(1, 6, 5, padding=2)(np.zeros((1, 1, 28, 28))).shape == (1, 6, 28, 28)  # "same" size
    assert Conv2d(1, 1, 3, stride=2)(np.zeros((1, 1, 8, 8))).shape == (1, 1, 3, 3)  # (8 - 3) // 2 + 1
    assert MaxPool2d(2)(np.zeros((1, 1, 5, 7))).shape == (1, 1, 2, 3)  # a last odd row/column is dropped


# -- max-pool: the indicator formula and the tie rule -----------------------------------------------
def test_maxpool_backward_is_the_seeds_indicator():
    """Each upstream gradient goes to its window's argmax, every other input gets 0."""
    x = np.array([[1.0, 5.0, 2.0, 0.0],
                  [3.0, 4.0, 7.0, 1.0],
                  [0.0, 2.0, 3.0, 9.0],
                  [8.0, 1.0, 4.0, 6.0]])[None, None]  # fmt: skip
    pool = MaxPool2d(2)
    np.testing.assert_array_equal(pool(x)[0, 0], [[5.0, 7.0], [8.0, 9.0]])
    dx = pool.backward(np.array([[10.0, 20.0], [30.0, 40.0]])[None, None])
    expected = np.array([[0.0, 10.0, 0.0, 0.0],
                         [0.0, 0.0, 20.0, 0.0],
                         [0.0, 0.0, 0.0, 40.0],
                         [30.0, 0.0, 0.0, 0.0]])  # fmt: skip
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_maxpool_ties_send_the_gradient_to_the_first_maximum_in_row_major_order():
    pool = MaxPool2d(2)
    cases = {  # window -> where the whole gradient must go
        ((1.0, 1.0), (1.0, 1.0)): (0, 0),  # all equal: the top-left entry
        ((0.0, 2.0), (2.0, 2.0)): (0, 1),  # three tied: the first in the top row
        ((0.0, 0.0), (3.0, 3.0)): (1, 0),  # tied in the bottom row: the left one
    }
    for window, first in cases.items():
        pool(np.array(window)[None, None])
        dx = pool.backward(np.full((1, 1, 1, 1), 5.0))[0, 0]
        expected = np.zeros((2, 2))
        expected[first] = 5.0
        np.testing.assert_array_equal(dx, expected, err_msg=str(window))


def test_overlapping_max_windows_add_their_gradients():
    pool = MaxPool2d(2, stride=1)
    x = np.array([[0.0, 0.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]])[None, None]
    pool(x)
    dx = pool.backward(np.array([[1.0, 2.0], [3.0, 4.0]])[None, None])[0, 0]
    assert dx[1, 1] == 10.0 and dx.sum() == 10.0  # the centre is the maximum of all four windows


# -- PyTorch parity ---------------------------------------------------------------------------------
def _torch_grads(torch_layer, x: np.ndarray, dout: np.ndarray):
    import torch

    xt = torch.from_numpy(x).requires_grad_()
    out = torch_layer(xt)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("name", ["3x3", "stride2-pad1", "rect-kernel"])
def test_conv2d_matches_pytorch_in_float32(name, rng):
    torch = pytest.importorskip("torch")
    from nnlab.torch_nn.conv import Conv2d as TorchConv2d

    make, shape = CONVS[name]
    conv = make()
    twin = TorchConv2d(
        conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, device="cpu"
    )
    twin.W.data[:] = torch.from_numpy(conv.params["W"])
    twin.b.data[:] = torch.from_numpy(conv.params["b"])
    x = rng.normal(size=shape).astype(np.float32)
    out = conv(x)
    dout = rng.normal(size=out.shape).astype(np.float32)
    dx = conv.backward(dout)
    out_t, dx_t = _torch_grads(twin, x, dout)
    np.testing.assert_allclose(out, out_t, **PARITY)
    np.testing.assert_allclose(dx, dx_t, **PARITY)
    np.testing.assert_allclose(conv.grads["W"], twin.W.grad.numpy(), **PARITY)
    np.testing.assert_allclose(conv.grads["b"], twin.b.grad.numpy(), **PARITY)
    assert out.dtype == dx.dtype == conv.grads["W"].dtype == np.float32


@pytest.mark.parametrize("name", POOLS)
def test_pools_match_pytorch_in_float32(name, rng):
    pytest.importorskip("torch")
    from nnlab.torch_nn import conv as tconv

    make, shape = POOLS[name]
    pool = make()
    twin = getattr(tconv, type(pool).__name__)(pool.kernel_size, pool.stride)
    x = rng.normal(size=shape).astype(np.float32)
    x[0, 0, :2, :2] = 1.5  # a tie, to check both pick the same maximum
    out = pool(x)
    dout = rng.normal(size=out.shape).astype(np.float32)
    out_t, dx_t = _torch_grads(twin, x, dout)
    np.testing.assert_allclose(out, out_t, **PARITY)
    np.testing.assert_allclose(pool.backward(dout), dx_t, **PARITY)


def test_torch_twin_starts_with_the_numpy_weights_and_accepts_numpy_input(rng):
    torch = pytest.importorskip("torch")
    from nnlab.torch_nn.conv import Conv2d as TorchConv2d

    conv, twin = Conv2d(1, 6, 5, rng=0), TorchConv2d(1, 6, 5, rng=0, device="cpu")
    np.testing.assert_array_equal(conv.W, twin.W.detach().numpy())
    np.testing.assert_array_equal(conv.b, twin.b.detach().numpy())
    assert repr(twin) == repr(conv) == "Conv2d(in_channels=1, out_channels=6, kernel_size=5)"
    x = rng.random((2, 1, 12, 12))  # float64 NumPy input: cast to the parameters' float32
    out = twin(x)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.detach().numpy(), conv(x), **PARITY)
    assert TorchConv2d(1, 2, 3, dtype=torch.float64, device="cpu").W.dtype == torch.float64
    assert TorchConv2d(1, 2, 3, dtype=np.float64, device="cpu").b.dtype == torch.float64


# -- messages ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape, message",
    [
        (
            (8, 1, 28, 28),
            r"Conv2d expected x of shape \(N, 3, H, W\); got \(8, 1, 28, 28\)\. The input has 1",
        ),
        ((8, 28, 28, 3), r"got \(8, 28, 28, 3\)\. Channels come first here.*x\.transpose\(0, 3, 1, 2\)"),
        ((3, 28, 28), r"got \(3, 28, 28\)\. A single image needs a batch axis: use x\[None\]"),
    ],
)
def test_conv2d_wrong_input_shape_messages(shape, message):
    with pytest.raises(ValueError, match=message):
        Conv2d(3, 4, 3)(np.zeros(shape))


def test_conv2d_hints_for_one_channel_images():
    with pytest.raises(ValueError, match=r"got \(8, 28, 28\)\. .*channel axis: use x\[:, None\]"):
        Conv2d(1, 6, 5)(np.zeros((8, 28, 28)))
    with pytest.raises(ValueError, match=r"got \(8, 784\)\. .*x\.reshape\(-1, 1, 28, 28\)"):
        Conv2d(1, 6, 5)(np.zeros((8, 784)))


def test_input_smaller_than_the_kernel_names_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"Conv2d expected images at least as large as its 5x5 window; got x of "
        r"shape \(8, 1, 4, 4\) for W of shape \(6, 1, 5, 5\)\. Use padding",
    ):
        Conv2d(1, 6, 5)(np.zeros((8, 1, 4, 4)))
    Conv2d(1, 6, 5, padding=1)(np.zeros((8, 1, 4, 4)))  # padding makes it fit: 4 + 2 >= 5
    with pytest.raises(ValueError, match=r"\(with padding 1\); got x of shape \(8, 1, 2, 2\)"):
        Conv2d(1, 6, 5, padding=1)(np.zeros((8, 1, 2, 2)))
    with pytest.raises(
        ValueError,
        match=r"MaxPool2d expected images at least as large as its 2x3 window; got x"
        r" of shape \(1, 6, 1, 5\) for a window of shape \(2, 3\)",
    ):
        MaxPool2d((2, 3))(np.zeros((1, 6, 1, 5)))
    with pytest.raises(ValueError, match=r"AvgPool2d expected x of shape \(N, C, H, W\); got \(6, 4, 4\)"):
        AvgPool2d(2)(np.zeros((6, 4, 4)))
    with pytest.raises(
        ValueError, match=r"conv2d_naive expected x of shape \(N, 2, H, W\); got \(1, 3, 4, 4\)"
    ):
        conv2d_naive(np.zeros((1, 3, 4, 4)), np.zeros((1, 2, 3, 3)), np.zeros(1))


def test_torch_twins_say_the_same_sentences():
    pytest.importorskip("torch")
    from nnlab.torch_nn import conv as tconv

    with pytest.raises(ValueError, match=r"Conv2d expected x of shape \(N, 3, H, W\); got \(8, 1, 28, 28\)"):
        tconv.Conv2d(3, 4, 3, device="cpu")(np.zeros((8, 1, 28, 28)))
    with pytest.raises(ValueError, match=r"got x of shape \(8, 1, 4, 4\) for W of shape \(6, 1, 5, 5\)"):
        tconv.Conv2d(1, 6, 5, device="cpu")(np.zeros((8, 1, 4, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"MaxPool2d expected images at least as large as its 2x2 window"):
        tconv.MaxPool2d(2)(np.zeros((1, 1, 1, 4)))
    with pytest.raises(ValueError, match=r"Conv2d expected dtype to be a float type"):
        tconv.Conv2d(1, 2, 3, dtype="int32")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Conv2d(0, 6, 5), r"Conv2d expected in_channels to be a positive integer; got 0\."),
        (lambda: Conv2d(1, 6, 0), r"Conv2d expected kernel_size to be positive; got 0\."),
        (lambda: Conv2d(1, 6, (5, 5, 5)), r"expected kernel_size as an int or an \(h, w\) pair of ints"),
        (lambda: Conv2d(1, 6, 5, padding=-1), r"Conv2d expected padding to be non-negative; got -1\."),
        (
            lambda: Conv2d(1, 6, 5, stride=1.5),
            r"expected stride as an int or an \(h, w\) pair of ints; got 1\.5",
        ),
        (lambda: MaxPool2d(2, stride=0), r"MaxPool2d expected stride to be positive; got 0\."),
        (lambda: Conv2d(1, 6, 5, init="gaussian"), r"Conv2d expected init to be one of"),
    ],
)
def test_constructor_messages(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_backward_before_forward_and_wrong_dout_shape():
    for layer in (Conv2d(1, 2, 3), MaxPool2d(2), AvgPool2d(2)):
        with pytest.raises(ValueError, match=r"backward was called before forward"):
            layer.backward(np.zeros((1, 2, 2, 2)))
    conv = Conv2d(1, 2, 3)
    conv(np.zeros((4, 1, 6, 6)))
    with pytest.raises(ValueError, match=r"backward expected dout of shape \(4, 2, 4, 4\)"):
        conv.backward(np.zeros((4, 2, 6, 6)))


def test_reprs_show_the_settings():
    assert repr(Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2))) == (
        "Conv2d(in_channels=3, out_channels=8, kernel_size=(3, 5), stride=2, padding=(1, 2))"
    )
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2)"
    assert repr(AvgPool2d(3, stride=1)) == "AvgPool2d(kernel_size=3, stride=1)"
