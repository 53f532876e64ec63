"""The job queue as people see it: their own jobs (an admin: everyone's) with position, running time and
outcome, and for admins the totals per status of the last day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import jobs
from ..models import Character, Generation, Project, User, utcnow
from .accounts import get_user
from .generations import count_by_status
from .paging import Page, PageRequest, paginate

TOTALS_PERIOD = timedelta(hours=24)  # the admin's totals: the jobs of the last day, and all that wait or run


@dataclass(frozen=True)
class QueueEntry:
    generation: Generation
    owner_email: str
    position: int | None
    seconds: float | None  # running or ran for this long
    project_name: str = ""
    character_name: str | None = None  # a registered character's name; None when none or uploaded


def _seconds(generation: Generation, now: datetime) -> float | None:
    if generation.started_at is None:
        return None
    return ((generation.finished_at or now) - generation.started_at).total_seconds()


def queue_for(user_id: str, page: PageRequest = PageRequest()) -> Page[QueueEntry]:
    """A page of the jobs the user may see (an admin: everyone's), newest first."""
    user = get_user(user_id)
    query = (select(Generation, User.email, Project.name, Character.name)
             .join(User, User.id == Generation.owner_id).join(Project, Project.id == Generation.project_id)
             .outerjoin(Character, Character.id == Generation.character_id))
    if not user.is_admin:
        query = query.where(Generation.owner_id == user_id)
    found = paginate(query, (Generation.created_at.desc(), Generation.id.desc()), page)
    positions, now = jobs.queue_positions(), utcnow()
    return Page([QueueEntry(generation, email, positions.get(generation.id), _seconds(generation, now), project,
                            character) for generation, email, project, character in found.items], found.next_cursor)


def totals_for(user_id: str, now: datetime | None = None) -> dict[str, int] | None:
    """Jobs per status over all users for admins only: those of the last TOTALS_PERIOD, and every one that
    still waits or runs."""
    if not get_user(user_id).is_admin:
        return None
    return count_by_status((now or utcnow()) - TOTALS_PERIOD)
