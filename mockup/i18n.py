"""Language choice: the user's own setting, else the browser's Accept-Language. (Sentences are marked for
the catalog with errors.N_ where they are written.)"""
from __future__ import annotations

from flask import request
from flask_login import current_user

LANGUAGES = {"en": "English", "ko": "한국어"}


def select_locale() -> str | None:
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(list(LANGUAGES))

