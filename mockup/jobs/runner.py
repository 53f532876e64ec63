"""One delivery of a job of any type: claim its row, do the registry's work for its type, keep what it
made. The embedded runner and the Celery tasks both run jobs through here; so does the reaper."""
from __future__ import annotations

import logging

from ..errors import UNKNOWN, JobFailed
from ..extensions import db
from ..models import Generation, ImageJob
from . import lifecycle
from .lifecycle import JobTable
from .registry import JOB_TYPES, TABLES

log = logging.getLogger(__name__)


def run(table: JobTable, job_id: str) -> str | None:
    """Run one delivery of a job; returns its outcome ("succeeded", "failed", SUPERSEDED), or None if
    there was nothing to claim (a duplicate delivery)."""
    return lifecycle.measured(table, job_id, lambda: _deliver(table, job_id))


def _deliver(table: JobTable, job_id: str) -> str | None:
    attempt = lifecycle.claim(job_id, table)
    if attempt is None:
        log.info("job %s not claimed (duplicate delivery or no longer queued)", job_id)
        return None
    job = db.session.get(table, job_id)
    job_type = JOB_TYPES[job.job_type]
    try:
        with lifecycle.Heartbeat(table, job_id, attempt):
            made = job_type.work(job)
    except JobFailed as error:
        log.warning("job %s failed: %s %s", job_id, error.message, error.detail)
        return lifecycle.fail(table, job_id, attempt, error.code, error.message, **error.values)
    except Exception:
        log.exception("job %s crashed", job_id)
        return lifecycle.fail(table, job_id, attempt, UNKNOWN, job_type.crashed)
    return lifecycle.keep(table, job_id, attempt, made)


def reap(*, orphans: bool = False) -> list[tuple[str, str, int]]:
    """The reaper over every job table (lifecycle.reap)."""
    return lifecycle.reap(TABLES, orphans=orphans)


def run_generation(generation_id: str) -> str | None:
    """One delivery of a generation job (`generate-mockup` or `edit-image`)."""
    return run(Generation, generation_id)


def run_image_job(job_id: str) -> str | None:
    """One delivery of an image job (`upscale-image` or `remove-background`)."""
    return run(ImageJob, job_id)
