"""When a waiting or running generation should be done, from how long the same kind of job took lately.

The measure is the median run (claim to success) of the last RECENT_RUNS succeeded generations of the
same job type on the same engine: a median, so one stuck or one cached run does not move it. Without
any such run there is no estimate, and the page says nothing it cannot back."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Generation, utcnow

RECENT_RUNS = 20


@dataclass(frozen=True)
class Estimate:
    typical: timedelta  # the median run of recent jobs of this kind
    finish_at: datetime

    def overdue(self, now: datetime) -> bool:
        return self.finish_at <= now


def typical_run(job_type: str, engine: str) -> timedelta | None:
    """The median run of the last RECENT_RUNS succeeded generations of this job type and engine (one query)."""
    runs = db.session.execute(
        select(Generation.started_at, Generation.finished_at)
        .where(Generation.status == "succeeded", Generation.job_type == job_type, Generation.engine == engine,
               Generation.started_at.is_not(None), Generation.finished_at.is_not(None))
        .order_by(Generation.finished_at.desc()).limit(RECENT_RUNS)
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
