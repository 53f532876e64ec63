"""Who is calling the API: a bearer access token, or the browser's session cookie for calls made from
the app's own pages. A cookie is sent by the browser on its own, so cookie calls that change something
must carry the CSRF token; a bearer token is never sent implicitly, so bearer calls need none."""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from typing import Callable, TypeVar

from flask import current_app, g, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import extensions
from ..errors import Unauthorized
from ..models import User
from ..services import tokens

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_FIRST = "Log in first: send 'Authorization: Bearer <access_token>'."
F = TypeVar("F", bound=Callable)


@dataclass(frozen=True)
class Caller:
    user: User
    sign_in_id: str | None  # the API sign-in behind a bearer token; None for the browser session


def authenticate() -> Caller:
    """The caller of this request, resolved once and kept in g.api_user (the rate-limit key reads it
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


def login_required(view: F) -> F:
    """Refuse the request with 401 unless it has a valid caller; CSRF for cookie calls that change things."""
    @wraps(view)
    def wrapper(*args, **kwargs) -> ResponseReturnValue:
        by_cookie = authenticate().sign_in_id is None
        if by_cookie and request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            extensions.csrf.protect()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def caller() -> Caller:
    """The authenticated caller inside a login_required view."""
    return g.api_user


def owner_id() -> str:
    return g.api_user.user.id


def rate_limit_key() -> str:
    """The API's rate-limit key: the bearer or cookie user, else the client address. The limiter runs
    before the view, so it resolves the caller itself; bad credentials count against the address."""
    try:
        return f"user:{authenticate().user.id}"
    except Unauthorized:
        return extensions.address_key()
