"""60 requests per minute per user over the whole API (per address before login), then 429 with
Retry-After; other users are unaffected; /healthz is never limited."""
from __future__ import annotations

import pytest

from .api_support import ApiClient, assert_error, sign_up

LIMIT = 60


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True}


def test_the_61st_request_of_a_user_is_429_and_others_go_on(client):
    alice = sign_up(client, "alice@example.com")
    bob = sign_up(client, "bob@example.com")
    # Spread over several routes: the limit counts the user's requests to the whole API.
    paths = ["/api/auth/me", "/api/projects", "/api/openapi.json"]
    for number in range(LIMIT):
        assert alice.get(paths[number % len(paths)]).status_code == 200, number
    response = alice.get("/api/projects")
    assert_error(response, 429, "RATE_LIMITED")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert bob.get("/api/projects").status_code == 200


def test_before_login_the_address_is_limited(client):
    anonymous = ApiClient(client)
    for _ in range(LIMIT):
        assert anonymous.post("/api/auth/login", json={"email": "x@example.com", "password": "wrong password"}).status_code == 401
    assert_error(anonymous.post("/api/auth/login", json={"email": "x@example.com", "password": "wrong"}), 429, "RATE_LIMITED")


def test_healthz_is_not_limited(client):
    for _ in range(LIMIT + 5):
        assert client.get("/healthz").status_code == 200
