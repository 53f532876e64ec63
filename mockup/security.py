"""HTTP-level defences, wired in one place: security headers (Flask-Talisman), CORS for the JSON API
(Flask-CORS) and the limits on failed sign-ins. docs/SECURITY.md maps each threat to its defence and its
test."""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import Flask, Response, request
from flask_cors import CORS
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman

from .errors import N_
from .extensions import limiter
from .http.guard import json_body
from .services.accounts import normalize_email

# Pages load scripts, styles and images only from this app and no page runs inline script. The one
# inline style attribute (the before/after figure's aspect ratio, set per image) is allowed through
# style-src-attr, which does not allow <style> elements.
PAGE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'self'",
}
# Everything that is not an HTML page (stored images, downloads, JSON): opened directly in a tab,
# nothing in it may run or load anything, even if a browser took it for a document.
FILE_CSP = "default-src 'none'; sandbox"
HSTS_MAX_AGE_S = 365 * 24 * 3600
REFERRER_POLICY = "strict-origin-when-cross-origin"

API_RESOURCES = r"/api/*"
CORS_METHODS = ["GET", "POST", "PATCH", "DELETE"]
CORS_HEADERS = ["Authorization", "Content-Type"]
CORS_EXPOSED = ["Location", "Retry-After"]

# A password guesser gets 10 tries per account and per address in 15 minutes, over the pages and the
# API together (shared scopes); successful sign-ins are not counted.
FAILED_LOGINS = "10 per 15 minutes"
FAILED_LOGIN_STATUSES = frozenset({401, 422})
FAILED_LOGIN_MESSAGE = N_("Too many failed sign-ins. Please wait 15 minutes and try again.")

F = TypeVar("F", bound=Callable)


def init_security(app: Flask) -> None:
    """Add the security headers to every response and CORS to the API (called by create_app; the
    factory's register_hooks adds file_policy before this, so that it runs after Talisman's hook)."""
    # One Talisman per app rather than an unbound one in extensions.py: it keeps its settings (and the
    # app) on the instance, so a shared instance would mix up the apps a test process creates.
    app.extensions["talisman"] = Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=True,
        strict_transport_security_max_age=HSTS_MAX_AGE_S,
        content_security_policy=PAGE_CSP,
        referrer_policy=REFERRER_POLICY,
        frame_options="SAMEORIGIN",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
    )
    if app.config["CORS_ORIGINS"]:
        CORS(app, resources={API_RESOURCES: {
            "origins": app.config["CORS_ORIGINS"], "methods": CORS_METHODS, "allow_headers": CORS_HEADERS,
            "expose_headers": CORS_EXPOSED, "supports_credentials": False,
        }})


def file_policy(response: Response) -> Response:
    """Only HTML pages get the page policy; every other response gets the strictest one."""
    if response.mimetype != "text/html":
        response.headers["Content-Security-Policy"] = FILE_CSP
    return response


def no_body_no_type(response: Response) -> Response:
    """A 204 has no body, so it names no body type (Flask would call its empty body text/html)."""
    if response.status_code == 204:
        del response.headers["Content-Type"]
    return response


def _failed_login(response: Response) -> bool:
    return response.status_code in FAILED_LOGIN_STATUSES


def _login_email_key() -> str:
    """The account a sign-in names, read from the form or the JSON body, spelled as accounts stores it."""
    body = json_body() if request.is_json else request.form  # the body guard.py has already checked
    email = body.get("email") if isinstance(body, dict) else None  # the form's MultiDict is a dict
    return "login-email:" + normalize_email(email if isinstance(email, str) else "")


def _login_address_key() -> str:
    return f"login-addr:{get_remote_address()}"


def limit_failed_logins(view: F) -> F:
    """Decorate a sign-in view (HTML or API) with the per-account and per-address failure limits, on top
    of the app-wide 60 a minute. They are checked before a sign-in attempt (a POST) and counted after it,
    only when it was refused."""
    for scope, key in (("failed-login-email", _login_email_key), ("failed-login-address", _login_address_key)):
        view = limiter.shared_limit(
            FAILED_LOGINS, scope=scope, key_func=key, methods=["POST"], deduct_when=_failed_login,
            error_message=FAILED_LOGIN_MESSAGE,
        )(view)
    return view
