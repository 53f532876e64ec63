""""Load more" in a real browser (static/app.js): the next page's entries are appended to the list in
place, without leaving the page, until the last page, where the link goes: a project's history, and the
gallery filtered to one character."""
from __future__ import annotations

from sqlalchemy import select, update

from mockup import create_app
from mockup.extensions import db
from mockup.models import Character, Generation, Image, User

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


def test_the_gallery_filtered_to_one_character_pages_in_place(page, server, app_config):  # noqa: F811
    """Chosen in the gallery's filter, one character's images come a page at a time, appended in place,
    and only theirs: every other generation of the project is another character's."""
    register(page, server, "owner@example.com", "Owner")
    with create_app(app_config).app_context():
        owner_id = db.session.scalar(select(User.id).where(User.email == "owner@example.com"))
        built = build(owner_id, ROWS)
        made = db.session.scalars(select(Generation.id).where(Generation.project_id == built.project_id)
                                  .order_by(Generation.created_at.desc(), Generation.id.desc())).all()
        chosen, other = db.session.scalars(select(Character.id).where(Character.project_id == built.project_id)
                                           .order_by(Character.name).limit(2)).all()
        for number, generation_id in enumerate(made):
            db.session.execute(update(Generation).where(Generation.id == generation_id).values(
                character_id=chosen if number % 2 == 0 else other))
        db.session.commit()
        wanted = db.session.scalars(
            select(Image.id).join(Image.generation).where(Generation.character_id == chosen)
            .order_by(Generation.created_at.desc(), Generation.id.desc(), Image.index.desc())).all()
    page.goto(f"{server}/gallery")
    page.select_option("#filter-character", chosen)
    page.click("button >> text=Show")
    page.wait_for_url(f"**/gallery?*character={chosen}*")
    start = f"{page.url}&limit=3"
    page.goto(start)
    cards = page.locator("#gallery > li")
    assert cards.count() == 3
    while page.locator("a[data-load-more]").count():
        shown = cards.count()
        page.click("a[data-load-more]")
        page.wait_for_function(f"document.querySelectorAll('#gallery > li').length > {shown}")
    assert page.url == start  # appended, not navigated
    assert [card.get_attribute("data-image-id") for card in cards.all()] == wanted
