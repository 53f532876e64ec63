"""The project's own exceptions. Services raise them; each caller maps them to its medium
(form errors and flashes in HTML views, the JSON error envelope in the API, a failed job in workers).

One family: every exception a service, an engine or the imaging code raises on purpose is a ServiceError,
with a `code` and a `message` for people. A job's work fails with a JobFailed (engines.base.EngineError,
imaging.upscale.UpscaleError), whose code is one of the job error codes below."""
from __future__ import annotations

# The job error codes of the API contract (shared/API.md, generation.error.code).
API_RATE_LIMIT = "API_RATE_LIMIT"
INVALID_IMAGE = "INVALID_IMAGE"
CONTENT_POLICY = "CONTENT_POLICY"
TIMEOUT = "TIMEOUT"
UNKNOWN = "UNKNOWN"


def N_(message: str) -> str:
    """Mark a sentence for translation where it is written (babel.cfg extracts N_); it stays English
    here, and the page that shows it translates it in the reader's language."""
    return message


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

    def __init__(self, message: str = N_("Not found."), **kwargs):
        super().__init__(message, **kwargs)


class Unauthorized(ServiceError):
    """Missing, expired or revoked credentials, or a wrong password at login."""

    code = "UNAUTHORIZED"
    status = 401


class Forbidden(ServiceError):
    """Signed in, but this account may not do this: its role in the project, or not being an admin."""

    code = "FORBIDDEN"
    status = 403

    def __init__(self, message: str = N_("Your role in this project does not allow this."), **kwargs):
        super().__init__(message, **kwargs)


class BudgetExceeded(ServiceError):
    """The request would take the user past their monthly budget (fields: budget_usd, spent_usd)."""

    code = "BUDGET_EXCEEDED"
    status = 402


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



class JobFailed(ServiceError):
    """A job's work that failed: `code` is a job error code (above), `message` a sentence a designer
    understands, `detail` (a tool's stderr, a status) is for the logs only; `values` are columns of the
    job row stored with the failure (what the failed calls cost, the model's own words)."""

    status = 502

    def __init__(self, code: str, message: str, *, retryable: bool = False, detail: str = "",
                 values: dict[str, object] | None = None):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.detail = detail
        self.values = values or {}
