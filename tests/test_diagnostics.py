"""fit's diagnostics, on both paths: each problem provoked by a training run, and healthy runs that stay quiet.

Every test runs on the NumPy path and on the PyTorch path on the CPU; the ``gpu`` ones also on CUDA
when there is one. Book-like runs (the lectures' tables, a small MLP on 8x8 digits) must not warn.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nnlab
from nnlab import data, np_nn
from nnlab.diagnostics import TrainingWarning, check_inputs

torch = pytest.importorskip("torch")
from nnlab import torch_nn  # noqa: E402

PATHS = ["numpy", "torch", pytest.param("cuda", marks=pytest.mark.gpu)]


class Path:
    """One path's classes, with every Linear placed on the path's device."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.nn = np_nn if name == "numpy" else torch_nn
        self.kw = {} if name == "numpy" else {"device": "cuda" if name == "cuda" else "cpu"}

    def __getattr__(self, attr: str):
        return getattr(self.nn, attr)

    def Linear(self, *args, **kwargs):
        return self.nn.Linear(*args, **kwargs, **self.kw)

    def fit(self, net, loss, opt, X, y, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = self.nn.fit(net, loss, opt, X, y, progress=False, rng=0, **kwargs)
        texts = [str(w.message) for w in caught if issubclass(w.category, TrainingWarning)]
        assert texts == history.warnings, "every warning is kept in the History, in order"
        return history, texts

    def weights(self, net) -> dict[str, np.ndarray]:
        if self.name == "numpy":
            return {k: v.copy() for k, v in net.params.items()}
        return {k: v.detach().cpu().numpy().copy() for k, v in net.named_parameters()}


@pytest.fixture(params=PATHS)
def path(request) -> Path:
    return Path(request.param)


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    pytest.importorskip("sklearn")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y = data.load_mnist("train", download=False, fallback="digits", data_dir="/nonexistent-nnlab")
    return X.reshape(len(X), -1), y


def _one(texts: list[str], start: str) -> str:
    found = [t for t in texts if t.startswith(start)]
    assert len(found) == 1, texts
    return found[0]


# -- divergence ------------------------------------------------------------------------------------
def test_a_huge_learning_rate_stops_fit_and_keeps_the_last_finite_weights(path):
    rng = np.random.default_rng(0)
    X, y = rng.random((512, 64)).astype(np.float32), rng.integers(0, 10, 512)
    net = path.Sequential(path.Linear(64, 32, rng=0), path.ReLU(), path.Linear(32, 10, rng=1))
    before = path.weights(net)
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=1e8), X, y, epochs=3)
    text = _one(texts, "fit stopped at epoch 1, step ")
    assert "The learning rate lr=1e+08 is too large" in text and "Try lr=1e+07, 10 times smaller" in text
    assert "Chapter 2, gradient descent" in text
    assert history.diverged and history.epochs == 1  # stopped: no second or third epoch
    for k, w in path.weights(net).items():
        np.testing.assert_array_equal(w, before[k])  # the weights from the start of epoch 1


def test_a_nan_loss_deep_in_an_epoch_stops_fit_with_finite_weights(path):
    """Sigmoid units and a squared loss blow up to NaN (on NumPy a layer then refuses the NaN input)."""
    rng = np.random.default_rng(0)
    X, y = rng.random((512, 64)).astype(np.float32), rng.integers(0, 10, 512)
    net = path.Sequential(path.Linear(64, 32, rng=0), path.Sigmoid(), path.Linear(32, 10, rng=1))
    history, texts = path.fit(net, path.MSELoss(), path.optim.SGD(net, lr=1e8), X, np.eye(10)[y], epochs=2)
    _one(texts, "fit stopped at epoch 1")
    assert history.diverged and all(np.isfinite(w).all() for w in path.weights(net).values())


