"""Storage that grows knowingly: the bytes each user and project keep in DATA_DIR, the optional per-user
quota (STORAGE_QUOTA_GB), and the files no row refers to any more.

Each image, generation and character picture row carries `stored_bytes`, the size of the files it refers to,
measured when its files are written: `count_on_flush` (installed by the factory on every session)
measures a row again whenever one of its path columns changes, so every service that stores a file
and sets its path (intake, outputs, 2K, cut-outs, character pictures, edit inputs) is counted without
each saying so; files made later from a row (a download's conversion, a source's thumbnail) add their
size where they are made. Usage and the quota check are then one aggregate query each, whatever the
number of images, where walking DATA_DIR would read every file's metadata per request.

A generation's files count for the member who made it (they live under that member's folders, and it
is their cost); a character's for the project's owner (the project holds it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from flask import current_app
from jinja2.filters import do_filesizeformat
from sqlalchemy import event, func, inspect, literal, select, union_all
from sqlalchemy.orm import Session

from .. import storage
from ..errors import Conflict
from ..extensions import db
from ..models import Character, CharacterImage, Generation, Image, Project, StagedUpload, User, utcnow
from .images import files_of_character_image, files_of_generation, files_of_image

GB = 1024 ** 3
# Files younger than this are never orphans: a job writes its outputs before the commit that adds their
# rows, and an upload is stored before its generation's row.
ORPHAN_MIN_AGE = timedelta(hours=1)
_PATHS = {
    Image: ("path", "thumbnail_path", "upscaled_path", "cutout_path"),
    Generation: ("source_path", "character_path", "character_views", "texture_path", "edit_region"),
    CharacterImage: ("image_path", "thumbnail_path", "cutout_path"),
}


_FILES_OF = {Image: files_of_image, Generation: files_of_generation, CharacterImage: files_of_character_image}


def measure(row: Image | Generation | CharacterImage) -> int:
    """The bytes the row's files take on disk now (what it is charged for: see charged_files)."""
    return storage.size(*charged_files(row))


def charged_files(row: Image | Generation | CharacterImage) -> list[str]:
    """The files a row's bytes count. A batch stores each source once for its row of the contact sheet
    and copies each character's sheet once for its column, shared by the cells: the row's first cell
    is charged the source, the column's first cell the sheet, so each file counts once."""
    files = _FILES_OF[type(row)](row)
    if not isinstance(row, Generation):  # (a single generation has no place on a contact sheet: both None)
        return files
    shared = set()
    if row.character_index:  # not the row's first cell: its source is the first cell's
        shared.update(storage.with_thumbnails(row.source_path))
    if row.source_index:  # not the column's first cell: its sheet copies are the first cell's
        shared.update(view["path"] for view in row.character_views or [])
        shared.add(row.character_path)
    return [rel for rel in files if rel not in shared]


def count_on_flush(session: Session, _context: object, _instances: object) -> None:
    """Before a flush, measure every new row and every row whose files changed (see the module's words)."""
    for row in (*session.new, *session.dirty):
        paths = _PATHS.get(type(row))
        if paths and (row in session.new or any(inspect(row).attrs[name].history.has_changes() for name in paths)):
            row.stored_bytes = measure(row)


def install(session: object) -> None:
    """Measure rows on every flush of this session (the factory calls it once for db.session)."""
    if not event.contains(session, "before_flush", count_on_flush):
        event.listen(session, "before_flush", count_on_flush)


def _bytes_rows():
    """(user id, project id, bytes) of every image, generation and character, as one union."""
    images = (select(Generation.owner_id.label("user_id"), Generation.project_id.label("project_id"),
                     Image.stored_bytes.label("bytes"))
              .join(Image, Image.generation_id == Generation.id))
    inputs = select(Generation.owner_id, Generation.project_id, Generation.stored_bytes)
    characters = (select(Project.owner_id, Character.project_id, CharacterImage.stored_bytes)
                  .join(Character, Character.id == CharacterImage.character_id)
                  .join(Project, Project.id == Character.project_id))
    return union_all(images, inputs, characters).subquery()


def bytes_by_project(user_ids: Iterable[str] | None = None) -> dict[tuple[str, str], int]:
    """Bytes kept per (user id, project id), for the given users or everyone (None); one query."""
    rows = _bytes_rows()
    query = select(rows.c.user_id, rows.c.project_id, func.sum(rows.c.bytes)).group_by(rows.c.user_id, rows.c.project_id)
    if user_ids is not None:
        query = query.where(rows.c.user_id.in_(list(user_ids)))
    return {(user_id, project_id): int(total or 0) for user_id, project_id, total in db.session.execute(query)}


