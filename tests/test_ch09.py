"""Chapter 9 (a first network on MNIST): the data split, the confusion matrix, live curves, and the real-MNIST MLP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnlab import models
from nnlab import np_nn as nn
from nnlab.lessons import mnist

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def test_confusion_matrix_counts_true_against_predicted(rng):
    C = mnist.confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0], classes=3)
    np.testing.assert_array_equal(C, [[1, 0, 0], [0, 1, 1], [1, 0, 2]])
    y, pred = rng.integers(0, 10, size=500), rng.integers(0, 10, size=500)
    C = mnist.confusion_matrix(y, pred)
    assert C.shape == (10, 10) and C.sum() == 500
    np.testing.assert_array_equal(C.sum(axis=1), np.bincount(y, minlength=10))  # rows: the true classes
    np.testing.assert_array_equal(C.sum(axis=0), np.bincount(pred, minlength=10))  # columns: the answers
    assert np.trace(C) == np.sum(y == pred)


def test_worst_classified_are_lowest_probability_of_the_true_class():
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    y = np.array([0, 0, 1, 1])
    assert mnist.worst_classified(proba, y, k=3).tolist() == [1, 2, 3]  # p(true) = 0.2, 0.4, 0.5
    assert mnist.worst_classified(proba, y, k=1).tolist() == [1]


def test_pad_to_32_centres_the_digits():
    X = np.ones((3, 28, 28), dtype=np.float32)
    padded = mnist.pad_to_32(X)
    assert padded.shape == (3, 1, 32, 32) and padded.sum() == X.sum()
    assert padded[0, 0, 2:30, 2:30].min() == 1.0 and padded[0, 0, :2].max() == 0.0
    small = mnist.pad_to_32(np.ones((2, 8, 8)))
    assert small.shape == (2, 1, 32, 32) and small[0, 0, 12:20, 12:20].min() == 1.0


def test_train_live_records_each_epoch_and_draws_it(rng):
    pytest.importorskip("matplotlib")
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))
    history, fig = mnist.train_live(
        nn.fit, net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.5), X, y,
        epochs=4, batch_size=16, test=(X[:16], y[:16]), progress=False,
    )  # fmt: skip
    assert all(len(v) == 4 for v in history.values())
    assert history["train_loss"][-1] < history["train_loss"][0]
    ax_loss, ax_acc = fig.axes
    lines = {line.get_label(): line for ax in fig.axes for line in ax.lines}
    np.testing.assert_allclose(lines["training loss"].get_ydata(), history["train_loss"])
    np.testing.assert_allclose(lines["test accuracy"].get_ydata(), history["val_acc"])
    assert list(lines["test loss"].get_xdata()) == [1, 2, 3, 4]
    assert ax_loss.get_xlabel() == "epoch" and ax_acc.get_ylabel() == "accuracy"
    # the same training without the epoch-by-epoch calls gives the same numbers
    net2 = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))
    h2, none = mnist.train_live(
        nn.fit, net2, nn.CrossEntropyLoss(), nn.optim.SGD(net2, lr=0.5), X, y,
        epochs=4, batch_size=16, test=(X[:16], y[:16]), progress=False, live=False,
    )  # fmt: skip
    assert none is None and h2 == history


def test_figures_are_labelled():
    pytest.importorskip("matplotlib")
    C = np.diag([5, 6, 7])
    C[0, 1] = 2
    fig = mnist.confusion_figure(C)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "predicted class ŷ" and ax.get_ylabel() == "true class y"
    assert sorted(t.get_text() for t in ax.texts) == ["2", "5", "6", "7"]
    proba = np.array([[0.9, 0.1], [0.3, 0.7]])
    fig = mnist.worst_figure(np.zeros((2, 4, 4)), np.array([0, 0]), proba, k=2)
    assert fig.axes[0].get_title().startswith("y = 0, ŷ = 1")


@pytest.fixture(scope="module")
def real_split():
    if not SHARED_MNIST.is_dir():
        pytest.skip(
            f"the real MNIST test set is not at {SHARED_MNIST} (../shared/data/mnist beside the repo)"
        )
    split = mnist.book_mnist(data_dir=SHARED_MNIST)
    assert split.is_mnist
    return split


def test_the_book_split_is_8000_and_2000_disjoint_real_digits(real_split):
    assert real_split.X_train.shape == (8000, 28, 28) and real_split.X_test.shape == (2000, 28, 28)
    assert real_split.source.startswith("MNIST: 8,000 training and 2,000 test images")
    np.testing.assert_array_equal(
        np.bincount(real_split.y_train, minlength=10), [773, 905, 834, 803, 788, 723, 756, 813, 787, 818]
    )  # "from about 700 to 900 images each"
    assert not np.array_equal(real_split.X_train[-1], real_split.X_test[0])


def test_the_quick_mlp_on_real_mnist_is_above_94_percent(real_split):
    """The chapter's quick default: 784-100-10, ReLU, SGD with momentum, 5 epochs on 8,000 real digits."""
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 100, init="he", rng=0), nn.ReLU(), nn.Linear(100, 10, rng=1)
    )
    history = nn.fit(
        net, nn.CrossEntropyLoss(), nn.optim.SGD(net, lr=0.1, momentum=0.9), real_split.X_train, real_split.y_train,
        epochs=5, batch_size=64, validation=(real_split.X_test, real_split.y_test), rng=0, progress=False,
    )  # fmt: skip
    assert history.val_acc[-1] > 0.94
    assert history.val_acc[-1] == pytest.approx(0.9555, abs=0.005)  # the figure chapter 9 prints
    net.eval()
    predicted = models.predict_proba(net, real_split.X_test).argmax(axis=1)
    C = mnist.confusion_matrix(real_split.y_test, predicted)
    off = C - np.diag(np.diag(C))
    assert (off[9, 7], off[9, 4]) == (9, 8)  # the chapter's two most frequent confusions
    assert off.max() == 9 and sorted(np.argsort(off[8])[-2:].tolist()) == [5, 6]  # the 8s: mostly 5 and 6


