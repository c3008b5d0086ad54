"""How fast each interactive lesson redraws: a slider step = the new state + the figure as PNG bytes.

Every lesson of ``nnlab.lessons`` is found by itself (the names in ``dir(nnlab.lessons)`` that build a
``Lesson``), so a lesson added to any chapter module is measured with no change here. Each lesson is
built once, outside the timing; then its sliders are moved as a hand moves them: every slider in turn
walks ``--steps`` values across its range and back (a dropdown cycles through its options). One
redraw is ``lesson.set(name=value)`` followed by ``lesson.png()``: what a slider change costs in a
notebook, where the PNG is what the browser receives. The first move of each slider is a warm-up and
is not counted. The report gives the median and the 90th percentile per lesson. Target: a median of
at most 30 ms, so the figure keeps up with a dragged slider.

    python benchmarks/bench_lessons.py                     # every lesson
    python benchmarks/bench_lessons.py --only learning_rate --only momentum --steps 40
    python benchmarks/bench_lessons.py --json lessons.json # also write the figures as JSON ("-": stdout)
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import machine, table

TARGET_MS = 30.0
_HELPERS = {"Lesson", "float_slider", "int_slider"}


def _returns_a_lesson(fn: Callable) -> bool:
    """A lesson factory: a function whose every parameter has a default and which builds a ``Lesson``.

    The return annotation says so (``-> Lesson``); without one, the function's source must call
    ``Lesson(`` itself. Nothing is called here, so a slow function that is not a lesson is never run.
    """
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in signature.parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if required:
        return False
    annotation = signature.return_annotation
    if annotation is not signature.empty:
        name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
        return name.rsplit(".", 1)[-1] == "Lesson"
    try:
        return "Lesson(" in inspect.getsource(fn)
    except (OSError, TypeError):
        return False


def discover_lessons() -> dict[str, Callable]:
    """Every lesson factory of ``nnlab.lessons``, by name, found through ``dir(nnlab.lessons)``."""
    import nnlab.lessons as lessons

    found = {}
    for name in dir(lessons):
        if name in _HELPERS or name.startswith("_"):
            continue
        obj = getattr(lessons, name)
        if inspect.isfunction(obj) and _returns_a_lesson(obj):
            found[name] = obj
    return found


def slider_moves(lesson, steps: int) -> list[tuple[str, object]]:
    """(slider name, value) pairs: each slider walks ``steps`` values across its range and back.

    The walk starts at the slider's current value, so the first move of each slider is a real change.
    A widget with ``options`` (a dropdown) cycles through them instead.
    """
    moves: list[tuple[str, object]] = []
    for name, slider in lesson.sliders.items():
        start = slider.value
        if hasattr(slider, "options") and not hasattr(slider, "min"):
            options = [o[1] if isinstance(o, tuple) else o for o in slider.options]
            values = [options[i % len(options)] for i in range(1, steps + 1)] + [start]
        elif hasattr(slider, "min") and hasattr(slider, "max"):
            lo, hi = slider.min, slider.max
            step = getattr(slider, "step", None) or (hi - lo) / 100
            grid = np.arange(lo, hi + step / 2, step)
            idx = np.round(np.linspace(0, len(grid) - 1, max(steps, 2))).astype(int)
            there = list(grid[idx])
            walk = there + there[::-1][1:]  # across the range and back: a hand that drags to and fro
            cast = int if isinstance(start, (int, np.integer)) and not isinstance(start, bool) else float
            values = [cast(v) for v in walk if cast(v) != start] + [start]
            values = [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]  # each a real change
        else:
            continue
        moves += [(name, value) for value in values]
    return moves


def time_lesson(factory: Callable, steps: int = 20) -> dict:
    """Build the lesson, move its sliders, and return the redraw times in ms with their median and p90."""
    lesson = factory()
    moves = slider_moves(lesson, steps)
    times: list[float] = []
    sizes: list[int] = []
    warm = set()
    for name, value in moves:
        start = time.perf_counter()
        lesson.set(**{name: value})
        png = lesson.png()
        elapsed = (time.perf_counter() - start) * 1000
        if name not in warm:  # the first move of each slider builds caches: not counted
            warm.add(name)
            continue
        times.append(elapsed)
        sizes.append(len(png))
    arr = np.array(times) if times else np.array([np.nan])
    width, height = lesson.figure.canvas.get_width_height()
    return {
        "median_ms": float(np.median(arr)),
        "p90_ms": float(np.percentile(arr, 90)),
        "max_ms": float(np.max(arr)),
        "redraws": len(times),
        "png_kb": float(np.mean(sizes)) / 1024 if sizes else 0.0,
        "pixels": f"{width}x{height}",
        "sliders": list(lesson.sliders),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[], help="time only this lesson (repeatable)")
    parser.add_argument("--steps", type=int, default=20, help="values per slider, one way (default 20)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-' for stdout)")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    factories = discover_lessons()
    unknown = sorted(set(args.only) - set(factories))
    if unknown:
        parser.error(f"no lesson named {unknown}; the lessons are {sorted(factories)}")
    names = args.only or sorted(factories)
    results = {}
    for name in names:
        results[name] = time_lesson(factories[name], args.steps)
        r = results[name]
        print(f"{name}: median {r['median_ms']:.1f} ms", file=sys.stderr, flush=True)
    rows = [
        (
            name,
            f"{r['median_ms']:.1f}",
            f"{r['p90_ms']:.1f}",
            f"{r['max_ms']:.1f}",
            str(r["redraws"]),
            r["pixels"],
            f"{r['png_kb']:.0f}",
            "yes" if r["median_ms"] <= TARGET_MS else "NO",
        )
        for name, r in results.items()
    ]
    print(f"Lesson redraws (state + figure to PNG), {machine()}, matplotlib {matplotlib.__version__}")
    header = (
        "lesson",
        "median ms",
        "p90 ms",
        "max ms",
        "redraws",
        "pixels",
        "PNG KiB",
        f"≤ {TARGET_MS:g} ms",
    )
    print(table(rows, header))
    if args.json:
        text = json.dumps({"machine": machine(), "target_ms": TARGET_MS, "lessons": results}, indent=2)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
