"""The log context (request id, user id) of the web request that enqueued a job travels with the job, so
the job's log lines carry them too: as a message header to a Celery worker, and through a map in this
process to the embedded runner, which takes its job ids from the database rather than from a message.

A job the reaper sends again has no request behind it and logs without one."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import Token
from typing import Any, Iterator

from celery import Task
from celery.signals import task_postrun, task_prerun

from ..logging_setup import LogContext, bound, current, enter, leave

HEADER = "log_context"
# Jobs canceled before they ran are never taken out of the map; this bounds what they leave behind.
MAX_REMEMBERED = 1000

_remembered: dict[str, LogContext] = {}
_remembered_lock = threading.Lock()  # request threads add, runner threads take
_entered: dict[str, Token] = {}


def headers() -> dict[str, Any]:
    """Message headers for apply_async: the context of the request that is sending the job."""
    return {HEADER: current()._asdict()}


def remember(job_id: str) -> None:
    """For the embedded runner: keep the context until the runner picks this job up."""
    context = current()
    with _remembered_lock:
        _remembered[job_id] = context
        while len(_remembered) > MAX_REMEMBERED:
            del _remembered[next(iter(_remembered))]


@contextmanager
def restored(job_id: str) -> Iterator[None]:
    """Around one embedded run: its lines carry the context remembered for it, if any."""
    with _remembered_lock:
        context = _remembered.pop(job_id, LogContext())
    with bound(context):
        yield


@task_prerun.connect
def _enter_task(task_id: str, task: Task, **_kwargs: Any) -> None:
    # Celery makes each message header an attribute of the task's request.
    sent = getattr(task.request, HEADER, None) or {}
    _entered[task_id] = enter(LogContext(sent.get("request_id"), sent.get("user_id")))


@task_postrun.connect
def _leave_task(task_id: str, **_kwargs: Any) -> None:
    token = _entered.pop(task_id, None)
    if token is not None:
        leave(token)
