"""Benchmark (issue 14, item 7): the pages and lists of a project as it grows, on PostgreSQL.

One database holds four designers, each with one project of 100, 1,000, 10,000 and 50,000 history
entries (so 61,100 entries and twice as many images in all, as on a team's server): every entry is a
succeeded ip-change generation of 2 candidates, the first saved to the history. The rows are copied in
bulk with PostgreSQL's COPY; every row points at the same stored PNG and thumbnail (files shared). Then,
through the app in this process (Flask's test client: the whole WSGI stack, sessions, CSRF, the bearer
check, templates; no network hop and no gunicorn), each request is timed `--repeat` times after one
warm-up: the history page, `GET /api/projects/:id/history`, the project page and the gallery (all
projects, and filtered to the project's character), the status fragment of a generation of theirs
waiting in the queue (its place and estimate, polled every few seconds) and the queue page. p50 and p95
per size, the time of the request spent in the database (the statements' round trips, p50), the queries
each request ran and the size of its answer. Aim: each under 50 ms p95, flat within 2x from 100 to
50,000.

    .venv/bin/python bench/scale_bench.py [--sizes 100 1000 10000 50000] [--repeat 40]

Needs PostgreSQL as for the tests (TEST_DATABASE_URL; the bench uses its own database `mockup_scale`).
A request slower than a second is timed only 3 times (the figure is then plain without a p95).
"""
from __future__ import annotations

import argparse
import gc
import io
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from flask import Flask
from PIL import Image
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from mockup import create_app, storage  # noqa: E402
from mockup.extensions import db  # noqa: E402
from mockup.imaging.formats import thumbnail  # noqa: E402
from mockup.models import Generation, new_id  # noqa: E402
from mockup.services import accounts, characters, projects  # noqa: E402
from tests.conftest import png_bytes, recreate_database  # noqa: E402

from timing import machine  # noqa: E402

PASSWORD = "correct horse battery"
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SHARED_PNG = "generations/shared/output_0.png"
SHARED_SOURCE = "uploads/shared/source.jpg"


@dataclass
class Designer:
    size: int
    email: str
    project_id: str
    character_id: str
    waiting_id: str  # a generation in the queue


def make_app(folder: Path) -> Flask:
    app = create_app({
        "APP_ENV": "testing", "SECRET_KEY": "scale-bench", "DATA_DIR": str(folder / "data"),
        "SQLALCHEMY_DATABASE_URI": recreate_database("mockup_scale"), "EMBEDDED_RUNNER_AUTOSTART": False,
        # The limiter would answer 429 after 60 requests a minute; this measures the pages, not the limiter.
        "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "MOCKUP_ENGINE": "local", "MIN_SOURCE_SIDE_PX": 1,
        "REGISTRATION": "open", "SESSION_COOKIE_SECURE": False, "LOG_LEVEL": "WARNING",
    })
    with app.app_context():
        db.create_all()
        write_shared_files()
    gc.freeze()  # as wsgi.py does after start-up
    return app


def write_shared_files() -> None:
    """The one product picture, candidate and thumbnail every copied row points at."""
    picture = png_bytes((1024, 1024))
    storage.write_atomic(SHARED_PNG, picture)
    storage.write_atomic(storage.thumbnail(SHARED_PNG), thumbnail_of(picture))
    storage.write_atomic(SHARED_SOURCE, picture)


