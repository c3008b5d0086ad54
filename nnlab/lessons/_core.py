"""The one slider-and-figure pattern every interactive lesson uses.

A ``Lesson`` holds its sliders and one matplotlib ``Figure`` built with the object API (never
pyplot, so another cell's ``plt.show()`` cannot show it twice). Moving a slider calls the lesson's
``draw`` function with every slider's value; ``draw`` changes the figure's artists (line data,
titles, texts) and the lesson shows the redrawn figure as a PNG inside an ``Output`` widget. This
works the same with ipywidgets 7.7 (Colab) and 8 (JupyterLab 4), and needs no ``%matplotlib widget``.

A test needs no browser and no kernel: build the lesson, set ``lesson.sliders["w"].value``, and read
the figure's data (``line.get_ydata()``, a title's text).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

__all__ = ["Lesson", "float_slider", "int_slider"]

SLIDER_STYLE = {"description_width": "initial"}


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


class Lesson:
    """Sliders driving one matplotlib figure: set a slider, and ``draw`` updates the figure.

    Args:
        sliders: name -> ipywidgets value widget (``float_slider``, ``int_slider``, a Dropdown, ...);
            ``draw`` receives the values under these names.
        figure: a ``matplotlib.figure.Figure`` whose artists ``draw`` updates.
        draw: ``draw(**values)``: updates the figure for the sliders' current values. It may return
            a short text (shown under the figure, e.g. the neuron's answers); ``lesson.text`` keeps it.
        title: a line shown above the sliders.

    Attributes:
        sliders, figure, text, output (the ``Output`` widget the PNG is shown in), widget (the whole
        layout, which is what a notebook displays).
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

        self.sliders = dict(sliders)
        self.figure = figure
        self._draw = draw
        self.title = title
        self.text: str | None = None
        self.output = widgets.Output()
        self._label = widgets.HTML()
        header = [widgets.HTML(f"<b>{title}</b>")] if title else []
        self.widget = widgets.VBox([*header, *self.sliders.values(), self.output, self._label])
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
        self.text = self._draw(**self.values)
        self._label.value = f"<pre>{self.text}</pre>" if self.text else ""
        self._show()

    def png(self) -> bytes:
        """The figure as PNG bytes, as the lesson shows it."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.figure.dpi)
        return buffer.getvalue()

    def _on_change(self, change: dict) -> None:
        self.update()

    def _show(self) -> None:
        from IPython import get_ipython

        if get_ipython() is None:  # plain Python (a unit test): nothing to display into
            return
        from IPython.display import Image, display

        with self.output:
            self.output.clear_output(wait=True)
            display(Image(self.png()))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({settings})"
