"""Load and soak benchmarks on the production stack (issue 6; aims in DESIGN.md section 9).

Each scenario starts the stack the way docker-compose.yml runs it, on this machine: gunicorn (4 workers,
gunicorn.conf.py) and a Celery worker (3 processes) on PostgreSQL and Redis, with the Gemini engine
pointed at the fake Gemini server (tests/gemini_server.py) answering after a fixed delay.

- users:   20 locust users for 5 minutes browsing, polling status fragments, uploading and generating
           (bench/locustfile.py): p50/p95/p99 by route, errors, and every submitted job checked afterwards
           (succeeded, failed, lost, run more than once). With --big-project N the first user's project
           holds N history entries besides (2N images, copied in bulk as bench/scale_bench.py does).
- overlap: one generation of 2 candidates with Gemini at 5 s per call, end to end, against the 5 s floor.
- drain:   100 jobs queued at once and drained by the 3 worker processes: none lost, none run twice, never
           more than 3 at a time, throughput.
- intake:  a 10 MB JPEG posted to /api/generations: the server's time (its access log) and the round
           trip on loopback.
- downloads: a candidate as PNG and JPEG, and its 2K PNG once the upscale has run.
- soak:    400 jobs in batches of 50, the web and worker memory after each batch.

    .venv/bin/python bench/load_bench.py [--scenarios users overlap drain intake downloads] [--users 20]
        [--minutes 5] [--out /tmp/perf_load.md]

Needs locust (`pip install -r bench/requirements.txt`) and PostgreSQL and Redis as for the tests
(TEST_DATABASE_URL; the bench uses its own database `mockup_bench` and Redis database 15).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import requests
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockup.extensions import db  # noqa: E402
from mockup.models import Generation, Image as ImageRow, Project  # noqa: E402
from mockup.services import accounts, characters, generations, projects  # noqa: E402
from tests.conftest import png_bytes, recreate_database  # noqa: E402
from tests.fixtures_stack import (  # noqa: E402
    dispose, free_port, migrate, stack_app, start_web, start_worker, stop,
)
from tests.polling import wait_until  # noqa: E402
from tests.prometheus_text import parse, value  # noqa: E402

from intake_bench import photo_of_about_10_mb  # noqa: E402
from scale_bench import fill_project, write_shared_files  # noqa: E402
from timing import machine  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/15"
PASSWORD = "correct horse battery"
WEB_WORKERS = 4  # as docker-compose.yml
JOB_PROCESSES = 3


class Stack:
    """The running stack of one scenario: its URL, an in-process app on the same database, its log folder
    and its processes (gunicorn's arbiter, Celery's main process)."""

    def __init__(self, url: str, app: Flask, folder: Path, processes: dict[str, subprocess.Popen]) -> None:
        self.url, self.app, self.folder, self.processes = url, app, folder, processes


@contextmanager
def running_stack(gemini_delay_s: float) -> Iterator[Stack]:
    folder = Path(tempfile.mkdtemp(prefix="mockup-load-"))
    gemini_port, web_port = free_port(), free_port()
    gemini = subprocess.Popen(
        [sys.executable, "-m", "tests.gemini_server", "--port", str(gemini_port), "--delay", str(gemini_delay_s)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(folder / "gemini.log", "ab"),
    )
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ, "APP_ENV": "testing", "SECRET_KEY": "load-bench-secret", "DATA_DIR": str(folder / "data"),
        "METRICS_DIR": str(folder / "metrics"),
        "DATABASE_URL": recreate_database("mockup_bench"), "REDIS_URL": REDIS_URL, "MOCKUP_ENGINE": "gemini",
        "GEMINI_API_KEY": "bench-key", "GEMINI_BASE_URL": f"http://127.0.0.1:{gemini_port}", "LOG_FORMAT": "json",
        # The quota is the account's, not the app's speed: lifted so that the queue and the pages are measured.
        "GEMINI_CALLS_PER_MINUTE": "10000",
    }
    migrate(env)
    app = stack_app(env)
    worker = start_worker(env, folder, concurrency=JOB_PROCESSES)
    web = start_web(env, folder, web_port, workers=WEB_WORKERS)
    try:
        yield Stack(f"http://127.0.0.1:{web_port}", app, folder, {"web (gunicorn)": web, "worker (Celery)": worker})
    finally:
        for process in (web, worker):
            stop(process)
        gemini.terminate()
        gemini.wait()
        dispose(app)


def seed_accounts(app: Flask, count: int) -> list[dict]:
    """`count` designers, each with a project and a character, as the locust users sign in."""
    seeded = []
    with app.app_context():
        for number in range(count):
            email = f"designer{number}@example.com"
            # Made by the operator, as `flask users create` would: no invitation needed in any REGISTRATION mode.
            user = accounts.register(email, PASSWORD, f"Designer {number}", by_admin=True)
            project = projects.create_project(user.id, f"Spring line {number}")
            character = characters.create_character(user.id, project.id, "Bunny", png_bytes((512, 512)))
            seeded.append({"email": email, "password": PASSWORD, "project_id": project.id,
                           "character_id": character.id})
    return seeded


def batch_designer(app: Flask) -> tuple[str, str]:
    """A designer and a project to submit jobs to directly; (user id, project id)."""
    with app.app_context():
        user = accounts.register(f"batch{time.time_ns()}@example.com", PASSWORD, "Batch", by_admin=True)
        return user.id, projects.create_project(user.id, "Batch").id


def submit_jobs(app: Flask, designer: tuple[str, str], count: int) -> list[str]:
    """`count` sketch-to-real generations, as fast as the service takes them."""
    sketch = png_bytes((800, 600))
    with app.app_context():
        return [generations.submit_generation(*designer, mode="sketch-to-real", source_image=sketch,
                                              prompt="soft plush").id for _ in range(count)]


def job_report(app: Flask, ids: list[str]) -> dict[str, int]:
    """What became of each job: its status, and whether it ran more than once or kept other than 2 images."""
    with app.app_context():
        rows = db.session.execute(
            select(Generation.id, Generation.status, Generation.attempts, func.count(ImageRow.id))
            .outerjoin(ImageRow, ImageRow.generation_id == Generation.id)
            .where(Generation.id.in_(ids)).group_by(Generation.id)
        ).all()
        db.session.remove()
    found = {row.id: row for row in rows}
    finished = [row for row in rows if row.status in ("succeeded", "failed")]
    return {
        "submitted": len(ids),
        "succeeded": sum(row.status == "succeeded" for row in rows),
        "failed": sum(row.status == "failed" for row in rows),
        "lost": len(ids) - len(finished),
        "missing rows": sum(job_id not in found for job_id in ids),
        "ran more than once": sum(row.attempts > 1 for row in rows),
        "succeeded without exactly 2 images": sum(row.status == "succeeded" and row[3] != 2 for row in rows),
    }


def unfinished(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).where(Generation.status.in_(("queued", "running"))))
        db.session.remove()
        return count


def duplicate_deliveries(stack: Stack) -> float:
    """Deliveries the workers received for a job already taken: absorbed by the claim, counted in /metrics."""
    samples = parse(requests.get(f"{stack.url}/metrics", timeout=30).text)
    return sum(value(samples, "mockup_job_runs_total", job_type=job_type, outcome="duplicate")
               for job_type in ("generate-mockup", "edit-image"))


def resident_memory_mb(stack: Stack) -> dict[str, float]:
    """Resident memory of each service's process tree (gunicorn's arbiter and workers, Celery's main
    process and pool), in MB."""
    import psutil

    totals = {}
    for service, process in stack.processes.items():
        tree = psutil.Process(process.pid)
        totals[service] = sum(member.memory_info().rss for member in [tree, *tree.children(recursive=True)]) / 1e6
    return totals


def scenario_users(users: int, minutes: float, gemini_delay_s: float, big_project: int = 0) -> str:
    with running_stack(gemini_delay_s) as stack:
        seeded = seed_accounts(stack.app, users)
        if big_project:
            with stack.app.app_context():
                write_shared_files()
                owner = db.session.get(Project, seeded[0]["project_id"]).owner_id
                fill_project(owner, seeded[0]["project_id"], seeded[0]["character_id"], big_project)
                db.session.remove()
        accounts_file = json.dumps(seeded)
        submitted_file = stack.folder / "submitted.txt"
        started_load = os.getloadavg()[0]
        memory_before = resident_memory_mb(stack)
        subprocess.run(
            [str(Path(sys.executable).parent / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "--users", str(users), "--spawn-rate", str(max(1, users // 5)), "--run-time", f"{int(minutes * 60)}s",
             "--host", stack.url, "--csv", str(stack.folder / "load"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT / "bench", check=False,
            env={**os.environ, "LOAD_ACCOUNTS": accounts_file, "LOAD_SUBMITTED": str(submitted_file),
                 "LOAD_TIMES": str(stack.folder / "times.csv")},
        )
        load_at_end = os.getloadavg()[0]
        memory_after = resident_memory_mb(stack)
        ids = [line for line in submitted_file.read_text().split("\n") if line]
        drain_started = time.monotonic()
        wait_until(lambda: unfinished(stack.app) == 0, 600, "the queue to drain after the load")
        drained_after = time.monotonic() - drain_started
        jobs = job_report(stack.app, ids)
        duplicates = duplicate_deliveries(stack)
        routes = route_table(stack.folder / "load_stats.csv") + group_rows(stack.folder / "times.csv")
    lines = [
        f"### {users} users for {minutes:g} minutes (Gemini answering after {gemini_delay_s:g} s per call"
        + (f"; one user's project holds {big_project:,} history entries" if big_project else "") + ")",
        "",
        f"Load average {started_load:.1f} at the start, {load_at_end:.1f} at the end; the queue drained "
        f"{drained_after:.0f} s after the last user stopped. Resident memory before and after the load: "
        + "; ".join(
            f"{service} {memory_before[service]:.0f} -> {memory_after[service]:.0f} MB"
            for service in sorted(memory_after)) + ".",
        "",
        *routes,
        "",
        "| jobs | count |",
        "| --- | --- |",
        *(f"| {name} | {count} |" for name, count in jobs.items()),
        f"| duplicate deliveries absorbed by the claim | {duplicates:g} |",
    ]
    return "\n".join(lines)


def route_table(stats_csv: Path) -> list[str]:
    rows = list(csv.DictReader(stats_csv.open()))
    lines = ["| route | requests | failures | p50 ms | p95 ms | p99 ms | max ms |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        name = f'{row["Type"]} {row["Name"]}'.strip()
        lines.append(f'| {name} | {row["Request Count"]} | {row["Failure Count"]} | {row["50%"]} | {row["95%"]} '
                     f'| {row["99%"]} | {float(row["Max Response Time"]):.0f} |')
    return lines


# Requests that carry a photo or check a password: their time is the image's decoding or bcrypt's, each
# with an aim of its own (intake < 0.5 s; a deliberate cost).
HEAVY_ROUTES = ("POST /projects/[id]/generate [POST]", "POST /auth/login [POST]")


def group_rows(times_csv: Path) -> list[str]:
    """Percentiles over every request, and over every request except uploads and sign-ins."""
    samples = [(route, float(ms)) for route, ms in (line.rsplit(",", 1) for line in times_csv.read_text().splitlines())]
    groups = {"all requests (exact)": [ms for _, ms in samples],
              "all except uploads and sign-ins": [ms for route, ms in samples if route not in HEAVY_ROUTES]}
    return [f"| {name} | {len(times)} | - | {percentile(times, 50):.0f} | {percentile(times, 95):.0f} | "
            f"{percentile(times, 99):.0f} | {max(times):.0f} |" for name, times in groups.items()]


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share) - 1]


def scenario_overlap(repeat: int) -> str:
    """End to end and in-worker time of a 2-candidate job when each Gemini call takes 5 s."""
    delay = 5.0
    rows = []
    with running_stack(delay) as stack:
        designer = batch_designer(stack.app)
        for _ in range(repeat):
            started = time.monotonic()
            (job_id,) = submit_jobs(stack.app, designer, 1)
            wait_until(lambda: unfinished(stack.app) == 0, 120, "the job", every_s=0.02)
            end_to_end = time.monotonic() - started
            with stack.app.app_context():
                job = db.session.get(Generation, job_id)
                rows.append((end_to_end, (job.finished_at - job.started_at).total_seconds(), job.status))
                db.session.remove()
    lines = [f"### 2 candidates, Gemini at a fixed {delay:g} s per call", "",
             "| run | status | submit to finished s | in the worker s | above the 5 s floor |",
             "| --- | --- | --- | --- | --- |"]
    for number, (end_to_end, in_worker, status) in enumerate(rows, start=1):
        lines.append(f"| {number} | {status} | {end_to_end:.2f} | {in_worker:.2f} | {end_to_end - delay:.2f} s |")
    return "\n".join(lines)


def scenario_drain(jobs: int, gemini_delay_s: float) -> str:
    with running_stack(gemini_delay_s) as stack:
        designer = batch_designer(stack.app)
        started = time.monotonic()
        ids = submit_jobs(stack.app, designer, jobs)
        submitted_in = time.monotonic() - started
        most_running = 0

        def drained() -> bool:
            nonlocal most_running
            with stack.app.app_context():
                running = db.session.scalar(select(func.count()).where(Generation.status == "running"))
                db.session.remove()
            most_running = max(most_running, running)
            return unfinished(stack.app) == 0

        wait_until(drained, 1800, f"{jobs} jobs to drain", every_s=0.1)
        took = time.monotonic() - started
        report = job_report(stack.app, ids)
        duplicates = duplicate_deliveries(stack)
    floor = jobs / JOB_PROCESSES * gemini_delay_s
    lines = [
        f"### {jobs} jobs queued at once, {JOB_PROCESSES} worker processes, Gemini at {gemini_delay_s:g} s per call",
        "",
        f"Submitted in {submitted_in:.1f} s; all finished {took:.1f} s after the first submission "
        f"({jobs / took * 60:.1f} jobs a minute; the floor at {JOB_PROCESSES} at a time is {floor:.0f} s). "
        f"At most {most_running} jobs ran at once.",
        "",
        "| jobs | count |",
        "| --- | --- |",
        *(f"| {name} | {count} |" for name, count in report.items()),
        f"| duplicate deliveries absorbed by the claim | {duplicates:g} |",
    ]
    return "\n".join(lines)


def scenario_soak(batches: int, batch_size: int) -> str:
    """Memory over many jobs: batches of jobs drained one after the other, the worker's and web's resident
    memory read after each (a steady level means no leak; Gemini answers at once, so jobs are CPU-bound)."""
    readings = []
    with running_stack(0.0) as stack:
        designer = batch_designer(stack.app)
        readings.append((0, resident_memory_mb(stack)))
        for batch in range(1, batches + 1):
            submit_jobs(stack.app, designer, batch_size)
            wait_until(lambda: unfinished(stack.app) == 0, 900, f"batch {batch} to drain")
            readings.append((batch * batch_size, resident_memory_mb(stack)))
    services = sorted(readings[0][1])
    return "\n".join([
        f"### Memory over {batches * batch_size} jobs ({batches} batches of {batch_size}, drained in turn)", "",
        "| jobs done | " + " | ".join(f"{service} MB" for service in services) + " |",
        "| --- | " + " | ".join("---" for _ in services) + " |",
        *(f"| {done} | " + " | ".join(f"{memory[service]:.0f}" for service in services) + " |"
          for done, memory in readings),
    ])


def scenario_intake(repeat: int) -> str:
    """Each upload after the previous job has finished, so that no job competes for the CPU; the server's
    time is the access log's duration, the round trip adds the 10 MB transfer on loopback."""
    photo = photo_of_about_10_mb()
    round_trips = []
    with running_stack(0.0) as stack:
        (account,) = seed_accounts(stack.app, 1)
        token = requests.post(f"{stack.url}/api/auth/login", timeout=30,
                              json={"email": account["email"], "password": PASSWORD}).json()["access_token"]
        for _ in range(repeat):
            started = time.perf_counter()
            response = requests.post(
                f"{stack.url}/api/generations", headers={"Authorization": f"Bearer {token}"}, timeout=60,
                data={"project_id": account["project_id"], "mode": "ip-change",
                      "character_id": account["character_id"], "prompt": "matte"},
                files={"source_image": ("photo.jpg", photo, "image/jpeg")},
            )
            round_trips.append(time.perf_counter() - started)
            assert response.status_code == 202, response.text
            wait_until(lambda: unfinished(stack.app) == 0, 120, "the job")
        server = access_durations_ms(stack.folder / "gunicorn.log", "POST", "/api/generations")
    width, height = Image.open(io.BytesIO(photo)).size
    return "\n".join([
        f"### Intake of a {len(photo) / 1e6:.1f} MB JPEG ({width}x{height}) through POST /api/generations", "",
        "| | median ms | each run, ms |",
        "| --- | --- | --- |",
        f"| server time (access log) | {statistics.median(server):.0f} | {', '.join(f'{ms:.0f}' for ms in server)} |",
        f"| round trip on loopback | {statistics.median(round_trips) * 1000:.0f} | "
        f"{', '.join(f'{t * 1000:.0f}' for t in round_trips)} |",
    ])


