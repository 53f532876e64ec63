"""Fixtures in the Flask tutorial's style: app, client, runner and an auth helper.

Each kind of helper has one home; add to it rather than writing a second one in a test file:
- tests/factories.py: projects, characters and finished generations (ids), through the API or the pages;
- tests/bulk.py: a large project (hundreds or thousands of rows of every list) in one INSERT per table;
- tests/job_runner.py: running queued jobs by hand and swapping the engine a job uses (the only module
  here that imports the job runners);
- tests/polling.py: waiting for another thread or process (never assert on how long something took:
  inject the clock or the sleep, as tests/test_gemini_quota.py does);
- tests/api_support.py (the API client and its checks), tests/studio.py (the HTML forms),
  tests/fixtures_stack.py (real processes), tests/fixtures_gemini.py (the fake Gemini).
Fixtures live here or in the plugins of pytest_plugins; mark a test `rate_limited` to turn the limits on.
"""
from __future__ import annotations

import io
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from flask import Flask
from PIL import Image, ImageDraw
from sqlalchemy import select

from mockup import create_app
from mockup.engines import reset_engines
from mockup.extensions import db
from mockup.models import Batch, Character, Comment, Generation, HistoryEntry, Image as ImageRow, Membership, Project, User

pytest_plugins = ["tests.api_support", "tests.factories", "tests.fixtures_gemini", "tests.fixtures_stack"]

CI = os.environ.get("CI") == "true"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "faults: integration tests that kill, restart or starve real processes "
                                       "(select with -m faults, leave out with -m 'not faults')")
    config.addinivalue_line("markers", "rate_limited: the app_config of these tests has its rate limits on "
                                       "(base_config turns them off for every other test)")


def need(condition: bool, reason: str) -> None:
    """Skip locally when a service or tool is missing; under CI=true the same gap is a failure."""
    if condition:
        return
    if CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def base_config(folder: Path) -> dict:
    """The test app's settings, with its SQLite file and DATA_DIR in `folder`."""
    return {
        "TESTING": True,
        "APP_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "DATA_DIR": str(folder / "data"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'test.sqlite3'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "EMBEDDED_RUNNER_AUTOSTART": False,
        "BCRYPT_COST": 4,
        "MOCKUP_ENGINE": "local",
        # The suite registers users freely; the default `invite` mode is tested in tests/test_registration.py.
        "REGISTRATION": "open",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        # The tests' pictures are small, to stay fast; tests/test_workflow.py checks the real minimum.
        "MIN_SOURCE_SIDE_PX": 1,
    }


@contextmanager
def app_with_tables(config: dict) -> Iterator[Flask]:
    """An app on fresh tables, dropped again afterwards; for fixtures of any scope."""
    app = create_app(config)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    reset_engines()


@pytest.fixture
def app_config(tmp_path, request):
    """base_config in this test's folder, with the rate limits on for tests marked rate_limited."""
    return {**base_config(tmp_path), "RATELIMIT_ENABLED": request.node.get_closest_marker("rate_limited") is not None}


@pytest.fixture(params=["sqlite", "postgresql"])
def config_on_each_database(request, tmp_path) -> dict:
    """base_config on SQLite, then the same on a fresh PostgreSQL database: for behaviour that depends
    on the database (locks, window queries, plans, transactions)."""
    config = base_config(tmp_path)
    if request.param == "postgresql":
        config["SQLALCHEMY_DATABASE_URI"] = request.getfixturevalue("postgres_url")
    return config


@pytest.fixture
def app(app_config):
    with app_with_tables(app_config) as app:
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def register(self, email="designer@example.com", password="correct horse", name="Designer"):
        return self._client.post("/auth/register", data={
            "email": email, "password": password, "confirm": password, "name": name,
        })

    def login(self, email="designer@example.com", password="correct horse"):
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def png_bytes(size=(64, 48), color=(200, 30, 30), fmt="PNG") -> bytes:
    """A small real image with some structure, for uploads."""
    image = Image.new("RGB", size, (240, 240, 235))
    ImageDraw.Draw(image).ellipse([size[0] // 4, size[1] // 4, 3 * size[0] // 4, 3 * size[1] // 4], fill=color)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def files_under(path) -> list[str]:
    """Every file below a folder (relative), to prove that nothing was written or that all is gone."""
    if not os.path.isdir(path):
        return []
    return sorted(
        os.path.relpath(os.path.join(root, name), path)
        for root, _, names in os.walk(path) for name in names
    )


def snapshot(app) -> tuple:
    """Every row of every user-owned table, and every stored file: equal before and after a request
    proves the request changed nothing."""
    with app.app_context():
        rows = tuple(
            tuple(tuple(getattr(row, column.key) for column in model.__table__.columns)
                  for row in db.session.scalars(select(model).order_by(model.id)))
            for model in (User, Project, Character, Batch, Generation, ImageRow, HistoryEntry, Membership, Comment)
        )
        db.session.remove()
    return rows, tuple(files_under(app.config["DATA_DIR"]))


PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# A database number per test process, so suites running side by side do not flush each other's queues.
REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{1 + os.getpid() % 15}")


def postgres_up() -> bool:
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def redis_up() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except Exception:
        return False


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test."""
    need(postgres_up(), f"PostgreSQL at {PG_URL}")
    name = f"mockup_test_{os.getpid()}"  # several suites may run at once on one server
    yield recreate_database(name)
    drop_database(name)


def recreate_database(name: str) -> str:
    """An empty PostgreSQL database `name` on the server of PG_URL (dropped first if it exists); its URL."""
    drop_database(name)
    _admin_sql(f"CREATE DATABASE {name}")
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    _admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _admin_sql(statement: str) -> None:
    import sqlalchemy

    # Pre-ping: a test may restart PostgreSQL (tests/test_faults.py) between set-up and tear-down.
    admin = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(statement))
    admin.dispose()


@pytest.fixture
def redis_url():
    """An emptied Redis database for one test."""
    need(redis_up(), f"Redis at {REDIS_URL}")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield REDIS_URL
    client.flushdb()
