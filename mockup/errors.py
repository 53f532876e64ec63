"""The project's own exceptions. Services raise them; each caller maps them to its medium
(form errors and flashes in HTML views, the JSON error envelope in the API, a failed job in workers)."""
from __future__ import annotations


class ServiceError(Exception):
    code = "BAD_REQUEST"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(ServiceError):
    code = "NOT_FOUND"
    status = 404

    def __init__(self, message: str = "Not found.", **kwargs):
        super().__init__(message, **kwargs)


class Unauthorized(ServiceError):
    """Missing, expired or revoked credentials, or a wrong password at login."""

    code = "UNAUTHORIZED"
    status = 401


class Invalid(ServiceError):
    code = "VALIDATION"
    status = 422


class Conflict(ServiceError):
    code = "CONFLICT"
    status = 409


class TooLarge(ServiceError):
    code = "TOO_LARGE"
    status = 413


class UnsupportedMedia(ServiceError):
    code = "UNSUPPORTED_MEDIA"
    status = 415


class QueueFull(ServiceError):
    code = "QUEUE_FULL"
    status = 503
    retry_after = 30


class Unavailable(ServiceError):
    code = "UNAVAILABLE"
    status = 503
    retry_after = 30
