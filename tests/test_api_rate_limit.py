"""60 requests per minute per user over the whole API (per address before login), then 429 with
Retry-After; other users are unaffected; /healthz is never limited. The same counter covers the pages
(tests/test_rate_limits.py)."""
from __future__ import annotations

import pytest

from .api_support import ApiClient, assert_error, sign_up

LIMIT = 60


pytestmark = pytest.mark.rate_limited


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
    # Failed sign-ins have a tighter limit of their own (tests/test_rate_limits.py).
    anonymous = ApiClient(client)
    for _ in range(LIMIT):
        assert_error(anonymous.get("/api/projects"), 401, "UNAUTHORIZED")
    assert_error(anonymous.get("/api/projects"), 429, "RATE_LIMITED")


def test_healthz_is_not_limited(client):
    for _ in range(LIMIT + 5):
        assert client.get("/healthz").status_code == 200
