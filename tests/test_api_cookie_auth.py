"""Calls from the app's own pages: the browser session cookie works for /api, and then a request that
changes something must carry the CSRF token; a bearer request never needs one."""
from __future__ import annotations

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf

from mockup.services import accounts

from .api_support import PASSWORD, ApiClient, assert_error, sign_up


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def browser_sign_in(app, client) -> str:
    """Sign a browser in the way the login page does (a LoginSession id in the session cookie) and
    return the CSRF token its pages would carry."""
    with app.app_context():
        user = accounts.register("page@example.com", PASSWORD, "Page")
        session_id = accounts.start_session(user.id)
    field = app.config["WTF_CSRF_FIELD_NAME"]
    with app.test_request_context():
        token = generate_csrf()
        raw = session[field]
    with client.session_transaction() as browser:
        browser["_user_id"], browser["_fresh"], browser[field] = session_id, True, raw
    return token


def test_session_cookie_reads_without_csrf(app, client):
    browser_sign_in(app, client)
    response = ApiClient(client).get("/api/auth/me")
    assert response.status_code == 200 and response.get_json()["user"]["email"] == "page@example.com"


def test_session_cookie_write_needs_the_csrf_token(app, client):
    token = browser_sign_in(app, client)
    browser = ApiClient(client)
    assert_error(browser.post("/api/projects", json={"name": "No token"}), 400, "BAD_REQUEST")
    assert browser.get("/api/projects").get_json()["items"] == []
    response = browser.post("/api/projects", json={"name": "With token"}, headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_bearer_write_needs_no_csrf_token(client):
    api = sign_up(client, "script@example.com")
    assert api.post("/api/projects", json={"name": "From a script"}).status_code == 201
