"""The fair order of the queue, the one place it is written: the dispatcher (celery_app.CeleryRunner),
the embedded runner, the queue positions of the pages and the API, and the finish estimates all read it.

Priorities are strict (high 1, normal 5, batch 10; lower first). Within a priority the owners take
turns: a job's turn is its place among its owner's active jobs of that priority (those in flight
first, then the waiting ones by age), and the queue goes turn by turn; within a turn the owner whose
last job (at that priority) started longest ago goes first, so that the turns go round even when one
slot frees at a time and an owner's turns start again from 1; then the oldest job. So a colleague's
single generation submitted during a 50-generation batch has turn 1 and runs as soon as a slot frees,
behind only the jobs already running; two 30-job batches alternate. Generations and image jobs (2K
upscales, cut-outs: owner_id on their row too) share one order and one capacity.

A queued row is *held* (lease_until NULL: it waits in the database) or *handed over* (lease_until set:
its message went to the broker, and the reaper takes it back if no worker claimed it by then). The
dispatcher hands over only as many jobs as can run (JOB_WORKERS in flight: handed over or running), in
this order, under a PostgreSQL advisory lock so that several web and worker processes dispatching at
once never pass the capacity; SQLite runs one writer at a time.

Below the services, like handoff.py and lifecycle.py: it knows the job tables, never what a job makes."""
from __future__ import annotations

import functools
from typing import NamedTuple

from sqlalchemy import Select, String, Subquery, and_, case, func, literal, or_, select, text, union_all, update

from ..extensions import db
from ..models import Generation, ImageJob
from .handoff import requeue_deadline
from .progress import JobRow

JobTable = type[JobRow]
# Every job table (registry.TABLES is the same, read from the job types).
JOB_TABLES: tuple[JobTable, ...] = (Generation, ImageJob)
TABLES_BY_NAME: dict[str, JobTable] = {table.__tablename__: table for table in JOB_TABLES}
# The dispatchers of every process take this PostgreSQL advisory lock (until their transaction ends).
DISPATCH_LOCK_KEY = 0x6D6F636B7571


class Turn(NamedTuple):
    """A queued job in the fair order: its table's name, id and priority."""

    job_table: str
    id: str
    priority: int


def _active(table: JobTable) -> Select:
    held = case((and_(table.status == "queued", table.lease_until.is_(None)), 1), else_=0)
    return select(
        literal(table.__tablename__, String).label("job_table"), table.id.label("id"),
        table.owner_id.label("owner_id"), table.priority.label("priority"), table.queued_at.label("queued_at"),
        table.status.label("status"), held.label("held"),
    ).where(table.status.in_(("queued", "running")))


def _last_start(table: JobTable, waiting: Subquery) -> Select:
    """For each waiting owner and priority, when their latest job of this table at that priority started:
    one step down the table's (owner_id, priority, started_at) index, however many jobs the owner ran (a
    designer of 50,000 generations cost every queue position 50 ms when it read them all)."""
    started = (select(func.max(table.started_at))
               .where(table.owner_id == waiting.c.owner_id, table.priority == waiting.c.priority).scalar_subquery())
    return select(waiting.c.owner_id, waiting.c.priority, started.label("started_at"))


@functools.cache  # building it took longer than running it (5 ms of Python); a Select never changes
def fair_order(*, held_only: bool = False) -> Select:
    """The queued jobs of every table as Turn rows, next first: handed-over jobs (already at the broker)
    before held ones, then priority, turn, the owner served longest ago (never first), age and id (so
    ties always break the same way). One query: the window runs over the active jobs, which the status
    index finds and the queue limit bounds; an owner's last start is looked up only for the owners and
    priorities that wait, one index step each (_last_start)."""
    active = union_all(*(_active(table) for table in JOB_TABLES)).cte("active")
    waiting = (select(active.c.owner_id, active.c.priority).where(active.c.status == "queued").distinct()
               .subquery("waiting"))
    served = union_all(*(_last_start(table, waiting) for table in JOB_TABLES)).subquery("served")
    last = (select(served.c.owner_id, served.c.priority, func.max(served.c.started_at).label("started_at"))
            .group_by(served.c.owner_id, served.c.priority).subquery("last"))
    turn = func.row_number().over(partition_by=(active.c.priority, active.c.owner_id),
                                  order_by=(active.c.held, active.c.queued_at, active.c.id))
    ranked = (select(active, turn.label("turn"), last.c.started_at.label("last_started"))
              .outerjoin(last, and_(last.c.owner_id == active.c.owner_id, last.c.priority == active.c.priority))
              .subquery("ranked"))
    query = select(ranked.c.job_table, ranked.c.id, ranked.c.priority).where(ranked.c.status == "queued")
    if held_only:
        query = query.where(ranked.c.held == 1)
    return query.order_by(ranked.c.held, ranked.c.priority, ranked.c.turn, ranked.c.last_started.nulls_first(),
                          ranked.c.queued_at, ranked.c.id)


def queue_positions() -> dict[str, int]:
    """The place in line of every queued job of any table, by id (1 runs next)."""
    return {row.id: place for place, row in enumerate(db.session.execute(fair_order()), start=1)}


def in_flight() -> int:
    """Jobs handed to the broker or running, over every table: what uses the capacity."""
    return sum(db.session.scalar(select(func.count()).where(or_(
        table.status == "running", and_(table.status == "queued", table.lease_until.is_not(None))))) or 0
        for table in JOB_TABLES)


def take_turns(capacity: int) -> list[Turn]:
    """Mark the next held jobs in fair order as handed over, as many as `capacity` leaves room for, and
    commit; the caller then sends exactly these to the broker. A job canceled meanwhile is not taken."""
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": DISPATCH_LOCK_KEY})
        free = capacity - in_flight()
        picked = [Turn(*row) for row in db.session.execute(fair_order(held_only=True).limit(free))] if free > 0 else []
        deadline, taken = requeue_deadline(), []
        for turn in picked:
            table = TABLES_BY_NAME[turn.job_table]
            marked = db.session.execute(
                update(table).where(table.id == turn.id, table.status == "queued", table.lease_until.is_(None))
                .values(lease_until=deadline))
            taken += [turn] if marked.rowcount == 1 else []
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return taken
