"""How soon a job whose worker died is back (aim in DESIGN.md section 9: re-run by another worker within
90 s), with the shipped lease settings: JOB_LEASE_S 60, JOB_HEARTBEAT_S 20, the reaper on celery beat
every 30 s, as docker-compose.yml runs them.

- pool:   SIGKILL the pool process running a generation 1 s into its Gemini call. Redis gets the
          message back at once; the redelivery waits out the dead attempt's lease and takes the job over.
- worker: SIGKILL the whole worker (main process and pool) the same way and start another. Its message
          stays unacknowledged until the visibility timeout, so the reaper on beat gives the job back.

For each: seconds from the kill to the second attempt's claim and to the job's success, and which
delivery claimed it. Gemini is the fake (tests/gemini_server.py) answering after --gemini-delay seconds.

    .venv/bin/python bench/recovery_bench.py [--scenarios pool worker] [--gemini-delay 5]

Needs PostgreSQL and Redis as for the tests (TEST_DATABASE_URL; the bench uses its own database
`mockup_bench_recovery` and Redis database 14)."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockup.extensions import db  # noqa: E402
from mockup.models import utcnow  # noqa: E402
from mockup.services import accounts, generations, projects  # noqa: E402
from tests.conftest import png_bytes, recreate_database  # noqa: E402
from tests.fixtures_stack import (  # noqa: E402
    dispose, generation, migrate, pool_process_of, stack_app, start_worker, stop,
)
from tests.gemini_server import FakeGemini  # noqa: E402
from tests.polling import wait_until  # noqa: E402

from timing import machine  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"
KILL_AFTER_S = 1.0  # into the first Gemini call: before the first heartbeat, so the lease has ~59 s left


def environment(folder: Path, gemini: FakeGemini) -> dict[str, str]:
    """The production settings for jobs (no JOB_* variable set: the shipped defaults)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOB_")}
    return {
        **env, "APP_ENV": "testing", "SECRET_KEY": "recovery-bench-secret", "DATA_DIR": str(folder / "data"),
        "METRICS_DIR": str(folder / "metrics"), "DATABASE_URL": recreate_database("mockup_bench_recovery"),
        "REDIS_URL": REDIS_URL, "MOCKUP_ENGINE": "gemini", "GEMINI_API_KEY": "bench-key",
        "GEMINI_BASE_URL": gemini.url, "GEMINI_CALLS_PER_MINUTE": "10000",
    }


def start_beat(env: dict[str, str], folder: Path) -> subprocess.Popen:
    log = open(folder / "beat.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "wsgi:celery_app", "beat", "--loglevel", "INFO"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def submit(app) -> str:
    with app.app_context():
        user = accounts.register(f"r{time.time_ns()}@example.com", "correct horse battery", "Recovery")
        project = projects.create_project(user.id, "Recovery")
        job_id = generations.submit_generation(user.id, project.id, mode="sketch-to-real",
                                               source_image=png_bytes((800, 600))).id
        db.session.remove()
    return job_id


def scenario(name: str, gemini_delay_s: float) -> str:
    folder = Path(tempfile.mkdtemp(prefix=f"mockup-recovery-{name}-"))
    with FakeGemini(api_key="bench-key", delay_s=gemini_delay_s) as gemini:
        env = environment(folder, gemini)
        migrate(env)
        app = stack_app(env)
        worker, beat = start_worker(env, folder, name="first"), start_beat(env, folder)
        try:
            job_id = submit(app)
            wait_until(lambda: gemini.requests, 60, "the first Gemini call")
            time.sleep(KILL_AFTER_S)
            if name == "pool":
                os.kill(wait_until(lambda: pool_process_of(app, job_id), 30, "the pool process"), signal.SIGKILL)
            else:
                os.killpg(worker.pid, signal.SIGKILL)
            killed, killed_at = time.monotonic(), utcnow()
            if name == "worker":
                worker.wait()
                worker = start_worker(env, folder, name="second")
            wait_until(lambda: generation(app, job_id).status in ("succeeded", "failed"), 300, "the job to end", 0.1)
            done_s = time.monotonic() - killed
            row = generation(app, job_id)
            claimed_s = (row.started_at - killed_at).total_seconds()
            by = "its redelivered message" if waited_out_the_lease(folder) else "the reaper (beat)"
            return (f"| {name} | {row.status}, attempts {row.attempts}, {len(gemini.requests)} Gemini calls "
                    f"| {claimed_s:.1f} | {done_s:.1f} | {by} |")
        finally:
            stop(worker)
            stop(beat)
            dispose(app)


def waited_out_the_lease(folder: Path) -> bool:
    """Whether a redelivered message came back for the job (mockup/jobs/tasks.py logs it) in a worker log."""
    return any("redelivered message tries again" in log.read_text() for log in folder.glob("worker-*.log"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=["pool", "worker"], choices=["pool", "worker"])
    parser.add_argument("--gemini-delay", type=float, default=5.0)
    args = parser.parse_args()
    print(f"{date.today()}, {machine()}, Gemini {args.gemini_delay:g} s per call, kill {KILL_AFTER_S:g} s into it")
    print("| killed | outcome | kill -> claimed again, s | kill -> succeeded, s | claimed by |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.scenarios:
        print(scenario(name, args.gemini_delay), flush=True)


if __name__ == "__main__":
    main()
