"""What admins do to accounts: list and create them, invite people, make and unmake admins, disable and
enable, set monthly budgets, and issue password-reset links. Every function takes the acting admin's id
first and refuses anyone else (Forbidden)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from ..errors import N_, Conflict, Invalid
from ..extensions import db
from ..models import Invitation, PasswordReset, User, utcnow
from . import accounts, links
from .paging import Page, PageRequest, paginate

INVITATION_TTL = timedelta(days=7)
RESET_TTL = timedelta(hours=24)
KEEP = object()  # "leave the budget as it is", as opposed to None, "no budget"
BUDGET_MAX_USD = 1_000_000


@dataclass(frozen=True)
class Issued:
    """A one-use link's code, shown once to the admin who made it (only its hash is stored)."""

    code: str
    email: str | None
    expires_at: datetime


def list_users(admin_id: str, page: PageRequest = PageRequest()) -> Page[User]:
    """A page of every account, oldest first."""
    accounts.require_admin(admin_id)
    return paginate(select(User), (User.created_at, User.id), page)


def create_user(admin_id: str, email: str, name: str, password: str, *, is_admin: bool = False) -> User:
    accounts.require_admin(admin_id)
    return accounts.register(email, password, name, by_admin=True, is_admin=is_admin)


def update_user(admin_id: str, user_id: str, *, is_admin: bool | None = None, disabled: bool | None = None,
                monthly_budget_usd: float | None | object = KEEP) -> User:
    """Change what is given; disabling ends every sign-in of the user at once. Refused (Conflict) when it
    would leave no active admin."""
    accounts.require_admin(admin_id)
    budget = monthly_budget_usd if monthly_budget_usd is KEEP else _budget(monthly_budget_usd)
    accounts.lock_accounts()
    user = accounts.get_user(user_id)
    if is_admin is not None:
        user.is_admin = is_admin
    if disabled is not None:
        user.disabled = disabled
    if budget is not KEEP:
        user.monthly_budget_usd = budget
    db.session.flush()
    if accounts.active_admin_count() == 0:
        db.session.rollback()
        raise Conflict(N_("Mockup Studio needs at least one active administrator. Make someone else an "
                          "administrator first."))
    if user.disabled:
        accounts.revoke_all_sessions(user.id)
    db.session.commit()
    return user


def _budget(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 <= value <= BUDGET_MAX_USD:
        message = N_("Enter a monthly budget in US dollars from 0 to 1,000,000, or none.")
        raise Invalid(message, fields={"monthly_budget_usd": message})
    return float(value)


def invite(admin_id: str, email: str | None = None) -> Issued:
    """A one-use registration link valid 7 days; with an email, only that address may use it."""
    accounts.require_admin(admin_id)
    email = accounts.normalize_email(email) or None
    if email and accounts.email_problem(email):
        raise Invalid(accounts.email_problem(email), fields={"email": accounts.email_problem(email)})
    code = links.new_code()
    invitation = Invitation(code_hash=links.digest(code), email=email, created_by_id=admin_id,
                            expires_at=utcnow() + INVITATION_TTL)
    db.session.add(invitation)
    db.session.commit()
    return Issued(code, email, invitation.expires_at)


def issue_password_reset(admin_id: str, user_id: str) -> Issued:
    """A one-use link valid 24 hours with which the user sets a new password."""
    accounts.require_admin(admin_id)
    user = accounts.get_user(user_id)
    code = links.new_code()
    reset = PasswordReset(user_id=user.id, token_hash=links.digest(code), expires_at=utcnow() + RESET_TTL)
    db.session.add(reset)
    db.session.commit()
    return Issued(code, user.email, reset.expires_at)
