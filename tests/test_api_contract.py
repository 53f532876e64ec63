"""Request bodies and query parameters are checked against the OpenAPI document the API publishes
(mockup/api/contract.py): what the document forbids is a 422 naming the field, before any service runs."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mockup.api import contract
from mockup.api.openapi import document
from mockup.errors import UnsupportedMedia
from mockup.extensions import db
from mockup.models import ImageJob, Project

from .api_support import ApiClient, assert_error, submit
from .conftest import png_bytes
from .factories import create_character, create_project


@pytest.fixture
def project(alice) -> str:
    return create_project(alice, "Mugs")


@pytest.mark.parametrize("body, field, problem", [
    ({"zzz": {}}, "zzz", "Unknown field."),
    ({"name": None}, "name", "Must be a string."),
    ({"name": ""}, "name", "Must not be empty."),
    ({"name": "   "}, "name", "Must not be blank."),
    ({"name": 7}, "name", "Must be a string."),
    ({"description": "x" * 2001}, "description", "Must be at most 2000 characters."),
])
def test_patch_refuses_what_the_document_forbids(app, alice, project, body, field, problem):
    error = assert_error(alice.patch(f"/api/projects/{project}", json=body), 422, "VALIDATION", field)
    assert error["fields"][field] == problem
    assert alice.get(f"/api/projects/{project}").get_json()["project"]["name"] == "Mugs"


def test_every_wrong_field_is_named(alice):
    error = assert_error(alice.post("/api/projects", json={"description": None, "extra": 1}), 422, "VALIDATION")
    assert error["fields"] == {"name": "Required.", "description": "Must be a string.", "extra": "Unknown field."}


def test_a_refused_create_stores_nothing(app, alice):
    assert_error(alice.post("/api/projects", json={"name": "P", "owner_id": "x"}), 422, "VALIDATION", "owner_id")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_null_note_is_refused_as_the_document_does_not_allow_it(app, alice, alices_generation):
    image = alices_generation["images"][0]["id"]
    assert_error(alice.post(f"/api/history/{image}/save", json={"note": None}), 422, "VALIDATION", "note")
    assert alice.post(f"/api/history/{image}/save", json={"note": "kept"}).status_code == 201


def test_nested_fields_are_named_by_their_path(alice, alices_generation):
    generation = alices_generation["id"]
    image = alices_generation["images"][0]["id"]
    body = {"image_id": image, "prompt": "red", "region": {"x": "1", "y": 0, "width": 5, "height": 5}}
    error = assert_error(alice.post(f"/api/generations/{generation}/edit", json=body), 422, "VALIDATION", "region.x")
    assert error["fields"]["region.x"] == "Must be an integer."


def test_multipart_fields_are_checked_too(alice, project):
    character = create_character(alice, project)
    assert_error(submit(alice, project, character, colour="red"), 422, "VALIDATION", "colour")
    assert_error(submit(alice, project, character, mode="paint"), 422, "VALIDATION", "mode")
    assert_error(submit(alice, project, character, preserve_structure="yes"), 422, "VALIDATION", "preserve_structure")
    assert submit(alice, project, character).status_code == 202


def test_register_and_login_are_checked(client):
    api = ApiClient(client)
    assert_error(api.post("/api/auth/register", json={"email": "a@b.c", "password": "correct horse", "name": ""}),
                 422, "VALIDATION", "name")
    assert_error(api.post("/api/auth/login", json={"email": "a@b.c", "password": None}), 422, "VALIDATION", "password")


@pytest.mark.parametrize("query", ["?format=gif", "?format=", "?format=PNG"])
def test_the_2k_download_checks_its_format_before_any_upscale(app, alice, alices_generation, query):
    image = alices_generation["images"][0]["id"]
    assert_error(alice.get(f"/api/images/{image}/download/2k{query}"), 422, "VALIDATION", "format")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImageJob)) == 0


@pytest.mark.parametrize("query", ["?format=gif", "?format="])
def test_the_1k_download_checks_its_format(alice, alices_generation, query):
    image = alices_generation["images"][0]["id"]
    assert_error(alice.get(f"/api/images/{image}/download{query}"), 422, "VALIDATION", "format")


def test_the_download_format_defaults_to_the_documented_one(alice, alices_generation):
    response = alice.get(f"/api/images/{alices_generation['images'][0]['id']}/download")
    assert response.status_code == 200 and response.mimetype == "image/png"


def test_a_valid_multipart_upload_still_goes_through(alice, project):
    response = alice.post_form(f"/api/projects/{project}/characters", {"name": "Bunny", "image": png_bytes((300, 300))})
    assert response.status_code == 201


def json_operations():
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items() if method != "parameters" else ():
                yield f"{method.upper()} {path} {media}", content["schema"]


@pytest.mark.parametrize("name, schema", list(json_operations()), ids=lambda value: value if isinstance(value, str) else "")
def test_every_request_body_refuses_unknown_fields(name, schema):
    """What the server checks is only as strict as the document: every body names all its fields."""
    assert schema.get("additionalProperties") is False, name


def test_a_body_type_the_operation_does_not_document_is_415(app):
    """A handler reading JSON where the document has none is drift: refused, never a 500."""
    with app.test_request_context(f"/api/projects/{'0' * 32}/characters", method="POST"):
        with pytest.raises(UnsupportedMedia):
            contract.check_body({"name": "Bunny"}, "application/json")
