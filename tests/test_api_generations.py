"""/api/generations: submit (202 + Location), follow (status, error, queue position), list images,
select a candidate, and region edits."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from mockup.engines.base import CONTENT_POLICY, EngineError
from mockup.extensions import db
from mockup.models import Generation

from .api_support import assert_error, assert_shape, submit
from .conftest import files_under, png_bytes
from .factories import create_character, create_project, finished_generation
from .job_runner import run_queued_jobs, use_engine


@pytest.fixture
def project_and_character(alice) -> tuple[str, str]:
    project_id = create_project(alice)
    return project_id, create_character(alice, project_id)


def test_submit_answers_202_with_location_and_the_queued_generation(alice, project_and_character):
    response = submit(alice, *project_and_character, transparent_background="true", preserve_structure="false")
    assert response.status_code == 202 and set(response.get_json()) == {"generation"}
    generation = response.get_json()["generation"]
    assert_shape(generation, "generation")
    assert response.headers["Location"] == f"/api/generations/{generation['id']}"
    assert (generation["status"], generation["queue_position"], generation["error"], generation["images"]) == (
        "queued", 1, None, [])
    assert (generation["mode"], generation["prompt"]) == ("ip-change", "glossy acrylic")
    assert generation["transparent_background"] is True and generation["preserve_structure"] is False
    second = submit(alice, *project_and_character).get_json()["generation"]
    assert second["queue_position"] == 2 and second["preserve_structure"] is True


def test_sketch_to_real_needs_no_character(alice):
    response = alice.post_form("/api/generations", {
        "project_id": create_project(alice), "mode": "sketch-to-real", "source_image": png_bytes((100, 100))})
    assert response.status_code == 202


def test_ip_change_accepts_a_one_off_character_image(alice):
    response = alice.post_form("/api/generations", {
        "project_id": create_project(alice), "mode": "ip-change", "source_image": png_bytes((100, 100)),
        "character_image": png_bytes((50, 50)), "texture_image": png_bytes((40, 40), (10, 200, 10))})
    assert response.status_code == 202


@pytest.mark.parametrize("overrides,status,code,field", [
    ({"mode": "oil-painting"}, 422, "VALIDATION", "mode"),
    ({"source_image": None}, 422, "VALIDATION", "source_image"),
    ({"character_id": None}, 422, "VALIDATION", "character_id"),
    ({"preserve_structure": "maybe"}, 422, "VALIDATION", "preserve_structure"),
    ({"project_id": ""}, 422, "VALIDATION", "project_id"),
    ({"prompt": "x" * 2001}, 422, "VALIDATION", "prompt"),
])
def test_submit_bad_input_names_the_field_and_writes_nothing(app, alice, project_and_character, overrides, status,
                                                            code, field):
    before = files_under(app.config["DATA_DIR"])
    assert_error(submit(alice, *project_and_character, **overrides), status, code, field)
    assert files_under(app.config["DATA_DIR"]) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Generation)) == 0


def test_submit_needs_multipart(alice, project_and_character):
    project_id, character_id = project_and_character
    response = alice.post("/api/generations", json={"project_id": project_id, "mode": "ip-change"})
    assert_error(response, 415, "UNSUPPORTED_MEDIA")


def test_a_full_queue_is_503_with_retry_after(app, alice, project_and_character):
    app.config["QUEUE_LIMIT"] = 1
    assert submit(alice, *project_and_character).status_code == 202
    response = submit(alice, *project_and_character)
    assert_error(response, 503, "QUEUE_FULL")
    assert int(response.headers["Retry-After"]) > 0


def test_get_follows_the_job_to_success(app, alice, project_and_character):
    generation_id = submit(alice, *project_and_character).get_json()["generation"]["id"]
    run_queued_jobs(app)
    response = alice.get(f"/api/generations/{generation_id}")
    assert response.status_code == 200 and set(response.get_json()) == {"generation"}
    generation = response.get_json()["generation"]
    assert_shape(generation, "generation")
    assert (generation["status"], generation["queue_position"], generation["error"]) == ("succeeded", None, None)
    assert generation["started_at"] and generation["finished_at"]
    assert [image["index"] for image in generation["images"]] == [0, 1]


class RefusingEngine:
    name = "refusing"

    def generate(self, request):
        raise EngineError(CONTENT_POLICY, "The model refused this request.")


def test_a_failed_job_reports_its_error(app, alice, project_and_character, monkeypatch):
    generation_id = submit(alice, *project_and_character).get_json()["generation"]["id"]
    use_engine(monkeypatch, lambda name, config: RefusingEngine())
    run_queued_jobs(app)
    generation = alice.get(f"/api/generations/{generation_id}").get_json()["generation"]
    assert generation["status"] == "failed"
    assert generation["error"] == {"code": CONTENT_POLICY, "message": "The model refused this request."}
    assert generation["images"] == []


def test_images_lists_the_candidates(app, alice, alices_generation):
    generation = alices_generation
    response = alice.get(f"/api/generations/{generation['id']}/images")
    assert response.status_code == 200 and response.get_json().keys() == {"items", "next_cursor"}
    items = response.get_json()["items"]
    assert items == generation["images"] and len(items) == 2
    for item in items:
        assert_shape(item, "image")


def test_select_keeps_one_selected_candidate(app, alice, alices_generation):
    generation = alices_generation
    first, second = (image["id"] for image in generation["images"])
    url = f"/api/generations/{generation['id']}/select"
    response = alice.post(url, json={"image_id": first})
    assert response.status_code == 200 and set(response.get_json()) == {"image"}
    assert_shape(response.get_json()["image"], "image")
    assert response.get_json()["image"]["selected"] is True
    alice.post(url, json={"image_id": second})
    selected = {image["id"]: image["selected"] for image in alice.get(f"/api/generations/{generation['id']}/images").get_json()["items"]}
    assert selected == {first: False, second: True}


def test_select_bad_input(app, alice, alices_generation, project_and_character):
    generation = alices_generation
    _, (other_image_id, _) = finished_generation(app, alice, *project_and_character)
    url = f"/api/generations/{generation['id']}/select"
    assert_error(alice.post(url, json={}), 422, "VALIDATION", "image_id")
    assert_error(alice.post(url, json={"image_id": other_image_id}), 404, "NOT_FOUND")


def edit_url(generation: dict) -> str:
    return f"/api/generations/{generation['id']}/edit"


def mask_png(size: tuple[int, int], white: bool = True, fmt: str = "PNG") -> bytes:
    mask = Image.new("L", size, 0)
    if white:
        mask.paste(255, (0, 0, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    mask.save(buffer, fmt)
    return buffer.getvalue()


def assert_nothing_written(app, before_files: list[str], before_count: int) -> None:
    assert files_under(app.config["DATA_DIR"]) == before_files
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Generation)) == before_count


def test_an_edit_answers_202_with_a_new_generation_of_the_edited_image(app, alice, alices_generation):
    generation = alices_generation
    image = generation["images"][0]
    region = {"x": 10, "y": 20, "width": image["width"] - 10, "height": 30}
    by_region = alice.post(edit_url(generation), json={"image_id": image["id"], "prompt": "make it blue", "region": region})
    by_mask = alice.post_form(edit_url(generation), {
        "image_id": image["id"], "prompt": "remove the logo", "mask": mask_png((image["width"], image["height"]))})
    for response, prompt in ((by_region, "make it blue"), (by_mask, "remove the logo")):
        assert response.status_code == 202, response.get_data(as_text=True)
        edit = response.get_json()["generation"]
        assert_shape(edit, "generation")
        assert response.headers["Location"] == f"/api/generations/{edit['id']}"
        assert (edit["status"], edit["parent_image_id"], edit["prompt"]) == ("queued", image["id"], prompt)
        assert edit["id"] != generation["id"] and edit["mode"] == generation["mode"]
    run_queued_jobs(app)
    for response in (by_region, by_mask):
        edit = alice.get(response.headers["Location"]).get_json()["generation"]
        assert edit["status"] == "succeeded" and len(edit["images"]) == 2
        assert {(item["width"], item["height"]) for item in edit["images"]} == {(image["width"], image["height"])}


def test_editing_another_users_image_is_not_found(app, alice, bob, alices_generation):
    generation = alices_generation
    image = generation["images"][0]
    before = files_under(app.config["DATA_DIR"])
    response = bob.post(edit_url(generation), json={
        "image_id": image["id"], "prompt": "blue", "region": {"x": 0, "y": 0, "width": 4, "height": 4}})
    assert_error(response, 404, "NOT_FOUND")
    assert_nothing_written(app, before, 1)


@pytest.mark.parametrize("region,field", [
    ({"x": 0, "y": 0, "width": 0, "height": 10}, "region"),
    ({"x": -1, "y": 0, "width": 10, "height": 10}, "region"),
    ({"x": 0, "y": 0, "width": 5000, "height": 10}, "region"),
    ({"x": 0, "y": 5000, "width": 10, "height": 1}, "region"),
    ({"x": "0", "y": 0, "width": 10, "height": 10}, "region.x"),
    ({"x": 0, "y": 0, "width": 1.5, "height": 10}, "region.width"),
    ({"x": 0, "y": 0, "width": 10}, "region.height"),
    ([0, 0, 10, 10], "region"),
])
def test_edit_refuses_a_bad_region(app, alice, region, field, alices_generation):
    generation = alices_generation
    image_id = generation["images"][0]["id"]
    response = alice.post(edit_url(generation), json={"image_id": image_id, "prompt": "blue", "region": region})
    assert_error(response, 422, "VALIDATION", field)


def test_edit_refuses_a_bad_mask_or_request(app, alice, alices_generation):
    generation = alices_generation
    image = generation["images"][0]
    size = (image["width"], image["height"])
    url = edit_url(generation)
    before = files_under(app.config["DATA_DIR"])
    cases = [
        (alice.post_form(url, {"image_id": image["id"], "prompt": "x", "mask": mask_png((10, 10))}), 422, "mask"),
        (alice.post_form(url, {"image_id": image["id"], "prompt": "x", "mask": mask_png(size, fmt="JPEG")}), 415, "mask"),
        (alice.post_form(url, {"image_id": image["id"], "prompt": "x", "mask": mask_png(size, white=False)}), 422, "mask"),
        (alice.post_form(url, {"image_id": image["id"], "prompt": "x"}), 422, "mask"),
        (alice.post(url, json={"image_id": image["id"], "prompt": "x"}), 422, "region"),
        (alice.post(url, json={"image_id": image["id"], "region": {"x": 0, "y": 0, "width": 1, "height": 1}}), 422, "prompt"),
        (alice.post(url, json={"prompt": "x", "region": {"x": 0, "y": 0, "width": 1, "height": 1}}), 422, "image_id"),
    ]
    for response, status, field in cases:
        assert_error(response, status, "VALIDATION" if status == 422 else "UNSUPPORTED_MEDIA", field)
    assert_nothing_written(app, before, 1)
