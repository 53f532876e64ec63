"""The job runner: Celery on Redis when REDIS_URL is set, else the embedded in-process runner. Both
call the same service functions; the queue only ever carries generation ids."""
from __future__ import annotations

import logging

from flask import current_app

log = logging.getLogger(__name__)


def enqueue(generation_id: str, priority: int) -> None:
    """Hand a committed job to the runner. If the broker is down the job stays queued in the database
    and the reaper sends it again, so a failed hand-off loses nothing."""
    runner = current_app.extensions.get("embedded_runner")
    if runner is not None:
        runner.wake()
        return
    from .tasks import generate_mockup

    try:
        generate_mockup.apply_async(args=[generation_id], priority=priority)
    except Exception:
        log.exception("could not send job %s to the broker; the reaper will send it again", generation_id)
