"""The objects of shared/API.md, exactly: the same keys for every object of a kind, ids as strings,
timestamps in ISO 8601 UTC, file links pointing at API routes (so a bearer token fetches them).

Some fields are derived with a read-only query: a project's `image_count` and the caller's `role`, an
image's `comment_count` and a generation's `queue_position`; the services own those queries."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from flask import url_for

from ..http.links import link
from ..models import Batch, Character, Comment, Generation, HistoryEntry, Image, Project, User
from ..services import access, batches, generations, projects, review, usage, users
from ..services.members import Member
from ..services.paging import Page
from .security import owner_id

Json = dict[str, Any]


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def user(row: User) -> Json:
    return {"id": row.id, "email": row.email, "name": row.name, "created_at": timestamp(row.created_at),
            "is_admin": row.is_admin, "disabled": row.disabled}


def invite(issued: users.Issued) -> Json:
    return {"code": issued.code, "url": url_for("auth.register", invite=issued.code, _external=True),
            "email": issued.email, "expires_at": timestamp(issued.expires_at)}


def month_usage(found: usage.MonthUsage) -> Json:
    return {
        "month": found.month.label, "total_cost_usd": found.total_cost_usd, "budget_usd": found.budget_usd,
        "storage_bytes": found.storage_bytes, "storage_quota_bytes": found.quota_bytes,
        "items": [{"user": user(row.user), "project_id": row.project_id, "generations": row.generations,
                   "images": row.images, "cost_usd": row.cost_usd, "bytes": row.bytes} for row in found.rows],
        "next_cursor": found.next_cursor,
    }


def page(found: Page, serialize: Callable[[list], list[Json]]) -> Json:
    """A list answer (shared/API.md "Lists are paged"): the page's items, serialized together so that
    what they derive (counts, roles) is read once for the page, and the cursor of the next page."""
    return {"items": serialize(found.items), "next_cursor": found.next_cursor}


def each(serialize: Callable[[Any], Json]) -> Callable[[list], list[Json]]:
    """A serializer of a list from the serializer of one item (for kinds that derive nothing)."""
    return lambda rows: [serialize(row) for row in rows]


def project(row: Project, image_count: int | None = None, role: str | None = None) -> Json:
    """`role` is the caller's (looked up when not given)."""
    if image_count is None:
        image_count = projects.image_counts([row.id]).get(row.id, 0)
    return {
        "id": row.id, "name": row.name, "description": row.description,
        "created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at),
        "image_count": image_count, "owner": user(row.owner),
        "role": role or access.role_of(owner_id(), row),
    }


def project_list(rows: list[Project]) -> list[Json]:
    counts = projects.image_counts([row.id for row in rows])
    roles = access.roles_in(owner_id(), rows)
    return [project(row, counts.get(row.id, 0), roles[row.id]) for row in rows]


def member(row: Member) -> Json:
    return {"user": user(row.user), "role": row.role, "added_at": timestamp(row.added_at)}


def comment(row: Comment) -> Json:
    return {
        "id": row.id, "image_id": row.image_id, "author": user(row.author), "body": row.body,
        "region": row.region, "created_at": timestamp(row.created_at),
    }


def _review(row: Image) -> Json:
    by = user(row.reviewed_by) if row.reviewed_by is not None else None
    return {"state": row.review_state, "by": by, "at": timestamp(row.reviewed_at)}


def character(row: Character) -> Json:
    return {
        "id": row.id, "project_id": row.project_id, "name": row.name, "description": row.description,
        "image_url": link("api.character_image", character_id=row.id),
        "thumbnail_url": link("api.character_thumbnail", character_id=row.id),
        "images": [{
            "id": image.id, "view": image.view,
            "url": link("api.character_sheet_image", character_id=row.id, character_image_id=image.id),
            "thumbnail_url": link("api.character_sheet_thumbnail", character_id=row.id, character_image_id=image.id),
        } for image in row.images],
        "created_at": timestamp(row.created_at),
    }


