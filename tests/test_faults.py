"""Faults on the production stack, with real processes: Celery workers killed mid-job or crashing every
time, Redis and PostgreSQL restarted under load, Gemini misbehaving, the disk filling up. Each ends as
DESIGN.md section 4 says: every job completes exactly once or fails with a clear reason, nothing is
left half-written, no worker slot stays stuck.

Restarting Redis and PostgreSQL disrupts anything else using them on this machine for a few seconds;
each test leaves them running (and waits for them) whatever happens. Select these with `-m faults`."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import requests
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from mockup import create_app
from mockup.extensions import db
from mockup.jobs import tasks
from mockup.jobs.registry import GENERATION_TASK
from mockup.models import Character, Image as ImageRow
from mockup.services import accounts, generations, projects
from mockup.storage import DISK_FULL_MESSAGE

from .conftest import AuthActions, app_with_tables, files_under, need, png_bytes, postgres_up, redis_up
from .fixtures_gemini import API_KEY
from .fixtures_stack import (
    dispose, free_port, generation, job_status, migrate, pool_process_of, stack_app, start_web, start_worker,
    stop, wait_for_status,
)
from .gemini_server import slow, to_reply
from .polling import wait_until

pytestmark = pytest.mark.faults

LEASE_S = 6  # JOB_LEASE_S of the kill and crash tests: what a dead worker's job waits out
HEARTBEAT_S = 2  # JOB_HEARTBEAT_S of the same tests: a live job renews its lease three times per lease
CALL_S = 5.0  # how long the fake Gemini takes per call where a job must be caught mid-generation
SLOW_CALL_S = 10.0  # a live call longer than the lease: only the heartbeat keeps the job its worker's
RECOVERY_S = 60  # the bound on a killed job coming back (DESIGN.md section 9 aims at 90 s with the defaults)
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]
POSTGRES_CLUSTER = ["pg_ctlcluster", "--skip-systemctl-redirect"]


# --- the stack ---------------------------------------------------------------------------------------------

@pytest.fixture
def gemini_env(stack_env, gemini_server) -> dict[str, str]:
    """The processes' environment with the gemini engine on the fake server running in this process."""
    return {**stack_env, "MOCKUP_ENGINE": "gemini", "GEMINI_API_KEY": API_KEY, "GEMINI_BASE_URL": gemini_server.url,
            "GEMINI_RETRY_BASE_S": "0.05", "GEMINI_CALLS_PER_MINUTE": "10000"}


@pytest.fixture
def lease_env(gemini_env, gemini_server) -> dict[str, str]:
    """Short leases, and Gemini calls slow enough to kill a worker in the middle of one."""
    gemini_server.delay_s = CALL_S
    return {**gemini_env, "JOB_LEASE_S": str(LEASE_S), "JOB_HEARTBEAT_S": str(HEARTBEAT_S), "JOB_TIMEOUT_S": "60"}


def open_stack(env: dict[str, str]) -> Flask:
    migrate(env)
    return stack_app(env)


def owner(app: Flask) -> tuple[str, str]:
    with app.app_context():
        user = accounts.register(f"{uuid.uuid4().hex[:8]}@example.com", "correct horse", "Faults")
        return user.id, projects.create_project(user.id, "Faults").id


def submit(app: Flask, who: tuple[str, str], count: int = 1) -> list[str]:
    """Queue sketch-to-real generations (committed, then sent to the broker, as the web does)."""
    with app.app_context():
        ids = [generations.submit_generation(*who, mode="sketch-to-real", source_image=png_bytes((96, 72))).id
               for _ in range(count)]
        db.session.remove()
    return ids


