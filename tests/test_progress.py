"""Progress a designer can read: the step a job is at (recorded on its row as the work goes), an expected
finish from the measured runs of the same kind of job (services/estimates.py, clock injected), the queue
page with project, picture, mode and character, and the refusal of pictures too small for a mockup."""
from __future__ import annotations

import re

from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image

import config
from sqlalchemy import select

from mockup.engines import get_engine
from mockup.extensions import db
from mockup.models import JOB_GENERATE, Generation, utcnow
from mockup.services import accounts, estimates, projects

from .conftest import png_bytes, snapshot
from .factories import create_character, create_project
from .job_runner import run_job, use_engine
from .studio import generate, submit_generation, upload

T0 = utcnow().replace(microsecond=0)


class StepWatcher:
    """The local engine, noting the step on the job's row each time the engine is called."""

    def __init__(self, engine, seen: list) -> None:
        self.engine, self.name, self.seen = engine, engine.name, seen

    def generate(self, request):
        self.seen.append(db.session.scalar(select(Generation.step).where(Generation.status == "running")))
        return self.engine.generate(request)


def test_the_steps_are_recorded_on_the_row_as_the_job_runs(app, client, auth, monkeypatch):
    seen = []
    use_engine(monkeypatch, lambda name, config: StepWatcher(get_engine(name, config), seen))
    auth.register()
    project_id = create_project(client)
    generation_id = generate(client, project_id, mode="sketch-to-real", transparent_background="y")
    with app.app_context():
        assert db.session.get(Generation, generation_id).step is None  # queued: no step yet
    assert run_job(app, generation_id) == "succeeded"
    with app.app_context():
        assert seen == ["model"]  # while the engine works
        assert db.session.get(Generation, generation_id).step == "saving"  # cut out, then saved


def _finished(owner_id: str, project_id: str, seconds: float, *, engine: str = "local", job_type=JOB_GENERATE,
              ended: timedelta = timedelta()) -> None:
    db.session.add(Generation(
        project_id=project_id, owner_id=owner_id, mode="sketch-to-real", engine=engine, job_type=job_type,
        source_path="uploads/x.jpg", status="succeeded", started_at=T0 - ended - timedelta(seconds=seconds),
        finished_at=T0 - ended,
    ))


@pytest.fixture
def measured(app):
    """A user's project with runs of 10, 20 and 30 s (median 20 s), and noise of another engine and type."""
    with app.app_context():
        user = accounts.register("runs@example.com", "correct horse", "Runs")
        project = projects.create_project(user.id, "Runs")
        for seconds in (10, 30, 20):
            _finished(user.id, project.id, seconds)
        _finished(user.id, project.id, 500, engine="gemini")
        _finished(user.id, project.id, 700, job_type="edit-image")
        db.session.commit()
        return user.id, project.id


def test_the_typical_run_is_the_median_of_the_same_job_type_and_engine(app, measured):
    with app.app_context():
        assert estimates.typical_run(JOB_GENERATE, "local") == timedelta(seconds=20)
        assert estimates.typical_run(JOB_GENERATE, "gemini") == timedelta(seconds=500)
        assert estimates.typical_run(JOB_GENERATE, "unknown-engine") is None


def test_only_the_most_recent_runs_count(app, measured):
    with app.app_context():
        owner_id, project_id = measured
        for age in range(estimates.RECENT_RUNS):  # newer than the three above, all 60 s
            _finished(owner_id, project_id, 60, ended=timedelta(seconds=-1 - age))
        db.session.commit()
        assert estimates.typical_run(JOB_GENERATE, "local") == timedelta(seconds=60)


def test_a_running_job_is_expected_a_typical_run_after_it_started(app, measured):
    with app.app_context():
        owner_id, project_id = measured
        running = Generation(project_id=project_id, owner_id=owner_id, job_type=JOB_GENERATE, mode="sketch-to-real", engine="local",
                             source_path="uploads/x.jpg", status="running", started_at=T0 - timedelta(seconds=5))
        estimate = estimates.estimate(running, None, now=T0)
        assert estimate.finish_at == T0 + timedelta(seconds=15) and not estimate.overdue(T0)
        assert estimate.overdue(T0 + timedelta(seconds=15))


