"""``nnlab grade``: score untrusted exercise notebooks in sandboxed processes, and package it for Gradescope.

- ``grader``: the command, reading submissions, judging returned data, writing grades and feedback;
- ``sandbox``: the limits and the user the student's code runs under; ``_supervise.py`` and
  ``_runner.py`` are the two scripts it starts (the runner is the only code that meets the student's,
  and it imports neither nnlab's exercise code nor any expected value);
- ``gradescope``: ``autograder.zip`` for Gradescope (``nnlab assign ... --gradescope``).

Grading depends on the exercise format (``nnlab.exercises.format``), never on a notebook's live objects.
"""

from __future__ import annotations

import importlib

__all__ = ["Limits", "grade"]

_HOME = {"Limits": "sandbox", "grade": "grader"}


def __getattr__(name: str) -> object:
    if name in _HOME:
        return getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    raise AttributeError(f"module 'nnlab.grading' has no attribute {name!r}")
