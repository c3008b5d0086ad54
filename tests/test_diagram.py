"""nnlab.lessons.diagram: the network diagram carries the numbers it was given, and bad input gets a sentence."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from nnlab.lessons import backprop as bp
from nnlab.lessons.diagram import network_diagram


def _texts(fig, kind: str) -> dict[tuple[int, ...], str]:
    """The figure's text artists of one kind, keyed by the indices in their gid."""
    out = {}
    for text in fig.axes[0].texts:
        gid = text.get_gid() or ""
        name, *index = gid.split()
        if name == kind:
            out[tuple(int(i) for i in index)] = text.get_text()
    return out


def _half_adder_figure():
    hand = bp.backprop_by_hand([1.0, 1.0], [1.0, 0.0])
    W = {name: np.array(value) for name, value in bp.HALF_ADDER_WEIGHTS.items()}
    fig = network_diagram(
        (2, 3, 2),
        weights=[W["W1"], W["W2"]],
        weight_grads=[hand["grads"]["W1"], hand["grads"]["W2"]],
        values=[[1.0, 1.0], hand["hidden"], hand["output"]],
        grads=[None, hand["delta_hidden"], hand["delta_out"]],
        unit_names=[["X1", "X2"], ["O1", "O2", "O3"], ["OI", "OII"]],
        layer_names=["input", "hidden", "output"],
        title="the half adder",
    )
    return fig, hand, W


def test_every_number_of_section_3_3_is_on_the_diagram():
    fig, hand, W = _half_adder_figure()
    weights, weight_grads = _texts(fig, "weight"), _texts(fig, "weight_grad")
    assert len(weights) == len(weight_grads) == 2 * 3 + 3 * 2  # one label per edge
    for (layer, j, i), text in weights.items():
        assert float(text) == pytest.approx(W[f"W{layer}"][j, i], abs=5e-4)
        assert float(weight_grads[layer, j, i]) == pytest.approx(hand["grads"][f"W{layer}"][j, i], abs=5e-4)
    assert weight_grads[2, 0, 0] == "-0.068"  # ∂L/∂W_I1 = δ_I O_1 = (-0.12346)(0.5498)
    values, grads = _texts(fig, "value"), _texts(fig, "grad")
    assert [values[1, j] for j in range(3)] == ["+0.550", "+0.711", "+0.475"]
    assert [values[2, k] for k in range(2)] == ["+0.506", "+0.657"]
    assert [grads[2, k] for k in range(2)] == ["-0.123", "+0.148"]
    assert [grads[1, j] for j in range(3)] == ["-0.032", "+0.031", "+0.009"]
    assert (0, 0) not in grads  # no numbers where none were given


def test_edges_follow_the_sign_and_size_of_the_weights():
    fig, _, W = _half_adder_figure()
    ax = fig.axes[0]
    edges = {tuple(int(i) for i in line.get_gid().split()[1:]): line for line in ax.lines}
    assert len(edges) == 12
    units = [p for p in ax.patches if (p.get_gid() or "").startswith("unit")]
    assert len(units) == 2 + 3 + 2
    biggest = max(np.abs(W["W1"]).max(), np.abs(W["W2"]).max())
    for (layer, j, i), line in edges.items():
        w = W[f"W{layer}"][j, i]
        assert line.get_color() == ("#0072B2" if w >= 0 else "#D55E00")
        assert line.get_linewidth() == pytest.approx(0.6 + 3.0 * abs(w) / biggest)
    # the edge from X1 to O1 starts at X1's circle and ends at O1's
    centres = {p.get_gid(): p.center for p in units}
    x, y = edges[1, 0, 0].get_data()
    assert (x[0], y[0]) == centres["unit 0 0"] and (x[1], y[1]) == centres["unit 1 0"]
    assert ax.get_title() == "the half adder"


def test_a_bare_diagram_and_its_key():
    fig = network_diagram((3, 4, 1), key=False)
    assert len(fig.axes[0].lines) == 3 * 4 + 4 * 1 and not fig.axes[0].texts and not fig.texts
    assert fig.axes[0].lines[0].get_color() == "#555555"  # no weights: grey edges
    fig = network_diagram((2, 1))
    assert "green: forward value" in fig.texts[0].get_text()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"layer_sizes": (3,)},
            "expected layer_sizes to list at least two positive unit counts; got \\(3,\\)",
        ),
        ({"layer_sizes": (2, 0)}, "expected layer_sizes to list at least two positive unit counts"),
        (
            {"weights": [np.zeros((2, 3))]},
            r"expected weights\[0\] of shape \(D_out, D_in\) = \(3, 2\); got \(2, 3\)",
        ),
        (
            {"weights": [np.zeros((3, 2))] * 2},
            "expected weights to hold one matrix per pair of layers \\(1\\); got 2",
        ),
        ({"values": [[1.0, 2.0]]}, r"expected values to hold one entry per layer \(2\); got 1"),
        ({"grads": [None, [1.0]]}, r"expected grads\[1\] to hold 3 numbers, one per unit; got 1"),
        ({"layer_names": ["one"]}, "expected 2 layer_names, one per layer; got 1"),
    ],
)
def test_bad_input_gets_a_sentence(kwargs, message):
    kwargs = {"layer_sizes": (2, 3), **kwargs}
    with pytest.raises(ValueError, match=f"^network_diagram {message}"):
        network_diagram(kwargs.pop("layer_sizes"), **kwargs)
