"""Error pages for the HTML side (registered app-wide by the factory's register_errorhandlers)."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from ..errors import ServiceError
from ..http.retry import retry_after_error

PageReply = tuple[str, int, dict[str, str]]


def service_error(error: ServiceError) -> PageReply:
    return _page(error.status, gettext(error.message), retry_after_error(error))


def http_error(error: HTTPException) -> PageReply:
    status = error.code or 500
    message = gettext("The file is too large. Upload images of at most 10 MB.") if status == 413 else gettext(error.description)
    return _page(status, message, retry_after_error(error))


def _page(status: int, message: str, headers: dict[str, str]) -> PageReply:
    return render_template("error.html", status=status, message=message), status, headers
