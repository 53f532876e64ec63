"""Character sheets (shared/API.md, "Character sheets"): 1 to 5 reference images per character, each
with its view, and a description; the services, the API, the characters page, the backup, and what the
image model receives (every view's bytes and the description, named by position in the prompt)."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from mockup import storage
from mockup.engines import pricing
from mockup.errors import Conflict, Invalid, NotFound
from mockup.extensions import db
from mockup.models import Character
from mockup.services import accounts, characters, generations, projects

from .api_support import assert_error, assert_shape
from .conftest import files_under, png_bytes, snapshot
from .factories import create_character, create_project
from .job_runner import run_job
from .studio import generate, location

# Each view a picture of its own colour, so the bytes the model receives can be told apart.
VIEW_COLOURS = {"front": (250, 120, 160), "side": (40, 160, 90), "back": (30, 60, 220)}


def view_picture(view: str) -> bytes:
    return png_bytes((240, 240), VIEW_COLOURS[view])


@pytest.fixture
def sheet(app):
    """A project with a character whose sheet has a front, a side and a back view and a description."""
    with app.app_context():
        user = accounts.register("s@example.com", "correct horse", "S")
        project = projects.create_project(user.id, "Plush")
        character = characters.create_character(user.id, project.id, "Bunny", view_picture("front"),
                                                 description="A white rabbit with a red bow tie.")
        for view in ("side", "back"):
            characters.add_image(user.id, character.id, view_picture(view), view)
        return user.id, project.id, character.id


# --- the services --------------------------------------------------------------------------------------------

def test_a_sheet_keeps_its_views_in_order_with_the_description(app, sheet):
    user_id, _, character_id = sheet
    with app.app_context():
        character = characters.get_character(user_id, character_id)
        assert [image.view for image in character.images] == ["front", "side", "back"]
        assert character.description == "A white rabbit with a red bow tie."
        for image in character.images:
            assert storage.exists(image.image_path) and storage.exists(image.thumbnail_path)


def test_at_most_five_pictures_and_the_last_one_stays(app, sheet):
    user_id, _, character_id = sheet
    with app.app_context():
        for view in ("expression", "other"):
            characters.add_image(user_id, character_id, view_picture("front"), view)
        files = files_under(app.config["DATA_DIR"])
        with pytest.raises(Conflict):
            characters.add_image(user_id, character_id, view_picture("front"), "side")
        assert files_under(app.config["DATA_DIR"]) == files
        ids = [image.id for image in characters.get_character(user_id, character_id).images]
        for image_id in ids[:-1]:
            characters.delete_image(user_id, character_id, image_id)
        with pytest.raises(Conflict):
            characters.delete_image(user_id, character_id, ids[-1])
        remaining = characters.get_character(user_id, character_id).images
        assert [image.id for image in remaining] == ids[-1:]
        assert sorted(files_under(app.config["DATA_DIR"])) == sorted(
            [remaining[0].image_path, remaining[0].thumbnail_path])


def test_refused_views_and_descriptions_write_nothing(app, sheet):
    user_id, project_id, character_id = sheet
    before = snapshot(app)
    with app.app_context():
        with pytest.raises(Invalid) as bad_view:
            characters.add_image(user_id, character_id, view_picture("side"), "top")
        assert "view" in bad_view.value.fields
        with pytest.raises(Invalid) as long_words:
            characters.update_character(user_id, character_id, description="x" * 1001)
        assert "description" in long_words.value.fields
        with pytest.raises(Invalid):
            characters.create_character(user_id, project_id, "Fox", view_picture("front"), view="top")
        with pytest.raises(NotFound):
            characters.delete_image(user_id, character_id, "0" * 32)
        db.session.rollback()
    assert snapshot(app) == before


def test_deleting_a_view_removes_its_files_and_the_character_all_of_them(app, sheet):
    user_id, _, character_id = sheet
    with app.app_context():
        side = characters.get_character(user_id, character_id).images[1]
        side_files = {side.image_path, side.thumbnail_path}
        characters.delete_image(user_id, character_id, side.id)
        assert not side_files & set(files_under(app.config["DATA_DIR"]))
        characters.delete_character(user_id, character_id)
    assert not any(name.startswith("characters/") for name in files_under(app.config["DATA_DIR"]))


def test_a_generation_copies_every_view_and_prices_them(app, sheet):
    user_id, project_id, character_id = sheet
    app.config["MOCKUP_ENGINE"] = "gemini"  # priced; the job is not run here
    with app.app_context():
        generation = generations.submit_generation(
            user_id, project_id, mode="ip-change", source_image=png_bytes((160, 120)), character_id=character_id,
            candidates=3)
        assert [view["view"] for view in generation.views] == ["front", "side", "back"]
        assert [storage.read(view["path"]) for view in generation.views] == [
            storage.read(image.picture_path) for image in characters.get_character(user_id, character_id).images]
        assert generation.character_path == generation.views[0]["path"]
        assert generation.character_description == "A white rabbit with a red bow tie."
        # The source and three views, three calls.
        assert generation.estimated_cost_usd == pricing.estimate("gemini", candidates=3, input_images=4)


def test_the_local_engine_uses_the_first_view(app, sheet):
    user_id, project_id, character_id = sheet
    with app.app_context():
        generation = generations.submit_generation(
            user_id, project_id, mode="ip-change", source_image=png_bytes((160, 120)), character_id=character_id)
        assert run_job(app, generation.id) == "succeeded"


# The backup: tests/test_backup.py fills every table (character_images too) and restores each row and file.


# --- what the image model receives --------------------------------------------------------------------------

def test_the_model_receives_every_view_and_the_description(gemini_app, gemini_server, sheet):
    user_id, project_id, character_id = sheet
    source = png_bytes((160, 120), (10, 10, 10))
    with gemini_app.app_context():
        generation = generations.submit_generation(
            user_id, project_id, mode="ip-change", source_image=source, character_id=character_id, candidates=1)
        assert run_job(gemini_app, generation.id) == "succeeded"
    [request] = gemini_server.requests
    sent = [Image.open(io.BytesIO(data)).convert("RGB") for _, data in request.images]
    assert len(sent) == 4  # the source, then front, side and back
    assert [image.getpixel((120, 120)) for image in sent[1:]] == list(VIEW_COLOURS.values())
    [prompt] = request.texts
    assert "Images 2 to 4 are reference pictures of the licensed IP character" in prompt
    assert "image 2 shows the front view; image 3 shows a side view; image 4 shows the back view" in prompt
    assert "About the character: A white rabbit with a red bow tie." in prompt


# --- the API ---------------------------------------------------------------------------------------------

def test_api_register_with_a_view_and_description_then_grow_the_sheet(app, alice):
    project_id = create_project(alice)
    created = alice.post_form(f"/api/projects/{project_id}/characters", {
        "name": "Bunny", "image": view_picture("side"), "view": "side", "description": "Long ears"})
    assert created.status_code == 201
    character = created.get_json()["character"]
    assert_shape(character, "character")
    assert character["description"] == "Long ears"
    [first] = character["images"]
    assert first["view"] == "side" and set(first) == {"id", "view", "url", "thumbnail_url"}

    added = alice.post_form(f"/api/characters/{character['id']}/images", {"image": view_picture("back"), "view": "back"})
    assert added.status_code == 201
    sheet = added.get_json()["character"]
    assert [image["view"] for image in sheet["images"]] == ["side", "back"]
    back = alice.get(sheet["images"][1]["url"])
    assert back.mimetype == "image/png"
    assert Image.open(io.BytesIO(back.data)).convert("RGB").getpixel((120, 120)) == VIEW_COLOURS["back"]
    assert Image.open(io.BytesIO(alice.get(sheet["images"][1]["thumbnail_url"]).data)).size == (200, 200)
    # image_url stays the first one's.
    assert alice.get(sheet["image_url"]).data == alice.get(sheet["images"][0]["url"]).data


def test_api_patch_renames_and_describes(alice):
    project_id = create_project(alice)
    character_id = create_character(alice, project_id)
    response = alice.patch(f"/api/characters/{character_id}", json={"description": "A calm fox"})
    assert response.status_code == 200
    assert response.get_json()["character"]["description"] == "A calm fox"
    assert response.get_json()["character"]["name"] == "Bunny"
    renamed = alice.patch(f"/api/characters/{character_id}", json={"name": "Fox"}).get_json()["character"]
    assert (renamed["name"], renamed["description"]) == ("Fox", "A calm fox")
    assert_error(alice.patch(f"/api/characters/{character_id}", json={"description": "x" * 1001}), 422, "VALIDATION")
    assert_error(alice.patch(f"/api/characters/{character_id}", json={"name": ""}), 422, "VALIDATION")


def test_api_limits_conflict_and_bad_views_write_nothing(app, alice):
    project_id = create_project(alice)
    character_id = create_character(alice, project_id)
    url = f"/api/characters/{character_id}/images"
    [only] = alice.get(f"/api/projects/{project_id}/characters").get_json()["items"][0]["images"]
    assert_error(alice.delete(f"{url}/{only['id']}"), 409, "CONFLICT")
    before = snapshot(app)
    assert_error(alice.post_form(url, {"image": view_picture("side"), "view": "top"}), 422, "VALIDATION", "view")
    assert_error(alice.post_form(url, {"view": "side"}), 422, "VALIDATION", "image")
    assert_error(alice.post_form(url, {"image": b"not a picture", "view": "side"}), 415, "UNSUPPORTED_MEDIA")
    assert snapshot(app) == before
    for _ in range(4):
        assert alice.post_form(url, {"image": view_picture("side"), "view": "side"}).status_code == 201
    before = snapshot(app)
    assert_error(alice.post_form(url, {"image": view_picture("side"), "view": "side"}), 409, "CONFLICT")
    assert snapshot(app) == before
    images = alice.get(f"/api/projects/{project_id}/characters").get_json()["items"][0]["images"]
    assert alice.delete(f"{url}/{images[0]['id']}").status_code == 204
    assert_error(alice.get(images[0]["url"]), 404, "NOT_FOUND")
    left = alice.get(f"/api/projects/{project_id}/characters").get_json()["items"][0]
    assert len(left["images"]) == 4 and left["image_url"]
    assert alice.get(left["image_url"]).data == alice.get(left["images"][0]["url"]).data


def test_api_strangers_see_nothing(alice, bob):
    project_id = create_project(alice)
    character_id = create_character(alice, project_id)
    [image] = alice.get(f"/api/projects/{project_id}/characters").get_json()["items"][0]["images"]
    assert_error(bob.get(image["url"]), 404, "NOT_FOUND")
    assert_error(bob.patch(f"/api/characters/{character_id}", json={"name": "Mine"}), 404, "NOT_FOUND")
    assert_error(bob.delete(f"/api/characters/{character_id}/images/{image['id']}"), 404, "NOT_FOUND")


# --- the page -----------------------------------------------------------------------------------------------

def test_the_page_shows_the_sheet_and_edits_it(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    page_url = f"/projects/{project_id}/characters"
    added = client.post(f"/characters/{character_id}/images", data={
        "image": (io.BytesIO(view_picture("side")), "side.png"), "view": "side"}, content_type="multipart/form-data")
    assert added.status_code == 303 and location(added).startswith(page_url)
    page = client.get(page_url).get_data(as_text=True)
    with app.app_context():
        images = db.session.get(Character, character_id).images
    for number, (image, label) in enumerate(zip(images, ("Front", "Side")), start=1):
        thumbnail = f"/characters/{character_id}/images/{image.id}/thumbnail"
        assert f'src="{thumbnail}"' in page and f"{number}. {label}" in page
        assert client.get(thumbnail).mimetype == "image/jpeg"
    assert "Add a view" in page and f"/characters/{character_id}/images/{images[1].id}/delete" in page

    saved = client.post(f"/characters/{character_id}/edit", data={"name": "Bunny", "description": "Red bow tie"})
    assert saved.status_code == 303
    assert "Red bow tie" in client.get(page_url).get_data(as_text=True)

    removed = client.post(f"/characters/{character_id}/images/{images[1].id}/delete", data={})
    assert removed.status_code == 303
    page = client.get(page_url).get_data(as_text=True)
    assert f"/images/{images[1].id}/thumbnail" not in page
    # The last picture cannot go: the page says why, and it stays.
    refused = client.post(f"/characters/{character_id}/images/{images[0].id}/delete", data={}, follow_redirects=True)
    assert "only picture" in refused.get_data(as_text=True)
    assert f"/images/{images[0].id}/thumbnail" in refused.get_data(as_text=True)


def test_the_sheet_and_the_generate_choices_speak_korean(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    korean = {"Accept-Language": "ko"}
    with app.app_context():
        [only] = db.session.get(Character, character_id).images
        only_id = only.id
    refused = client.post(f"/characters/{character_id}/images/{only_id}/delete", headers=korean, follow_redirects=True)
    assert "캐릭터의 유일한 사진입니다. 삭제하려면 먼저 다른 사진을 추가하세요." in refused.get_data(as_text=True)
    client.post(f"/characters/{character_id}/images", data={
        "image": (io.BytesIO(view_picture("back")), "back.png"), "view": "back"}, content_type="multipart/form-data")
    page = client.get(f"/projects/{project_id}/characters", headers=korean).get_data(as_text=True)
    for words in ("1. 정면", "2. 뒷면", "시점 추가", "이름과 설명 편집", "설명 (선택)"):
        assert words in page
    form = client.get(f"/projects/{project_id}/generate", headers=korean).get_data(as_text=True)
    assert "2K (2048 px, 같은 가격)" in form and "목업 만들기" in form


def test_the_generation_page_shows_each_view_it_sent(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    client.post(f"/characters/{character_id}/images", data={
        "image": (io.BytesIO(view_picture("side")), "side.png"), "view": "side"}, content_type="multipart/form-data")
    client.post(f"/characters/{character_id}/edit", data={"name": "Bunny", "description": "Red bow tie"})
    generation_id = generate(client, project_id, character_id)
    page = client.get(f"/generations/{generation_id}").get_data(as_text=True)
    assert 'data-character-view="front"' in page and 'data-character-view="side"' in page
    assert "Red bow tie" in page
    side = client.get(f"/generations/{generation_id}/views/1")
    assert side.status_code == 200
    assert Image.open(io.BytesIO(side.data)).convert("RGB").getpixel((120, 120)) == VIEW_COLOURS["side"]
    assert client.get(f"/generations/{generation_id}/views/2").status_code == 404
