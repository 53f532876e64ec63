"""Region edits in the HTML pages: the editor on an image's page, submitting it, the new edit's page with
its before/after comparison, the lineage from source to the latest edit, and refusals."""
from __future__ import annotations

import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Generation, Image as ImageRow

from .conftest import files_under
from .pictures import irregular_mask, png
from .factories import create_character, create_project, finished_generation
from .job_runner import run_job
from .studio import ID, image_ids, location, upload


@pytest.fixture
def candidate(app, client, auth) -> tuple[str, str, tuple[int, int]]:
    """A signed-in user's finished generation: (generation id, first candidate's id, its size)."""
    auth.register()
    project_id = create_project(client)
    generation_id, (image_id, _) = finished_generation(app, client, project_id, create_character(client, project_id))
    with app.app_context():
        row = db.session.get(ImageRow, image_id)
        return generation_id, image_id, (row.width, row.height)


def submit_edit(client, image_id: str, size: tuple[int, int], prompt: str = "remove the logo", mask: bytes | None = None):
    data = {"prompt": prompt, "mask": upload(png(irregular_mask(size)) if mask is None else mask, "mask.png")}
    return client.post(f"/images/{image_id}/edit", data=data, content_type="multipart/form-data")


def test_the_image_page_offers_the_region_editor_lineage_and_comparison(client, candidate):
    generation_id, image_id, (width, height) = candidate
    body = client.get(f"/images/{image_id}").get_data(as_text=True)
    assert f'action="/images/{image_id}/edit"' in body and 'enctype="multipart/form-data"' in body
    assert f'<canvas width="{width}" height="{height}"' in body
    assert 'data-tool="brush"' in body and 'data-tool="box"' in body and 'data-action="undo"' in body
    assert 'name="mask"' in body and 'name="prompt"' in body and "/static/editor.js" in body
    lineage = body[body.index('class="lineage"'):body.index('class="viewer"')]
    assert f"/generations/{generation_id}/source" in lineage and f'href="/images/{image_id}"' in lineage
    assert 'aria-current="page"' in lineage
    comparison = body[body.index('class="compare"'):]
    assert f"/generations/{generation_id}/source" in comparison and f"/images/{image_id}/file" in comparison
    assert 'class="compare-range" type="range"' in comparison


def test_submitting_an_edit_opens_its_page_and_the_edit_runs(app, client, candidate):
    generation_id, image_id, size = candidate
    response = submit_edit(client, image_id, size)
    assert response.status_code == 303 and re.fullmatch(rf"/generations/{ID}", location(response))
    edit_id = location(response).rsplit("/", 1)[1]
    page = client.get(f"/generations/{edit_id}").get_data(as_text=True)
    assert "Region edit" in page and "Edited from" in page and f'href="/images/{image_id}"' in page
    assert "remove the logo" in page and "Position 1 in the queue." in page
    assert run_job(app, edit_id) == "succeeded"

    fragment = client.get(f"/generations/{edit_id}/status").get_data(as_text=True)
    edited = image_ids(client, edit_id)
    assert len(edited) == 2
    assert f'src="/generations/{edit_id}/source"' in fragment and "Parent image" in fragment
    assert all(f'data-compare-src="/images/{edited_id}/file"' in fragment for edited_id in edited)
    assert client.get(f"/generations/{edit_id}/source").data == client.get(f"/images/{image_id}/file").data

    edited_page = client.get(f"/images/{edited[0]}").get_data(as_text=True)
    lineage = edited_page[edited_page.index('class="lineage"'):edited_page.index('class="viewer"')]
    steps = re.findall(r'href="(/(?:images|generations)/[^"]+)"', lineage)
    assert steps == [f"/generations/{generation_id}", f"/images/{image_id}", f"/images/{edited[0]}"]
    assert "Edit 1" in lineage and 'action="/images/' + edited[0] + '/edit"' in edited_page
    parent_page = client.get(f"/images/{image_id}").get_data(as_text=True)
    assert f'href="/generations/{edit_id}"' in parent_page and "Edits made from this image" in parent_page


def test_an_edit_of_an_edit_shows_the_whole_chain(app, client, candidate):
    generation_id, image_id, size = candidate
    first = location(submit_edit(client, image_id, size)).rsplit("/", 1)[1]
    run_job(app, first)
    middle = image_ids(client, first)[1]
    second = location(submit_edit(client, middle, size, prompt="make it pink")).rsplit("/", 1)[1]
    run_job(app, second)
    last = image_ids(client, second)[0]
    lineage = client.get(f"/images/{last}").get_data(as_text=True)
    lineage = lineage[lineage.index('class="lineage"'):lineage.index('class="viewer"')]
    assert re.findall(r'href="/images/([0-9a-f]{32})"', lineage) == [image_id, middle, last]
    assert "Edit 1" in lineage and "Edit 2" in lineage


def generation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Generation))


@pytest.mark.parametrize("prompt, mask, message", [
    ("make it blue", b"", "Paint the part to change first."),
    ("make it blue", png(Image.new("L", (40, 40), 0)), "The mask must have the same width and height as the image."),
    ("make it blue", b"GIF89a", "The mask must be a PNG image."),
    ("", None, "This field is required."),
])
def test_refusals_rerender_the_page_and_write_nothing(app, client, candidate, prompt, mask, message):
    _, image_id, size = candidate
    before = files_under(app.config["DATA_DIR"])
    if mask == b"":
        response = client.post(f"/images/{image_id}/edit", data={"prompt": prompt}, content_type="multipart/form-data")
    else:
        response = submit_edit(client, image_id, size, prompt=prompt, mask=mask)
    assert response.status_code in (415, 422)
    assert message in response.get_data(as_text=True)
    assert files_under(app.config["DATA_DIR"]) == before and generation_count(app) == 1


def test_an_all_black_mask_is_refused_in_korean(app, client, candidate):
    _, image_id, size = candidate
    response = client.post(f"/images/{image_id}/edit", headers={"Accept-Language": "ko"}, data={
        "prompt": "파란색으로", "mask": upload(png(Image.new("L", size, 0)), "mask.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "마스크" in body and "The mask has no white area" not in body


def test_another_users_image_cannot_be_seen_or_edited(app, client, auth, candidate):
    _, image_id, size = candidate
    auth.logout()
    auth.register(email="other@example.com")
    assert client.get(f"/images/{image_id}").status_code == 404
    assert submit_edit(client, image_id, size).status_code == 404
    assert generation_count(app) == 1
