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

    def dispatch(self) -> None: ...


def requeue_deadline() -> datetime:
    """For a queued job handed to the broker, lease_until is when the reaper takes it back, in case the
    broker lost it (a Redis restart); a queued job still held in the database has none (order.py)."""
    return utcnow() + timedelta(seconds=current_app.config["JOB_REQUEUE_S"])


def submit(job: Generation | ImageJob) -> None:
    """Tell the runner after the commit that queued a job (held: lease_until NULL). The runner takes the
    next jobs in fair order while there is room (jobs/order.py), this one or others; if the hand-off
    fails the job stays queued in the database and the reaper's dispatch takes it, so nothing is lost."""
    runner: Runner = current_app.extensions["job_runner"]
    runner.submit(job.__tablename__, job.id, job.priority)


def dispatch() -> None:
    """After a job left the queue or the running set (it ended, was canceled or taken back): let the
    runner fill the room it made with the next jobs in fair order."""
    runner: Runner = current_app.extensions["job_runner"]
    runner.dispatch()
