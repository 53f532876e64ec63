"""Roles × routes (shared/API.md, "Shared projects"): every HTML and API route that touches a project's
objects, found in the app's URL map so that a new route cannot be forgotten, asked by the project's
owner, an editor, a reviewer, a viewer and a stranger with a request that would succeed for someone
allowed. Allowed: 2xx or 3xx, as for the owner before projects were shared. A member whose role may not:
403 and nothing changed. A stranger: 404 and nothing changed, exactly like a missing id."""
from __future__ import annotations

import io
import tempfile

import pytest
from PIL import Image
from werkzeug.routing import Rule

from mockup import create_app
from mockup.extensions import db
from mockup.models import Image as ImageRow
from mockup.services import accounts, batches, characters, generations, history, members, projects, review

from .api_support import PASSWORD, ApiClient, assert_error
from .conftest import png_bytes, snapshot
from .job_runner import run_job

ROLES = ("owner", "editor", "reviewer", "viewer", "stranger")
METHODS = ("GET", "POST", "PATCH", "DELETE")

# What each project-scoped route needs (mockup/services/access.py, Permission). "owner" routes are
# the owner's alone here: managing members, deleting the project, and deleting a comment written by
# another member (its author may delete it too: test_an_author_deletes_their_own_comment).
NEEDS = {
    ("projects.detail", "GET"): "view",
    ("projects.edit", "GET"): "edit", ("projects.edit", "POST"): "edit",
    ("projects.delete", "GET"): "owner", ("projects.delete", "POST"): "owner",
    ("projects.add_member", "POST"): "owner",
    ("projects.change_member", "POST"): "owner",
    ("projects.remove_member", "POST"): "owner",
    ("characters.index", "GET"): "view", ("characters.index", "POST"): "edit",
    ("characters.delete", "POST"): "edit", ("characters.cutout", "POST"): "edit",
    ("characters.image", "GET"): "view", ("characters.thumbnail", "GET"): "view",
    ("characters.use", "POST"): "edit", ("characters.undo_cutout", "POST"): "edit",
    ("characters.add_image", "POST"): "edit", ("characters.delete_image", "POST"): "edit",
    ("characters.edit", "POST"): "edit",
    ("characters.sheet_image", "GET"): "view", ("characters.sheet_thumbnail", "GET"): "view",
    ("generate.new", "GET"): "edit", ("generate.new", "POST"): "edit",
    ("generate.generation", "GET"): "view", ("generate.status", "GET"): "view",
    ("generate.input_image", "GET"): "view", ("generate.thumbnail", "GET"): "view",
    ("generate.source_thumbnail", "GET"): "view",
    ("generate.character_view", "GET"): "view",
    ("generate.retry", "POST"): "edit", ("generate.cancel", "POST"): "edit", ("generate.select", "POST"): "edit",
    ("history.index", "GET"): "view", ("history.delete", "POST"): "edit",
    ("exports.project_export", "GET"): "view", ("exports.selection", "POST"): "view",
    ("images.detail", "GET"): "view", ("images.file", "GET"): "view", ("images.thumbnail", "GET"): "view",
    ("images.download", "GET"): "view", ("images.download_variant", "GET"): "view",
    ("images.edit", "POST"): "edit", ("images.save_to_history", "POST"): "edit", ("images.delete", "POST"): "edit",
    ("images.set_review", "POST"): "review", ("images.add_comment", "POST"): "comment",
    ("images.delete_comment", "POST"): "owner",
    ("api.get_project", "GET"): "view", ("api.update_project", "PATCH"): "edit",
    ("api.delete_project", "DELETE"): "owner",
    ("api.list_members", "GET"): "view", ("api.add_member", "POST"): "owner",
    ("api.change_member", "PATCH"): "owner", ("api.remove_member", "DELETE"): "owner",
    ("api.list_characters", "GET"): "view", ("api.create_character", "POST"): "edit",
    ("api.delete_character", "DELETE"): "edit",
    ("api.character_image", "GET"): "view", ("api.character_thumbnail", "GET"): "view",
    ("api.update_character", "PATCH"): "edit", ("api.add_character_image", "POST"): "edit",
    ("api.delete_character_image", "DELETE"): "edit",
    ("api.character_sheet_image", "GET"): "view", ("api.character_sheet_thumbnail", "GET"): "view",
    ("api.submit_generation", "POST"): "edit", ("api.get_generation", "GET"): "view",
    ("api.list_generation_images", "GET"): "view",
    ("api.select_image", "POST"): "edit", ("api.edit_image", "POST"): "edit",
    ("api.get_image", "GET"): "view", ("api.image_file", "GET"): "view", ("api.image_thumbnail", "GET"): "view",
    ("api.download_image", "GET"): "view", ("api.download_image_2k", "GET"): "view",
    ("api.delete_image", "DELETE"): "edit",
    ("api.export_project", "GET"): "view",
    ("api.list_history", "GET"): "view", ("api.save_to_history", "POST"): "edit",
    ("api.delete_entry", "DELETE"): "edit",
    ("api.review_image", "POST"): "review",
    ("api.list_comments", "GET"): "view", ("api.add_comment", "POST"): "comment",
    ("api.delete_comment", "DELETE"): "owner",
    ("batches.new", "GET"): "edit", ("batches.new", "POST"): "edit", ("batches.detail", "GET"): "view",
    ("batches.sheet", "GET"): "view", ("batches.cancel", "POST"): "edit",
    ("api.create_batch", "POST"): "edit", ("api.get_batch", "GET"): "view",
    ("api.list_batches", "GET"): "view", ("api.cancel_batch", "POST"): "edit",
}
# Routes that touch no project's objects: signing in and out, the account, the list of one's own
# projects and creating one, the queue (one's own jobs), health, metrics, static files, the document.
NOT_PROJECT_SCOPED = {
    ("projects.home", "GET"), ("projects.index", "GET"), ("projects.index", "POST"),
    ("account.index", "GET"), ("account.delete", "POST"), ("account.language", "POST"), ("account.password", "POST"),
    ("auth.login", "GET"), ("auth.login", "POST"), ("auth.logout", "POST"),
    ("auth.register", "GET"), ("auth.register", "POST"),
    ("queue.index", "GET"), ("system.healthz", "GET"), ("metrics.metrics", "GET"), ("static", "GET"),
    ("api.login", "POST"), ("api.logout", "POST"), ("api.me", "GET"), ("api.refresh", "POST"),
    ("api.register", "POST"), ("api.openapi", "GET"), ("api.list_projects", "GET"), ("api.create_project", "POST"),
    # The installation's accounts and costs: admins only (tests/test_admin.py), or one's own usage.
    ("admin.index", "GET"), ("admin.create_user", "POST"), ("admin.invite", "POST"), ("admin.month_usage", "GET"),
    ("admin.reset_link", "POST"), ("admin.set_budget", "POST"), ("admin.update_user", "POST"),
    ("api.list_users", "GET"), ("api.create_user", "POST"), ("api.update_user", "PATCH"),
    ("api.create_invite", "POST"), ("api.month_usage", "GET"),
    ("auth.reset_password", "GET"), ("auth.reset_password", "POST"),
    # One's own kept upload (tests/test_workflow.py) and one's own queue.
    ("kept.thumbnail", "GET"), ("queue.status", "GET"),
    # Across projects: only the images of projects one owns or is a member of, whatever the role (any role
    # may view); a stranger's image in a selection is a 404 (tests/test_gallery.py).
    ("gallery.index", "GET"), ("gallery.selection", "POST"),
}
ALLOWED = {
    "owner": {"view", "comment", "review", "edit", "owner"},
    "editor": {"view", "comment", "review", "edit"},
    "reviewer": {"view", "comment", "review"},
    "viewer": {"view", "comment"},
}


