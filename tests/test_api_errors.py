"""The error envelope everywhere under /api (unknown routes, wrong methods, large bodies, crashes), while
the HTML pages keep their own error pages."""
from __future__ import annotations

from mockup.services import projects

from .api_support import assert_error
from .conftest import png_bytes


def test_unknown_api_routes_are_404_envelopes(client, alice):
    for path in ("/api/nothing-here", "/api", "/api/projects/x/y/z"):
        response = alice.get(path)
        assert response.mimetype == "application/json"
        assert_error(response, 404, "NOT_FOUND")


def test_a_wrong_method_is_405_envelope_with_allow(alice):
    response = alice.request("PUT", "/api/projects")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_a_body_over_the_request_limit_is_413_envelope(app, alice):
    project_id = alice.post("/api/projects", json={"name": "Big"}).get_json()["project"]["id"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = alice.post_form(f"/api/projects/{project_id}/characters", {"name": "Big", "image": png_bytes((400, 400))})
    assert_error(response, 413, "TOO_LARGE")


def test_a_crash_is_500_without_details(alice, monkeypatch):
    def explode(owner_id):
        raise RuntimeError("secret internals at /srv/mockup")

    monkeypatch.setattr(projects, "list_projects", explode)
    response = alice.get("/api/projects")
    assert_error(response, 500, "INTERNAL")
    body = response.get_data(as_text=True)
    assert "secret" not in body and "Traceback" not in body and "RuntimeError" not in body


def test_html_pages_keep_their_own_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
