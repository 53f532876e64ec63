"""Shared by the benchmarks: time an action several times and format the result as a table row."""
from __future__ import annotations

import statistics
import time
from typing import Callable


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times


def row(name: str, times: list[float]) -> str:
    return f"| {name} | median {statistics.median(times) * 1000:.0f} ms, best {min(times) * 1000:.0f} ms |"
