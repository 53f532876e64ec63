"""The one way tests wait for something another thread or process does: poll a condition until it
holds or a timeout passes. Tests never assert on how long anything took (inject the clock for that)."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout_s: float, what: str, every_s: float = 0.2) -> T:
    """Poll until condition() is truthy and return its value; fail naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what} (last seen: {value!r})")
        time.sleep(every_s)
