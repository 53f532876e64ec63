"""The fair queue (jobs/order.py): strict priorities, owners taking turns within each, generations and
image jobs in one order; the dispatcher handing over only what can run, on SQLite and PostgreSQL (with
dispatchers racing); the reaper giving back what the broker lost; the embedded runner in the same order.
Rows carry an injected queued_at; no test waits for time to pass. The same with real Celery processes:
tests/test_fair_queue_stack.py."""
from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from mockup.extensions import db
from mockup.jobs import PRIORITY_BATCH, PRIORITY_HIGH, PRIORITY_NORMAL, order, runner
from mockup.jobs.registry import JOB_TYPES, TABLES
from mockup.models import Generation, Image, ImageJob, utcnow
from mockup.services import accounts, estimates, generations, projects

from .conftest import app_with_tables, png_bytes
from .polling import wait_until

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def queue_app(config_on_each_database):
    """The test app on SQLite, and the same on PostgreSQL (where the advisory lock and the window query
    must work too)."""
    config = config_on_each_database
    with app_with_tables(config) as app, app.app_context():
        yield app


class Queue:
    """Owners and their jobs, written straight into the tables with chosen ages."""

    def __init__(self) -> None:
        self.owners: dict[str, tuple[str, str]] = {}
        self.names: dict[str, str] = {}  # job id -> its name in the test

    def owner(self, name: str) -> tuple[str, str]:
        if name not in self.owners:
            user = accounts.register(f"{name}@example.com", "correct horse", name)
            self.owners[name] = (user.id, projects.create_project(user.id, f"{name}'s").id)
        return self.owners[name]

    def generation(self, name: str, owner: str, priority: int, minute: float, **columns) -> str:
        user_id, project_id = self.owner(owner)
        row = Generation(project_id=project_id, owner_id=user_id, mode="sketch-to-real", engine="local",
                         source_path="uploads/x.png", priority=priority,
                         queued_at=T0 + timedelta(minutes=minute), **columns)
        return self._add(name, row)

    def image_job(self, name: str, owner: str, priority: int, minute: float) -> str:
        made = self.generation(f"{name}-source", owner, PRIORITY_NORMAL, -100, status="succeeded")
        image = Image(generation_id=made, index=0, width=8, height=8, path="p.png", thumbnail_path="t.jpg")
        db.session.add(image)
        db.session.flush()
        return self._add(name, ImageJob(image_id=image.id, owner_id=self.owner(owner)[0], job_type="upscale-image",
                                        priority=priority, queued_at=T0 + timedelta(minutes=minute)))

    def _add(self, name: str, row: Generation | ImageJob) -> str:
        db.session.add(row)
        db.session.commit()
        self.names[row.id] = name
        return row.id

    def order(self) -> list[str]:
        """The names of the queued jobs, next first."""
        return [self.names[turn.id] for turn in db.session.execute(order.fair_order())]


def test_owners_take_turns_within_each_priority_and_priorities_stay_strict(queue_app):
    queue = Queue()
    for index in range(5):
        queue.generation(f"A{index + 1}", "alice", PRIORITY_BATCH, index)
    queue.generation("B1", "bob", PRIORITY_BATCH, 10)
    queue.generation("B2", "bob", PRIORITY_BATCH, 11)
    queue.generation("C-normal", "carol", PRIORITY_NORMAL, 20)
    queue.generation("A-normal", "alice", PRIORITY_NORMAL, 25)
    queue.generation("B-edit", "bob", PRIORITY_HIGH, 30)
    assert queue.order() == ["B-edit", "C-normal", "A-normal", "A1", "B1", "A2", "B2", "A3", "A4", "A5"]


def test_a_job_submitted_during_a_batch_waits_only_for_the_jobs_already_running(queue_app):
    """Alice's running jobs count in her turns: Bob's later jobs come before her waiting ones."""
    queue = Queue()
    for index in range(3):
        queue.generation(f"A{index + 1}", "alice", PRIORITY_BATCH, index, status="running")
    for index in range(3, 8):
        queue.generation(f"A{index + 1}", "alice", PRIORITY_BATCH, index)
    queue.generation("B1", "bob", PRIORITY_BATCH, 30)
    queue.generation("B2", "bob", PRIORITY_BATCH, 31)
    queue.generation("C1", "carol", PRIORITY_BATCH, 40)
    assert queue.order() == ["B1", "C1", "B2", "A4", "A5", "A6", "A7", "A8"]


