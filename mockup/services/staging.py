"""Uploads kept for a form that came back with an error (a generate form without a character, a character
without a name), so the designer sends it again without choosing the files again.

Only an upload that passed intake is kept: the bytes as sent (so sending it again goes through exactly
the same checks as a fresh upload) and a thumbnail to show it on the form. It belongs to its owner and
lives KEEP_FOR; `sweep` (the reaper, and every new keep) removes older ones with their files."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import PurePosixPath

from sqlalchemy import delete, select

from .. import storage
from ..errors import ServiceError
from ..extensions import db
from ..imaging.formats import thumbnail
from ..imaging.intake import decode_upload
from ..models import StagedUpload, new_id, utcnow

KEEP_FOR = timedelta(hours=1)
NAME_MAX = 100


def keep(owner_id: str, data: bytes, filename: str | None, *, now: datetime | None = None) -> StagedUpload | None:
    """Keep an upload for its owner's next try of the form; None if it does not pass intake (the form
    shows why already, and nothing is kept)."""
    try:
        picture = decode_upload(data)
    except ServiceError:
        return None
    sweep(now=now)
    staged = StagedUpload(id=new_id(), owner_id=owner_id, filename=_display_name(filename),
                          created_at=now or utcnow())
    staged.path = storage.staged_upload(owner_id, staged.id)
    staged.thumbnail_path = storage.thumbnail(staged.path)
    with storage.staged() as staging:
        staging.write(staged.path, data)
        staging.write(staged.thumbnail_path, thumbnail(picture))
        db.session.add(staged)
        db.session.commit()
    return staged


def _display_name(filename: str | None) -> str:
    """The file's own name without any folder the browser sent, for "kept: photo.jpg" (shown escaped)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name[:NAME_MAX] or "image"


def get_kept(owner_id: str, staged_id: str | None, *, now: datetime | None = None) -> StagedUpload | None:
    """The owner's kept upload, or None: unknown, someone else's, older than KEEP_FOR or its file gone."""
    if not staged_id:
        return None
    staged = db.session.scalar(select(StagedUpload).where(
        StagedUpload.id == staged_id, StagedUpload.owner_id == owner_id,
        StagedUpload.created_at > (now or utcnow()) - KEEP_FOR,
    ))
    return staged if staged is not None and storage.exists(staged.path) else None


def read_kept(staged: StagedUpload) -> bytes:
    return storage.read(staged.path)


def discard(owner_id: str, staged_ids: list[str]) -> None:
    """Remove kept uploads the form has now used."""
    doomed = list(db.session.scalars(
        select(StagedUpload).where(StagedUpload.owner_id == owner_id, StagedUpload.id.in_(staged_ids))))
    _remove(doomed)


def sweep(*, now: datetime | None = None) -> int:
    """Remove every kept upload older than KEEP_FOR, with its files; how many."""
    doomed = list(db.session.scalars(
        select(StagedUpload).where(StagedUpload.created_at <= (now or utcnow()) - KEEP_FOR)))
    _remove(doomed)
    return len(doomed)


def _remove(doomed: list[StagedUpload]) -> None:
    if not doomed:
        return
    files = [rel for staged in doomed for rel in (staged.path, staged.thumbnail_path)]
    db.session.execute(delete(StagedUpload).where(StagedUpload.id.in_([staged.id for staged in doomed])))
    db.session.commit()
    storage.remove(*files)
