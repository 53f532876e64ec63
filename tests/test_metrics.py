"""GET /metrics (issue 6): Prometheus text with request latency by endpoint, job runs by type and
outcome with their duration, the jobs and the queue as the rows say, Gemini calls with tokens and cost,
the disk under DATA_DIR and the process's memory and CPU; no login needed, never rate limited.

Counters are process-wide, so these tests compare a scrape before and after what they do."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import config
from mockup.extensions import db
from mockup.models import Generation
from mockup.services import edits, image_jobs

from .api_support import submit
from .gemini_server import to_reply
from .prometheus_text import Samples, grew, parse, value
from .factories import create_character, create_project, finished_generation
from .fixtures_gemini import run_gemini_job
from .job_runner import run_job


def scrape(client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return parse(response.get_data(as_text=True))


def test_requests_are_counted_and_timed_by_endpoint(client, alice):
    before = scrape(client)
    create_project(alice)
    after = scrape(client)
    assert grew(before, after, "mockup_http_requests_total",
                endpoint="api.create_project", method="POST", status="201") == 1
    assert grew(before, after, "mockup_http_request_duration_seconds_count", endpoint="api.create_project") == 1


def test_jobs_and_the_queue_by_priority_come_from_the_rows(client, alice):
    project_id = create_project(alice)
    submit(alice, project_id, create_character(alice, project_id))
    found = scrape(client)
    assert value(found, "mockup_jobs", job_type="generate-mockup", status="queued") == 1
    assert value(found, "mockup_jobs", job_type="generate-mockup", status="succeeded") == 0
    assert ("mockup_jobs", (("job_type", "upscale-image"), ("status", "queued"))) in found
    assert value(found, "mockup_queue_length", priority="normal") == 1
    assert value(found, "mockup_queue_length", priority="high") == 0
    assert value(found, "mockup_queue_length", priority="batch") == 0


@pytest.fixture
def finished(app, client, auth):
    auth.register()
    project_id = create_project(client)
    return finished_generation(app, client, project_id, create_character(client, project_id))


def test_an_edit_waits_at_high_priority_and_an_upscale_at_batch(app, client, finished):
    generation_id, (image_id, _) = finished
    with app.app_context():
        owner = db.session.get(Generation, generation_id).owner_id
        edits.submit_edit(owner, generation_id, image_id, "make it red", region={"x": 1, "y": 1, "width": 9, "height": 9})
        image_jobs.request_upscale_in_background(owner, image_id)
    found = scrape(client)
    assert value(found, "mockup_queue_length", priority="high") == 1
    assert value(found, "mockup_queue_length", priority="batch") == 1
    assert value(found, "mockup_jobs", job_type="edit-image", status="queued") == 1
    assert value(found, "mockup_jobs", job_type="upscale-image", status="queued") == 1


def test_job_runs_by_type_and_outcome_with_their_duration(app, client, finished):
    generation_id, (image_id, _) = finished
    with app.app_context():
        owner = db.session.get(Generation, generation_id).owner_id
        edit_id = edits.submit_edit(owner, generation_id, image_id, "make it red",
                                    region={"x": 1, "y": 1, "width": 9, "height": 9}).id
    before = scrape(client)
    assert run_job(app, edit_id) == "succeeded"
    assert run_job(app, edit_id) is None  # a second delivery of the same job claims nothing
    after = scrape(client)
    assert grew(before, after, "mockup_job_runs_total", job_type="edit-image", outcome="succeeded") == 1
    assert grew(before, after, "mockup_job_runs_total", job_type="edit-image", outcome="duplicate") == 1
    assert grew(before, after, "mockup_job_duration_seconds_count", job_type="edit-image") == 1
    assert grew(before, after, "mockup_job_duration_seconds_sum", job_type="edit-image") > 0


@pytest.mark.parametrize("first, default, outcomes", [
    ((), "image", {"ok": 2}),
    ((429,), "image", {"http_429": 1, "ok": 2}),
    (("blocked",), "image", {"blocked": 1, "ok": 1}),
    (("malformed",), "image", {"invalid_reply": 1, "ok": 1}),
    ((), 503, {"http_503": 4 * 2}),  # both calls, each tried 4 times
])
def test_gemini_calls_by_outcome_with_tokens_and_cost(gemini_app, gemini_server, first, default, outcomes):
    gemini_server.script(*first)
    gemini_server.default = to_reply(default)
    client = gemini_app.test_client()
    before = scrape(client)
    run_gemini_job(gemini_app)
    after = scrape(client)
    for outcome in ("ok", "blocked", "invalid_reply", "http_429", "http_503"):
        assert grew(before, after, "mockup_gemini_calls_total", outcome=outcome) == outcomes.get(outcome, 0), outcome
    images = outcomes.get("ok", 0)
    assert (grew(before, after, "mockup_gemini_tokens_total", direction="output") > 0) == (images > 0)
    assert grew(before, after, "mockup_gemini_cost_usd_total") == pytest.approx(images * 0.134, rel=0.05, abs=1e-9)


def test_disk_use_under_data_dir_and_the_process(app, client, finished):
    found = scrape(client)
    stored = sum(path.stat().st_size for path in Path(app.config["DATA_DIR"]).rglob("*") if path.is_file())
    assert value(found, "mockup_data_dir_bytes") == stored > 0
    assert 0 < value(found, "mockup_disk_free_bytes") <= value(found, "mockup_disk_total_bytes")
    assert value(found, "mockup_process_resident_memory_bytes", service="web") > 10_000_000
    assert value(found, "mockup_process_cpu_seconds", service="web") > 0


@pytest.mark.rate_limited
def test_metrics_need_no_login_and_are_never_rate_limited(client):
    """A scraper is anonymous, and a refused scrape would leave a gap in every graph."""
    for _ in range(70):
        assert client.get("/metrics").status_code == 200


def test_metrics_files_default_to_a_temp_folder_per_installation(tmp_path):
    """Off DATA_DIR (a full data disk must not kill the processes writing them), shared by the processes
    of one DATA_DIR, apart for another; METRICS_DIR overrides."""
    first = config.from_env({"DATA_DIR": str(tmp_path / "one")})["METRICS_DIR"]
    again = config.from_env({"DATA_DIR": str(tmp_path / "one")})["METRICS_DIR"]
    other = config.from_env({"DATA_DIR": str(tmp_path / "two")})["METRICS_DIR"]
    assert first == again != other
    assert not Path(first).is_relative_to(tmp_path)
    assert config.from_env({"METRICS_DIR": str(tmp_path / "m")})["METRICS_DIR"] == str(tmp_path / "m")


def test_unknown_methods_share_one_series(client):
    """Any token is a method to gunicorn; a client inventing them must not add series."""
    before = scrape(client)
    for method in ("BREW", "WHEN", "PROPFIND"):
        client.open("/projects", method=method)
    after = scrape(client)
    grown = {labels for (name, labels), _ in after.items() if name == "mockup_http_requests_total"}
    assert not any(dict(labels)["method"] in ("BREW", "WHEN", "PROPFIND") for labels in grown)
    assert grew(before, after, "mockup_http_requests_total", endpoint="unmatched", method="other",
                status="405") == 3


def test_live_gauges_of_processes_that_died_silently_are_dropped(tmp_path, monkeypatch):
    from mockup import multiprocess_metrics

    monkeypatch.setenv(multiprocess_metrics.ENV, str(tmp_path))
    gone = multiprocessing_dead_pid()
    for pid in (os.getpid(), gone):
        (tmp_path / f"gauge_liveall_{pid}.db").write_bytes(b"")
    (tmp_path / f"counter_{gone}.db").write_bytes(b"")
    multiprocess_metrics.forget_dead_processes()
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [f"gauge_liveall_{os.getpid()}.db", f"counter_{gone}.db"])  # its counts stay in the sums


def multiprocessing_dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
