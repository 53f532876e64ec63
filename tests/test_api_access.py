"""Every protected route of the OpenAPI document: 401 without credentials, and 404 (exactly like a missing
id) when one user names another user's objects with an otherwise valid request."""
from __future__ import annotations

import io

import pytest

from .api_support import OPENAPI, ApiClient, assert_error
from .factories import create_character, create_project, finished_generation
from .conftest import png_bytes, snapshot

MISSING_ID = "0" * 32


def _operations(protected: bool) -> list[tuple[str, str, str]]:
    found = []
    for path, item in OPENAPI.doc["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            if (operation.get("security") != []) == protected:
                found.append((method.upper(), path, operation["operationId"]))
    return found


PROTECTED = _operations(protected=True)


def test_the_document_lists_the_public_routes_only_as_public():
    assert {operation for _, _, operation in _operations(protected=False)} == {"register", "login", "refresh", "openapi"}


@pytest.mark.parametrize("method,path,operation", PROTECTED, ids=[op for _, _, op in PROTECTED])
def test_protected_route_without_token_is_401(client, method, path, operation):
    names = ("project_id", "character_id", "character_image_id", "generation_id", "image_id", "entry_id",
             "comment_id", "user_id", "batch_id")
    url = path.format(**{name: MISSING_ID for name in names})
    response = ApiClient(client).request(method, url)
    assert_error(response, 401, "UNAUTHORIZED")


@pytest.fixture
def alices_world(app, alice) -> dict[str, str]:
    project_id = create_project(alice)
    character_id = create_character(alice, project_id)
    generation_id, (image_id, _) = finished_generation(app, alice, project_id, character_id)
    entry = alice.post(f"/api/history/{image_id}/save").get_json()["history"]
    comment = alice.post(f"/api/images/{image_id}/comments", json={"body": "Alice's"}).get_json()["comment"]
    [character] = alice.get(f"/api/projects/{project_id}/characters").get_json()["items"]
    batch = alice.post("/api/batches", data={"project_id": project_id, "mode": "sketch-to-real",
                                             "source_image": [(io.BytesIO(png_bytes((60, 60))), "s.png")]},
                       content_type="multipart/form-data").get_json()["batch"]
    return {"batch_id": batch["id"], "project_id": project_id, "character_id": character_id, "character_image_id": character["images"][0]["id"],
            "generation_id": generation_id,
            "image_id": image_id, "entry_id": entry["id"], "comment_id": comment["id"], "user_id": alice.user["id"]}


def _valid_request(operation: str, ids: dict[str, str]) -> dict:
    """A request that would succeed if the ids were the caller's own."""
    region = {"x": 0, "y": 0, "width": 10, "height": 10}

    def png_stream() -> io.BytesIO:
        return io.BytesIO(png_bytes((60, 60)))

    return {
        "updateProject": {"json": {"name": "Renamed"}},
        "createCharacter": {"data": {"name": "Fox", "image": (png_stream(), "fox.png")}, "content_type": "multipart/form-data"},
        "updateCharacter": {"json": {"description": "mine now"}},
        "addCharacterImage": {"data": {"view": "side", "image": (png_stream(), "side.png")},
                              "content_type": "multipart/form-data"},
        "submitGeneration": {"data": {"project_id": ids["project_id"], "mode": "sketch-to-real",
                                      "source_image": (png_stream(), "s.png")}, "content_type": "multipart/form-data"},
        "selectImage": {"json": {"image_id": ids["image_id"]}},
        "editImage": {"json": {"image_id": ids["image_id"], "prompt": "bluer", "region": region}},
        "addMember": {"json": {"email": "bob@example.com", "role": "editor"}},
        "changeMember": {"json": {"role": "editor"}},
        "reviewImage": {"json": {"state": "approved", "comment": "mine now"}},
        "addComment": {"json": {"body": "mine now", "region": region}},
    }.get(operation, {})


# Admin routes name accounts, not a user's objects: they answer 403 to everyone but admins (tests/test_admin.py).
ADMIN_ONLY = {"updateUser"}
CROSS_USER = [entry for entry in PROTECTED
              if ("{" in entry[1] or entry[2] == "submitGeneration") and entry[2] not in ADMIN_ONLY]


@pytest.mark.parametrize("method,path,operation", CROSS_USER, ids=[op for _, _, op in CROSS_USER])
def test_another_users_object_is_404_and_nothing_changes(app, alices_world, bob, method, path, operation):
    before = snapshot(app)
    response = bob.request(method, path.format(**alices_world), **_valid_request(operation, alices_world))
    assert_error(response, 404, "NOT_FOUND")
    assert snapshot(app) == before


def test_someone_elses_character_in_my_own_project_is_404(alices_world, bob):
    own_project = create_project(bob, "Bob's")
    response = bob.post_form("/api/generations", {
        "project_id": own_project, "mode": "ip-change", "character_id": alices_world["character_id"],
        "source_image": png_bytes((60, 60)),
    })
    assert_error(response, 404, "NOT_FOUND")


def test_a_missing_id_answers_like_someone_elses(alice):
    assert_error(alice.get(f"/api/projects/{MISSING_ID}"), 404, "NOT_FOUND")
    assert_error(alice.get("/api/images/not-even-hex"), 404, "NOT_FOUND")
