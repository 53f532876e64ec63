"""What the month cost: generations, images and cost per user and project (GET /api/usage, the admins'
usage page), with the bytes each keeps now, and what a user has spent against their budget. Months are calendar months in UTC; a
failed generation's cost counts (the calls that were answered before it failed are billed)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import case, func, select

from ..errors import N_, Invalid
from ..extensions import db
from ..models import FINISHED_STATUSES, Generation, Image, Project, User, utcnow
from . import accounts, storage_usage
from .paging import PageRequest, paginate

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    label: str  # YYYY-MM
    start: datetime
    end: datetime  # exclusive


@dataclass(frozen=True)
class UsageRow:
    user: User
    project_id: str
    project_name: str
    generations: int
    images: int
    cost_usd: float
    bytes: int  # what the user's files in the project take now (not only this month's)


@dataclass(frozen=True)
class MonthUsage:
    month: Month
    rows: list[UsageRow]
    total_cost_usd: float
    budget_usd: float | None  # the viewer's own budget
    storage_bytes: int  # what the viewer's own files take, in every project
    quota_bytes: int | None  # STORAGE_QUOTA_GB in bytes; None without a quota
    next_cursor: str | None = None  # the next page of rows (services/paging.py)


def month_of(value: str | None, now: datetime | None = None) -> Month:
    """The month `YYYY-MM`, or the current one (UTC) when no value is given."""
    if not value:
        now = now or utcnow()
        return _month(now.year, now.month)
    match = MONTH_PATTERN.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        message = N_("Give the month as YYYY-MM, for example 2026-03.")
        raise Invalid(message, fields={"month": message})
    return _month(int(match.group(1)), int(match.group(2)))


def _month(year: int, month: int) -> Month:
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=timezone.utc)
    return Month(f"{year:04d}-{month:02d}", start, end)


def _in_month(month: Month):
    return (Generation.created_at >= month.start, Generation.created_at < month.end,
            Generation.status != "canceled")  # a canceled generation never ran


def _usage_rows(viewer: User, period: Month):
    """The month's generations grouped per user and project, with their images counted by one
    aggregate over that month's generations only; the viewer's own unless an admin."""
    images = (select(Image.generation_id, func.count().label("count"))
              .join(Generation, Generation.id == Image.generation_id).where(*_in_month(period))
              .group_by(Image.generation_id).subquery())
    query = (
        select(User, Generation.project_id, Project.name, func.count(Generation.id),
               func.coalesce(func.sum(images.c.count), 0), func.coalesce(func.sum(Generation.cost_usd), 0.0))
        .join(User, User.id == Generation.owner_id).join(Project, Project.id == Generation.project_id)
        .outerjoin(images, images.c.generation_id == Generation.id)
        .where(*_in_month(period))
        .group_by(User.id, Generation.project_id, Project.name)
    )
    return query if viewer.is_admin else query.where(Generation.owner_id == viewer.id)


def month_usage(viewer_id: str, month: str | None = None, now: datetime | None = None,
                page: PageRequest = PageRequest()) -> MonthUsage:
    """A page of the month's rows by user name, then project: the viewer's own; an admin's view has
    everyone's. The total is the whole month's, whatever the page."""
    viewer = accounts.get_user(viewer_id)
    period = month_of(month, now)
    found = paginate(_usage_rows(viewer, period), (func.lower(User.name), User.id, Generation.project_id), page)
    stored = storage_usage.bytes_by_project({row[0].id for row in found.items})
    rows = [UsageRow(user, project, name, count, int(image_count), round(float(cost), 4),
                     stored.get((user.id, project), 0))
            for user, project, name, count, image_count, cost in found.items]
    total = select(func.coalesce(func.sum(Generation.cost_usd), 0.0)).where(*_in_month(period))
    if not viewer.is_admin:
        total = total.where(Generation.owner_id == viewer.id)
    return MonthUsage(period, rows, round(float(db.session.scalar(total)), 4), viewer.monthly_budget_usd,
                      storage_usage.used_bytes(viewer.id), storage_usage.quota_bytes(), found.next_cursor)


def spent(user_id: str, now: datetime | None = None) -> float:
    """This month's cost of the user's generations; one still waiting or running counts at its estimate
    (on top of what earlier attempts cost), so queueing many at once cannot pass the budget."""
    cost = case((Generation.status.in_(FINISHED_STATUSES), Generation.cost_usd),
                else_=Generation.cost_usd + Generation.estimated_cost_usd)
    total = db.session.scalar(
        select(func.coalesce(func.sum(cost), 0.0)).where(Generation.owner_id == user_id, *_in_month(month_of(None, now)))
    )
    return float(total or 0.0)
