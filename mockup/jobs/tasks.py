"""Celery tasks: thin, receive ids, call services."""
from __future__ import annotations

from celery import shared_task

from ..services import execution


@shared_task(name="mockup.generate_mockup", acks_late=True, reject_on_worker_lost=True)
def generate_mockup(generation_id: str) -> str | None:
    """Run one delivery of a generation job of any job_type (a mockup or a region edit: execution picks
    the work from the row); a duplicate delivery claims nothing and returns None."""
    return execution.run_generation(generation_id)


@shared_task(name="mockup.reap_jobs")
def reap_jobs() -> list[str]:
    """Send again the jobs whose worker died or that the broker lost; fail those out of attempts."""
    resend = execution.reap()
    for generation_id, priority in resend:
        generate_mockup.apply_async(args=[generation_id], priority=priority)
    return [generation_id for generation_id, _ in resend]