def test_a_queued_job_waits_for_the_rounds_ahead_of_it(app, measured):
    app.config["JOB_WORKERS"] = 3
    with app.app_context():
        owner_id, project_id = measured
        queued = Generation(project_id=project_id, owner_id=owner_id, job_type=JOB_GENERATE, mode="sketch-to-real", engine="local",
                            source_path="uploads/x.jpg", status="queued")
        assert estimates.estimate(queued, 1, now=T0).finish_at == T0 + timedelta(seconds=20)
        assert estimates.estimate(queued, 3, now=T0).finish_at == T0 + timedelta(seconds=20)
        assert estimates.estimate(queued, 4, now=T0).finish_at == T0 + timedelta(seconds=40)


def test_no_estimate_without_measured_runs_or_once_finished(app, measured):
    with app.app_context():
        owner_id, project_id = measured
        other = Generation(project_id=project_id, owner_id=owner_id, job_type=JOB_GENERATE, mode="sketch-to-real", engine="gemini-x",
                           source_path="uploads/x.jpg", status="queued")
        assert estimates.estimate(other, 1, now=T0) is None
        done = db.session.scalars(select(Generation).where(Generation.status == "succeeded")).first()
        assert estimates.estimate(done, None, now=T0) is None


def test_the_status_fragment_shows_the_step_and_the_expected_finish(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    earlier = generate(client, project_id, character_id)
    assert run_job(app, earlier) == "succeeded"
    generation_id = generate(client, project_id, character_id)
    fragment = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert 'data-step="queued"' in fragment and "Expected to finish at" in fragment
    with app.app_context():
        generation = db.session.get(Generation, generation_id)
        generation.status, generation.started_at, generation.step = "running", utcnow(), "model"
        db.session.commit()
    fragment = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert 'data-step="model"' in fragment
    assert 'aria-current="step">Calling the model<' in fragment
    assert "Expected to finish at" in fragment and "it usually takes" in fragment


def test_the_queue_page_tells_jobs_apart_and_refreshes_while_one_is_active(app, client, auth):
    auth.register()
    project_id = create_project(client, "Acrylic stands")
    character_id = create_character(client, project_id, "Bunny")
    first = generate(client, project_id, character_id)
    second = generate(client, project_id, mode="sketch-to-real")
    page = client.get("/queue").get_data(as_text=True)
    assert page.count("Acrylic stands") == 2 and "Bunny" in page and "Sketch to real" in page
    assert 'data-finished="false"' in page and 'data-status-url="/queue/status"' in page
    assert "queued at" in page and "started" not in page.lower().split("<tbody>")[1]
    assert re.search(r'<td class="queue-position"[^>]*>2</td>', page)
    thumbnail = client.get(f"/generations/{first}/thumbnail")  # no candidate yet: the source's picture
    assert thumbnail.status_code == 200 and Image.open(BytesIO(thumbnail.data)).format == "JPEG"
    for generation_id in (first, second):
        assert run_job(app, generation_id) == "succeeded"
    fragment = client.get("/queue/status").get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="queue-jobs"') and 'data-finished="true"' in fragment
    assert "started" in fragment
    with app.app_context():
        candidate = db.session.get(Generation, first).images[0]
        assert client.get(f"/generations/{first}/thumbnail").data == open(
            f"{app.config['DATA_DIR']}/{candidate.thumbnail_path}", "rb").read()


def test_a_picture_under_512_px_on_its_short_side_is_refused_and_nothing_kept(app, client, auth):
    app.config["MIN_SOURCE_SIDE_PX"] = config.from_env({})["MIN_SOURCE_SIDE_PX"]  # production's, not base_config's
    assert app.config["MIN_SOURCE_SIDE_PX"] == 512
    auth.register()
    project_id = create_project(client)
    before = snapshot(app)
    response = submit_generation(client, project_id, mode="sketch-to-real",
                                 source_image=upload(png_bytes((900, 500)), "small.png"))
    assert response.status_code == 422
    assert "This image is too small for a sharp mockup. Please upload a larger one." in response.get_data(as_text=True)
    assert snapshot(app) == before
    response = client.post(f"/projects/{project_id}/characters", data={
        "name": "Tiny", "image": upload(png_bytes((20, 20)), "tiny.png")}, content_type="multipart/form-data")
    assert response.status_code == 422 and "too small for a sharp mockup" in response.get_data(as_text=True)
    assert snapshot(app) == before
    response = submit_generation(client, project_id, mode="sketch-to-real",
                                 source_image=upload(png_bytes((900, 512)), "enough.png"))
    assert response.status_code == 303
