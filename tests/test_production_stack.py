"""The full flow on the production stack: PostgreSQL, Redis and a real Celery worker process."""
from __future__ import annotations

import io
import os
import re
import signal
from concurrent.futures import ThreadPoolExecutor

import requests

from mockup.extensions import db
from mockup.models import Generation
from mockup.services import accounts, characters, generations, projects

from .conftest import AuthActions, png_bytes
from .fixtures_stack import free_port, start_web, stop, wait_for_status
from .polling import wait_until
from .prometheus_text import grew, label_values, parse


def test_generate_on_postgres_with_a_celery_worker(stack):
    client = stack.test_client()
    auth = AuthActions(client)
    auth.register()
    auth.login()
    with stack.app_context():
        user_id = accounts.authenticate("designer@example.com", "correct horse").id
        project_id = projects.create_project(user_id, "Acrylic stands").id
        character_id = characters.create_character(user_id, project_id, "Bunny", png_bytes((90, 90))).id
    response = client.post(f"/projects/{project_id}/generate", data={
        "mode": "ip-change", "character_id": character_id, "prompt": "glossy acrylic",
        "preserve_structure": "y", "source_image": (io.BytesIO(png_bytes((160, 120))), "stand.png"),
    }, content_type="multipart/form-data")
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    generation_id = re.search(r"/generations/([0-9a-f]{32})", response.headers["Location"]).group(1)
    assert wait_for_status(stack, generation_id) == "succeeded"
    page = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    with stack.app_context():
        images = db.session.get(Generation, generation_id).images
        assert len(images) == 2
    for image in images:
        assert f"/images/{image.id}" in page


def test_metrics_add_up_every_web_and_worker_process(stack, stack_env, tmp_path):
    """gunicorn with 2 workers and Celery with 2 pool processes: a scrape of any web worker counts each
    request once whichever worker answered it, the job a Celery process ran, and the memory of every
    live process; a worker that dies drops out of the live figures and its counts stay."""
    port = free_port()
    web = start_web(stack_env, tmp_path, port, workers=2)
    metrics = f"http://127.0.0.1:{port}/metrics"
    try:
        before = parse(requests.get(metrics, timeout=10).text)
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10), range(40)))
        assert [answer.status_code for answer in answers] == [200] * 40
        with stack.app_context():
            user = accounts.register("ops@example.com", "correct horse", "Ops")
            project = projects.create_project(user.id, "Tumblers")
            generation_id = generations.submit_generation(
                user.id, project.id, mode="sketch-to-real", source_image=png_bytes((160, 120)), prompt="steel",
            ).id
        assert wait_for_status(stack, generation_id) == "succeeded"
        after = parse(requests.get(metrics, timeout=10).text)

        healthz = {"endpoint": "system.healthz", "method": "GET", "status": "200"}
        assert grew(before, after, "mockup_http_requests_total", **healthz) == 40
        assert grew(before, after, "mockup_job_runs_total", job_type="generate-mockup", outcome="succeeded") == 1
        assert grew(before, after, "mockup_job_duration_seconds_count", job_type="generate-mockup") == 1
        web_pids = label_values(after, "mockup_process_resident_memory_bytes", "pid", service="web")
        assert len(web_pids) == 2
        assert label_values(after, "mockup_process_resident_memory_bytes", "pid", service="worker")

        dead = min(web_pids)
        os.kill(int(dead), signal.SIGKILL)

        def without_dead_worker():
            samples = parse(requests.get(metrics, timeout=10).text)
            live = label_values(samples, "mockup_process_resident_memory_bytes", "pid", service="web")
            return samples if dead not in live else None

        last = wait_until(without_dead_worker, 30, f"web worker {dead} to leave the live figures")
        assert grew(before, last, "mockup_http_requests_total", **healthz) == 40
    finally:
        stop(web)
