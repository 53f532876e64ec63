"""The generate form, a generation's page and status fragment, and the generated images."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from mockup.engines.base import EngineError
from mockup.extensions import db
from mockup.models import Generation, Image as ImageRow
from mockup.jobs import lifecycle

from .conftest import files_under, png_bytes
from .factories import create_character, create_project, finished_generation
from .job_runner import run_job, use_engine
from .studio import generate, image_ids, location, submit_generation, upload


@pytest.fixture
def project(client, auth):
    """A signed-in user's project with one character: (project_id, character_id)."""
    auth.register()
    project_id = create_project(client, "Spring Mugs!")
    return project_id, create_character(client, project_id)


def generation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Generation))


def test_form_offers_modes_characters_and_defaults(client, project):
    project_id, character_id = project
    body = client.get(f"/projects/{project_id}/generate").get_data(as_text=True)
    assert 'value="ip-change"' in body and 'value="sketch-to-real"' in body
    assert f'value="{character_id}"' in body
    assert re.search(r'<input checked id="preserve_structure"', body)
    assert not re.search(r'<input checked id="transparent_background"', body)


def test_submit_redirects_to_the_generation_and_shows_queue_position(app, client, project):
    project_id, character_id = project
    first = generate(client, project_id, character_id)
    second = submit_generation(client, project_id, character_id)
    assert second.status_code == 303 and re.fullmatch(r"/generations/[0-9a-f]{32}", location(second))

    fragment = client.get(f"{location(second)}/status")
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'data-finished="false"' in body and "Position 2 in the queue." in body
    page = client.get(f"/generations/{first}").get_data(as_text=True)
    assert "Position 1 in the queue." in page and f"/generations/{first}/source" in page
    assert "/cancel" in page


def test_stored_settings(app, client, project):
    project_id, character_id = project
    generation_id = generate(client, project_id, character_id, preserve_structure="", transparent_background="y",
                             texture_image=upload(png_bytes((64, 64), (90, 60, 30)), "wood.png"))
    with app.app_context():
        generation = db.session.get(Generation, generation_id)
        assert generation.transparent_background is True and generation.preserve_structure is False
        assert generation.prompt == "matte ceramic" and generation.texture_path
    # Their Content-Type and headers: tests/test_upload_hardening.py.
    for kind in ("source", "character", "texture"):
        assert client.get(f"/generations/{generation_id}/{kind}").status_code == 200


def test_sketch_to_real_needs_no_character(client, project):
    project_id, _ = project
    assert submit_generation(client, project_id, mode="sketch-to-real").status_code == 303


def test_character_uploaded_for_one_run(client, project):
    project_id, _ = project
    response = submit_generation(client, project_id, character_image=upload(png_bytes((80, 80), (0, 0, 200))))
    assert response.status_code == 303


@pytest.mark.parametrize("fields, status, message", [
    ({"character_id": ""}, 422, "Choose a registered character or upload one for this run."),
    ({"character_id": "f" * 32}, 422, "Not a valid choice"),
    ({"mode": "paint-it"}, 422, "Not a valid choice"),
    ({"prompt": "x" * 2001}, 422, "Use at most 2000 characters."),
])
def test_bad_input_rerenders_the_form(app, client, project, fields, status, message):
    project_id, character_id = project
    before = files_under(app.config["DATA_DIR"])
    response = submit_generation(client, project_id, **{"character_id": character_id, **fields})
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert message in body and 'name="prompt"' in body
    # Nothing stored but the photo kept for the next try, which the form shows (views/kept.py).
    kept = [rel for rel in files_under(app.config["DATA_DIR"]) if rel not in before]
    assert [rel.split("/")[0] for rel in kept] == ["staging", "staging"] and "Kept: mug.png" in body
    assert generation_count(app) == 0


def test_queue_full_is_503_with_retry_after(app, client, project):
    project_id, character_id = project
    app.config["QUEUE_LIMIT"] = 1
    generate(client, project_id, character_id)
    response = submit_generation(client, project_id, character_id)
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "The queue is full right now." in response.get_data(as_text=True)
    assert generation_count(app) == 1


def test_finished_job_shows_two_local_preview_candidates(app, client, project):
    project_id, character_id = project
    generation_id = generate(client, project_id, character_id)
    assert run_job(app, generation_id) == "succeeded"
    body = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert 'data-finished="true"' in body
    ids = image_ids(client, generation_id)
    assert len(ids) == 2
    assert body.count("local preview") == 2
    for image_id in ids:
        assert f"/images/{image_id}/thumbnail" in body and f'href="/images/{image_id}"' in body
        thumbnail = client.get(f"/images/{image_id}/thumbnail")
        assert thumbnail.mimetype == "image/jpeg"
        assert thumbnail.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert client.get(f"/images/{image_id}/file").mimetype == "image/png"
        assert client.get(f"/images/{image_id}").status_code == 200


