"""Storage that grows knowingly, on SQLite and PostgreSQL: each row keeps the bytes of its files as they
are written, usage (API, the admins' page, the account page) adds them up per person and project, a
quota refuses new generations before anything is stored, and `flask storage orphans` finds and removes
the files no row refers to, never one a row refers to."""
from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mockup import storage
from mockup.extensions import db
from mockup.models import Character, CharacterImage, Generation, Image, StagedUpload
from mockup.services import staging, storage_usage

from .api_support import assert_error, sign_up
from .conftest import files_under, png_bytes, snapshot
from .factories import create_character, create_project, finished_generation
from .studio import upload

DAY = 24 * 3600


@pytest.fixture
def app_config(config_on_each_database):
    return config_on_each_database


@pytest.fixture
def made(app, alice) -> dict:
    """Alice's project with a character and one finished generation of two candidates."""
    project_id = create_project(alice, "Stands")
    character_id = create_character(alice, project_id)
    generation_id, image_ids = finished_generation(app, alice, project_id, character_id)
    return {"project": project_id, "character": character_id, "generation": generation_id, "images": image_ids}


def on_disk(app) -> int:
    """What every stored file in DATA_DIR takes, measured by walking it."""
    with app.app_context():
        return storage.size(*storage.stored_files())


def test_each_row_keeps_the_bytes_of_its_files(app, alice, made):
    with app.app_context():
        image = db.session.get(Image, made["images"][0])
        assert image.stored_bytes == storage.size(image.path, image.thumbnail_path) > 0
        generation = db.session.get(Generation, made["generation"])
        assert generation.stored_bytes == storage.size(generation.source_path, generation.character_path) > 0
        picture = db.session.get(Character, made["character"]).first_image
        assert picture.stored_bytes == storage.size(picture.image_path, picture.thumbnail_path) > 0
        assert storage_usage.used_bytes(alice.user["id"]) == on_disk(app)


def test_usage_reports_bytes_per_person_and_project(app, alice, made):
    body = alice.get("/api/usage").get_json()
    assert body["storage_bytes"] == on_disk(app) and body["storage_quota_bytes"] is None
    [row] = body["items"]
    assert row["project_id"] == made["project"] and row["bytes"] == body["storage_bytes"]
    bob = sign_up(app.test_client(), "bob@example.com", "Bob")
    assert bob.get("/api/usage").get_json()["storage_bytes"] == 0


def test_the_account_and_admin_pages_show_what_files_take(app, client, auth):
    auth.register("admin@example.com", name="Admin")  # the first account is the admin
    auth.login("admin@example.com")
    project_id = create_project(client, "Mugs")
    finished_generation(app, client, project_id, create_character(client, project_id))
    used = on_disk(app)
    human = storage_usage.human(used)
    account = client.get("/account").get_data(as_text=True)
    assert f"Your files take {human}." in account and f'data-bytes="{used}"' in account
    usage_page = client.get("/admin/usage").get_data(as_text=True)
    assert "Mugs" in usage_page and f'data-bytes="{used}"' in usage_page


def test_downloads_converted_later_count_and_deleting_frees(app, alice, made):
    before = alice.get("/api/usage").get_json()["storage_bytes"]
    assert alice.get(f"/api/images/{made['images'][0]}/download?format=webp").status_code == 200
    grown = alice.get("/api/usage").get_json()["storage_bytes"]
    assert grown > before and grown == on_disk(app)
    assert alice.delete(f"/api/images/{made['images'][0]}").status_code == 204
    assert alice.get("/api/usage").get_json()["storage_bytes"] == on_disk(app) < before


def test_over_the_quota_new_generations_are_refused_before_anything_is_written(app, alice, made):
    used = alice.get("/api/usage").get_json()["storage_bytes"]
    app.config["STORAGE_QUOTA_GB"] = used / storage_usage.GB  # exactly full
    before = snapshot(app)
    refused = alice.post_form("/api/generations", {
        "project_id": made["project"], "mode": "ip-change", "character_id": made["character"],
        "source_image": png_bytes((160, 120)), "prompt": "glossy"})
    error = assert_error(refused, 409, "CONFLICT")
    assert error["fields"] == {"storage_bytes": used, "quota_bytes": used}
    assert f"Your files take {storage_usage.human(used)} of your storage quota of {storage_usage.human(used)}" \
        in error["message"]
    edit = alice.post(f"/api/generations/{made['generation']}/edit", json={
        "image_id": made["images"][0], "prompt": "blue", "region": {"x": 0, "y": 0, "width": 8, "height": 8}})
    assert_error(edit, 409, "CONFLICT")
    assert snapshot(app) == before
    assert alice.get("/api/usage").get_json()["storage_quota_bytes"] == used
    app.config["STORAGE_QUOTA_GB"] = 2 * used / storage_usage.GB
    again = alice.post_form("/api/generations", {
        "project_id": made["project"], "mode": "sketch-to-real", "source_image": png_bytes((160, 120)),
        "prompt": "plush"})
    assert again.status_code == 202


def test_the_generate_page_says_the_quota_is_full(app, client, auth):
    auth.register()
    auth.login()
    project_id = create_project(client, "Mugs")
    character_id = create_character(client, project_id)
    app.config["STORAGE_QUOTA_GB"] = 1 / storage_usage.GB  # one byte: the character already fills it
    response = client.post(f"/projects/{project_id}/generate", data={
        "mode": "ip-change", "character_id": character_id, "prompt": "glossy",
        "source_image": upload(png_bytes((160, 120)), "source.png")},
        content_type="multipart/form-data")
    assert response.status_code == 409
    assert "of your storage quota of 1 Byte" in response.get_data(as_text=True)