def test_divergence_after_training_keeps_the_trained_weights():
    rng = np.random.default_rng(1)
    X, y = rng.random((256, 8)).astype(np.float32), rng.integers(0, 3, 256)
    net = np_nn.Sequential(np_nn.Linear(8, 16, rng=0), np_nn.ReLU(), np_nn.Linear(16, 3, rng=1))
    opt = np_nn.optim.SGD(net, lr=0.05)
    np_nn.fit(net, np_nn.CrossEntropyLoss(), opt, X, y, epochs=2, progress=False)
    trained = {k: v.copy() for k, v in net.params.items()}
    opt.lr = 1e9
    with pytest.warns(TrainingWarning, match=r"fit stopped at epoch 1, step 2: .* Try lr=1e\+08"):
        history = np_nn.fit(net, np_nn.CrossEntropyLoss(), opt, X, y, epochs=4, progress=False)
    assert history.epochs == 1
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, trained[k])


# -- saturation ------------------------------------------------------------------------------------
def _lectures_inputs(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """The lectures' example: 1000 inputs, half of them 1 and half 0."""
    rng = np.random.default_rng(0)
    X = (rng.random((n, 1000)) < 0.5).astype(np.float32)
    return X, (X[:, :10].sum(axis=1) > 5).astype(np.int64)


def test_n01_weights_with_1000_inputs_saturate_the_sigmoid_layer(path):
    X, y = _lectures_inputs()
    net = path.Sequential(
        path.Linear(1000, 30, init="normal", rng=0), path.Sigmoid(), path.Linear(30, 2, init="normal", rng=1)
    )
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X, y, epochs=2)
    text = _one(texts, "layer 1 (Sigmoid): ")
    share = float(text.split(": ")[1].split("%")[0]) / 100
    assert 0.6 < share < 0.95  # z has standard deviation √501 ≈ 22.4: P(|z| > 6) ≈ 0.79
    assert "|z| > 6" in text and "before training" in text and "Chapter 4, saturation" in text
    assert 'init="xavier"' in text
    assert len(history.saturated["1"]) == 2 and history.saturated["1"][0] > 0.5


def test_xavier_weights_with_1000_inputs_do_not_saturate(path):
    X, y = _lectures_inputs()
    net = path.Sequential(
        path.Linear(1000, 30, init="xavier", rng=0), path.Sigmoid(), path.Linear(30, 2, init="xavier", rng=1)
    )
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X, y, epochs=2)
    assert texts == [] and max(history.saturated["1"]) < 0.05


def test_tanh_saturation_is_judged_at_its_own_threshold(path):
    X, y = _lectures_inputs(200)
    net = path.Sequential(
        path.Linear(1000, 20, init="normal", rng=0), path.Tanh(), path.Linear(20, 2, init="xavier", rng=1)
    )
    _, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.01), X, y, epochs=1)
    assert "the tanh's derivative is below 1% of its peak (|z| > 3)" in _one(texts, "layer 1 (Tanh): ")


# -- gradients -------------------------------------------------------------------------------------
def test_six_sigmoid_layers_make_the_gradients_vanish(path, digits):
    X, y = digits
    layers = []
    for i in range(6):
        layers += [path.Linear(64, 64, init="xavier", rng=i), path.Sigmoid()]
    net = path.Sequential(*layers, path.Linear(64, 10, init="xavier", rng=99))
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X, y, epochs=1)
    text = _one(texts, "the gradients vanish: the gradient norm is ")
    assert (
        "at the first layer, layer 0 (Linear), against " in text
        and "at the last, layer 12 (Linear): " in text
    )
    assert "Chapter 3, backpropagation" in text
    norms = [history.grad_norm[k][-1] for k in history.grad_norm]
    assert norms[0] < norms[-1] / 100 and list(history.grad_norm) == [str(i) for i in range(0, 13, 2)]


