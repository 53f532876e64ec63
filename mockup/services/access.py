"""Who may do what in a project (shared/API.md, "Shared projects"): the one place every service asks.

A project has its owner and members, each with a role. Anyone else gets NotFound for the project and
everything in it, exactly as for a missing id, so ids leak nothing; a member whose role does not allow
an action gets Forbidden (403)."""
from __future__ import annotations

from enum import Enum

from sqlalchemy import or_, select

from ..errors import N_, Forbidden, NotFound
from ..extensions import db
from ..models import Membership, Project

OWNER = "owner"


class Permission(Enum):
    VIEW = "view"  # see, download, and look at the comments
    COMMENT = "comment"
    REVIEW = "review"  # set an image's review state
    EDIT = "edit"  # everything the owner does except what follows
    MANAGE = "manage"  # delete the project, add, change and remove members


# The contract's roles: editor = everything but deleting and managing; reviewer = view, download,
# comment, review; viewer = view, download, comment.
ALLOWED: dict[str, frozenset[Permission]] = {
    OWNER: frozenset(Permission),
    "editor": frozenset(Permission) - {Permission.MANAGE},
    "reviewer": frozenset({Permission.VIEW, Permission.COMMENT, Permission.REVIEW}),
    "viewer": frozenset({Permission.VIEW, Permission.COMMENT}),
}


def allowed_actions(role: str) -> set[str]:
    """The names of what a role may do (`view`, `edit`...), for pages that show only the buttons that work."""
    return {permission.value for permission in ALLOWED[role]}


def role_of(user_id: str, project: Project) -> str | None:
    """The user's role in the project, or None for someone who is not in it."""
    if project.owner_id == user_id:
        return OWNER
    return db.session.scalar(
        select(Membership.role).where(Membership.project_id == project.id, Membership.user_id == user_id)
    )


def roles_in(user_id: str, projects: list[Project]) -> dict[str, str]:
    """The user's role in each of these projects, in one query (for lists)."""
    shared = dict(db.session.execute(
        select(Membership.project_id, Membership.role)
        .where(Membership.user_id == user_id, Membership.project_id.in_([project.id for project in projects]))
    ).all())
    roles = {}
    for project in projects:
        role = OWNER if project.owner_id == user_id else shared.get(project.id)
        if role is not None:
            roles[project.id] = role
    return roles


def check(user_id: str, project: Project | None, needs: Permission, missing: str) -> str:
    """The caller's role when it allows `needs`; NotFound (with the sentence `missing`) for a project
    the caller is not in, Forbidden for a member whose role does not allow it."""
    role = role_of(user_id, project) if project is not None else None
    if role is None:
        raise NotFound(missing)
    if needs not in ALLOWED[role]:
        raise Forbidden()
    return role


def project_for(user_id: str, project_id: str, needs: Permission = Permission.VIEW) -> tuple[Project, str]:
    """The project and the caller's role in it, if that role allows `needs`."""
    project = db.session.get(Project, project_id)
    return project, check(user_id, project, needs, N_("This project does not exist."))


def visible_projects(user_id: str):
    """A condition on Project: the projects the user owns or is a member of (for queries over many)."""
    return or_(
        Project.owner_id == user_id,
        Project.id.in_(select(Membership.project_id).where(Membership.user_id == user_id)),
    )
