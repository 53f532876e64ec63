"""Gemini's per-minute call quota, kept for the whole worker pool (DESIGN.md section 4: 10 calls a minute
per worker pool).

Celery runs jobs in several processes, so the count lives where they all see it: in Redis, through the
`limits` library's moving window (the library behind Flask-Limiter, already counting the web requests
there). The embedded runner's threads share one process, so there it lives in memory. A caller over the
quota waits its turn rather than failing: a burst of jobs should slow down, while going over Google's
quota would turn into 429 errors for everyone sharing the key.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)
NAMESPACE = "gemini-calls"
MIN_WAIT_S = 0.05


class CallQuota:
    """At most `calls` call starts in any rolling `period_s` seconds, over every process that counts in
    the same storage (`storage_uri`: "redis://..." or "memory://")."""

    def __init__(self, calls: int, storage_uri: str, *, period_s: int = 60,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if calls < 1:
            raise ValueError("the Gemini quota must allow at least one call a minute")
        self._item = RateLimitItemPerSecond(calls, period_s, namespace=NAMESPACE)
        # Short socket timeouts: a Redis that hangs must turn into the fallback, not into a stuck job.
        options = {"socket_timeout": 2, "socket_connect_timeout": 2} if storage_uri.startswith("redis") else {}
        self._shared = MovingWindowRateLimiter(storage_from_string(storage_uri, **options))
        self._shared_down = False
        # While Redis is unreachable the quota is kept per process, as Flask-Limiter does for requests.
        self._fallback = MovingWindowRateLimiter(MemoryStorage())
        self._sleep = sleep

    def acquire(self) -> None:
        """Block until a call may start, and count it."""
        while True:
            try:
                wait_s = self._reserve(self._shared)
                self._shared_down = False
            except self._shared.storage.base_exceptions:
                if not self._shared_down:  # once per outage, not on every call
                    log.warning("The Gemini quota cannot reach Redis; counting in this process meanwhile")
                    self._shared_down = True
                wait_s = self._reserve(self._fallback)
            if wait_s <= 0:
                return
            self._sleep(wait_s)

    def _reserve(self, limiter: MovingWindowRateLimiter) -> float:
        """Count a call start if the window has room (0), else return the seconds until it will."""
        if limiter.hit(self._item):
            return 0.0
        stats = limiter.get_window_stats(self._item)
        if stats.remaining > 0:  # the window moved on between the two questions: try again at once
            return MIN_WAIT_S
        return max(stats.reset_time - time.time(), MIN_WAIT_S)