def test_large_tanh_weights_make_the_gradients_explode(path, digits):
    X, y = digits
    layers = []
    for i in range(8):
        layer = path.Linear(64, 64, init="xavier", rng=i)
        with torch.no_grad():
            layer.W[...] *= 20  # tanh units pass a bounded signal forward, but the gradient is multiplied
        layers += [layer, path.Tanh()]
    net = path.Sequential(*layers, path.Linear(64, 10, init="xavier", rng=99))
    _, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.01), X, y, epochs=1)
    text = _one(texts, "the gradients explode: the gradient norm is ")
    assert 'init="xavier" for sigmoid and tanh' in text and "Chapter 3, backpropagation" in text


# -- dead ReLUs ------------------------------------------------------------------------------------
def test_negative_biases_kill_the_relus_before_training(path, digits):
    X, y = digits
    net = path.Sequential(path.Linear(64, 100, init="he", rng=0), path.ReLU(), path.Linear(100, 10, rng=1))
    with torch.no_grad():
        net[0].b[...] = -3
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X, y, epochs=2)
    text = _one(texts, "layer 1 (ReLU): 100% of its 100 units output 0 on all 256 training examples before")
    assert "Fix: lower the learning rate (e.g. lr=0.01), or use LeakyReLU." in text
    assert "Chapter 4" in text and history.dead["1"] == [1.0, 1.0]


def test_a_too_large_learning_rate_kills_the_relus(path, digits):
    X, y = digits
    net = path.Sequential(path.Linear(64, 100, init="he", rng=0), path.ReLU(), path.Linear(100, 10, rng=1))
    history, texts = path.fit(
        net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=3.0), X, y, epochs=3, batch_size=32
    )
    assert "after epoch" in _one(texts, "layer 1 (ReLU): ")
    assert history.dead["1"][-1] > 0.5 and history.train_acc[-1] < 0.5


def _conv_net(path, bias: float):
    kw = {} if path.name == "numpy" else path.kw
    conv = path.Conv2d(1, 8, 3, init="he", rng=0, **kw)
    with torch.no_grad():
        conv.b[...] = bias
    return path.Sequential(conv, path.ReLU(), path.Flatten(), path.Linear(8 * 6 * 6, 10, rng=1))


@pytest.mark.parametrize(("bias", "dead"), [(0.0, False), (-20.0, True)])
def test_dead_relus_after_a_convolution_are_counted_by_channel(path, digits, bias, dead):
    """The blank border of a digit gives 0 at some positions of every channel: a channel is dead only
    where it gives 0 everywhere, on every image."""
    X, y = digits
    net = _conv_net(path, bias)
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.05), X.reshape(-1, 1, 8, 8), y,
                              epochs=2)  # fmt: skip
    if dead:
        assert "of its 8 units output 0 on all 256 training examples before training" in _one(
            texts, "layer 1 (ReLU)"
        )
    else:
        assert texts == [] and history.dead["1"] == [0.0, 0.0]


# -- unscaled inputs -------------------------------------------------------------------------------
def test_raw_pixel_values_are_reported(path, digits):
    X, y = digits
    net = path.Sequential(path.Linear(64, 32, init="he", rng=0), path.ReLU(), path.Linear(32, 10, rng=1))
    _, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.01), np.round(X * 255), y,
                        epochs=1)  # fmt: skip
    text = _one(texts, "the training inputs X are whole numbers from 0 to 255: unscaled pixel intensities.")
    assert "X = X / 255" in text and "Chapter 4, saturation" in text


def test_features_on_wildly_different_scales_are_reported(path):
    X, y = data.pass_the_class(200, rng=0)
    X = X * np.array([1.0, 5000.0], dtype=np.float32)  # hours given in seconds-ish: 5,000 times larger
    net = path.Sequential(path.Linear(2, 4, rng=0), path.Tanh(), path.Linear(4, 2, rng=1))
    _, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=1e-6), X, y, epochs=1)
    text = _one(texts, "the features of the training inputs X have very different scales: feature 1 reaches")
    assert "X = (X - X.mean(axis=0)) / X.std(axis=0)" in text and "Chapter 2, gradient descent" in text


