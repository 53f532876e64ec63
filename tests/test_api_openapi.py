"""The OpenAPI 3.1 document: served at /api/openapi.json, describing exactly the routes the app has and
the object shapes of shared/API.md. Every response the API tests receive is validated against it by
tests.api_support.ApiClient; here the checker itself is shown to refuse a wrong shape."""
from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from .api_support import FIRST_RELEASE_SHAPES, OPENAPI, SHAPES, ApiClient

API_MD = Path(__file__).resolve().parents[2] / "shared" / "API.md"
SCHEMA_OF = {"user": "User", "project": "Project", "character": "Character", "image": "Image",
             "generation": "Generation", "history": "HistoryEntry", "member": "Member", "comment": "Comment"}


def test_served_document_is_the_static_one(client):
    response = ApiClient(client).get("/api/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == OPENAPI.doc
    assert OPENAPI.doc["openapi"] == "3.1.0"


def test_every_api_route_is_documented_and_nothing_else(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method, path) for path, item in OPENAPI.doc["paths"].items() for method in item if method != "parameters"}
    assert routes == documented


def test_schemas_are_valid_json_schema():
    for schema in OPENAPI.doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", sorted(SCHEMA_OF))
def test_object_schemas_require_exactly_the_contracts_keys(kind):
    schema = OPENAPI.doc["components"]["schemas"][SCHEMA_OF[kind]]
    assert set(schema["required"]) == set(schema["properties"]) == SHAPES[kind]
    assert schema["additionalProperties"] is False


def contract_objects(text: str) -> dict[str, set[str]]:
    """The key sets of the "Objects" block of API.md: for each `name {...}` its top-level quoted keys."""
    block = text.split("## Objects", 1)[1].split("```")[1]
    objects = {}
    for match in re.finditer(r"^(\w+)\s+\{", block, re.MULTILINE):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(block)):
            depth += {"{": 1, "}": -1}.get(block[end], 0)
            if depth == 0:
                break
        objects[match.group(1)] = set(re.findall(r'"(\w+)"', block[match.end():end]))
    return objects


def test_shapes_match_the_contract_page():
    if not API_MD.exists():
        # The contract page lives in the team's shared folder beside the checkout, not in the repository;
        # a checkout without it (a lone clone) cannot compare, which is no failure of the code.
        pytest.skip(f"{API_MD} is not beside this checkout")
    assert contract_objects(API_MD.read_text()) == FIRST_RELEASE_SHAPES


def test_the_checker_refuses_a_wrong_shape():
    schema = OPENAPI.doc["paths"]["/api/auth/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    with pytest.raises(jsonschema.ValidationError):
        OPENAPI.validate({"user": {"id": "0" * 32, "email": "a@b.c", "name": "A"}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        OPENAPI.validate({"user": {"id": "0" * 32, "email": "a@b.c", "name": "A", "created_at": "x", "extra": 1}}, schema)
