"""Chapter 6 (overfitting, regularisation, dropout): the five-input table, the update rules, dropout's two
forms, cross-validation, bagging, augmentation, the adversarial example, and the two lessons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnlab import gradcheck
from nnlab import np_nn as nn
from nnlab.lessons import initialisation as ini
from nnlab.lessons import regularisation as reg

# The real MNIST test set beside the repository, where the book is developed (absent on a user's machine).
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


# ----------------------------------------------------------------------------- 6.1 the five-input table
def test_the_five_input_table_is_fitted_exactly_by_both_weight_vectors():
    X, y = reg.overfitting_table()
    assert X.shape == (4, 5) and y.tolist() == [2, 4, 6, 8]
    assert reg.TRUE_W == (2, 0, 0, 0, 0) and reg.OVERFIT_W == (0, 2, 4, 6, 8)
    for w in (reg.TRUE_W, reg.OVERFIT_W):
        assert np.array_equal(X @ np.array(w, dtype=np.float32), y)  # exactly, no tolerance
    new = np.array([5.0, 0, 0, 0, 0])
    assert new @ np.array(reg.TRUE_W) == 10 and new @ np.array(reg.OVERFIT_W) == 0
    assert np.sum(np.square(reg.OVERFIT_W)) == 120 and np.sum(np.square(reg.TRUE_W)) == 4


# ----------------------------------------------------------------------------- 6.3 L2 and L1
def test_l2_step_is_the_lectures_weight_decay_and_the_optimisers():
    rng = np.random.default_rng(0)
    w, g = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    lr, lam, n = 0.1, 2.0, 50
    expected = (1 - lr * lam / n) * w - lr * g  # w ← (1 − ηλ/n) w − η ∂C₀/∂w
    out = reg.l2_step(w.copy(), g, lr, lam, n)
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_allclose(reg.l2_step(w.copy(), g, lr, 0.0, n), w - lr * g)  # λ = 0: plain SGD
    # the optimiser's weight_decay = λ/n takes the same step: w − η(g + (λ/n) w)
    layer = nn.Linear(4, 3, rng=0, dtype=np.float64)
    layer.params["W"][...] = w
    layer.grads["W"], layer.grads["b"] = g.copy(), np.zeros(3)
    nn.optim.SGD(layer, lr=lr, weight_decay=lam / n).step()
    np.testing.assert_allclose(layer.W, expected, rtol=1e-13)


def test_l1_step_moves_every_weight_the_same_distance_and_matches_l1penalty():
    w, g = np.array([2.0, -0.5, 0.05, 0.0]), np.array([0.1, 0.0, -0.2, 0.3])
    lr, lam, n = 0.5, 1.0, 5
    out = reg.l1_step(w.copy(), g, lr, lam, n)
    np.testing.assert_allclose(out, w - lr * lam / n * np.sign(w) - lr * g, rtol=1e-15)
    np.testing.assert_allclose(reg.l1_step(w.copy(), np.zeros(4), lr, lam, n), [1.9, -0.4, -0.05, 0.0])
    layer = nn.Linear(4, 1, rng=0, dtype=np.float64)
    layer.params["W"][...] = w
    layer.grads["W"], layer.grads["b"] = g[None, :].copy(), np.zeros(1)
    nn.L1Penalty(layer, strength=lam / n).backward()  # + (λ/n) sgn(w)
    nn.optim.SGD(layer, lr=lr).step()
    np.testing.assert_allclose(layer.W[0], out, rtol=1e-13)


def test_train_regularises_the_weights_and_not_the_biases():
    rng = np.random.default_rng(3)
    X, y = rng.random((20, 6)).astype(np.float32), rng.integers(0, 10, 20)
    lr, lam, n = 0.2, 20.0, 20  # every step first shrinks the weights by 1 − ηλ/n = 0.8
    run = reg.train(X, y, X, y, lam=lam, hidden=5, epochs=2, lr=lr, batch_size=20, seed=4)
    # the same two full-batch steps by hand, with the biases stepped plainly
    net, loss = reg.network(6, hidden=5, seed=4), nn.CrossEntropyLoss()
    for _ in range(2):  # one batch holds every example, so the shuffling does not matter
        loss(net(X), y)
        net.backward(loss.backward())
        for name, w in net.params.items():
            if name.endswith("W"):
                w *= 1 - lr * lam / n
            w -= lr * net.grads[name]
    for name, w in net.params.items():
        np.testing.assert_allclose(run.net.params[name], w, rtol=1e-5, atol=1e-7)
    assert np.any(run.net.params["0.b"] != 0)  # the biases did move, without decay


def test_train_runs_numpy_on_one_blas_thread_and_gives_it_back():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    with ini.one_blas_thread():
        inside = [
            pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"
        ]
    after = [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
    assert inside and all(threads == 1 for threads in inside)
    assert after == before  # the caller's setting is back


# ----------------------------------------------------------------------------- 6.4, 6.5 validation
def test_k_fold_splits_every_example_into_exactly_one_validation_fold():
    for n, k in ((10, 5), (23, 4), (2, 2)):
        folds = reg.k_fold(n, k, rng=1)
        assert len(folds) == k
        seen = np.concatenate([val for _, val in folds])
        assert sorted(seen.tolist()) == list(range(n))
        for train, val in folds:
            assert not set(train) & set(val) and len(train) + len(val) == n
            assert abs(len(val) - n / k) < 1
    for n, k in ((5, 1), (3, 4)):
        with pytest.raises(ValueError, match=f"k_fold expected 2 <= k <= n; got k={k} for n={n} examples"):
            reg.k_fold(n, k)


def test_bagging_draws_with_replacement_and_takes_the_majority():
    X, y = np.arange(10.0)[:, None], np.arange(10) % 3
    seen = []

    def fit_predict(X_boot, y_boot, X_test):
        seen.append(X_boot[:, 0].astype(int))
        model = len(seen) - 1
        return np.full(len(X_test), [2, 1, 2, 0, 2][model])  # three models of five say 2

    vote, members = reg.bagging(fit_predict, X, y, X[:4], k=5, rng=0)
    assert members.shape == (5, 4) and vote.tolist() == [2, 2, 2, 2]
    assert all(len(s) == 10 for s in seen)
    assert any(len(set(s)) < 10 for s in seen)  # drawn with replacement: repeats


# ----------------------------------------------------------------------------- 6.6 dropout
@pytest.mark.parametrize("p", [0.5, 0.2])
def test_dropouts_two_forms_agree_with_their_test_time_in_expectation(p):
    activations = np.random.default_rng(0).random((1, 6))
    many = np.repeat(activations, 200_000, axis=0)
    for inverted, expected in ((False, (1 - p) * activations[0]), (True, activations[0])):
        drop = nn.Dropout(p, rng=1, inverted=inverted)
        train_mean = drop.train()(many).mean(axis=0)
        test = drop.eval()(activations)[0]
        np.testing.assert_allclose(test, expected, rtol=1e-12)
        np.testing.assert_allclose(train_mean, test, atol=5e-3)
    # either way a unit survives with probability 1 − p
    drop = nn.Dropout(p, rng=2)
    assert np.mean(drop.train()(np.ones((1000, 100))) > 0) == pytest.approx(1 - p, abs=0.01)


def test_the_lectures_form_is_the_full_network_with_halved_weights():
    lecture = nn.Sequential(
        nn.Linear(4, 3, rng=0, dtype=np.float64),
        nn.ReLU(),
        nn.Dropout(0.5, inverted=False),
        nn.Linear(3, 2, rng=1, dtype=np.float64),
    )
    halved = nn.Sequential(
        nn.Linear(4, 3, rng=0, dtype=np.float64), nn.ReLU(), nn.Linear(3, 2, rng=1, dtype=np.float64)
    )
    halved.params["2.W"][...] *= 0.5
    x = np.random.default_rng(2).random((3, 4))
    np.testing.assert_allclose(lecture.eval()(x), halved(x), rtol=1e-15)
    # the inverted form needs no scaling at test time: the unscaled full network
    inverted = nn.Sequential(
        nn.Linear(4, 3, rng=0, dtype=np.float64),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(3, 2, rng=1, dtype=np.float64),
    )
    full = nn.Sequential(
        nn.Linear(4, 3, rng=0, dtype=np.float64), nn.ReLU(), nn.Linear(3, 2, rng=1, dtype=np.float64)
    )
    np.testing.assert_allclose(inverted.eval()(x), full(x), rtol=1e-15)


def test_dropout_convention_is_the_same_in_the_torch_twin():
    torch = pytest.importorskip("torch")
    from nnlab import torch_nn as tnn

    x = torch.ones(2000, 50, dtype=torch.float64)
    for inverted, survivor, at_test in ((True, 2.0, 1.0), (False, 1.0, 0.5)):
        drop = tnn.Dropout(0.5, rng=0, inverted=inverted)
        drop.train()
        out = drop(x)
        assert set(torch.unique(out).tolist()) == {0.0, survivor}
        assert float((out > 0).double().mean()) == pytest.approx(0.5, abs=0.01)
        drop.eval()
        assert torch.all(drop(x) == at_test)


# ----------------------------------------------------------------------------- 6.7 more data
def test_shifted_and_noisy_images():
    images = np.random.default_rng(0).random((3, 5, 5)).astype(np.float32)
    right = reg.shifted(images, 0, 1)
    np.testing.assert_array_equal(right[:, :, 1:], images[:, :, :-1])
    assert np.all(right[:, :, 0] == 0)
    up = reg.shifted(images, -2, 0)
    np.testing.assert_array_equal(up[:, :3], images[:, 2:])
    assert np.all(up[:, 3:] == 0)
    np.testing.assert_array_equal(reg.shifted(images, 0, 0), images)
    blank = np.zeros((200, 28, 28), dtype=np.float32)
    noisy = reg.noisy(blank + 0.5, 0.2, rng=0)
    assert noisy.dtype == np.float32 and noisy.std() == pytest.approx(0.2, rel=0.02)
    assert reg.noisy(blank, 0.2).min() == 0.0 and reg.noisy(blank + 1, 0.2).max() == 1.0  # clipped to [0, 1]


# ----------------------------------------------------------------------------- 6.8 adversarial
def test_input_gradient_against_centred_differences():
    rng = np.random.default_rng(0)
    net = nn.Sequential(
        nn.Linear(6, 5, rng=1, dtype=np.float64), nn.ReLU(), nn.Linear(5, 3, rng=2, dtype=np.float64)
    )
    loss = nn.CrossEntropyLoss()
    x, y = rng.random((4, 6)), np.array([0, 2, 1, 1])
    _, grad_x = reg.adversarial(net, loss, x, y, 0.01)
    numeric = gradcheck.numerical_gradient(lambda: loss(net(x), y), x)
    np.testing.assert_allclose(grad_x, numeric, rtol=1e-6, atol=1e-9)


@pytest.fixture
def mnist_dir():
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the real MNIST test set is not at {SHARED_MNIST}")
    return SHARED_MNIST


def test_the_lectures_epsilon_flips_a_trained_models_prediction(mnist_dir):
    plain, d = reg.runs("lambda", mnist_dir)[0.0], reg.digits(mnist_dir)
    model, loss = plain.net, nn.CrossEntropyLoss()
    model.eval()
    right = model(d.X_val).argmax(axis=1) == d.y_val
    assert right.mean() > 0.85  # a trained model
    x_adv, grad_x = reg.adversarial(model, loss, d.X_val, d.y_val, 0.007)
    assert np.max(np.abs(x_adv - d.X_val)) <= 0.007 + 1e-6 and 0 <= x_adv.min() and x_adv.max() <= 1
    inside = (d.X_val > 0.007) & (d.X_val < 1 - 0.007)  # where clipping cannot interfere
    np.testing.assert_allclose((x_adv - d.X_val)[inside], 0.007 * np.sign(grad_x)[inside], atol=1e-6)
    pushed_off = (d.X_val == 0) & (grad_x < 0)  # white pixels pushed lighter: the book says they stay white
    assert pushed_off.any() and np.all(x_adv[pushed_off] == 0)
    flipped = right & (model(x_adv).argmax(axis=1) != d.y_val)
    assert flipped.sum() >= 10  # the book shows 29 of 885
    i = np.flatnonzero(flipped)[0]
    before, after = model(d.X_val[i : i + 1]).argmax(), model(x_adv[i : i + 1]).argmax()
    assert before == d.y_val[i] != after
    assert loss(model(x_adv), d.y_val) > loss(model(d.X_val), d.y_val)  # the step raises the loss
    rates = []
    for eps in (0.007, 0.02, 0.05, 0.1):
        adv, _ = reg.adversarial(model, loss, d.X_val, d.y_val, eps)
        rates.append(np.mean(model(adv).argmax(axis=1)[right] != d.y_val[right]))
    assert np.all(np.diff(rates) > 0) and rates[-1] > 0.5


# ----------------------------------------------------------------------------- the lessons
@pytest.fixture
def data_dir():
    return SHARED_MNIST if (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists() else None


def test_weight_decay_lesson_shows_the_run_of_the_chosen_lambda(data_dir):
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = reg.weight_decay(data_dir=data_dir)
    runs = reg.runs("lambda", data_dir)
    ax_hist, ax_curve = lesson.figure.axes
    lines = {line.get_label(): line for line in ax_curve.lines}
    mean_abs = []
    for lam in reg.LAMBDAS:
        lesson.set(lam=lam)
        (stairs,) = ax_hist.patches  # the chosen λ's histogram: one filled step outline
        heights = np.asarray(stairs.get_data().values)
        np.testing.assert_allclose(heights, reg._weight_shares(runs[lam].W1))
        assert heights.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(lines["validation, chosen λ"].get_ydata(), runs[lam].val_loss)
        np.testing.assert_allclose(lines["training, chosen λ"].get_ydata(), runs[lam].train_loss)
        mean_abs.append(np.abs(runs[lam].W1).mean())
        assert f"mean |w| {mean_abs[-1]:.4f}" in lesson.text
    assert np.all(np.diff(mean_abs) < 0)  # larger λ, smaller weights
    last_train = [runs[lam].train_loss[-1] for lam in reg.LAMBDAS]
    assert np.all(np.diff(last_train) > 0)  # ... and a training loss held higher
    assert runs[3.0].val_loss[-1] < runs[0.0].val_loss[-1]  # the book's point about the end of the curve


def test_dropout_rate_lesson_shows_the_run_of_the_chosen_rate(data_dir):
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    lesson = reg.dropout_rate(data_dir=data_dir)
    runs = reg.runs("dropout", data_dir)
    ax_loss, ax_acc = lesson.figure.axes
    loss_lines = {line.get_label(): line for line in ax_loss.lines}
    acc_lines = {line.get_label(): line for line in ax_acc.lines}
    for p in reg.RATES:
        lesson.set(p=p)
        np.testing.assert_allclose(loss_lines["training, chosen p"].get_ydata(), runs[p].train_loss)
        np.testing.assert_allclose(loss_lines["validation, chosen p"].get_ydata(), runs[p].val_loss)
        np.testing.assert_allclose(acc_lines["validation, chosen p"].get_ydata(), runs[p].val_acc)
        assert lesson.text.startswith(f"p = {p:g}:")
    assert runs[0.8].train_loss[-1] > 10 * runs[0.0].train_loss[-1]  # dropping most units holds training back
    assert runs[0.2].val_loss.min() < runs[0.0].val_loss.min()
    assert runs[0.0] is reg.runs("lambda", data_dir)[0.0]  # one shared run for p = 0 and λ = 0


def test_static_figures_are_labelled(data_dir):
    pytest.importorskip("matplotlib")
    for fig in (reg.weight_decay_figure(data_dir=data_dir), reg.dropout_rate_figure(data_dir=data_dir)):
        for ax in fig.axes:
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() and ax.get_legend() is not None
    assert reg.table_diagram().axes[0].get_title()
