"""Autograded exercises: the student's ``check`` and ``summary``, and the format ``nnlab assign`` reads.

In an exercise notebook::

    from nnlab.exercises import check, summary
    check("ch03.linear_backward", linear_backward)   # runs the public tests, prints feedback
    summary("ch03")                                  # which questions pass, out of how many

Instructors write a source notebook (see ``nnlab.exercises.source`` and the README) and run
``nnlab assign SOURCE.ipynb --out DIR``. The package needs only NumPy (no torch, matplotlib or
ipywidgets), and loads even that on first use, so the ``nnlab`` command starts fast.
"""

from __future__ import annotations

import importlib

__all__ = ["FORMAT_VERSION", "case", "check", "load_tests", "mistake", "returns", "summary"]

_HOME = {
    "FORMAT_VERSION": "format",
    "case": "authoring",
    "mistake": "authoring",
    "returns": "authoring",
    "check": "student",
    "load_tests": "student",
    "summary": "student",
}


def __getattr__(name: str) -> object:
    if name in _HOME:
        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module 'nnlab.exercises' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