def image_list(rows: list[Image]) -> list[Json]:
    counts = review.comment_counts([row.id for row in rows])
    return [image(row, counts.get(row.id, 0)) for row in rows]


def image(row: Image, comment_count: int | None = None) -> Json:
    if comment_count is None:
        comment_count = review.comment_counts([row.id]).get(row.id, 0)
    return {
        "id": row.id, "generation_id": row.generation_id, "index": row.index,
        "width": row.width, "height": row.height, "format": row.format, "has_alpha": row.has_alpha,
        "selected": row.selected,
        "url": link("api.image_file", image_id=row.id),
        "thumbnail_url": link("api.image_thumbnail", image_id=row.id),
        "download_url": link("api.download_image", image_id=row.id),
        "download_2k_url": link("api.download_image_2k", image_id=row.id),
        "checks": {"structure": row.structure_score, "structure_warning": row.structure_warning},
        "created_at": timestamp(row.created_at),
        "review": _review(row), "comment_count": comment_count,
    }


def _error(row: Generation) -> Json | None:
    """The contract's {"code", "message"}; the message ends with the model's own words when it gave any."""
    if row.error_code is None:
        return None
    message = row.error_message or ""
    if row.error_detail:
        message = f"{message} The model said: “{row.error_detail}”"
    return {"code": row.error_code, "message": message}


def generation(row: Generation, position: int | None = None, comment_counts: dict[str, int] | None = None) -> Json:
    """`position` and `comment_counts` are given when known for many generations at once (a batch);
    otherwise they are looked up."""
    if comment_counts is None:
        comment_counts = review.comment_counts([item.id for item in row.images])
        position = generations.queue_position(row)
    return {
        "id": row.id, "project_id": row.project_id, "mode": row.mode, "status": row.status,
        "error": _error(row), "prompt": row.prompt, "preserve_structure": row.preserve_structure,
        "transparent_background": row.transparent_background, "parent_image_id": row.parent_image_id,
        "images": [image(item, comment_counts.get(item.id, 0)) for item in row.images],
        "created_at": timestamp(row.created_at), "started_at": timestamp(row.started_at),
        "finished_at": timestamp(row.finished_at), "queue_position": position,
        "estimated_cost_usd": row.estimated_cost_usd, "cost_usd": row.cost_usd, "batch_id": row.batch_id,
        "candidates": row.candidates, "image_size": row.image_size,
    }


def batch(row: Batch, positions: dict[str, int | None] | None = None,
          comment_counts: dict[str, int] | None = None) -> Json:
    """A batch with every generation (loaded with it by services/batches.py); their queue places and
    comment counts are read once for the whole batch, or given for a whole list (batch_list)."""
    if comment_counts is None:
        positions = generations.queue_positions(row.generations)
        comment_counts = review.comment_counts([item.id for cell in row.generations for item in cell.images])
    shown = batches.progress(row)
    return {
        "id": row.id, "project_id": row.project_id, "mode": row.mode, "status": shown.status,
        "total": shown.total, "counts": shown.counts,
        "generations": [generation(cell, positions.get(cell.id), comment_counts) for cell in row.generations],
        "created_at": timestamp(row.created_at), "finished_at": timestamp(shown.finished_at),
    }


def batch_list(rows: list[Batch]) -> list[Json]:
    cells = [cell for row in rows for cell in row.generations]
    positions = generations.queue_positions(cells)
    counts = review.comment_counts([item.id for cell in cells for item in cell.images])
    return [batch(row, positions, counts) for row in rows]


def history_entry(row: HistoryEntry, comment_count: int | None = None) -> Json:
    return {
        "id": row.id, "project_id": row.project_id, "image": image(row.image, comment_count), "note": row.note,
        "created_at": timestamp(row.created_at),
    }


def history_list(rows: list[HistoryEntry]) -> list[Json]:
    counts = review.comment_counts([row.image_id for row in rows])
    return [history_entry(row, counts.get(row.image_id, 0)) for row in rows]
