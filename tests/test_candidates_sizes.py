"""Candidates and sizes (shared/API.md, "Generations: sizes, candidates, checks"): 1 to 4 candidates per
generation, each one call, and the model's own 2K, whose 2K download is served without an upscale job;
the estimate counts every call and every input image; bad values are refused with nothing written."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from mockup.engines import pricing
from mockup.extensions import db
from mockup.models import Generation, ImageJob
from mockup.services import accounts, generations, projects

from .api_support import assert_error, assert_shape, read_generation, sign_up, submit
from .conftest import png_bytes, snapshot
from .factories import create_character, create_project
from .job_runner import run_job
from .studio import generate, image_ids, submit_generation


def image_jobs(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(ImageJob))


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@pytest.mark.parametrize("fields, field", [
    ({"candidates": "0"}, "candidates"), ({"candidates": "5"}, "candidates"), ({"candidates": "x"}, "candidates"),
    ({"candidates": "2.5"}, "candidates"), ({"image_size": "4K"}, "image_size"), ({"image_size": "2k"}, "image_size"),
])
def test_api_refuses_bad_candidates_and_sizes_and_writes_nothing(app, alice, fields, field):
    project_id = create_project(alice)
    character_id = create_character(alice, project_id)
    before = snapshot(app)
    assert_error(submit(alice, project_id, character_id, **fields), 422, "VALIDATION", field)
    assert snapshot(app) == before


@pytest.mark.parametrize("candidates, image_size", [(0, "1K"), (5, "1K"), (True, "1K"), (2, "4K")])
def test_the_service_refuses_them_too(app, candidates, image_size):
    with app.app_context():
        user = accounts.register("c@example.com", "correct horse", "C")
        project = projects.create_project(user.id, "Mugs")
        with pytest.raises(generations.Invalid) as refused:
            generations.submit_generation(user.id, project.id, mode="sketch-to-real", source_image=png_bytes((90, 90)),
                                          candidates=candidates, image_size=image_size)
        assert set(refused.value.fields) == {"candidates" if image_size == "1K" else "image_size"}
        assert db.session.scalar(select(func.count()).select_from(Generation)) == 0


def test_defaults_are_two_candidates_at_1k(app, alice):
    project_id = create_project(alice)
    queued = submit(alice, project_id, create_character(alice, project_id)).get_json()["generation"]
    assert_shape(queued, "generation")
    assert (queued["candidates"], queued["image_size"]) == (2, "1K")
    assert "estimated_cost_usd" in queued and "cost_usd" in queued


def test_three_candidates_at_2k_on_the_local_engine(app, alice):
    project_id = create_project(alice)
    response = submit(alice, project_id, create_character(alice, project_id), candidates="3", image_size="2K")
    assert response.status_code == 202
    generation_id = response.get_json()["generation"]["id"]
    assert run_job(app, generation_id) == "succeeded"
    done = read_generation(alice, generation_id)
    assert (done["candidates"], done["image_size"]) == (3, "2K") and len(done["images"]) == 3
    for image in done["images"]:
        assert (image["width"], image["height"]) == (2048, 1536)  # the 160 x 120 source at a 2048 long side
        # The 2K download is there at once: the image itself, no upscale job.
        download = alice.get(image["download_2k_url"])
        assert download.status_code == 200 and size_of(download.data) == (2048, 1536)
        assert download.data == alice.get(image["url"]).data
        assert alice.get(image["download_2k_url"] + "?format=jpeg").mimetype == "image/jpeg"
    assert alice.post(f"/api/generations/{generation_id}/select",
                      json={"image_id": done["images"][0]["id"]}).status_code == 200
    assert image_jobs(app) == 0  # selecting a 2K candidate starts no upscale either


def test_gemini_draws_2k_itself_and_its_2k_download_needs_no_upscale(gemini_app, gemini_server):
    api = sign_up(gemini_app.test_client(), "g@example.com", "G")
    project_id = create_project(api)
    response = api.post_form("/api/generations", {
        "project_id": project_id, "mode": "sketch-to-real", "source_image": png_bytes((160, 120)),
        "candidates": "1", "image_size": "2K"})
    generation_id = response.get_json()["generation"]["id"]
    assert run_job(gemini_app, generation_id) == "succeeded"
    [request] = gemini_server.requests
    assert request.generation_config["imageConfig"] == {"aspectRatio": "4:3", "imageSize": "2K"}
    [image] = read_generation(api, generation_id)["images"]
    assert (image["width"], image["height"]) == (2400, 1792)  # Gemini's 2K at 4:3
    download = api.get(image["download_2k_url"])
    assert download.status_code == 200 and size_of(download.data) == (2048, 1529)  # resized down, not up
    assert image_jobs(gemini_app) == 0


def test_1k_generations_still_ask_for_1k(gemini_app, gemini_server):
    api = sign_up(gemini_app.test_client(), "g@example.com", "G")
    response = api.post_form("/api/generations", {
        "project_id": create_project(api), "mode": "sketch-to-real", "source_image": png_bytes((160, 120))})
    assert run_job(gemini_app, response.get_json()["generation"]["id"]) == "succeeded"
    assert len(gemini_server.requests) == 2
    assert {request.generation_config["imageConfig"]["imageSize"] for request in gemini_server.requests} == {"1K"}


def test_candidates_are_concurrent_calls(gemini_app, gemini_server):
    gemini_server.together = 4  # each call waits until four are in flight at once
    api = sign_up(gemini_app.test_client(), "g@example.com", "G")
    response = api.post_form("/api/generations", {
        "project_id": create_project(api), "mode": "sketch-to-real", "source_image": png_bytes((160, 120)),
        "candidates": "4"})
    generation_id = response.get_json()["generation"]["id"]
    assert run_job(gemini_app, generation_id) == "succeeded"
    assert len(read_generation(api, generation_id)["images"]) == 4
    assert gemini_server.most_in_flight == 4


def test_the_estimate_and_the_budget_count_every_call(gemini_app):
    lead = sign_up(gemini_app.test_client(), "lead@example.com", "Lead")
    designer = sign_up(gemini_app.test_client(), "designer@example.com", "Designer")
    one = pricing.estimate("gemini", candidates=1, input_images=1)
    four = pricing.estimate("gemini", candidates=4, input_images=1)
    assert four == pytest.approx(4 * one, abs=5e-4)  # each rounded to 4 places
    budget = round(2 * one, 4)
    assert lead.patch(f"/api/users/{designer.user['id']}", json={"monthly_budget_usd": budget}).status_code == 200
    project_id = create_project(designer)
    form = {"project_id": project_id, "mode": "sketch-to-real", "source_image": png_bytes((128, 96))}
    before = snapshot(gemini_app)
    assert_error(designer.post_form("/api/generations", {**form, "candidates": "4"}), 402, "BUDGET_EXCEEDED")
    assert snapshot(gemini_app) == before
    queued = designer.post_form("/api/generations", {**form, "candidates": "1"}).get_json()["generation"]
    assert queued["estimated_cost_usd"] == pytest.approx(one)


# --- the page -----------------------------------------------------------------------------------------------

def test_the_form_offers_candidates_and_sizes_and_sends_them(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    page = client.get(f"/projects/{project_id}/generate").get_data(as_text=True)
    assert re.findall(r'<option (?:selected )?value="(\d)"', page) == ["1", "2", "3", "4"]
    assert '<option selected value="2">' in page
    assert re.search(r'<input checked [^>]*name="image_size" type="radio" value="1K">', page)
    assert 'name="image_size" type="radio" value="2K"' in page
    assert f'data-character-images="{{&#34;{character_id}&#34;: 1}}"' in page  # the views the estimate counts
    generation_id = generate(client, project_id, character_id, candidates="3", image_size="2K")
    with app.app_context():
        generation = db.session.get(Generation, generation_id)
        assert (generation.candidates, generation.image_size) == (3, "2K")
    assert run_job(app, generation_id) == "succeeded"
    assert len(image_ids(client, generation_id)) == 3


def test_the_form_refuses_a_bad_choice(app, client, auth):
    auth.register()
    project_id = create_project(client)
    response = submit_generation(client, project_id, create_character(client, project_id), candidates="9")
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    response = submit_generation(client, project_id, None, mode="sketch-to-real", image_size="4K")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Generation)) == 0
