"""One form, one job. Every rendered generate form carries a random one-time token; the generation it
makes keeps it (unique per owner), so the same form sent again (Back and submit, a double click, a
retried POST) finds that generation instead of queueing a second one."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import N_, Invalid
from ..extensions import db
from ..models import Generation

_TOKEN = re.compile(r"[0-9a-f]{32}")


def new_token() -> str:
    return secrets.token_hex(16)


def checked(token: str | None) -> str | None:
    """The token as stored, None when the client sent none; a malformed one is refused."""
    if not token:
        return None
    if not _TOKEN.fullmatch(token):
        raise Invalid(N_("This form is damaged. Please reload the page and send it again."))
    return token


def made_by(owner_id: str, token: str | None) -> Generation | None:
    """The owner's generation this form already made, if any."""
    token = checked(token)
    if token is None:
        return None
    return db.session.scalar(select(Generation).where(Generation.owner_id == owner_id, Generation.submission == token))


class AlreadyMade(Exception):
    """The same form was sent twice at once and the other request committed first: here is its generation."""

    def __init__(self, generation: Generation) -> None:
        super().__init__(generation.id)
        self.generation = generation


def commit_once(generation: Generation) -> None:
    """Commit the new generation; raise AlreadyMade when its token was taken meanwhile (so the caller's
    staged files are removed and the first request's generation is answered)."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        first = made_by(generation.owner_id, generation.submission)
        if first is None:
            raise
        raise AlreadyMade(first) from None
