"""Celery tasks: thin, receive ids, call services."""
from __future__ import annotations

from celery import shared_task

from ..services import execution, image_jobs


@shared_task(name="mockup.generate_mockup", acks_late=True, reject_on_worker_lost=True)
def generate_mockup(generation_id: str) -> str | None:
    """Run one delivery of a generation job of any job_type (a mockup or a region edit: execution picks
    the work from the row); a duplicate delivery claims nothing and returns None."""
    return execution.run_generation(generation_id)


@shared_task(name="mockup.process_image", acks_late=True, reject_on_worker_lost=True)
def process_image(job_id: str) -> str | None:
    """Run one delivery of an image job (2K upscale, background cut-out)."""
    return image_jobs.run_image_job(job_id)


# Which task runs the jobs of each job table.
TASKS = {"generations": generate_mockup, "image_jobs": process_image}


@shared_task(name="mockup.reap_jobs")
def reap_jobs() -> list[str]:
    """Send again the jobs whose worker died or that the broker lost; fail those out of attempts."""
    from . import enqueue

    resend = execution.reap()
    for table, job_id, priority in resend:
        enqueue(job_id, priority, table)
    return [job_id for _, job_id, _ in resend]
