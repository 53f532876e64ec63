"""The gallery (/gallery, services/gallery.py): every image of the projects one owns or is a member of,
newest first, filtered by project, character, mode, review state and dates, paged with the keyset
pager; a stranger's images never appear; a selection resolves only to images one may view (404
otherwise); and a page runs the same number of queries at 5 images as at 500."""
from __future__ import annotations

import io
import json
import re
import zipfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import event

from mockup import storage
from mockup.errors import Invalid, NotFound
from mockup.extensions import db
from mockup.models import Generation, Image, Membership, Project
from mockup.services import accounts, gallery, paging

from .conftest import png_bytes
from .factories import create_character, create_project, finished_generation

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
ID = r"[0-9a-f]{32}"


@pytest.fixture
def app_config(config_on_each_database):
    return config_on_each_database


PASSWORD = "correct horse"


def user(email: str) -> str:
    return accounts.register(email, PASSWORD, email.split("@")[0].title(), by_admin=True).id


def seed(owner_id: str, project_id: str, count: int, *, start: int = 0, mode: str = "ip-change",
         character_id: str | None = None, review: str = "none", made_by: str | None = None) -> list[str]:
    """`count` one-image generations, a minute apart from T0 + `start` minutes; rows only (the files are
    shared, as the benchmark does). Returns the image ids, oldest first."""
    ids = []
    for number in range(start, start + count):
        at = T0 + timedelta(minutes=number)
        generation = Generation(project_id=project_id, owner_id=made_by or owner_id, mode=mode, engine="local",
                                source_path="uploads/shared.png", character_id=character_id, status="succeeded",
                                created_at=at)
        image = Image(generation=generation, index=0, width=64, height=64, path="generations/shared.png",
                      thumbnail_path="generations/shared_thumb.jpg", created_at=at, review_state=review)
        db.session.add_all([generation, image])
        db.session.flush()
        ids.append(image.id)
    db.session.commit()
    return ids


@pytest.fixture
def world(app):
    """Ana owns "Mugs" (a character, 3 images) and is an editor of Ben's "Plush" (2 images); Cho is a
    stranger with "Secret" (2 images)."""
    with app.app_context():
        ana, ben, cho = user("ana@example.com"), user("ben@example.com"), user("cho@example.com")
        mugs, plush, secret = (Project(owner_id=owner, name=name) for owner, name in
                               ((ana, "Mugs"), (ben, "Plush"), (cho, "Secret")))
        db.session.add_all([mugs, plush, secret])
        db.session.flush()
        db.session.add(Membership(project_id=plush.id, user_id=ana, role="viewer"))
        from_character = seed(ana, mugs.id, 1, start=0)
        mugs_images = from_character + seed(ana, mugs.id, 2, start=10, mode="sketch-to-real", review="approved")
        plush_images = seed(ben, plush.id, 2, start=5)
        secret_images = seed(cho, secret.id, 2, start=20)
        return {"ana": ana, "ben": ben, "cho": cho, "mugs": mugs.id, "plush": plush.id, "secret": secret.id,
                "mugs_images": mugs_images, "plush_images": plush_images, "secret_images": secret_images}


def ids(page: paging.Page) -> list[str]:
    return [image.id for image in page.items]


def test_the_gallery_shows_own_and_shared_images_newest_first_and_never_a_strangers(app, world):
    with app.app_context():
        found = gallery.gallery(world["ana"], gallery.GalleryFilter(), paging.PageRequest())
        newest_first = [*reversed(world["mugs_images"][1:]), *reversed(world["plush_images"]), world["mugs_images"][0]]
        assert ids(found) == newest_first and found.next_cursor is None
        assert not set(ids(found)) & set(world["secret_images"])
        stranger = gallery.gallery(world["cho"], gallery.GalleryFilter(), paging.PageRequest())
        assert ids(stranger) == list(reversed(world["secret_images"]))


def test_filters_narrow_the_gallery(app, world):
    with app.app_context():
        def shown(**args) -> set[str]:
            return set(ids(gallery.gallery(world["ana"], gallery.filter_from(args), paging.PageRequest())))

        assert shown(project=world["plush"]) == set(world["plush_images"])
        assert shown(project=world["secret"]) == set()  # someone else's project: nothing, not its images
        assert shown(mode="sketch-to-real") == set(world["mugs_images"][1:])
        assert shown(review="approved") == set(world["mugs_images"][1:])
        assert shown(**{"from": "2026-03-01", "to": "2026-03-01"}) == set(world["mugs_images"] + world["plush_images"])
        assert shown(to="2026-02-28") == set()
        with pytest.raises(Invalid) as bad:
            gallery.filter_from({"from": "yesterday"})
        assert bad.value.fields == {"from": gallery.BAD_DATE}
        for field, value in (("mode", "paint"), ("review", "maybe"), ("project", "../x")):
            with pytest.raises(Invalid):
                gallery.filter_from({field: value})


def test_the_character_filter(app, client, auth):
    auth.register()
    auth.login()
    project_id = create_project(client, "Stands")
    character_id = create_character(client, project_id)
    _, with_character = finished_generation(app, client, project_id, character_id)
    other = create_character(client, project_id, "Fox")
    page = client.get(f"/gallery?character={character_id}").get_data(as_text=True)
    assert set(re.findall(rf'data-image-id="({ID})"', page)) == set(with_character)
    assert 'data-image-id="' not in client.get(f"/gallery?character={other}").get_data(as_text=True)


