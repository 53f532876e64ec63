"""The fair queue with real processes: PostgreSQL, Redis, a real Celery worker and the fake Gemini server
answering each call after a fixed delay. The database holds the queue; the broker only ever holds the
messages of jobs that can run (JOB_WORKERS), and a colleague's jobs queued after a 30-job batch run in
their turn, long before the batch ends. No timed assertion: finish order and counts only."""
from __future__ import annotations

import base64
import json

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.jobs import PRIORITY_BATCH, order
from mockup.models import Generation, Image
from mockup.services import accounts, generations, projects

from .conftest import png_bytes
from .fixtures_gemini import API_KEY
from .fixtures_stack import dispose, migrate, stack_app, start_worker, stop
from .polling import wait_until

CALL_S = 0.5  # each fake Gemini call; a generation makes two at once
CAPACITY = 3  # JOB_WORKERS: jobs in flight at once


@pytest.fixture
def fair_env(stack_env, gemini_server) -> dict[str, str]:
    gemini_server.delay_s = CALL_S
    return {**stack_env, "MOCKUP_ENGINE": "gemini", "GEMINI_API_KEY": API_KEY, "GEMINI_BASE_URL": gemini_server.url,
            "GEMINI_RETRY_BASE_S": "0.05", "GEMINI_CALLS_PER_MINUTE": "10000", "JOB_WORKERS": str(CAPACITY)}


def queue_for(app: Flask, name: str, count: int) -> list[str]:
    """A new user queues `count` sketch-to-real generations at batch priority (as a batch does)."""
    with app.app_context():
        user = accounts.register(f"{name}@example.com", "correct horse", name)
        project_id = projects.create_project(user.id, f"{name}'s line").id
        ids = [generations.submit_generation(user.id, project_id, mode="sketch-to-real", priority=PRIORITY_BATCH,
                                             source_image=png_bytes((96, 72))).id for _ in range(count)]
        db.session.remove()
    return ids


def broker_messages(broker: redis.Redis) -> list[str]:
    """The job id of every message Redis holds: waiting in a queue (one list per priority) or delivered
    to a worker and not yet acknowledged. (The caller keeps those of its own jobs: another test process
    may share this Redis database.)"""
    payloads = [raw for key in broker.scan_iter("celery*") if broker.type(key) == b"list"
                for raw in broker.lrange(key, 0, -1)]
    payloads += [json.dumps(json.loads(raw)[0]) for raw in broker.hvals("unacked")]
    return [json.loads(base64.b64decode(json.loads(raw)["body"]))[0][0] for raw in payloads]


class Watch:
    """Samples, while the jobs run, what is in flight: by the rows, and by the broker's messages of
    jobs not yet finished (a finished job's message is acknowledged just after its slot was refilled)."""

    def __init__(self, app: Flask, broker: redis.Redis) -> None:
        self.app, self.broker = app, broker
        self.most_in_flight = self.most_messages = self.most_running = 0

    def sample(self) -> None:
        messages = broker_messages(self.broker)  # first, so a job finishing meanwhile only lowers the count
        with self.app.app_context():
            unfinished = set(db.session.scalars(select(Generation.id).where(Generation.status.in_(("queued", "running")))))
            running = db.session.scalar(select(func.count()).where(Generation.status == "running"))
            self.most_in_flight = max(self.most_in_flight, order.in_flight())
            db.session.remove()
        self.most_messages = max(self.most_messages, sum(job_id in unfinished for job_id in messages))
        self.most_running = max(self.most_running, running)

    def all_done(self) -> bool:
        self.sample()
        with self.app.app_context():
            left = db.session.scalar(select(func.count()).where(Generation.status.in_(("queued", "running"))))
            db.session.remove()
        return left == 0


def finish_order(app: Flask) -> list[str]:
    with app.app_context():
        rows = db.session.execute(select(Generation.id, Generation.status).order_by(Generation.finished_at)).all()
        db.session.remove()
    assert {status for _, status in rows} == {"succeeded"}, rows
    return [job_id for job_id, _ in rows]


def test_a_colleagues_two_jobs_queued_after_a_30_job_batch_finish_before_its_tenth(fair_env, gemini_server,
                                                                                   redis_url, tmp_path):
    """Alice queues 30 at batch priority, then Bob 2, then the worker starts (so that how fast Alice's
    first jobs run cannot decide the outcome). Only Alice's first three are at the broker; the rest wait
    in the database. The worker has a pool process more than the capacity, so what keeps three running
    is the dispatcher: each finished job's slot goes to the next in fair order, Bob's first."""
    migrate(fair_env)
    app = stack_app(fair_env)
    broker = redis.Redis.from_url(redis_url)
    worker = None
    try:
        batch = queue_for(app, "alice", 30)
        colleague = queue_for(app, "bob", 2)
        at_broker = [job_id for job_id in broker_messages(broker) if job_id in batch + colleague]
        assert sorted(at_broker) == sorted(batch[:CAPACITY])
        worker = start_worker(fair_env, tmp_path, concurrency=CAPACITY + 1)
        watch = Watch(app, broker)
        wait_until(watch.all_done, 240, "the 32 generations to succeed", every_s=0.2)

        finished = finish_order(app)
        tenth_of_batch = [job_id for job_id in finished if job_id in batch][9]
        assert max(finished.index(job_id) for job_id in colleague) < finished.index(tenth_of_batch), finished
        assert watch.most_messages <= CAPACITY and watch.most_in_flight <= CAPACITY
        assert 0 < watch.most_running <= CAPACITY
        assert gemini_server.most_in_flight <= 2 * CAPACITY  # two calls per generation
        with app.app_context():  # every job ran once: two candidates each, two calls each
            assert db.session.scalar(select(func.count()).select_from(Image)) == 2 * 32
        assert len(gemini_server.requests) == 2 * 32
    finally:
        if worker is not None:
            stop(worker)
        dispose(app)
