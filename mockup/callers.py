"""Who is calling: the user of the browser session, or, under /api, the user of a bearer access token
(else that same session cookie, for calls made from the app's own pages).

It sits above the services (a bearer token is looked up by services.tokens) and below both the API
(mockup.api.security builds login_required on it) and the rate limiter of extensions.py, whose key it
computes: create_app installs rate_limit_key there, so extensions.py imports nothing of the app."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request
from flask_login import current_user

from . import extensions
from .errors import Unauthorized
from .models import User
from .services import tokens

LOGIN_FIRST = "Log in first: send 'Authorization: Bearer <access_token>'."


@dataclass(frozen=True)
class Caller:
    user: User
    sign_in_id: str | None  # the API sign-in behind a bearer token; None for the browser session


def init_app(app: Flask) -> None:
    app.extensions["rate_limit_key"] = rate_limit_key


def authenticate() -> Caller:
    """The API caller of this request, resolved once and kept in g.api_user (the rate-limit key reads it
    before the view runs). Unauthorized without valid credentials."""
    if "api_user" not in g:
        g.api_user = _resolve()
    return g.api_user


def _resolve() -> Caller:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send the access token as 'Authorization: Bearer <access_token>'.")
        found = tokens.bearer(token.strip())
        return Caller(found.user, found.sign_in_id)
    if current_user.is_authenticated:
        return Caller(current_user.user, None)
    raise Unauthorized(LOGIN_FIRST)


def rate_limit_key() -> str:
    """The signed-in user, by the browser session or, under /api, by the bearer token; else the address.
    The limiter runs before any view, so the API's caller is resolved here; bad credentials count
    against the address."""
    if request.blueprint == "api":
        try:
            return f"user:{authenticate().user.id}"
        except Unauthorized:
            return extensions.address_key()
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return extensions.address_key()
