"""Language choice: the user's own setting, else the browser's Accept-Language. (Sentences are marked for
the catalog with errors.N_ where they are written.)

The templates' translations and dates read the request's language once. Flask-Babel's own helpers look
it up again on every call (the locale, the domain and the cache through `g`, a dozen context-local
reads); a page of a hundred history rows translates some seven hundred labels and formats a hundred
dates, and those lookups were a third of its time (bench/scale_bench.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, TypeVar

import flask_babel
from babel import dates
from babel.support import NullTranslations
from flask import Flask, g, request
from flask_login import current_user

LANGUAGES = {"en": "English", "ko": "한국어"}
T = TypeVar("T")


def select_locale() -> str | None:
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(list(LANGUAGES))


def install_template_helpers(app: Flask) -> None:
    """In place of Flask-Babel's: the templates' _() and friends and the datetimeformat filter."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: _translations().ugettext(string),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: _translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.filters["datetimeformat"] = format_datetime


def format_datetime(value: datetime, format: str = "medium") -> str:
    """Flask-Babel's format_datetime: in the user's language and time zone (naive values are UTC)."""
    return dates.format_datetime(value, format, tzinfo=_per_request("timezone", flask_babel.get_timezone),
                                 locale=_per_request("locale", flask_babel.get_locale))


def _translations() -> NullTranslations:
    return _per_request("translations", flask_babel.get_translations)


def _per_request(name: str, read: Callable[[], T]) -> T:
    """`read()` once per app context (a request's, or a job's); without one, read each time."""
    if not g:
        return read()
    cache: dict = g.setdefault("_i18n", {})
    if name not in cache:
        cache[name] = read()
    return cache[name]
