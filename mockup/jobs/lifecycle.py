"""The life of one job row, whatever its type (DESIGN.md section 4): claim, heartbeat, finish, fail,
reap, and the metrics of each delivery. The database row is the source of truth: the claim is one conditional UPDATE,
so a second delivery of the same job does nothing, and outputs become visible only together with the
row that marks success.

Below the services: it knows job tables, never what a job makes (that is the registry's runner)."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Callable, Mapping, Protocol

from flask import current_app
from sqlalchemy import and_, or_, select, update

from .. import storage, telemetry
from ..errors import UNKNOWN, ServiceError
from ..extensions import db
from ..models import Generation, ImageJob, utcnow
from .progress import owned_by

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
JobRow = Generation | ImageJob
JobTable = type[JobRow]
# A delivery whose lease ran out while it worked: the reaper gave the job to another delivery, whose
# result is the one kept.
SUPERSEDED = "superseded"


class Made(Protocol):
    """What a job's work made: kept only if this delivery still owns the job when it finishes."""

    values: Mapping[str, object]  # columns of the job row set together with "succeeded"

    def keep(self, staging: storage.Staging) -> None:
        """Write the outputs into `staging` and add their rows to the session (committed by `keep`)."""


def measured(table: JobTable, job_id: str, deliver: Callable[[], str | None]) -> str | None:
    """Run one delivery and count it in the metrics: its job type, outcome and duration."""
    started = time.perf_counter()
    outcome = deliver()
    try:
        job_type = db.session.scalar(select(table.job_type).where(table.id == job_id)) or "unknown"
        telemetry.job_ran(job_type, outcome or "duplicate", time.perf_counter() - started)
        telemetry.sample_process(current_app.config["SERVICE_NAME"])
    except Exception:  # the job has ended and is committed: counting it must not turn it into an error
        log.exception("job %s ran, but could not be counted in the metrics", job_id)
    return outcome


def claim(job_id: str, table: JobTable = Generation, *, now: datetime | None = None) -> int | None:
    """Atomically move a job to running, with a lease of JOB_LEASE_S; returns the attempt number, or None
    if there is nothing to claim. Claimable: a queued job, or a running one whose lease lapsed (its worker
    died: this is the message Celery delivered again), while it has attempts left; a job out of attempts
    is left to the reaper, which fails it."""
    now = now or utcnow()
    lapsed = and_(table.status == "running", table.lease_until < now, table.attempts < MAX_ATTEMPTS)
    result = db.session.execute(
        update(table)
        .where(table.id == job_id, or_(table.status == "queued", lapsed))
        .values(status="running", attempts=table.attempts + 1, lease_until=_lease(now), started_at=now, step=None)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.scalar(select(table.attempts).where(table.id == job_id))


def _lease(now: datetime) -> datetime:
    return now + timedelta(seconds=current_app.config["JOB_LEASE_S"])


def lease_left(job_id: str, table: JobTable = Generation, *, now: datetime | None = None) -> float | None:
    """Seconds until the lease of a running job with attempts left lapses (0 if it has), when a claim
    could take the job over; None if no claim ever will (it ended, or is out of attempts: the reaper's)."""
    now = now or utcnow()
    lease_until = db.session.scalar(
        select(table.lease_until).where(table.id == job_id, table.status == "running", table.attempts < MAX_ATTEMPTS)
    )
    db.session.commit()  # end the read's transaction: the caller may wait long before its next query
    return None if lease_until is None else max(0.0, (lease_until - now).total_seconds())


class Heartbeat:
    """While a delivery works, renew its job's lease every JOB_HEARTBEAT_S from a thread of its own, so
    the lease (JOB_LEASE_S) outlives every slow but live call and lapses soon after the worker dies.
    It stops renewing once the job is no longer this attempt's (the reaper or a redelivery took it)."""

    def __init__(self, table: JobTable, job_id: str, attempt: int, *, clock: Callable[[], datetime] = utcnow):
        self.app = current_app._get_current_object()
        self.table, self.job_id, self.attempt, self.clock = table, job_id, attempt, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat_until_stopped, name=f"heartbeat-{job_id}", daemon=True)

    def beat(self) -> bool:
        """Renew the lease once, on a connection of its own; False if this attempt no longer owns the job."""
        with self.app.app_context(), db.engine.begin() as connection:
            renewed = connection.execute(
                update(self.table).where(*owned_by(self.table, self.job_id, self.attempt))
                .values(lease_until=_lease(self.clock()))
            )
        return renewed.rowcount == 1

    def _beat_until_stopped(self) -> None:
        while not self._stop.wait(self.app.config["JOB_HEARTBEAT_S"]):
            try:
                if not self.beat():
                    return
            except Exception:  # the database is briefly unreachable: try again on the next beat
                log.warning("could not renew the lease of job %s", self.job_id, exc_info=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc_info) -> None:
        self._stop.set()
        self._thread.join()


