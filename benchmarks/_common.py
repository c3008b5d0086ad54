"""Helpers the benchmarks share: timing by best of interleaved repeats, and a report table."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable

import numpy as np


def best_of(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Run every function ``repeats`` times, interleaved (a, b, a, b, ...), and keep each one's best seconds.

    Interleaving spreads any slow spell of the machine over all contenders instead of one; an untimed
    warm-up round first keeps one-off set-up costs out of the figures.
    """
    best = dict.fromkeys(fns, float("inf"))
    # one untimed round first: imports, first-call set-up (torch.optim loads _dynamo), caches
    for fn in fns.values():
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
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
