"""Light pages (issue 14): under 1 KB of HTML per listed image on the history and project pages,
thumbnails that load lazily with their size set, and stored files sent with an ETag, answered 304 when
unchanged, and cached for a year (privately) where their URL can never show another file."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mockup import storage
from mockup.extensions import db
from mockup.models import Character

from .bulk import SHARED_FILE, owner_of_a_big_project
from .conftest import png_bytes

ROWS = 100
PER_ROW_LIMIT = 1024
YEAR = "max-age=31536000"


@pytest.fixture
def place(app):
    """A signed-in owner (pages and API) of a project of ROWS entries, its shared file on disk."""
    api, pages, built = owner_of_a_big_project(app, ROWS)
    with app.app_context():
        storage.write_atomic(SHARED_FILE, png_bytes())
        storage.write_atomic(storage.thumbnail(SHARED_FILE), png_bytes(fmt="JPEG"))
    return api, pages, built


def listed_pages(built) -> dict[str, str]:
    project = f"/projects/{built.project_id}"
    return {"history": f"{project}/history", "project": project, "review filter": f"{project}?review=approved"}


@pytest.mark.parametrize("name", ["history", "project", "review filter"])
def test_each_listed_image_costs_under_a_kilobyte_of_html(place, name):
    _, pages, built = place
    path = listed_pages(built)[name]
    one = len(pages.get(f"{path}{'&' if '?' in path else '?'}limit=1").data)
    many_page = pages.get(f"{path}{'&' if '?' in path else '?'}limit=21")
    assert many_page.status_code == 200
    per_row = (len(many_page.data) - one) / 20
    assert 100 < per_row < PER_ROW_LIMIT, per_row  # more than nothing: the rows are really there


@pytest.mark.parametrize("name", ["history", "project", "review filter"])
def test_listed_thumbnails_load_lazily_with_their_size_set(place, name):
    _, pages, built = place
    body = pages.get(listed_pages(built)[name]).get_data(as_text=True)
    thumbnails = [tag for tag in re.findall(r"<img [^>]*>", body) if "/thumbnail" in tag]
    assert len(thumbnails) >= 20
    for tag in thumbnails:
        assert 'loading="lazy"' in tag and re.search(r'width="\d+"', tag) and re.search(r'height="\d+"', tag), tag


def conditional(client, path: str):
    """The first answer and the answer to the same request sent again with its ETag."""
    first = client.get(path)
    assert first.status_code == 200, path
    assert first.headers.get("ETag"), path
    return first, client.get(path, headers={"If-None-Match": first.headers["ETag"]})


def image_paths(built) -> list[str]:
    image = built.image_id
    return [f"/images/{image}/thumbnail", f"/images/{image}/file", f"/generations/{built.generation_id}/source"]


@pytest.mark.parametrize("index", range(3), ids=["thumbnail", "file", "generation input"])
def test_files_that_never_change_under_their_url_are_cached_a_year_privately(place, index):
    _, pages, built = place
    first, again = conditional(pages, image_paths(built)[index])
    cache = first.headers["Cache-Control"]
    assert "private" in cache and YEAR in cache and "immutable" in cache and "public" not in cache
    assert again.status_code == 304 and not again.data


@pytest.mark.parametrize("path", ["/api/images/{image}/thumbnail", "/api/images/{image}/file"])
def test_the_api_sends_image_files_the_same_way(place, path):
    api, _, built = place
    first = api.get(path.format(image=built.image_id))
    assert first.status_code == 200 and "immutable" in first.headers["Cache-Control"]
    again = api.get(path.format(image=built.image_id), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_characters_pictures_are_revalidated_not_kept_for_a_year(app, place):
    """The picture in use changes under the same URL when the user switches to the cut-out and back, and
    the original when the sheet's first picture is removed: both revalidate (a 304 when unchanged)."""
    _, pages, built = place
    with app.app_context():
        character_id = db.session.scalar(select(Character.id).where(Character.project_id == built.project_id).limit(1))
    in_use, again = conditional(pages, f"/characters/{character_id}/thumbnail")
    assert "no-cache" in in_use.headers["Cache-Control"] and "immutable" not in in_use.headers["Cache-Control"]
    assert again.status_code == 304
    original, again = conditional(pages, f"/characters/{character_id}/thumbnail/original")
    assert "immutable" not in original.headers["Cache-Control"] and "private" in original.headers["Cache-Control"]
    assert again.status_code == 304
