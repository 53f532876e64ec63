"""Accounts: registration (its modes, invitations, the first admin), password checks and resets, and
browser sign-ins."""
from __future__ import annotations

import secrets
from functools import lru_cache

import bcrypt
from flask import current_app
from sqlalchemy import func, select, text, update

from ..errors import N_, Conflict, Forbidden, Invalid, NotFound, ServiceError, Unauthorized
from ..extensions import db
from ..models import (Batch, Generation, Image, ImageJob, Invitation, LoginSession, PasswordReset, Project, RefreshToken, User,
                      new_id, utcnow)
from .. import storage
from . import links
from .projects import files_of_project

BCRYPT_COST = 12  # tests lower it through the BCRYPT_COST config key
PASSWORD_MIN, PASSWORD_MAX = 8, 64
# bcrypt only reads 72 bytes; a longer password would be silently truncated, so refuse it clearly.
BCRYPT_MAX_BYTES = 72
# Registrations and changes to who is an admin take this PostgreSQL advisory lock (held until the
# transaction ends), so two registrations racing on an empty installation make exactly one first admin,
# and two admins demoting each other at once cannot leave none. SQLite runs one writer at a time anyway.
ACCOUNTS_LOCK_KEY = 0x6D6F636B7570
DISABLED_MESSAGE = N_("This account has been disabled. Ask an administrator of Mockup Studio.")


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def password_problem(password: str) -> str | None:
    """Why a password is refused, or None. Shared by the forms and the API."""
    if len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        return f"This password is longer than {BCRYPT_MAX_BYTES} bytes once encoded; use fewer non-Latin characters."
    return None


def _cost() -> int:
    return current_app.config.get("BCRYPT_COST", BCRYPT_COST)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(_cost())).decode("ascii")


@lru_cache
def _dummy_hash(cost: int) -> str:
    """Checked against when the email is unknown, at the cost of real hashes, so that a sign-in takes as
    long for a missing account as for a wrong password. Made once per cost: hashing costs what checking does."""
    return bcrypt.hashpw(b"not anyone's password", bcrypt.gensalt(cost)).decode("ascii")


def _check_password(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > BCRYPT_MAX_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))


def email_problem(email: str) -> str | None:
    """Why a (normalized) email address is refused, or None."""
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        return N_("Enter a valid email address.")
    return None


def _validate_registration(email: str, password: str, name: str) -> None:
    fields = {}
    if email_problem(email):
        fields["email"] = email_problem(email)
    if not name.strip() or len(name) > 100:
        fields["name"] = N_("Enter a name of 1 to 100 characters.")
    problem = password_problem(password)
    if problem:
        fields["password"] = problem
    if fields:
        raise Invalid(N_("Please correct the highlighted fields."), fields=fields)


def lock_accounts() -> None:
    """Serialize registrations and admin changes until this transaction ends (ACCOUNTS_LOCK_KEY)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ACCOUNTS_LOCK_KEY})


def register(email: str, password: str, name: str, *, invite_code: str | None = None,
             by_admin: bool = False, is_admin: bool = False) -> User:
    """A new account. The first account of an empty installation needs no invitation and is an admin,
    whatever the mode; after it REGISTRATION decides, unless an admin (or the CLI) creates the account."""
    email = normalize_email(email)
    _validate_registration(email, password, name)
    try:
        lock_accounts()
        first = installation_is_empty()
        if db.session.scalar(select(User.id).where(User.email == email)):
            raise Conflict(N_("An account with this email already exists."),
                           fields={"email": N_("Already registered.")})
        user = User(id=new_id(), email=email, name=name.strip(), password_hash=hash_password(password),
                    is_admin=is_admin or first)
        db.session.add(user)
        if not (first or by_admin):
            _admit(user, invite_code)
        db.session.commit()
    except ServiceError:
        db.session.rollback()  # also ends the lock
        raise
    return user


def _admit(user: User, invite_code: str | None) -> None:
    """May this person register on their own? In `invite` mode, uses up their invitation."""
    mode = current_app.config["REGISTRATION"]
    if mode == "closed":
        raise Forbidden(N_("New accounts are created by an administrator. Ask one for an account."))
    if mode == "open":
        return
    if not invite_code:
        raise Forbidden(N_("You need an invitation to register. Ask an administrator for a link."))
    db.session.flush()  # the invitation names the new user
    now = utcnow()
    used = db.session.execute(
        update(Invitation).where(
            Invitation.code_hash == links.digest(invite_code), Invitation.used_at.is_(None),
            Invitation.expires_at > now, (Invitation.email.is_(None)) | (Invitation.email == user.email),
        ).values(used_at=now, used_by_id=user.id)
    ).rowcount == 1
    if not used:
        raise Forbidden(N_("This invitation is not valid: it has been used, has expired or is for another "
                           "email address. Ask an administrator for a new link."))


def installation_is_empty() -> bool:
    """No account exists yet: the next one to register becomes the admin, invitation or not."""
    return db.session.scalar(select(User.id).limit(1)) is None


def authenticate(email: str, password: str) -> User | None:
    """The account for this email and password, or None. Exactly one bcrypt check of the configured cost
    either way, so the time does not tell whether the email has an account. A disabled account with the
    right password is refused with its own sentence (only its password holder learns it)."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    matches = _check_password(password, user.password_hash if user else _dummy_hash(_cost()))
    if user and matches and user.disabled:
        raise Unauthorized(DISABLED_MESSAGE)
    return user if user and matches else None


