"""Every HTML route, found in the app's URL map so that a new route cannot be forgotten: without a
sign-in it sends to the login page, and another user's ids answer 404 and change nothing."""
from __future__ import annotations

import tempfile

import pytest
from sqlalchemy import select

from mockup import create_app
from mockup.extensions import db
from mockup.models import CharacterImage, Comment, HistoryEntry, StagedUpload, User

from .conftest import png_bytes, snapshot
from .factories import create_character, create_project, finished_generation
from .studio import location, upload

HTML_BLUEPRINTS = {"auth", "account", "projects", "characters", "generate", "images", "history", "exports", "batches", "queue",
                   "kept", "gallery"}
# Routes outside the HTML side, each covered by its own tests (admin: tests/test_admin.py, where every
# admin route sends to the login page without a sign-in and answers 403 to a signed-in non-admin).
ELSEWHERE = {"api", "system", "metrics", "static", "admin"}
PUBLIC = {"auth.login", "auth.register", "auth.reset_password"}
METHODS = ("GET", "POST")


def _html_routes() -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) for every HTML route; fails on a blueprint nobody has classified."""
    app = create_app({
        "TESTING": True, "APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "DATA_DIR": tempfile.gettempdir(), "EMBEDDED_RUNNER_AUTOSTART": False,
    })
    routes = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".")[0]
        assert blueprint in HTML_BLUEPRINTS | ELSEWHERE, f"classify the new blueprint of {rule.rule}"
        if blueprint in HTML_BLUEPRINTS:
            routes += [(rule.endpoint, method, rule.rule) for method in METHODS if method in rule.methods]
    return sorted(routes, key=lambda route: (route[2], route[1]))


ROUTES = _html_routes()
ROUTE_IDS = [f"{method} {rule}" for _, method, rule in ROUTES]
PROTECTED = [route for route in ROUTES if route[0] not in PUBLIC]


def build(app, endpoint: str, values: dict[str, str]) -> str:
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(endpoint, values)


def _arguments(app, endpoint: str) -> set[str]:
    return next(rule.arguments for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)


@pytest.mark.parametrize("endpoint, method, rule", PROTECTED, ids=[f"{m} {r}" for _, m, r in PROTECTED])
def test_needs_login(app, client, endpoint, method, rule):
    words = {"kind": "source", "variant": "2k", "version": "original"}
    values = {name: words.get(name, "0" * 32) for name in _arguments(app, endpoint)}
    response = client.open(build(app, endpoint, values), method=method)
    if method == "GET":
        assert response.status_code in (302, 303)
        assert location(response).startswith("/auth/login")
    else:
        assert response.status_code in (302, 303, 401, 403)
        assert response.status_code >= 400 or location(response).startswith("/auth/login")


@pytest.fixture
def victim(app, client, auth):
    """User A with one of everything; returns the ids by URL argument name."""
    auth.register(email="a@example.com", name="A")
    project_id = create_project(client, "A's project")
    character_id = create_character(client, project_id)
    generation_id, (image_id, other_image_id) = finished_generation(app, client, project_id, character_id)
    client.post(f"/generations/{generation_id}/select", data={"image_id": image_id})
    client.post(f"/images/{image_id}/history", data={"note": "A's note"})
    # A character form without a name keeps its picture for the next try.
    client.post(f"/projects/{project_id}/characters", data={"name": "", "image": upload(png_bytes((90, 90)))},
                content_type="multipart/form-data")
    client.post(f"/images/{image_id}/comments", data={"body": "A's comment"})
    batch = client.post(f"/projects/{project_id}/batches/new", data={
        "mode": "ip-change", "character_id": [character_id], "candidates": "2", "image_size": "1K",
        "source_image": [upload(png_bytes((160, 120)))]}, content_type="multipart/form-data")
    with app.app_context():
        entry_id = db.session.scalar(select(HistoryEntry.id))
        staged_id = db.session.scalar(select(StagedUpload.id))
        comment_id = db.session.scalar(select(Comment.id))
        user_id = db.session.scalar(select(User.id))
        character_image_id = db.session.scalar(select(CharacterImage.id))
    return {"character_image_id": character_image_id, "index": 0,
        "project_id": project_id, "character_id": character_id, "generation_id": generation_id,
        "image_id": image_id, "entry_id": entry_id, "kind": "source", "variant": "2k", "version": "original",
        "other_image_id": other_image_id, "staged_id": staged_id, "code": "0" * 43,
        "comment_id": comment_id, "user_id": user_id, "batch_id": location(batch).rsplit("/", 1)[1],
    }


@pytest.mark.parametrize("endpoint, method, rule", [route for route in ROUTES if "<" in route[2]],
                         ids=[i for i, route in zip(ROUTE_IDS, ROUTES) if "<" in route[2]])
def test_another_users_ids_answer_404(app, client, victim, endpoint, method, rule):
    intruder = app.test_client()
    intruder.post("/auth/register", data={
        "email": "b@example.com", "name": "B", "password": "another secret", "confirm": "another secret",
    })
    before = snapshot(app)
    arguments = _arguments(app, endpoint)
    assert arguments <= victim.keys(), f"teach this test the ids of {rule}"
    url = build(app, endpoint, {name: victim[name] for name in arguments})
    # A payload that would do damage if the route forgot to check the owner.
    payload = {
        "image_id": victim["other_image_id"], "name": "taken", "description": "taken", "note": "taken",
        "mode": "sketch-to-real", "prompt": "taken", "next": "/projects", "body": "taken", "state": "approved",
        "email": "b@example.com", "role": "editor",
    }
    response = intruder.open(url, method=method, data=payload if method == "POST" else None)
    assert response.status_code == 404
    assert snapshot(app) == before
    assert client.get(f"/projects/{victim['project_id']}").status_code == 200
