"""nnlab.bridge: weights cross between the paths, and compare() proves "your backprop = autograd"."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nnlab  # noqa: E402
from nnlab import bridge, np_nn, torch_nn  # noqa: E402


@pytest.fixture(autouse=True)
def _cpu(monkeypatch):
    monkeypatch.setenv("NNLAB_DEVICE", "cpu")


def _mlp(path, dtype=np.float64, seed=0):
    return path.Sequential(
        path.Linear(4, 6, rng=seed, dtype=dtype), path.Tanh(), path.Linear(6, 5, rng=seed + 1, dtype=dtype),
        path.PReLU(5, dtype=dtype), path.Linear(5, 3, rng=seed + 2, dtype=dtype),
    )  # fmt: skip


def test_copy_weights_numpy_to_torch_and_back():
    a, b = _mlp(np_nn, seed=0), _mlp(torch_nn, seed=10)
    assert bridge.copy_weights(a, b) is b
    for k, v in a.params.items():
        assert np.array_equal(b.params[k].detach().numpy(), v)
    with torch.no_grad():
        b.params["2.W"].mul_(2)
    bridge.copy_weights(b, a)
    assert np.array_equal(a.params["2.W"], b.params["2.W"].detach().numpy())
    assert not np.shares_memory(a.params["0.W"], b.params["0.W"].detach().numpy())


def test_copy_weights_casts_to_the_destination_dtype():
    a, b = _mlp(np_nn, np.float64), _mlp(torch_nn, np.float32, seed=3)
    bridge.copy_weights(a, b)
    assert b.dtype == torch.float32
    np.testing.assert_allclose(b.params["0.W"].detach().numpy(), a.params["0.W"], rtol=1e-6)
    bridge.copy_weights(b, a)
    assert a.params["0.W"].dtype == np.float64


def test_copy_weights_names_the_first_mismatch():
    with pytest.raises(ValueError) as info:
        bridge.copy_weights(_mlp(np_nn), torch_nn.Sequential(torch_nn.Linear(4, 6), torch_nn.Linear(6, 5)))
    assert str(info.value) == (
        "copy_weights expected the same parameter names in both models; the NumPy model (src) has '2.W'"
        " where the PyTorch model (dst) has '1.W'. Build both with the same layers in the same order."
    )
    with pytest.raises(ValueError, match=r"the PyTorch model \(dst\) has no more"):
        bridge.copy_weights(_mlp(np_nn), torch_nn.Sequential(torch_nn.Linear(4, 6)))
    with pytest.raises(ValueError) as info:
        bridge.copy_weights(np_nn.Linear(4, 3), torch_nn.Linear(3, 4))
    assert str(info.value) == (
        "copy_weights expected parameter 'W' to have the same shape in both models; the NumPy model (src)"
        " has (3, 4), the PyTorch model (dst) (4, 3)."
    )
    with pytest.raises(ValueError, match=r"expected an nnlab\.np_nn or a torch model; got dict"):
        bridge.copy_weights({}, torch_nn.Linear(3, 4))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_compare_says_the_paths_agree(dtype):
    net = _mlp(np_nn, dtype)
    x = np.random.default_rng(0).normal(size=(7, 4))
    result = bridge.compare(net, bridge.twin(net), x)
    assert result.passed() and result.dtype == np.dtype(dtype).name
    assert list(result.grads) == ["0.W", "0.b", "2.W", "2.b", "3.a", "4.W", "4.b"]
    assert result.max_difference < (1e-10 if dtype == np.float64 else 1e-5)
    text = str(result)
    assert text.splitlines()[0].strip() == "max |NumPy - PyTorch|"
    assert "dL/d3.a" in text and text.endswith(
        f"agree within {result.tolerance():.0e} ({np.dtype(dtype).name})."
    )


def test_compare_catches_a_wrong_backward():
    class HalfGradTanh(np_nn.Tanh):
        def backward(self, dout):
            return 0.5 * super().backward(dout)

    net = _mlp(np_nn)
    twin = bridge.twin(net)
    net.modules[1] = HalfGradTanh()
    result = bridge.compare(net, twin, np.random.default_rng(0).normal(size=(7, 4)))
    assert result.output < 1e-12 and result.grads["2.W"] < 1e-12  # above the broken layer all is well
    assert result.grads["0.W"] > 1e-3 and result.input_grad > 1e-3
    assert not result.passed() and "DIFFER" in str(result)


def test_compare_with_a_given_upstream_gradient_and_a_layer_without_parameters():
    x = np.random.default_rng(1).normal(size=(3, 5))
    result = bridge.compare(np_nn.Softmax(), torch_nn.Softmax(), x, dout=np.ones((3, 5)))
    assert result.grads == {} and result.passed()
    assert result.input_grad < 1e-15  # softmax rows sum to 1, so an all-ones dout gives zero gradient


def test_compare_refuses_dropout_in_training_mode():
    np_net = np_nn.Sequential(np_nn.Linear(3, 3, rng=0, dtype=np.float64), np_nn.Dropout(0.5, rng=0))
    torch_net = bridge.twin(np_net)
    with pytest.raises(
        ValueError, match=r"Dropout in training mode in the NumPy model.*Call eval\(\) on both"
    ):
        bridge.compare(np_net, torch_net, np.ones((2, 3)))
    assert bridge.compare(np_net.eval(), torch_net.eval(), np.ones((2, 3))).passed()


def test_twin_goes_both_ways_with_mode_dtype_and_losses():
    net = np_nn.Sequential(
        np_nn.Flatten(), np_nn.Linear(8, 4, rng=0), np_nn.LeakyReLU(0.2), np_nn.Dropout(0.3, inverted=False),
        np_nn.Linear(4, 2, rng=1), np_nn.Sigmoid(),
    ).eval()  # fmt: skip
    torch_net = bridge.twin(net)
    assert isinstance(torch_net, torch_nn.Sequential) and not torch_net.training
    assert repr(torch_net) == repr(net) and torch_net.dtype == torch.float32
    back = bridge.twin(torch_net)
    assert isinstance(back, np_nn.Sequential) and repr(back) == repr(net) and back.dtype == np.float32
    assert all(np.array_equal(back.params[k], v) for k, v in net.params.items())
    x = np.random.default_rng(0).normal(size=(3, 2, 4))
    np.testing.assert_allclose(torch_net(x).detach().numpy(), net(x), rtol=1e-6)
    for loss in (np_nn.MSELoss("mean"), np_nn.CrossEntropyLoss(), np_nn.BCELoss()):
        assert repr(bridge.twin(loss)) == repr(loss)
    perceptron = bridge.twin(np_nn.Perceptron(3, output="sign", rng=0))
    assert isinstance(perceptron, torch_nn.Perceptron) and perceptron.output == "sign"


def test_twin_knows_the_convolution_layers():
    from nnlab.np_nn import conv

    pytest.importorskip("nnlab.torch_nn.conv")  # written alongside, by the Conv2d developer
    net = np_nn.Sequential(
        conv.Conv2d(1, 3, (3, 2), stride=1, padding=1, rng=0, dtype=np.float64), np_nn.ReLU(),
        conv.MaxPool2d(2), conv.AvgPool2d(2, stride=1), np_nn.Flatten(), np_nn.Linear(3, 2, rng=1, dtype=np.float64),
    )  # fmt: skip
    torch_net = bridge.twin(net)
    assert repr(torch_net) == repr(net) and torch_net.dtype == torch.float64
    x = np.random.default_rng(0).normal(size=(2, 1, 5, 4))
    assert bridge.compare(net, torch_net, x).passed()
    back = bridge.twin(torch_net)
    assert repr(back) == repr(net) and all(np.array_equal(back.params[k], v) for k, v in net.params.items())


def test_twin_refuses_what_it_does_not_know():
    with pytest.raises(
        ValueError, match=r"twin does not know how to build a twin of torch\.nn\.modules\.activation\.GELU"
    ):
        bridge.twin(torch_nn.Sequential(torch.nn.GELU()))
    with pytest.raises(ValueError, match=r"expected an nnlab\.np_nn or nnlab\.torch_nn model; got list"):
        bridge.twin([])


def test_bridge_and_device_are_reached_from_the_package():
    assert nnlab.bridge is bridge
    assert nnlab.device() == torch.device("cpu")
    assert {"bridge", "device"} <= set(dir(nnlab))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nnlab.nope  # noqa: B018