def require_admin(user_id: str) -> User:
    """The user, if they are an active admin; Forbidden otherwise."""
    user = get_user(user_id)
    if not user.is_admin or user.disabled:
        raise Forbidden(N_("Only an administrator may do this."))
    return user


def active_admin_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.is_admin.is_(True), User.disabled.is_(False))
    ) or 0


def get_user(user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(N_("This account does not exist."))
    return user


def start_session(user_id: str) -> str:
    """A new sign-in; returns the id the session cookie will carry."""
    login = LoginSession(id=secrets.token_urlsafe(32), user_id=user_id)
    db.session.add(login)
    db.session.commit()
    return login.id


def user_for_session(session_id: str) -> User | None:
    login = db.session.get(LoginSession, session_id)
    if login is None or login.revoked_at is not None or login.user.disabled:
        return None
    return login.user


def end_session(session_id: str) -> None:
    db.session.execute(
        update(LoginSession).where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()


def change_password(user_id: str, current: str, new: str) -> None:
    """Changes the password and ends every sign-in of the account."""
    user = get_user(user_id)
    if not _check_password(current, user.password_hash):
        raise Invalid(N_("The current password is not correct."), fields={"current_password": N_("Not correct.")})
    problem = password_problem(new)
    if problem:
        raise Invalid(problem, fields={"new_password": problem})
    user.password_hash = hash_password(new)
    revoke_all_sessions(user_id)
    db.session.commit()


RESET_INVALID = N_("This password link is not valid any more: it has been used or has expired. "
                   "Ask an administrator for a new one.")


def _live_reset(code: str) -> PasswordReset:
    reset = db.session.scalar(select(PasswordReset).where(
        PasswordReset.token_hash == links.digest(code), PasswordReset.used_at.is_(None),
        PasswordReset.expires_at > utcnow(),
    ))
    if reset is None:
        raise NotFound(RESET_INVALID)
    return reset


def check_reset_link(code: str) -> None:
    """NotFound unless the reset link is unused and unexpired (its page checks before showing the form)."""
    _live_reset(code)


def reset_password(code: str, new: str) -> User:
    """Set a new password with a one-use reset link an admin issued; ends every sign-in of the account."""
    reset = _live_reset(code)
    problem = password_problem(new or "")
    if problem:
        raise Invalid(problem, fields={"new_password": problem})
    # Conditional, so the same link used twice at once sets one password.
    if db.session.execute(
        update(PasswordReset).where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount != 1:
        raise NotFound(RESET_INVALID)
    reset.user.password_hash = hash_password(new)
    revoke_all_sessions(reset.user_id)
    db.session.commit()
    return reset.user


def revoke_all_sessions(user_id: str) -> None:
    """Browser sign-ins and API sign-ins (refresh tokens, and with them their access tokens)."""
    for model in (LoginSession, RefreshToken):
        db.session.execute(
            update(model).where(model.user_id == user_id, model.revoked_at.is_(None)).values(revoked_at=utcnow())
        )


def set_locale(user_id: str, locale: str | None) -> None:
    user = get_user(user_id)
    user.locale = locale
    db.session.commit()


def delete_account(user_id: str, password: str) -> None:
    """Deletes the account, its projects and every file of them. What the user made in colleagues'
    projects belongs to those projects and stays there (shared/API.md, "Shared projects")."""
    user = get_user(user_id)
    if not _check_password(password, user.password_hash):
        raise Invalid(N_("The password is not correct."), fields={"password": N_("Not correct.")})
    doomed = [rel for project in user.projects for rel in files_of_project(project)]
    _hand_shared_work_to_owners(user_id)
    db.session.delete(user)
    db.session.commit()
    storage.remove(*doomed, storage.staging_dir(user_id))
    storage.remove_empty(*storage.user_dirs(user_id))


def _hand_shared_work_to_owners(user_id: str) -> None:
    """The user's generations, batches and image jobs in projects they do not own pass to each project's owner,
    files left where they are, so deleting the account does not take them (or their cost) away from the
    project."""
    for model, extra in ((Generation, {"submission": None}), (Batch, {})):
        project_owner = select(Project.owner_id).where(Project.id == model.project_id).scalar_subquery()
        db.session.execute(
            update(model).where(model.owner_id == user_id, project_owner != user_id)
            .values(owner_id=project_owner, **extra).execution_options(synchronize_session=False))
    image_owner = (select(Generation.owner_id).join(Image, Image.generation_id == Generation.id)
                   .where(Image.id == ImageJob.image_id).scalar_subquery())
    db.session.execute(
        update(ImageJob).where(ImageJob.owner_id == user_id, image_owner != user_id)
        .values(owner_id=image_owner).execution_options(synchronize_session=False))
