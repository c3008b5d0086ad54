"""nnlab.data: the lectures' tables, the playgrounds, minibatches, IDX files, and MNIST downloads.

Every download test talks only to servers it starts itself on 127.0.0.1; no test touches the
network or the user's cache.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import inspect
import socket
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from nnlab import data

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
REAL_MIRRORS = data.MNIST_MIRRORS  # read before the autouse fixture points it at a closed port


@pytest.fixture(autouse=True)
def _offline_and_quiet(monkeypatch, tmp_path_factory):
    """No progress bars, no real mirrors, and no real cache, whatever a test forgets to pass."""
    monkeypatch.setenv("NNLAB_PROGRESS", "0")
    monkeypatch.setenv("NNLAB_DATA_DIR", str(tmp_path_factory.mktemp("nnlab-data-dir")))
    monkeypatch.setattr(data, "MNIST_MIRRORS", (_closed_port_url(),))


# ----------------------------------------------------------------------------- the lectures' tables


def test_party_is_every_evening_and_the_seeds_neuron():
    X, y = data.party()
    assert X.shape == (8, 3) and X.dtype == np.float32
    assert y.shape == (8,) and y.dtype == np.int64
    assert len({tuple(row) for row in X.tolist()}) == 8 and set(np.unique(X)) == {0.0, 1.0}
    w = np.array(data.PARTY_WEIGHTS)
    assert data.PARTY_WEIGHTS == (-6.0, 3.0, 4.0)
    np.testing.assert_array_equal(y, (X @ w > 0).astype(np.int64))
    assert len(data.PARTY_FEATURES) == 3


def test_party_questions_have_the_seeds_answers():
    xs = [x for _, x in data.PARTY_QUESTIONS]
    assert xs == [(0, 1, 0), (1, 1, 0), (1, 1, 1)]
    answers = [int(np.dot(data.PARTY_WEIGHTS, x) > 0) for x in xs]
    assert answers == [1, 0, 1]
    assert all(isinstance(text, str) and text for text, _ in data.PARTY_QUESTIONS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NOT", [1, 0]),
        ("AND", [0, 0, 0, 1]),
        ("OR", [0, 1, 1, 1]),
        ("XOR", [0, 1, 1, 0]),
        ("xor", [0, 1, 1, 0]),
    ],
)
def test_logic_gates_truth_tables(name, expected):
    X, y = data.logic_gate(name)
    n_in = 1 if name == "NOT" else 2
    assert X.shape == (len(expected), n_in) and X.dtype == np.float32
    assert y.shape == (len(expected), 1) and y.dtype == np.float32
    assert y[:, 0].tolist() == expected
    assert X.tolist() == ([[0.0], [1.0]] if n_in == 1 else [[0, 0], [0, 1], [1, 0], [1, 1]])


def test_logic_gate_bad_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"^logic_gate expected name to be one of") as info:
        data.logic_gate("NAND")
    for gate in ("'NOT'", "'AND'", "'OR'", "'XOR'", "'NAND'"):
        assert gate in str(info.value)


def test_half_adder_is_the_seeds_table():
    X, y = data.half_adder()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [[0, 0], [0, 1], [0, 1], [1, 0]]  # columns (carry, sum)
    assert X.dtype == y.dtype == np.float32
    np.testing.assert_array_equal(2 * y[:, 0] + y[:, 1], X.sum(axis=1))


def test_overfitting_table_is_fit_exactly_by_both_weight_vectors():
    X, y = data.overfitting_table()
    assert X.shape == (4, 5) and y.shape == (4,)
    assert X.tolist() == [[1, 1, 0, 0, 0], [2, 0, 1, 0, 0], [3, 0, 0, 1, 0], [4, 0, 0, 0, 1]]
    assert y.tolist() == [2, 4, 6, 8]
    assert list(data.TRUE_W) == [2, 0, 0, 0, 0] and list(data.OVERFIT_W) == [0, 2, 4, 6, 8]
    np.testing.assert_array_equal(X @ np.array(data.TRUE_W, dtype=np.float32), y)
    np.testing.assert_array_equal(X @ np.array(data.OVERFIT_W, dtype=np.float32), y)


def test_pass_the_class_shapes_ranges_and_rule():
    X, y = data.pass_the_class(500, rng=3)
    assert X.shape == (500, 2) and X.dtype == np.float32
    assert y.shape == (500,) and y.dtype == np.int64 and set(np.unique(y)) <= {0, 1}
    lectures, hours = X[:, 0], X[:, 1]
    assert lectures.min() >= 0 and lectures.max() <= 10 and np.all(lectures == np.round(lectures))
    assert hours.min() >= 0 and hours.max() <= 10
    z = data.PASS_WEIGHTS[0] * lectures + data.PASS_WEIGHTS[1] * hours + data.PASS_BIAS
    assert 0.1 < y.mean() < 0.9  # both outcomes occur
    assert y[z > 3].mean() > 0.9 and y[z < -3].mean() < 0.1  # far from the boundary the rule wins
    Xc, yc = data.pass_the_class(300, rng=3, noise=0)
    zc = 0.5 * Xc[:, 0] + 0.5 * Xc[:, 1] - 5
    np.testing.assert_array_equal(yc, (zc > 0).astype(np.int64))


def test_pass_the_class_labels_follow_the_logistic_probability():
    X, y = data.pass_the_class(20_000, rng=0, noise=2.0)
    z = (0.5 * X[:, 0] + 0.5 * X[:, 1] - 5) / 2.0
    near = np.abs(z) < 0.25  # sigma(z) is within 0.44..0.56 here
    assert abs(y[near].mean() - 0.5) < 0.05
    band = (z > 0.9) & (z < 1.1)  # sigma(1) = 0.731
    assert abs(y[band].mean() - 0.731) < 0.05


# ----------------------------------------------------------------------------- playgrounds

PLAYGROUNDS = [data.circles, data.xor_quadrants, data.two_gaussians, data.spirals]
ALL_RANDOM = [*PLAYGROUNDS, data.pass_the_class]


@pytest.mark.parametrize("make", PLAYGROUNDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [200, 7, 1])
def test_playground_shapes_dtypes_and_balance(make, n):
    X, y = make(n, rng=0)
    assert X.shape == (n, 2) and X.dtype == np.float32 and np.isfinite(X).all()
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=2)
    assert counts.sum() == n and abs(int(counts[0]) - int(counts[1])) <= 1


@pytest.mark.parametrize("make", ALL_RANDOM, ids=lambda f: f.__name__)
def test_every_random_dataset_is_reproducible_from_its_seed(make):
    X1, y1 = make(150, rng=42)
    X2, y2 = make(150, rng=42)
    X3, y3 = make(150, rng=np.random.default_rng(42))
    X4, _ = make(150, rng=43)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(X1, X3)
    np.testing.assert_array_equal(y1, y3)
    assert not np.array_equal(X1, X4)


def test_playgrounds_shuffle_the_classes():
    _, y = data.circles(200, rng=0)
    assert 0 < y[:100].sum() < 100


def test_playground_geometry_without_noise():
    X, y = data.circles(400, noise=0, rng=1)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 0].max() <= 0.5 + 1e-6 and r[y == 1].min() >= 0.7 - 1e-6 and r.max() <= 1 + 1e-6
    X, y = data.xor_quadrants(400, noise=0, rng=1)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.abs(X).min() >= 0.1 - 1e-6
    X, y = data.two_gaussians(4000, noise=0, rng=1)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-0.5, -0.5], atol=0.03)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [0.5, 0.5], atol=0.03)
    np.testing.assert_allclose(X[y == 0].std(axis=0), [0.25, 0.25], atol=0.02)
    X, y = data.spirals(400, noise=0, rng=1)
    assert np.hypot(X[:, 0], X[:, 1]).max() <= 1 + 1e-6
    # class 1 is class 0 turned by half a circle: reflecting it through the origin lands on arm 0
    s = np.hypot(X[:, 0], X[:, 1])
    t0 = 3.5 * np.pi * s
    arm0 = np.stack([s * np.sin(t0), s * np.cos(t0)], axis=1)
    np.testing.assert_allclose(X[y == 0], arm0[y == 0], atol=1e-5)
    np.testing.assert_allclose(-X[y == 1], arm0[y == 1], atol=1e-5)


def test_noise_spreads_the_points():
    clean, _ = data.circles(500, noise=0, rng=5)
    noisy, _ = data.circles(500, noise=0.3, rng=5)
    assert np.hypot(*noisy.T).max() > np.hypot(*clean.T).max() + 0.2


@pytest.mark.parametrize("make", ALL_RANDOM, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"n": 0}, r"expected n, the number of examples, to be a positive integer; got 0\."),
        ({"n": -3}, r"got -3\."),
        ({"n": 2.5}, r"got 2\.5\."),
        ({"noise": -0.1}, r"expected noise to be a number >= 0; got -0\.1\. noise=0 gives clean data\."),
        ({"noise": float("nan")}, r"expected noise to be a number >= 0; got nan\."),
        (
            {"rng": "seed"},
            r"expected rng as a numpy\.random\.Generator or a non-negative int seed; got 'seed'",
        ),
        ({"rng": -1}, r"got -1\. Pass rng=np\.random\.default_rng\(0\), or rng=0\."),
    ],
)
def test_dataset_arguments_are_checked_with_sentences(make, kwargs, pattern):
    with pytest.raises(ValueError, match=rf"^{make.__name__} .*{pattern}"):
        make(**kwargs)


# ----------------------------------------------------------------------------- minibatches


def test_batches_visit_every_example_once_in_a_shuffled_order():
    X = np.arange(23 * 3, dtype=np.float32).reshape(23, 3)
    y = np.arange(23)
    got = list(data.batches(X, y, 5, rng=0))
    assert [len(xb) for xb, _ in got] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in got])
    assert sorted(seen.tolist()) == list(range(23)) and seen.tolist() != list(range(23))
    for xb, yb in got:
        np.testing.assert_array_equal(xb, X[yb])  # X and y stay paired
    np.testing.assert_array_equal(seen, np.random.default_rng(0).permutation(23))


def test_batches_options():
    X, y = np.arange(10)[:, None], np.arange(10)
    assert [len(xb) for xb, _ in data.batches(X, y, 4, rng=1, drop_last=True)] == [4, 4]
    ordered = [yb.tolist() for _, yb in data.batches(X, y, 4, shuffle=False)]
    assert ordered == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [len(xb) for xb, _ in data.batches(X, y, 32, rng=0)] == [10]
    assert list(data.batches(X, y, 32, rng=0, drop_last=True)) == []
    xs = list(data.batches(X, None, 3, rng=0))
    assert all(yb is None for _, yb in xs) and sum(len(xb) for xb, _ in xs) == 10
    first = [yb.tolist() for _, yb in data.batches(X, y, 3, rng=7)]
    again = [yb.tolist() for _, yb in data.batches(X, y, 3, rng=np.random.default_rng(7))]
    assert first == again
    assert len(list(data.batches(X, y, 3))) == 4  # rng=None: fresh randomness


def test_batches_draws_a_new_order_each_epoch_from_one_generator():
    X, y = np.arange(50)[:, None], np.arange(50)
    rng = np.random.default_rng(0)
    epoch1 = np.concatenate([yb for _, yb in data.batches(X, y, 10, rng)])
    epoch2 = np.concatenate([yb for _, yb in data.batches(X, y, 10, rng)])
    assert not np.array_equal(epoch1, epoch2)


def test_batches_checks_arguments_when_called_not_when_iterated():
    X = np.zeros((10, 4))
    with pytest.raises(
        ValueError,
        match=r"^batches expected X and y with the same number of examples; got X of shape \(10, 4\)"
        r" and y of shape \(9,\)\. Each row of X needs one target in y\.$",
    ):
        data.batches(X, np.zeros(9), 2)
    for bad in (0, -1, 2.0, True, None):
        with pytest.raises(ValueError, match=r"^batches expected batch_size to be a positive integer; got"):
            data.batches(X, None, bad)
    with pytest.raises(ValueError, match=r"^batches expected X with examples along its first axis"):
        data.batches(np.float32(3.0), None, 2)
    with pytest.raises(ValueError, match=r"^batches expected rng as a numpy\.random\.Generator"):
        data.batches(X, None, 2, rng=1.5)


def test_batches_is_lean_on_mnist_sized_data():
    X = np.zeros((60_000, 784), dtype=np.float32)
    y = np.zeros(60_000, dtype=np.int64)
    start = time.perf_counter()
    n = sum(len(xb) for xb, _ in data.batches(X, y, 128, rng=0))
    assert n == 60_000
    assert time.perf_counter() - start < 2.0  # a generous bound; ~0.1 s on 2 cores


# ----------------------------------------------------------------------------- IDX files


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28),
        np.array([7, 2, 1, 0, 4], dtype=np.uint8),
        np.array([-3, 0, 5], dtype=np.int8),
        np.arange(-6, 6, dtype=np.int16).reshape(3, 4),
        np.array([[1, -2], [2**30, -(2**31)]], dtype=np.int32),
        np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 3, 2),
        np.array([np.pi, -np.e], dtype=np.float64),
        np.zeros((0, 28, 28), dtype=np.uint8),
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_idx_round_trip(tmp_path, array, compressed):
    path = data.write_idx(tmp_path / ("a.idx.gz" if compressed else "a.idx"), array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compressed
    back = data.read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative and back.flags.writeable
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_the_standard_one(tmp_path):
    raw = data.write_idx(tmp_path / "x", np.zeros((3, 28, 28), dtype=np.uint8)).read_bytes()
    assert raw[:16] == bytes.fromhex("00000803 00000003 0000001c 0000001c")
    assert len(raw) == 16 + 3 * 28 * 28
    labels = data.write_idx(tmp_path / "y", np.zeros(3, dtype=np.uint8)).read_bytes()
    assert labels[:8] == bytes.fromhex("00000801 00000003")


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    array = np.arange(6, dtype=np.uint8)
    zipped = data.write_idx(tmp_path / "looks-raw.idx", array, gzip=True)
    plain = data.write_idx(tmp_path / "looks-zipped.gz", array, gzip=False)
    np.testing.assert_array_equal(data.read_idx(zipped), array)
    np.testing.assert_array_equal(data.read_idx(plain), array)


def test_write_idx_gzip_is_deterministic(tmp_path):
    a = data.write_idx(tmp_path / "a.gz", np.arange(100, dtype=np.uint8)).read_bytes()
    b = data.write_idx(tmp_path / "b.gz", np.arange(100, dtype=np.uint8)).read_bytes()
    assert a == b and a[4:8] == b"\x00\x00\x00\x00"  # no time stamp in the gzip header


def test_write_idx_rejects_dtypes_idx_cannot_hold(tmp_path):
    with pytest.raises(
        ValueError, match=r"^write_idx expected an array of dtype uint8, .*; got int64\. Cast it"
    ):
        data.write_idx(tmp_path / "x", np.arange(3))


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "raw"])
def test_read_idx_bad_magic_is_a_sentence(tmp_path, compressed):
    path = tmp_path / "bad.idx"
    payload = b"\x12\x34\x08\x01" + b"\x00" * 20
    path.write_bytes(gzip.compress(payload) if compressed else payload)
    with pytest.raises(ValueError) as info:
        data.read_idx(path)
    text = str(info.value)
    assert text.startswith(f"read_idx expected an IDX file in {path}")
    assert "got 12 34 08 01, which is not an IDX header" in text and "Delete it" in text
    path.write_bytes(b"\x00\x00\x42\x01" + b"\x00" * 8)  # unknown type code 0x42
    with pytest.raises(ValueError, match="got 00 00 42 01, which is not an IDX header"):
        data.read_idx(path)


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "raw"])
def test_read_idx_truncated_data_is_a_sentence_not_a_reshape_error(tmp_path, compressed):
    full = data.write_idx(tmp_path / "full", np.ones((10, 28, 28), dtype=np.uint8)).read_bytes()
    cut = full[: 16 + 5000]
    path = tmp_path / "cut-idx3-ubyte"
    path.write_bytes(gzip.compress(cut) if compressed else cut)
    with pytest.raises(ValueError) as info:
        data.read_idx(path)
    text = str(info.value)
    assert text.startswith(f"read_idx expected 7,840 data bytes in {path} for shape (10, 28, 28) of uint8")
    assert "got 5,000: it is truncated." in text and "reshape" not in text


def test_read_idx_truncated_gzip_stream_and_header(tmp_path):
    full = data.write_idx(tmp_path / "full.gz", np.ones((50, 28, 28), dtype=np.uint8)).read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(full[: len(full) // 2])
    with pytest.raises(
        ValueError, match=r"^read_idx expected a complete gzip file in .*cut\.gz; got a truncated"
    ):
        data.read_idx(path)
    damaged = bytearray(full)
    damaged[-6] ^= 0xFF  # the CRC-32 trailer
    path.write_bytes(bytes(damaged))
    with pytest.raises(ValueError, match=r"got a truncated or damaged one"):
        data.read_idx(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"expected an IDX header of at least 4 bytes in .*; got 0\."):
        data.read_idx(path)
    path.write_bytes(bytes.fromhex("00000803 00000002"))  # promises 3 sizes, has 1
    with pytest.raises(
        ValueError, match=r"expected 16 header bytes for 3 sizes in .*; got 8: it is truncated"
    ):
        data.read_idx(path)
    path.write_bytes(data.write_idx(tmp_path / "ok", np.ones(4, np.uint8)).read_bytes() + b"xx")
    with pytest.raises(ValueError, match=r"expected 4 data bytes .*; got 6: it has extra bytes at the end\."):
        data.read_idx(path)


# ----------------------------------------------------------------------------- load_mnist from a folder


def _fake_mnist(folder: Path, n: int = 12, *, split: str = "test", compressed: bool = True, seed: int = 0):
    """Write a small MNIST-shaped pair of IDX files; return the raw uint8 images and labels."""
    gen = np.random.default_rng(seed)
    images = gen.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255
    labels = gen.integers(0, 10, size=n).astype(np.uint8)
    stem = "t10k" if split == "test" else "train"
    ext = ".gz" if compressed else ""
    folder.mkdir(parents=True, exist_ok=True)
    data.write_idx(folder / f"{stem}-images-idx3-ubyte{ext}", images)
    data.write_idx(folder / f"{stem}-labels-idx1-ubyte{ext}", labels)
    return images, labels


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "raw"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_mnist_reads_a_folder(tmp_path, compressed, split):
    images, labels = _fake_mnist(tmp_path, split=split, compressed=compressed)
    X, y = data.load_mnist(split, data_dir=tmp_path, download=False)
    assert X.shape == (12, 28, 28) and X.dtype == np.float32
    assert y.shape == (12,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X, images.astype(np.float32) / 255)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_folder_order_data_dir_then_env_then_cache(tmp_path, monkeypatch):
    import platformdirs

    env_dir, arg_dir = tmp_path / "env", tmp_path / "arg"
    _fake_mnist(env_dir, n=3)
    _fake_mnist(arg_dir, n=5)
    monkeypatch.setenv("NNLAB_DATA_DIR", str(env_dir))
    assert len(data.load_mnist("test", download=False)[1]) == 3
    assert len(data.load_mnist("test", data_dir=arg_dir, download=False)[1]) == 5
    assert len(data.load_mnist("test", data_dir=str(arg_dir), download=False)[1]) == 5
    monkeypatch.delenv("NNLAB_DATA_DIR")
    assert data._mnist_dir(None) == Path(platformdirs.user_cache_dir("nnlab")) / "mnist"


def test_load_mnist_swapped_files_give_the_magic_number_sentence(tmp_path):
    _fake_mnist(tmp_path)
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    images.write_bytes(labels.read_bytes())
    with pytest.raises(ValueError) as info:
        data.load_mnist("test", data_dir=tmp_path, download=False)
    text = str(info.value)
    assert text.startswith(f"load_mnist expected magic number 0x00000803 in {images}; got 0x00000801.")
    assert "Delete it and run load_mnist again to download a fresh copy, or pass data_dir=" in text


def test_load_mnist_truncated_file_names_it_and_the_fix(tmp_path):
    _fake_mnist(tmp_path, compressed=False)
    images = tmp_path / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    with pytest.raises(ValueError) as info:
        data.load_mnist("test", data_dir=tmp_path, download=False)
    text = str(info.value)
    assert text.startswith(f"load_mnist expected 9,408 data bytes in {images}")
    assert "it is truncated. Delete it and run load_mnist again" in text and "\n" not in text


def test_load_mnist_checks_shapes_counts_and_labels(tmp_path):
    _fake_mnist(tmp_path, n=4)
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    data.write_idx(labels, np.arange(3, dtype=np.uint8))
    with pytest.raises(
        ValueError, match=r"^load_mnist expected 4 labels in .*; got shape \(3,\)\. The two files"
    ):
        data.load_mnist("test", data_dir=tmp_path, download=False)
    data.write_idx(labels, np.array([0, 1, 2, 10], dtype=np.uint8))
    with pytest.raises(ValueError, match=r"^load_mnist expected labels 0\.\.9 in .*; got 10\."):
        data.load_mnist("test", data_dir=tmp_path, download=False)
    data.write_idx(images, np.zeros((4, 8, 8), dtype=np.uint8))
    with pytest.raises(
        ValueError, match=r"^load_mnist expected images of shape \(N, 28, 28\) in .*; got \(4, 8, 8\)"
    ):
        data.load_mnist("test", data_dir=tmp_path, download=False)


def test_load_mnist_argument_sentences(tmp_path):
    with pytest.raises(ValueError, match=r"^load_mnist expected split 'train' or 'test'; got 'valid'\.$"):
        data.load_mnist("valid", data_dir=tmp_path)
    with pytest.raises(ValueError, match=r"^load_mnist expected fallback None or 'digits'; got 'random'\."):
        data.load_mnist("test", data_dir=tmp_path, fallback="random")
    with pytest.raises(ValueError, match=r"^load_mnist expected timeout to be a positive number"):
        data.load_mnist("test", data_dir=tmp_path, timeout=0)


def test_load_mnist_missing_files_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^load_mnist found no t10k-images-idx3-ubyte\(\.gz\) in"):
        data.load_mnist("test", data_dir=tmp_path, download=False)
    assert list(tmp_path.iterdir()) == []


def test_connect_timeout_default_is_at_most_ten_seconds():
    assert 0 < inspect.signature(data.load_mnist).parameters["timeout"].default <= 10


def test_checksum_table_covers_the_four_files_and_mirrors_are_https_first():
    assert set(data.MNIST_SHA256) == {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    }
    for digests in data.MNIST_SHA256.values():
        assert digests and all(len(d) == 64 and int(d, 16) >= 0 for d in digests)
    assert len(REAL_MIRRORS) >= 2 and all(m.endswith("/mnist/") for m in REAL_MIRRORS)
    assert any("ossci-datasets" in m for m in REAL_MIRRORS) and any(
        "cvdf-datasets" in m for m in REAL_MIRRORS
    )


# ----------------------------------------------------------------------------- downloads


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``files`` (path -> bytes); 404 for the rest."""

    def __init__(self, files: dict[str, bytes], *, cut_after: int | None = None, stall: bool = False):
        self.files, self.requests = files, []
        self.release = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests.append(self.path)
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if cut_after is None:
                    self.wfile.write(body)
                    return
                self.wfile.write(body[:cut_after])
                self.wfile.flush()
                if stall:
                    owner.release.wait(10)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(files, **kwargs):
        server = _Server(files, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture
def silent_server():
    """A socket that accepts connections (into its backlog) and never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/mnist/"
    sock.close()


@pytest.fixture
def fake_test_set(tmp_path, monkeypatch):
    """Gzipped fake t10k files as bytes, with the module's checksum table set to their digests."""
    images, labels = _fake_mnist(tmp_path / "source", n=20)
    files = {}
    for name in TEST_FILES:
        body = (tmp_path / "source" / name).read_bytes()
        files[f"/mnist/{name}"] = body
        monkeypatch.setitem(data.MNIST_SHA256, name, (hashlib.sha256(body).hexdigest(),))
    return files, images, labels


def test_download_good_files(tmp_path, serve, fake_test_set):
    files, images, labels = fake_test_set
    server = serve(files)
    cache = tmp_path / "cache"
    X, y = data.load_mnist("test", data_dir=cache, mirrors=[server.url], timeout=5)
    np.testing.assert_array_equal(X, images / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert sorted(p.name for p in cache.iterdir()) == sorted(TEST_FILES)
    assert sorted(server.requests) == sorted(files)
    # the second call reads the cache: no request, even with no mirror at all
    X2, _ = data.load_mnist("test", data_dir=cache, mirrors=[], timeout=5)
    np.testing.assert_array_equal(X, X2)
    assert len(server.requests) == 2


def test_download_only_fetches_what_is_missing(tmp_path, serve, fake_test_set):
    files, _, _ = fake_test_set
    server = serve(files)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(files["/mnist/t10k-labels-idx1-ubyte.gz"])
    data.load_mnist("test", data_dir=cache, mirrors=[server.url], timeout=5)
    assert server.requests == ["/mnist/t10k-images-idx3-ubyte.gz"]


def test_download_with_wrong_checksum_leaves_the_cache_clean(tmp_path, serve, fake_test_set, monkeypatch):
    files, _, _ = fake_test_set
    monkeypatch.setitem(data.MNIST_SHA256, "t10k-images-idx3-ubyte.gz", ("0" * 64,))
    server = serve(files)
    cache = tmp_path / "cache"
    with pytest.raises(data.DownloadError) as info:
        data.load_mnist("test", data_dir=cache, mirrors=[server.url], timeout=5)
    text = str(info.value)
    assert text.startswith("load_mnist could not download t10k-images-idx3-ubyte.gz: ")
    assert f"{server.url}t10k-images-idx3-ubyte.gz (SHA-256 mismatch" in text
    assert "data_dir=" in text and "NNLAB_DATA_DIR" in text and "\n" not in text
    assert list(cache.iterdir()) == []  # no file, no .part


def test_download_from_a_server_that_never_answers_returns_within_the_timeout(tmp_path, silent_server):
    cache = tmp_path / "cache"
    start = time.perf_counter()
    with pytest.raises(data.DownloadError) as info:
        data.load_mnist("test", data_dir=cache, mirrors=[silent_server], timeout=1)
    elapsed = time.perf_counter() - start
    assert elapsed < 1 + 2
    assert "(no answer within 1 s)" in str(info.value)
    assert list(cache.iterdir()) == []


def test_download_that_stalls_halfway_leaves_no_part_file(tmp_path, serve, fake_test_set):
    files, _, _ = fake_test_set
    server = serve(files, cut_after=100, stall=True)
    cache = tmp_path / "cache"
    start = time.perf_counter()
    with pytest.raises(data.DownloadError, match=r"no answer within 1 s"):
        data.load_mnist("test", data_dir=cache, mirrors=[server.url], timeout=1)
    assert time.perf_counter() - start < 3
    assert list(cache.iterdir()) == []


def test_download_cut_short_is_reported_and_cleaned_up(tmp_path, serve, fake_test_set):
    files, _, _ = fake_test_set
    server = serve(files, cut_after=100)
    cache = tmp_path / "cache"
    size = len(files["/mnist/t10k-images-idx3-ubyte.gz"])
    with pytest.raises(data.DownloadError, match=rf"the connection closed after 100 of {size:,} bytes"):
        data.load_mnist("test", data_dir=cache, mirrors=[server.url], timeout=5)
    assert list(cache.iterdir()) == []


def test_download_first_mirror_down_second_up(tmp_path, serve, fake_test_set):
    files, _, labels = fake_test_set
    server = serve(files)
    cache = tmp_path / "cache"
    missing = serve({})  # answers 404 to everything
    _, y = data.load_mnist("test", data_dir=cache, mirrors=[_closed_port_url(), missing.url, server.url])
    np.testing.assert_array_equal(y, labels)
    assert sorted(p.name for p in cache.iterdir()) == sorted(TEST_FILES)


def test_download_error_lists_how_each_mirror_failed(tmp_path, serve):
    closed, missing = _closed_port_url(), serve({})
    with pytest.raises(data.DownloadError) as info:
        data.load_mnist("test", data_dir=tmp_path, mirrors=[closed, missing.url], timeout=2)
    text = str(info.value)
    assert f"{closed}t10k-images-idx3-ubyte.gz (connection refused)" in text
    assert f"{missing.url}t10k-images-idx3-ubyte.gz (HTTP 404 Not Found)" in text
    assert "\n" not in text and isinstance(info.value, OSError)
    assert [url for url, _ in info.value.failures] == [
        f"{closed}t10k-images-idx3-ubyte.gz",
        f"{missing.url}t10k-images-idx3-ubyte.gz",
    ]


def test_download_uses_the_module_mirrors_by_default(tmp_path, serve, fake_test_set, monkeypatch):
    files, _, _ = fake_test_set
    server = serve(files)
    monkeypatch.setattr(data, "MNIST_MIRRORS", (server.url,))
    data.load_mnist("test", data_dir=tmp_path)
    assert len(server.requests) == 2


def test_download_progress_bar_follows_nnlab_progress(tmp_path, serve, fake_test_set, monkeypatch, capsys):
    files, _, _ = fake_test_set
    server = serve(files)
    data.load_mnist("test", data_dir=tmp_path / "quiet", mirrors=[server.url])
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("NNLAB_PROGRESS", "1")
    data.load_mnist("test", data_dir=tmp_path / "loud", mirrors=[server.url])
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err


def test_download_into_an_unwritable_place_is_a_sentence(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(data.DownloadError, match=r"^load_mnist could not create the folder .*a-file/mnist"):
        data.load_mnist("test", data_dir=blocker / "mnist", mirrors=[_closed_port_url()])


# ----------------------------------------------------------------------------- the digits fallback


def test_offline_without_fallback_is_one_line(tmp_path):
    with pytest.raises(data.DownloadError) as info:
        data.load_mnist("test", data_dir=tmp_path, timeout=1)
    assert "\n" not in str(info.value) and 'fallback="digits"' in str(info.value)


@pytest.mark.parametrize("download", [True, False])
def test_offline_with_fallback_returns_the_labelled_8x8_digits(tmp_path, download):
    pytest.importorskip("sklearn")
    with pytest.warns(UserWarning) as record:
        X_test, y_test = data.load_mnist("test", data_dir=tmp_path, download=download, fallback="digits")
    message = str(record[0].message)
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert "scikit-learn's 8x8 handwritten digits" in message and "not MNIST" in message
    assert "\n" not in message and str(tmp_path) in message
    assert X_test.shape == (360, 8, 8) and X_test.dtype == np.float32
    assert y_test.shape == (360,) and y_test.dtype == np.int64
    assert X_test.min() == 0.0 and X_test.max() == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        X_train, y_train = data.load_mnist("train", data_dir=tmp_path, download=download, fallback="digits")
    assert X_train.shape == (1437, 8, 8) and set(np.unique(y_train)) == set(range(10))
    assert list(tmp_path.iterdir()) == []


def test_fallback_without_scikit_learn_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install scikit-learn"):
        data.load_mnist("test", data_dir=tmp_path, download=False, fallback="digits")


def test_fallback_is_not_used_when_mnist_is_there(tmp_path):
    _fake_mnist(tmp_path, n=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, _ = data.load_mnist("test", data_dir=tmp_path, fallback="digits")
    assert X.shape == (6, 28, 28)


# ----------------------------------------------------------------------------- the real test set


@pytest.fixture(scope="module")
def shared_mnist() -> Path:
    if not (SHARED_MNIST / "SHA256SUMS").is_file():
        pytest.skip(
            f"the real MNIST test set is not at {SHARED_MNIST} (../shared/data/mnist beside the repo)"
        )
    return SHARED_MNIST


def _sums(folder: Path) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text().split("\n")
    return {name.lstrip("*"): digest for digest, name in (line.split() for line in lines if line.strip())}


def test_real_test_set_matches_its_sums_and_the_module_checksums(shared_mnist):
    sums = _sums(shared_mnist)
    for name in TEST_FILES:
        assert sums[name] in data.MNIST_SHA256[name]
        assert hashlib.sha256((shared_mnist / name).read_bytes()).hexdigest() == sums[name]


def test_real_test_set_loads_with_the_real_class_counts(shared_mnist):
    X, y = data.load_mnist("test", data_dir=shared_mnist, download=False)
    assert X.shape == (10_000, 28, 28) and X.dtype == np.float32
    assert y.shape == (10_000,) and y.dtype == np.int64
    assert np.bincount(y, minlength=10).tolist() == MNIST_TEST_COUNTS
    assert X.min() == 0.0 and X.max() == 1.0
    assert abs(float(X.mean()) - 0.1325) < 0.001  # the well-known mean pixel of the test set
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