def test_pages_follow_each_other_with_every_image_once(app, world):
    with app.app_context():
        seed(world["ana"], world["mugs"], 7, start=30)
        seen, cursor = [], None
        while True:
            page = gallery.gallery(world["ana"], gallery.GalleryFilter(), paging.PageRequest(3, cursor))
            seen += ids(page)
            if (cursor := page.next_cursor) is None:
                break
        assert len(seen) == len(set(seen)) == 12
        assert seen == ids(gallery.gallery(world["ana"], gallery.GalleryFilter(), paging.PageRequest(50)))


@pytest.fixture
def ana(app, world):
    """Ana signed in through the pages (the first account, so an admin: who sees no more here)."""
    client = app.test_client()
    assert client.post("/auth/login", data={"email": "ana@example.com", "password": PASSWORD}).status_code == 303
    return client


def test_the_page_filters_pages_and_links_to_the_next_page(app, world, ana):
    page = ana.get("/gallery?limit=2").get_data(as_text=True)
    shown = re.findall(rf'data-image-id="({ID})"', page)
    assert shown == list(reversed(world["mugs_images"][1:]))
    assert 'loading="lazy"' in page and 'width="200" height="200"' in page
    assert 'name="image_id"' in page and 'form="selection"' in page
    more = re.search(r'href="([^"]+)" data-load-more="gallery"', page).group(1).replace("&amp;", "&")
    following = ana.get(more).get_data(as_text=True)
    assert re.findall(rf'data-image-id="({ID})"', following) == list(reversed(world["plush_images"]))
    assert "Plush" in following and "Secret" not in following
    filtered = ana.get(f"/gallery?project={world['plush']}&limit=1").get_data(as_text=True)
    more = re.search(r'href="([^"]+)" data-load-more="gallery"', filtered).group(1).replace("&amp;", "&")
    assert f"project={world['plush']}" in more
    assert ana.get("/gallery?review=maybe").status_code == 422
    assert 'href="/gallery"' in ana.get("/projects").get_data(as_text=True)  # the nav link


def test_a_selection_resolves_to_viewable_images_and_a_strangers_id_is_404(app, world, ana):
    mine = [world["mugs_images"][0], world["plush_images"][1]]
    with app.app_context():
        assert [image.id for image in gallery.selected_images(world["ana"], mine)] == list(reversed(mine))
        for wrong in ([world["secret_images"][0]], [*mine, world["secret_images"][0]], ["0" * 32], ["nope"]):
            with pytest.raises(NotFound):
                gallery.selected_images(world["ana"], wrong)
        with pytest.raises(Invalid):
            gallery.selected_images(world["ana"], [])
    page = ana.post("/gallery/selection", data={"image_id": mine})
    assert page.status_code == 200
    assert set(re.findall(rf'data-image-id="({ID})"', page.get_data(as_text=True))) == set(mine)
    assert "2 images selected" in page.get_data(as_text=True)
    assert ana.post("/gallery/selection", data={"image_id": [*mine, world["secret_images"][0]]}).status_code == 404


@contextmanager
def counted(app) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_runs_the_same_queries_at_5_and_500_images(app, world, ana):
    def queries(**args) -> int:
        with counted(app) as statements:
            assert ana.get("/gallery", query_string=args).status_code == 200
        return len(statements)

    with app.app_context():
        seed(world["ana"], world["mugs"], 2, start=40)  # 5 of hers, besides the shared ones
    few = queries(), queries(project=world["mugs"], limit=3)
    with app.app_context():
        seed(world["ana"], world["mugs"], 495, start=50)
    assert (queries(), queries(project=world["mugs"], limit=3)) == few
    page = ana.get("/gallery").get_data(as_text=True)
    assert len(re.findall(rf'data-image-id="({ID})"', page)) == paging.PAGE_ROWS
    empty = ana.get("/gallery?to=2000-01-01").get_data(as_text=True)
    assert (len(page.encode()) - len(empty.encode())) / paging.PAGE_ROWS < 1024  # light: under 1 KB an image


def test_the_selection_page_exports_the_ticked_images_as_one_zip(app, world, ana):
    """The selection page's Export form names every ticked image; sending it gives one zip across the
    two projects, its manifest naming exactly those images."""
    mine = [world["mugs_images"][0], world["plush_images"][1]]
    with app.app_context():
        storage.write_atomic("generations/shared.png", png_bytes((64, 64)))
    page = ana.post("/gallery/selection", data={"image_id": mine}).get_data(as_text=True)
    form = page[page.index('id="export-selection"'):]
    form = form[:form.index("</form>")]
    assert set(re.findall(rf'name="image_id" value="({ID})"', form)) == set(mine)
    answer = ana.post("/exports/selection", data={"image_id": re.findall(rf'name="image_id" value="({ID})"', form),
                                                  "format": "png", "size": "1k"})
    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(answer.get_data())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert sorted(entry["image_id"] for entry in manifest["files"]) == sorted(mine)