def fail(table: JobTable, job_id: str, attempt: int, code: str, message: str, **values) -> str:
    """Mark the job failed, with `values` for other columns of its row, if this attempt still owns it;
    SUPERSEDED if the reaper took it back."""
    db.session.rollback()
    owned = db.session.execute(
        update(table).where(*owned_by(table, job_id, attempt))
        .values(status="failed", error_code=code, error_message=message, finished_at=utcnow(), lease_until=None,
                **values)
    ).rowcount == 1
    db.session.commit()
    return "failed" if owned else SUPERSEDED


def finish(table: JobTable, job_id: str, attempt: int, **values) -> bool:
    """Mark the job succeeded if this attempt still owns it; the caller commits together with its
    outputs. False means the job was taken back and this attempt's result must be dropped."""
    owned = db.session.execute(
        update(table).where(*owned_by(table, job_id, attempt))
        .values(status="succeeded", finished_at=utcnow(), lease_until=None, **values)
    ).rowcount == 1
    if not owned:
        db.session.rollback()
    return owned


def keep(table: JobTable, job_id: str, attempt: int, made: Made) -> str:
    """Finish the job with what it made, or drop it (SUPERSEDED) if the job was taken back meanwhile."""
    if not finish(table, job_id, attempt, **made.values):
        return SUPERSEDED
    try:
        with storage.staged() as staging:
            made.keep(staging)
            db.session.commit()
    except ServiceError as error:  # storing the outputs was refused (a full disk); none of them is kept
        return fail(table, job_id, attempt, UNKNOWN, error.message)
    return "succeeded"


def reap(tables: tuple[JobTable, ...], *, orphans: bool = False) -> list[tuple[str, str, int]]:
    """Take back jobs whose worker died (lease expired) and jobs handed to the broker that no worker
    claimed in time (the broker may have lost them): both wait in the database again (held, lease_until
    NULL) for the dispatcher, in their turn. With orphans=True every running job counts as dead (the
    embedded runner's process restarted). Returns (table name, id, priority) of the jobs taken back; a
    job out of attempts is failed."""
    taken_back = [job for table in tables for job in _reap_table(table, orphans)]
    db.session.commit()
    return [(job.__tablename__, job.id, job.priority) for job in taken_back]


def _reap_table(table: JobTable, orphans: bool) -> list[JobRow]:
    now = utcnow()
    dead = select(table).where(table.status == "running")
    if not orphans:
        dead = dead.where(table.lease_until < now)
    taken_back = []
    for job in db.session.scalars(dead):
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at, job.lease_until = "failed", now, None
            job.error_code = UNKNOWN
            job.error_message = f"The job stopped unexpectedly {MAX_ATTEMPTS} times and was given up."
        else:
            job.status, job.step = "queued", None
            taken_back.append(job)
    taken_back += db.session.scalars(
        select(table).where(
            table.status == "queued", table.lease_until < now, table.id.not_in([job.id for job in taken_back]),
        )
    )
    for job in taken_back:
        job.lease_until = None
    return taken_back
