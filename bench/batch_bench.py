"""A 50-generation batch on the production stack (PostgreSQL, Redis, one Celery worker of 3 pool
processes as docker-compose.yml runs it), the Gemini engine on the fake server (tests/gemini_server.py)
answering every call after a fixed delay, with the shipped quota of GEMINI_CALLS_PER_MINUTE (10) for the
pool: the batch's wall time against its floor, and how long a colleague's single generation, submitted
while the batch runs, waits.

The floor is the larger of two: 3 jobs at a time, each one call long (its candidates' calls overlap),
and the quota, which lets `calls` calls start in any 60 s (the last of C calls starts at
floor((C - 1) / calls) minutes, then takes one call's time).

    .venv/bin/python bench/batch_bench.py [--sources 5] [--characters 10] [--gemini-delay 5]
                                          [--calls-per-minute 10] [--colleague-after 60] [--colleague-batch]

Needs PostgreSQL and Redis as for the tests (TEST_DATABASE_URL; the bench uses its own database
`mockup_bench_batch` and Redis database 13, or --redis-url: the test suites of other sessions flush the
databases 1 to 15 of 127.0.0.1:6379, queue included, so a shared machine wants a Redis of its own)."""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from mockup.extensions import db  # noqa: E402
from mockup.jobs import tasks  # noqa: E402
from mockup.jobs.celery_app import REAP_EVERY_S  # noqa: E402 (celery beat's schedule of the reaper)
from mockup.models import Batch, Generation  # noqa: E402
from mockup.services import accounts, batches, characters, generations, projects  # noqa: E402
from tests.conftest import png_bytes, recreate_database  # noqa: E402
from tests.fixtures_stack import dispose, migrate, stack_app, start_worker, stop  # noqa: E402
from tests.gemini_server import FakeGemini  # noqa: E402
from tests.polling import wait_until  # noqa: E402

from timing import machine  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/13"
WORKERS = 3  # the worker's --concurrency in docker-compose.yml (JOB_WORKERS)
CANDIDATES = 2  # calls per generation


def environment(folder: Path, gemini: FakeGemini, calls_per_minute: int, redis_url: str) -> dict[str, str]:
    """The production job settings (no JOB_* variable set), the fake Gemini and the quota asked for."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JOB_", "GEMINI_"))}
    return {
        **env, "APP_ENV": "testing", "SECRET_KEY": "batch-bench-secret", "DATA_DIR": str(folder / "data"),
        "METRICS_DIR": str(folder / "metrics"), "DATABASE_URL": recreate_database("mockup_bench_batch"),
        "REDIS_URL": redis_url, "MOCKUP_ENGINE": "gemini", "GEMINI_API_KEY": "bench-key",
        "GEMINI_BASE_URL": gemini.url, "GEMINI_CALLS_PER_MINUTE": str(calls_per_minute),
        "REGISTRATION": "open", "QUEUE_LIMIT": "100",
    }


def queue_batch(app, sources: int, character_count: int) -> str:
    """The designer's batch of sources x characters, submitted as the API does; its id."""
    with app.app_context():
        user = accounts.register("designer@example.com", "correct horse battery", "Designer")
        project = projects.create_project(user.id, "Spring line")
        ids = [characters.create_character(user.id, project.id, f"Character {n}", png_bytes((600, 600), (40 * n % 255, 90, 160))).id
               for n in range(character_count)]
        batch_id = batches.create_batch(
            user.id, project.id, mode="ip-change", character_ids=ids, options=batches.Options(),
            sources=[png_bytes((800 + n, 600), (30, 20 * n % 255, 200)) for n in range(sources)]).id
        db.session.remove()
    return batch_id


def colleague_job(app, as_batch: bool) -> str:
    """A colleague's single sketch-to-real generation in a project of their own: on its own (normal
    priority), or as a batch of one (batch priority, as the designer's cells)."""
    with app.app_context():
        user = accounts.register("colleague@example.com", "correct horse battery", "Colleague")
        project = projects.create_project(user.id, "Tumblers")
        source = png_bytes((800, 600))
        if as_batch:
            batch = batches.create_batch(user.id, project.id, mode="sketch-to-real", sources=[source],
                                         character_ids=[], options=batches.Options())
            job_id = batch.generations[0].id
        else:
            job_id = generations.submit_generation(user.id, project.id, mode="sketch-to-real", source_image=source).id
        db.session.remove()
    return job_id


def rows(app, batch_id: str, colleague_id: str | None):
    with app.app_context():
        batch = db.session.get(Batch, batch_id)
        cells = list(db.session.scalars(select(Generation).where(Generation.batch_id == batch_id)))
        single = db.session.get(Generation, colleague_id) if colleague_id else None
        for row in [batch, *cells, *([single] if single else [])]:
            db.session.expunge(row)
        db.session.remove()
    return batch, cells, single


