r"""Datasets for the book: the lectures' small tables, 2-D playgrounds, MNIST, and minibatches.

Three kinds of data, from smallest to largest:

- the lectures' own examples as ready ``(X, y)`` pairs: the party neuron, the logic gates, the half
  adder, the five-input overfitting table, and "will I pass the class?";
- 2-D playground sets like TensorFlow Playground's (circles, XOR quadrants, two Gaussians,
  spirals), small enough to plot a decision boundary over;
- MNIST, read from the four standard IDX files, downloaded once into a cache with a SHA-256 check,
  and replaced by scikit-learn's bundled 8x8 digits when asked to on a machine with no network.

``batches`` cuts any ``(X, y)`` into shuffled minibatches; ``fit`` uses it every epoch.
Randomness only comes from a ``numpy.random.Generator`` (or an int seed for one), so every set is
reproducible from its seed.
"""

from __future__ import annotations

import gzip as gzip_lib
import hashlib
import http.client
import itertools
import math
import os
import struct
import urllib.error
import urllib.request
import warnings
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ._checks import fail, format_shape

__all__ = [
    "MNIST_MIRRORS",
    "MNIST_SHA256",
    "OVERFIT_W",
    "PARTY_FEATURES",
    "PARTY_QUESTIONS",
    "PARTY_WEIGHTS",
    "PASS_BIAS",
    "PASS_WEIGHTS",
    "TRUE_W",
    "DownloadError",
    "batches",
    "circles",
    "half_adder",
    "load_mnist",
    "logic_gate",
    "overfitting_table",
    "party",
    "pass_the_class",
    "read_idx",
    "spirals",
    "two_gaussians",
    "write_idx",
    "xor_quadrants",
]


# ----------------------------------------------------------------------------- minibatches


