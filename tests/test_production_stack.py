"""The full flow on the production stack: PostgreSQL, Redis and a real Celery worker process."""
from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from mockup import create_app
from mockup.extensions import db
from mockup.models import Generation
from mockup.services import accounts, characters, projects

from .conftest import AuthActions, png_bytes

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stack_env(tmp_path, postgres_url, redis_url):
    """The environment a production process gets, pointed at the local services."""
    return {
        **os.environ,
        "APP_ENV": "testing",
        "SECRET_KEY": "stack-secret",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "MOCKUP_ENGINE": "local",
        "GEMINI_API_KEY": "",
    }


def start_worker(env: dict, tmp_path: Path, name: str = "w1") -> subprocess.Popen:
    log = open(tmp_path / f"worker-{name}.log", "wb")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "worker", "--concurrency", "2",
         "--loglevel", "INFO", "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def stack(stack_env, tmp_path):
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=stack_env, check=True, capture_output=True)
    app = create_app({
        "TESTING": True, "APP_ENV": "testing", "SECRET_KEY": stack_env["SECRET_KEY"],
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "BCRYPT_COST": 4,
        "DATA_DIR": stack_env["DATA_DIR"], "SQLALCHEMY_DATABASE_URI": stack_env["DATABASE_URL"],
        "REDIS_URL": stack_env["REDIS_URL"], "RATELIMIT_STORAGE_URI": stack_env["REDIS_URL"],
        "MOCKUP_ENGINE": "local", "SESSION_COOKIE_SECURE": False,
    })
    # Started once the app exists, so a failing create_app leaves no worker behind.
    worker = start_worker(stack_env, tmp_path)
    yield app
    stop(worker)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def wait_for_status(app, generation_id, wanted=("succeeded", "failed"), timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            status = db.session.scalar(select(Generation.status).where(Generation.id == generation_id))
        if status in wanted:
            return status
        time.sleep(0.3)
    raise AssertionError(f"generation {generation_id} still {status} after {timeout}s")


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