def thumbnail_of(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return thumbnail(image)


def copy_rows(table: str, columns: list[str], rows: list[tuple]) -> None:
    """COPY the rows into the table, on the session's own connection (committed by the caller)."""
    connection = db.session.connection().connection.driver_connection
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


GENERATION_COLUMNS = ["id", "project_id", "owner_id", "job_type", "mode", "engine", "prompt", "preserve_structure",
                      "transparent_background", "source_path", "character_id", "input_tokens", "output_tokens",
                      "cost_usd", "estimated_cost_usd", "stored_bytes", "status", "attempts", "priority", "queued_at",
                      "started_at", "finished_at", "created_at"]
IMAGE_COLUMNS = ["id", "generation_id", "index", "width", "height", "format", "has_alpha", "selected", "path",
                 "thumbnail_path", "structure_warning", "stored_bytes", "review_state", "created_at"]
HISTORY_COLUMNS = ["id", "project_id", "image_id", "note", "created_at"]


def seed(app: Flask, size: int) -> Designer:
    """A designer with one project of `size` history entries."""
    with app.app_context():
        email = f"designer{size}@example.com"
        user = accounts.register(email, PASSWORD, f"Designer {size}", by_admin=True)
        project = projects.create_project(user.id, f"Line of {size}")
        character = characters.create_character(user.id, project.id, "Bunny", png_bytes((256, 256)))
        fill_project(user.id, project.id, character.id, size)
        waiting = queue_one(user.id, project.id, character.id)
        return Designer(size, email, project.id, character.id, waiting)


def queue_one(owner_id: str, project_id: str, character_id: str) -> str:
    """A generation of the designer's waiting in the queue (its page shows its place and an estimate)."""
    waiting = Generation(project_id=project_id, owner_id=owner_id, mode="ip-change", engine="local",
                         source_path=SHARED_SOURCE, character_id=character_id, status="queued", queued_at=T0)
    db.session.add(waiting)
    db.session.commit()
    return waiting.id


def fill_project(owner_id: str, project_id: str, character_id: str, size: int) -> None:
    """Copy `size` history entries into the project (in an app context): each a succeeded ip-change
    generation of the character with 2 candidates, the first saved, a second apart from T0."""
    generations, images, history = [], [], []
    for number in range(size):
        at = T0 + timedelta(seconds=number)
        generation_id, pair = new_id(), [new_id(), new_id()]
        generations.append((generation_id, project_id, owner_id, "generate-mockup", "ip-change", "local", "glossy",
                            True, False, SHARED_SOURCE, character_id, 0, 0, 0.0, 0.0, 0, "succeeded", 1, 5,
                            at, at, at, at))
        for index, image_id in enumerate(pair):
            images.append((image_id, generation_id, index, 1024, 1024, "png", False, index == 0, SHARED_PNG,
                           storage.thumbnail(SHARED_PNG), False, 0,
                           ("none", "in_review", "approved", "changes_requested")[number % 4], at))
        history.append((new_id(), project_id, pair[0], "", at))
    copy_rows("generations", GENERATION_COLUMNS, generations)
    copy_rows("images", IMAGE_COLUMNS, images)
    copy_rows("history_entries", HISTORY_COLUMNS, history)
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()


def signed_in(app: Flask, designer: Designer):
    """A page client with a session and the bearer header of an API sign-in."""
    client = app.test_client()
    assert client.post("/auth/login", data={"email": designer.email, "password": PASSWORD}).status_code == 303
    token = client.post("/api/auth/login", json={"email": designer.email, "password": PASSWORD}).get_json()
    return client, {"Authorization": f"Bearer {token['access_token']}"}


@dataclass
class Figure:
    p50_ms: float
    p95_ms: float | None
    db_p50_ms: float  # of which in the database driver (the queries' round trips)
    queries: int
    kilobytes: float


class DatabaseClock:
    """The time spent between each statement's start and end on the engine, and how many there were."""

    def __init__(self, engine) -> None:
        self.engine, self.total, self.count, self._started = engine, 0.0, 0, 0.0

    def _before(self, *_args) -> None:
        self._started = time.perf_counter()

    def _after(self, *_args) -> None:
        self.total += time.perf_counter() - self._started
        self.count += 1

    def __enter__(self) -> "DatabaseClock":
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def measure(app: Flask, request: Callable[[], object], repeat: int) -> Figure:
    with app.app_context():
        engine = db.engine
    response = request()  # warm-up: templates compiled, connection pooled
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
    times, db_times, queries = [], [], 0
    for _ in range(repeat):
        with DatabaseClock(engine) as clock:
            start = time.perf_counter()
            request()
            times.append((time.perf_counter() - start) * 1000)
        db_times.append(clock.total * 1000)
        queries = clock.count
        if times[0] > 1000 and len(times) >= 3:
            break
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else None
    return Figure(statistics.median(times), p95, statistics.median(db_times), queries,
                  len(response.get_data()) / 1024)


BIG_TABLES = ("images", "generations", "history_entries")


def plans(app: Flask, request: Callable[[], object]) -> tuple[float, list[str]]:
    """EXPLAIN ANALYZE of every SELECT one request runs: the slowest one's execution time (ms, in the
    server, without the round trip or the machine's other load on the client side) and any sequential
    scan of a big table."""
    captured: list[tuple[str, object]] = []

    def grab(_conn, _cursor, statement, parameters, *_args) -> None:
        captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", grab)
    request()
    event.remove(engine, "before_cursor_execute", grab)
    slowest, scans = 0.0, []
    with app.app_context(), engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()
        for statement, parameters in captured:
            if statement.lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                plan = cursor.fetchone()[0][0]
                slowest = max(slowest, plan["Execution Time"])
                scans += [table for table in BIG_TABLES if _seq_scan(plan["Plan"], table)]
    return slowest, sorted(set(scans))


def _seq_scan(node: dict, table: str) -> bool:
    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") == table:
        return True
    return any(_seq_scan(child, table) for child in node.get("Plans", []))


def requests_of(client, bearer: dict, designer: Designer) -> dict[str, Callable[[], object]]:
    project = designer.project_id
    return {
        "history page": lambda: client.get(f"/projects/{project}/history"),
        "GET /api/projects/:id/history": lambda: client.get(f"/api/projects/{project}/history", headers=bearer),
        "project page": lambda: client.get(f"/projects/{project}"),
        "gallery": lambda: client.get("/gallery"),
        "gallery, one character": lambda: client.get(f"/gallery?character={designer.character_id}"),
        "a waiting generation's status": lambda: client.get(f"/generations/{designer.waiting_id}/status"),
        "queue page": lambda: client.get("/queue"),
    }


def cell(figure: Figure) -> str:
    p95 = f"{figure.p95_ms:.1f}" if figure.p95_ms is not None else "–"
    return (f"{figure.p50_ms:.0f} / {p95} ms (db {figure.db_p50_ms:.1f} ms, {figure.queries} q, "
            f"{figure.kilobytes:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000, 50000])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    app = make_app(Path(tempfile.mkdtemp(prefix="mockup-scale-")))
    started = time.perf_counter()
    designers = [seed(app, size) for size in args.sizes]
    print(f"seeded {sum(args.sizes):,} entries in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    results: dict[str, dict[int, Figure]] = {}
    explained: dict[str, dict[int, tuple[float, list[str]]]] = {}
    for designer in designers:
        client, bearer = signed_in(app, designer)
        for name, request in requests_of(client, bearer, designer).items():
            results.setdefault(name, {})[designer.size] = measure(app, request, args.repeat)
            explained.setdefault(name, {})[designer.size] = plans(app, request)
            print(name, designer.size, cell(results[name][designer.size]), file=sys.stderr)
    print(f"{machine()}; PostgreSQL on the same machine; Flask test client; {args.repeat} requests per cell")
    print()
    print("| p50 / p95 (database time p50, queries, answer size) | " + " | ".join(f"{size:,}" for size in args.sizes) + " | max/min p95 (db p50) |")
    print("| --- |" + " --- |" * (len(args.sizes) + 1))
    for name, by_size in results.items():
        p95s = [figure.p95_ms or figure.p50_ms for figure in by_size.values()]
        db_times = [figure.db_p50_ms for figure in by_size.values()]
        print(f"| {name} | " + " | ".join(cell(by_size[size]) for size in args.sizes)
              + f" | {max(p95s) / min(p95s):.1f}x (db {max(db_times) / min(db_times):.1f}x) |")
    print()
    print("| slowest query, EXPLAIN ANALYZE execution time (sequential scans of big tables) | "
          + " | ".join(f"{size:,}" for size in args.sizes) + " |")
    print("| --- |" + " --- |" * len(args.sizes))
    for name, by_size in explained.items():
        print(f"| {name} | " + " | ".join(
            f"{by_size[size][0]:.2f} ms" + (f" (seq scan: {', '.join(by_size[size][1])})" if by_size[size][1] else "")
            for size in args.sizes) + " |")


if __name__ == "__main__":
    main()