def reap_until(app: Flask, generation_ids: list[str], wanted: tuple[str, ...], timeout_s: float) -> set[str]:
    """Run the reaper task every second (celery beat runs it every 10 s) until every job reached `wanted`;
    returns the ids of the jobs the reaper sent again meanwhile."""
    resent: set[str] = set()

    def done() -> bool:
        with app.app_context():
            resent.update(tasks.reap_jobs.run())
            db.session.remove()
        return all(job_status(app, generation_id) in wanted for generation_id in generation_ids)

    wait_until(done, timeout_s, f"jobs {generation_ids} to reach {wanted}", every_s=1.0)
    return resent


def report_recovery(killed: float) -> None:
    """Say how long the job took to come back after its kill (shown with -rP; for docs/PERFORMANCE.md)."""
    print(f"succeeded {time.monotonic() - killed:.1f} s after the kill (lease {LEASE_S} s, heartbeat {HEARTBEAT_S} s)")


# --- what a finished job left behind -------------------------------------------------------------------------

def generation_files(app: Flask, generation_id: str) -> list[str]:
    return [name for name in files_under(app.config["DATA_DIR"]) if f"/{generation_id}/" in name]


def image_rows(app: Flask, generation_id: str) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(ImageRow.generation_id == generation_id))
        db.session.remove()
    return count


def assert_completed_once(app: Flask, generation_id: str) -> None:
    """Succeeded, with exactly two candidates: two rows, two PNGs and their two thumbnails, nothing else."""
    assert job_status(app, generation_id) == "succeeded"
    assert image_rows(app, generation_id) == 2
    names = sorted(name.rsplit("/", 1)[1] for name in generation_files(app, generation_id))
    assert names == ["output_0.png", "output_0_thumb.jpg", "output_1.png", "output_1_thumb.jpg"], names


def assert_failed_cleanly(app: Flask, generation_id: str, code: str, words: str = "") -> None:
    row = generation(app, generation_id)
    assert (row.status, row.error_code) == ("failed", code), (row.status, row.error_code, row.error_message)
    assert words in row.error_message
    assert image_rows(app, generation_id) == 0 and generation_files(app, generation_id) == []


# --- workers killed ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("job_timeout_s", [LEASE_S, 30, 900])
def test_celery_soft_limit_comes_before_the_hard_limit_for_any_job_timeout(app_config, job_timeout_s):
    """The soft limit gives a job its chance to end cleanly before the hard kill. Zero would switch it
    off, and a negative one ends every task at once ("Soft time limit (-22s) exceeded"), which is what
    the short leases below would meet."""
    conf = create_app({**app_config, "JOB_TIMEOUT_S": job_timeout_s}).extensions["celery"].conf
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit == job_timeout_s


def test_worker_child_killed_mid_generation_is_taken_over_by_its_redelivered_message(
        lease_env, gemini_server, tmp_path):
    """SIGKILL the pool process running the job while it waits for Gemini. Celery puts the message back
    at once (acks_late, reject_on_worker_lost); the redelivery finds the lease still running, waits it
    out and takes the job over, with no reaper running. The reaper afterwards has nothing to do."""
    app = open_stack(lease_env)
    worker = start_worker(lease_env, tmp_path, concurrency=2)
    try:
        [generation_id] = submit(app, owner(app))
        wait_until(lambda: len(gemini_server.requests) == 2, 30, "both Gemini calls of the first attempt")
        child = wait_until(lambda: pool_process_of(app, generation_id), 30, "the pool process running the job")
        os.kill(child, signal.SIGKILL)
        killed = time.monotonic()
        assert wait_for_status(app, generation_id, timeout=RECOVERY_S) == "succeeded"
        report_recovery(killed)
        assert_completed_once(app, generation_id)
        assert generation(app, generation_id).attempts == 2
        assert len(gemini_server.requests) == 4, "two calls of the killed attempt, two of the one kept"
        with app.app_context():
            assert tasks.reap_jobs.run() == []
        assert_completed_once(app, generation_id)
        assert worker.poll() is None, "the worker's main process replaces the child and goes on"
    finally:
        stop(worker)
        dispose(app)


