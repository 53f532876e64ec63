"""Shared by the benchmarks: time an action several times, format the result as a table row, and name
the machine the figures were taken on."""
from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path
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


def machine() -> str:
    """For example "2 x AMD EPYC, Python 3.11.7"."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )
    return f"{os.cpu_count()} x {cpu}, Python {platform.python_version()}"
