"""``History``: what ``fit`` records epoch by epoch, shared by the NumPy and PyTorch paths."""

from __future__ import annotations

import io
import math
import sys
from dataclasses import dataclass, field

__all__ = ["Floats", "History", "HistoryFigure", "PerLayer"]

_BLUE, _ORANGE, _GREEN, _PINK = "#0072B2", "#D55E00", "#009E73", "#CC79A7"  # Okabe-Ito, colour-blind safe


class Floats(list):
    """A list that stores Python floats: a NumPy or PyTorch scalar appended is converted with ``float``.

    So ``history.train_acc[-1]`` prints ``1.0``, not ``np.float64(1.0)``, whichever path or code
    recorded it.
    """

    def __init__(self, values=()) -> None:
        super().__init__(float(v) for v in values)

    def append(self, value) -> None:
        super().append(float(value))

    def extend(self, values) -> None:
        super().extend(float(v) for v in values)

    def insert(self, index, value) -> None:
        super().insert(index, float(value))

    def __setitem__(self, index, value) -> None:
        if isinstance(index, slice):
            super().__setitem__(index, [float(v) for v in value])
        else:
            super().__setitem__(index, float(value))

    def __iadd__(self, values):
        self.extend(values)
        return self


class PerLayer(dict):
    """``{layer: Floats}``: a list stored under a layer is kept as ``Floats``."""

    def __init__(self, items=(), **kwargs) -> None:
        super().__init__()
        self.update(items, **kwargs)

    def __setitem__(self, key, values) -> None:
        super().__setitem__(key, values if isinstance(values, Floats) else Floats(values))

    def setdefault(self, key, default=()):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, items=(), **kwargs) -> None:
        for key, values in dict(items, **kwargs).items():
            self[key] = values


