"""Review and comments (shared/API.md, "Review and comments"): an image's review state, set by the
owner, an editor or a reviewer, and the members' comments on it, optionally pinned to a rectangle of
the image. A change is in the database at once, so the other members see it on their next page load."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from ..errors import N_, Forbidden, Invalid
from ..extensions import db
from ..models import REVIEW_STATES, Comment, Generation, Image, utcnow
from . import access
from .access import OWNER, Permission
from .edits import check_region
from .images import get_image
from .paging import Page, PageRequest, paginate

BODY_MAX = 2000


def checked_state(state: str | None) -> str:
    if state not in REVIEW_STATES:
        message = N_("Choose none, in_review, approved or changes_requested.")
        raise Invalid(message, fields={"state": message})
    return state


def _checked_body(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise Invalid(N_("Write a comment."), fields={"body": N_("Write a comment.")})
    if len(body) > BODY_MAX:
        raise Invalid(f"Keep the comment under {BODY_MAX} characters.", fields={"body": N_("Too long.")})
    return body


def _comment(user_id: str, image: Image, body: str | None, region: Mapping[str, Any] | None) -> Comment:
    """A validated comment, not yet committed; a region must lie inside the image."""
    body = _checked_body(body)
    if region is not None:
        check_region(region, image)
        region = {key: region[key] for key in ("x", "y", "width", "height")}
    return Comment(image=image, author_id=user_id, body=body, region=region)


def set_review(user_id: str, image_id: str, state: str, comment: str | None = None) -> Image:
    """Set the image's review state; a comment, if given, is added as the user's in the same commit."""
    image = get_image(user_id, image_id, Permission.REVIEW)
    state = checked_state(state)
    note = _comment(user_id, image, comment, None) if (comment or "").strip() else None
    image.review_state, image.reviewed_by_id, image.reviewed_at = state, user_id, utcnow()
    if note is not None:
        db.session.add(note)
    db.session.commit()
    return image


def list_comments(user_id: str, image_id: str, page: PageRequest = PageRequest()) -> Page[Comment]:
    """A page of the image's comments, oldest first, each with its author."""
    image = get_image(user_id, image_id)
    query = select(Comment).where(Comment.image_id == image.id).options(joinedload(Comment.author))
    return paginate(query, (Comment.created_at, Comment.id), page)


def add_comment(user_id: str, image_id: str, body: str, region: Mapping[str, Any] | None = None) -> Comment:
    comment = _comment(user_id, get_image(user_id, image_id, Permission.COMMENT), body, region)
    db.session.add(comment)
    db.session.commit()
    return comment


def delete_comment(user_id: str, comment_id: str, image_id: str | None = None) -> Comment:
    """Its author or the project's owner may delete a comment; returns the deleted comment. With
    `image_id` (a page's address) the comment must be on that image."""
    comment = db.session.get(Comment, comment_id)
    if comment is not None and image_id is not None and comment.image_id != image_id:
        comment = None
    project = comment.image.generation.project if comment else None
    role = access.check(user_id, project, Permission.VIEW, N_("This comment does not exist."))
    if comment.author_id != user_id and role != OWNER:
        raise Forbidden(N_("Only its author or the project's owner may delete a comment."))
    db.session.delete(comment)
    db.session.commit()
    return comment


def comment_counts(image_ids: list[str]) -> dict[str, int]:
    """Comments per image in one query (the API's `comment_count`)."""
    if not image_ids:
        return {}
    rows = db.session.execute(
        select(Comment.image_id, func.count(Comment.id)).where(Comment.image_id.in_(image_ids))
        .group_by(Comment.image_id)
    )
    return dict(rows.all())


def images_in_state(user_id: str, project_id: str, state: str,
                    page: PageRequest = PageRequest()) -> Page[Image]:
    """A page of the project's images in one review state, newest first (the project page's filter),
    each with its generation."""
    project, _ = access.project_for(user_id, project_id)
    query = (
        select(Image).join(Image.generation).options(contains_eager(Image.generation))
        .where(Generation.project_id == project.id, Image.review_state == checked_state(state))
    )
    return paginate(query, (Image.created_at.desc(), Image.id.desc()), page)
