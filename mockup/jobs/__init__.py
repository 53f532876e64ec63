"""The job runner: Celery on Redis when REDIS_URL is set, else the embedded in-process runner. Both run
the job types of registry.py through the same lifecycle (lifecycle.py); the queue only ever carries job
ids (of a generation, or of an image job such as a 2K upscale).

Layers inside this package: handoff.py, progress.py, order.py and lifecycle.py sit below the services
(services submit through handoff.submit, read the queue's fair order from order.py, and a job's work
reports its steps through progress.record_step); registry.py, runner.py, embedded.py, tasks.py and celery_app.py sit above them."""
from __future__ import annotations

from .handoff import PRIORITY_BATCH, PRIORITY_HIGH, PRIORITY_NORMAL, dispatch, submit
from .order import queue_positions
from .progress import record_step

__all__ = ["PRIORITY_BATCH", "PRIORITY_HIGH", "PRIORITY_NORMAL", "dispatch", "queue_positions", "record_step", "submit"]