def scenario_downloads(repeat: int) -> str:
    """Downloads of a finished candidate: the stored PNG, a JPEG (converted on the first call, then kept),
    and the 2K PNG once the upscale that selecting started has run in the worker."""
    with running_stack(0.0) as stack:
        (account,) = seed_accounts(stack.app, 1)
        api = requests.Session()
        api.headers["Authorization"] = "Bearer " + requests.post(
            f"{stack.url}/api/auth/login", timeout=30, json={"email": account["email"], "password": PASSWORD},
        ).json()["access_token"]
        generation = api.post(f"{stack.url}/api/generations", timeout=60, files={"source_image": (
            "photo.png", png_bytes((1024, 1024)), "image/png")}, data={
            "project_id": account["project_id"], "mode": "ip-change", "character_id": account["character_id"]},
        ).json()["generation"]
        wait_until(lambda: unfinished(stack.app) == 0, 120, "the generation")
        image_id = api.get(f"{stack.url}/api/generations/{generation['id']}", timeout=30).json()["generation"]["images"][0]["id"]
        api.post(f"{stack.url}/api/generations/{generation['id']}/select", json={"image_id": image_id}, timeout=30)
        two_k = f"{stack.url}/api/images/{image_id}/download/2k"
        wait_until(lambda: api.get(two_k, timeout=30).status_code == 200, 300, "the 2K upscale")
        rows = []
        for label, url in (("PNG (stored)", f"{stack.url}/api/images/{image_id}/download"),
                           ("JPEG (first call converts, later calls reuse)", f"{stack.url}/api/images/{image_id}/download?format=jpeg"),
                           ("2K PNG, already upscaled", two_k)):
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = api.get(url, timeout=60)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
            rows.append(f"| {label} | {len(response.content) / 1e6:.1f} MB | {times[0] * 1000:.0f} | "
                        f"{statistics.median(times[1:]) * 1000:.0f} |")
    return "\n".join(["### Downloads of a 1024x1024 candidate", "",
                      "| file | size | first call ms | median of the next calls ms |", "| --- | --- | --- | --- |",
                      *rows])


