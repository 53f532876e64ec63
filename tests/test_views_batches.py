"""The batch pages: "New batch" (several files in one input, characters chosen by their thumbnails),
the contact sheet and its polled fragment filling in as the cells finish, cancel, and the project's list."""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Batch, Generation

from .conftest import files_under, png_bytes
from .factories import create_character, create_project
from .job_runner import run_job, run_queued_jobs

ID = r"[0-9a-f]{32}"


def _signed_in(client, auth):
    auth.register()
    auth.login()
    project_id = create_project(client)
    return project_id, [create_character(client, project_id, name) for name in ("Bunny", "Fox")]


def _new_batch(client, project_id, character_ids, sources=2, **fields):
    data = {"mode": "ip-change", "character_id": character_ids, "prompt": "glossy", "candidates": "2",
            "image_size": "1K", "preserve_structure": "y",
            "source_image": [(io.BytesIO(png_bytes((160 + n, 120))), f"mug-{n}.png") for n in range(sources)],
            **fields}
    return client.post(f"/projects/{project_id}/batches/new", data=data, content_type="multipart/form-data")


def test_the_form_offers_the_projects_characters_and_several_files(client, auth):
    project_id, character_ids = _signed_in(client, auth)
    page = client.get(f"/projects/{project_id}/batches/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*type="file"[^>]*multiple', page) or re.search(r'<input[^>]*multiple[^>]*type="file"', page)
    for character_id in character_ids:
        assert f'value="{character_id}"' in page and f"/characters/{character_id}/thumbnail" in page


def test_a_batch_fills_its_contact_sheet_as_cells_finish(app, client, auth):
    project_id, character_ids = _signed_in(client, auth)
    response = _new_batch(client, project_id, character_ids)
    assert response.status_code == 303, response.get_data(as_text=True)
    batch_id = re.search(rf"/batches/({ID})$", response.headers["Location"]).group(1)
    page = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert 'data-finished="false"' in page and f"/batches/{batch_id}/sheet" in page
    assert len(re.findall(r'data-cell="\d-\d"', page)) == 4 and "0 of 4 finished" in page
    rows = re.findall(rf'/generations/({ID})/source/thumbnail', page)
    assert len(rows) == 2
    for generation_id in rows:
        picture = client.get(f"/generations/{generation_id}/source/thumbnail")
        assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    with app.app_context():
        first = db.session.scalar(select(Generation.id).where(Generation.batch_id == batch_id,
                                                              Generation.source_index == 0, Generation.character_index == 1))
    assert run_job(app, first) == "succeeded"
    fragment = client.get(f"/batches/{batch_id}/sheet").get_data(as_text=True)
    assert "1 of 4 finished" in fragment and 'data-finished="false"' in fragment
    assert re.search(r'data-cell="0-1" data-status="succeeded"', fragment)
    assert len(re.findall(r'class="contact-candidate[ "]', fragment)) == 2
    run_queued_jobs(app)
    fragment = client.get(f"/batches/{batch_id}/sheet").get_data(as_text=True)
    assert "4 of 4 finished" in fragment and 'data-finished="true"' in fragment
    assert len(re.findall(r'class="contact-candidate[ "]', fragment)) == 8
    assert "Product kept" in fragment or "Product changed" in fragment  # the structure badge, ip-change
    listed = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert f"/batches/{batch_id}" in listed and "4 of 4 finished" in listed


def test_selecting_in_the_sheet_comes_back_to_it(app, client, auth):
    project_id, character_ids = _signed_in(client, auth)
    batch_id = re.search(rf"/batches/({ID})$", _new_batch(client, project_id, character_ids[:1], 1)
                         .headers["Location"]).group(1)
    run_queued_jobs(app)
    page = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    generation_id, image_id = re.search(rf'/generations/({ID})/select".*?name="image_id" value="({ID})"', page, re.S).groups()
    response = client.post(f"/generations/{generation_id}/select",
                           data={"image_id": image_id, "next": f"/batches/{batch_id}"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/batches/{batch_id}")
    assert re.search(rf'contact-candidate is-selected" data-image-id="{image_id}"',
                     client.get(f"/batches/{batch_id}").get_data(as_text=True))


def test_cancel_from_the_page(app, client, auth):
    project_id, character_ids = _signed_in(client, auth)
    batch_id = re.search(rf"/batches/({ID})$", _new_batch(client, project_id, character_ids).headers["Location"]).group(1)
    response = client.post(f"/batches/{batch_id}/cancel")
    assert response.status_code == 303
    page = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert "4 canceled" in page and 'data-finished="true"' in page


def test_a_refused_batch_shows_the_reason_and_stores_nothing(app, client, auth):
    project_id, character_ids = _signed_in(client, auth)
    before = files_under(app.config["DATA_DIR"])
    response = _new_batch(client, project_id, character_ids, sources=0)
    assert response.status_code == 422
    assert "Choose at least one product photo or sketch." in response.get_data(as_text=True)
    app.config["QUEUE_LIMIT"] = 3
    response = _new_batch(client, project_id, character_ids, sources=2)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "The queue is full" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Batch)) == 0
        assert db.session.scalar(select(func.count()).select_from(Generation)) == 0
    assert files_under(app.config["DATA_DIR"]) == before
