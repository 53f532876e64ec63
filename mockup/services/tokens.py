"""API sign-ins (shared/API.md): short-lived JWT access tokens and stored, revocable refresh tokens.

An access token is an HS256 JWT valid 15 minutes that names its user (`sub`) and its sign-in (`sid`, a
RefreshToken row). Checking it also checks that the sign-in was not revoked, so logging out or changing
the password stops the access tokens at once instead of up to 15 minutes later; the cost is one
primary-key lookup per request, which loading the user needs anyway.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app
from sqlalchemy import or_, select, update

from ..errors import N_, Unauthorized
from ..extensions import db
from ..models import RefreshToken, User, utcnow
from . import accounts, links

ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=7)
ALGORITHM = "HS256"
ACCESS_TYPE = "access"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int  # seconds, as OAuth 2 reports it


@dataclass(frozen=True)
class SignIn:
    access: AccessToken
    refresh_token: str
    user: User


@dataclass(frozen=True)
class Bearer:
    """The user an access token speaks for, and the sign-in it belongs to."""

    user: User
    sign_in_id: str


def _signing_key() -> bytes:
    """A key of its own derived from SECRET_KEY, so tokens and session cookies never share a key."""
    return hmac.new(current_app.config["SECRET_KEY"].encode("utf-8"), b"mockup api access token", "sha256").digest()


def _access_token(user_id: str, sign_in_id: str) -> AccessToken:
    now = utcnow()
    claims = {"sub": user_id, "sid": sign_in_id, "typ": ACCESS_TYPE, "iat": now, "exp": now + ACCESS_TTL}
    token = jwt.encode(claims, _signing_key(), algorithm=ALGORITHM)
    return AccessToken(token, int(ACCESS_TTL.total_seconds()))


def login(email: str, password: str) -> SignIn:
    """Check the credentials and start an API sign-in."""
    user = accounts.authenticate(email, password)
    if user is None:
        raise Unauthorized(N_("The email or password is not correct."))
    secret = links.new_code()
    row = RefreshToken(user_id=user.id, token_hash=links.digest(secret), expires_at=utcnow() + REFRESH_TTL)
    db.session.add(row)
    db.session.commit()
    return SignIn(_access_token(user.id, row.id), secret, user)


def refresh(refresh_token: str) -> AccessToken:
    """A new access token for a live refresh token (the refresh token itself stays the same)."""
    row = db.session.scalar(select(RefreshToken).join(User).where(
        RefreshToken.token_hash == links.digest(refresh_token or ""),
        RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > utcnow(), User.disabled.is_(False),
    ))
    if row is None:
        raise Unauthorized("This refresh token is not valid any more. Please log in again.")
    return _access_token(row.user_id, row.id)


def bearer(access_token: str) -> Bearer:
    """The user of a valid, unrevoked access token; Unauthorized otherwise."""
    try:
        claims = jwt.decode(
            access_token, _signing_key(), algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "sid"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired. Refresh it or log in again.") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("The access token is not valid.") from None
    row = db.session.get(RefreshToken, claims["sid"]) if claims.get("typ") == ACCESS_TYPE else None
    # A disabled user's tokens stop here on the next request, even before their sign-ins are revoked.
    if row is None or row.revoked_at is not None or row.user_id != claims["sub"] or row.user.disabled:
        raise Unauthorized("This sign-in has ended. Please log in again.")
    return Bearer(row.user, row.id)


def logout(user_id: str, sign_in_id: str | None, refresh_token: str | None = None) -> None:
    """End the caller's sign-in and the given refresh token (if it is the caller's). Repeatable."""
    which = []
    if sign_in_id:
        which.append(RefreshToken.id == sign_in_id)
    if refresh_token:
        which.append(RefreshToken.token_hash == links.digest(refresh_token))
    if not which:
        return
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None), or_(*which))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
