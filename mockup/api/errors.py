"""The error envelope of shared/API.md for everything under /api:
`{"error": {"code": "<CODE>", "message": "<human sentence>", "fields": {...optional}}}`.

Blueprint handlers cover every request routed to the API. Routing errors (an unknown path, a wrong
method) happen before Flask knows the blueprint, so register_app_handlers adds app-level handlers that
answer JSON under /api and leave every other path to the HTML error pages registered before them.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Callable

from flask import Blueprint, Flask, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge

from ..errors import ServiceError
from ..extensions import limiter

log = logging.getLogger(__name__)

PREFIX = "/api/"
CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT",
    413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA", 422: "VALIDATION", 429: "RATE_LIMITED", 503: "UNAVAILABLE",
}
# Our sentences where Werkzeug's default descriptions speak to developers of Werkzeug, not API users.
# A 429 carries its limit's own sentence (extensions.py, security.py) as its description.
MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept this HTTP method.",
    413: "The request is too large. Images may be at most 10 MB each.",
}
INTERNAL_MESSAGE = "Something went wrong on the server. Please try again."
DEFAULT_RETRY_AFTER_S = 60


Reply = tuple[Response, int, dict[str, str]]


def envelope(status: int, code: str, message: str, fields: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Reply:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status, headers or {}


def service_error(error: ServiceError) -> Reply:
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return envelope(error.status, error.code, error.message, error.fields, headers)


def http_error(error: HTTPException) -> Reply:
    status = error.code or 500
    if status >= 500:
        return internal_error(error)
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    if status == 429:
        headers["Retry-After"] = str(_rate_limit_reset_s())
    message = MESSAGES.get(status) or error.description or "The request could not be handled."
    return envelope(status, CODES.get(status, "BAD_REQUEST"), message, headers=headers)


def internal_error(error: Exception) -> Reply:
    """500 with a plain sentence; the traceback goes to the log, never to the client."""
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return envelope(500, "INTERNAL", INTERNAL_MESSAGE)


def _rate_limit_reset_s() -> int:
    current = limiter.current_limit
    if current is None:
        return DEFAULT_RETRY_AFTER_S
    # reset_at is rounded up by a second; never ask for more than the limit's window.
    return max(1, min(current.limit.get_expiry(), math.ceil(current.reset_at - time.time())))


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ServiceError, service_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(Exception, internal_error)


def register_app_handlers(app: Flask) -> None:
    """JSON for errors raised before routing reached the blueprint; call after the HTML handlers."""
    for exc_class in (NotFound, MethodNotAllowed, RequestEntityTooLarge):
        app.register_error_handler(exc_class, _api_first(http_error, _registered_handler(app, exc_class)))


def _registered_handler(app: Flask, exc_class: type[HTTPException]) -> Callable | None:
    """The app-level handler Flask would pick for exc_class now (by status code, then by class)."""
    for code in (exc_class.code, None):
        handlers = app.error_handler_spec[None].get(code, {})
        for cls in exc_class.__mro__:
            if cls in handlers:
                return handlers[cls]
    return None


def _api_first(api_handler: Callable, other: Callable | None) -> Callable:
    def handle(error: HTTPException) -> ResponseReturnValue:
        if request.path.startswith(PREFIX) or request.path == PREFIX.rstrip("/"):
            return api_handler(error)
        return other(error) if other else error

    return handle
