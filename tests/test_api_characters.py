"""/api/projects/:id/characters and /api/characters: register, list, pictures, delete."""
from __future__ import annotations

import io

from PIL import Image

from .api_support import assert_error, assert_shape
from .conftest import files_under, png_bytes
from .factories import CHARACTER_SIZE, create_character, create_project


def the_character(api, project_id: str) -> dict:
    """A new character of the project, as the API lists it."""
    character_id = create_character(api, project_id)
    [character] = api.get(f"/api/projects/{project_id}/characters").get_json()["items"]
    assert character["id"] == character_id
    return character


def test_register_answers_201_with_the_character(alice):
    project_id = create_project(alice)
    response = alice.post_form(f"/api/projects/{project_id}/characters", {"name": "Bunny", "image": png_bytes((90, 90))})
    assert response.status_code == 201 and set(response.get_json()) == {"character"}
    character = response.get_json()["character"]
    assert_shape(character, "character")
    assert character["project_id"] == project_id and character["name"] == "Bunny"
    assert character["image_url"] == f"/api/characters/{character['id']}/image"


def test_list_is_items_of_characters(alice):
    project_id = create_project(alice)
    created = alice.post_form(f"/api/projects/{project_id}/characters", {"name": "Bunny", "image": png_bytes((90, 90))})
    response = alice.get(f"/api/projects/{project_id}/characters")
    assert response.status_code == 200 and response.get_json().keys() == {"items", "next_cursor"}
    assert response.get_json()["items"] == [created.get_json()["character"]]


def test_picture_and_thumbnail_are_served_to_the_owner(alice):
    character = the_character(alice, create_project(alice))
    picture = alice.get(character["image_url"])
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert Image.open(io.BytesIO(picture.data)).size == CHARACTER_SIZE
    thumbnail = alice.get(character["thumbnail_url"])
    assert thumbnail.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.data)).size == (200, 200)


def test_register_bad_input_names_the_field(app, alice):
    url = f"/api/projects/{create_project(alice)}/characters"
    before = files_under(app.config["DATA_DIR"])
    assert_error(alice.post_form(url, {"image": png_bytes()}), 422, "VALIDATION", "name")
    assert_error(alice.post_form(url, {"name": "No picture"}), 422, "VALIDATION", "image")
    assert_error(alice.post_form(url, {"name": "Text", "image": b"just some text"}), 415, "UNSUPPORTED_MEDIA", "image")
    assert_error(alice.post_form(url, {"name": "Huge", "image": b"\x89PNG" + bytes(11 * 1024 * 1024)}),
                 413, "TOO_LARGE", "image")
    assert_error(alice.post(url, json={"name": "Json"}), 415, "UNSUPPORTED_MEDIA")
    assert files_under(app.config["DATA_DIR"]) == before


def test_delete_removes_the_character_and_its_files(app, alice):
    project_id = create_project(alice)
    character = the_character(alice, project_id)
    assert alice.delete(f"/api/characters/{character['id']}").status_code == 204
    assert alice.get(f"/api/projects/{project_id}/characters").get_json()["items"] == []
    assert_error(alice.get(character["image_url"]), 404, "NOT_FOUND")
    assert not any(name.startswith("characters/") for name in files_under(app.config["DATA_DIR"]))