def used_bytes(user_id: str) -> int:
    """Everything the user keeps, over every project; one query."""
    rows = _bytes_rows()
    return int(db.session.scalar(select(func.coalesce(func.sum(rows.c.bytes), literal(0))).where(rows.c.user_id == user_id)))


def quota_bytes() -> int | None:
    quota = current_app.config.get("STORAGE_QUOTA_GB")
    return None if quota is None else int(quota * GB)


def human(size: int) -> str:
    """Bytes as the pages show them (Jinja's filesizeformat in binary units: 1.5 GiB, 320.0 MiB)."""
    return do_filesizeformat(size, binary=True)


def ensure_within_quota(user_id: str) -> None:
    """Refuse a new generation (409 CONFLICT) once the user keeps as much as the quota allows, before
    anything is written or queued; without STORAGE_QUOTA_GB nothing is refused."""
    quota = quota_bytes()
    if quota is None:
        return
    used = used_bytes(user_id)
    if used < quota:
        return
    # Numbers in the sentence, as the budget's refusal has them: the same English on pages and the API.
    raise Conflict(
        f"Your files take {human(used)} of your storage quota of {human(quota)}, so nothing new can be made. "
        "Delete images or projects you no longer need, or ask an administrator for more room.",
        fields={"storage_bytes": used, "quota_bytes": quota},
    )


@dataclass(frozen=True)
class Orphan:
    path: str  # relative to DATA_DIR
    bytes: int


def referred_files() -> set[str]:
    """Every stored file some row refers to, derived files (thumbnails, conversions) included."""
    referred: set[str] = set()
    for model, files_of in _FILES_OF.items():
        for row in db.session.scalars(select(model).execution_options(yield_per=1000)):
            referred.update(files_of(row))
    for staged in db.session.scalars(select(StagedUpload)):
        referred.update((staged.path, staged.thumbnail_path))
    return referred


def orphans(now: datetime | None = None) -> list[Orphan]:
    """Files in the users' areas of DATA_DIR (storage.STORED_AREAS) that no row refers to and that are
    older than ORPHAN_MIN_AGE; unfinished atomic writes are never listed."""
    cutoff = ((now or utcnow()) - ORPHAN_MIN_AGE).timestamp()
    referred = referred_files()
    return [Orphan(rel, storage.size(rel)) for rel in storage.stored_files()
            if rel not in referred and storage.modified_at(rel) < cutoff]


def remove_orphans(now: datetime | None = None) -> list[Orphan]:
    """Delete the files `orphans` lists (found again now, so a row added since a dry run keeps its file)."""
    found = orphans(now)
    storage.remove(*(orphan.path for orphan in found))
    return found


@dataclass(frozen=True)
class StorageRow:
    user: User
    project_id: str
    project_name: str
    bytes: int


@dataclass(frozen=True)
class Storage:
    """What the usage and account pages show: bytes per person and project, largest first."""

    rows: list[StorageRow]
    used_bytes: int  # the viewer's own
    quota_bytes: int | None


def storage_of(viewer_id: str) -> Storage:
    """An admin sees everyone's rows, anyone else their own; a fixed number of queries."""
    viewer = db.session.get(User, viewer_id)
    stored = {key: size for key, size in bytes_by_project(None if viewer.is_admin else [viewer.id]).items() if size}
    users = users_by_id({user_id for user_id, _ in stored})
    names = dict(db.session.execute(select(Project.id, Project.name).where(Project.id.in_({p for _, p in stored}))).all())
    rows = sorted((StorageRow(users[user_id], project_id, names[project_id], size)
                   for (user_id, project_id), size in stored.items()),
                  key=lambda row: (-row.bytes, row.user.name.lower(), row.project_id))
    return Storage(rows, used_bytes(viewer.id), quota_bytes())


def users_by_id(user_ids: Iterable[str]) -> dict[str, User]:
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(list(user_ids))))}


def recount() -> int:
    """Measure every row's files again (after the upgrade that added the column, or to mend a count);
    returns how many rows changed."""
    changed = 0
    for model in _FILES_OF:
        for row in db.session.scalars(select(model)):
            size = measure(row)
            changed += size != row.stored_bytes
            row.stored_bytes = size
    db.session.commit()
    return changed