def test_check_inputs_on_its_own():
    assert check_inputs(np.random.default_rng(0).random((50, 784))) is None  # pixels in [0, 1]
    assert check_inputs(np.arange(40.0).reshape(20, 2)) is None  # two features on one scale
    assert check_inputs(np.c_[np.ones(10), np.full(10, 3e4)]).startswith("the features of")
    assert check_inputs(np.full((10, 2), 3e4)).startswith("the training inputs X reach 3e+04 (feature 0)")
    assert check_inputs(np.ones((10,))) is None  # one feature per example: nothing to compare


# -- healthy runs: no false alarms -----------------------------------------------------------------
@pytest.mark.parametrize(("activation", "init"), [("ReLU", "he"), ("Sigmoid", "xavier"), ("Tanh", "xavier")])
def test_a_small_mlp_on_digits_trains_without_warnings(path, digits, activation, init):
    X, y = digits
    net = path.Sequential(
        path.Linear(64, 100, init=init, rng=0),
        getattr(path, activation)(),
        path.Linear(100, 10, init=init, rng=1),
    )
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1, momentum=0.9), X, y,
                              epochs=8, batch_size=32, validation=(X[-200:], y[-200:]))  # fmt: skip
    assert texts == [] and history.train_acc[-1] > 0.95 and not history.diverged


def test_the_lectures_tables_train_without_warnings(path):
    X, Y = data.half_adder()  # the 2-3-2 sigmoid network of the lectures, N(0, 1) weights, squared loss
    net = path.Sequential(path.Linear(2, 3, init="normal", rng=2), path.Sigmoid(),
                          path.Linear(3, 2, init="normal", rng=3), path.Sigmoid())  # fmt: skip
    _, texts = path.fit(net, path.MSELoss(), path.optim.SGD(net, lr=2.0, momentum=0.9), X, Y, epochs=300,
                        batch_size=4)  # fmt: skip
    assert texts == []
    X, y = data.logic_gate("XOR")
    net = path.Sequential(path.Linear(2, 8, init="xavier", rng=0), path.Tanh(), path.Linear(8, 1, rng=1))
    history, texts = path.fit(net, path.BCEWithLogitsLoss(), path.optim.Adam(net, lr=0.05), X, y, epochs=300,
                              batch_size=4)  # fmt: skip
    assert texts == [] and history.train_acc[-1] == 1.0
    X, y = data.overfitting_table()  # a linear model, a regression target
    net = path.Linear(5, 1, rng=0)
    _, texts = path.fit(net, path.MSELoss(), path.optim.SGD(net, lr=0.01), X, y[:, None], epochs=50)
    assert texts == []
    X, y = data.pass_the_class(200, rng=0)  # lectures attended 0..10 and hours 0..10: unscaled but fine
    net = path.Sequential(path.Linear(2, 8, rng=0), path.ReLU(), path.Linear(8, 2, rng=1))
    _, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.01), X, y, epochs=20)
    assert texts == []


# -- the warnings themselves -----------------------------------------------------------------------
def test_one_warning_per_problem_per_fit_and_again_in_the_next_fit(path, digits):
    X, y = digits
    for _ in range(2):  # a second fit from the same line warns again (no once-per-line registry)
        net = path.Sequential(path.Linear(64, 50, rng=0), path.ReLU(), path.Linear(50, 10, rng=1))
        with torch.no_grad():
            net[0].b[...] = -3
        _, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X, y, epochs=3)
        assert sum(t.startswith("layer 1 (ReLU)") for t in texts) == 1


def test_the_warning_category_is_exported_and_can_be_silenced(digits):
    assert issubclass(nnlab.TrainingWarning, UserWarning) and nnlab.TrainingWarning is TrainingWarning
    X, y = digits
    net = np_nn.Sequential(np_nn.Linear(64, 10, rng=0), np_nn.ReLU(), np_nn.Linear(10, 10, rng=1))
    net[0].b[...] = -5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", TrainingWarning)
        history = np_nn.fit(
            net, np_nn.CrossEntropyLoss(), np_nn.optim.SGD(net), X, y, epochs=1, progress=False
        )
    assert history.warnings  # still recorded
    with pytest.warns(TrainingWarning) as caught:
        np_nn.fit(net, np_nn.CrossEntropyLoss(), np_nn.optim.SGD(net), X, y, epochs=1, progress=False)
    assert caught[0].filename == __file__  # points at the line that called fit


