"""The one way tests run queued jobs by hand, and change what a job calls.

The embedded runner is not started in tests (EMBEDDED_RUNNER_AUTOSTART is off), so a test runs a job
here, in its own thread, as a worker would. This is the only module of tests/ that knows where the job
runners live: when they move, only its imports change."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import pytest
from flask import Flask, current_app, has_app_context
from sqlalchemy import select

from mockup.extensions import db
from mockup.models import Generation, ImageJob
from mockup.jobs import runner
from mockup.services import execution, image_jobs

# The logger of the job runs, for tests that read what a job logged.
JOB_LOGGER = runner.log.name


@contextmanager
def _in_context(app: Flask) -> Iterator[None]:
    """The caller's app context when it is `app`'s (so the caller's session sees what the job did),
    else a fresh one, whose session ends with it."""
    if has_app_context() and current_app._get_current_object() is app:
        yield
        return
    with app.app_context():
        yield


def run_job(app: Flask, generation_id: str) -> str | None:
    """Run one queued generation or edit; its final status, or None if another delivery had it."""
    with _in_context(app):
        return runner.run(Generation, generation_id)


def run_image_job(app: Flask, job_id: str) -> str | None:
    """Run one queued image job (2K upscale or cut-out); its final status, or None as for run_job."""
    with _in_context(app):
        return runner.run(ImageJob, job_id)


def run_queued_jobs(app: Flask) -> None:
    """Run every generation waiting in the queue, in the order they were read."""
    with _in_context(app):
        queued = list(db.session.scalars(select(Generation.id).where(Generation.status == "queued")))
        for generation_id in queued:
            runner.run(Generation, generation_id)


def use_engine(monkeypatch: pytest.MonkeyPatch, make: Callable[[str, dict], Any]) -> None:
    """Jobs get their engine from make(engine name, app config) until the test ends (or monkeypatch.undo())."""
    monkeypatch.setattr(execution, "get_engine", make)


def use_upscale(monkeypatch: pytest.MonkeyPatch, upscale: Callable[[Any, Any], Any]) -> None:
    """2K upscale jobs call upscale(picture, upscaler) instead of the real program."""
    monkeypatch.setattr(image_jobs, "upscale_to_2k", upscale)
