"""Input checks shared by every nnlab module.

Every user-facing mistake (a wrong shape, NaN in the input, a label out of range) ends in one
sentence that names the module, what it expected, what it received, and a hint. All of them are
raised as ``ValueError`` from here, so the wording stays the same across the library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "NonFiniteError",
    "as_generator",
    "check_array",
    "check_finite",
    "check_labels",
    "fail",
    "format_shape",
    "hint_text",
]


class NonFiniteError(ValueError):
    """The ``ValueError`` of ``check_finite``: NaN or infinity where numbers belong.

    A subclass, so that ``fit`` can tell weights that blew up mid-training (a layer then refuses
    its non-finite input) from every other mistake, and treat it as divergence.
    """


def format_shape(shape: Sequence[int | str | None]) -> str:
    """Write a shape the way the book does: ``(N, 784)``; ``None`` entries print as their name."""
    parts = [str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def fail(owner: str, message: str, hint: str | None = None) -> ValueError:
    """Build (not raise) the ValueError every check uses: ``"<owner> <message>. <hint>"``."""
    text = f"{owner} {message}"
    if hint:
        text += f" {hint}"
    return ValueError(text)


def check_array(
    x: object,
    *,
    owner: str,
    name: str = "x",
    shape: Sequence[int | str | None] | None = None,
    dtype: np.dtype | type | None = None,
    hint: str | Callable[[tuple[int, ...]], str | None] | None = None,
    finite: bool = True,
) -> np.ndarray:
    r"""Return ``x`` as an ndarray whose shape matches ``shape``, or raise one clear ``ValueError``.

    ``shape`` lists the expected sizes; a string entry (``"N"``) matches any size and is printed by
    name, an integer must match exactly. ``dtype`` casts (no copy when it already matches); integer
    and boolean input is cast to float32 when ``dtype`` is None. ``hint`` may be a function of the
    shape received, called only when there is a mistake to explain (layers run this check at every
    step, so the hint is not built unless needed).

    Example:
        >>> check_array(np.zeros((32, 28, 28)), owner="Linear", shape=("N", 784),
        ...             hint="Did you forget Flatten?")
        Traceback (most recent call last):
        ValueError: Linear expected x of shape (N, 784); got (32, 28, 28). Did you forget Flatten?
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged lists and the like
        raise fail(owner, f"expected {name} as an array of numbers; got {type(x).__name__} ({exc})") from None
    if arr.dtype.kind not in "biufc":  # numbers and booleans only (kind codes: cheaper than issubdtype)
        raise fail(
            owner,
            f"expected {name} as an array of numbers; got dtype {arr.dtype}",
            hint_text(hint, arr.shape),
        )
    if shape is not None:
        if not _shape_matches(arr.shape, shape):
            raise fail(
                owner,
                f"expected {name} of shape {format_shape([s if s is not None else '?' for s in shape])};"
                f" got {format_shape(arr.shape)}.",
                hint_text(hint, arr.shape),
            )
    if dtype is not None:
        if arr.dtype != dtype:
            arr = arr.astype(dtype)
    elif arr.dtype.kind != "f":
        arr = arr.astype(np.float32)
    if finite:
        check_finite(arr, owner=owner, name=name)
    return arr


def _shape_matches(got: tuple[int, ...], want: Sequence[int | str | None]) -> bool:
    """True when every integer entry of ``want`` equals the size received (names and None match anything)."""
    if len(got) != len(want):
        return False
    for size, expected in zip(got, want):
        if size != expected and not (expected is None or isinstance(expected, str)):
            return False
    return True


def hint_text(
    hint: str | Callable[[tuple[int, ...]], str | None] | None, shape: tuple[int, ...]
) -> str | None:
    """The hint for a mistake: the text itself, or a function of the shape received."""
    return hint(tuple(shape)) if callable(hint) else hint


def check_finite(arr: np.ndarray, *, owner: str, name: str = "x") -> None:
    """Raise a sentence when ``arr`` holds NaN or infinity, naming how many and where the first is."""
    if np.isfinite(arr).all():
        return
    bad = ~np.isfinite(arr)
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    kinds = []
    if np.isnan(arr).any():
        kinds.append("NaN")
    if np.isinf(arr).any():
        kinds.append("infinity")
    error = fail(
        owner,
        f"expected finite values in {name}; got {int(bad.sum())} {' and '.join(kinds)} entries"
        f" (the first at index {first}).",
        "Check the data for missing values, or lower the learning rate if training diverged.",
    )
    raise NonFiniteError(str(error))


def check_labels(
    y: object, n_classes: int, *, owner: str, n: int | None = None, name: str = "target"
) -> np.ndarray:
    """Return integer class labels of shape (N,), each in ``0 .. n_classes-1``, or raise a sentence."""
    arr = np.asarray(y)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        want = format_shape(("N" if n is None else n,))
        raise fail(owner, f"expected {name} class labels of shape {want}; got {format_shape(arr.shape)}.")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0)):
            raise fail(
                owner,
                f"expected integer class labels in {name}; got dtype {arr.dtype}.",
                "Pass labels like [3, 0, 7], or one-hot rows of shape (N, C).",
            )
        arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        bad = arr[(arr < 0) | (arr >= n_classes)][0]
        raise fail(
            owner,
            f"expected class labels in 0..{n_classes - 1} for {n_classes} classes; got {int(bad)}.",
            "Does the last layer have one output per class?",
        )
    return arr.astype(np.int64, copy=False)


def as_generator(rng: object, *, owner: str = "init") -> np.random.Generator:
    """A ``numpy.random.Generator`` passes through; an int starts a new one from that seed; None draws fresh entropy."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise fail(owner, f"expected rng as a numpy.random.Generator or an int seed; got {type(rng).__name__}.")