def test_diagnostics_false_turns_everything_off(path, digits):
    X, y = digits
    net = path.Sequential(path.Linear(64, 10, rng=0), path.ReLU(), path.Linear(10, 10, rng=1))
    with torch.no_grad():
        net[0].b[...] = -5
    history, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X * 255, y, epochs=1,
                              diagnostics=False)  # fmt: skip
    assert texts == [] and history.grad_norm == {} and history.dead == {}


def test_diagnostics_do_not_change_the_training(path, digits):
    """The probe runs in evaluation mode and draws no random numbers: same weights with and without."""
    X, y = digits
    results = []
    for diagnostics in (True, False):
        net = path.Sequential(path.Linear(64, 32, rng=0), path.ReLU(), path.Dropout(0.2, rng=5),
                              path.Linear(32, 10, rng=1))  # fmt: skip
        history, _ = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X, y, epochs=2,
                              diagnostics=diagnostics)  # fmt: skip
        results.append((path.weights(net), history.train_loss))
    (w1, loss1), (w2, loss2) = results
    assert loss1 == loss2
    for k in w1:
        np.testing.assert_array_equal(w1[k], w2[k])


def test_both_paths_record_the_same_figures():
    """One implementation: in float64, the NumPy and PyTorch paths see the same gradient norms and shares."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 6)), rng.integers(0, 3, 300)
    histories = []
    for nn in (np_nn, torch_nn):
        net = nn.Sequential(nn.Linear(6, 16, rng=0, dtype=np.float64), nn.Sigmoid(),
                            nn.Linear(16, 16, rng=1, dtype=np.float64), nn.ReLU(),
                            nn.Linear(16, 3, rng=2, dtype=np.float64))  # fmt: skip
        histories.append(nn.fit(net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.3), X, y, epochs=3,
                                batch_size=16, rng=1, progress=False))  # fmt: skip
    a, b = histories
    assert list(a.grad_norm) == list(b.grad_norm) == ["0", "2", "4"]
    for key in a.grad_norm:
        np.testing.assert_allclose(a.grad_norm[key], b.grad_norm[key], rtol=1e-9)
    assert a.saturated == b.saturated and a.dead == b.dead and a.layer_names == b.layer_names


@pytest.mark.gpu
def test_the_torch_path_never_waits_for_the_gpu_inside_an_epoch():
    """CUDA's sync debug mode counts the host-device synchronisations: as many for 40 steps as for 4."""
    X = np.random.default_rng(0).random((640, 64), dtype=np.float32)
    y = np.random.default_rng(1).integers(0, 10, 640)
    counts = []
    for batch_size in (160, 16):
        net = torch_nn.Sequential(torch_nn.Linear(64, 64, rng=0, device="cuda"), torch_nn.Sigmoid(),
                                  torch_nn.Linear(64, 64, rng=1, device="cuda"), torch_nn.ReLU(),
                                  torch_nn.Linear(64, 10, rng=2, device="cuda"))  # fmt: skip
        opt = torch_nn.optim.SGD(net, lr=0.1)
        torch_nn.fit(net, torch_nn.CrossEntropyLoss(), opt, X, y, epochs=1, progress=False)  # warm-up
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                torch_nn.fit(net, torch_nn.CrossEntropyLoss(), opt, X, y, epochs=1, batch_size=batch_size,
                             progress=False)  # fmt: skip
        finally:
            torch.cuda.set_sync_debug_mode(0)
        counts.append(sum("synchroniz" in str(w.message) for w in caught))
    assert counts[0] == counts[1], counts


