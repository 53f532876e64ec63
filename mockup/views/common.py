"""What every HTML view shares: running a form against a service, turning a service's refusal into
form errors, and safe redirects."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, TypeVar
from urllib.parse import urlsplit

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from ..errors import Forbidden, NotFound, ServiceError
from ..forms import AppForm
from ..http.retry import retry_after_error
from ..i18n import LANGUAGES

T = TypeVar("T")

def owner_id() -> str:
    return current_user.id


@dataclass(frozen=True)
class Done(Generic[T]):
    """A service call that went through, with what it returned (which may be None)."""

    value: T


def apply_service_error(form: AppForm, error: ServiceError) -> None:
    """Show a service's refusal on the form: each field's message under that field, the sentence on top
    (unless it is already shown under a field, as upload errors are)."""
    shown = set()
    for name, message in error.fields.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, gettext(message)]
            shown.add(message)
    if error.message not in shown:
        form.form_errors.append(gettext(error.message))
    form.status = error.status
    form.headers = retry_after_error(error)


def run_form(form: AppForm, action: Callable[[], T]) -> Done[T] | None:
    """Validate a submitted form and run its service call. On a refusal the errors land on the form and
    form.status holds the status of the re-rendered page. NotFound and Forbidden are not form problems:
    they propagate to the 404 page (so another user's ids look exactly like missing ones) and to the
    403 page (a project member whose role may not do this)."""
    if not form.is_submitted():
        return None
    if not form.validate():
        form.status = 422
        return None
    try:
        return Done(action())
    except (NotFound, Forbidden):
        raise
    except ServiceError as error:
        apply_service_error(form, error)
        return None


def render_form(template: str, form: AppForm, **context) -> tuple[str, int, dict[str, str]]:
    return render_template(template, form=form, **context), form.status, form.headers


def perform(form: AppForm, action: Callable[[], T], success: str | Callable[[T], str], fallback: str) -> Response:
    """A one-button POST (select, save, delete...): run it, flash how it went, go back where the user was.
    `success` is the message, or makes it from what the service returned."""
    outcome = run_form(form, action)
    if outcome is not None:
        flash(success(outcome.value) if callable(success) else success, "success")
    # The service's sentence when there is one, else the field messages (a one-button form has no
    # place to show them beside a field).
    for message in form.form_errors or [m for errors in form.errors.values() for m in errors]:
        flash(message, "error")
    return redirect(safe_next(request.form.get("next")) or fallback, 303)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a page of this app that answers GET, else None. Refuses absolute URLs,
    scheme-relative `//host`, backslashes (browsers read `/\\host` as `//host`) and control characters."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    path = parts.path
    if request.script_root and path.startswith(request.script_root + "/"):
        path = path[len(request.script_root):]
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:
        return None
    return target


def redirect_to_next(default_endpoint: str) -> Response:
    return redirect(safe_next(request.values.get("next")) or url_for(default_endpoint), 303)


def uploaded(field) -> bytes | None:
    """The bytes of a file field, or None when no file was chosen; the services judge the content."""
    return field.data.read() if field.data else None


def next_page_url(cursor: str | None, param: str = "cursor", endpoint: str | None = None) -> str | None:
    """This page's address (or `endpoint`'s, with the same arguments) showing the page of one of its
    lists that follows `cursor` (services/paging.py); `param` names the list's cursor in the query
    string when a page has several lists. None on the last page."""
    if cursor is None:
        return None
    return url_for(endpoint or request.endpoint, **{**request.view_args, **request.args.to_dict(), param: cursor})


def layout_context() -> dict:
    """What base.html needs on every page (registered app-wide by the factory's register_hooks), and
    the "load more" links of paged lists."""
    return {"current_locale": str(get_locale() or "en"), "languages": LANGUAGES, "next_page_url": next_page_url}
