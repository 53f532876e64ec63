"""Nothing a designer did is lost (issue 13, item 1): uploads kept when a form comes back with an error,
one form one job, a form sent after the sign-in ended leads to sign-in and back, and a deleted image's
old links and buttons say so and lead to its generation."""
from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

from PIL import Image
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.jobs import tasks
from mockup.models import Generation, Image as ImageRow, StagedUpload, User, utcnow
from mockup.services import generations, staging, submissions

from .conftest import files_under, png_bytes
from .factories import create_character, create_project, finished_generation
from .pictures import irregular_mask, png
from .studio import ID, location, submit_generation, upload


def kept_id(page: str, field: str = "source_image") -> str:
    return re.search(rf'name="{field}_kept" value="({ID})"', page).group(1)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_form_error_keeps_the_photo_and_the_next_send_uses_it(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    refused = submit_generation(client, project_id, source_image=upload(png_bytes((320, 240)), "photo.jpg"))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Choose a registered character or upload one for this run." in page and "Kept: photo.jpg" in page
    staged_id = kept_id(page)
    thumbnail = client.get(f"/kept/{staged_id}/thumbnail")
    assert thumbnail.status_code == 200 and Image.open(BytesIO(thumbnail.data)).format == "JPEG"

    sent = client.post(f"/projects/{project_id}/generate", data={
        "mode": "ip-change", "character_id": character_id, "source_image_kept": staged_id,
    }, content_type="multipart/form-data")
    assert sent.status_code == 303
    with app.app_context():
        generation = db.session.get(Generation, location(sent).rsplit("/", 1)[1])
        with Image.open(f"{app.config['DATA_DIR']}/{generation.source_path}") as source:
            assert source.size == (320, 240)
    assert count(app, StagedUpload) == 0  # used up, with its files
    assert not any(rel.startswith("staging/") for rel in files_under(app.config["DATA_DIR"]))


def test_a_file_chosen_again_replaces_the_kept_one(app, client, auth):
    auth.register()
    project_id = create_project(client)
    first = submit_generation(client, project_id, source_image=upload(png_bytes((320, 240)), "old.png"))
    again = submit_generation(client, project_id, source_image=upload(png_bytes((200, 100)), "new.png"),
                              source_image_kept=kept_id(first.get_data(as_text=True)))
    page = again.get_data(as_text=True)
    assert "Kept: new.png" in page and "Kept: old.png" not in page


def test_the_character_form_keeps_its_picture(app, client, auth):
    auth.register()
    project_id = create_project(client)
    refused = client.post(f"/projects/{project_id}/characters", data={
        "name": "", "image": upload(png_bytes((90, 90)), "bunny.png")}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Kept: bunny.png" in refused.get_data(as_text=True)
    sent = client.post(f"/projects/{project_id}/characters", data={
        "name": "Bunny", "image_kept": kept_id(refused.get_data(as_text=True), "image")},
        content_type="multipart/form-data")
    assert sent.status_code == 303
    assert "Bunny" in client.get(location(sent)).get_data(as_text=True)


def test_a_refused_file_is_not_kept(app, client, auth):
    auth.register()
    project_id = create_project(client)
    refused = submit_generation(client, project_id, mode="sketch-to-real", source_image=upload(b"<svg></svg>", "photo.png"))
    assert refused.status_code == 415 and "_kept" not in refused.get_data(as_text=True)
    assert count(app, StagedUpload) == 0


def test_a_kept_upload_is_its_owners_alone(app, client, auth):
    auth.register()
    project_id = create_project(client)
    staged_id = kept_id(submit_generation(client, project_id).get_data(as_text=True))
    other = app.test_client()
    other.post("/auth/register", data={"email": "b@example.com", "name": "B", "password": "another secret",
                                       "confirm": "another secret"})
    assert other.get(f"/kept/{staged_id}/thumbnail").status_code == 404
    their_project = create_project(other)
    refused = other.post(f"/projects/{their_project}/generate", data={
        "mode": "sketch-to-real", "source_image_kept": staged_id}, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Choose an image file." in refused.get_data(as_text=True)


def test_kept_uploads_last_an_hour_and_the_reaper_sweeps_them(app):
    with app.app_context():
        owner = User(email="k@example.com", name="K", password_hash="x")
        db.session.add(owner)
        db.session.commit()
        old = staging.keep(owner.id, png_bytes((90, 90)), "old.png", now=utcnow() - timedelta(minutes=61))
        fresh = staging.keep(owner.id, png_bytes((90, 90)), "C:\\photos\\fresh.png")
        assert fresh.filename == "fresh.png"
        assert staging.get_kept(owner.id, old.id) is None and staging.get_kept(owner.id, fresh.id) is not None
        assert staging.get_kept(owner.id, fresh.id, now=utcnow() + timedelta(minutes=61)) is None
        tasks.reap_jobs.run()
        assert db.session.scalars(select(StagedUpload.id)).all() == [fresh.id]
        assert sorted(files_under(app.config["DATA_DIR"])) == sorted([fresh.path, fresh.thumbnail_path])


def form_token(client, project_id: str) -> str:
    page = client.get(f"/projects/{project_id}/generate").get_data(as_text=True)
    return re.search(rf'name="submission" type="hidden" value="({ID})"', page).group(1)


def test_the_same_form_sent_twice_opens_the_generation_it_made(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    token = form_token(client, project_id)
    first = submit_generation(client, project_id, character_id, submission=token)
    second = submit_generation(client, project_id, character_id, submission=token)
    assert first.status_code == second.status_code == 303 and location(first) == location(second)
    # Back restores no file: the form is still the one that made the generation.
    no_file = client.post(f"/projects/{project_id}/generate", data={"mode": "ip-change", "submission": token},
                          content_type="multipart/form-data")
    assert location(no_file) == location(first)
    assert count(app, Generation) == 1
    assert form_token(client, project_id) != token  # a new form, a new job
    assert location(submit_generation(client, project_id, character_id, submission=form_token(client, project_id))) != location(first)


def test_two_sends_racing_keep_the_first_generation_and_no_files(app, client, auth, monkeypatch):
    auth.register()
    project_id = create_project(client)
    token = form_token(client, project_id)
    first = submit_generation(client, project_id, mode="sketch-to-real", submission=token)
    files_before = files_under(app.config["DATA_DIR"])
    real = submissions.made_by
    seen = iter([None])  # the second request looks before the first commits, then commits after it
    monkeypatch.setattr(submissions, "made_by", lambda owner, t: next(seen, real(owner, t)))
    with app.app_context():
        owner_id = db.session.scalar(select(User.id))
        again = generations.submit_generation(owner_id, project_id, mode="sketch-to-real",
                                              source_image=png_bytes((90, 90)), submission=token)
        assert again.id == location(first).rsplit("/", 1)[1]
    assert files_under(app.config["DATA_DIR"]) == files_before and count(app, Generation) == 1


def test_a_damaged_token_is_refused(app, client, auth):
    auth.register()
    project_id = create_project(client)
    response = submit_generation(client, project_id, mode="sketch-to-real", submission="../../x")
    assert response.status_code == 422 and count(app, Generation) == 0


def test_a_form_sent_after_signing_out_leads_to_sign_in_and_back(app, client, auth):
    auth.register()
    project_id = create_project(client)
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/projects/{project_id}/generate").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/auth/logout", data={"csrf_token": csrf}).status_code == 303  # the other tab
    response = submit_generation(client, project_id, mode="sketch-to-real", csrf_token=csrf)
    assert response.status_code == 303
    assert location(response) == f"/auth/login?next=/projects/{project_id}/generate"
    login = client.get(location(response)).get_data(as_text=True)
    assert "Your sign-in had ended, so the form was not sent. Please sign in, then send it again." in login
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    signed_in = client.post("/auth/login", data={"email": "designer@example.com", "password": "correct horse",
                                                  "next": f"/projects/{project_id}/generate", "csrf_token": csrf})
    assert location(signed_in) == f"/projects/{project_id}/generate"
    assert count(app, Generation) == 0


def test_a_deleted_images_old_links_lead_to_its_generation(app, client, auth):
    auth.register()
    project_id = create_project(client)
    generation_id, (image_id, _) = finished_generation(app, client, project_id, create_character(client, project_id))
    client.post(f"/generations/{generation_id}/select", data={"image_id": image_id})
    client.post(f"/images/{image_id}/history", data={"note": ""})
    fragment = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert ("This image is the selected candidate and is in the project history. "
            "Deleting it removes it from the history too. Delete it?") in fragment
    assert client.post(f"/images/{image_id}/delete").status_code == 303

    page = client.get(f"/images/{image_id}")
    assert page.status_code == 404
    assert "This image was deleted." in page.get_data(as_text=True)
    assert f'href="/generations/{generation_id}"' in page.get_data(as_text=True)
    saved = client.post(f"/images/{image_id}/history", data={"note": "from an old tab"})
    assert saved.status_code == 303 and location(saved) == f"/generations/{generation_id}"
    assert "This image was deleted, so it was not saved to the project history." in client.get(
        location(saved)).get_data(as_text=True)
    selected = client.post(f"/generations/{generation_id}/select", data={"image_id": image_id})
    assert location(selected) == f"/generations/{generation_id}"

    other = app.test_client()  # someone else learns nothing from the id
    other.post("/auth/register", data={"email": "b@example.com", "name": "B", "password": "another secret",
                                       "confirm": "another secret"})
    page = other.get(f"/images/{image_id}")
    assert page.status_code == 404 and f"/generations/{generation_id}" not in page.get_data(as_text=True)


def test_the_same_edit_form_sent_twice_opens_the_edit_it_made(app, client, auth):
    auth.register()
    project_id = create_project(client)
    generation_id, (image_id, _) = finished_generation(app, client, project_id, create_character(client, project_id))
    page = client.get(f"/images/{image_id}").get_data(as_text=True)
    token = re.search(rf'name="submission" type="hidden" value="({ID})"', page).group(1)
    with app.app_context():
        size = db.session.get(ImageRow, image_id).width, db.session.get(ImageRow, image_id).height
    sent = [client.post(f"/images/{image_id}/edit", data={
        "prompt": "remove the logo", "mask": upload(png(irregular_mask(size)), "mask.png"), "submission": token,
    }, content_type="multipart/form-data") for _ in range(2)]
    assert sent[0].status_code == sent[1].status_code == 303 and location(sent[0]) == location(sent[1])
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Generation.job_type == "edit-image")) == 1
