"""The book's interactive lessons: sliders driving matplotlib figures, one module per chapter.

A chapter cell reads ``lessons.party_neuron()`` (for example) and displays it. Each lesson is a
``Lesson`` object holding its sliders and its figure, so a test can move a slider and read the figure.
``import nnlab`` never imports this package; ipywidgets is imported when a lesson is built.

Modules: ``perceptron`` (chapter 1), ``gradient_descent`` (chapter 2), ``backprop`` (chapter 3),
``saturation`` (chapter 4), ``playground`` (chapters 1 and 2: a network learning 2-D sets),
``initialisation`` (chapter 5), ``regularisation`` (chapter 6), ``convolution`` (chapter 7),
``pooling`` (chapter 8), ``mnist`` (chapter 9); ``Lesson``
is the shared slider-and-figure helper; ``diagram.network_diagram`` draws a small network with its
numbers on it (chapter 3).
"""

from __future__ import annotations

import importlib

from ._core import Lesson, float_slider, int_slider

_CHAPTER_MODULES = (
    "perceptron",
    "gradient_descent",
    "backprop",
    "saturation",
    "playground",
    "initialisation",
    "regularisation",
    "convolution",
    "pooling",
    "mnist",
)


def _lesson_modules():
    for name in _CHAPTER_MODULES:
        try:
            yield importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise


def __getattr__(name: str) -> object:
    """Find a lesson by name in the chapter modules (``lessons.learning_rate`` and the like)."""
    for module in _lesson_modules():
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"nnlab.lessons has no lesson {name!r}; see dir(nnlab.lessons).")


def __dir__() -> list[str]:
    names = {"Lesson", "float_slider", "int_slider"}
    for module in _lesson_modules():
        names.update(getattr(module, "__all__", ()))
    return sorted(names)


__all__ = ["Lesson", "float_slider", "int_slider"]