def test_whole_worker_killed_and_restarted_recovers_through_the_reaper(lease_env, gemini_server, tmp_path):
    """SIGKILL the worker's main process and its pool mid-generation, then start another worker. The
    killed worker's message stays unacknowledged in Redis until the visibility timeout (twice
    JOB_TIMEOUT_S), so the reaper is what gives the job back, once its lease lapsed."""
    app = open_stack(lease_env)
    worker = start_worker(lease_env, tmp_path, name="first")
    try:
        [generation_id] = submit(app, owner(app))
        wait_until(lambda: len(gemini_server.requests) == 2, 30, "both Gemini calls of the first attempt")
        os.killpg(worker.pid, signal.SIGKILL)
        killed = time.monotonic()
        worker.wait()
        worker = start_worker(lease_env, tmp_path, name="second")
        resent = reap_until(app, [generation_id], ("succeeded", "failed"), RECOVERY_S)
        report_recovery(killed)
        assert resent == {generation_id}
        assert_completed_once(app, generation_id)
        assert generation(app, generation_id).attempts == 2
        assert len(gemini_server.requests) == 4
    finally:
        stop(worker)
        dispose(app)


def test_a_slow_live_call_is_never_taken_over(lease_env, gemini_server, tmp_path):
    """Gemini takes longer than the lease, but the worker is alive: its heartbeat keeps the job, so
    neither the reaper (every second here) nor a message delivered again on the free pool process takes
    it over. One attempt, one set of images."""
    gemini_server.delay_s = SLOW_CALL_S
    app = open_stack(lease_env)
    worker = start_worker(lease_env, tmp_path, concurrency=2)
    try:
        [generation_id] = submit(app, owner(app))
        wait_until(lambda: gemini_server.requests, 30, "the first Gemini call")
        # A retried message, as the redelivery of a job whose worker died would be.
        app.extensions["celery"].send_task(GENERATION_TASK, args=[generation_id], retries=1)
        assert reap_until(app, [generation_id], ("succeeded", "failed"), RECOVERY_S) == set()
        assert_completed_once(app, generation_id)
        assert generation(app, generation_id).attempts == 1
        assert len(gemini_server.requests) == 2
    finally:
        stop(worker)
        dispose(app)


def test_a_job_that_crashes_its_worker_every_time_fails_after_three_attempts(lease_env, tmp_path):
    app = open_stack(lease_env)
    worker = start_worker(lease_env, tmp_path, celery_app="tests.crash_worker:celery_app")
    try:
        [generation_id] = submit(app, owner(app))
        reap_until(app, [generation_id], ("failed",), 4 * LEASE_S + 30)
        row = generation(app, generation_id)
        assert row.attempts == 3 and "3 times" in row.error_message
        assert_failed_cleanly(app, generation_id, "UNKNOWN")
        assert worker.poll() is None
    finally:
        stop(worker)
        dispose(app)


# --- Redis and PostgreSQL restarted --------------------------------------------------------------------------

def ensure_redis() -> None:
    if not redis_up():
        subprocess.run(REDIS_START, check=True, capture_output=True)
    wait_until(redis_up, 30, "Redis to answer")


def restart_redis() -> None:
    """Stop Redis without saving, so everything it held is lost as in a crash; start it as CI does."""
    try:
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, timeout=10)
        wait_until(lambda: not redis_up(), 10, "Redis to stop")
    finally:
        ensure_redis()


def test_redis_restart_with_twenty_jobs_queued_loses_none(gemini_env, gemini_server, tmp_path):
    """The broker forgets the queue; the reaper sends again, from the database, every job still queued."""
    gemini_server.delay_s = 0.3
    env = {**gemini_env, "JOB_REQUEUE_S": "2"}
    app = open_stack(env)
    worker = start_worker(env, tmp_path)
    try:
        generation_ids = submit(app, owner(app), count=20)
        restart_redis()
        reap_until(app, generation_ids, ("succeeded",), 120)
        for generation_id in generation_ids:
            assert_completed_once(app, generation_id)
    finally:
        ensure_redis()
        stop(worker)
        dispose(app)


