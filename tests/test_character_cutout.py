"""A character's background removal never damages it: the upload stays byte for byte, the cut-out is a
second file that keeps what the outline encloses, the user chooses which one mockups use, and undo goes
back to the original. Services are called directly; the pages and the API are checked at the end."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mockup import storage
from mockup.errors import Conflict, Invalid, NotFound
from mockup.extensions import db
from mockup.models import Character
from mockup.services import accounts, characters, generations, projects

from .conftest import files_under, png_bytes
from .factories import create_project
from .pictures import CHARACTER_EYE, character_art

CORNER = (2, 2)


@pytest.fixture
def owner(app):
    with app.app_context():
        user = accounts.register("c@example.com", "correct horse", "C")
        project = projects.create_project(user.id, "Plush")
        character = characters.create_character(user.id, project.id, "Bunny", character_art())
        return user.id, project.id, character.id


def stored(rel: str) -> bytes:
    return storage.read(rel)


def alpha_of(rel: str) -> np.ndarray:
    with Image.open(storage.resolve(rel)) as image:
        return np.asarray(image.getchannel("A"))


def test_removing_the_background_keeps_the_upload_and_adds_a_second_file(app, owner):
    user_id, _, character_id = owner
    with app.app_context():
        character = characters.get_character(user_id, character_id).first_image
        original = stored(character.image_path)
        original_thumbnail = stored(character.thumbnail_path)

        character = characters.remove_background(user_id, character_id).first_image

        assert stored(character.image_path) == original
        assert stored(character.thumbnail_path) == original_thumbnail
        assert character.cutout_path == storage.character_cutout(character.image_path) != character.image_path
        assert character.use_cutout and character.picture_path == character.cutout_path
        alpha = alpha_of(character.cutout_path)
        assert alpha[CORNER[1], CORNER[0]] == 0
        assert alpha[CHARACTER_EYE[1], CHARACTER_EYE[0]] == 255, "the white eye inside the outline must stay"
        assert storage.exists(storage.thumbnail(character.cutout_path))


def test_undo_restores_the_original_and_removes_the_cutout(app, owner):
    user_id, _, character_id = owner
    with app.app_context():
        original = stored(characters.get_character(user_id, character_id).first_image.image_path)
        cutout = characters.remove_background(user_id, character_id).first_image.cutout_path
        before_undo = set(files_under(app.config["DATA_DIR"]))

        character = characters.undo_background_removal(user_id, character_id).first_image

        assert character.cutout_path is None and not character.use_cutout
        assert character.picture_path == character.image_path
        assert stored(character.image_path) == original
        assert before_undo - set(files_under(app.config["DATA_DIR"])) == {cutout, storage.thumbnail(cutout)}
        with pytest.raises(Conflict):
            characters.undo_background_removal(user_id, character_id)


def test_the_chosen_picture_is_the_one_a_generation_copies(app, owner):
    user_id, project_id, character_id = owner

    def submitted_character() -> bytes:
        generation = generations.submit_generation(
            user_id, project_id, mode="ip-change", source_image=png_bytes((120, 90)), character_id=character_id)
        return stored(generation.character_path)

    with app.app_context():
        character = characters.remove_background(user_id, character_id).first_image
        original, cutout = stored(character.image_path), stored(character.cutout_path)
        assert submitted_character() == cutout
        assert not characters.use_picture(user_id, character_id, characters.ORIGINAL).first_image.use_cutout
        assert submitted_character() == original
        assert characters.use_picture(user_id, character_id, characters.CUTOUT).first_image.use_cutout
        assert submitted_character() == cutout


def test_refusals_change_nothing(app, owner):
    user_id, _, character_id = owner
    with app.app_context():
        with pytest.raises(Conflict):
            characters.use_picture(user_id, character_id, characters.CUTOUT)
        with pytest.raises(Invalid):
            characters.use_picture(user_id, character_id, "sepia")
        with pytest.raises(NotFound):
            characters.picture_file(user_id, character_id, characters.CUTOUT)
        files = files_under(app.config["DATA_DIR"])
        characters.remove_background(user_id, character_id)
        with pytest.raises(Conflict):
            characters.remove_background(user_id, character_id)
        assert len(files_under(app.config["DATA_DIR"])) == len(files) + 2


def test_a_transparent_upload_is_not_cut_again(app, owner):
    user_id, project_id, _ = owner
    cut = Image.new("RGBA", (80, 80), (0, 0, 0, 0))
    ImageDraw.Draw(cut).ellipse((10, 10, 70, 70), fill=(200, 30, 30, 255))
    buffer = io.BytesIO()
    cut.save(buffer, "PNG")
    with app.app_context():
        character = characters.create_character(user_id, project_id, "Cut", buffer.getvalue())
        with pytest.raises(Conflict):
            characters.remove_background(user_id, character.id)
        assert db.session.get(Character, character.id).first_image.cutout_path is None


def test_deleting_the_character_removes_both_files(app, owner):
    user_id, _, character_id = owner
    with app.app_context():
        characters.remove_background(user_id, character_id)
        characters.delete_character(user_id, character_id)
        assert files_under(app.config["DATA_DIR"]) == []


def test_deleting_the_project_removes_the_cutout_too(app, owner):
    user_id, project_id, character_id = owner
    with app.app_context():
        characters.remove_background(user_id, character_id)
        projects.delete_project(user_id, project_id)
        assert [name for name in files_under(app.config["DATA_DIR"]) if name.startswith("characters/")] == []


def test_the_pages_show_both_pictures_and_serve_the_one_in_use(app, client, auth):
    auth.register()
    project_id = create_project(client)
    response = client.post(f"/projects/{project_id}/characters", data={
        "name": "Bunny", "image": (io.BytesIO(character_art()), "bunny.png")}, content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        character_id = db.session.scalar(db.select(Character.id))
    uploaded = client.get(f"/characters/{character_id}/image").data

    removed = client.post(f"/characters/{character_id}/cutout", data={"next": f"/projects/{project_id}/characters"},
                          follow_redirects=True)
    page = removed.get_data(as_text=True)
    assert "The original picture is kept." in page
    assert f"/characters/{character_id}/thumbnail/original" in page and f"/characters/{character_id}/image/cutout" in page
    in_use = Image.open(io.BytesIO(client.get(f"/characters/{character_id}/image").data))
    assert in_use.mode == "RGBA" and in_use.getchannel("A").getpixel(CORNER) == 0
    assert client.get(f"/characters/{character_id}/image/original").data == uploaded

    client.post(f"/characters/{character_id}/use/original", data={})
    assert client.get(f"/characters/{character_id}/image").data == uploaded
    assert client.get(f"/characters/{character_id}/use/sepia").status_code == 405

    client.post(f"/characters/{character_id}/cutout/undo", data={})
    assert client.get(f"/characters/{character_id}/image/cutout").status_code == 404
    assert client.get(f"/characters/{character_id}/image").data == uploaded
    assert "Remove background" in client.get(f"/projects/{project_id}/characters").get_data(as_text=True)


def test_the_api_image_url_is_the_picture_in_use(app, alice):
    project_id = create_project(alice)
    character = alice.post_form(f"/api/projects/{project_id}/characters",
                                {"name": "Bunny", "image": character_art()}).get_json()["character"]
    before = alice.get(character["image_url"]).data
    with app.app_context():
        owner_id = db.session.get(Character, character["id"]).project.owner_id
        characters.remove_background(owner_id, character["id"])
    after = Image.open(io.BytesIO(alice.get(character["image_url"]).data))
    assert after.mode == "RGBA" and after.getchannel("A").getpixel(CORNER) == 0
    thumbnail = alice.get(character["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    with app.app_context():
        characters.undo_background_removal(owner_id, character["id"])
    assert alice.get(character["image_url"]).data == before
