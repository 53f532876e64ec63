"""Projects: list, create, overview, edit, delete."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Character, Generation, Image, Project, User

from .conftest import files_under
from .factories import create_character, create_project, finished_generation
from .studio import location


@pytest.fixture
def signed_in(auth):
    auth.register()
    return auth


def test_home_goes_to_projects_or_login(client, auth):
    assert location(client.get("/")) == "/auth/login"
    auth.register()
    assert location(client.get("/")) == "/projects"


def test_create_and_list(client, signed_in):
    assert "No projects yet" in client.get("/projects").get_data(as_text=True)
    project_id = create_project(client, "Acrylic stands", "Convention 2026")
    body = client.get("/projects").get_data(as_text=True)
    assert "Acrylic stands" in body and "Convention 2026" in body
    assert f"/projects/{project_id}" in body


def test_create_with_bad_input_shows_errors(client, app, signed_in):
    response = client.post("/projects", data={"name": "   ", "description": "x"})
    assert response.status_code == 422
    assert "Enter a project name of 1 to 100 characters." in response.get_data(as_text=True)
    too_long = client.post("/projects", data={"name": "n" * 101})
    assert too_long.status_code == 422 and "Use at most 100 characters." in too_long.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_detail_shows_characters_generations_and_links(app, client, signed_in):
    project_id = create_project(client)
    character_id = create_character(client, project_id, "Bunny")
    generation_id, image_ids = finished_generation(app, client, project_id, character_id)
    body = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "Bunny" in body and f"/characters/{character_id}/thumbnail" in body
    assert f"/generations/{generation_id}" in body
    assert all(f"/images/{image_id}/thumbnail" in body for image_id in image_ids)
    assert f"/projects/{project_id}/history" in body
    assert f"/projects/{project_id}/generate" in body


def test_edit(client, signed_in):
    project_id = create_project(client, "Old name")
    form = client.get(f"/projects/{project_id}/edit").get_data(as_text=True)
    assert 'value="Old name"' in form
    response = client.post(f"/projects/{project_id}/edit", data={"name": "New name", "description": "Updated"})
    assert response.status_code == 303 and location(response) == f"/projects/{project_id}"
    body = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "New name" in body and "Updated" in body
    refused = client.post(f"/projects/{project_id}/edit", data={"name": ""})
    assert refused.status_code == 422


def test_delete_asks_first_then_removes_rows_and_files(app, client, signed_in):
    keep_id = create_project(client, "Kept")
    create_character(client, keep_id, "Kept bunny")
    data_dir = app.config["DATA_DIR"]
    kept_files = files_under(data_dir)
    project_id = create_project(client, "Doomed")
    character_id = create_character(client, project_id)
    finished_generation(app, client, project_id, character_id)
    with app.app_context():
        user_id = db.session.scalar(select(User.id))
    project_dirs = [os.path.join(data_dir, area, user_id, project_id) for area in ("uploads", "generations")]
    assert all(files_under(folder) for folder in project_dirs)

    confirm = client.get(f"/projects/{project_id}/delete")
    assert confirm.status_code == 200 and "Doomed" in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, project_id) is not None

    response = client.post(f"/projects/{project_id}/delete")
    assert response.status_code == 303 and location(response) == "/projects"
    assert client.get(f"/projects/{project_id}").status_code == 404
    assert all(files_under(folder) == [] for folder in project_dirs)
    # The character's files are gone too; only the other project's files are left.
    assert files_under(data_dir) == kept_files
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Generation)) == 0
        assert db.session.scalar(select(func.count()).select_from(Image)) == 0
        assert db.session.scalar(select(Character.name)) == "Kept bunny"


def test_missing_project_is_404(client, signed_in):
    assert client.get("/projects/" + "0" * 32).status_code == 404
    assert client.get("/projects/not-an-id").status_code == 404
