"""The production stack for tests (registered through pytest_plugins): PostgreSQL, Redis, real Celery
worker and gunicorn processes started from this checkout, and the helpers to drive and stop them."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Mapping

import pytest
from flask import Flask
from sqlalchemy import select

import config
from mockup import create_app
from mockup.extensions import db
from mockup.models import Generation

from .polling import wait_until

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def stack_env(tmp_path, postgres_url, redis_url) -> dict[str, str]:
    """The environment a production process gets, pointed at the local services."""
    return {
        **os.environ,
        "APP_ENV": "testing",
        "SECRET_KEY": "stack-secret",
        "DATA_DIR": str(tmp_path / "data"),
        "METRICS_DIR": str(tmp_path / "metrics"),
        "DATABASE_URL": postgres_url,
        "REDIS_URL": redis_url,
        "MOCKUP_ENGINE": "local",
        "GEMINI_API_KEY": "",
        "MIN_SOURCE_SIDE_PX": "1",  # as in base_config: the tests' pictures are small
        "REGISTRATION": "open",  # as in base_config: these tests sign up whoever they need
    }


def migrate(env: Mapping[str, str]) -> None:
    """The schema, made the way production makes it (never by the app at start-up)."""
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=dict(env), check=True, capture_output=True)


def stack_app(env: Mapping[str, str]) -> Flask:
    """An app in the test process configured from the same environment as the processes (database,
    Redis, DATA_DIR, engine, job timings), with CSRF and rate limits off for driving it directly."""
    return create_app({
        **config.from_env(env), "TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
        "BCRYPT_COST": 4, "SESSION_COOKIE_SECURE": False,
    })


def dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def start_worker(env: Mapping[str, str], tmp_path: Path, name: str = "w1", concurrency: int = 2,
                 celery_app: str = "wsgi:celery_app") -> subprocess.Popen:
    """A Celery worker (prefork: a main process and `concurrency` children), in its own process group."""
    log = open(tmp_path / f"worker-{name}.log", "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", celery_app, "worker", "--concurrency", str(concurrency),
         "--loglevel", "INFO", "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def pool_process_of(app: Flask, generation_id: str) -> int | None:
    """The pid of the worker's pool process running this job's task, as the worker itself reports it."""
    replies = app.extensions["celery"].control.inspect(timeout=2).active() or {}
    return next((task["worker_pid"] for active in replies.values() for task in active
                 if task["args"] == [generation_id]), None)


def start_web(env: Mapping[str, str], tmp_path: Path, port: int, workers: int = 2) -> subprocess.Popen:
    """gunicorn serving wsgi:app on 127.0.0.1:port; returns once it answers /healthz."""
    log = open(tmp_path / "gunicorn.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    wait_until(lambda: _answers(port), 60, f"gunicorn on port {port}")
    return process


def _answers(port: int) -> bool:
    import requests

    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group (a warm shutdown), SIGKILL it if it does not end in 20 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def job_status(app: Flask, generation_id: str) -> str | None:
    with app.app_context():
        status = db.session.scalar(select(Generation.status).where(Generation.id == generation_id))
        db.session.remove()
    return status


def generation(app: Flask, generation_id: str) -> Generation:
    """The job's row as it is now, detached from the session."""
    with app.app_context():
        row = db.session.get(Generation, generation_id)
        db.session.expunge(row)
        db.session.remove()
    return row


def wait_for_status(app: Flask, generation_id: str, wanted=("succeeded", "failed"), timeout: float = 90) -> str:
    def reached() -> str | None:
        status = job_status(app, generation_id)
        return status if status in wanted else None

    return wait_until(reached, timeout, f"generation {generation_id} to reach {wanted}")


@pytest.fixture
def stack(stack_env, tmp_path) -> Iterator[Flask]:
    """The test app plus one Celery worker, on PostgreSQL and Redis."""
    migrate(stack_env)
    app = stack_app(stack_env)
    # Started once the app exists, so a failing create_app leaves no worker behind.
    worker = start_worker(stack_env, tmp_path)
    yield app
    stop(worker)
    dispose(app)