def _rules() -> dict[tuple[str, str], Rule]:
    app = create_app({
        "TESTING": True, "APP_ENV": "testing", "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "DATA_DIR": tempfile.gettempdir(), "EMBEDDED_RUNNER_AUTOSTART": False,
    })
    return {(rule.endpoint, method): rule for rule in app.url_map.iter_rules() for method in METHODS
            if method in rule.methods}


RULES = _rules()
ROUTES = sorted(NEEDS, key=lambda route: (RULES[route].rule, route[1]))


def test_every_route_is_classified():
    """A new route fails here until it is given its role rule above (or said to touch no project)."""
    unclassified = set(RULES) - set(NEEDS) - NOT_PROJECT_SCOPED
    assert not unclassified, f"classify these routes in tests/test_roles.py: {sorted(unclassified)}"
    assert not set(NEEDS) & NOT_PROJECT_SCOPED
    assert set(NEEDS) | NOT_PROJECT_SCOPED <= set(RULES), "a classified route no longer exists"


def _image_size(app, image_id: str) -> tuple[int, int]:
    with app.app_context():
        image = db.session.get(ImageRow, image_id)
        return image.width, image.height


@pytest.fixture
def team(app) -> dict:
    """A project of `owner` shared with an editor, a reviewer, a viewer and `target` (a viewer whose
    membership and comment the member routes act on), with one of everything in it."""
    with app.app_context():
        users = {name: accounts.register(f"{name}@example.com", PASSWORD, name.title()).id
                 for name in (*ROLES, "target")}
        owner = users["owner"]
        project_id = projects.create_project(owner, "Shared mugs").id
        character_id = characters.create_character(owner, project_id, "Bunny", png_bytes((120, 120))).id
        # A second view, so that removing one is allowed (the last one stays).
        character_image_id = characters.add_image(owner, character_id, png_bytes((120, 120)), "side").images[-1].id
        generation_id = generations.submit_generation(
            owner, project_id, mode="ip-change", source_image=png_bytes((160, 120)), character_id=character_id).id
        assert run_job(app, generation_id) == "succeeded"
        image_id, other_image_id = [image.id for image in generations.get_generation(owner, generation_id).images]
        for name, role in (("editor", "editor"), ("reviewer", "reviewer"), ("viewer", "viewer"), ("target", "viewer")):
            members.add_member(owner, project_id, f"{name}@example.com", role)
        comment_id = review.add_comment(users["target"], image_id, "Rounder ears?").id
        entry_id = history.save_to_history(owner, image_id, "keep")[0].id
        batch_id = batches.create_batch(owner, project_id, mode="ip-change", sources=[png_bytes((160, 120))],
                                        character_ids=[character_id], options=batches.Options()).id
    return {"users": users, "ids": {
        "project_id": project_id, "character_id": character_id, "character_image_id": character_image_id,
        "generation_id": generation_id,
        "image_id": image_id, "other_image_id": other_image_id, "comment_id": comment_id, "entry_id": entry_id, "batch_id": batch_id,
        "user_id": users["target"], "kind": "source", "variant": "2k", "version": "original", "index": 0,
    }}


