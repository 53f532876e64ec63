"""Celery tasks: thin, receive ids, run the job through the runner."""
from __future__ import annotations

import logging

from celery import Task, shared_task

from ..models import Generation, ImageJob
from ..services import staging
from . import handoff, runner
from .lifecycle import JobTable
from .registry import GENERATION_TASK, IMAGE_TASK

log = logging.getLogger(__name__)
# How long after the lease lapsed a waiting redelivery comes back: late enough that its claim finds it lapsed.
LEASE_MARGIN_S = 1.0


@shared_task(bind=True, name=GENERATION_TASK, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def generate_mockup(self: Task, generation_id: str) -> str | None:
    """Run one delivery of a generation job of any job_type (a mockup or a region edit: the registry
    picks the work from the row); a duplicate delivery claims nothing and returns None."""
    return deliver(self, Generation, generation_id)


@shared_task(bind=True, name=IMAGE_TASK, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def process_image(self: Task, job_id: str) -> str | None:
    """Run one delivery of an image job (2K upscale, background cut-out)."""
    return deliver(self, ImageJob, job_id)


def deliver(task: Task, table: JobTable, job_id: str) -> str | None:
    """Run one delivery. A message delivered again (its pool process died: Redis puts it back at once)
    or sent again by this function finds the job still under the dead attempt's lease; instead of
    doing nothing it comes back when the lease lapses and takes the job over, so the job does not wait
    for the reaper. Against a live job it only ever waits: the heartbeat keeps renewing the lease.
    Once the job has ended, its slot goes to the next job in fair order (handoff.dispatch)."""
    outcome = runner.run(table, job_id)
    if outcome is None and (task.request.retries or (task.request.delivery_info or {}).get("redelivered")):
        wait_s = runner.lease_left(table, job_id)
        if wait_s is not None:
            log.info("job %s still holds a lease; its redelivered message tries again in %.0f s", job_id, wait_s)
            raise task.retry(countdown=wait_s + LEASE_MARGIN_S)
    handoff.dispatch()
    return outcome


@shared_task(name="mockup.reap_jobs")
def reap_jobs() -> list[str]:
    """Take back the jobs whose worker died or that the broker lost, fail those out of attempts, then
    dispatch (which also catches up on any hand-off that failed). Returns the ids taken back. Also
    removes the uploads kept for forms once they are an hour old (services/staging.py)."""
    staging.sweep()
    taken_back = runner.reap()
    handoff.dispatch()
    return [job_id for _, job_id, _ in taken_back]
