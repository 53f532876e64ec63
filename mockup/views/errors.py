"""Error pages for the HTML side."""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..errors import ServiceError
from .messages import translate


def register(app: Flask) -> None:
    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        message = _("The file is too large. Upload images of at most 10 MB.")
        return render_template("error.html", status=413, message=message), 413

    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        headers = {"Retry-After": str(error.retry_after)} if hasattr(error, "retry_after") else {}
        message = translate(error.message)
        return render_template("error.html", status=error.status, message=message), error.status, headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_template("error.html", status=error.code, message=error.description), error.code