def access_durations_ms(log: Path, method: str, path: str) -> list[float]:
    durations = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("method") == method and record.get("path") == path:
                durations.append(record["duration"])
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=["users", "overlap", "drain", "intake", "downloads"])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--user-gemini-delay", type=float, default=8.0,
                        help="seconds per Gemini call in the users scenario")
    parser.add_argument("--drain-jobs", type=int, default=100)
    parser.add_argument("--drain-gemini-delay", type=float, default=2.0)
    parser.add_argument("--big-project", type=int, default=0,
                        help="history entries copied into the first user's project (users scenario)")
    parser.add_argument("--out", default="/tmp/perf_load.md")
    args = parser.parse_args()
    scenarios = {
        "users": lambda: scenario_users(args.users, args.minutes, args.user_gemini_delay, args.big_project),
        "overlap": lambda: scenario_overlap(5),
        "drain": lambda: scenario_drain(args.drain_jobs, args.drain_gemini_delay),
        "intake": lambda: scenario_intake(5),
        "downloads": lambda: scenario_downloads(6),
        "soak": lambda: scenario_soak(8, 50),
    }
    sections = [f"{date.today()}, {machine()}"]
    for name in args.scenarios:
        print(f"== {name}", file=sys.stderr)
        sections.append(scenarios[name]())
        Path(args.out).write_text("\n\n".join(sections) + "\n")
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()
