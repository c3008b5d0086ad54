r"""Max-pool and convolution gradients: backward as routing, and the lectures' formulas for dW and dx, as loops.

Max pooling keeps the largest entry of each window $\Omega(i', j')$; its derivative is 1 at that
entry and 0 elsewhere (Olteanu's lecture):

$$s_{i', j'} = \max_{(i, j) \in \Omega(i', j')} a_{i, j},\qquad
  \frac{\partial s_{i', j'}}{\partial a_{i, j}} = \mathbb{I}\big((i, j) = \arg\max_{\Omega(i', j')} a\big),$$

so backward *routes* each upstream gradient to its window's maximum. Ties go to the first maximum
in row-major order, as in ``nnlab.np_nn.MaxPool2d`` and PyTorch.

For a convolution layer with stride 1 and no padding, $z = x \star W + b$, the gradients are again
cross-correlations:

$$\frac{\partial L}{\partial W_{f,c}} = x_c \star \delta_f,\qquad
  \frac{\partial L}{\partial x_c} = \sum_f \delta_f \ast W_{f,c}\ \text{(full convolution)}
  = \sum_f \mathrm{pad}_{k-1}(\delta_f) \star \mathrm{flip}(W_{f,c}),$$

with $\delta = \partial L / \partial z$. ``conv_gradients_loops`` computes them that way, one loop per index.

The lesson is ``maxpool_routing``: edit a grid, choose the window and the stride, see where each
upstream gradient goes.

Chapter: 8, max-pool and convolution gradients.
"""

from __future__ import annotations

import numpy as np

from .convolution import cross_correlate

__all__ = [
    "DEFAULT_GRID",
    "avgpool_loops",
    "conv_gradients_loops",
    "maxpool_backward_loops",
    "maxpool_loops",
    "maxpool_routing",
    "parse_grid",
    "routing_figure",
    "ties",
]

BLUE, VERMILLION, GREEN, ORANGE = "#0072B2", "#D55E00", "#009E73", "#E69F00"

DEFAULT_GRID = np.array(
    [
        [1.0, 3.0, 2.0, 1.0],
        [4.0, 2.0, 0.0, 5.0],
        [1.0, 1.0, 3.0, 3.0],
        [0.0, 2.0, 1.0, 2.0],
    ]
)
"""The chapter's 4x4 input: its top-left 2x2 window has one maximum, its bottom-right window a tie (3, 3)."""


# ----------------------------------------------------------------------------- pooling as loops
def _windows(shape: tuple[int, int], k: int, s: int):
    H_out, W_out = (shape[0] - k) // s + 1, (shape[1] - k) // s + 1
    for i in range(H_out):
        for j in range(W_out):
            yield i, j, np.s_[i * s : i * s + k, j * s : j * s + k]


