"""The project history: the images a team keeps, with a note."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..errors import N_, Invalid
from ..extensions import db
from ..models import HistoryEntry, Image, Project
from . import access
from .access import Permission
from .images import get_image
from .paging import Page, PageRequest, paginate
from .projects import get_project

NOTE_MAX = 1000


def list_history(owner_id: str, project_id: str, review_state: str | None = None,
                 page: PageRequest = PageRequest()) -> Page[HistoryEntry]:
    """A page of the project's entries, newest first; only those whose image is in `review_state` when
    given. Each entry comes with its image, the image's generation and reviewer in the same query, so a
    page costs the same whatever its length."""
    get_project(owner_id, project_id)
    query = (
        select(HistoryEntry).join(HistoryEntry.image).join(Image.generation)
        .where(HistoryEntry.project_id == project_id)
        .options(contains_eager(HistoryEntry.image).contains_eager(Image.generation),
                 contains_eager(HistoryEntry.image).joinedload(Image.reviewed_by))
    )
    if review_state is not None:
        query = query.where(Image.review_state == review_state)
    return paginate(query, (HistoryEntry.created_at.desc(), HistoryEntry.id.desc()), page)


def save_to_history(owner_id: str, image_id: str, note: str = "") -> tuple[HistoryEntry, bool]:
    """Save an image to its project's history; returns (entry, created). Saving twice keeps one entry."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise Invalid(f"Keep the note under {NOTE_MAX} characters.", fields={"note": N_("Too long.")})
    image = get_image(owner_id, image_id, Permission.EDIT)
    existing = db.session.scalar(select(HistoryEntry).where(HistoryEntry.image_id == image.id))
    if existing is not None:
        return existing, False
    entry = HistoryEntry(project_id=image.generation.project_id, image_id=image.id, note=note)
    db.session.add(entry)
    db.session.commit()
    return entry, True


def saved_image_ids(owner_id: str, image_ids: list[str]) -> set[str]:
    """Which of these images are already in their project's history (one query, to mark them in lists)."""
    if not image_ids:
        return set()
    return set(db.session.scalars(
        select(HistoryEntry.image_id).join(Project)
        .where(HistoryEntry.image_id.in_(image_ids), access.visible_projects(owner_id))
    ))


def get_entry(user_id: str, entry_id: str, needs: Permission = Permission.VIEW) -> HistoryEntry:
    entry = db.session.get(HistoryEntry, entry_id)
    access.check(user_id, entry.project if entry else None, needs, N_("This history entry does not exist."))
    return entry


def delete_entry(user_id: str, entry_id: str) -> None:
    db.session.delete(get_entry(user_id, entry_id, Permission.EDIT))
    db.session.commit()
