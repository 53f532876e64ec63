"""On PostgreSQL, a page of a large project's lists is read along an index (issue 14, "Indexes"): the
planner, given thousands of rows (built in bulk, then ANALYZE), does no sequential scan of the big tables
for the statements the services really run, on the first page or deep in a list."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event, text

from mockup.extensions import db
from mockup.models import User
from mockup.services import generations, history, review
from mockup.services.paging import PageRequest

from .bulk import build
from .conftest import app_with_tables, base_config

ROWS = 3000
BIG_TABLES = ("history_entries", "images", "generations", "comments", "characters")


@pytest.fixture
def big(tmp_path, postgres_url):
    """Two owners with a large project each, analyzed."""
    with app_with_tables({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": postgres_url}) as app, \
            app.app_context():
        owners = [User(email=f"owner{number}@example.com", name=f"Owner {number}", password_hash="x")
                  for number in range(2)]
        db.session.add_all(owners)
        db.session.commit()
        built = [build(owner.id, ROWS) for owner in owners]
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        yield owners[0].id, built[0]


def statements_of(call) -> list[tuple[str, dict]]:
    """The SQL statements (with their parameters) a service call runs."""
    ran = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return ran


def sequential_scans(statement: str, parameters) -> list[str]:
    plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters))
    return [table for table in BIG_TABLES if re.search(rf"Seq Scan on {table}\b", plan)]


def test_a_page_of_history_images_and_generations_uses_the_indexes(big):
    owner_id, built = big
    deep = history.list_history(owner_id, built.project_id, page=PageRequest(100))
    for _ in range(5):  # a cursor a few pages in
        deep = history.list_history(owner_id, built.project_id, page=PageRequest(100, deep.next_cursor))
    mockups = generations.recent_generations(owner_id, built.project_id, PageRequest(24))

    def cards(cursor=None) -> None:  # the project page: a page of generations, then their first candidates
        found = generations.recent_generations(owner_id, built.project_id, PageRequest(24, cursor))
        generations.first_images([generation.id for generation in found.items])

    calls = {
        "history": lambda: history.list_history(owner_id, built.project_id, page=PageRequest(100)),
        "history deep": lambda: history.list_history(owner_id, built.project_id, page=PageRequest(100, deep.next_cursor)),
        "history approved": lambda: history.list_history(owner_id, built.project_id, "approved", PageRequest(100)),
        "mockups": cards,
        "mockups deep": lambda: cards(mockups.next_cursor),
        "review filter": lambda: review.images_in_state(owner_id, built.project_id, "approved", PageRequest(24)),
        "a generation's images": lambda: generations.list_images(owner_id, built.generation_id, PageRequest(100)),
        "comments": lambda: review.list_comments(owner_id, built.image_id, PageRequest(100)),
    }
    found = {}
    for name, call in calls.items():
        for statement, parameters in statements_of(call):
            if scans := sequential_scans(statement, parameters):
                found[name] = (scans, statement)
    assert found == {}