# -- regressions: rolling back, a second fit, the optimizer's state, refused NaN, clamped losses -------
def _small_data(n: int = 64):
    rng = np.random.default_rng(0)
    return rng.random((n, 8)).astype(np.float32), rng.integers(0, 3, n)


def _probe_loss(path, net, loss, X, y) -> float:
    value = loss(net(X), y)
    return float(value.detach()) if hasattr(value, "detach") else float(value)


def test_full_batch_divergence_keeps_weights_from_before_the_blow_up(path):
    """One step per epoch: the step that blew up was the last of the epoch before the bad loss showed."""
    X, y = _small_data()
    net = path.Sequential(path.Linear(8, 16, rng=0), path.ReLU(), path.Linear(16, 3, rng=1))
    loss = path.CrossEntropyLoss()
    start = _probe_loss(path, net, loss, X, y)
    history, texts = path.fit(net, loss, path.optim.SGD(net, lr=1e4), X, y, epochs=5, batch_size=64)
    assert history.diverged
    assert "keeps the weights it had at the start of epoch 1, before" in _one(
        texts, "fit stopped at epoch 1, "
    )
    assert _probe_loss(path, net, loss, X, y) == pytest.approx(start, rel=1e-6)


@pytest.mark.parametrize("lr", [1e4, 1e10, 1e25])
def test_full_batch_divergence_never_leaves_blown_up_weights(path, lr):
    X, y = _small_data()
    net = path.Sequential(path.Linear(8, 16, rng=0), path.ReLU(), path.Linear(16, 3, rng=1))
    loss = path.CrossEntropyLoss()
    start = _probe_loss(path, net, loss, X, y)
    history, _ = path.fit(net, loss, path.optim.SGD(net, lr=lr), X, y, epochs=4, batch_size=64)
    assert history.diverged and _probe_loss(path, net, loss, X, y) < 2 * start


def test_after_divergence_a_smaller_lr_trains_with_the_same_optimizer(path):
    """The velocity is put back with the weights, so doing what the warning says works."""
    X, y = _small_data()
    net = path.Sequential(path.Linear(8, 16, rng=0), path.ReLU(), path.Linear(16, 3, rng=1))
    opt = path.optim.SGD(net, lr=1e6, momentum=0.9)
    history, _ = path.fit(net, path.CrossEntropyLoss(), opt, X, y, epochs=3, batch_size=8)
    assert history.diverged
    opt.lr = 1e-2
    history, texts = path.fit(net, path.CrossEntropyLoss(), opt, X, y, epochs=3, batch_size=8)
    assert texts == [] and not history.diverged
    assert history.train_loss[-1] < history.train_loss[0]


@pytest.mark.parametrize(("lr", "batch_size"), [(1e30, 8), (3e38, 64)])
def test_weights_huge_enough_to_overflow_count_as_divergence(lr, batch_size):
    """NumPy layers refuse non-finite input with NonFiniteError: fit reports divergence, not the error."""
    X, y = _small_data()
    net = np_nn.Sequential(np_nn.Linear(8, 16, rng=0), np_nn.ReLU(), np_nn.Linear(16, 3, rng=1))
    with pytest.warns(TrainingWarning, match="fit stopped at epoch"):
        history = np_nn.fit(net, np_nn.CrossEntropyLoss(), np_nn.optim.SGD(net, lr=lr), X, y, epochs=3,
                            batch_size=batch_size, progress=False)  # fmt: skip
    assert history.diverged and max(np.abs(w).max() for w in net.params.values()) < 10


def test_nan_in_the_targets_is_an_error_not_divergence():
    X, _ = _small_data()
    y = np.ones((len(X), 1))
    y[3] = np.nan
    net = np_nn.Linear(8, 1, rng=0)
    with pytest.raises(ValueError, match=r"fit expected finite values in training y; got 1 NaN entries"):
        np_nn.fit(net, np_nn.MSELoss(), np_nn.optim.SGD(net), X, y, epochs=1, progress=False)


