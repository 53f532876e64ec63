""""Load more" in a real browser (static/app.js): the next page's entries are appended to the list in
place, without leaving the page, until the last page, where the link goes."""
from __future__ import annotations

from sqlalchemy import select

from mockup import create_app
from mockup.extensions import db
from mockup.models import User

from .bulk import build
from .test_browser import page, register, server  # noqa: F401 (fixtures)

ROWS = 7


def test_load_more_appends_the_next_pages_in_place(page, server, app_config):  # noqa: F811
    register(page, server, "owner@example.com", "Owner")
    with create_app(app_config).app_context():  # the same database as the served app
        owner_id = db.session.scalar(select(User.id).where(User.email == "owner@example.com"))
        built = build(owner_id, ROWS)
    start = f"{server}/projects/{built.project_id}/history?limit=3"
    page.goto(start)
    entries = page.locator("#history-entries > li")
    assert entries.count() == 3
    for shown in (6, ROWS):
        page.click("a[data-load-more]")
        page.wait_for_function(f"document.querySelectorAll('#history-entries > li').length === {shown}")
    assert page.url == start  # appended, not navigated
    assert page.locator("a[data-load-more]").count() == 0  # the last page has no link
    notes = page.locator("#history-entries .history-note").all_inner_texts()
    assert notes == [f"Pick {number}" for number in range(ROWS)]
