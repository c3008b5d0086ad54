r"""Network diagrams drawn by code: units as circles, weights as edges, numbers written on them.

``network_diagram`` draws a small fully connected network the way CS231n's notes draw a circuit:
each unit's forward value in green above it, its error $\delta = \partial L/\partial z$ in red below it,
each weight on its edge with the gradient $\partial L/\partial W$ under it in red. Edges are blue for
positive weights and vermillion for negative ones (colour-blind safe), thicker for larger $|w|$.

The figure is built with matplotlib's object API (``matplotlib.figure.Figure``, no pyplot), so it is
shown where it is returned and never again by another cell. Every number is a text artist whose
``gid`` says what it is (``"value 1 0"``, ``"grad 2 1"``, ``"weight 1 2 0"``, ``"weight_grad 1 2 0"``, ``"name 0 1"``,
``"layer 2"``),
so a test can read the picture's data back.

Chapter: 3, backpropagation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._checks import fail

__all__ = ["network_diagram"]

KEY = (
    "green: forward value · black: weight (blue edge > 0, vermillion < 0) · "
    "red: gradient (δ at a unit, ∂L/∂W on an edge)"
)

GREEN, RED, BLUE, VERMILLION, GREY = "#009E73", "#C0392B", "#0072B2", "#D55E00", "#555555"


def _per_layer(name: str, given, sizes: Sequence[int]) -> list[np.ndarray | None]:
    """``given`` as one float64 vector (or None) per layer, each of its layer's size."""
    if given is None:
        return [None] * len(sizes)
    given = list(given)
    if len(given) != len(sizes):
        raise fail(
            "network_diagram",
            f"expected {name} to hold one entry per layer ({len(sizes)}); got {len(given)}.",
            "Use None for a layer without numbers.",
        )
    out = []
    for layer, (vector, size) in enumerate(zip(given, sizes)):
        if vector is None:
            out.append(None)
            continue
        vector = np.asarray(vector, dtype=np.float64).ravel()
        if vector.shape != (size,):
            raise fail(
                "network_diagram",
                f"expected {name}[{layer}] to hold {size} numbers, one per unit; got {vector.size}.",
            )
        out.append(vector)
    return out


def _per_edge(name: str, given, sizes: Sequence[int]) -> list[np.ndarray | None]:
    """``given`` as one (D_out, D_in) float64 matrix (or None) per pair of layers."""
    pairs = len(sizes) - 1
    if given is None:
        return [None] * pairs
    given = list(given)
    if len(given) != pairs:
        raise fail(
            "network_diagram",
            f"expected {name} to hold one matrix per pair of layers ({pairs}); got {len(given)}.",
        )
    out = []
    for l, matrix in enumerate(given):
        if matrix is None:
            out.append(None)
            continue
        matrix = np.asarray(matrix, dtype=np.float64)
        expected = (sizes[l + 1], sizes[l])
        if matrix.shape != expected:
            raise fail(
                "network_diagram",
                f"expected {name}[{l}] of shape (D_out, D_in) = {expected}; got {matrix.shape}.",
                "Weights are stored as PyTorch stores them: row j holds the weights into unit j.",
            )
        out.append(matrix)
    return out


