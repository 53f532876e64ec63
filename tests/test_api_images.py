"""/api/images: one image, its file and thumbnail, downloads in three formats, the 2K download, delete."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from mockup import storage
from mockup.extensions import db
from mockup.models import Image as ImageRow, ImageJob
from mockup.jobs import runner
from mockup.services import image_jobs

from .api_support import assert_error, assert_shape, finished_generation
from .conftest import files_under


@pytest.fixture
def image(app, alice) -> dict:
    return finished_generation(app, alice)["images"][0]


def test_get_answers_the_image(alice, image):
    response = alice.get(f"/api/images/{image['id']}")
    assert response.status_code == 200 and set(response.get_json()) == {"image"}
    assert_shape(response.get_json()["image"], "image")
    assert response.get_json()["image"] == image
    assert (image["format"], image["has_alpha"], image["selected"]) == ("png", False, False)
    assert image["url"] == f"/api/images/{image['id']}/file"
    assert image["download_url"] == f"/api/images/{image['id']}/download"
    assert image["download_2k_url"] == f"/api/images/{image['id']}/download/2k"


def test_file_and_thumbnail(alice, image):
    file = alice.get(image["url"])
    assert file.status_code == 200 and file.mimetype == "image/png"
    assert Image.open(io.BytesIO(file.data)).size == (image["width"], image["height"])
    thumbnail = alice.get(image["thumbnail_url"])
    assert thumbnail.mimetype == "image/jpeg" and Image.open(io.BytesIO(thumbnail.data)).size == (200, 200)


@pytest.mark.parametrize("fmt,pillow_format,mimetype,ext", [
    (None, "PNG", "image/png", "png"),
    ("png", "PNG", "image/png", "png"),
    ("jpeg", "JPEG", "image/jpeg", "jpg"),
    ("webp", "WEBP", "image/webp", "webp"),
])
def test_download_converts_and_names_the_file(alice, image, fmt, pillow_format, mimetype, ext):
    query = f"?format={fmt}" if fmt else ""
    response = alice.get(f"{image['download_url']}{query}")
    assert response.status_code == 200 and response.mimetype == mimetype
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "acrylic-stands_ip-change_" in disposition
    assert disposition.endswith(f"candidate-1.{ext}")
    decoded = Image.open(io.BytesIO(response.data))
    assert decoded.format == pillow_format and decoded.size == (image["width"], image["height"])


def test_download_refuses_an_unknown_format(alice, image):
    assert_error(alice.get(f"{image['download_url']}?format=gif"), 422, "VALIDATION", "format")


def test_2k_download_starts_the_upscale_and_answers_processing_until_done(app, alice, image, monkeypatch):
    monkeypatch.setattr(image_jobs, "upscale_to_2k", lambda picture, upscaler: picture.resize((2048, 1536)))
    for _ in range(2):  # the second call joins the job the first one started
        response = alice.get(image["download_2k_url"])
        assert response.status_code == 202 and response.get_json() == {"status": "processing"}
        assert int(response.headers["Retry-After"]) > 0
    with app.app_context():
        job = db.session.scalar(select(ImageJob))
        assert runner.run_image_job(job.id) == "succeeded"
    response = alice.get(image["download_2k_url"])
    assert response.status_code == 200
    assert max(Image.open(io.BytesIO(response.data)).size) == 2048


def test_2k_download_serves_an_existing_upscale(app, alice, image):
    with app.app_context():
        rel = storage.upscaled(image["id"])
        buffer = io.BytesIO()
        Image.new("RGB", (2048, 1536), (90, 90, 200)).save(buffer, "PNG")
        storage.write_atomic(rel, buffer.getvalue())
        db.session.get(ImageRow, image["id"]).upscaled_path = rel
        db.session.commit()
    for fmt, pillow_format in (("png", "PNG"), ("jpeg", "JPEG")):
        response = alice.get(f"{image['download_2k_url']}?format={fmt}")
        assert response.status_code == 200
        assert "_2k." in response.headers["Content-Disposition"]
        decoded = Image.open(io.BytesIO(response.data))
        assert decoded.format == pillow_format and max(decoded.size) == 2048


def test_delete_removes_the_image_and_its_files(app, alice, image):
    alice.get(f"{image['download_url']}?format=jpeg")
    alice.post(f"/api/history/{image['id']}/save")
    assert alice.delete(f"/api/images/{image['id']}").status_code == 204
    assert_error(alice.get(f"/api/images/{image['id']}"), 404, "NOT_FOUND")
    remaining = files_under(app.config["DATA_DIR"])
    assert not any("output_0" in name for name in remaining)
    assert any("output_1" in name for name in remaining)
    project_id = alice.get("/api/projects").get_json()["items"][0]["id"]
    assert alice.get(f"/api/projects/{project_id}/history").get_json()["items"] == []
