"""The error envelope of shared/API.md for everything under /api:
`{"error": {"code": "<CODE>", "message": "<human sentence>", "fields": {...optional}}}`.

The blueprint's handlers answer whatever an API view raises. Routing errors (an unknown path, a wrong
method) happen before Flask knows the blueprint: the factory's app-level HTTPException handler asks
`is_api_request` and answers those with `http_error` too.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import ServiceError
from ..http.retry import retry_after_error

log = logging.getLogger(__name__)

PREFIX = "/api/"
CODES = {
    400: "BAD_REQUEST", 401: "UNAUTHORIZED", 402: "BUDGET_EXCEEDED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "TOO_LARGE", 415: "UNSUPPORTED_MEDIA", 422: "VALIDATION",
    429: "RATE_LIMITED", 503: "UNAVAILABLE",
}
# Our sentences where Werkzeug's default descriptions speak to developers of Werkzeug, not API users.
# A 429 carries its limit's own sentence (extensions.py, security.py) as its description.
MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept this HTTP method.",
    413: "The request is too large. Images may be at most 10 MB each.",
}
INTERNAL_MESSAGE = "Something went wrong on the server. Please try again."


Reply = tuple[Response, int, dict[str, str]]


def envelope(status: int, code: str, message: str, fields: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Reply:
    body: dict = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status, headers or {}


def service_error(error: ServiceError) -> Reply:
    return envelope(error.status, error.code, error.message, error.fields, retry_after_error(error))


def http_error(error: HTTPException) -> Reply:
    status = error.code or 500
    if status >= 500:
        return internal_error(error)
    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    headers.update(retry_after_error(error))
    message = MESSAGES.get(status) or error.description or "The request could not be handled."
    return envelope(status, CODES.get(status, "BAD_REQUEST"), message, headers=headers)


def internal_error(error: Exception) -> Reply:
    """500 with a plain sentence; the traceback goes to the log, never to the client."""
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return envelope(500, "INTERNAL", INTERNAL_MESSAGE)


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ServiceError, service_error)
    bp.register_error_handler(HTTPException, http_error)
    bp.register_error_handler(Exception, internal_error)


def is_api_request() -> bool:
    """Whether the request is addressed to the API, even when no route matched it."""
    return request.blueprint == "api" or request.path == PREFIX.rstrip("/") or request.path.startswith(PREFIX)
