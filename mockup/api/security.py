"""Who is calling the API: a bearer access token, or the browser's session cookie for calls made from
the app's own pages. A cookie is sent by the browser on its own, so cookie calls that change something
must carry the CSRF token; a bearer token is never sent implicitly, so bearer calls need none."""
from __future__ import annotations

from functools import wraps
from typing import Callable, TypeVar

from flask import current_app, g, request
from flask.typing import ResponseReturnValue

from .. import extensions
from ..callers import Caller, authenticate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable)


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