def restart_postgres() -> None:
    cluster = [*POSTGRES_CLUSTER, os.listdir("/etc/postgresql")[0], "main"]
    try:
        subprocess.run([*cluster, "restart"], check=True, capture_output=True, timeout=60)
    finally:
        if not postgres_up():
            subprocess.run([*cluster, "start"], capture_output=True, timeout=60)
        wait_until(postgres_up, 60, "PostgreSQL to accept connections")


@pytest.fixture
def web_user(stack_env, tmp_path) -> Iterator[tuple[str, requests.Session]]:
    """gunicorn with two workers on PostgreSQL, and an API session of a user signed in there."""
    migrate(stack_env)
    port = free_port()
    web = start_web(stack_env, tmp_path, port)
    base = f"http://127.0.0.1:{port}"
    try:
        account = {"email": "pg@example.com", "password": "correct horse"}
        requests.post(f"{base}/api/auth/register", json={**account, "name": "PG"}).raise_for_status()
        session = requests.Session()
        token = requests.post(f"{base}/api/auth/login", json=account).json()["access_token"]
        session.headers["Authorization"] = f"Bearer {token}"
        yield base, session
    finally:
        stop(web)


def fresh_connections(base: str, session: requests.Session, count: int) -> list[int]:
    """`count` API requests, each on a new connection, so both gunicorn workers answer some."""
    return [session.get(f"{base}/api/projects", headers={"Connection": "close"}).status_code for _ in range(count)]


def test_requests_during_a_postgres_restart_fail_cleanly_and_succeed_after(web_user):
    base, session = web_user
    assert fresh_connections(base, session, 6) == [200] * 6
    during: list[int] = []
    stop_load = threading.Event()
    # The load goes to /healthz, which queries the database and is not rate limited.
    load = threading.Thread(target=_load, args=(f"{base}/healthz", stop_load, during))
    load.start()
    try:
        restart_postgres()
    finally:
        stop_load.set()
        load.join()
    assert during and set(during) <= {200, 503}, during
    assert fresh_connections(base, session, 10) == [200] * 10


def test_idle_pooled_connections_are_replaced_after_a_postgres_restart(web_user):
    """No request runs while PostgreSQL restarts, so every worker's pool still holds connections that
    died with it: pool_pre_ping finds them dead and the first requests after succeed all the same."""
    base, session = web_user
    assert fresh_connections(base, session, 6) == [200] * 6
    restart_postgres()
    assert fresh_connections(base, session, 10) == [200] * 10


def _load(url: str, stop_load: threading.Event, statuses: list[int]) -> None:
    """Requests one after another until told to stop; a refused connection would show as an exception."""
    while not stop_load.is_set():
        statuses.append(requests.get(url, timeout=30).status_code)
        time.sleep(0.05)


# --- Gemini misbehaving ------------------------------------------------------------------------------------

GEMINI_SCENARIOS = [
    # name, scripted first replies, reply for every later call, outcome, error code, Gemini calls made
    ("429 twice, then images", (429, 429), "image", "succeeded", None, 4),
    ("500 forever", (), 500, "failed", "UNKNOWN", 8),
    ("stalls past the timeout", (), slow(3), "failed", "TIMEOUT", 8),
    ("resets the connection", (), "reset", "failed", "UNKNOWN", 8),
    ("malformed JSON", (), "malformed", "failed", "UNKNOWN", 2),
]