def finished(app, batch_id: str, colleague_id: str) -> bool:
    """Whether every job is done, running the reaper as celery beat does in production (other sessions
    on this machine restart Redis and PostgreSQL in their fault tests: a queue Redis forgot is sent
    again from the database); not yet while the database does not answer."""
    try:
        with app.app_context():
            tasks.reap_jobs.run()
            db.session.remove()
        _, cells, single = rows(app, batch_id, colleague_id)
    except OperationalError:
        dispose(app)
        return False
    return single.is_finished and all(cell.is_finished for cell in cells)


def floor_s(jobs: int, calls: int, delay_s: float, calls_per_minute: int) -> tuple[float, float]:
    """(the floor of 3 jobs at a time, the floor of the quota) in seconds."""
    return math.ceil(jobs / WORKERS) * delay_s, (calls - 1) // calls_per_minute * 60 + delay_s


def run(args) -> str:
    folder = Path(tempfile.mkdtemp(prefix="mockup-batch-bench-"))
    with FakeGemini(api_key="bench-key", delay_s=args.gemini_delay) as gemini:
        env = environment(folder, gemini, args.calls_per_minute, args.redis_url)
        migrate(env)
        app = stack_app(env)
        worker = start_worker(env, folder, concurrency=WORKERS)
        try:
            time.sleep(5)  # the worker's pool up before the clock starts
            started = time.monotonic()
            batch_id = queue_batch(app, args.sources, args.characters)
            submitted = time.monotonic() - started
            time.sleep(max(args.colleague_after - submitted, 0))
            colleague_id = colleague_job(app, args.colleague_batch)
            wait_until(lambda: finished(app, batch_id, colleague_id), args.timeout,
                       "the batch and the colleague's job", every_s=REAP_EVERY_S)
            wall_clock = time.monotonic() - started
            batch, cells, single = rows(app, batch_id, colleague_id)
        finally:
            stop(worker)
            dispose(app)
        return report(args, batch, cells, single, wall_clock, len(gemini.requests))


def report(args, batch, cells, single, wall_clock: float, calls: int) -> str:
    finished = max(cell.finished_at for cell in cells)
    wall = (finished - batch.created_at).total_seconds()
    statuses = {status: sum(cell.status == status for cell in cells) for status in ("succeeded", "failed", "canceled")}
    calls_asked = (len(cells) + 1) * CANDIDATES  # the colleague's calls share the quota
    by_workers, by_quota = floor_s(len(cells), calls_asked, args.gemini_delay, args.calls_per_minute)
    waited = (single.started_at - single.queued_at).total_seconds()
    took = (single.finished_at - single.queued_at).total_seconds()
    ahead = sum(cell.started_at is not None and cell.started_at > single.queued_at
                and cell.started_at < single.started_at for cell in cells)
    return "\n".join([
        f"`bench/batch_bench.py` on {date.today().isoformat()}, {machine()}: a batch of {args.sources} sources x "
        f"{args.characters} characters = {len(cells)} generations, the fake Gemini at {args.gemini_delay:g} s per call, "
        f"{args.calls_per_minute} calls a minute for the pool, one worker of {WORKERS} pool processes; a colleague's "
        f"sketch-to-real generation ({'a batch of one, batch priority' if args.colleague_batch else 'on its own, normal priority'}) "
        f"submitted {args.colleague_after:g} s after the batch.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| batch: submitted to last cell finished | {wall:.1f} s (whole run {wall_clock:.1f} s) |",
        f"| floor: {WORKERS} jobs at a time | {by_workers:.1f} s |",
        f"| floor: {args.calls_per_minute} calls a minute ({calls_asked} calls, the colleague's included) | {by_quota:.1f} s |",
        f"| above the floor | {wall - max(by_workers, by_quota):.1f} s ({wall / max(by_workers, by_quota):.2f} x) |",
        f"| cells succeeded / failed / canceled | {statuses['succeeded']} / {statuses['failed']} / {statuses['canceled']} |",
        f"| Gemini calls answered | {calls} (batch {len(cells) * CANDIDATES} + colleague {CANDIDATES}) |",
        f"| colleague: submitted to started | {waited:.1f} s |",
        f"| colleague: submitted to finished | {took:.1f} s |",
        f"| batch cells started after the colleague's submission but before it | {ahead} |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=5)
    parser.add_argument("--characters", type=int, default=10)
    parser.add_argument("--gemini-delay", type=float, default=5.0, help="seconds the fake takes per call")
    parser.add_argument("--calls-per-minute", type=int, default=10, help="GEMINI_CALLS_PER_MINUTE")
    parser.add_argument("--colleague-after", type=float, default=60.0, help="seconds after the batch")
    parser.add_argument("--colleague-batch", action="store_true",
                        help="the colleague's generation is a batch of one (batch priority) instead")
    parser.add_argument("--redis-url", default=REDIS_URL,
                        help="a Redis of the bench's own: test suites on this machine flush databases 1-15 of 6379")
    parser.add_argument("--timeout", type=float, default=1800.0)
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
