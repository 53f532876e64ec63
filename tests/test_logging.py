"""JSON log lines and request ids, in this process: the line format, the id every request gets and sends
back, the signed-in user on the lines, and the id carried into the job the request enqueued on the
embedded runner. The same across real gunicorn and Celery processes: tests/test_deploy.py."""
from __future__ import annotations

import json
import logging
import re

import pytest

import config
from mockup import create_app
from mockup.extensions import db
from mockup.logging_setup import JsonFormatter, LogContext, bound
from mockup.services import execution

from .api_support import create_character, create_project
from .conftest import png_bytes
from .fixtures_stack import wait_until

REQUIRED = {"timestamp", "level", "service", "message", "userId", "requestId", "duration", "error"}


def record(message: str = "hello", exc_info=None, **extra) -> logging.LogRecord:
    """A record made the way a logger makes one, so it is stamped with the context in force."""
    return logging.getLogger("mockup.test").makeRecord(
        "mockup.test", logging.INFO, __file__, 1, message, (), exc_info, extra=extra)


def test_a_line_is_one_json_object_with_the_required_fields(app):  # create_app stamps records
    with bound(LogContext("req-1", "user-1")):
        line = JsonFormatter("worker").format(record("two\nlines", generationId="g1"))
    assert "\n" not in line
    fields = json.loads(line)
    assert REQUIRED <= set(fields)
    assert (fields["service"], fields["level"], fields["message"]) == ("worker", "INFO", "two\nlines")
    assert (fields["requestId"], fields["userId"], fields["generationId"]) == ("req-1", "user-1", "g1")
    assert fields["timestamp"].endswith("+00:00") and fields["error"] is None and fields["duration"] is None


def test_an_exception_goes_into_error():
    try:
        raise ValueError("broken")
    except ValueError as error:
        fields = json.loads(JsonFormatter("web").format(record("failed", exc_info=(type(error), error, None))))
    assert fields["message"] == "failed" and "ValueError: broken" in fields["error"]


def test_log_settings_are_read_in_config():
    assert config.from_env({"APP_ENV": "development"})["LOG_FORMAT"] == "text"
    assert config.from_env({"SERVICE_NAME": "beat"})["SERVICE_NAME"] == "beat"
    assert config.service_from_argv(["celery", "-A", "wsgi:celery_app", "worker", "--concurrency", "3"]) == "worker"
    assert config.service_from_argv(["celery", "-A", "wsgi:celery_app", "beat"]) == "beat"
    assert config.service_from_argv(["gunicorn", "--workers", "4", "wsgi:app"]) == "web"
    with pytest.raises(config.ConfigError, match="LOG_FORMAT"):
        config.check(config.from_env({"APP_ENV": "testing", "LOG_FORMAT": "xml"}))


@pytest.mark.parametrize("sent, kept", [
    ("3f2a9c0e-7b1d-4c1e-9a55-0d6f2b8c4e11", True),
    ("0123456789abcdef0123456789abcdef", True),
    ('forged" "level": "ERROR', False),
    ("x" * 129, False),
])
def test_every_response_carries_a_request_id(client, sent, kept):
    returned = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert returned == sent if kept else re.fullmatch(r"[0-9a-f]{32}", returned)


def test_requests_without_an_id_get_a_new_one_each(client):
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_the_access_line_names_request_user_status_and_duration(app, alice, caplog):
    caplog.set_level(logging.INFO, logger="mockup.access")
    response = alice.get("/api/projects", headers={"X-Request-ID": "access-line-1"})
    assert response.status_code == 200
    [line] = [r for r in caplog.records if r.name == "mockup.access" and r.requestId == "access-line-1"]
    assert line.getMessage() == "GET /api/projects 200"
    assert (line.userId, line.status, line.remoteAddr) == (alice.user["id"], 200, "127.0.0.1")
    assert line.duration >= 0


class CrashingEngine:
    def generate(self, request):
        raise RuntimeError("engine crashed")


def test_the_embedded_runner_logs_a_job_with_the_id_of_the_request_that_enqueued_it(
        app_config, alice, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="mockup.jobs.runner")
    monkeypatch.setattr(execution, "get_engine", lambda name, settings: CrashingEngine())
    app = create_app({**app_config, "EMBEDDED_RUNNER_AUTOSTART": True})
    alice.client = app.test_client()  # the same database, now with a runner that starts on first use
    project = create_project(alice)
    character = create_character(alice, project["id"])
    response = alice.post_form("/api/generations", {
        "project_id": project["id"], "mode": "ip-change", "character_id": character["id"],
        "source_image": png_bytes((160, 120)), "prompt": "glossy acrylic",
    }, headers={"X-Request-ID": "embedded-job-1"})
    assert response.status_code == 202
    crashed = f"job {response.get_json()['generation']['id']} crashed"
    try:
        line = wait_until(lambda: next((r for r in caplog.records if r.getMessage() == crashed), None), 10,
                          "the job's line")
    finally:
        app.extensions["embedded_runner"].stop()
        with app.app_context():
            db.session.remove()
    assert (line.requestId, line.userId) == ("embedded-job-1", alice.user["id"])
    assert line.threadName.startswith("job")
    assert "RuntimeError: engine crashed" in json.loads(JsonFormatter("web").format(line))["error"]
