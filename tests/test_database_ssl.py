"""DATABASE_URL with sslmode=require is honoured: the option survives config.py and SQLAlchemy and reaches
the psycopg connection, so the app never falls back to an unencrypted connection."""
from __future__ import annotations

import pytest
import sqlalchemy

import config
from mockup import create_app
from mockup.extensions import db

from .conftest import PG_URL, postgres_up, need

REQUIRED = "?sslmode=require"


def test_config_keeps_sslmode_and_the_driver_receives_it(tmp_path):
    uri = config.from_env({"DATABASE_URL": "postgresql://mockup:pw@db.internal/mockup" + REQUIRED,
                           "DATA_DIR": str(tmp_path)})["SQLALCHEMY_DATABASE_URI"]
    assert uri == "postgresql+psycopg://mockup:pw@db.internal/mockup" + REQUIRED
    app = create_app({"TESTING": True, "APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": uri, "DATA_DIR": str(tmp_path),
                      "EMBEDDED_RUNNER_AUTOSTART": False})
    with app.app_context():
        _, options = db.engine.dialect.create_connect_args(db.engine.url)
    assert options["sslmode"] == "require"


def test_the_local_server_is_reached_with_ssl_or_refused_for_lack_of_it():
    """Where the server has SSL the session is encrypted; where it has none (this machine), the
    connection is refused for that very reason instead of going ahead in clear text."""
    need(postgres_up(), f"PostgreSQL at {PG_URL}")
    plain = sqlalchemy.create_engine(PG_URL)
    with plain.connect() as connection:
        server_has_ssl = connection.exec_driver_sql("SHOW ssl").scalar() == "on"
    plain.dispose()
    engine = sqlalchemy.create_engine(PG_URL + REQUIRED)
    try:
        if server_has_ssl:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar()
        else:
            with pytest.raises(sqlalchemy.exc.OperationalError, match="SSL was required"):
                engine.connect()
    finally:
        engine.dispose()