def _mask(size: tuple[int, int]) -> bytes:
    mask = Image.new("L", size, 0)
    mask.paste(255, (0, 0, size[0] // 4, size[1] // 4))
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    return buffer.getvalue()


def _files(**files: bytes) -> dict:
    return {name: (io.BytesIO(data), f"{name}.png") for name, data in files.items()}


def _request(app, endpoint: str, ids: dict) -> dict:
    """Keyword arguments of client.open for a request that succeeds for someone allowed."""
    region = {"x": 0, "y": 0, "width": 16, "height": 16}
    multipart = "multipart/form-data"
    forms = {
        "projects.edit": {"data": {"name": "Renamed", "description": ""}},
        "projects.add_member": {"data": {"email": "stranger@example.com", "role": "viewer"}},
        "projects.change_member": {"data": {"role": "editor"}},
        "characters.index": {"data": {"name": "Fox", **_files(image=png_bytes((90, 90)))}, "content_type": multipart},
        "characters.add_image": {"data": {"view": "back", **_files(image=png_bytes((90, 90)))},
                                 "content_type": multipart},
        "characters.edit": {"data": {"name": "Bunny", "description": "Long ears"}},
        "generate.new": {"data": {"mode": "sketch-to-real", "character_id": "",
                                  **_files(source_image=png_bytes((160, 120)))}, "content_type": multipart},
        "generate.select": {"data": {"image_id": ids["other_image_id"]}},
        "images.edit": {"data": {"prompt": "bluer", **_files(mask=_mask(_image_size(app, ids["image_id"])))},
                        "content_type": multipart},
        "images.save_to_history": {"data": {"note": "kept"}},
        "exports.selection": {"data": {"image_id": ids["image_id"]}},
        "images.set_review": {"data": {"state": "approved", "comment": "Good to go"}},
        "images.add_comment": {"data": {"body": "Nice", "region_x": "2", "region_y": "2",
                                        "region_width": "10", "region_height": "10"}},
        "api.update_project": {"json": {"name": "Renamed"}},
        "api.add_member": {"json": {"email": "stranger@example.com", "role": "viewer"}},
        "api.change_member": {"json": {"role": "editor"}},
        "api.create_character": {"data": {"name": "Fox", **_files(image=png_bytes((90, 90)))},
                                 "content_type": multipart},
        "api.add_character_image": {"data": {"view": "back", **_files(image=png_bytes((90, 90)))},
                                    "content_type": multipart},
        "api.update_character": {"json": {"description": "Long ears"}},
        "api.submit_generation": {"data": {"project_id": ids["project_id"], "mode": "sketch-to-real",
                                           **_files(source_image=png_bytes((160, 120)))}, "content_type": multipart},
        "api.select_image": {"json": {"image_id": ids["other_image_id"]}},
        "api.edit_image": {"json": {"image_id": ids["image_id"], "prompt": "bluer", "region": region}},
        "api.review_image": {"json": {"state": "approved", "comment": "Good to go"}},
        "api.add_comment": {"json": {"body": "Nice", "region": region}},
        "batches.new": {"data": {"mode": "sketch-to-real", **_files(source_image=png_bytes((160, 120)))},
                        "content_type": multipart},
        "api.create_batch": {"data": {"project_id": ids["project_id"], "mode": "sketch-to-real",
                                      **_files(source_image=png_bytes((160, 120)))}, "content_type": multipart},
    }
    return forms.get(endpoint, {})


def _signed_in(app, endpoint: str, role: str):
    """A client of `role`'s user: the browser session for pages, a bearer token for the API."""
    client = app.test_client()
    if endpoint.startswith("api."):
        api = ApiClient(client)
        body = api.post("/api/auth/login", json={"email": f"{role}@example.com", "password": PASSWORD}).get_json()
        api.token = body["access_token"]
        return api
    client.post("/auth/login", data={"email": f"{role}@example.com", "password": PASSWORD})
    return client


def _url(app, rule: Rule, ids: dict) -> str:
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, {name: ids[name] for name in rule.arguments})


def _send(client, method: str, url: str, arguments: dict):
    if isinstance(client, ApiClient):
        return client.request(method, url, **arguments)
    return client.open(url, method=method, **arguments)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=[f"{method} {RULES[(e, method)].rule}" for e, method in ROUTES])
def test_role_gets_the_contracts_status(app, team, route, role):
    endpoint, method = route
    ids = team["ids"]
    client = _signed_in(app, endpoint, role)
    before = snapshot(app)
    response = _send(client, method, _url(app, RULES[route], ids), _request(app, endpoint, ids))
    if role == "stranger":
        assert response.status_code == 404, response.get_data(as_text=True)[:500]
    elif NEEDS[route] in ALLOWED[role]:
        assert 200 <= response.status_code < 400, response.get_data(as_text=True)[:500]
        return
    else:
        assert response.status_code == 403, response.get_data(as_text=True)[:500]
    if isinstance(client, ApiClient):
        assert_error(response, response.status_code, "NOT_FOUND" if role == "stranger" else "FORBIDDEN")
    assert snapshot(app) == before