@dataclass
class History:
    """Per-epoch training and validation loss and accuracy, and what the diagnostics saw, from ``fit``.

    Every figure is a Python float (a NumPy or PyTorch scalar recorded is converted), so
    ``history.train_acc[-1]`` prints ``1.0``. Accuracies are NaN where they do not apply (a
    regression target). ``best_epoch`` is the epoch (counting from 1) whose weights the model holds
    after early stopping, and ``stopped_early`` says whether patience ran out before ``epochs``.

    With diagnostics on (``fit``'s default), each epoch also records, per layer: ``grad_norm``, the
    norm of the layer's parameter gradients (the root mean square over 4 steps of the epoch);
    ``saturated``, the share of a hidden sigmoid or tanh layer's units whose derivative is below 1%
    of its peak; ``dead``, the share of a ReLU layer's units that output 0 on every probe example.
    Keys are the layer's position in a ``Sequential`` ("0", "1", ...), ``layer_names`` gives its
    class ("Linear", "Sigmoid", ...), ``warnings`` holds the sentences fit warned with, and ``diverged`` says whether
    fit stopped because the loss blew up. ``plot()`` draws it all.

    Chapter: 4, saturation.
    """

    train_loss: list[float] = field(default_factory=Floats)
    train_acc: list[float] = field(default_factory=Floats)
    val_loss: list[float] = field(default_factory=Floats)
    val_acc: list[float] = field(default_factory=Floats)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    samples_per_second: float = 0.0
    grad_norm: dict[str, list[float]] = field(default_factory=PerLayer)
    saturated: dict[str, list[float]] = field(default_factory=PerLayer)
    dead: dict[str, list[float]] = field(default_factory=PerLayer)
    layer_names: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    diverged: bool = False

    def __setattr__(self, name: str, value) -> None:
        """The per-epoch lists hold Python floats, however they are given (``History(train_acc=...)`` too)."""
        if name in _PER_EPOCH and not isinstance(value, Floats):
            value = Floats(value)
        elif name in _PER_LAYER and not isinstance(value, PerLayer):
            value = PerLayer(value)
        super().__setattr__(name, value)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def as_dict(self) -> dict[str, list[float]]:
        return {
            "train_loss": self.train_loss,
            "train_acc": self.train_acc,
            "val_loss": self.val_loss,
            "val_acc": self.val_acc,
        }

    def plot(self, ax=None, *, accuracy: bool = False):
        """Draw the history: loss, accuracy, gradient norm per layer, saturated and dead units.

        Without ``ax``: one figure with a panel for each of those that was recorded, returned as a
        ``HistoryFigure`` that a notebook displays as an image; in a script the figure is pyplot's
        current one, so ``plt.savefig(...)`` or ``plt.show()`` right after works. With ``ax`` (a
        matplotlib Axes): only the loss curves (or accuracy, with ``accuracy=True``) on it; returns it.

        Example:
            >>> history.plot()                                        # doctest: +SKIP
            >>> import matplotlib.pyplot as plt; plt.savefig("history.png")  # doctest: +SKIP
        """
        if ax is not None:
            self._curves(ax, "acc" if accuracy else "loss")
            return ax
        panels = ["loss"]
        if any(not math.isnan(a) for a in self.train_acc):
            panels.append("acc")
        if any(self.grad_norm.values()):
            panels.append("grad_norm")
        if any(self.saturated.values()) or any(self.dead.values()):
            panels.append("units")
        fig = _new_figure((4.0 * len(panels), 3.2))
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for panel, one in zip(panels, axes):
            if panel in ("loss", "acc"):
                self._curves(one, panel)
            elif panel == "grad_norm":
                self._per_layer(one, self.grad_norm, "gradient norm", log=True)
            else:
                both = {**self.saturated, **self.dead}
                self._per_layer(one, both, "share of saturated or dead units", log=False)
                one.set_ylim(-0.03, 1.03)
        fig.tight_layout()
        return HistoryFigure(fig)

    def _curves(self, ax, key: str) -> None:
        epochs = range(1, self.epochs + 1)
        ax.plot(epochs, getattr(self, f"train_{key}"), color=_BLUE, marker="o", ms=3, label="training")
        if getattr(self, f"val_{key}"):
            ax.plot(epochs, getattr(self, f"val_{key}"), color=_ORANGE, marker="s", ms=3, label="validation")
        if self.best_epoch is not None and self.val_loss:
            ax.axvline(self.best_epoch, color="0.5", ls="--", lw=1, label=f"best epoch ({self.best_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy" if key == "acc" else "loss")
        ax.legend()

    def _per_layer(self, ax, series: dict[str, list[float]], label: str, *, log: bool) -> None:
        colours = [_BLUE, _ORANGE, _GREEN, _PINK, "#E69F00", "#56B4E9", "#F0E442", "#000000"]
        for i, (name, values) in enumerate(series.items()):
            epochs = range(1, len(values) + 1)
            kind = "dead" if name in self.dead else "saturated" if name in self.saturated else ""
            layer = (
                f"layer {name} ({self.layer_names[name]})" if name in self.layer_names else f"layer {name}"
            )
            ax.plot(
                epochs,
                values,
                color=colours[i % len(colours)],
                marker="o",
                ms=3,
                label=f"{layer} {kind}".strip(),
            )
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.legend(fontsize="x-small")

    def __repr__(self) -> str:
        if not self.train_loss:
            return "History(no epochs)"
        parts = [f"epochs={self.epochs}", f"train_loss={self.train_loss[-1]:.4g}"]
        if not math.isnan(self.train_acc[-1]):
            parts.append(f"train_acc={self.train_acc[-1]:.3f}")
        if self.val_loss:
            parts.append(f"val_loss={self.val_loss[-1]:.4g}")
            if not math.isnan(self.val_acc[-1]):
                parts.append(f"val_acc={self.val_acc[-1]:.3f}")
        if self.best_epoch is not None:
            parts.append(f"best_epoch={self.best_epoch}")
        if self.stopped_early:
            parts.append("stopped_early=True")
        if self.diverged:
            parts.append("diverged=True")
        return "History(" + ", ".join(parts) + ")"


_PER_EPOCH = ("train_loss", "train_acc", "val_loss", "val_acc")
_PER_LAYER = ("grad_norm", "saturated", "dead")


def _new_figure(size: tuple[float, float]):
    """A new figure: pyplot's current one where pyplot works (so plt.savefig sees it), else a bare one."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # matplotlib itself missing: say what to install
        raise ImportError("History.plot needs matplotlib: pip install matplotlib") from None
    return plt.figure(figsize=size)


class HistoryFigure:
    """The figure ``History.plot()`` drew: a notebook shows it as an image; ``figure`` is the matplotlib
    Figure, ``axes`` its panels, and ``savefig(path)`` saves it.
    """

    def __init__(self, figure) -> None:
        self.figure = figure
        self.axes = list(figure.axes)

    def savefig(self, *args, **kwargs) -> None:
        self.figure.savefig(*args, **kwargs)

    def _repr_png_(self) -> bytes:
        """The image a notebook shows. The figure then leaves pyplot, so it is not shown a second time."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", bbox_inches="tight")
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(self.figure)
        return buffer.getvalue()

    def __repr__(self) -> str:
        titles = ", ".join(ax.get_ylabel() for ax in self.axes)
        return f"HistoryFigure({titles})"
