"""Error pages for the HTML side (registered app-wide by the factory's register_errorhandlers)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..errors import ServiceError
from ..http.retry import retry_after_error
from .common import safe_next

PageReply = tuple[str, int, dict[str, str]]


def service_error(error: ServiceError) -> PageReply:
    return _page(error.status, gettext(error.message), retry_after_error(error))


def http_error(error: HTTPException) -> PageReply:
    status = error.code or 500
    message = gettext("The file is too large. Upload images of at most 10 MB.") if status == 413 else gettext(error.description)
    return _page(status, message, retry_after_error(error))


def csrf_error(error: CSRFError) -> Response:
    """A form whose CSRF token no longer matches: the sign-in ended meanwhile (signed out in another tab,
    the password changed) or the form is older than the session. Never a bare 400: a signed-out user goes
    to the sign-in page and from there back to the form; a signed-in one back to the form. What the form
    carried (an upload too) is lost, and the sentence says so."""
    back = _form_page()
    if not current_user.is_authenticated:
        flash(gettext("Your sign-in had ended, so the form was not sent. "
                      "Please sign in, then send it again."), "error")
        return redirect(url_for("auth.login", next=back) if back else url_for("auth.login"), 303)
    flash(gettext("This page was older than your sign-in, so the form was not sent. Please send it again."), "error")
    return redirect(back or url_for("projects.home"), 303)


def _form_page() -> str | None:
    """The page the form was sent from: its own `next`, the address it was posted to when that is a
    page, or the page the browser says it came from (on this site)."""
    referrer = urlsplit(request.referrer or "")
    from_page = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    candidates = [request.form.get("next"), request.full_path.rstrip("?"),
                  from_page if referrer.netloc == request.host else None]
    return next((target for target in map(safe_next, candidates) if target), None)


def _page(status: int, message: str, headers: dict[str, str]) -> PageReply:
    return render_template("error.html", status=status, message=message), status, headers
