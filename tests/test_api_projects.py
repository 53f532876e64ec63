"""/api/projects: list, create, read, update, delete (with every file of the project)."""
from __future__ import annotations

import pytest

from .api_support import assert_error, assert_shape
from .conftest import files_under
from .factories import create_character, create_project, finished_generation


def test_create_answers_201_with_the_project(alice):
    response = alice.post("/api/projects", json={"name": " Mugs ", "description": "For the fair"})
    assert response.status_code == 201 and set(response.get_json()) == {"project"}
    project = response.get_json()["project"]
    assert_shape(project, "project")
    assert (project["name"], project["description"], project["image_count"]) == ("Mugs", "For the fair", 0)


def test_description_is_optional(alice):
    assert alice.post("/api/projects", json={"name": "Plain"}).get_json()["project"]["description"] == ""


@pytest.mark.parametrize("body,field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": 7}, "name"),
    ({"name": "Ok", "description": "x" * 2001}, "description"),
    ({"name": "Ok", "description": ["list"]}, "description"),
])
def test_create_bad_input_is_422_naming_the_field(alice, body, field):
    assert_error(alice.post("/api/projects", json=body), 422, "VALIDATION", field)


def test_create_needs_json(alice):
    assert_error(alice.post("/api/projects", data={"name": "Form"}), 415, "UNSUPPORTED_MEDIA")


def test_list_is_items_of_projects_last_changed_first(alice):
    first, second = create_project(alice, "First"), create_project(alice, "Second")
    response = alice.get("/api/projects")
    assert response.status_code == 200 and response.get_json().keys() == {"items", "next_cursor"}
    items = response.get_json()["items"]
    for item in items:
        assert_shape(item, "project")
    assert [item["id"] for item in items] == [second, first]


def test_get_counts_the_images(app, alice):
    project_id = create_project(alice)
    finished_generation(app, alice, project_id, create_character(alice, project_id))
    project = alice.get(f"/api/projects/{project_id}").get_json()["project"]
    assert_shape(project, "project")
    assert project["image_count"] == 2
    assert alice.get("/api/projects").get_json()["items"][0]["image_count"] == 2


def test_patch_changes_only_what_is_sent(alice):
    project_id = create_project(alice, "Mugs")
    response = alice.patch(f"/api/projects/{project_id}", json={"description": "New words"})
    assert response.status_code == 200
    changed = response.get_json()["project"]
    assert_shape(changed, "project")
    assert (changed["name"], changed["description"]) == ("Mugs", "New words")
    renamed = alice.patch(f"/api/projects/{project_id}", json={"name": "Renamed"}).get_json()["project"]
    assert (renamed["name"], renamed["description"]) == ("Renamed", "New words")


def test_patch_bad_input_is_422(alice):
    project_id = create_project(alice)
    assert_error(alice.patch(f"/api/projects/{project_id}", json={"name": ""}), 422, "VALIDATION", "name")


def test_delete_removes_the_project_and_its_files(app, alice):
    project_id = create_project(alice)
    generation_id, _ = finished_generation(app, alice, project_id, create_character(alice, project_id))
    assert files_under(app.config["DATA_DIR"])
    assert alice.delete(f"/api/projects/{project_id}").status_code == 204
    assert_error(alice.get(f"/api/projects/{project_id}"), 404, "NOT_FOUND")
    assert_error(alice.get(f"/api/generations/{generation_id}"), 404, "NOT_FOUND")
    assert files_under(app.config["DATA_DIR"]) == []
