"""The one slider-and-figure pattern every interactive lesson uses.

A ``Lesson`` holds its sliders and one matplotlib ``Figure`` built with the object API (never
pyplot, so another cell's ``plt.show()`` cannot show it twice). Moving a slider calls the lesson's
``draw`` function with every slider's value; ``draw`` changes the figure's artists (line data,
titles, texts) and the lesson shows the redrawn figure as a PNG in an ``Image`` widget. This works
the same with ipywidgets 7.7 (Colab) and 8 (JupyterLab 4), and needs no ``%matplotlib widget``.

A test needs no browser and no kernel: build the lesson, set ``lesson.sliders["w"].value``, and read
the figure's data (``line.get_ydata()``, a title's text).

Keeping up with the hand (what makes a redraw cheap; a lesson's ``draw`` needs to know none of it):

- The figure is drawn in full once. Its layout (``layout="constrained"``) is computed then and kept,
  so the axes do not jump while a slider moves.
- The artists ``draw`` changes (matplotlib marks them *stale*) are the moving ones. The rest is drawn
  once more without them into a background bitmap, kept; each redraw restores that bitmap and draws
  only the moving artists, and whatever lies above them, on top (matplotlib's blitting). When the
  axes' limits change, or an artist is added, removed or changed for the first time, the background
  is drawn again.
- The PNG is written with light compression (``PNG_COMPRESS_LEVEL``), several times faster than
  ``savefig``'s and no larger.
- A slider moved in the browser sends one message per step. Each message only notes that a redraw
  is due; a background thread draws the newest values, so after a burst of steps only the last is
  drawn (plus the one in flight). A change made in Python (``slider.value = ...``,
  ``lesson.set(...)``, every unit test) redraws at once, before the call returns.
"""

from __future__ import annotations

import struct
import threading
import traceback
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["Lesson", "float_slider", "int_slider"]

SLIDER_STYLE = {"description_width": "initial"}

# The Okabe-Ito colours (safe for colour-blind readers) every lesson draws with.
BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, GREY = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#E69F00",
    "#CC79A7",
    "#56B4E9",
    "#999999",
)
PNG_COMPRESS_LEVEL = 1
"""zlib level of the lessons' PNGs: level 1, rows unfiltered, is 2.5-4 times faster than ``savefig``'s PNG."""


def float_slider(description: str, value: float, lo: float, hi: float, step: float, **kwargs: Any):
    """A ``FloatSlider`` as the lessons use it: readable label, value shown beside it."""
    return _slider("FloatSlider", description, value, lo, hi, step, **kwargs)


def int_slider(description: str, value: int, lo: int, hi: int, step: int = 1, **kwargs: Any):
    """An ``IntSlider`` with the same look as ``float_slider``."""
    return _slider("IntSlider", description, value, lo, hi, step, **kwargs)


def _slider(kind: str, description: str, value, lo, hi, step, **kwargs: Any):
    import ipywidgets as widgets

    return getattr(widgets, kind)(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        continuous_update=kwargs.pop("continuous_update", True),
        style=SLIDER_STYLE,
        layout=widgets.Layout(width=kwargs.pop("width", "420px")),
        **kwargs,
    )


def _from_the_browser(widget: Any) -> bool:
    """True while ipywidgets applies a value sent by the browser (7.x and 8.x lock the property then)."""
    return bool(getattr(widget, "_property_lock", None))


