"""Gemini's call quota (DESIGN.md section 4: 10 calls a minute per worker pool): callers over it wait,
every Celery process counts against one quota in Redis, and an unreachable Redis does not stop the calls.

The quota and the `limits` storages read the time through FakeClock, and the quota sleeps through it: a
wait takes no real time, and each call's start is known to the microsecond."""
from __future__ import annotations

import logging
import multiprocessing

import limits.storage.memory
import limits.storage.redis
import pytest

from mockup.engines import quota as quota_module
from mockup.engines.quota import CallQuota

from .conftest import REDIS_URL, need, redis_up

PERIOD_S = 60
START = 1_800_000_000.0  # a whole number of seconds, so that the sums below are exact


class FakeClock:
    """The time the quota sees: it moves on only when the quota sleeps."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def install(self, setattr_=setattr) -> None:
        """Make the quota and the storages it counts in read this clock (`setattr_`: monkeypatch's in a test)."""
        for module in (quota_module, limits.storage.memory, limits.storage.redis):
            setattr_(module, "time", self)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    clock = FakeClock()
    clock.install(monkeypatch.setattr)
    return clock


def starts_of(quota: CallQuota, clock: FakeClock, calls: int) -> list[float]:
    """Acquire `calls` times; the seconds after START at which each call got through."""
    starts = []
    for _ in range(calls):
        quota.acquire()
        starts.append(clock.time() - START)
    return starts


def test_calls_over_the_quota_wait_for_the_window_to_move_on(clock):
    starts = starts_of(CallQuota(3, "memory://", period_s=PERIOD_S, sleep=clock.sleep), clock, 6)
    assert starts[:3] == [0, 0, 0]  # the first three went straight through
    # The rest waited for the first three to leave the window, and not much longer.
    assert all(PERIOD_S <= start <= PERIOD_S + 1 for start in starts[3:]), starts


def _acquire_twice(redis_url: str, out) -> None:
    """A Celery pool process: its own clock, starting at the same time as its siblings'."""
    clock = FakeClock()
    clock.install()
    quota = CallQuota(3, redis_url, period_s=PERIOD_S, sleep=clock.sleep)
    for _ in range(2):
        quota.acquire()
        out.put(clock.time() - START)


def test_worker_processes_share_one_quota_in_redis(redis_url):
    """Two processes, as Celery's pool runs jobs, with 2 calls each against a quota of 3: one waits."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    workers = [context.Process(target=_acquire_twice, args=(redis_url, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    starts = sorted(out.get(timeout=30) for _ in range(4))
    for worker in workers:
        worker.join(timeout=10)
    assert starts[:3] == [0, 0, 0]
    assert PERIOD_S <= starts[3] <= PERIOD_S + 1, starts


def test_an_unreachable_redis_falls_back_to_counting_in_the_process(clock, caplog):
    quota = CallQuota(2, "redis://127.0.0.1:1/0", period_s=PERIOD_S, sleep=clock.sleep)
    with caplog.at_level(logging.WARNING, logger="mockup.engines.quota"):
        starts = starts_of(quota, clock, 3)
    assert starts[:2] == [0, 0] and PERIOD_S <= starts[2] <= PERIOD_S + 1  # still limited, in this process
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
