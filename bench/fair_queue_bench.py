"""A 50-generation batch on the fair queue (issue 12), on the production stack: PostgreSQL, Redis, one
Celery worker of 3 processes, JOB_WORKERS 3, the Gemini engine on the fake server (tests/gemini_server.py)
answering each call after a fixed delay, and the pool's Gemini quota (10 calls a minute by default).

Alice queues 50 generations at batch priority; once her first jobs have finished, Bob submits a single
generation at batch priority (the worst case for him: a normal one would simply go first) and Carol a
batch of 2. Reported: the batch's wall time against its floor (3 jobs at a time, each at least one call
long, and the quota: the first minute's calls at once, then 10 a minute), and how long the colleagues'
jobs waited (queued -> started) and took (queued -> finished), with how many of Alice's jobs started
before them.

    .venv/bin/python bench/fair_queue_bench.py [--jobs 50] [--delay 5] [--calls-per-minute 10]
        [--out /tmp/perf_fair_queue.md]

PostgreSQL and Redis as for the tests (TEST_DATABASE_URL; its own database `mockup_bench_fair`, Redis
database 14).
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import redis
from flask import Flask
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockup.extensions import db  # noqa: E402
from mockup.jobs import PRIORITY_BATCH  # noqa: E402
from mockup.models import Generation  # noqa: E402
from mockup.services import accounts, generations, projects  # noqa: E402
from tests.conftest import png_bytes, recreate_database  # noqa: E402
from tests.fixtures_stack import dispose, free_port, migrate, stack_app, start_worker, stop  # noqa: E402
from tests.polling import wait_until  # noqa: E402

from timing import machine  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/14"
CAPACITY = 3
CALLS_PER_JOB = 2  # two candidates, one call each


def queue_jobs(app: Flask, name: str, count: int) -> list[str]:
    with app.app_context():
        user = accounts.register(f"{name}@example.com", "correct horse", name, by_admin=True)
        project_id = projects.create_project(user.id, f"{name}'s line").id
        sketch = png_bytes((800, 600))
        return [generations.submit_generation(user.id, project_id, mode="sketch-to-real", source_image=sketch,
                                              priority=PRIORITY_BATCH).id for _ in range(count)]


def finished(app: Flask, ids: list[str]) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(Generation.id.in_(ids), Generation.status == "succeeded"))
        db.session.remove()
    return count


def rows(app: Flask) -> dict[str, Generation]:
    with app.app_context():
        found = {row.id: row for row in db.session.scalars(select(Generation))}
        db.session.expunge_all()
        db.session.remove()
    return found


def run(jobs: int, delay_s: float, calls_per_minute: int) -> str:
    folder = Path(tempfile.mkdtemp(prefix="mockup-fair-"))
    gemini_port = free_port()
    gemini = subprocess.Popen(
        [sys.executable, "-m", "tests.gemini_server", "--port", str(gemini_port), "--delay", str(delay_s)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(folder / "gemini.log", "ab"),
    )
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ, "APP_ENV": "testing", "SECRET_KEY": "fair-bench-secret", "DATA_DIR": str(folder / "data"),
        "METRICS_DIR": str(folder / "metrics"), "DATABASE_URL": recreate_database("mockup_bench_fair"),
        "REDIS_URL": REDIS_URL, "MOCKUP_ENGINE": "gemini", "GEMINI_API_KEY": "bench-key",
        "GEMINI_BASE_URL": f"http://127.0.0.1:{gemini_port}", "GEMINI_CALLS_PER_MINUTE": str(calls_per_minute),
        "JOB_WORKERS": str(CAPACITY),
    }
    migrate(env)
    app = stack_app(env)
    worker = start_worker(env, folder, concurrency=CAPACITY)
    try:
        started = time.monotonic()
        batch = queue_jobs(app, "alice", jobs)
        wait_until(lambda: finished(app, batch) >= CAPACITY, 600, "Alice's first jobs", every_s=0.2)
        single, pair = queue_jobs(app, "bob", 1), queue_jobs(app, "carol", 2)
        everything = batch + single + pair
        wait_until(lambda: finished(app, everything) == len(everything), 3600, "every job", every_s=0.5)
        wall_s = time.monotonic() - started
        found = rows(app)
    finally:
        stop(worker)
        gemini.terminate()
        gemini.wait()
        dispose(app)
    return report(jobs, delay_s, calls_per_minute, wall_s, found, batch, {"Bob's single job": single,
                                                                        "Carol's batch of 2": pair})


def report(jobs: int, delay_s: float, calls_per_minute: int, wall_s: float, found: dict[str, Generation],
           batch: list[str], colleagues: dict[str, list[str]]) -> str:
    total = jobs + sum(len(ids) for ids in colleagues.values())  # the floor of everything that ran
    calls = total * CALLS_PER_JOB
    by_slots = math.ceil(total / CAPACITY) * delay_s
    by_quota = max(0, calls - calls_per_minute) / calls_per_minute * 60 + delay_s
    floor = max(by_slots, by_quota)
    lines = [
        f"{date.today()}, {machine()}",
        "",
        f"{jobs} generations at batch priority and {total - jobs} of colleagues, Gemini at {delay_s:g} s per call, "
        f"{calls_per_minute} calls a minute, {CAPACITY} at a time: all done in {wall_s:.0f} s; floor {floor:.0f} s "
        f"(slots {by_slots:.0f} s, quota {by_quota:.0f} s), {wall_s / floor:.2f} x the floor.",
        "",
        "| colleague | waited (queued -> last started) | took (queued -> finished) | Alice's jobs started meanwhile |",
        "| --- | --- | --- | --- |",
    ]
    for name, ids in colleagues.items():
        rows_of = [found[job_id] for job_id in ids]
        queued = min(row.queued_at for row in rows_of)
        last_start = max(row.started_at for row in rows_of)
        ahead = sum(queued <= found[job_id].started_at < last_start for job_id in batch)
        lines.append(f"| {name} | {(last_start - queued).total_seconds():.1f} s | "
                     f"{(max(row.finished_at for row in rows_of) - queued).total_seconds():.1f} s | "
                     f"{ahead} (after they were queued) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--delay", type=float, default=5.0, help="seconds per fake Gemini call")
    parser.add_argument("--calls-per-minute", type=int, default=10)
    parser.add_argument("--out", default="/tmp/perf_fair_queue.md")
    args = parser.parse_args()
    text = run(args.jobs, args.delay, args.calls_per_minute)
    Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
