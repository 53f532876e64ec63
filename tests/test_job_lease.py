"""The lease of a running job (DESIGN.md section 4): short (JOB_LEASE_S), renewed by a heartbeat while
the job works, taken over by a redelivered message once it lapsed. The clock is injected: `now` for a
claim, `clock` for a heartbeat; no test waits for time to pass."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from sqlalchemy import update

import config
from mockup.extensions import db
from mockup.jobs import lifecycle, runner, tasks
from mockup.models import Generation, utcnow
from mockup.services import accounts, characters, execution, generations, projects

from .conftest import png_bytes

LEASE_S = 60


@pytest.fixture
def job(app):
    """A queued generation's id."""
    with app.app_context():
        user = accounts.register("lease@example.com", "correct horse", "Lease")
        project = projects.create_project(user.id, "Mugs")
        character = characters.create_character(user.id, project.id, "Bunny", png_bytes((80, 80)))
        return generations.submit_generation(user.id, project.id, mode="ip-change", source_image=png_bytes((120, 90)),
                                             character_id=character.id).id


def lease_of(job_id):
    db.session.expire_all()
    return db.session.get(Generation, job_id).lease_until


def test_the_lease_is_short_and_the_time_limit_stays_long(app):
    assert (app.config["JOB_LEASE_S"], app.config["JOB_HEARTBEAT_S"], app.config["JOB_TIMEOUT_S"]) == (LEASE_S, 20, 900)
    assert app.extensions["celery"].conf.task_time_limit == 900


def test_a_heartbeat_as_long_as_the_lease_is_refused():
    settings = config.from_env({"APP_ENV": "testing", "JOB_LEASE_S": "60", "JOB_HEARTBEAT_S": "60"})
    with pytest.raises(config.ConfigError, match="JOB_HEARTBEAT_S"):
        config.check(settings)


def test_a_running_job_within_its_lease_is_not_claimed_again(app, job):
    with app.app_context():
        start = utcnow()
        assert lifecycle.claim(job, now=start) == 1
        assert lease_of(job) == start + timedelta(seconds=LEASE_S)
        assert lifecycle.claim(job, now=start + timedelta(seconds=LEASE_S - 1)) is None


def test_a_redelivery_takes_over_a_job_whose_lease_lapsed(app, job):
    """The message Celery delivers again after its worker died finds the job running with a lapsed lease:
    it claims the job instead of doing nothing, and the dead attempt can no longer finish it."""
    with app.app_context():
        start = utcnow()
        assert lifecycle.claim(job, now=start) == 1
        assert lifecycle.claim(job, now=start + timedelta(seconds=LEASE_S + 1)) == 2
        assert lifecycle.finish(Generation, job, 1) is False
        assert lifecycle.fail(Generation, job, 1, "UNKNOWN", "late") == lifecycle.SUPERSEDED
        assert db.session.get(Generation, job).status == "running"