def batches(
    X: np.ndarray,
    y: np.ndarray | None,
    batch_size: int,
    rng: np.random.Generator | int | None = None,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    r"""Yield ``(X_batch, y_batch)`` minibatches that together visit every example once.

    With ``shuffle=True`` the order is one ``rng.permutation(N)`` per call, so each epoch of
    minibatch gradient descent sees the examples in a new order:
    $$W \leftarrow W - \eta\,\frac{1}{|B|}\sum_{i \in B} \nabla_W L_i$$

    Shapes: X (N, ...) and y (N, ...) -> X_batch (B, ...) and y_batch (B, ...), with
    B = ``batch_size`` except for a smaller last batch (dropped with ``drop_last=True``).

    Args:
        X: the inputs, examples along the first axis.
        y: the targets, or None to yield ``(X_batch, None)``.
        batch_size: examples per batch, a positive integer.
        rng: a ``numpy.random.Generator`` or an int seed for the shuffling; None draws a fresh one.
        shuffle: False keeps the original order (and ignores ``rng``).
        drop_last: skip the last batch when it is smaller than ``batch_size``.

    Example:
        >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
        >>> [yb.tolist() for _, yb in batches(X, y, 2, rng=0)]
        [[2, 4], [3, 0], [1]]
    """
    X = np.asarray(X)
    if X.ndim == 0:
        raise fail("batches", "expected X with examples along its first axis; got a single number.")
    n = X.shape[0]
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != n:
            raise fail(
                "batches",
                f"expected X and y with the same number of examples; got X of shape {format_shape(X.shape)}"
                f" and y of shape {format_shape(y.shape)}.",
                "Each row of X needs one target in y.",
            )
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise fail("batches", f"expected batch_size to be a positive integer; got {batch_size!r}.")
    order = _as_rng(rng, "batches").permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    return _batch_iter(X, y, int(batch_size), order, stop)


def _batch_iter(
    X: np.ndarray, y: np.ndarray | None, batch_size: int, order: np.ndarray | None, stop: int
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """The generator behind ``batches``: slices (views) in order, fancy-indexed copies when shuffled."""
    for start in range(0, stop, batch_size):
        idx = slice(start, start + batch_size) if order is None else order[start : start + batch_size]
        yield X[idx], (None if y is None else y[idx])


# ----------------------------------------------------------------------------- checks and randomness


def _as_rng(rng: object, owner: str) -> np.random.Generator:
    """A Generator passes through; an int starts a new one from that seed; None draws fresh entropy."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise fail(
        owner,
        f"expected rng as a numpy.random.Generator or a non-negative int seed; got {rng!r}.",
        "Pass rng=np.random.default_rng(0), or rng=0.",
    )


def _check_n(n: object, owner: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise fail(owner, f"expected n, the number of examples, to be a positive integer; got {n!r}.")
    return int(n)


def _check_noise(noise: object, owner: str) -> float:
    if (
        isinstance(noise, bool)
        or not isinstance(noise, (int, float, np.integer, np.floating))
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise fail(owner, f"expected noise to be a number >= 0; got {noise!r}.", "noise=0 gives clean data.")
    return float(noise)


# -------------------------------------------------------------------------- the lectures' small tables

PARTY_FEATURES = ("exam tomorrow", "free drinks", "date tonight")
"""The party neuron's three binary inputs x1, x2, x3, in column order."""

PARTY_WEIGHTS = (-6.0, 3.0, 4.0)
"""Honchar's party neuron: weights (w1, w2, w3) for (exam, drinks, date), threshold 0."""

PARTY_QUESTIONS = (
    ("no exam tomorrow, and free drinks at the party", (0, 1, 0)),
    ("an exam tomorrow, but the free drinks are tempting", (1, 1, 0)),
    ("an exam tomorrow, free drinks, and the date of your dreams is calling", (1, 1, 1)),
)
"""Honchar's three questions as ``(description, x)``; the neuron answers 1 (party), 0, 1."""


def party() -> tuple[np.ndarray, np.ndarray]:
    r"""Honchar's party neuron: all 8 evenings of (exam, drinks, date) and the neuron's decision.

    $$y = \begin{cases} 1 & -6x_1 + 3x_2 + 4x_3 > 0 \\ 0 & \text{otherwise} \end{cases}$$

    X lists every combination of the binary inputs in counting order (000, 001, ..., 111), with
    columns ``PARTY_FEATURES``; y is the decision of the neuron with ``PARTY_WEIGHTS`` and
    threshold 0, as class indices (1 = party all night, 0 = stay at home).

    Shapes: X (8, 3) float32 -> y (8,) int64.

    Example:
        >>> X, y = party()
        >>> y.tolist()
        [0, 1, 1, 1, 0, 0, 0, 1]

    Chapter: 1, the perceptron.
    """
    X = np.array(list(itertools.product((0, 1), repeat=3)), dtype=np.float32)
    y = (X @ np.array(PARTY_WEIGHTS, dtype=np.float32) > 0).astype(np.int64)
    return X, y


_GATES = {
    "NOT": lambda a: 1 - a[:, 0],
    "AND": lambda a: a[:, 0] & a[:, 1],
    "OR": lambda a: a[:, 0] | a[:, 1],
    "XOR": lambda a: a[:, 0] ^ a[:, 1],
}


def logic_gate(name: str) -> tuple[np.ndarray, np.ndarray]:
    r"""The truth table of a logic gate: ``"NOT"``, ``"AND"``, ``"OR"`` or ``"XOR"``.

    $$\mathrm{XOR}(x_1, x_2) = x_1 + x_2 - 2x_1x_2$$

    Inputs are 0/1 in counting order ((0, 0), (0, 1), (1, 0), (1, 1); NOT has (0,) and (1,)).
    Targets are float32 columns, ready for a sigmoid output and a squared or cross-entropy loss;
    for a perceptron's (N,) targets use ``y[:, 0]``. AND and OR are linearly separable, XOR is not.

    Shapes: X (4, 2) -> y (4, 1) float32; NOT: X (2, 1) -> y (2, 1).

    Example:
        >>> X, y = logic_gate("XOR")
        >>> y[:, 0].tolist()
        [0.0, 1.0, 1.0, 0.0]

    Chapter: 1, the perceptron (NOT, AND, OR); 3, backpropagation (XOR); 4, saturation (NOT).
    """
    key = name.upper() if isinstance(name, str) else name
    if key not in _GATES:
        raise fail(
            "logic_gate",
            f"expected name to be one of {', '.join(repr(g) for g in _GATES)}; got {name!r}.",
        )
    inputs = np.array(list(itertools.product((0, 1), repeat=1 if key == "NOT" else 2)), dtype=np.int64)
    return inputs.astype(np.float32), _GATES[key](inputs)[:, None].astype(np.float32)


def half_adder() -> tuple[np.ndarray, np.ndarray]:
    r"""The half adder: two bits in, their sum as two bits (carry, sum) out.

    $$\text{carry} = x_1 \wedge x_2,\qquad \text{sum} = x_1 \oplus x_2$$

    The targets are exactly the lectures' table: (0, 0), (0, 1), (0, 1), (1, 0) for the inputs
    (0, 0), (0, 1), (1, 0), (1, 1), i.e. the binary number x1 + x2 with the carry column first.
    They are float32 (N, 2) targets for a network with two sigmoid outputs.

    Shapes: X (4, 2) float32 -> y (4, 2) float32.

    Example:
        >>> X, y = half_adder()
        >>> y.tolist()
        [[0.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]

    Chapter: 3, backpropagation.
    """
    X = np.array(list(itertools.product((0, 1), repeat=2)), dtype=np.float32)
    total = X.sum(axis=1)
    y = np.stack([total // 2, total % 2], axis=1).astype(np.float32)
    return X, y


TRUE_W = (2.0, 0.0, 0.0, 0.0, 0.0)
"""The weights that generated the overfitting table: y = 2 x1."""

OVERFIT_W = (0.0, 2.0, 4.0, 6.0, 8.0)
"""Weights that also fit the overfitting table exactly, by memorising one input per example."""


def overfitting_table() -> tuple[np.ndarray, np.ndarray]:
    r"""The lectures' five-input table that two very different weight vectors fit exactly.

    $$\hat y = \sum_{i=1}^{5} w_i x_i,\qquad X\,W_{\text{true}} = X\,W_{\text{overfit}} = y$$

    ``TRUE_W = (2, 0, 0, 0, 0)`` is the rule behind the data (y = 2 x1); ``OVERFIT_W =
    (0, 2, 4, 6, 8)`` fits the four rows just as well through inputs x2..x5, each of which is 1 in
    a single row, and so fails on any new example. y is a float32 regression target.

    Shapes: X (4, 5) float32 -> y (4,) float32.

    Example:
        >>> X, y = overfitting_table()
        >>> (X @ np.array(TRUE_W)).tolist() == (X @ np.array(OVERFIT_W)).tolist() == y.tolist()
        True
    """
    X = np.array(
        [[1, 1, 0, 0, 0], [2, 0, 1, 0, 0], [3, 0, 0, 1, 0], [4, 0, 0, 0, 1]],
        dtype=np.float32,
    )
    y = np.array([2, 4, 6, 8], dtype=np.float32)
    return X, y


PASS_WEIGHTS = (0.5, 0.5)
"""The rule behind ``pass_the_class``: weights for (lectures attended, hours on the project)."""

PASS_BIAS = -5.0
"""The rule behind ``pass_the_class``: its bias, so that 10 lectures + hours is the boundary."""


def pass_the_class(
    n: int = 100, *, rng: np.random.Generator | int | None = None, noise: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    r"""A two-feature "will I pass the class?" set: lectures attended, hours on the final project.

    $$P(y = 1 \mid x) = \sigma\!\left(\frac{0.5\,x_1 + 0.5\,x_2 - 5}{\text{noise}}\right)$$

    x1 is a whole number of lectures attended (0 to 10), x2 the hours spent on the final project
    (0 to 10, to one decimal). Each student passes (y = 1) with the logistic probability above, so
    logistic regression is the right model and recovers ``PASS_WEIGHTS`` / noise and
    ``PASS_BIAS`` / noise; ``noise=0`` gives the clean rule y = 1 iff x1 + x2 > 10.

    Shapes: X (n, 2) float32 -> y (n,) int64.

    Args:
        n: the number of students.
        rng: a Generator or an int seed.
        noise: the temperature of the logistic rule; larger means more students on the "wrong"
            side of the boundary.

    Example:
        >>> X, y = pass_the_class(5, rng=0, noise=0)
        >>> X.shape, y.dtype
        ((5, 2), dtype('int64'))

    Chapter: 1, the perceptron (logistic regression as a neuron).
    """
    n = _check_n(n, "pass_the_class")
    noise = _check_noise(noise, "pass_the_class")
    rng = _as_rng(rng, "pass_the_class")
    lectures = rng.integers(0, 11, size=n).astype(np.float64)
    hours = np.round(rng.uniform(0.0, 10.0, size=n), 1)
    z = PASS_WEIGHTS[0] * lectures + PASS_WEIGHTS[1] * hours + PASS_BIAS
    # z + noise * (standard logistic draw) > 0 has exactly the probability sigma(z / noise).
    u = rng.uniform(np.finfo(np.float64).tiny, 1.0, size=n)
    y = (z + noise * np.log(u / (1.0 - u)) > 0).astype(np.int64)
    return np.stack([lectures, hours], axis=1).astype(np.float32), y


# ----------------------------------------------------------------------------- 2-D playgrounds


def _two_class_labels(n: int) -> np.ndarray:
    """n // 2 or (n + 1) // 2 examples of each class, class 0 first (shuffled by the caller)."""
    return np.repeat(np.array([0, 1], dtype=np.int64), [n - n // 2, n // 2])


def _finish(
    X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Add Gaussian noise, shuffle the examples, and cast to the book's dtypes."""
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def circles(
    n: int = 200, *, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""A disc inside a ring: class 0 within radius 0.5 of the origin, class 1 from 0.7 to 1.

    $$x = r(\cos\theta, \sin\theta) + \varepsilon,\quad \theta \sim U(0, 2\pi),\quad
      \varepsilon \sim \mathcal N(0, \text{noise}^2 I)$$

    No straight line separates the classes; one hidden layer of a few units does.

    Shapes: X (n, 2) float32 -> y (n,) int64, classes balanced (sizes differ by at most 1), order
    shuffled.

    Example:
        >>> X, y = circles(200, noise=0.1, rng=0)
    """
    n, noise, rng = _check_n(n, "circles"), _check_noise(noise, "circles"), _as_rng(rng, "circles")
    y = _two_class_labels(n)
    radius = np.where(y == 0, rng.uniform(0.0, 0.5, n), rng.uniform(0.7, 1.0, n))
    theta = rng.uniform(0.0, 2 * np.pi, n)
    return _finish(radius[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1), y, noise, rng)


def xor_quadrants(
    n: int = 200, *, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""XOR on the plane: class 1 where the two coordinates have opposite signs.

    $$y = [x_1 > 0] \oplus [x_2 > 0],\qquad |x_j| \sim U(0.1, 1)$$

    Points stay 0.1 away from the axes before ``noise`` (Gaussian, per coordinate) is added.

    Shapes: X (n, 2) float32 -> y (n,) int64, classes balanced, order shuffled.

    Example:
        >>> X, y = xor_quadrants(200, noise=0.0, rng=0)
        >>> bool(np.all((X[:, 0] * X[:, 1] < 0) == (y == 1)))
        True
    """
    owner = "xor_quadrants"
    n, noise, rng = _check_n(n, owner), _check_noise(noise, owner), _as_rng(rng, owner)
    y = _two_class_labels(n)
    sign1 = rng.choice(np.array([-1.0, 1.0]), size=n)
    sign2 = np.where(y == 0, sign1, -sign1)
    magnitude = rng.uniform(0.1, 1.0, size=(n, 2))
    return _finish(magnitude * np.stack([sign1, sign2], axis=1), y, noise, rng)


def two_gaussians(
    n: int = 200, *, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Two round blobs: class 0 around (-0.5, -0.5), class 1 around (0.5, 0.5).

    $$x \sim \mathcal N\!\left(\mu_y,\ (0.25^2 + \text{noise}^2)\, I\right),\qquad
      \mu_0 = (-0.5, -0.5),\ \mu_1 = (0.5, 0.5)$$

    Each blob has standard deviation 0.25 before ``noise`` is added; a single neuron separates
    them, and larger noise makes them overlap.

    Shapes: X (n, 2) float32 -> y (n,) int64, classes balanced, order shuffled.

    Example:
        >>> X, y = two_gaussians(200, rng=0)
    """
    owner = "two_gaussians"
    n, noise, rng = _check_n(n, owner), _check_noise(noise, owner), _as_rng(rng, owner)
    y = _two_class_labels(n)
    centre = np.where(y[:, None] == 0, -0.5, 0.5)
    return _finish(centre + 0.25 * rng.standard_normal((n, 2)), y, noise, rng)


def spirals(
    n: int = 200, *, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaved spirals, each turning 1.75 times around the origin.

    $$x = s(\sin t, \cos t) + \varepsilon,\quad t = 3.5\pi s + \pi y,\quad s \sim U(0, 1)$$

    The hardest playground set: class 1 is class 0 turned by half a circle.

    Shapes: X (n, 2) float32 -> y (n,) int64, classes balanced, order shuffled.

    Example:
        >>> X, y = spirals(200, noise=0.0, rng=0)
        >>> bool(np.all(np.hypot(X[:, 0], X[:, 1]) <= 1.0))
        True
    """
    n, noise, rng = _check_n(n, "spirals"), _check_noise(noise, "spirals"), _as_rng(rng, "spirals")
    y = _two_class_labels(n)
    s = rng.uniform(0.0, 1.0, n)
    t = 1.75 * 2 * np.pi * s + np.pi * y
    return _finish(s[:, None] * np.stack([np.sin(t), np.cos(t)], axis=1), y, noise, rng)


# ----------------------------------------------------------------------------- IDX files

# IDX type codes (the third byte of the magic number) and the big-endian dtypes they stand for.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {np.dtype(code).newbyteorder("="): type_code for type_code, code in _IDX_DTYPES.items()}
_READ_IDX_HINT = "Delete it and download a fresh copy."


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    r"""Read an IDX file (the format MNIST ships in), gzipped or not, into a NumPy array.

    The header is 4 magic bytes ``00 00 <type> <ndim>`` (type 0x08 = unsigned byte, ...), then
    ``ndim`` big-endian uint32 sizes, then the data. Gzip is recognised by the file's first bytes,
    not its name. The size in the header is checked against the data before anything is reshaped,
    so a truncated or foreign file ends in a sentence naming it.

    Shapes: a file with sizes (d1, ..., dk) -> array (d1, ..., dk) in native byte order.

    Example:
        >>> labels = read_idx("t10k-labels-idx1-ubyte.gz")       # doctest: +SKIP
        >>> labels.shape, labels.dtype                            # doctest: +SKIP
        ((10000,), dtype('uint8'))
    """
    return _read_idx(Path(path), owner="read_idx", hint=_READ_IDX_HINT)


def _read_idx(path: Path, *, owner: str, hint: str, magic: int | None = None) -> np.ndarray:
    """``read_idx`` with the caller's name and fix in its messages, and optionally one magic number."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip_lib.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise fail(
                owner,
                f"expected a complete gzip file in {path}; got a truncated or damaged one ({exc}).",
                hint,
            ) from None
    if len(data) < 4:
        raise fail(owner, f"expected an IDX header of at least 4 bytes in {path}; got {len(data)}.", hint)
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise fail(
            owner,
            f"expected an IDX file in {path}, starting with the bytes 00 00 <type> <ndim>;"
            f" got {data[:4].hex(' ')}, which is not an IDX header.",
            hint,
        )
    found = int.from_bytes(data[:4], "big")
    if magic is not None and found != magic:
        raise fail(owner, f"expected magic number 0x{magic:08X} in {path}; got 0x{found:08X}.", hint)
    header = 4 + 4 * ndim
    if len(data) < header:
        raise fail(
            owner,
            f"expected {header} header bytes for {ndim} sizes in {path}; got {len(data)}: it is truncated.",
            hint,
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_IDX_DTYPES[type_code])
    want, got = math.prod(shape) * dtype.itemsize, len(data) - header
    if got != want:
        problem = "it is truncated" if got < want else "it has extra bytes at the end"
        raise fail(
            owner,
            f"expected {want:,} data bytes in {path} for shape {format_shape(shape)} of {dtype.name};"
            f" got {got:,}: {problem}.",
            hint,
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray, *, gzip: bool | None = None) -> Path:
    r"""Write ``array`` as an IDX file that ``read_idx`` (and any MNIST reader) can load.

    Supported dtypes: uint8, int8, int16, int32, float32, float64. ``gzip=None`` compresses when
    the name ends in ``.gz``; the gzip stream has no time stamp, so the same array always gives the
    same bytes (and the same SHA-256).

    Shapes: array (d1, ..., dk) with 1 <= k <= 255 -> a file with header sizes (d1, ..., dk).

    Example:
        >>> labels = np.array([3, 1, 4], dtype=np.uint8)
        >>> path = write_idx(tmp / "labels-idx1-ubyte.gz", labels)    # doctest: +SKIP
        >>> read_idx(path).tolist()                                   # doctest: +SKIP
        [3, 1, 4]
    """
    path = Path(path)
    arr = np.asarray(array)
    native = arr.dtype.newbyteorder("=")
    if native not in _IDX_CODES:
        raise fail(
            "write_idx",
            f"expected an array of dtype uint8, int8, int16, int32, float32 or float64; got {arr.dtype}.",
            "Cast it first, e.g. array.astype(np.uint8).",
        )
    if not 1 <= arr.ndim <= 255:
        raise fail("write_idx", f"expected an array with 1 to 255 dimensions; got {arr.ndim}.")
    header = bytes([0, 0, _IDX_CODES[native], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr, dtype=native.newbyteorder(">")).tobytes()
    if gzip if gzip is not None else path.name.endswith(".gz"):
        payload = gzip_lib.compress(payload, mtime=0)
    path.write_bytes(payload)
    return path


# ----------------------------------------------------------------------------- MNIST

MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Where ``load_mnist`` downloads the four gzipped IDX files from, tried in order."""

MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",),
    "train-labels-idx1-ubyte.gz": ("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",),
    # Two gzip files of the test set are in circulation: the mirrors' (first) and a copy of the same
    # size whose gzip bytes differ but whose decompressed bytes are identical. Both are accepted.
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "9fe7630f90c0e670227960a294637bc2e78a29d724810e24204eb342c9f033a1",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "2c54c993d38068b3c3adb720a5cdee07065a066a7b36e7d1df720548d6359eba",
    ),
}
"""The accepted SHA-256 digests of each gzipped MNIST file; a download must match one of them."""

_MNIST_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_MAGIC_IMAGES, _MAGIC_LABELS = 0x00000803, 0x00000801
_DIGITS_TRAIN = 1437  # the first 80 % of scikit-learn's 1,797 digits; the other 360 are the test split
_CHUNK = 1 << 16


class DownloadError(OSError):
    """No mirror delivered a file with the right SHA-256; ``failures`` lists (url, why) pairs."""

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)


def load_mnist(
    split: str = "train",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    fallback: str | None = None,
    mirrors: Sequence[str] | None = None,
    timeout: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Load the MNIST handwritten digits: 60,000 training or 10,000 test images and their labels.

    $$X_{n,h,w} = \frac{\text{pixel}_{n,h,w}}{255} \in [0, 1]$$

    The four standard IDX files (``train-images-idx3-ubyte``, ..., gzipped or not) are read from
    ``data_dir``, else from ``$NNLAB_DATA_DIR``, else from a per-user cache folder. Files that are
    missing are downloaded there (``download=True``) from ``MNIST_MIRRORS`` with a progress bar
    (``NNLAB_PROGRESS=0`` hides it), at most ``timeout`` seconds of silence per connection, and a
    SHA-256 check: a download goes to ``<file>.part`` and becomes ``<file>`` only when its digest is
    in ``MNIST_SHA256``, so an interrupted or corrupt download never leaves a bad file behind.

    With ``fallback="digits"``, a machine that has no MNIST and no network gets scikit-learn's
    bundled 8x8 digits instead (1,437 train / 360 test images, scaled to [0, 1]), with a warning
    that says so; every chapter still runs, on smaller pictures.

    Shapes: -> images (N, 28, 28) float32 and labels (N,) int64 in 0..9; N = 60,000 (train) or
    10,000 (test). The digits fallback gives images (N, 8, 8).

    Args:
        split: ``"train"`` or ``"test"``.
        data_dir: the folder holding (or to receive) the four files.
        download: fetch missing files; False raises ``FileNotFoundError`` instead.
        fallback: None, or ``"digits"`` for scikit-learn's 8x8 digits when MNIST cannot be had.
        mirrors: base URLs to try instead of ``MNIST_MIRRORS``.
        timeout: seconds to wait for a connection or for the next bytes.

    Raises:
        DownloadError: no mirror delivered a good copy (one line, naming each mirror's failure).
        ValueError: a file is truncated, corrupt, or not the IDX file it should be.

    Example:
        >>> X, y = load_mnist("test")                 # doctest: +SKIP
        >>> X.shape, X.dtype, y[:5].tolist()          # doctest: +SKIP
        ((10000, 28, 28), dtype('float32'), [7, 2, 1, 0, 4])
    """
    if split not in _MNIST_STEMS:
        raise fail("load_mnist", f"expected split 'train' or 'test'; got {split!r}.")
    if fallback not in (None, "digits"):
        raise fail(
            "load_mnist",
            f"expected fallback None or 'digits'; got {fallback!r}.",
            "fallback='digits' uses scikit-learn's 8x8 digits when MNIST cannot be had.",
        )
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise fail("load_mnist", f"expected timeout to be a positive number of seconds; got {timeout!r}.")
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    folder = _mnist_dir(data_dir)
    paths = []
    for stem in _MNIST_STEMS[split]:
        path = next((p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()), None)
        if path is None:
            if not download:
                why = f"MNIST is not in {folder} and download=False"
                if fallback == "digits":
                    return _load_digits(split, why)
                raise FileNotFoundError(
                    f"load_mnist found no {stem}(.gz) in {folder}, and download=False. Put the four MNIST"
                    " files there, pass data_dir= the folder that has them, or use download=True."
                )
            try:
                path = _download(
                    MNIST_MIRRORS if mirrors is None else mirrors,
                    f"{stem}.gz",
                    MNIST_SHA256[f"{stem}.gz"],
                    folder,
                    timeout,
                )
            except DownloadError as exc:
                if fallback != "digits":
                    raise
                failures = "; ".join(f"{url}: {why}" for url, why in exc.failures) or str(exc)
                return _load_digits(split, f"MNIST is not in {folder} and the download failed ({failures})")
        paths.append(path)

    hint = (
        "Delete it and run load_mnist again to download a fresh copy, or pass data_dir= a folder"
        " with good copies."
    )
    images = _read_idx(paths[0], owner="load_mnist", hint=hint, magic=_MAGIC_IMAGES)
    labels = _read_idx(paths[1], owner="load_mnist", hint=hint, magic=_MAGIC_LABELS)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise fail(
            "load_mnist",
            f"expected images of shape (N, 28, 28) in {paths[0]}; got {format_shape(images.shape)}.",
            hint,
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise fail(
            "load_mnist",
            f"expected {images.shape[0]:,} labels in {paths[1]}, one per image in {paths[0].name};"
            f" got shape {format_shape(labels.shape)}.",
            "The two files come from different sets: " + hint[0].lower() + hint[1:],
        )
    if labels.size and labels.max() > 9:
        raise fail(
            "load_mnist",
            f"expected labels 0..9 in {paths[1]}; got {int(labels.max())}.",
            hint,
        )
    X = images.astype(np.float32)
    X /= 255.0
    return X, labels.astype(np.int64)


def _mnist_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """``data_dir``, else ``$NNLAB_DATA_DIR``, else ``<user cache>/nnlab/mnist``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get("NNLAB_DATA_DIR"):
        return Path(os.environ["NNLAB_DATA_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnlab")) / "mnist"


def _progress_enabled() -> bool:
    return os.environ.get("NNLAB_PROGRESS", "1").strip().lower() not in ("0", "false", "off", "no")


def _download(
    url_list: Sequence[str],
    filename: str,
    sha256: str | Sequence[str],
    dest_dir: Path,
    timeout: float,
) -> Path:
    """Fetch ``filename`` from the first base URL in ``url_list`` whose bytes have an accepted SHA-256.

    Each attempt streams into ``<dest_dir>/<filename>.part`` and is renamed to ``<filename>`` only
    after the digest matches; on any failure the ``.part`` is deleted and the next mirror is tried.
    Raises ``DownloadError`` (one line) when none succeeds.
    """
    from tqdm.auto import tqdm

    accepted = {sha256} if isinstance(sha256, str) else set(sha256)
    dest_dir = Path(dest_dir)
    target, part = dest_dir / filename, dest_dir / f"{filename}.part"
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"load_mnist could not create the folder {dest_dir} for {filename} ({exc}). Pass data_dir= a"
            " writable folder, or set NNLAB_DATA_DIR to one."
        ) from None
    failures: list[tuple[str, str]] = []
    for mirror in url_list:
        url = mirror.rstrip("/") + "/" + filename
        try:
            digest, received, expected = hashlib.sha256(), 0, None
            with urllib.request.urlopen(url, timeout=timeout) as response, open(part, "wb") as out:
                expected = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(
                    total=expected,
                    desc=filename,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    disable=not _progress_enabled(),
                ) as bar:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
            if expected is not None and received != expected:
                failures.append((url, f"the connection closed after {received:,} of {expected:,} bytes"))
            elif digest.hexdigest() not in accepted:
                failures.append((url, f"SHA-256 mismatch (got {digest.hexdigest()[:12]}...)"))
            else:
                os.replace(part, target)
                return target
        except (OSError, http.client.HTTPException) as exc:
            failures.append((url, _why(exc, timeout)))
        finally:
            part.unlink(missing_ok=True)
    tried = "; ".join(f"{url} ({why})" for url, why in failures) or "no mirrors were given"
    raise DownloadError(
        f"load_mnist could not download {filename}: {tried}. Put the four MNIST files in a folder and"
        ' pass data_dir=, or set NNLAB_DATA_DIR to it; fallback="digits" uses scikit-learn\'s 8x8'
        " digits instead.",
        failures,
    )


def _why(exc: BaseException, timeout: float) -> str:
    """A few words on why one mirror failed: 'HTTP 404 Not Found', 'no answer within 10 s', ..."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed early"
    text = str(exc.reason) if isinstance(exc, urllib.error.URLError) else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _load_digits(split: str, why: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits, split 1,437 / 360, scaled to [0, 1], with a warning."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            'load_mnist(fallback="digits") needs scikit-learn for its bundled 8x8 digits: run'
            f" pip install scikit-learn (or get MNIST itself; {why})."
        ) from None
    digits = load_digits()
    part = slice(None, _DIGITS_TRAIN) if split == "train" else slice(_DIGITS_TRAIN, None)
    X = (digits.images[part] / 16.0).astype(np.float32)
    y = digits.target[part].astype(np.int64)
    warnings.warn(
        f"load_mnist is returning scikit-learn's 8x8 handwritten digits ({len(y):,} {split} images of"
        f" shape (8, 8)), not MNIST, because {why}.",
        UserWarning,
        stacklevel=3,
    )
    return X, y
