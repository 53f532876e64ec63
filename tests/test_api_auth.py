"""/api/auth: registration, login, tokens (expiry, tampering, refresh, revocation at logout and on a
password change) and /me."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from mockup.services import accounts, tokens

from .api_support import PASSWORD, ApiClient, assert_error, assert_shape

LOGIN_KEYS = {"access_token", "refresh_token", "token_type", "expires_in", "user"}
REFRESH_KEYS = {"access_token", "token_type", "expires_in"}


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


def test_register_answers_201_with_the_user(api):
    response = api.post("/api/auth/register", json={"email": "New@Example.com", "password": PASSWORD, "name": "New"})
    assert response.status_code == 201
    assert set(response.get_json()) == {"user"}
    user = response.get_json()["user"]
    assert_shape(user, "user")
    assert user["email"] == "new@example.com" and user["name"] == "New"
    assert user["created_at"].endswith("Z")


def test_register_a_taken_email_is_409(api, alice):
    response = api.post("/api/auth/register", json={"email": "alice@example.com", "password": PASSWORD, "name": "A"})
    assert_error(response, 409, "CONFLICT", "email")


@pytest.mark.parametrize("body,field", [
    ({"email": "x@example.com", "password": PASSWORD}, "name"),
    ({"email": "x@example.com", "password": "short", "name": "X"}, "password"),
    ({"email": "not-an-email", "password": PASSWORD, "name": "X"}, "email"),
    ({"email": 5, "password": PASSWORD, "name": "X"}, "email"),
])
def test_register_bad_input_is_422_naming_the_field(api, body, field):
    assert_error(api.post("/api/auth/register", json=body), 422, "VALIDATION", field)


def test_register_needs_a_json_object(api):
    assert_error(api.post("/api/auth/register", data={"email": "x@example.com"}), 415, "UNSUPPORTED_MEDIA")
    assert_error(api.post("/api/auth/register", data="{nope", content_type="application/json"), 400, "BAD_REQUEST")
    assert_error(api.post("/api/auth/register", json=["x@example.com"]), 400, "BAD_REQUEST")


def test_login_answers_tokens_and_the_user(api, alice):
    response = api.post("/api/auth/login", json={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == LOGIN_KEYS
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert_shape(body["user"], "user")
    header = jwt.get_unverified_header(body["access_token"])
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert header["alg"] == "HS256" and claims["exp"] - claims["iat"] == 15 * 60
    assert claims["sub"] == body["user"]["id"]


@pytest.mark.parametrize("email,password", [("alice@example.com", "wrong password"), ("nobody@example.com", PASSWORD)])
def test_login_with_bad_credentials_is_401(api, alice, email, password):
    assert_error(api.post("/api/auth/login", json={"email": email, "password": password}), 401, "UNAUTHORIZED")


def test_login_without_password_is_422(api):
    assert_error(api.post("/api/auth/login", json={"email": "alice@example.com"}), 422, "VALIDATION", "password")


def test_me_answers_the_user(alice):
    response = alice.get("/api/auth/me")
    assert response.status_code == 200 and set(response.get_json()) == {"user"}
    assert response.get_json()["user"] == alice.user


def test_refresh_gives_a_working_access_token(client, alice):
    response = ApiClient(client).post("/api/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == REFRESH_KEYS and body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert ApiClient(client, body["access_token"]).get("/api/auth/me").status_code == 200


def test_refresh_with_a_bad_token_is_refused(api):
    assert_error(api.post("/api/auth/refresh", json={"refresh_token": "made-up"}), 401, "UNAUTHORIZED")
    assert_error(api.post("/api/auth/refresh", json={}), 422, "VALIDATION", "refresh_token")


def sign_in_again(client) -> ApiClient:
    """A second sign-in of alice, as from another device."""
    body = ApiClient(client).post("/api/auth/login", json={"email": "alice@example.com", "password": PASSWORD}).get_json()
    return ApiClient(client, body["access_token"], body["refresh_token"])


def test_logout_revokes_the_refresh_token_and_its_access_tokens(client, alice):
    other_device = sign_in_again(client)
    assert alice.post("/api/auth/logout", json={"refresh_token": alice.refresh_token}).status_code == 204
    assert_error(ApiClient(client).post("/api/auth/refresh", json={"refresh_token": alice.refresh_token}),
                 401, "UNAUTHORIZED")
    assert_error(alice.get("/api/auth/me"), 401, "UNAUTHORIZED")
    # Another sign-in of the same account goes on.
    assert other_device.get("/api/auth/me").status_code == 200
    assert ApiClient(client).post("/api/auth/refresh", json={"refresh_token": other_device.refresh_token}).status_code == 200


def test_logout_without_body_ends_the_bearer_sign_in(client, alice):
    assert alice.post("/api/auth/logout").status_code == 204
    assert_error(ApiClient(client).post("/api/auth/refresh", json={"refresh_token": alice.refresh_token}),
                 401, "UNAUTHORIZED")


def test_logout_cannot_revoke_someone_elses_refresh_token(client, alice, bob):
    assert alice.post("/api/auth/logout", json={"refresh_token": bob.refresh_token}).status_code == 204
    assert ApiClient(client).post("/api/auth/refresh", json={"refresh_token": bob.refresh_token}).status_code == 200


def test_password_change_revokes_every_api_sign_in(app, client, alice):
    with app.app_context():
        accounts.change_password(alice.user["id"], PASSWORD, "another long password")
    assert_error(alice.get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert_error(ApiClient(client).post("/api/auth/refresh", json={"refresh_token": alice.refresh_token}),
                 401, "UNAUTHORIZED")


def test_expired_access_token_is_refused(app, client, alice, monkeypatch):
    sixteen_minutes_ago = tokens.utcnow() - timedelta(minutes=16)
    monkeypatch.setattr(tokens, "utcnow", lambda: sixteen_minutes_ago)
    with app.test_request_context():
        old = tokens.refresh(alice.refresh_token).token
    monkeypatch.undo()
    error = assert_error(ApiClient(client, old).get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert "expired" in error["message"]


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.filterwarnings("ignore:The HMAC key")  # the test's own forgery uses the short test key
def test_tampered_access_tokens_are_refused(app, client, alice, bob):
    header, payload, signature = _segments(alice.token)
    claims = jwt.decode(alice.token, options={"verify_signature": False})
    forged = {
        "claims changed": f"{header}.{_b64({**claims, 'sub': bob.user['id']})}.{signature}",
        "signature changed": f"{header}.{payload}.{signature[:-4]}AAAA",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "signed with SECRET_KEY itself": jwt.encode(claims, app.config["SECRET_KEY"], algorithm="HS256"),
        "a refresh token": alice.refresh_token,
        "garbage": "abc",
    }
    for name, token in forged.items():
        assert ApiClient(client, token).get("/api/auth/me").status_code == 401, name


def test_only_the_bearer_scheme_is_accepted(client, alice):
    response = ApiClient(client).get("/api/auth/me", headers={"Authorization": f"Token {alice.token}"})
    assert_error(response, 401, "UNAUTHORIZED")
