"""Language choice (the user's own setting, else the browser's Accept-Language) and the mark for
sentences translated where they are shown."""
from __future__ import annotations

from flask import request
from flask_login import current_user

LANGUAGES = {"en": "English", "ko": "한국어"}


def select_locale() -> str | None:
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(list(LANGUAGES))


def N_(message: str) -> str:
    """Mark a sentence for the catalog (babel.cfg extracts N_) without translating it here: services and
    limits speak English, as the JSON API and the CLI do; the HTML side shows it with gettext(message)."""
    return message
