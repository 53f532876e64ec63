"""Characters: register with an upload, list with thumbnails, refuse bad files, delete."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Character

from .conftest import files_under
from .factories import create_character, create_project
from .studio import location


@pytest.fixture
def project_id(client, auth):
    auth.register()
    return create_project(client)


def character_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Character))


def test_register_lists_and_serves_a_200px_jpeg_thumbnail(app, client, project_id):
    character_id = create_character(client, project_id, "Bunny")
    page = client.get(f"/projects/{project_id}/characters").get_data(as_text=True)
    assert "Bunny" in page

    thumbnail = client.get(f"/characters/{character_id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert thumbnail.headers["X-Content-Type-Options"] == "nosniff"
    assert thumbnail.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "private" in thumbnail.headers["Cache-Control"]
    with Image.open(io.BytesIO(thumbnail.data)) as decoded:
        assert decoded.format == "JPEG" and decoded.size == (200, 200)

    full = client.get(f"/characters/{character_id}/image")
    assert full.status_code == 200 and full.mimetype == "image/png"
    with Image.open(io.BytesIO(full.data)) as decoded:
        assert decoded.format == "PNG" and decoded.size == (240, 240)


# Refused files (every kind, on every upload route): tests/test_upload_hardening.py.


def test_missing_file_and_name_are_form_errors(app, client, project_id):
    response = client.post(f"/projects/{project_id}/characters", data={"name": ""},
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This field is required." in body and "Choose an image file." in body
    assert character_count(app) == 0


def test_delete_removes_row_and_files(app, client, project_id):
    character_id = create_character(client, project_id)
    assert files_under(app.config["DATA_DIR"])
    response = client.post(f"/characters/{character_id}/delete",
                           data={"next": f"/projects/{project_id}/characters"})
    assert response.status_code == 303 and location(response) == f"/projects/{project_id}/characters"
    assert character_count(app) == 0
    assert files_under(app.config["DATA_DIR"]) == []
    assert client.get(f"/characters/{character_id}/thumbnail").status_code == 404
