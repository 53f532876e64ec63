"""Batches on the production stack: PostgreSQL, Redis, real Celery workers and the fake Gemini server
(the fixtures of tests/test_faults.py: short leases, Gemini calls slow enough to kill a worker in the
middle of one). Every cell of a batch succeeds exactly once, also when the whole worker is SIGKILLed
mid-batch and another one takes over."""
from __future__ import annotations

import io
import os
import signal

import pytest
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Batch, Generation
from mockup.services import accounts, batches, characters, projects

from .conftest import AuthActions, png_bytes
from .fixtures_stack import dispose, start_worker, stop
from .polling import wait_until
from .test_faults import (  # noqa: F401 (fixtures)
    RECOVERY_S, assert_completed_once, gemini_env, lease_env, open_stack, reap_until,
)

pytestmark = pytest.mark.faults

REQUEUE_S = 10  # JOB_REQUEUE_S of the kill test: when the reaper sends a waiting cell to the broker again


def _studio(app, characters_count: int = 2) -> tuple[str, str, list[str]]:
    """A designer's project with characters: (user id, project id, character ids)."""
    with app.app_context():
        user = accounts.register("batch@example.com", "correct horse", "Batch")
        project = projects.create_project(user.id, "Spring line")
        ids = [characters.create_character(user.id, project.id, f"C{n}", png_bytes((90, 90))).id
               for n in range(characters_count)]
        found = (user.id, project.id, ids)
        db.session.remove()
    return found


def _cells(app, batch_id: str) -> list[str]:
    with app.app_context():
        ids = list(db.session.scalars(select(Generation.id).where(Generation.batch_id == batch_id)))
        db.session.remove()
    return ids


def _status(app, batch_id: str) -> str:
    with app.app_context():
        status = batches.progress(batches.get_batch(
            db.session.get(Batch, batch_id).owner_id, batch_id)).status
        db.session.remove()
    return status


def test_every_cell_of_a_batch_succeeds_exactly_once(gemini_env, gemini_server, tmp_path):
    """2 sources x 2 characters through the API, run by a Celery worker against the fake Gemini."""
    gemini_server.delay_s = 0.2
    app = open_stack(gemini_env)
    worker = start_worker(gemini_env, tmp_path, concurrency=3)
    try:
        client = app.test_client()
        auth = AuthActions(client)
        auth.register()
        auth.login()
        with app.app_context():
            user_id = accounts.authenticate("designer@example.com", "correct horse").id
            project_id = projects.create_project(user_id, "Spring line").id
            ids = [characters.create_character(user_id, project_id, name, png_bytes((90, 90))).id
                   for name in ("Bunny", "Fox")]
        response = client.post("/api/batches", data={
            "project_id": project_id, "mode": "ip-change", "character_id": ids,
            "source_image": [(io.BytesIO(png_bytes((160 + n, 120))), f"mug-{n}.png") for n in range(2)],
        }, content_type="multipart/form-data")
        assert response.status_code == 202, response.get_data(as_text=True)
        batch_id = response.get_json()["batch"]["id"]
        wait_until(lambda: _status(app, batch_id) not in ("queued", "running"), 90, "the batch to finish")
        assert _status(app, batch_id) == "succeeded"
        cells = _cells(app, batch_id)
        assert len(cells) == 4
        for generation_id in cells:
            assert_completed_once(app, generation_id)
        assert len(gemini_server.requests) == 8, "two calls per cell, none repeated"
        body = client.get(f"/api/batches/{batch_id}").get_json()["batch"]
        assert body["counts"]["succeeded"] == 4 and body["finished_at"]
    finally:
        stop(worker)
        dispose(app)


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(lease_env, gemini_server, tmp_path):
    """SIGKILL the whole worker (main process and pool) while cells are in Gemini calls, start another:
    the reaper gives the killed cells back once their leases lapse, and every cell ends succeeded with
    exactly its two candidates (no lost cell, no second set of files or rows). The cells still queued
    whose messages the dead worker had prefetched are sent again by the reaper after JOB_REQUEUE_S (300 s
    by default, 10 s here) or by Redis after its visibility timeout, whichever comes first."""
    lease_env = {**lease_env, "JOB_REQUEUE_S": str(REQUEUE_S)}
    app = open_stack(lease_env)
    owner, project_id, ids = _studio(app)
    worker = start_worker(lease_env, tmp_path, name="first", concurrency=2)
    try:
        with app.app_context():
            batch_id = batches.create_batch(owner, project_id, mode="ip-change", character_ids=ids,
                                            sources=[png_bytes((96 + n, 72)) for n in range(2)],
                                            options=batches.Options()).id
            db.session.remove()
        cells = _cells(app, batch_id)
        wait_until(lambda: len(gemini_server.requests) >= 2, 30, "the first cells' Gemini calls")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        worker = start_worker(lease_env, tmp_path, name="second", concurrency=2)
        reap_until(app, cells, ("succeeded", "failed"), RECOVERY_S + 60)
        for generation_id in cells:
            assert_completed_once(app, generation_id)
        assert _status(app, batch_id) == "succeeded"
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Generation)) == 4
            assert max(db.session.scalars(select(Generation.attempts))) == 2  # the killed ones ran again
            db.session.remove()
    finally:
        stop(worker)
        dispose(app)
