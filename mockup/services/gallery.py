"""The gallery: every image of every project the user can see (their own and those shared with them),
newest first, filtered by project, character, mode, review state and creation date, a page at a time
with the keyset pager; and the selection a person ticks in it, resolved to images they may view.

Each page is two queries whatever the number of images: the ids of the projects the user can see (the
same condition the project list uses, access.visible_projects, so a stranger's images never enter it),
then the page, the image, its generation and its project in one join (contains_eager)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ..errors import N_, Invalid, NotFound
from ..extensions import db
from ..models import REVIEW_STATES, Character, Generation, Image, Project
from . import access, paging
from .generations import MODES

MAX_SELECTED = 500  # what one selection (an export) may hold
_ID = re.compile(r"[0-9a-f]{32}")
BAD_DATE = N_("Give the date as YYYY-MM-DD, for example 2026-03-01.")
# Newest first by the generation that made the image (its candidates last to first), so that one
# project's page is a walk along its generations' index (project, created_at, id), however many images
# other projects hold; ordering by the image's own date walked every newer image of the installation.
NEWEST_FIRST = (Generation.created_at.desc(), Generation.id.desc(), Image.index.desc())


@dataclass(frozen=True)
class GalleryFilter:
    """What the gallery shows; None is "any". Dates are whole days in UTC, both ends included, of when
    the image's generation was asked for."""

    project_id: str | None = None
    character_id: str | None = None
    mode: str | None = None
    review_state: str | None = None
    since: date | None = None
    until: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filter as query-string values (for the next page's link)."""
        values = {"project": self.project_id, "character": self.character_id, "mode": self.mode,
                  "review": self.review_state, "from": self.since and self.since.isoformat(),
                  "to": self.until and self.until.isoformat()}
        return {key: value for key, value in values.items() if value}


def filter_from(args: Mapping[str, str]) -> GalleryFilter:
    """The filter a query string asks for; an unknown mode or review state, or a malformed date or id,
    is a 422 naming the field (a well-formed id of a project one cannot see simply matches nothing)."""
    def choice(field: str, allowed: Iterable[str], sentence: str) -> str | None:
        value = (args.get(field) or "").strip() or None
        if value is not None and value not in allowed:
            raise Invalid(sentence, fields={field: sentence})
        return value

    def day(field: str) -> date | None:
        value = (args.get(field) or "").strip()
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            raise Invalid(BAD_DATE, fields={field: BAD_DATE}) from None

    def ident(field: str) -> str | None:
        value = (args.get(field) or "").strip() or None
        return choice(field, [value] if value and _ID.fullmatch(value) else [], N_("Choose one from the list."))

    return GalleryFilter(ident("project"), ident("character"), choice("mode", MODES, N_("Choose a mode from the list.")),
                         choice("review", REVIEW_STATES, N_("Choose a review state from the list.")),
                         day("from"), day("to"))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def gallery(user_id: str, wanted: GalleryFilter, page: paging.PageRequest) -> paging.Page[Image]:
    """One page of the images the user can see that match `wanted`, newest first."""
    # The visible projects' ids first (one small query), so the planner sees which projects it reads and
    # their sizes in its statistics and walks each project's generations by date (newest first), where a
    # subquery would be guessed the same for everyone.
    visible = list(db.session.scalars(select(Project.id).where(access.visible_projects(user_id))))
    query = (select(Image).join(Image.generation).join(Generation.project)
             .where(Generation.project_id.in_(visible))
             .options(contains_eager(Image.generation).contains_eager(Generation.project)))
    conditions = {
        Generation.project_id: wanted.project_id, Generation.character_id: wanted.character_id,
        Generation.mode: wanted.mode, Image.review_state: wanted.review_state,
    }
    query = query.where(*(column == value for column, value in conditions.items() if value is not None))
    if wanted.since:
        query = query.where(Generation.created_at >= _start_of(wanted.since))
    if wanted.until:
        query = query.where(Generation.created_at < _start_of(wanted.until + timedelta(days=1)))
    return paging.paginate(query, NEWEST_FIRST, page)


@dataclass(frozen=True)
class Choices:
    """What the filter's lists offer: the visible projects, by name, and their characters."""

    projects: list[Project]
    characters: list[Character]


def choices(user_id: str) -> Choices:
    """Two queries, whatever the number of projects."""
    projects = list(db.session.scalars(
        select(Project).where(access.visible_projects(user_id)).order_by(Project.name, Project.id)))
    characters = list(db.session.scalars(
        select(Character).join(Character.project).where(access.visible_projects(user_id))
        .options(contains_eager(Character.project)).order_by(Project.name, Character.name, Character.id)))
    return Choices(projects, characters)


def selected_images(user_id: str, image_ids: Iterable[str]) -> list[Image]:
    """The ticked images, newest first, if the user may view every one: an id that is not an image of a
    project they can see is a 404, as everywhere (the selection is refused whole, never quietly cut)."""
    wanted = list(dict.fromkeys(image_ids))
    if not wanted:
        raise Invalid(N_("Tick at least one image."), fields={"image_id": N_("Tick at least one image.")})
    if len(wanted) > MAX_SELECTED:
        raise Invalid(N_("Tick at most 500 images at a time."), fields={"image_id": N_("Tick at most 500 images at a time.")})
    if not all(_ID.fullmatch(image_id) for image_id in wanted):
        raise NotFound(N_("This image does not exist."))
    found = list(db.session.scalars(
        select(Image).join(Image.generation).join(Generation.project)
        .where(Image.id.in_(wanted), access.visible_projects(user_id))
        .options(contains_eager(Image.generation).contains_eager(Generation.project))
        .order_by(*NEWEST_FIRST)))
    if len(found) != len(wanted):
        raise NotFound(N_("This image does not exist."))
    return found
