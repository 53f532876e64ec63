"""Gemini's call quota (DESIGN.md section 4: 10 calls a minute per worker pool): callers over it wait,
every Celery process counts against one quota in Redis, and an unreachable Redis does not stop the calls."""
from __future__ import annotations

import logging
import multiprocessing
import threading
import time

import pytest

from mockup.engines.quota import CallQuota

from .conftest import REDIS_URL, need, redis_up


def starts_of(quota: CallQuota, calls: int) -> list[float]:
    """Start `calls` threads that each acquire once; the times they got through, in order."""
    starts: list[float] = []
    lock = threading.Lock()

    def call() -> None:
        quota.acquire()
        with lock:
            starts.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(starts)


def test_calls_over_the_quota_wait_for_the_window_to_move_on():
    began = time.monotonic()
    starts = starts_of(CallQuota(3, "memory://", period_s=1), 6)
    assert starts[2] - began < 0.5  # the first three went straight through
    assert starts[3] - began >= 0.95  # the fourth waited for the first to leave the window


def _acquire_twice(redis_url: str, out) -> None:
    quota = CallQuota(3, redis_url, period_s=2)
    for _ in range(2):
        quota.acquire()
        out.put(time.time())


def test_worker_processes_share_one_quota_in_redis(redis_url):
    """Two processes, as Celery's pool runs jobs, with 2 calls each against a quota of 3: one waits."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    began = time.time()
    workers = [context.Process(target=_acquire_twice, args=(redis_url, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    starts = sorted(out.get(timeout=10) for _ in range(4))
    for worker in workers:
        worker.join(timeout=10)
    assert starts[2] - began < 1.0
    assert starts[3] - began >= 1.9


def test_an_unreachable_redis_falls_back_to_counting_in_the_process(caplog):
    quota = CallQuota(2, "redis://127.0.0.1:1/0", period_s=1)
    with caplog.at_level(logging.WARNING, logger="mockup.engines.quota"):
        starts = starts_of(quota, 3)
    assert starts[2] - starts[0] >= 0.9  # still limited, in this process
    assert "cannot reach Redis" in caplog.text


def test_the_quota_must_allow_a_call():
    with pytest.raises(ValueError):
        CallQuota(0, "memory://")


def test_the_engine_counts_in_the_storage_flask_limiter_uses(app):
    """With REDIS_URL the engine's quota is Redis's, shared by the pool; without, the process's memory."""
    need(redis_up(), f"Redis at {REDIS_URL}")
    from mockup.engines.gemini import GeminiEngine

    config = {**app.config, "GEMINI_API_KEY": "key", "RATELIMIT_STORAGE_URI": REDIS_URL}
    assert "Redis" in type(GeminiEngine.from_config(config)._quota._shared.storage).__name__
    config["RATELIMIT_STORAGE_URI"] = "memory://"
    assert "Memory" in type(GeminiEngine.from_config(config)._quota._shared.storage).__name__
