"""Celery tasks: thin, receive ids, run the job through the runner."""
from __future__ import annotations

from celery import shared_task

from ..services import staging
from . import handoff, runner
from .registry import GENERATION_TASK, IMAGE_TASK


@shared_task(name=GENERATION_TASK, acks_late=True, reject_on_worker_lost=True)
def generate_mockup(generation_id: str) -> str | None:
    """Run one delivery of a generation job of any job_type (a mockup or a region edit: the registry
    picks the work from the row); a duplicate delivery claims nothing and returns None."""
    return runner.run_generation(generation_id)


@shared_task(name=IMAGE_TASK, acks_late=True, reject_on_worker_lost=True)
def process_image(job_id: str) -> str | None:
    """Run one delivery of an image job (2K upscale, background cut-out)."""
    return runner.run_image_job(job_id)


@shared_task(name="mockup.reap_jobs")
def reap_jobs() -> list[str]:
    """Send again the jobs whose worker died or that the broker lost; fail those out of attempts. Also
    removes the uploads kept for forms once they are an hour old (services/staging.py)."""
    staging.sweep()
    resend = runner.reap()
    for table, job_id, priority in resend:
        handoff.resubmit(table, job_id, priority)
    return [job_id for _, job_id, _ in resend]
