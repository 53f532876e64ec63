"""What a running job does now, said on its row while the work goes on (models.JOB_STEPS), for the
progress people see. Below the services, like handoff.py, so a job's work function may report its steps;
lifecycle.py shares its test of "this attempt still owns the job"."""
from __future__ import annotations

from sqlalchemy import update

from ..extensions import db
from ..models import Generation, ImageJob

JobRow = Generation | ImageJob


def owned_by(table: type[JobRow], job_id: str, attempt: int):
    """The WHERE clause that says this attempt still owns the job (no reaper took it back)."""
    return (table.id == job_id, table.status == "running", table.attempts == attempt)


def record_step(job: JobRow, step: str) -> None:
    """Record the step on the row of a job being worked on (`job.attempts` is its attempt). On a
    connection of its own, like the heartbeat, so the work's session and objects stay untouched; only
    while this attempt still owns the job."""
    table = type(job)
    with db.engine.begin() as connection:
        connection.execute(update(table).where(*owned_by(table, job.id, job.attempts)).values(step=step))