def maxpool_loops(a, k: int = 2, s: int | None = None) -> np.ndarray:
    r"""$s_{i', j'} = \max_{\Omega(i', j')} a$ for one 2D map, window k x k, stride s (default k).

    Example:
        >>> maxpool_loops(DEFAULT_GRID)
        array([[4., 5.],
               [2., 3.]])
    """
    a = np.asarray(a, dtype=np.float64)
    s = k if s is None else s
    out = np.zeros(((a.shape[0] - k) // s + 1, (a.shape[1] - k) // s + 1))
    for i, j, window in _windows(a.shape, k, s):
        out[i, j] = a[window].max()  # s = max over the window Ω(i, j)
    return out


def maxpool_backward_loops(a, dout, k: int = 2, s: int | None = None) -> np.ndarray:
    r"""$\partial L/\partial a$: each $\delta_{i', j'}$ routed to its window's first maximum (row by row), 0 elsewhere.

    An entry that is the maximum of several overlapping windows collects the sum of their gradients.

    Example:
        >>> maxpool_backward_loops(DEFAULT_GRID, np.array([[1.0, 2.0], [3.0, 4.0]]))
        array([[0., 0., 0., 0.],
               [1., 0., 0., 2.],
               [0., 0., 4., 0.],
               [0., 3., 0., 0.]])
    """
    a, dout = np.asarray(a, dtype=np.float64), np.asarray(dout, dtype=np.float64)
    s = k if s is None else s
    da = np.zeros_like(a)
    for i, j, window in _windows(a.shape, k, s):
        m, n = np.unravel_index(np.argmax(a[window]), (k, k))  # argmax: the first maximum, row-major
        da[i * s + m, j * s + n] += dout[i, j]  # ∂L/∂a = the upstream gradient at the argmax, 0 elsewhere
    return da


def avgpool_loops(a, k: int = 2, s: int | None = None) -> np.ndarray:
    r"""$s_{i', j'} = \frac{1}{k^2} \sum_{\Omega(i', j')} a$ for one 2D map.

    Example:
        >>> avgpool_loops(DEFAULT_GRID)
        array([[2.5 , 2.  ],
               [1.  , 2.25]])
    """
    a = np.asarray(a, dtype=np.float64)
    s = k if s is None else s
    out = np.zeros(((a.shape[0] - k) // s + 1, (a.shape[1] - k) // s + 1))
    for i, j, window in _windows(a.shape, k, s):
        out[i, j] = a[window].mean()  # s = Σ_Ω a / k²
    return out


def ties(a, k: int = 2, s: int | None = None) -> list[tuple[int, int, int]]:
    """The windows whose maximum appears more than once: (i', j', how many times).

    Example:
        >>> ties(DEFAULT_GRID)
        [(1, 1, 2)]
    """
    a = np.asarray(a, dtype=np.float64)
    s = k if s is None else s
    found = []
    for i, j, window in _windows(a.shape, k, s):
        count = int(np.sum(a[window] == a[window].max()))
        if count > 1:
            found.append((i, j, count))
    return found


# ----------------------------------------------------------------------------- convolution gradients
def conv_gradients_loops(x, W, dout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The gradients of a stride-1, unpadded convolution layer from the lectures' formulas, as loops.

    $$\frac{\partial L}{\partial W_{f,c}} = \sum_n x_{n,c} \star \delta_{n,f},\qquad
      \frac{\partial L}{\partial b_f} = \sum_{n,i,j} \delta_{n,f,i,j},\qquad
      \frac{\partial L}{\partial x_{n,c}} = \sum_f \mathrm{pad}_{k-1}(\delta_{n,f}) \star \mathrm{flip}(W_{f,c})$$

    ($\star$ the cross-correlation of ``cross_correlate``; padding $\delta$ by $k - 1$ zeros and turning the
    kernel by 180° makes the full convolution). Shapes: x (N, C_in, H, W), W (C_out, C_in, kH, kW),
    dout $= \delta$ (N, C_out, H_out, W_out) -> dx like x, dW like W, db (C_out,).

    Example:
        >>> x, W = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
        >>> dx, dW, db = conv_gradients_loops(x, W, np.ones((1, 1, 2, 2)))
        >>> dx[0, 0]          # the middle pixel is read by all four windows
        array([[1., 2., 1.],
               [2., 4., 2.],
               [1., 2., 1.]])
    """
    x, W, delta = (np.asarray(v, dtype=np.float64) for v in (x, W, dout))
    (N, C_in), (C_out, _, kH, kW) = x.shape[:2], W.shape
    dx, dW = np.zeros_like(x), np.zeros_like(W)
    for n in range(N):  # every example
        for f in range(C_out):  # every filter
            for c in range(C_in):  # every input channel
                dW[f, c] += cross_correlate(x[n, c], delta[n, f])  # ∂L/∂W_fc = x_c ⋆ δ_f
                full = np.pad(delta[n, f], ((kH - 1, kH - 1), (kW - 1, kW - 1)))  # δ padded by k − 1
                dx[n, c] += cross_correlate(full, W[f, c, ::-1, ::-1])  # ∂L/∂x_c = Σ_f δ_f ∗ W_fc
    db = delta.sum(axis=(0, 2, 3))  # ∂L/∂b_f = Σ δ_f
    return dx, dW, db


# ----------------------------------------------------------------------------- lesson: routing
_MAX_SIDE = 6


def parse_grid(text: str) -> np.ndarray:
    """A grid typed as rows of numbers ("1 3 2\\n4 2 0"), as an array; a sentence if it is not one.

    Example:
        >>> parse_grid("1 2\\n3 4")
        array([[1., 2.],
               [3., 4.]])
    """
    rows = [line.replace(",", " ").split() for line in str(text).strip().splitlines() if line.strip()]
    if not rows or len({len(r) for r in rows}) != 1:
        raise ValueError(
            "maxpool_routing expected a grid: rows of numbers separated by spaces, every row as long as the"
            f" first; got rows of lengths {[len(r) for r in rows]}."
        )
    try:
        grid = np.array([[float(v) for v in row] for row in rows])
    except ValueError:
        raise ValueError(
            "maxpool_routing expected numbers in the grid (like 1 or -2.5); got "
            + repr(next(v for row in rows for v in row if not _is_number(v)))
            + "."
        ) from None
    if not 2 <= grid.shape[0] <= _MAX_SIDE or not 2 <= grid.shape[1] <= _MAX_SIDE:
        raise ValueError(
            f"maxpool_routing expected a grid of 2 to {_MAX_SIDE} rows and columns; got {grid.shape[0]}x{grid.shape[1]}."
        )
    return grid


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _grid_text(grid: np.ndarray) -> str:
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in grid)


def routing(grid, k: int, s: int) -> dict:
    """What ``maxpool_routing`` draws, computed by the library's ``MaxPool2d``: out, dout, dx, routed, ties."""
    from ..np_nn.conv import MaxPool2d

    pool = MaxPool2d(k, stride=s)
    out = pool(np.asarray(grid, dtype=np.float64)[None, None])[0, 0]
    dout = np.arange(1.0, out.size + 1).reshape(out.shape)  # upstream gradient 1, 2, 3, ... per output
    dx = pool.backward(dout[None, None])[0, 0]
    return {"out": out, "dout": dout, "dx": dx, "routed": dx != 0, "ties": ties(grid, k, s)}


def _draw_routing(axes, grid: np.ndarray, k: int, s: int, artists: dict | None) -> tuple[dict, dict]:
    from matplotlib.colors import ListedColormap

    r = routing(grid, k, s)
    H, W = grid.shape
    ho, wo = r["out"].shape
    panels = (
        ("in", grid, r["routed"].astype(float), H, W),
        ("out", r["out"], np.full(r["out"].shape, 0.5), ho, wo),
        ("dx", r["dx"], r["routed"].astype(float), H, W),
    )
    if artists is None:
        cmap = ListedColormap(["#F2F2F2", "#A6CEE3", ORANGE])
        artists = {}
        for ax, (name, *_rest) in zip(axes, panels):
            image = ax.imshow(np.zeros((_MAX_SIDE, _MAX_SIDE)), cmap=cmap, vmin=0, vmax=1)
            texts = [
                [ax.text(j, i, "", ha="center", va="center", fontsize=11) for j in range(_MAX_SIDE)]
                for i in range(_MAX_SIDE)
            ]
            for edge in np.arange(0.5, _MAX_SIDE - 1, 1.0):  # white lines between the cells, drawn once
                ax.axvline(edge, color="white", linewidth=2)
                ax.axhline(edge, color="white", linewidth=2)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(-0.5, _MAX_SIDE - 0.5)  # fixed at the largest grid: a step never rescales
            ax.set_ylim(_MAX_SIDE - 0.5, -0.5)
            artists[name] = (image, texts)
        axes[0].set_xlabel("orange: the maximum each window routes to")
        axes[1].set_xlabel("upstream gradient ∂L/∂s in brackets")
        axes[2].set_xlabel("orange: where ∂L/∂s arrives; 0 elsewhere")
    for name, values, colour, h, w in panels:
        image, texts = artists[name]
        image.set_data(colour)
        image.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
        for i in range(_MAX_SIDE):
            for j in range(_MAX_SIDE):
                label = ""
                if i < h and j < w:
                    label = f"{values[i, j]:g}"
                    if name == "out":
                        label += f"\n({r['dout'][i, j]:g})"
                texts[i][j].set_text(label)
    axes[0].set_title(f"input a ({H}x{W}), windows {k}x{k}, stride {s}", fontsize=10)
    axes[1].set_title(f"max-pool s ({ho}x{wo})", fontsize=10)
    axes[2].set_title("∂L/∂a: each ∂L/∂s routed to its maximum", fontsize=10)
    return artists, r


def _routing_text(r: dict) -> str:
    lines = [f"each output's upstream gradient ∂L/∂s is its number: 1 to {r['dout'].size}, row by row"]
    for i, j, count in r["ties"]:
        lines.append(
            f"window ({i}, {j}) has a tie: {count} entries equal its maximum; the gradient goes to the first"
            " of them, row by row (PyTorch picks the same one)"
        )
    if not r["ties"]:
        lines.append("no window has a tie")
    return "\n".join(lines)


def maxpool_routing(grid=None, window: int = 2, stride: int = 2):
    r"""Lesson: type a grid, choose the window and the stride, and see where max-pool's backward sends each gradient.

    Left, the input $a$ with every window's maximum in orange; middle, the pooled output $s$ with
    each output's upstream gradient $\delta$ (1, 2, 3, ... row by row, so you can follow each one);
    right, $\partial L/\partial a$: every $\delta$ lands on its window's maximum, 0 elsewhere. With
    overlapping windows (stride smaller than the window) an entry can receive several. Ties are named
    in the text: the first maximum, row by row, gets the gradient.

    Sliders: ``window`` (2 or 3), ``stride`` (1 to 3); ``grid``: a text box of rows of numbers (2 to 6 each way).

    Example:
        >>> lesson = maxpool_routing()
        >>> lesson.figure.axes[2].images[0].get_array().shape
        (4, 4)
    """
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from ._core import Lesson, int_slider

    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    fig = Figure(figsize=(10, 3.6))  # fixed margins: no layout engine to rerun at every redraw
    axes = fig.subplots(1, 3)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.1, top=0.9, wspace=0.12)
    state: dict = {}

    def draw(grid: str, window: int, stride: int) -> str:
        try:
            values = parse_grid(grid)
            if min(values.shape) < window:
                raise ValueError(
                    f"maxpool_routing expected a grid at least as large as its {window}x{window} window;"
                    f" got {values.shape[0]}x{values.shape[1]}. Add rows or columns, or make the window smaller."
                )
        except ValueError as exc:
            return f"{exc}\n(the figure still shows the last grid that worked)"
        state["artists"], r = _draw_routing(axes, values, window, stride, state.get("artists"))
        state["last"] = r
        return _routing_text(r)

    sliders = {
        "window": int_slider("window k", window, 2, 3),
        "stride": int_slider("stride s", stride, 1, 3),
        "grid": widgets.Textarea(
            value=_grid_text(grid),
            description="input grid",
            continuous_update=False,
            layout=widgets.Layout(width="260px", height="130px"),
        ),
    }
    return Lesson(sliders, fig, draw, title="Max-pool backward routes each gradient to its window's maximum")


def routing_figure(grid=None, settings=((2, 2), (2, 1))):
    """The static version of ``maxpool_routing``: one row of three panels per (window, stride)."""
    from matplotlib.figure import Figure

    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    fig = Figure(figsize=(10, 3.4 * len(settings)), layout="constrained")
    rows = fig.subplots(len(settings), 3, squeeze=False)
    side = max(grid.shape)
    for axes, (k, s) in zip(rows, settings):
        _draw_routing(axes, grid, k, s, None)
        for ax in axes:  # a still figure: show the grid's own size, not the lesson's largest one
            ax.set_xlim(-0.5, side - 0.5)
            ax.set_ylim(side - 0.5, -0.5)
    return fig