def test_within_a_turn_the_owner_served_longest_ago_goes_first(queue_app):
    """One slot freeing at a time: Alice's batch is older, but her last job started after Bob's did (or
    Bob never ran one), so Bob's turn comes first; a start at another priority does not count."""
    queue = Queue()
    queue.generation("A-done", "alice", PRIORITY_BATCH, -10, status="succeeded", started_at=T0 - timedelta(minutes=1))
    queue.generation("B-done", "bob", PRIORITY_BATCH, -20, status="succeeded", started_at=T0 - timedelta(minutes=9))
    queue.generation("C-edit", "carol", PRIORITY_HIGH, -30, status="succeeded", started_at=T0)
    for index in range(2):
        queue.generation(f"A{index + 1}", "alice", PRIORITY_BATCH, index)
    queue.generation("B1", "bob", PRIORITY_BATCH, 10)
    queue.generation("C1", "carol", PRIORITY_BATCH, 20)
    assert queue.order() == ["C1", "B1", "A1", "A2"]


def test_ties_break_by_age_then_id_the_same_way_every_time(queue_app):
    queue = Queue()
    same_minute = [queue.generation(f"A{index}", "alice", PRIORITY_NORMAL, 0) for index in range(3)]
    bob = [queue.generation(f"B{index}", "bob", PRIORITY_NORMAL, 0) for index in range(2)]
    alice_first, alice_second = sorted(same_minute)[:2]
    bob_first, bob_second = sorted(bob)
    first_round = [queue.names[job_id] for job_id in sorted([alice_first, bob_first])]
    second_round = [queue.names[job_id] for job_id in sorted([alice_second, bob_second])]
    assert queue.order()[:4] == first_round + second_round
    assert queue.order() == queue.order()


def test_image_jobs_take_their_turn_among_generations_and_count_in_positions(queue_app):
    queue = Queue()
    a1, a2, a3 = (queue.generation(f"A{index}", "alice", PRIORITY_BATCH, index) for index in (1, 2, 3))
    upscale = queue.image_job("B-upscale", "bob", PRIORITY_BATCH, 10)
    assert queue.order() == ["A1", "B-upscale", "A2", "A3"]
    positions = order.queue_positions()
    assert [positions[job_id] for job_id in (a1, upscale, a2, a3)] == [1, 2, 3, 4]
    # The pages and the API read the same order.
    assert generations.queue_position(db.session.get(Generation, a2)) == 3


def test_the_dispatcher_hands_over_only_what_can_run_in_fair_order(queue_app):
    queue = Queue()
    queue.generation("A1", "alice", PRIORITY_BATCH, 0, status="running", lease_until=utcnow() + timedelta(minutes=1))
    for index in range(2, 6):
        queue.generation(f"A{index}", "alice", PRIORITY_BATCH, index)
    queue.generation("B1", "bob", PRIORITY_BATCH, 10)
    handed = order.take_turns(3)
    assert [queue.names[turn.id] for turn in handed] == ["B1", "A2"]
    assert order.in_flight() == 3 and order.take_turns(3) == []
    leases = dict(db.session.execute(select(Generation.id, Generation.lease_until).where(Generation.status == "queued")).all())
    assert {queue.names[job_id] for job_id, lease in leases.items() if lease is not None} == {"B1", "A2"}
    # Handed-over jobs are next in line: they are at the broker already.
    assert queue.order()[:2] == ["B1", "A2"]

    running = next(turn.id for turn in handed if queue.names[turn.id] == "B1")
    db.session.execute(update(Generation).where(Generation.id == running).values(status="succeeded"))
    db.session.commit()
    assert [queue.names[turn.id] for turn in order.take_turns(3)] == ["A3"]


def test_a_canceled_job_frees_its_slot(queue_app):
    queue = Queue()
    for index in range(4):
        queue.generation(f"A{index + 1}", "alice", PRIORITY_NORMAL, index)
    user_id, _ = queue.owner("alice")
    handed = order.take_turns(2)
    generations.cancel_generation(user_id, handed[0].id)
    assert [queue.names[turn.id] for turn in order.take_turns(2)] == ["A3"]