def test_the_benchmarks_shifted_digits_keep_their_ink():
    """bench_mnist's augmentation moves each padded digit by at most 2 pixels and loses no ink."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_mnist.py"
    spec = importlib.util.spec_from_file_location("bench_mnist", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    X = mnist.pad_to_32(np.random.default_rng(0).random((20, 28, 28)))
    moved = bench.shifted(X, np.random.default_rng(1))
    assert moved.shape == X.shape and not np.array_equal(moved, X)
    np.testing.assert_allclose(moved.sum(axis=(1, 2, 3)), X.sum(axis=(1, 2, 3)), rtol=1e-6)
    for shifted in moved[:, 0]:
        rows, cols = np.nonzero(shifted)
        assert 0 <= rows.min() <= 4 and 27 <= rows.max() <= 31 and 0 <= cols.min() <= 4


def test_mistakes_are_ordered_most_confident_first():
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4]])
    y = np.array([0, 0, 0, 1])  # examples 1, 2 and 3 are wrong, with confidence 0.7, 0.8, 0.6
    assert mnist.mistakes(proba, y).tolist() == [2, 1, 3]


def test_mistakes_browser_shows_the_kth_mistake_and_its_probabilities():
    rng = np.random.default_rng(0)
    X = rng.random((20, 8, 8))  # 8x8, as the fallback digits
    y = rng.integers(0, 10, 20)
    proba = rng.dirichlet(np.ones(10), size=20)
    order = mnist.mistakes(proba, y)
    lesson = mnist.mistakes_browser(X, y, proba)
    image, bars = lesson.figure.axes[0].images[0], lesson.figure.axes[1].patches
    for k in (0, len(order) - 1):
        lesson.set(k=k)
        i = order[k]
        np.testing.assert_array_equal(image.get_array(), X[i])
        np.testing.assert_allclose([bar.get_height() for bar in bars], proba[i])
        assert f"y = {y[i]}, ŷ = {proba[i].argmax()}" in lesson.figure.axes[0].get_title()
    assert lesson.sliders["k"].max == len(order) - 1


def test_mistakes_browser_says_when_there_is_nothing_to_show():
    proba = np.eye(3)
    with pytest.raises(ValueError, match="no mistakes"):
        mnist.mistakes_browser(np.zeros((3, 8, 8)), np.arange(3), proba)


def test_mistakes_browser_names_mismatched_inputs():
    with pytest.raises(ValueError, match=r"expected images X \(n, H, W\).*got X \(5, 8, 8\), y \(4,\)"):
        mnist.mistakes_browser(np.zeros((5, 8, 8)), np.zeros(4, dtype=int), np.full((5, 10), 0.1))
