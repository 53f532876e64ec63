"""The keyset pager (mockup/services/paging.py) on its own: pages follow the order, each row comes once
while rows are added and removed between pages, equal sort keys are split by the id, rows of several
columns page as tuples, and a bad limit or cursor is a 422 naming the field. On SQLite and on
PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from mockup.errors import Invalid
from mockup.extensions import db
from mockup.models import Project, User
from mockup.services.paging import Page, PageRequest, page_request, paginate

from .conftest import app_with_tables

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def paged_app(config_on_each_database):
    config = config_on_each_database
    with app_with_tables(config) as app, app.app_context():
        owner = User(email="o@example.com", name="Owner", password_hash="x")
        db.session.add(owner)
        db.session.flush()
        yield app, owner.id


def add_projects(owner_id: str, count: int, start: int = 0, same_time: bool = False) -> None:
    db.session.add_all(Project(owner_id=owner_id, name=f"p{number:04d}",
                               created_at=T0 if same_time else T0 + timedelta(seconds=number))
                       for number in range(start, start + count))
    db.session.commit()


NEWEST_FIRST = (Project.created_at.desc(), Project.id.desc())


def names(page: Page) -> list[str]:
    return [project.name for project in page.items]


def follow(query, order, limit: int, between=None) -> list[str]:
    """Every row, page by page; `between(page_number)` may change the table between two pages."""
    seen, cursor, number = [], None, 0
    while True:
        page = paginate(query, order, PageRequest(limit, cursor))
        seen += names(page)
        if page.next_cursor is None:
            return seen
        number += 1
        if between:
            between(number)
        cursor = page.next_cursor


def test_pages_follow_the_order_and_end_with_no_cursor(paged_app):
    _, owner_id = paged_app
    add_projects(owner_id, 7)
    first = paginate(select(Project), NEWEST_FIRST, PageRequest(3))
    assert names(first) == ["p0006", "p0005", "p0004"] and first.next_cursor
    assert follow(select(Project), NEWEST_FIRST, 3) == [f"p{n:04d}" for n in range(6, -1, -1)]
    exact = paginate(select(Project), NEWEST_FIRST, PageRequest(7))
    assert len(exact.items) == 7 and exact.next_cursor is None


def test_rows_added_and_removed_between_pages_neither_repeat_nor_vanish(paged_app):
    _, owner_id = paged_app
    add_projects(owner_id, 10)

    def change(number: int) -> None:
        add_projects(owner_id, 2, start=100 + 2 * number)  # newer than everything: before the cursor
        doomed = db.session.scalar(select(Project).order_by(Project.created_at).limit(1))  # not yet seen
        db.session.delete(doomed)
        db.session.commit()

    seen = follow(select(Project), NEWEST_FIRST, 3, change)
    assert len(seen) == len(set(seen))
    assert seen[:3] == ["p0009", "p0008", "p0007"]
    assert "p0000" not in seen and "p0001" not in seen  # deleted before their page was read


def test_equal_sort_keys_are_split_by_the_id(paged_app):
    _, owner_id = paged_app
    add_projects(owner_id, 9, same_time=True)
    seen = follow(select(Project), NEWEST_FIRST, 2)
    expected = [project.name for project in db.session.scalars(select(Project).order_by(Project.id.desc()))]
    assert seen == expected


def test_rows_of_several_columns_page_as_tuples(paged_app):
    _, owner_id = paged_app
    add_projects(owner_id, 6, same_time=True)
    add_projects(owner_id, 3, start=10)
    order = (Project.created_at.desc(), Project.name.desc(), Project.id.desc())
    seen, cursor = [], None
    while True:
        page = paginate(select(Project.name, Project.created_at), order, PageRequest(4, cursor))
        assert all(isinstance(row, tuple) and len(row) == 2 for row in page.items)
        seen += [name for name, _ in page.items]
        if not (cursor := page.next_cursor):
            break
    assert seen == ["p0012", "p0011", "p0010", *(f"p{n:04d}" for n in range(5, -1, -1))]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "1.5", "ten", " ", "²"])
def test_a_bad_limit_is_a_validation_error(limit):
    with pytest.raises(Invalid) as error:
        page_request(limit)
    assert "limit" in error.value.fields


def test_limits_in_range_and_the_default():
    assert page_request() == page_request("") == PageRequest(100, None)  # "" is an empty form field
    assert page_request("1").limit == 1 and page_request(200).limit == 200
    assert page_request("5", "abc") == PageRequest(5, "abc")


@pytest.mark.parametrize("cursor", ["!!!", "bm90IGpzb24", "WzFd", "WyJ4IiwieSJd", "WzEsMl0", "x" * 2000,
                                    "WyIyMDI2LTAzLTAxVDEyOjAwOjAwIiwiYWIiXQ"])
def test_a_bad_cursor_is_a_validation_error(paged_app, cursor):
    # not base64 / not JSON / one value for two keys / not a date / numbers for a date and an id /
    # too long / a date without its time zone
    with pytest.raises(Invalid) as error:
        paginate(select(Project), NEWEST_FIRST, PageRequest(3, cursor))
    assert "cursor" in error.value.fields
