r"""CNN filters: cross-correlation, stride and padding, hand-made and learned filters, the lectures' toy network.

A convolution layer slides a kernel $K$ over an image $I$ and takes a weighted sum at every
position. Like Olteanu's lecture (and every deep-learning library) it computes the cross-correlation

$$S(i, j) = \sum_m \sum_n I(i s + m,\ j s + n)\, K(m, n)$$

on the image padded with $p$ rows and columns of zeros, with stride $s$. An $n \times n$ image and a
$k \times k$ kernel give an output of side

$$n_{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1,$$

and when $s$ does not divide $n + 2p - k$ the last $(n + 2p - k) \bmod s$ rows and columns are never read.

The lessons are ``conv_geometry`` (sliders for the image size, kernel size, stride and padding,
drawing which input cells an output reads) and ``filter_playground`` (an editable 3x3 filter with
presets, applied live to a real digit).

Chapter: 7, CNN filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._core import Lesson

__all__ = [
    "PRESETS",
    "conv_geometry",
    "convolve",
    "cross_correlate",
    "filter_figure",
    "filter_playground",
    "geometry_figure",
    "output_side",
    "small_cnn",
    "toy_network",
    "unread",
]

BLUE, VERMILLION, GREEN, ORANGE, SKY = "#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9"

PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
    "blur": np.full((3, 3), 1.0 / 9.0),
    "vertical edge": np.array([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]]),
    "horizontal edge": np.array([[-1.0, -1.0, -1.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]),
    "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
}
"""The filter playground's 3x3 presets. The edge filters answer positively where the pixel values rise
from left to right (vertical edge) or from top to bottom (horizontal edge): on a digit, whose values are
its ink, the side of a stroke where the ink begins."""


# ----------------------------------------------------------------------------- the formulas
def output_side(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    r"""$n_{out} = \lfloor (n + 2p - k) / s \rfloor + 1$: the side of the output of a k x k window on an n x n image.

    Returns 0 when the kernel is larger than the padded image (no window fits).

    Example:
        >>> output_side(28, 5), output_side(28, 5, padding=2), output_side(7, 3, stride=2)
        (24, 28, 3)
    """
    if n + 2 * padding < k:
        return 0
    return (n + 2 * padding - k) // stride + 1  # n_out = ⌊(n + 2p − k)/s⌋ + 1


def unread(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    r"""How many of the padded image's last rows (and columns) no window reads: $(n + 2p - k) \bmod s$.

    0 means the stride fits: the windows end exactly at the padded image's last row.

    Example:
        >>> unread(7, 3, stride=2), unread(8, 3, stride=2)
        (0, 1)
    """
    if n + 2 * padding < k:
        return n + 2 * padding
    return (n + 2 * padding - k) % stride  # (n + 2p − k) mod s


def cross_correlate(image, kernel, stride: int = 1, padding: int = 0) -> np.ndarray:
    r"""The lectures' $S(i, j) = \sum_m \sum_n I(i s + m, j s + n) K(m, n)$, one loop per index.

    Shapes: image (H, W), kernel (kH, kW) -> (H_out, W_out). What ``Conv2d`` computes for one channel,
    one filter and no bias.

    Example:
        >>> cross_correlate(np.arange(9.0).reshape(3, 3), np.array([[1.0, 0.0], [0.0, -1.0]]))
        array([[-4., -4.],
               [-4., -4.]])
    """
    I = np.pad(np.asarray(image, dtype=np.float64), padding)  # zeros around the border
    K = np.asarray(kernel, dtype=np.float64)
    kH, kW = K.shape
    H_out = output_side(I.shape[0], kH, stride)
    W_out = output_side(I.shape[1], kW, stride)
    S = np.zeros((H_out, W_out))
    for i in range(H_out):  # every output row
        for j in range(W_out):  # every output column
            for m in range(kH):  # every kernel row
                for n in range(kW):  # every kernel column
                    S[i, j] += (
                        I[i * stride + m, j * stride + n] * K[m, n]
                    )  # S(i, j) += I(is + m, js + n) K(m, n)
    return S


def _cross_correlate_by_offsets(image, kernel, padding: int = 0) -> np.ndarray:
    """``cross_correlate`` at stride 1 with one array operation per kernel entry (the lessons' redraws);
    tested equal to the loops."""
    I = np.pad(np.asarray(image, dtype=np.float64), padding)
    K = np.asarray(kernel, dtype=np.float64)
    H_out, W_out = I.shape[0] - K.shape[0] + 1, I.shape[1] - K.shape[1] + 1
    S = np.zeros((H_out, W_out))
    for m, n in np.ndindex(K.shape):
        S += I[m : m + H_out, n : n + W_out] * K[m, n]  # every output's term I(i + m, j + n) K(m, n) at once
    return S


def convolve(image, kernel, stride: int = 1, padding: int = 0) -> np.ndarray:
    r"""The convolution of mathematics: the cross-correlation with the kernel flipped in both directions.

    $(I \star K)(i, j) = \sum_m \sum_n I(i + m, j + n)\, K(k_H - 1 - m, k_W - 1 - n)$. A learned kernel
    can be flipped at no cost, which is why networks use the cross-correlation and still say "convolution".

    Example:
        >>> convolve(np.arange(9.0).reshape(3, 3), np.array([[1.0, 0.0], [0.0, -1.0]]))
        array([[4., 4.],
               [4., 4.]])
    """
    return cross_correlate(image, np.flip(np.asarray(kernel)), stride, padding)


# ----------------------------------------------------------------------------- the networks
def toy_network(rng: Any = 0, side: int = 28):
    r"""The lectures' toy network (Olteanu, after Jeremy Howard's spreadsheet) for side x side digits, in np_nn.

    | layer | output |
    | --- | --- |
    | Conv2d(1, 2, 3), ReLU: two 3x3 filters | 2 x 26 x 26 |
    | Conv2d(2, 2, 3), ReLU: two 3x3x2 filters | 2 x 24 x 24 |
    | MaxPool2d(2) | 2 x 12 x 12 |
    | Flatten, Linear(288, 10): one dense weight per value and class | 10 |

    (the sizes for ``side=28``, MNIST's; ``side=8`` builds it for the 8x8 fallback digits, with
    Linear(18, 10)), and a softmax for the 10 class probabilities (inside ``CrossEntropyLoss`` when training).
    The first layer starts as the horizontal and vertical edge filters of ``PRESETS``.

    Example:
        >>> toy_network()(np.zeros((1, 1, 28, 28), dtype=np.float32)).shape
        (1, 10)
    """
    from .. import np_nn as nn
    from ..np_nn.conv import Conv2d, MaxPool2d

    gen = np.random.default_rng(rng)
    net = nn.Sequential(
        Conv2d(1, 2, 3, rng=gen), nn.ReLU(),
        Conv2d(2, 2, 3, rng=gen), nn.ReLU(),
        MaxPool2d(2), nn.Flatten(),
        nn.Linear(2 * ((side - 4) // 2) ** 2, 10, rng=gen),  # two 3x3 convolutions take 4, the pool halves
    )  # fmt: skip
    net.params["0.W"][:, 0] = np.stack([PRESETS["horizontal edge"], PRESETS["vertical edge"]])
    return net


def small_cnn(filters: int = 8, rng: Any = 0, side: int = 28):
    """A small CNN to learn its own filters: Conv2d(1, filters, 5), ReLU, MaxPool2d(2), Flatten, Linear(., 10).

    For side x side digits: filters x (side − 4)² after the convolution, filters x ((side − 4) / 2)²
    after the pool (24 and 12 for MNIST's 28; 4 and 2 for the 8x8 fallback digits).

    Example:
        >>> small_cnn()(np.zeros((2, 1, 28, 28), dtype=np.float32)).shape
        (2, 10)
    """
    from .. import np_nn as nn
    from ..np_nn.conv import Conv2d, MaxPool2d

    gen = np.random.default_rng(rng)
    return nn.Sequential(
        Conv2d(1, filters, 5, init="he", rng=gen, fast=True), nn.ReLU(), MaxPool2d(2), nn.Flatten(),
        nn.Linear(filters * ((side - 4) // 2) ** 2, 10, rng=gen),
    )  # fmt: skip


# ----------------------------------------------------------------------------- lesson: geometry
_MAX = 14  # the largest padded side the sliders allow: 10 + 2·2
# cell colours of the input grid: padding, read, never read, read by the chosen output (input / padding)
_GRID_COLOURS = ["#DDDDDD", "#A6CEE3", ORANGE, BLUE, "#555555"]
PADDING, READ, NEVER_READ, WINDOW, WINDOW_ON_PADDING = range(5)


def geometry(n: int, k: int, stride: int, padding: int, row: int = 0, col: int = 0) -> dict:
    """What ``conv_geometry`` draws, as arrays: cell codes of the padded input and of the output.

    ``codes`` (n + 2p, n + 2p) holds ``PADDING``, ``READ``, ``NEVER_READ``, ``WINDOW`` or
    ``WINDOW_ON_PADDING`` for each cell; ``out`` (n_out, n_out) is 1 at the chosen output
    (``row``, ``col``, clamped to the output), else 0; ``chosen`` is that output's position.
    """
    N, n_out = n + 2 * padding, output_side(n, k, stride, padding)
    inside = np.zeros((N, N), dtype=bool)
    inside[padding : padding + n, padding : padding + n] = True
    covered = np.zeros(N, dtype=bool)
    for i in range(n_out):
        covered[i * stride : i * stride + k] = True  # rows (and columns) some window reads
    read = covered[:, None] & covered[None, :]
    codes = np.where(inside, np.where(read, READ, NEVER_READ), PADDING)
    chosen = (min(row, n_out - 1), min(col, n_out - 1)) if n_out else None
    out = np.zeros((n_out, n_out), dtype=int)
    if chosen is not None:
        i, j = chosen
        window = np.s_[i * stride : i * stride + k, j * stride : j * stride + k]
        codes[window] = np.where(inside[window], WINDOW, WINDOW_ON_PADDING)
        out[i, j] = 1
    return {
        "codes": codes,
        "out": out,
        "chosen": chosen,
        "n_out": n_out,
        "unread": unread(n, k, stride, padding),
    }


def _geometry_text(n, k, stride, padding, g) -> str:
    formula = f"n_out = ⌊(n + 2p − k)/s⌋ + 1 = ⌊({n} + {2 * padding} − {k})/{stride}⌋ + 1 = {g['n_out']}"
    if g["n_out"] == 0:
        return f"the {k}x{k} kernel is larger than the {n + 2 * padding}x{n + 2 * padding} padded image: no output"
    if g["unread"]:
        rows = "row and column" if g["unread"] == 1 else f"{g['unread']} rows and columns"
        fits = (
            f"the stride does not fit: (n + 2p − k) mod s = {g['unread']}, so the last {rows} are never read"
        )
    else:
        fits = "the stride fits: every row and column is read"
    return f"{formula}\n{fits}"


def _grid_image(codes: np.ndarray, colours: list[str], cell: int = 12) -> np.ndarray:
    """An RGB picture of a grid of codes, ``cell`` pixels a cell with a white line between cells: one image to draw."""
    from matplotlib.colors import to_rgb

    palette = np.array([to_rgb(c) for c in colours])
    picture = np.repeat(np.repeat(palette[codes], cell, axis=0), cell, axis=1)
    picture[::cell, :] = 1.0  # white separators
    picture[:, ::cell] = 1.0
    return picture


def _draw_geometry(axes, values: dict, artists: dict | None) -> tuple[dict, str]:
    from matplotlib.patches import Rectangle

    n, k, s, p = values["size"], values["kernel"], values["stride"], values["padding"]
    g = geometry(n, k, s, p, values.get("row", 0), values.get("col", 0))
    N, n_out = n + 2 * p, g["n_out"]
    side = max(n_out, 1)
    out_codes = g["out"] if n_out else np.zeros((1, 1), dtype=int)
    ax_in, ax_out = axes
    if artists is None:
        artists = {
            "in": ax_in.imshow(np.ones((2, 2, 3)), interpolation="nearest"),
            "out": ax_out.imshow(np.ones((2, 2, 3)), interpolation="nearest"),
            "inner": ax_in.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor="black", linewidth=1.5)),
        }
        from matplotlib.ticker import MaxNLocator

        for ax in axes:
            ax.tick_params(length=0, labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax_in.legend(
            handles=[Rectangle((0, 0), 1, 1, color=c) for c in _GRID_COLOURS[:4]],
            labels=["padding (zeros)", "read by some output", "never read", "read by the chosen output"],
            loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7,
        )  # fmt: skip
        for ax in axes:  # fixed at the largest grid the sliders allow: a slider step never rescales
            ax.set_xlim(-0.5, _MAX - 0.5)
            ax.set_ylim(_MAX - 0.5, -0.5)
        ax_out.set_xlabel("output column j")
        ax_out.set_ylabel("output row i")
        ax_in.set_xlabel("column of the padded input")
        ax_in.set_ylabel("row of the padded input")
    artists["in"].set_data(_grid_image(g["codes"], _GRID_COLOURS))
    artists["in"].set_extent((-0.5, N - 0.5, N - 0.5, -0.5))
    artists["out"].set_data(_grid_image(out_codes, ["#A6CEE3", BLUE] if n_out else ["white", "white"]))
    artists["out"].set_extent((-0.5, side - 0.5, side - 0.5, -0.5))
    artists["inner"].set_bounds(p - 0.5, p - 0.5, n, n)  # the image itself, inside its padding
    ax_in.set_title(f"{n}x{n} image, padding {p}: {N}x{N}, kernel {k}x{k}, stride {s}", fontsize=9)
    chosen = "" if g["chosen"] is None else f", output ({g['chosen'][0]}, {g['chosen'][1]}) chosen"
    ax_out.set_title(f"output {n_out}x{n_out}{chosen}", fontsize=9)
    return artists, _geometry_text(n, k, s, p, g)


def conv_geometry(size: int = 7, kernel: int = 3, stride: int = 2, padding: int = 0):
    r"""Lesson: which input cells each output of a convolution reads, for any size, kernel, stride and padding.

    Left, the padded input (grey: the zeros of the padding; pale blue: cells some window reads;
    orange: cells no window reads, because the stride does not fit; dark blue: the window of the
    chosen output). Right, the output grid with the chosen output marked. The text gives
    $n_{out} = \lfloor (n + 2p - k)/s \rfloor + 1$ and says whether the stride fits.

    Sliders: ``size`` n (3 to 10), ``kernel`` k (1 to 5), ``stride`` s (1 to 3), ``padding`` p (0 to 2),
    and ``row``, ``col`` of the chosen output (clamped to the output's size).

    Example:
        >>> lesson = conv_geometry()
        >>> lesson.text.splitlines()[0]
        'n_out = ⌊(n + 2p − k)/s⌋ + 1 = ⌊(7 + 0 − 3)/2⌋ + 1 = 3'
    """
    from matplotlib.figure import Figure

    from ._core import Lesson, int_slider

    fig = Figure(figsize=(9, 3.9))  # fixed margins: no layout engine to rerun at every redraw
    axes = fig.subplots(1, 2, width_ratios=[1.5, 1])
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.13, top=0.9, wspace=0.75)
    state: dict = {}

    def draw(**values) -> str:
        state["artists"], text = _draw_geometry(axes, values, state.get("artists"))
        return text

    sliders = {
        "size": int_slider("image size n", size, 3, 10),
        "kernel": int_slider("kernel size k", kernel, 1, 5),
        "stride": int_slider("stride s", stride, 1, 3),
        "padding": int_slider("padding p", padding, 0, 2),
        "row": int_slider("chosen output row", 0, 0, _MAX - 1),
        "col": int_slider("chosen output column", 0, 0, _MAX - 1),
    }
    return Lesson(sliders, fig, draw, title="Which input cells does each output read?")


def geometry_figure(settings=((7, 3, 1, 0), (7, 3, 1, 1), (7, 3, 2, 0), (8, 3, 2, 0))):
    """The static version of ``conv_geometry``: one panel per (size, kernel, stride, padding), first output chosen."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.0 * len(settings), 3.6), layout="constrained")
    for ax, (n, k, s, p) in zip(fig.subplots(1, len(settings)), settings):
        g = geometry(n, k, s, p)
        N = n + 2 * p
        ax.imshow(_grid_image(g["codes"], _GRID_COLOURS), extent=(-0.5, N - 0.5, N - 0.5, -0.5))
        ax.set_xticks([])
        ax.set_yticks([])
        fits = "stride fits" if g["unread"] == 0 else f"last {g['unread']} row and column unread"
        ax.set_title(f"n={n}, k={k}, s={s}, p={p}\noutput {g['n_out']}x{g['n_out']}, {fits}", fontsize=9)
    fig.suptitle(
        "Dark blue: the first output's window (dark grey where it covers padding); grey: padding; orange: never read"
    )
    return fig


# ----------------------------------------------------------------------------- lesson: filter playground
_CELLS = [f"w{m}{n}" for m in range(3) for n in range(3)]


def _playground_lesson_class():
    import threading
    from contextlib import contextmanager

    from ._core import Lesson

    class _FilterLesson(Lesson):
        """A Lesson whose draw may set its own boxes (a preset) without redrawing once per box.

        While ``draw`` fills the boxes, the changes it makes on its own thread are ignored; every
        other change, a browser's included, goes through ``Lesson._on_change``, which coalesces a
        burst from the browser into one redraw of the newest values.
        """

        _syncing_on: int | None = None  # the thread whose draw is filling the boxes, if any

        @contextmanager
        def syncing(self):
            """Set boxes from ``draw`` without a redraw per box."""
            self._syncing_on = threading.get_ident()
            try:
                yield
            finally:
                self._syncing_on = None

        def _on_change(self, change: dict) -> None:
            if self._syncing_on != threading.get_ident():  # not this lesson's own draw setting a box
                super()._on_change(change)

    return _FilterLesson


def _digit(digit) -> np.ndarray:
    if digit is not None:
        return np.asarray(digit, dtype=np.float64)
    from .mnist import book_mnist

    split = book_mnist(n_train=100, n_test=1)
    return split.X_train[int(np.flatnonzero(split.y_train == 7)[0])].astype(np.float64)


def filter_playground(digit=None, preset: str = "vertical edge") -> Lesson:
    r"""Lesson: an editable 3x3 filter applied live to a digit: $S = I \star K$ (cross-correlation, padding 1).

    Left, the digit $I$; middle, the filter $K$ with its nine numbers; right, the feature map $S$
    (blue negative, red positive, zero white). Choose a preset (identity, blur, vertical edge,
    horizontal edge, sharpen) or type your own numbers: the dropdown then says "custom".

    ``digit``: a 2D image (default: the first 7 of ``book_mnist``).

    Example:
        >>> lesson = filter_playground(digit=np.eye(5))
        >>> lesson.set(preset="identity").figure.axes[2].images[0].get_array().shape
        (5, 5)
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    image = _digit(digit)
    fig = Figure(figsize=(9, 3.2))  # fixed margins: no layout engine to rerun at every redraw
    ax_img, ax_k, ax_out = fig.subplots(1, 3)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.04, top=0.9, wspace=0.15)
    ax_img.imshow(image, cmap="gray_r")
    ax_img.set_title("the image I")
    kernel_image = ax_k.imshow(np.zeros((3, 3)), cmap="RdBu_r", vmin=-1, vmax=1)
    labels = [
        [ax_k.text(n, m, "", ha="center", va="center", fontsize=11) for n in range(3)] for m in range(3)
    ]
    ax_k.set_title("the filter K")
    feature = ax_out.imshow(np.zeros_like(image), cmap="RdBu_r", vmin=-1, vmax=1)
    for ax in (ax_img, ax_k, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])
    state: dict = {"preset": None}

    def draw(preset: str, **cells: float) -> str:
        kernel = np.array([cells[c] for c in _CELLS], dtype=np.float64).reshape(3, 3)
        lesson = state.get("lesson")
        if preset != "custom" and preset != state["preset"]:  # a preset was chosen: it fills the boxes
            kernel = PRESETS[preset]
            if lesson is not None:
                with lesson.syncing():
                    for c, value in zip(_CELLS, kernel.ravel()):
                        lesson.sliders[c].value = round(float(value), 3)
        elif preset != "custom" and not np.allclose(kernel, PRESETS[preset], atol=1e-3):
            preset = "custom"  # a box was edited: the filter is no longer the preset
            with lesson.syncing():
                lesson.sliders["preset"].value = "custom"
        state["preset"] = preset
        S = _cross_correlate_by_offsets(image, kernel, padding=1)  # S(i, j) = Σ_m Σ_n I(i + m, j + n) K(m, n)
        kernel_image.set_data(kernel)
        limit = max(np.abs(kernel).max(), 1e-9)
        kernel_image.set_clim(-limit, limit)
        for m, n in np.ndindex(3, 3):
            labels[m][n].set_text(f"{kernel[m, n]:.2g}")
        feature.set_data(S)
        top = max(np.abs(S).max(), 1e-9)
        feature.set_clim(-top, top)
        ax_out.set_title(f"S = I ⋆ K ({preset})")
        return f"filter: {preset}; S ranges from {S.min():.2f} to {S.max():.2f}"

    start = PRESETS[preset]
    sliders: dict = {
        "preset": widgets.Dropdown(options=[*PRESETS, "custom"], value=preset, description="preset"),
        **{
            c: widgets.FloatText(
                value=float(round(v, 3)), step=0.1, description=c, layout=widgets.Layout(width="150px")
            )
            for c, v in zip(_CELLS, start.ravel())
        },
    }
    lesson = _playground_lesson_class()(sliders, fig, draw, title="Your own 3x3 filter on a digit")
    state["lesson"] = lesson
    boxes = [widgets.HBox([sliders[f"w{m}{n}"] for n in range(3)]) for m in range(3)]
    lesson.widget.children = (*lesson.widget.children[:2], *boxes, *lesson.widget.children[-2:])
    return lesson


def filter_figure(digit=None):
    """The static version of ``filter_playground``: the digit under each of the five presets."""
    from matplotlib.figure import Figure

    image = _digit(digit)
    fig = Figure(figsize=(12, 2.9), layout="constrained")
    axes = fig.subplots(1, len(PRESETS) + 1)
    axes[0].imshow(image, cmap="gray_r")
    axes[0].set_title("the digit")
    for ax, (name, kernel) in zip(axes[1:], PRESETS.items()):
        S = _cross_correlate_by_offsets(image, kernel, padding=1)
        top = np.abs(S).max()
        ax.imshow(S, cmap="RdBu_r", vmin=-top, vmax=top)
        ax.set_title(name)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Five 3x3 filters on one digit (blue negative, red positive)")
    return fig