def test_a_lapsed_job_out_of_attempts_is_left_to_the_reaper(app, job):
    with app.app_context():
        db.session.execute(update(Generation).values(status="running", attempts=lifecycle.MAX_ATTEMPTS,
                                                     lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert lifecycle.claim(job) is None
        assert runner.reap() == []
        assert db.session.get(Generation, job).status == "failed"


def test_the_heartbeat_renews_the_lease_of_a_live_job(app, job):
    with app.app_context():
        start = utcnow()
        attempt = lifecycle.claim(job, now=start)
        later = start + timedelta(seconds=50)
        assert lifecycle.Heartbeat(Generation, job, attempt, clock=lambda: later).beat() is True
        assert lease_of(job) == later + timedelta(seconds=LEASE_S)
        # Past the first lease, but within the renewed one: nobody takes the job over.
        assert lifecycle.claim(job, now=start + timedelta(seconds=LEASE_S + 1)) is None


def test_the_heartbeat_of_a_taken_over_attempt_renews_nothing(app, job):
    with app.app_context():
        start = utcnow()
        assert lifecycle.claim(job, now=start) == 1
        assert lifecycle.claim(job, now=start + timedelta(seconds=LEASE_S + 1)) == 2
        lease = lease_of(job)
        far = start + timedelta(hours=1)
        assert lifecycle.Heartbeat(Generation, job, 1, clock=lambda: far).beat() is False
        assert lease_of(job) == lease


class BeatingEngine:
    """Waits, inside its generate call, until the job's heartbeat has renewed the lease once."""

    def __init__(self, real, renewed: threading.Event):
        self.real, self.renewed = real, renewed

    def generate(self, request):
        assert self.renewed.wait(30), "the heartbeat never renewed the lease while the job worked"
        return self.real.generate(request)


def test_a_job_renews_its_lease_while_it_works(app, job, monkeypatch):
    app.config["JOB_HEARTBEAT_S"] = 0.01
    renewed = threading.Event()
    beat = lifecycle.Heartbeat.beat

    def counted_beat(heartbeat):
        owned = beat(heartbeat)
        renewed.set()
        return owned

    monkeypatch.setattr(lifecycle.Heartbeat, "beat", counted_beat)
    real = execution.get_engine
    monkeypatch.setattr(execution, "get_engine", lambda name, settings: BeatingEngine(real(name, settings), renewed))
    with app.app_context():
        assert runner.run(Generation, job) == "succeeded"
        assert lease_of(job) is None  # finished: no lease left


def test_the_lease_left_is_what_a_claim_has_to_wait(app, job):
    with app.app_context():
        start = utcnow()
        assert lifecycle.lease_left(job, now=start) is None  # queued: a claim takes it at once
        lifecycle.claim(job, now=start)
        assert lifecycle.lease_left(job, now=start + timedelta(seconds=15)) == LEASE_S - 15
        assert lifecycle.lease_left(job, now=start + timedelta(seconds=LEASE_S + 5)) == 0
        db.session.execute(update(Generation).values(attempts=lifecycle.MAX_ATTEMPTS))
        db.session.commit()
        assert lifecycle.lease_left(job, now=start) is None  # out of attempts: the reaper fails it


def deliver_as(job_id, **request):
    """One delivery of the generation task in this process, with the message's Celery request (retries,
    delivery_info) as the worker would set it."""
    tasks.generate_mockup.push_request(called_directly=False, args=[job_id], **request)
    try:
        return tasks.deliver(tasks.generate_mockup, Generation, job_id)
    finally:
        tasks.generate_mockup.pop_request()


def test_a_redelivered_message_waits_out_the_lease_then_takes_the_job_over(app, job):
    """Redis puts the message of a killed pool process back at once: it finds the dead attempt's lease
    still running, comes back when it lapses (not doing nothing, which left the job to the reaper) and
    then claims the job."""
    with app.app_context():
        assert lifecycle.claim(job) == 1
        with pytest.raises(Retry) as retry:
            deliver_as(job, delivery_info={"redelivered": True})
        assert 0 < retry.value.when <= LEASE_S + tasks.LEASE_MARGIN_S
        db.session.execute(update(Generation).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert deliver_as(job, retries=1) == "succeeded"
        assert db.session.get(Generation, job).attempts == 2


def test_a_first_delivery_of_a_running_job_does_nothing(app, job):
    """A duplicate that is no redelivery (the reaper re-sent a queued job the broker still held)."""
    with app.app_context():
        assert lifecycle.claim(job) == 1
        assert deliver_as(job, delivery_info={"redelivered": False}) is None


@pytest.mark.parametrize("ended", [{"status": "succeeded", "lease_until": None},
                                   {"attempts": lifecycle.MAX_ATTEMPTS}], ids=["succeeded", "out-of-attempts"])
def test_a_redelivered_message_of_a_job_no_claim_can_take_stops(app, job, ended):
    with app.app_context():
        assert lifecycle.claim(job) == 1
        db.session.execute(update(Generation).values(**ended))
        db.session.commit()
        assert deliver_as(job, retries=2, delivery_info={"redelivered": True}) is None


def test_a_waiting_redelivery_and_the_reaper_run_a_dead_job_once(app, job):
    """Both come for a job whose lease lapsed: the reaper queues it again and sends a message, the
    redelivered one comes back from its wait. Whichever claims first runs it; the other claims nothing."""
    with app.app_context():
        assert lifecycle.claim(job) == 1
        db.session.execute(update(Generation).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert [job_id for _, job_id, _ in runner.reap()] == [job]
        assert deliver_as(job, retries=1) == "succeeded"
        assert deliver_as(job) is None  # the reaper's message
        assert db.session.get(Generation, job).attempts == 2