def network_diagram(
    layer_sizes: Sequence[int],
    *,
    weights=None,
    weight_grads=None,
    values=None,
    grads=None,
    unit_names=None,
    layer_names: Sequence[str] | None = None,
    title: str | None = None,
    fmt: str = "{:+.3f}",
    label_at: float = 0.22,
    figsize: tuple[float, float] | None = None,
    key: bool = True,
):
    r"""Draw a fully connected network with its numbers on it; returns a matplotlib ``Figure``.

    Layer $l$'s units are circles in column $l$. The edge from unit $i$ of layer $l$ to unit $j$ of
    layer $l + 1$ carries $W^{l+1}_{ji}$ (black) and, under it, $\partial L/\partial W^{l+1}_{ji}$ (red). Above a
    unit its forward value (green), below it its error $\delta$ or upstream gradient (red).

    Args:
        layer_sizes: units per layer, input first, e.g. ``(2, 3, 2)``.
        weights: one matrix per pair of layers, shape (D_out, D_in) (PyTorch's layout), or None.
        weight_grads: the gradients of those matrices, same shapes, or None.
        values: one vector per layer (e.g. $x$, $a^1$, $a^2$); None, or None for a layer, draws none.
        grads: one vector per layer (e.g. $\delta^l$), drawn in red under the units.
        unit_names: one list of names per layer (e.g. ``[["X1", "X2"], ...]``), written in the circles.
        layer_names: one caption per layer, written under its column.
        title: the figure's title.
        fmt: how numbers are written.
        key: write a one-line key to the colours in the corner.
        label_at: where along an edge its numbers go, as a fraction from its start (0.22 keeps
            the labels of one unit's edges apart).

    Raises:
        ValueError: a size, a list or a matrix does not match ``layer_sizes`` (one sentence).

    Example:
        >>> fig = network_diagram((2, 1), weights=[[[0.5, -1.0]]], values=[[1.0, 2.0], [0.3]])
        >>> sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid().startswith("weight "))
        ['+0.500', '-1.000']
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    sizes = [int(s) for s in layer_sizes] if not isinstance(layer_sizes, (str, bytes)) else []
    if len(sizes) < 2 or any(s < 1 for s in sizes) or len(sizes) != len(layer_sizes):
        raise fail(
            "network_diagram",
            f"expected layer_sizes to list at least two positive unit counts; got {layer_sizes!r}.",
            "For a 2-3-2 network pass (2, 3, 2).",
        )
    weights = _per_edge("weights", weights, sizes)
    weight_grads = _per_edge("weight_grads", weight_grads, sizes)
    values = _per_layer("values", values, sizes)
    grads = _per_layer("grads", grads, sizes)
    if unit_names is not None and (
        len(unit_names) != len(sizes) or any(len(n) != s for n, s in zip(unit_names, sizes))
    ):
        raise fail(
            "network_diagram", f"expected unit_names to hold {sizes} names per layer; got {unit_names!r}."
        )
    if layer_names is not None and len(layer_names) != len(sizes):
        raise fail(
            "network_diagram", f"expected {len(sizes)} layer_names, one per layer; got {len(layer_names)}."
        )

    dx, dy, radius = 4.0, 1.6, 0.32
    height = max(sizes)
    centres = [[(l * dx, (size - 1) / 2 * dy - j * dy) for j in range(size)] for l, size in enumerate(sizes)]
    fig = Figure(figsize=figsize or (2.2 + 3.3 * (len(sizes) - 1), 1.0 + 1.45 * height), layout="constrained")
    ax = fig.add_subplot()
    biggest = max([np.abs(W).max() for W in weights if W is not None] + [1e-12])

    for l, W in enumerate(weights):  # edges first, so the circles cover their ends
        for j, (x1, y1) in enumerate(centres[l + 1]):
            for i, (x0, y0) in enumerate(centres[l]):
                w = None if W is None else W[j, i]
                colour = GREY if w is None else (BLUE if w >= 0 else VERMILLION)
                width = 1.2 if w is None else 0.6 + 3.0 * abs(w) / biggest
                ax.plot(
                    [x0, x1], [y0, y1], color=colour, linewidth=width, zorder=1, gid=f"edge {l + 1} {j} {i}"
                )
                lx, ly = x0 + label_at * (x1 - x0), y0 + label_at * (y1 - y0)
                angle = np.degrees(np.arctan2(y1 - y0, x1 - x0))
                box = {"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
                if w is not None:
                    ax.text(lx, ly, fmt.format(w), fontsize=8, ha="center", va="bottom", rotation=angle,
                            rotation_mode="anchor", bbox=box, zorder=3, gid=f"weight {l + 1} {j} {i}")  # fmt: skip
                if weight_grads[l] is not None:
                    ax.text(lx, ly, fmt.format(weight_grads[l][j, i]), fontsize=8, color=RED, ha="center",
                            va="top", rotation=angle, rotation_mode="anchor", bbox=box, zorder=3,
                            gid=f"weight_grad {l + 1} {j} {i}")  # fmt: skip

    for l, layer in enumerate(centres):
        for j, (x, y) in enumerate(layer):
            ax.add_patch(
                Circle((x, y), radius, facecolor="white", edgecolor="black", zorder=4, gid=f"unit {l} {j}")
            )
            if unit_names is not None:
                ax.text(
                    x,
                    y,
                    unit_names[l][j],
                    ha="center",
                    va="center",
                    fontsize=9,
                    zorder=5,
                    gid=f"name {l} {j}",
                )
            if values[l] is not None:
                ax.text(x, y + radius + 0.05, fmt.format(values[l][j]), color=GREEN, ha="center", va="bottom",
                        fontsize=9, fontweight="bold", zorder=5, gid=f"value {l} {j}")  # fmt: skip
            if grads[l] is not None:
                ax.text(x, y - radius - 0.05, fmt.format(grads[l][j]), color=RED, ha="center", va="top",
                        fontsize=9, fontweight="bold", zorder=5, gid=f"grad {l} {j}")  # fmt: skip
        if layer_names is not None:
            ax.text(
                l * dx,
                -(height - 1) / 2 * dy - 0.95,
                layer_names[l],
                ha="center",
                va="top",
                fontsize=9,
                gid=f"layer {l}",
            )

    ax.set_xlim(-0.8, (len(sizes) - 1) * dx + 0.8)
    ax.set_ylim(-(height - 1) / 2 * dy - 1.4, (height - 1) / 2 * dy + 0.9)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    if key:
        fig.text(0.01, 0.01, KEY, fontsize=8, color=GREY, ha="left", va="bottom", gid="key")
    return fig