class Lesson:
    """Sliders driving one matplotlib figure: set a slider, and ``draw`` updates the figure.

    Args:
        sliders: name -> ipywidgets value widget (``float_slider``, ``int_slider``, a Dropdown, ...);
            ``draw`` receives the values under these names.
        figure: a ``matplotlib.figure.Figure`` whose artists ``draw`` updates.
        draw: ``draw(**values)``: updates the figure for the sliders' current values. It may return
            a short text (shown under the figure, e.g. the neuron's answers); ``lesson.text`` keeps it.
            It should change artists (``set_data``, ``set_text``, ...), not clear and re-plot: then
            only what moves is drawn again.
        title: a line shown above the sliders.

    Attributes:
        sliders, figure, text, image (the ``Image`` widget the PNG is shown in; ``output`` is the same
        widget), widget (the whole layout, which is what a notebook displays), redraws (how many
        times ``draw`` ran), error (the traceback of a redraw that failed in the background, or None).
    """

    def __init__(
        self,
        sliders: dict[str, Any],
        figure: Any,
        draw: Callable[..., str | None],
        *,
        title: str = "",
    ) -> None:
        import ipywidgets as widgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.sliders = dict(sliders)
        self.figure = figure
        self._draw = draw
        self.title = title
        self.text: str | None = None
        self.redraws = 0
        self.error: str | None = None
        if not isinstance(figure.canvas, FigureCanvasAgg):
            FigureCanvasAgg(figure)  # the figure's own canvas: the lesson renders it with Agg
        self._blit = _Blitter(figure)
        self._lock = threading.RLock()  # one redraw at a time: a Python call and the background thread
        self._pending = threading.Condition()
        self._due = False  # a browser change not drawn yet
        self._worker: threading.Thread | None = None
        self.image = widgets.Image(format="png")
        self.output = self.image
        self._label = widgets.HTML()
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        self.widget = widgets.VBox([*header, *self.sliders.values(), self.image, self._label])
        for slider in self.sliders.values():
            slider.observe(self._on_change, names="value")
        self.update()

    @property
    def values(self) -> dict[str, Any]:
        """Every slider's current value, by name."""
        return {name: slider.value for name, slider in self.sliders.items()}

    def set(self, **values: Any) -> Lesson:
        """Set several sliders at once (each change redraws); returns the lesson."""
        for name, value in values.items():
            if name not in self.sliders:
                raise ValueError(
                    f"{type(self).__name__} has no slider {name!r}; its sliders are {sorted(self.sliders)}."
                )
            self.sliders[name].value = value
        return self

    def update(self) -> None:
        """Redraw the figure for the current slider values and show it."""
        with self._lock:
            self.redraws += 1
            self.text = self._draw(**self.values)
            self._label.value = f"<pre>{self.text}</pre>" if self.text else ""
            self._show()

    def png(self) -> bytes:
        """The figure as PNG bytes, as the lesson shows it (only what changed since is drawn again)."""
        with self._lock:
            return self._blit.png()

    @property
    def full_draws(self) -> int:
        """How many times the whole figure was drawn; a slider step that only moves artists draws none."""
        return self._blit.full_draws

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until the redraws the browser asked for are drawn; False if ``timeout`` seconds passed."""
        with self._pending:
            return self._pending.wait_for(lambda: self._worker is None, timeout)

    # ------------------------------------------------------------------ slider events
    def _on_change(self, change: dict) -> None:
        if _from_the_browser(change["owner"]):
            self._redraw_soon()
        else:
            self.update()

    def _redraw_soon(self) -> None:
        """Note that a redraw is due; the background thread draws only the newest values."""
        with self._pending:
            self._due = True
            if self._worker is None:
                self._worker = threading.Thread(target=self._drain, name="nnlab-lesson-redraw", daemon=True)
                self._worker.start()

    def _drain(self) -> None:
        while True:
            with self._pending:
                if not self._due:
                    self._worker = None
                    self._pending.notify_all()
                    return
                self._due = False  # changes that arrive while drawing set it again: one more redraw
            try:
                self.update()
                self.error = None
            except Exception:  # a thread's exception would vanish: show it under the figure
                self.error = traceback.format_exc()
                self._label.value = f"<pre>redrawing failed:\n{_escape(self.error)}</pre>"

    def _show(self) -> None:
        from IPython import get_ipython

        if get_ipython() is None:  # plain Python (a unit test): nothing to display into; png() renders
            return
        self.image.value = self.png()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({settings})"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Blitter:
    """Renders a figure to PNG, drawing again only the artists that changed since the last time.

    The artists that ever changed are *moving*. For every Axes (and for the figure itself), the
    moving artists and all that Axes draws above the lowest of them (legends, texts, spines; never
    the axis ticks) form its *foreground*; everything else is drawn once into a background bitmap.
    The foreground's static artists are drawn once too, each run of them into a transparent layer of
    its own. A render restores the background, draws the moving artists and lays the static layers
    over them in matplotlib's own order, so the picture is the one a full draw gives.
    """

    def __init__(self, figure: Any) -> None:
        self.figure = figure
        self.moving: set[int] = set()  # ids of the artists that have changed
        self.steps: list[tuple[str, Any]] = []  # ("draw", artist) or ("layer", (pixels, colours, alpha))
        self.background = None  # the Agg buffer region without the foreground
        self.key: tuple | None = None  # what the background was drawn for
        self.full_draws = 0
        self.cached: bytes | None = None
        self._drawing = False
        figure.canvas.mpl_connect("draw_event", self._drawn)

    def _drawn(self, event) -> None:
        """Someone else drew the figure (``savefig``, ``display``): it cleared the marks of what changed."""
        if not self._drawing:
            self.cached = self.key = None  # so draw the background again next time

    def _full_draw(self) -> None:
        self._drawing = True
        try:
            self.figure.canvas.draw()
        finally:
            self._drawing = False
        self.full_draws += 1

    # the artists a figure draws, per Axes in drawing order
    def _layers(self) -> list[tuple[Any, list[Any]]]:
        from matplotlib.axes import Axes

        fig = self.figure
        layers = []
        top = [a for a in fig.get_children() if a is not fig.patch]
        top.sort(key=lambda a: a.get_zorder())
        for artist in top:
            if isinstance(artist, Axes):
                children = [a for a in artist.get_children() if a is not artist.patch]
                children.sort(key=lambda a: a.get_zorder())
                layers.append((artist, children))
        layers.append((fig, [a for a in top if not isinstance(a, Axes)]))
        return layers

    def _state(self, layers) -> tuple:
        """What, when it changes, needs a new background: the artists, limits, scales, size."""
        from matplotlib.axes import Axes

        fig = self.figure
        limits = tuple(
            (
                tuple(owner.viewLim.bounds),
                owner.get_xscale(),
                owner.get_yscale(),
                tuple(owner.get_position().bounds),
            )
            for owner, _ in layers
            if isinstance(owner, Axes)
        )
        artists = tuple(id(a) for _, children in layers for a in children)
        return fig.canvas.get_width_height(), fig.dpi, limits, artists

    def _changed(self, layers) -> tuple[list[Any], bool]:
        """The artists changed since the last render, and whether something that is no artist changed."""
        from matplotlib.axes import Axes
        from matplotlib.axis import Axis
        from matplotlib.legend import Legend

        changed, other = [], False
        for owner, children in layers:
            if isinstance(owner, Axes):
                other |= any(axis.label.stale for axis in owner._axis_map.values())
            for artist in children:
                if isinstance(artist, (Axes, Axis)):
                    continue
                if isinstance(artist, Legend):
                    other |= artist.stale or any(t.stale for t in artist.texts)
                elif artist.stale:
                    changed.append(artist)
        return changed, other

    def _clear_stale(self, layers) -> None:
        from matplotlib.axes import Axes
        from matplotlib.legend import Legend

        for owner, children in layers:
            if isinstance(owner, Axes):
                for axis in owner._axis_map.values():
                    axis.stale = axis.label.stale = False
            for artist in children:
                if not isinstance(artist, Axes):
                    artist.stale = False
                if isinstance(artist, Legend):
                    for t in artist.texts:
                        t.stale = False

    def _foreground(self, layers) -> list[Any]:
        from matplotlib.axes import Axes
        from matplotlib.axis import Axis

        out = []
        for _, children in layers:
            first = next((i for i, a in enumerate(children) if id(a) in self.moving), None)
            if first is not None:
                out += [a for a in children[first:] if not isinstance(a, (Axis, Axes))]
        return out

    def png(self) -> bytes:
        fig = self.figure
        canvas = fig.canvas
        layers = self._layers()
        changed, other = self._changed(layers)
        key = self._state(layers)
        if self.cached is not None and not changed and not other and key == self.key:
            return self.cached
        if self.background is None:  # the first draw: everything, with the layout engine
            self._full_draw()
            engine = fig.get_layout_engine()
            if engine is not None and not type(engine).__name__.startswith("PlaceHolder"):
                fig.set_layout_engine("none")  # keep the layout just computed: the axes stay put
            layers = self._layers()
            self.background = canvas.copy_from_bbox(fig.bbox)
            self.key = self._state(layers)
        elif other or key != self.key or any(id(a) not in self.moving for a in changed):
            alive = {id(a) for _, children in layers for a in children}
            self.moving = (self.moving & alive) | {id(a) for a in changed}  # forget removed artists
            self._new_background()
            layers = self._layers()
            self.key = self._state(layers)
        else:
            canvas.restore_region(self.background)
        self._draw_foreground()
        self._clear_stale(layers)
        self.cached = _png_bytes(np.asarray(canvas.buffer_rgba()))
        return self.cached

    def _new_background(self) -> None:
        """Draw the background without the foreground, and each run of static foreground artists alone."""
        fig, canvas = self.figure, self.figure.canvas
        foreground = self._foreground(self._layers())
        for artist in foreground:
            artist.set_animated(True)
        try:
            self._full_draw()
        finally:
            for artist in foreground:
                artist.set_animated(False)
        self.background = canvas.copy_from_bbox(fig.bbox)
        self.steps, run = [], []
        renderer = canvas.get_renderer()
        for artist in [*foreground, None]:
            if artist is not None and id(artist) not in self.moving:
                run.append(artist)
                continue
            if run:  # a run of static artists: drawn once on a transparent buffer, kept as a layer
                renderer.clear()
                for static in run:
                    fig.draw_artist(static)
                rgba = np.asarray(canvas.buffer_rgba())
                alpha = rgba[..., 3].reshape(-1)
                where = np.flatnonzero(alpha)
                colours = rgba.reshape(-1, 4)[where].astype(np.uint32)
                self.steps.append(("layer", (where, colours[:, :3], colours[:, 3:])))
                run = []
            if artist is not None:
                self.steps.append(("draw", artist))
        canvas.restore_region(self.background)

    def _draw_foreground(self) -> None:
        fig = self.figure
        rgba = None
        for kind, what in self.steps:
            if kind == "draw":
                fig.draw_artist(what)
                continue
            if rgba is None:
                rgba = np.asarray(fig.canvas.buffer_rgba()).reshape(-1, 4)
            where, colours, alpha = what  # "over": c·a + d·(1 − a), in 0..255 integers
            below = rgba[where].astype(np.uint32)
            out = np.empty_like(below)
            out[:, :3] = (colours * alpha + below[:, :3] * (255 - alpha) + 127) // 255
            out[:, 3:] = alpha + (below[:, 3:] * (255 - alpha) + 127) // 255
            rgba[where] = out


def _png_bytes(rgba: np.ndarray) -> bytes:
    """An RGBA image as PNG bytes: rows unfiltered, zlib at ``PNG_COMPRESS_LEVEL``.

    2.5-4 times faster than Pillow's writer, which ``savefig`` uses (it tries a filter on every row
    and compresses at level 6), and the file is no larger: a plot is mostly flat colour.
    """
    height, width, _ = rgba.shape
    rows = np.empty((height, 4 * width + 1), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = rgba.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESS_LEVEL))
        + chunk(b"IEND", b"")
    )
