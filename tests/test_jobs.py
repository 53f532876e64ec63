"""The job model of DESIGN.md section 4, tested on the services: atomic claim, duplicate deliveries,
the reaper, the attempt cap, queue limits and the embedded runner."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from mockup import create_app, jobs
from mockup.engines import base as engine_base
from mockup.errors import QueueFull
from mockup.extensions import db
from mockup.jobs import lifecycle, runner
from mockup.models import Generation, Image, utcnow
from mockup.services import accounts, characters, execution, generations, projects

from .conftest import files_under, png_bytes
from .job_runner import run_job, use_engine
from .polling import wait_until


@pytest.fixture
def owner(app):
    with app.app_context():
        user = accounts.register("jobs@example.com", "correct horse", "Jobs")
        project = projects.create_project(user.id, "Mugs")
        character = characters.create_character(user.id, project.id, "Bunny", png_bytes((80, 80), (30, 120, 220)))
        return user.id, project.id, character.id


def submit(owner, **overrides):
    user_id, project_id, character_id = owner
    fields = dict(mode="ip-change", source_image=png_bytes((120, 90)), character_id=character_id, prompt="")
    fields.update(overrides)
    return generations.submit_generation(user_id, project_id, **fields).id


def image_count(generation_id):
    return db.session.scalar(select(func.count()).where(Image.generation_id == generation_id))


def test_run_makes_two_candidates_with_files(app, owner):
    with app.app_context():
        generation_id = submit(owner)
        assert run_job(app, generation_id) == "succeeded"
        generation = db.session.get(Generation, generation_id)
        assert generation.status == "succeeded" and generation.attempts == 1
        assert [image.index for image in generation.images] == [0, 1]
        stored = files_under(app.config["DATA_DIR"])
        assert sum("output_" in name and name.endswith(".png") for name in stored) == 2
        assert sum(name.endswith("_thumb.jpg") and "generations/" in name for name in stored) == 2


def test_duplicate_delivery_makes_no_second_set(app, owner):
    with app.app_context():
        generation_id = submit(owner)
        assert run_job(app, generation_id) == "succeeded"
        files_before = files_under(app.config["DATA_DIR"])
        assert run_job(app, generation_id) is None
        assert image_count(generation_id) == 2
        assert files_under(app.config["DATA_DIR"]) == files_before
        assert db.session.get(Generation, generation_id).attempts == 1


def test_reaper_recovers_a_job_whose_worker_died(app, owner):
    with app.app_context():
        generation_id = submit(owner)
        assert lifecycle.claim(generation_id) == 1  # a worker took it... and died
        db.session.execute(update(Generation).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert runner.reap() == [("generations", generation_id, 5)]
        assert run_job(app, generation_id) == "succeeded"
        generation = db.session.get(Generation, generation_id)
        assert generation.attempts == 2 and image_count(generation_id) == 2


def test_reaper_fails_a_job_after_three_attempts(app, owner):
    with app.app_context():
        generation_id = submit(owner)
        for _ in range(3):
            assert lifecycle.claim(generation_id) is not None
            db.session.execute(update(Generation).values(lease_until=utcnow() - timedelta(seconds=1)))
            db.session.commit()
            runner.reap()
        generation = db.session.get(Generation, generation_id)
        assert generation.status == "failed" and generation.attempts == 3
        assert "3 times" in generation.error_message


def test_reaper_resends_queued_jobs_the_broker_may_have_lost(app, owner):
    with app.app_context():
        generation_id = submit(owner)
        assert runner.reap() == []
        db.session.execute(update(Generation).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert runner.reap() == [("generations", generation_id, 5)]
        assert runner.reap() == []  # re-sent once per window, not on every pass


def claimed_then_taken_back(owner) -> tuple[str, int]:
    """A job one delivery claimed and the reaper then put back in the queue: (its id, that attempt)."""
    generation_id = submit(owner)
    attempt = lifecycle.claim(generation_id)
    db.session.execute(update(Generation).values(status="queued"))
    db.session.commit()
    return generation_id, attempt


def test_late_finisher_does_not_overwrite_the_winner(app, owner):
    """A worker that outlived its lease finishes after the retry won: its result is dropped."""
    from PIL import Image as PILImage

    with app.app_context():
        generation_id, late_attempt = claimed_then_taken_back(owner)
        assert run_job(app, generation_id) == "succeeded"
        stored = {path: (app.config["DATA_DIR"] + "/" + path) for path in files_under(app.config["DATA_DIR"])}
        before = {path: open(full, "rb").read() for path, full in stored.items()}
        late = engine_base.GenerationResult(images=[PILImage.new("RGB", (32, 32), "black")] * 2)
        generation = db.session.get(Generation, generation_id)
        late_outputs = execution._outputs(generation, late)
        assert lifecycle.keep(Generation, generation_id, late_attempt, late_outputs) == lifecycle.SUPERSEDED
        assert image_count(generation_id) == 2
        assert {path: open(full, "rb").read() for path, full in stored.items()} == before


class FailingEngine:
    name = "failing"

    def generate(self, request):
        raise engine_base.EngineError(engine_base.CONTENT_POLICY, "Blocked by the content policy.")


def test_engine_failure_fails_the_job_and_writes_no_output(app, owner, monkeypatch):
    use_engine(monkeypatch, lambda name, config: FailingEngine())
    with app.app_context():
        generation_id = submit(owner)
        assert run_job(app, generation_id) == "failed"
        generation = db.session.get(Generation, generation_id)
        assert (generation.error_code, generation.error_message) == ("CONTENT_POLICY", "Blocked by the content policy.")
        assert not any("generations/" in name for name in files_under(app.config["DATA_DIR"]))


def test_queue_position_follows_priority_then_age(app, owner):
    with app.app_context():
        first, second = submit(owner), submit(owner)
        urgent = submit(owner, priority=jobs.PRIORITY_HIGH)
        positions = {gid: generations.queue_position(db.session.get(Generation, gid)) for gid in (first, second, urgent)}
        assert positions == {urgent: 1, first: 2, second: 3}


def test_queue_full_is_refused_and_writes_nothing(app, owner):
    app.config["QUEUE_LIMIT"] = 2
    with app.app_context():
        submit(owner), submit(owner)
        before = files_under(app.config["DATA_DIR"])
        with pytest.raises(QueueFull):
            submit(owner)
        assert files_under(app.config["DATA_DIR"]) == before
        assert db.session.scalar(select(func.count()).select_from(Generation)) == 2


def test_embedded_runner_resumes_queued_work_after_a_restart(app_config, owner, app):
    with app.app_context():
        queued = [submit(owner) for _ in range(4)]
        assert lifecycle.claim(queued[0]) == 1  # was running when the old process stopped
    restarted = create_app({**app_config, "EMBEDDED_RUNNER_AUTOSTART": True})
    embedded = restarted.extensions["embedded_runner"]
    embedded.ensure_started()
    try:
        def all_done():
            with restarted.app_context():
                statuses = db.session.scalars(select(Generation.status).where(Generation.id.in_(queued)))
                return set(statuses) == {"succeeded"}
        wait_until(all_done, 30, "the four queued jobs to succeed")
        with restarted.app_context():
            assert all(image_count(gid) == 2 for gid in queued)
    finally:
        embedded.stop()


def test_a_failure_after_the_lease_was_taken_back_is_superseded(app, owner):
    """The reaper gave the job to another delivery: this attempt's failure changes nothing."""
    with app.app_context():
        generation_id, attempt = claimed_then_taken_back(owner)
        assert lifecycle.fail(Generation, generation_id, attempt, "UNKNOWN", "boom") == lifecycle.SUPERSEDED
        assert db.session.get(Generation, generation_id).status == "queued"