def test_gemini_failures_end_right_and_free_the_worker(gemini_env, gemini_server, tmp_path):
    """One worker with two slots meets each failure in turn: the job ends as DESIGN.md section 5 says,
    after at most 3 retries per call, with nothing written when it failed; then both slots take two
    jobs at once, so none stayed stuck."""
    env = {**gemini_env, "GEMINI_TIMEOUT_S": "1"}
    app = open_stack(env)
    worker = start_worker(env, tmp_path, concurrency=2)
    try:
        who = owner(app)
        for name, first, default, status, code, calls in GEMINI_SCENARIOS:
            made_before = len(gemini_server.requests)
            gemini_server.script(*first)
            gemini_server.default = to_reply(default)
            [generation_id] = submit(app, who)
            assert wait_for_status(app, generation_id, timeout=60) == status, name
            assert len(gemini_server.requests) - made_before == calls, name
            if status == "failed":
                assert_failed_cleanly(app, generation_id, code)
            else:
                assert_completed_once(app, generation_id)
        gemini_server.default, gemini_server.delay_s = to_reply("image"), 0.5  # under the 1 s timeout
        pair = submit(app, who, count=2)
        for generation_id in pair:
            assert wait_for_status(app, generation_id, timeout=60) == "succeeded"
        first, second = (generation(app, generation_id) for generation_id in pair)
        assert max(first.started_at, second.started_at) < min(first.finished_at, second.finished_at)
    finally:
        stop(worker)
        dispose(app)


# --- the disk fills up -------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A 2 MB tmpfs to hold DATA_DIR, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    need(mounted.returncode == 0, f"a tmpfs mount (needs root): {mounted.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=True)


def fill(disk: Path, leave_bytes: int) -> None:
    """Fill the disk until only `leave_bytes` are free."""
    stats = os.statvfs(disk)
    free = stats.f_bavail * stats.f_frsize
    (disk / "filler").write_bytes(b"\0" * max(0, free - leave_bytes))


def noise_png(size: tuple[int, int] = (300, 300)) -> bytes:
    """A photo-sized upload that compresses badly: its stored copy cannot fit in a few kilobytes."""
    pixels = np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def full_disk_user(app_config, small_disk) -> Iterator[tuple[Flask, object, str]]:
    """A signed-in user with a project, on an app whose DATA_DIR is the small disk."""
    with app_with_tables({**app_config, "DATA_DIR": str(small_disk / "data")}) as app:
        client = app.test_client()
        AuthActions(client).register(email="disk@example.com")
        project = client.post("/projects", data={"name": "Full", "description": ""})
        yield app, client, project.headers["Location"].rstrip("/").rsplit("/", 1)[1]


@pytest.mark.parametrize("prefix", ["", "/api"], ids=["html", "api"])
def test_disk_full_during_an_upload_is_a_clear_503_and_leaves_nothing(full_disk_user, small_disk, prefix):
    app, client, project_id = full_disk_user
    fill(small_disk, leave_bytes=16 * 1024)
    response = client.post(f"{prefix}/projects/{project_id}/characters", data={
        "name": "Bunny", "image": (io.BytesIO(noise_png()), "bunny.png")}, content_type="multipart/form-data")
    assert response.status_code == 503 and "Retry-After" in response.headers
    assert "disk is full" in response.get_data(as_text=True)
    assert files_under(app.config["DATA_DIR"]) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Character)) == 0


def test_disk_full_during_a_job_fails_it_clearly_and_leaves_nothing(gemini_env, gemini_server, small_disk, tmp_path):
    """The disk fills while Gemini draws: storing the outputs fails, the job is failed with a sentence
    saying so, and neither a file nor an image row of it is left."""
    gemini_server.delay_s = 2.0
    env = {**gemini_env, "DATA_DIR": str(small_disk / "data")}
    app = open_stack(env)
    worker = start_worker(env, tmp_path)
    try:
        [generation_id] = submit(app, owner(app))
        fill(small_disk, leave_bytes=8 * 1024)
        wait_until(lambda: len(gemini_server.requests) >= 2, 30, "the Gemini calls")
        assert wait_for_status(app, generation_id, timeout=30) == "failed"
        assert_failed_cleanly(app, generation_id, "UNKNOWN", DISK_FULL_MESSAGE)
        assert not [name for name in files_under(app.config["DATA_DIR"]) if ".tmp-" in name]
    finally:
        stop(worker)
        dispose(app)
