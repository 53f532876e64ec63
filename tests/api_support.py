"""What the API tests share: a client that speaks the JSON API and checks every response it gets against
the OpenAPI document, the object shapes of shared/API.md, and helpers that sign users up and submit
generations through the API itself (projects, characters and finished generations: tests/factories.py)."""
from __future__ import annotations

import io
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mockup.api.openapi import document

from .conftest import png_bytes

PASSWORD = "correct horse"

# docs/API.md, "Objects": the exact key set of each object in the first release.
FIRST_RELEASE_SHAPES = {
    "user": {"id", "email", "name", "created_at"},
    "project": {"id", "name", "description", "created_at", "updated_at", "image_count"},
    "character": {"id", "project_id", "name", "image_url", "thumbnail_url", "created_at"},
    "image": {"id", "generation_id", "index", "width", "height", "format", "has_alpha", "selected", "url",
              "thumbnail_url", "download_url", "download_2k_url", "created_at"},
    "generation": {"id", "project_id", "mode", "status", "error", "prompt", "preserve_structure",
                   "transparent_background", "parent_image_id", "images", "created_at", "started_at",
                   "finished_at", "queue_position"},
    "history": {"id", "project_id", "image", "note", "created_at"},
}
# docs/API.md, "Additions of the second release": the keys each object gains (so far), and its new objects.
SECOND_RELEASE_KEYS = {
    "user": {"is_admin", "disabled"},
    "project": {"owner", "role"},
    "image": {"review", "comment_count", "checks"},
    "generation": {"estimated_cost_usd", "cost_usd", "batch_id", "candidates", "image_size"},
    "character": {"description", "images"},
}
SHAPES = {
    **{kind: keys | SECOND_RELEASE_KEYS.get(kind, set()) for kind, keys in FIRST_RELEASE_SHAPES.items()},
    "member": {"user", "role", "added_at"},
    "comment": {"id", "image_id", "author", "body", "region", "created_at"},
    "batch": {"id", "project_id", "mode", "status", "total", "counts", "generations", "created_at", "finished_at"},
}
NESTED = {"batch": {"generations": "generation"}, "generation": {"images": "image"}, "history": {"image": "image"}, "project": {"owner": "user"},
          "member": {"user": "user"}, "comment": {"author": "user"}}


def assert_shape(value: dict, kind: str) -> None:
    """Exactly the keys of docs/API.md, recursively for the objects inside."""
    assert set(value) == SHAPES[kind], f"{kind}: {sorted(set(value) ^ SHAPES[kind])}"
    for key, inner in NESTED.get(kind, {}).items():
        for item in value[key] if isinstance(value[key], list) else [value[key]]:
            assert_shape(item, inner)


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The error envelope with this status and code, naming `field` when given."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    if field is not None:
        assert field in error.get("fields", {}), error
    return error


class OpenApi:
    """Finds the documented response of a request and validates the real response against it."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.routes = [(re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$"), path) for path in doc["paths"]]

    def response_spec(self, method: str, path: str, status: int) -> dict | None:
        """The documented response, or None for a path or method the API does not have."""
        for pattern, template in self.routes:
            if pattern.match(path):
                operation = self.doc["paths"][template].get(method.lower())
                if operation is None:
                    return None
                spec = operation["responses"].get(str(status))
                assert spec is not None, f"{method} {template} answered {status}, which is not documented"
                return self.deref(spec)
        return None

    def deref(self, node: dict) -> dict:
        while "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validate(self, instance: Any, schema: dict) -> None:
        # The components ride along so that "#/components/..." references resolve inside the schema.
        Draft202012Validator({**schema, "components": self.doc["components"]}).validate(instance)

    def check(self, method: str, path: str, response) -> None:
        spec = self.response_spec(method, path, response.status_code)
        if spec is None:
            assert response.status_code in (404, 405), f"{method} {path} is not documented"
            spec = self.deref({"$ref": "#/components/responses/NotFound"})
        content = spec.get("content")
        if not content:
            assert response.data == b"", f"{method} {path}: expected no body"
            return
        assert response.mimetype in content, f"{method} {path}: {response.mimetype} not documented"
        if response.mimetype == "application/json":
            self.validate(response.get_json(), content["application/json"]["schema"])
        for header, header_spec in spec.get("headers", {}).items():
            assert header in response.headers, f"{method} {path}: header {header} missing"
            if header_spec["schema"].get("type") == "integer":
                assert int(response.headers[header]) >= 1


OPENAPI = OpenApi(document())


class ApiClient:
    """The Flask test client speaking the JSON API, with a bearer token once logged in."""

    def __init__(self, client, token: str | None = None, refresh_token: str | None = None) -> None:
        self.client = client
        self.token = token
        self.refresh_token = refresh_token
        self.user: dict | None = None

    def request(self, method: str, path: str, *, headers: dict | None = None, **kwargs):
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.client.open(path, method=method, headers={**sent, **(headers or {})}, **kwargs)
        OPENAPI.check(method, path.split("?")[0], response)
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def post_form(self, path: str, fields: dict, **kwargs):
        """multipart/form-data; file fields are given as bytes."""
        data = {name: (io.BytesIO(value), f"{name}.png") if isinstance(value, bytes) else value
                for name, value in fields.items()}
        return self.post(path, data=data, content_type="multipart/form-data", **kwargs)


def sign_up(client, email: str, name: str = "Designer") -> ApiClient:
    """Register and log in through the API; the returned client sends the access token."""
    api = ApiClient(client)
    assert api.post("/api/auth/register", json={"email": email, "password": PASSWORD, "name": name}).status_code == 201
    body = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).get_json()
    api.token, api.refresh_token, api.user = body["access_token"], body["refresh_token"], body["user"]
    return api


@pytest.fixture
def alice(client) -> ApiClient:
    return sign_up(client, "alice@example.com", "Alice")


@pytest.fixture
def bob(client) -> ApiClient:
    return sign_up(client, "bob@example.com", "Bob")


def submit(api: ApiClient, project: str, character: str, **fields):
    """An ip-change submission; a field given as None is left out."""
    form = {"project_id": project, "mode": "ip-change", "character_id": character,
            "source_image": png_bytes((160, 120)), "prompt": "glossy acrylic", **fields}
    return api.post_form("/api/generations", {name: value for name, value in form.items() if value is not None})


def read_generation(api: ApiClient, generation_id: str) -> dict:
    """The generation as GET /api/generations/:id shows it."""
    response = api.get(f"/api/generations/{generation_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["generation"]
