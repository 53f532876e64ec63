"""When a waiting or running generation should be done, from how long the same kind of job took lately.

The measure is the median run (claim to success) of the last RECENT_RUNS succeeded generations of the
same job type on the same engine: a median, so one stuck or one cached run does not move it. Without
any such run there is no estimate, and the page says nothing it cannot back."""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from typing import Collection

from flask import current_app
from sqlalchemy import ColumnElement, null, select

from .. import jobs
from ..extensions import db
from ..jobs.order import JOB_TABLES
from ..models import Generation, ImageJob, utcnow

RECENT_RUNS = 20


@dataclass(frozen=True)
class Estimate:
    typical: timedelta  # the median run of recent jobs of this kind
    finish_at: datetime

    def overdue(self, now: datetime) -> bool:
        return self.finish_at <= now


def typical_run(job_type: str, engine: str) -> timedelta | None:
    """The median run of the last RECENT_RUNS succeeded generations of this job type and engine (one query)."""
    return _median_run(Generation, Generation.job_type == job_type, Generation.engine == engine)


def _median_run(table: type[Generation] | type[ImageJob], *kind: ColumnElement[bool]) -> timedelta | None:
    runs = db.session.execute(
        select(table.started_at, table.finished_at)
        .where(table.status == "succeeded", table.started_at.is_not(None), table.finished_at.is_not(None), *kind)
        .order_by(table.finished_at.desc()).limit(RECENT_RUNS)
    ).all()
    return median(finished - started for started, finished in runs) if runs else None


def estimate(generation: Generation, queue_position: int | None, now: datetime | None = None) -> Estimate | None:
    """The expected finish of a queued or running generation, or None (finished, or nothing measured yet).
    A queued job waits for the jobs ahead of it, JOB_WORKERS at a time, each taking the typical run; the
    first JOB_WORKERS in line are counted as starting now (a rough guess: it ignores what runs already)."""
    if generation.is_finished:
        return None
    typical = typical_run(generation.job_type, generation.engine)
    if typical is None:
        return None
    now = now or utcnow()
    if generation.status == "running" and generation.started_at is not None:
        return Estimate(typical, generation.started_at + typical)
    rounds_ahead = ((queue_position or 1) - 1) // current_app.config["JOB_WORKERS"]
    return Estimate(typical, now + typical * (rounds_ahead + 1))


@dataclass(frozen=True)
class _Active:
    """A queued or running job of any table, with its typical run (None: nothing measured yet)."""

    typical: timedelta | None
    started_at: datetime | None  # set while it runs


def _active_jobs() -> dict[str, _Active]:
    """Every queued or running job by id, each kind's typical run looked up once."""
    typical: dict[tuple, timedelta | None] = {}
    found: dict[str, _Active] = {}
    for table in JOB_TABLES:
        engine = Generation.engine if table is Generation else null()  # an image job has no engine
        rows = db.session.execute(select(table.id, table.job_type, engine, table.status, table.started_at)
                                  .where(table.status.in_(("queued", "running"))))
        for job_id, job_type, engine_name, status, started_at in rows:
            kind = (table.__tablename__, job_type, engine_name)
            if kind not in typical:
                typical[kind] = (_median_run(table, table.job_type == job_type)
                                 if table is ImageJob else typical_run(job_type, engine_name))
            found[job_id] = _Active(typical[kind], started_at if status == "running" else None)
    return found


def finish_of(generation_ids: Collection[str], now: datetime | None = None) -> datetime | None:
    """When the given generations (a batch's) should all be done, or None (all finished, or one of them
    has no measured run of its kind). The queue is played forward: the running jobs end after their
    typical run from their start, and the waiting ones, in the queue's fair order (jobs/order.py), each
    take the first of JOB_WORKERS slots to free up for their typical run; a job of a kind never measured
    counts as taking no time. Jobs queued later by others are not foreseen (they may come before)."""
    now = now or utcnow()
    active = _active_jobs()
    wanted = [active[job_id] for job_id in generation_ids if job_id in active]
    if not wanted or any(job.typical is None for job in wanted):
        return None
    ends = {job_id: max(now, job.started_at + (job.typical or timedelta())) for job_id, job in active.items()
            if job.started_at is not None}
    busy = list(ends.values())
    heapq.heapify(busy)
    for job_id in jobs.queue_positions():  # next first
        start = now
        while len(busy) >= current_app.config["JOB_WORKERS"]:
            start = max(start, heapq.heappop(busy))
        job = active.get(job_id)  # None: queued after active was read
        ends[job_id] = start + ((job and job.typical) or timedelta())
        heapq.heappush(busy, ends[job_id])
    return max((ends[job_id] for job_id in generation_ids if job_id in ends), default=None)
