"""Accounts: registration, password checks and browser sign-ins."""
from __future__ import annotations

import secrets
from functools import lru_cache

import bcrypt
from flask import current_app
from sqlalchemy import select, update

from ..errors import N_, Conflict, Invalid, NotFound
from ..extensions import db
from ..models import LoginSession, RefreshToken, User, utcnow
from .. import storage
from .projects import files_of_project

BCRYPT_COST = 12  # tests lower it through the BCRYPT_COST config key
PASSWORD_MIN, PASSWORD_MAX = 8, 64
# bcrypt only reads 72 bytes; a longer password would be silently truncated, so refuse it clearly.
BCRYPT_MAX_BYTES = 72


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


def _validate_registration(email: str, password: str, name: str) -> None:
    fields = {}
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        fields["email"] = N_("Enter a valid email address.")
    if not name.strip() or len(name) > 100:
        fields["name"] = N_("Enter a name of 1 to 100 characters.")
    problem = password_problem(password)
    if problem:
        fields["password"] = problem
    if fields:
        raise Invalid(N_("Please correct the highlighted fields."), fields=fields)


def register(email: str, password: str, name: str, *, is_admin: bool = False) -> User:
    email = normalize_email(email)
    _validate_registration(email, password, name)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(N_("An account with this email already exists."), fields={"email": N_("Already registered.")})
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), is_admin=is_admin)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The account for this email and password, or None. Exactly one bcrypt check of the configured cost
    either way, so the time does not tell whether the email has an account."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    matches = _check_password(password, user.password_hash if user else _dummy_hash(_cost()))
    return user if user and matches else None


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
    if login is None or login.revoked_at is not None:
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
    _revoke_all_sessions(user_id)
    db.session.commit()


def _revoke_all_sessions(user_id: str) -> None:
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
    """Deletes the account, its projects and every file of it."""
    user = get_user(user_id)
    if not _check_password(password, user.password_hash):
        raise Invalid(N_("The password is not correct."), fields={"password": N_("Not correct.")})
    doomed = [rel for project in user.projects for rel in files_of_project(project)]
    db.session.delete(user)
    db.session.commit()
    storage.remove(*doomed, *storage.user_dirs(user_id))
