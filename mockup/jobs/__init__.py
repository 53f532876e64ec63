"""The job runner: Celery on Redis when REDIS_URL is set, else the embedded in-process runner. Both
call the same service functions; the queue only ever carries job ids (of a generation, or of an image
job such as a 2K upscale)."""
from __future__ import annotations

import logging

from flask import current_app

from . import context

log = logging.getLogger(__name__)


def enqueue(job_id: str, priority: int, table: str = "generations") -> None:
    """Hand a committed job to the runner. If the broker is down the job stays queued in the database
    and the reaper sends it again, so a failed hand-off loses nothing."""
    runner = current_app.extensions.get("embedded_runner")
    if runner is not None:
        context.remember(job_id)
        runner.wake()
        return
    from .tasks import TASKS

    try:
        TASKS[table].apply_async(args=[job_id], priority=priority, headers=context.headers())
    except Exception:
        log.exception("could not send job %s to the broker; the reaper will send it again", job_id)