def test_the_reaper_holds_again_what_the_broker_lost_and_it_is_dispatched_in_its_turn(queue_app):
    queue = Queue()
    lost = queue.generation("A1", "alice", PRIORITY_BATCH, 0)
    queue.generation("A2", "alice", PRIORITY_BATCH, 1)
    assert [turn.id for turn in order.take_turns(1)] == [lost]
    assert runner.reap() == []  # handed over within its window
    db.session.execute(update(Generation).where(Generation.id == lost).values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert runner.reap() == [("generations", lost, PRIORITY_BATCH)]
    assert db.session.get(Generation, lost).lease_until is None and order.in_flight() == 0
    assert [turn.id for turn in order.take_turns(1)] == [lost]


@pytest.mark.parametrize("config_on_each_database", ["postgresql"], indirect=True)  # SQLite runs one writer at a time
def test_dispatchers_racing_on_postgresql_never_pass_the_capacity(queue_app, monkeypatch):
    """Eight dispatchers at once, each on its own connection, with the gap between counting what is in
    flight and taking jobs held open for a different time in each (so that, unserialized, later ones
    would count before earlier ones committed and take further jobs): exactly 3 jobs go out."""
    counted, gaps = order.in_flight, itertools.count()

    def slow_count() -> int:
        number = counted()
        threading.Event().wait(0.1 * next(gaps))
        return number

    monkeypatch.setattr(order, "in_flight", slow_count)
    queue = Queue()
    for index in range(20):
        queue.generation(f"A{index}", "alice" if index % 2 else "bob", PRIORITY_BATCH, index)
    taken: list[str] = []
    start = threading.Barrier(8)

    def dispatcher() -> None:
        with queue_app.app_context():
            start.wait()
            taken.extend(turn.id for turn in order.take_turns(3))

    threads = [threading.Thread(target=dispatcher) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == len(set(taken)) == 3
    assert order.in_flight() == 3


def test_a_batch_is_expected_to_finish_by_playing_the_fair_queue_forward(queue_app):
    """Runs of 60 s measured; three slots. Alice has one job running (30 s in) and four waiting, Bob two
    waiting after hers: Bob's take the two free slots now, Alice's follow as slots free up."""
    queue = Queue()
    for index in range(3):  # the measured runs, of another user at another priority
        queue.generation(f"M{index}", "carol", PRIORITY_NORMAL, -60 - index, status="succeeded",
                         started_at=T0 - timedelta(hours=1), finished_at=T0 - timedelta(hours=1) + timedelta(seconds=60))
    alice = [queue.generation("A1", "alice", PRIORITY_BATCH, -5, status="running", started_at=T0 - timedelta(seconds=30))]
    alice += [queue.generation(f"A{index}", "alice", PRIORITY_BATCH, index) for index in range(2, 6)]
    bob = [queue.generation(f"B{index}", "bob", PRIORITY_BATCH, 10 + index) for index in (1, 2)]
    assert queue.order() == ["B1", "B2", "A2", "A3", "A4", "A5"]

    def seconds(ids: list[str]) -> float:
        return (estimates.finish_of(ids, now=T0) - T0).total_seconds()

    assert seconds(bob) == 60
    assert seconds(alice[:1]) == 30
    # A2 takes A1's slot at 30 s, A3 and A4 Bob's at 60 s, A5 A2's at 90 s.
    assert [seconds([job_id]) for job_id in alice[1:]] == [90, 120, 120, 150]
    assert seconds(alice) == 150


def test_no_batch_estimate_without_a_measured_run_or_once_done(queue_app):
    queue = Queue()
    waiting = queue.generation("A1", "alice", PRIORITY_BATCH, 0)
    done = queue.generation("A0", "alice", PRIORITY_BATCH, -1, status="succeeded")
    assert estimates.finish_of([waiting], now=T0) is None  # nothing measured yet
    assert estimates.finish_of([done], now=T0) is None


def test_every_job_table_is_in_the_fair_order():
    assert set(TABLES) == {job_type.table for job_type in JOB_TYPES.values()} == set(order.JOB_TABLES)


def test_the_embedded_runner_runs_the_queue_in_the_fair_order(app):
    """One worker thread, so the runs follow the order one by one: Alice's six, then Bob's two queued
    after them, run A1 B1 A2 B2 A3 A4 A5 A6 (by started_at), whoever submitted first."""
    app.config["JOB_WORKERS"] = 1
    with app.app_context():
        queue = Queue()
        alice, bob = queue.owner("alice"), queue.owner("bob")
        for owner, name, count in ((alice, "A", 6), (bob, "B", 2)):
            for index in range(count):
                job = generations.submit_generation(*owner, mode="sketch-to-real", source_image=png_bytes((96, 72)),
                                                    priority=PRIORITY_BATCH)
                queue.names[job.id] = f"{name}{index + 1}"
    embedded = app.extensions["embedded_runner"]
    embedded.start()
    try:
        def started_order() -> list[str] | None:
            with app.app_context():
                rows = db.session.execute(select(Generation.id, Generation.status).order_by(Generation.started_at)).all()
                return [queue.names[job_id] for job_id, _ in rows] if {s for _, s in rows} == {"succeeded"} else None

        assert wait_until(started_order, 60, "the eight jobs to succeed") == ["A1", "B1", "A2", "B2", "A3", "A4", "A5", "A6"]
    finally:
        embedded.stop()