def test_a_clamped_loss_that_grows_tenfold_is_divergence(path):
    """BCELoss is clamped at 100, so it never reaches 1,000 times its start of 0.69: growth counts."""
    X, _ = _small_data()
    y = (X[:, :1] > 0.5).astype(np.float32)
    net = path.Sequential(path.Linear(8, 16, rng=0), path.Tanh(), path.Linear(16, 1, rng=1), path.Sigmoid())
    history, texts = path.fit(net, path.BCELoss(), path.optim.SGD(net, lr=1e30), X, y, epochs=5, batch_size=8)
    _one(texts, "fit stopped at epoch 1")
    assert history.diverged and history.epochs == 1


def _trained_half_dead_net(path, X, y):
    """A ReLU layer whose 60 of 100 units are dead by construction, the other 40 trained to fit the data."""
    net = path.Sequential(path.Linear(64, 100, init="he", rng=0), path.ReLU(), path.Linear(100, 10, rng=1))
    with torch.no_grad():
        net[0].b[:60] = -100
    opt = path.optim.SGD(net, lr=0.1, momentum=0.9)
    path.fit(net, path.CrossEntropyLoss(), opt, X, y, epochs=15, diagnostics=False)
    return net, opt


def test_a_second_fit_of_a_trained_network_stays_quiet(path, digits):
    X, y = digits[0][:500], digits[1][:500]
    net, opt = _trained_half_dead_net(path, X, y)
    history, texts = path.fit(net, path.CrossEntropyLoss(), opt, X, y, epochs=1)
    assert texts == [] and history.train_acc[-1] > 0.95 and history.dead["1"][-1] >= 0.6


def test_dead_units_are_counted_only_when_about_to_warn(path, digits, monkeypatch):
    from nnlab import diagnostics

    calls = []
    original = diagnostics.Monitor._units
    monkeypatch.setattr(
        diagnostics.Monitor, "_units", lambda self, name: calls.append(name) or original(self, name)
    )
    X, y = digits
    net = path.Sequential(path.Linear(64, 50, rng=0), path.ReLU(), path.Linear(50, 10, rng=1))
    with torch.no_grad():
        net[0].b[...] = -3
    _, texts = path.fit(net, path.CrossEntropyLoss(), path.optim.SGD(net, lr=0.1), X, y, epochs=3)
    assert len(calls) == 1 and sum(t.startswith("layer 1 (ReLU)") for t in texts) == 1


@pytest.mark.gpu
def test_bce_loss_on_the_gpu_never_waits_inside_an_epoch():
    X = np.random.default_rng(0).random((640, 16), dtype=np.float32)
    y = (X[:, :1] > 0.5).astype(np.float32)
    counts = []
    for batch_size in (160, 16):
        net = torch_nn.Sequential(torch_nn.Linear(16, 16, rng=0, device="cuda"), torch_nn.Tanh(),
                                  torch_nn.Linear(16, 1, rng=1, device="cuda"), torch_nn.Sigmoid())  # fmt: skip
        opt = torch_nn.optim.SGD(net, lr=0.1)
        torch_nn.fit(net, torch_nn.BCELoss(), opt, X, y, epochs=1, progress=False)  # warm-up
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                torch_nn.fit(net, torch_nn.BCELoss(), opt, X, y, epochs=1, batch_size=batch_size,
                             progress=False)  # fmt: skip
        finally:
            torch.cuda.set_sync_debug_mode(0)
        counts.append(sum("synchroniz" in str(w.message) for w in caught))
    assert counts[0] == counts[1], counts


def test_bce_loss_checks_the_outputs_once_before_training_on_any_device():
    net = torch_nn.Linear(8, 1, rng=0)  # raw scores, no Sigmoid
    X, _ = _small_data()
    with pytest.raises(
        ValueError, match=r"BCELoss expected pred as probabilities in \[0, 1\]; got values from"
    ):
        torch_nn.fit(net, torch_nn.BCELoss(), torch_nn.optim.SGD(net), X, np.ones((64, 1)), epochs=1,
                     progress=False)  # fmt: skip