def age(app, *rels: str, seconds: float = DAY) -> None:
    with app.app_context():
        for rel in rels:
            then = time.time() - seconds
            os.utime(storage.resolve(rel), (then, then))


def write(app, rel: str, data: bytes = b"x" * 100) -> str:
    with app.app_context():
        storage.write_atomic(rel, data)
    return rel


def test_orphans_are_listed_then_removed_and_referred_files_never(app, alice, made, runner):
    user, project = alice.user["id"], made["project"]
    assert alice.get(f"/api/images/{made['images'][0]}/download?format=jpeg").status_code == 200
    with app.app_context():
        kept = staging.keep(user, png_bytes((64, 64)), "kept.png")
        referred = storage_usage.referred_files()
        assert {kept.path, kept.thumbnail_path} <= referred
    strays = [write(app, f"generations/{user}/{project}/{'a' * 32}/output_0.png"),
              write(app, f"uploads/{user}/{project}/{'b' * 32}.jpg", b"y" * 250),
              write(app, f"upscaled/{'c' * 32}_2k.png")]
    young = write(app, f"uploads/{user}/{project}/{'d' * 32}.png")
    installation = Path(app.config["DATA_DIR"]) / "metrics" / "web-host" / "counter_1.db"
    installation.parent.mkdir(parents=True)
    installation.write_bytes(b"values")
    with app.app_context():
        every_referred = sorted(rel for rel in storage.stored_files() if rel in referred)
    age(app, *strays, *every_referred)  # old enough to be looked at, like everything else
    listed = runner.invoke(args=["storage", "orphans"])
    assert listed.exit_code == 0, listed.output
    assert f"250\tuploads/{user}/{project}/{'b' * 32}.jpg" in listed.output
    assert "Found 3 files no row refers to, 450 Bytes. Run again with --delete" in listed.output
    assert young not in listed.output
    everything = files_under(app.config["DATA_DIR"])
    removed = runner.invoke(args=["storage", "orphans", "--delete"])
    assert "Removed 3 files no row refers to, 450 Bytes." in removed.output
    left = files_under(app.config["DATA_DIR"])
    assert sorted(set(everything) - set(left)) == sorted(strays)
    with app.app_context():
        assert all(storage.exists(rel) for rel in every_referred) and storage.exists(young)
        assert db.session.scalar(select(StagedUpload.id)) == kept.id
    assert installation.read_bytes() == b"values"
    assert "Found 0 files" in runner.invoke(args=["storage", "orphans"]).output


def test_recount_measures_rows_again(app, alice, made, runner):
    used = alice.get("/api/usage").get_json()["storage_bytes"]
    with app.app_context():
        for model in (Image, Generation, CharacterImage):
            db.session.execute(update(model).values(stored_bytes=0))
        db.session.commit()
    assert alice.get("/api/usage").get_json()["storage_bytes"] == 0
    result = runner.invoke(args=["storage", "recount"])
    assert "4 counts changed" in result.output, result.output
    assert alice.get("/api/usage").get_json()["storage_bytes"] == used


def test_every_view_a_generation_copied_is_referred_to_and_counted(app, alice):
    """A character sheet of two views: the generation's copies of both are its files, so the orphan
    command leaves them and its stored bytes count them."""
    project_id = create_project(alice)
    character_id = create_character(alice, project_id)
    added = alice.post(f"/api/characters/{character_id}/images", data={
        "image": (io.BytesIO(png_bytes((200, 200), (20, 90, 200))), "side.png"), "view": "side"},
        content_type="multipart/form-data")
    assert added.status_code == 201
    generation_id, _ = finished_generation(app, alice, project_id, character_id)
    with app.app_context():
        generation = db.session.get(Generation, generation_id)
        copies = [view["path"] for view in generation.character_views]
        assert len(copies) == 2 and all(storage.exists(rel) for rel in copies)
        assert generation.stored_bytes >= storage.size(*copies)
        later = storage_usage.utcnow() + 2 * storage_usage.ORPHAN_MIN_AGE
        assert [orphan.path for orphan in storage_usage.orphans(later)] == []


def test_a_batch_counts_each_shared_source_and_sheet_once(app, alice):
    """A 2 x 2 batch stores each source once for its row and each character's sheet once for its column;
    the owner's bytes count every stored file exactly once, as `recount` does."""
    project_id = create_project(alice)
    character_ids = [create_character(alice, project_id, name) for name in ("Bunny", "Fox")]
    answer = alice.post("/api/batches", data={
        "project_id": project_id, "mode": "ip-change", "character_id": character_ids,
        "source_image": [(io.BytesIO(png_bytes((160, 120), colour)), f"p{number}.png")
                         for number, colour in enumerate(((200, 40, 40), (40, 40, 200)))]},
        content_type="multipart/form-data")
    assert answer.status_code == 202, answer.get_json()
    with app.app_context():
        files = {rel for model in (Generation, CharacterImage) for row in db.session.scalars(select(model))
                 for rel in storage_usage._FILES_OF[model](row)}
        assert storage_usage.used_bytes(alice.user["id"]) == storage.size(*files) > 0
