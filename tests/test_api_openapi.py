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

# The contract page, kept in the repository; the team's shared folder beside a checkout holds the original.
API_MD = Path(__file__).resolve().parents[1] / "docs" / "API.md"
SHARED_API_MD = Path(__file__).resolve().parents[2] / "shared" / "API.md"
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


def contract_additions(text: str) -> dict[str, set[str]]:
    """The keys the second release's additions say an object gains ("`user` gains `"is_admin"` ..."),
    over however many lines the sentence runs."""
    additions = text.split("## Additions of the second release", 1)[1]
    gains: dict[str, set[str]] = {}
    for match in re.finditer(r"`(\w+)` gains (.*?)(?=\n- |\n\n|\Z)", additions, re.DOTALL):
        gains.setdefault(match.group(1), set()).update(re.findall(r'"(\w+)"', match.group(2)))
    return gains


def test_the_repository_carries_the_contract_page_unchanged():
    if not SHARED_API_MD.exists():
        pytest.skip(f"{SHARED_API_MD} is not beside this checkout; docs/API.md is the contract then")
    assert SHARED_API_MD.read_text() in API_MD.read_text()


def test_shapes_match_the_contract_page():
    text = API_MD.read_text()
    assert contract_objects(text) == FIRST_RELEASE_SHAPES
    additions = contract_additions(text)
    for kind, keys in FIRST_RELEASE_SHAPES.items():
        # Beyond the first release's keys, a served object has only keys the second release adds.
        assert SHAPES[kind] - keys <= additions.get(kind, set()), kind


def test_the_checker_refuses_a_wrong_shape():
    schema = OPENAPI.doc["paths"]["/api/auth/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    with pytest.raises(jsonschema.ValidationError):
        OPENAPI.validate({"user": {"id": "0" * 32, "email": "a@b.c", "name": "A"}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        OPENAPI.validate({"user": {"id": "0" * 32, "email": "a@b.c", "name": "A", "created_at": "x", "extra": 1}}, schema)