def test_select_keeps_one_selected(app, client, project):
    project_id, character_id = project
    generation_id, (first, second) = finished_generation(app, client, project_id, character_id)
    for chosen in (first, second):
        response = client.post(f"/generations/{generation_id}/select",
                               data={"image_id": chosen, "next": f"/generations/{generation_id}"})
        assert response.status_code == 303 and location(response) == f"/generations/{generation_id}"
        with app.app_context():
            selected = db.session.scalars(select(ImageRow.id).where(ImageRow.selected)).all()
        assert selected == [chosen]
        body = client.get(f"/generations/{generation_id}").get_data(as_text=True)
        assert body.count("candidate is-selected") == 1


def test_select_an_image_of_another_generation_is_404(app, client, project):
    project_id, character_id = project
    generation_id, _ = finished_generation(app, client, project_id, character_id)
    _, (foreign, _) = finished_generation(app, client, project_id, character_id)
    assert client.post(f"/generations/{generation_id}/select", data={"image_id": foreign}).status_code == 404
    assert client.post(f"/generations/{generation_id}/select", data={}).status_code == 404


def test_downloads(app, client, project):
    project_id, character_id = project
    generation_id, (image_id, _) = finished_generation(app, client, project_id, character_id)
    png = client.get(f"/images/{image_id}/download?format=png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    disposition = png.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"spring-mugs_ip-change_{generation_id[:8]}_candidate-1.png" in disposition
    assert png.data.startswith(b"\x89PNG\r\n\x1a\n")

    jpeg = client.get(f"/images/{image_id}/download?format=jpeg")
    assert jpeg.mimetype == "image/jpeg" and "candidate-1.jpg" in jpeg.headers["Content-Disposition"]
    with Image.open(io.BytesIO(jpeg.data)) as decoded:
        assert decoded.format == "JPEG"
    webp = client.get(f"/images/{image_id}/download?format=webp")
    with Image.open(io.BytesIO(webp.data)) as decoded:
        assert decoded.format == "WEBP"
    assert client.get(f"/images/{image_id}/download?format=gif").status_code == 422


def test_delete_image_removes_it_and_its_files(app, client, project):
    project_id, character_id = project
    generation_id, (image_id, other_id) = finished_generation(app, client, project_id, character_id)
    client.get(f"/images/{image_id}/download?format=jpeg")  # a converted copy is removed as well
    before = files_under(app.config["DATA_DIR"])
    response = client.post(f"/images/{image_id}/delete")
    assert response.status_code == 303 and location(response) == f"/generations/{generation_id}"
    gone = set(before) - set(files_under(app.config["DATA_DIR"]))
    assert {name.rsplit("/", 1)[1] for name in gone} == {"output_0.png", "output_0_thumb.jpg", "output_0_jpeg.jpg"}
    assert client.get(f"/images/{image_id}").status_code == 404
    assert image_ids(client, generation_id) == [other_id]


class FailingEngine:
    name = "local"

    def generate(self, request):
        raise EngineError("CONTENT_POLICY", "Blocked by the image service's safety filter.")


def test_failed_job_shows_the_reason_and_try_again_requeues(app, client, project, monkeypatch):
    project_id, character_id = project
    generation_id = generate(client, project_id, character_id)
    use_engine(monkeypatch, lambda name, config: FailingEngine())
    assert run_job(app, generation_id) == "failed"
    body = client.get(f"/generations/{generation_id}").get_data(as_text=True)
    assert "refused this request under its content policy" in body
    assert "Blocked by the image service&#39;s safety filter." in body
    assert f"/generations/{generation_id}/retry" in body and 'data-finished="true"' in body

    response = client.post(f"/generations/{generation_id}/retry")
    assert response.status_code == 303
    fragment = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert "Position 1 in the queue." in fragment and 'data-finished="false"' in fragment
    monkeypatch.undo()
    assert run_job(app, generation_id) == "succeeded"


def test_cancel_a_queued_job(app, client, project):
    project_id, character_id = project
    generation_id = generate(client, project_id, character_id)
    assert client.post(f"/generations/{generation_id}/cancel").status_code == 303
    body = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert "canceled" in body and 'data-finished="true"' in body
    again = client.post(f"/generations/{generation_id}/cancel")
    assert again.status_code == 303
    assert "Only a generation that is still waiting can be canceled." in client.get(location(again)).get_data(
        as_text=True)


def test_running_job_shows_elapsed_time(app, client, project):
    project_id, character_id = project
    generation_id = generate(client, project_id, character_id)
    with app.app_context():
        lifecycle.claim(generation_id)
    body = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert "Running for" in body and 'data-finished="false"' in body
