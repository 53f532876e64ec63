"""Handing a committed job to the runner of this installation: the one way services submit work.

This module sits below the services (it imports no service and no worker code), so any service may
submit; the runner behind it (the embedded thread pool, or Celery) is the one create_app() installed in
`app.extensions["job_runner"]`."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app

from ..models import Generation, ImageJob, utcnow

PRIORITY_HIGH, PRIORITY_NORMAL, PRIORITY_BATCH = 1, 5, 10
PRIORITY_NAMES = {PRIORITY_HIGH: "high", PRIORITY_NORMAL: "normal", PRIORITY_BATCH: "batch"}


class Runner(Protocol):
    def submit(self, table: str, job_id: str, priority: int) -> None: ...


def requeue_deadline() -> datetime:
    """For a queued job, lease_until is when the reaper sends it to the queue again, in case the broker
    lost it (a Redis restart)."""
    return utcnow() + timedelta(seconds=current_app.config["JOB_REQUEUE_S"])


def submit(job: Generation | ImageJob) -> None:
    """Hand a job to the runner after the commit that queued it. If the hand-off fails the job stays
    queued in the database and the reaper sends it again, so a failed hand-off loses nothing."""
    resubmit(job.__tablename__, job.id, job.priority)


def resubmit(table: str, job_id: str, priority: int) -> None:
    """The same hand-off by the row's table and id (the reaper sends again what it took back)."""
    runner: Runner = current_app.extensions["job_runner"]
    runner.submit(table, job_id, priority)
