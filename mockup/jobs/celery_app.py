"""Celery bound to the Flask app (Flask's "Background Tasks with Celery" pattern): every task runs
inside an app context, so tasks can call services exactly as views do."""
from __future__ import annotations

import logging

from celery import Celery, Task, signals
from flask import Flask, current_app

import config

from .. import multiprocess_metrics, storage, telemetry
from . import context, order
from .registry import TASK_OF_TABLE

log = logging.getLogger(__name__)

# A whole worker killed leaves its job to the reaper: back at most JOB_LEASE_S + REAP_EVERY_S after the kill
# (70 s with the defaults; DESIGN.md section 9 aims at 90 s). One cheap query per job table each time.
REAP_EVERY_S = 10.0


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    redis_url = app.config["REDIS_URL"]
    time_limit = app.config["JOB_TIMEOUT_S"]
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=redis_url or "memory://",
        result_backend=None,
        task_ignore_result=True,
        # Delivery is at-least-once: a job is acknowledged only after it ran, a job whose worker died
        # goes back to the queue, and the atomic claim turns duplicates into no-ops.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=time_limit,
        # Half a minute to clean up, but never a zero or negative limit when JOB_TIMEOUT_S is short.
        task_soft_time_limit=max(time_limit - 30, time_limit * 0.9),
        task_default_priority=5,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            # Longer than the time limit, or Redis would hand a running job to a second worker, and than the
            # countdown of a redelivery waiting out a lease (tasks.deliver: JOB_LEASE_S at most). A whole
            # worker killed leaves its message unacknowledged this long: the reaper gives the job back first.
            "visibility_timeout": time_limit * 2,
            # Our priorities are 1 (high), 5 (normal), 10 (batch); lower runs first.
            "priority_steps": list(range(11)),
            "sep": ":",
            "queue_order_strategy": "priority",
        },
        beat_schedule={"reap-jobs": {"task": "mockup.reap_jobs", "schedule": REAP_EVERY_S}},
        beat_schedule_filename=storage.beat_schedule(app.config["DATA_DIR"]),
        imports=("mockup.jobs.tasks",),
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


class CeleryRunner:
    """The hand-off (handoff.submit, handoff.dispatch) when REDIS_URL is set: the database row stays the
    queue's truth, and the broker gets only the jobs that can run now (JOB_WORKERS in flight), taken in
    fair order (order.take_turns), each a message with the job's id to its task. Called after a submit,
    after every delivery in the worker, after a cancel and by the reaper, in whichever process."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def submit(self, table: str, job_id: str, priority: int) -> None:
        """A job was queued: dispatch; the request's log context goes with it if it is among those sent
        now (a job sent later, when a slot frees, logs without the request, as one the reaper took back)."""
        self.dispatch(announced=job_id)

    def dispatch(self, announced: str | None = None) -> None:
        try:
            turns = order.take_turns(current_app.config["JOB_WORKERS"])
        except Exception:  # the jobs stay held in their rows: the reaper's dispatch takes them
            log.exception("could not take the next jobs from the queue; the reaper will dispatch again")
            return
        for turn in turns:
            headers = context.headers() if turn.id == announced else {}
            try:
                self.celery.send_task(TASK_OF_TABLE[turn.job_table], args=[turn.id], priority=turn.priority,
                                      headers=headers)
            except Exception:  # handed over but not sent: the reaper takes it back after JOB_REQUEUE_S
                log.exception("could not send job %s to the broker; the reaper will take it back", turn.id)


@signals.worker_init.connect
def _forget_earlier_metrics(**_kwargs) -> None:
    """A worker's counts start from zero with each start, as gunicorn's do (gunicorn.conf.py)."""
    if multiprocess_metrics.enabled():
        multiprocess_metrics.reset()


@signals.worker_init.connect
def _import_engines(**_kwargs) -> None:
    """Import the engines before the pool forks, so that no pool process's first job pays for importing
    google-genai (about half a second, measured in bench/load_bench.py)."""
    from ..engines import gemini, local  # noqa: F401  (imported for their side effect: loaded modules)


@signals.worker_process_init.connect
def _report_process(**_kwargs) -> None:
    """A new pool process: maybe the replacement of one that was killed without a word."""
    if multiprocess_metrics.enabled():
        multiprocess_metrics.forget_dead_processes()
    telemetry.sample_process(config.from_env()["SERVICE_NAME"])


@signals.worker_process_shutdown.connect
def _drop_process_gauges(pid: int, **_kwargs) -> None:
    if multiprocess_metrics.enabled():
        multiprocess_metrics.process_dead(pid)
