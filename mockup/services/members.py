"""A project's members (shared/API.md, "Shared projects"): the owner adds colleagues by e-mail with a
role, changes their role or removes them; a member may leave."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal, select, union_all

from ..errors import N_, Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import MEMBER_ROLES, Membership, Project, User
from .access import OWNER, Permission, project_for
from .accounts import normalize_email
from .paging import Page, PageRequest, paginate


class UnknownUser(NotFound):
    """No account has the e-mail address the owner typed (a 404 in the API, a form error on the page)."""

    def __init__(self) -> None:
        super().__init__(N_("No account has this e-mail address."),
                         fields={"email": N_("No account has this e-mail address.")})


@dataclass(frozen=True)
class Member:
    user: User
    role: str
    added_at: datetime


def _member(row: Membership) -> Member:
    return Member(row.user, row.role, row.added_at)


def list_members(user_id: str, project_id: str, page: PageRequest = PageRequest()) -> Page[Member]:
    """A page of the project's people: the owner first (role `owner`, added when the project was made),
    then the members by arrival. One query for the page: the owner and the memberships as one ordered
    list (a UNION with a rank that puts the owner first), joined to their accounts."""
    project, _ = project_for(user_id, project_id)
    people = union_all(
        select(literal(0).label("rank"), literal(project.owner_id).label("user_id"), literal(OWNER).label("role"),
               literal(project.created_at, Membership.added_at.type).label("added_at")),
        select(literal(1), Membership.user_id, Membership.role, Membership.added_at)
        .where(Membership.project_id == project.id),
    ).subquery()
    query = select(User, people.c.role, people.c.added_at).join(people, people.c.user_id == User.id)
    found = paginate(query, (people.c.rank, people.c.added_at, people.c.user_id), page)
    return Page([Member(*row) for row in found.items], found.next_cursor)


def _checked_role(role: str | None) -> str:
    if role not in MEMBER_ROLES:
        message = N_("Choose editor, reviewer or viewer.")
        raise Invalid(message, fields={"role": message})
    return role


def add_member(user_id: str, project_id: str, email: str, role: str) -> Member:
    project, _ = project_for(user_id, project_id, Permission.MANAGE)
    role = _checked_role(role)
    colleague = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if colleague is None:
        raise UnknownUser()
    if colleague.id == project.owner_id or _membership(project, colleague.id) is not None:
        raise Conflict(N_("This person is already in the project."), fields={"email": N_("Already in the project.")})
    row = Membership(project=project, user=colleague, role=role)
    db.session.add(row)
    db.session.commit()
    return _member(row)


def _membership(project: Project, member_id: str) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.project_id == project.id, Membership.user_id == member_id)
    )


def _existing(project: Project, member_id: str) -> Membership:
    row = _membership(project, member_id)
    if row is None:
        if member_id == project.owner_id:
            raise Conflict(N_("The owner's place in the project cannot be changed."))
        raise NotFound(N_("This person is not a member of the project."))
    return row


def change_role(user_id: str, project_id: str, member_id: str, role: str) -> Member:
    project, _ = project_for(user_id, project_id, Permission.MANAGE)
    role = _checked_role(role)
    row = _existing(project, member_id)
    row.role = role
    db.session.commit()
    return _member(row)


def remove_member(user_id: str, project_id: str, member_id: str) -> None:
    """The owner removes a member, or a member leaves (whatever their role)."""
    project, role = project_for(user_id, project_id)
    if member_id != user_id and role != OWNER:
        raise Forbidden()
    db.session.delete(_existing(project, member_id))
    db.session.commit()
