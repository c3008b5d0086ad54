"""Helpers the benchmarks share: timing by best of interleaved repeats, and a report table."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

import numpy as np

PAUSE_S = 0.5  # default sleep before each timed run: see best_of


def best_of(fns: dict[str, Callable[[], object]], repeats: int, pause: float = 0.0) -> dict[str, float]:
    """Run every function ``repeats`` times, interleaved (a, b, a, b, ...), and keep each one's best seconds.

    Interleaving spreads any slow spell of the machine over all contenders instead of one; an untimed
    warm-up round first keeps one-off set-up costs out of the figures. ``pause`` seconds of sleep
    before each timed run let the previous contender's worker threads go idle: OpenBLAS (NumPy) and
    OpenMP (PyTorch) threads spin for a while after their last job, and on a 2-core machine a
    PyTorch epoch that starts while NumPy's threads still spin ran 1.3 times slower (best of 12).
    """
    best = dict.fromkeys(fns, float("inf"))
    # one untimed round first: imports, first-call set-up (torch.optim loads _dynamo), caches
    for fn in fns.values():
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            if pause:
                time.sleep(pause)
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}"


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
