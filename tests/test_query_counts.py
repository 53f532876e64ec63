"""Every list, API and HTML, runs the same number of SQL queries at 5 rows as at 500 (issue 14, "Constant
queries"): what a page shows is loaded with it (joins, selectinload) and counted by aggregates, never
one query per row. On SQLite and on PostgreSQL, with the rows built in bulk (tests/bulk.py)."""
from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Iterator

import pytest
from flask import Flask
from sqlalchemy import event

from mockup.extensions import db
from mockup.services.paging import DEFAULT_LIMIT

from .api_support import ApiClient
from .bulk import Built, owner_of_a_big_project
from .conftest import PG_URL, app_with_tables, base_config, drop_database, need, postgres_up, recreate_database

SIZES = (5, 500)


@dataclass
class World:
    app: Flask
    api: ApiClient
    pages: object  # a Flask test client signed in through the pages
    built: Built
    rows: int


@contextmanager
def world(config: dict, rows: int) -> Iterator[World]:
    with app_with_tables(config) as app:
        yield World(app, *owner_of_a_big_project(app, rows), rows)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def worlds(request, tmp_path_factory) -> Iterator[dict[int, World]]:
    """The same installation at 5 and at 500 rows, built once for every test of this module."""
    with ExitStack() as stack:
        opened = {}
        for rows in SIZES:
            config = base_config(tmp_path_factory.mktemp(f"rows{rows}"))
            if request.param == "postgresql":
                need(postgres_up(), f"PostgreSQL at {PG_URL}")
                name = f"mockup_counts_{rows}_{os.getpid()}"
                config["SQLALCHEMY_DATABASE_URI"] = recreate_database(name)
                stack.callback(drop_database, name)
            opened[rows] = stack.enter_context(world(config, rows))
        yield opened


def api_paths(built: Built) -> list[str]:
    return [
        "/api/projects", f"/api/projects/{built.project_id}/characters",
        f"/api/generations/{built.generation_id}/images", f"/api/projects/{built.project_id}/history",
        "/api/users", "/api/usage", f"/api/projects/{built.project_id}/members",
        f"/api/images/{built.image_id}/comments",
    ]


def page_paths(built: Built) -> list[str]:
    project = f"/projects/{built.project_id}"
    return [
        "/projects", project, f"{project}?review=approved", f"{project}/characters", f"{project}/history",
        f"{project}/history?review=approved", "/queue", "/queue/status", "/admin/users", "/admin/usage",
        f"/images/{built.image_id}", f"/generations/{built.generation_id}",
    ]


def queries(app: Flask, request) -> tuple[int, object]:
    """The number of SQL statements one request ran, and its response (the second of two, so that
    anything a first request does once per process stays out of the count)."""
    request()
    with app.app_context():
        engine = db.engine
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = request()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), response


@pytest.mark.parametrize("index", range(8), ids=lambda index: ["projects", "characters", "images", "history",
                                                                 "users", "usage", "members", "comments"][index])
def test_each_api_list_runs_as_many_queries_at_500_rows_as_at_5(worlds, index):
    counts = {}
    for rows, place in worlds.items():
        path = api_paths(place.built)[index]
        counts[rows], response = queries(place.app, lambda: place.api.get(path))
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        # `rows` of each, and for some lists one more: the owner's own account, project or usage row
        assert min(rows, DEFAULT_LIMIT) <= len(body["items"]) <= min(rows + 1, DEFAULT_LIMIT), path
        assert (body["next_cursor"] is not None) == (rows > DEFAULT_LIMIT), path
    assert counts[SIZES[0]] == counts[SIZES[1]], counts


@pytest.mark.parametrize("index", range(12), ids=lambda index: [
    "projects", "project", "project-approved", "characters", "history", "history-approved", "queue",
    "queue-status", "admin-users", "admin-usage", "image", "generation"][index])
def test_each_page_that_lists_runs_as_many_queries_at_500_rows_as_at_5(worlds, index):
    counts = {}
    for rows, place in worlds.items():
        path = page_paths(place.built)[index]
        counts[rows], response = queries(place.app, lambda: place.pages.get(path))
        assert response.status_code == 200, (path, response.status_code)
    assert counts[SIZES[0]] == counts[SIZES[1]], counts


def test_following_the_cursors_of_a_big_history_returns_each_entry_once(worlds):
    place = worlds[500]
    path, seen, cursor = f"/api/projects/{place.built.project_id}/history?limit=200", [], None
    while True:
        body = place.api.get(path + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [item["id"] for item in body["items"]]
        if not (cursor := body["next_cursor"]):
            break
    assert len(seen) == len(set(seen)) == 500
