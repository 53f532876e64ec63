"""Secrets handed out once (API refresh tokens, invitation codes, password-reset links): a random,
unguessable code for the holder, and only its SHA-256 in the database, so a copy of the database opens
nothing."""
from __future__ import annotations

import hashlib
import secrets


def new_code() -> str:
    return secrets.token_urlsafe(32)


def digest(code: str) -> str:
    return hashlib.sha256((code or "").encode("utf-8")).hexdigest()
