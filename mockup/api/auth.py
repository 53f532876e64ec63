"""/api/auth: register, log in, refresh, log out, who am I."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..security import limit_failed_logins
from ..services import accounts, tokens
from . import serializers
from .blueprint import bp
from .parsing import json_object, text
from .security import caller, login_required

TOKEN_TYPE = "Bearer"


@bp.post("/auth/register")
def register() -> ResponseReturnValue:
    body = json_object()
    user = accounts.register(text(body, "email"), text(body, "password"), text(body, "name"),
                             invite_code=text(body, "invite_code", required=False))
    return jsonify(user=serializers.user(user)), 201


@bp.post("/auth/login")
@limit_failed_logins
def login() -> ResponseReturnValue:
    body = json_object()
    sign_in = tokens.login(text(body, "email"), text(body, "password"))
    return jsonify(
        access_token=sign_in.access.token, refresh_token=sign_in.refresh_token, token_type=TOKEN_TYPE,
        expires_in=sign_in.access.expires_in, user=serializers.user(sign_in.user),
    )


@bp.post("/auth/refresh")
def refresh() -> ResponseReturnValue:
    access = tokens.refresh(text(json_object(), "refresh_token"))
    return jsonify(access_token=access.token, token_type=TOKEN_TYPE, expires_in=access.expires_in)


@bp.post("/auth/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Ends the bearer token's sign-in (its access and refresh tokens) and the refresh token sent, if any.
    A browser session is ended by the page's own log-out, not here."""
    refresh_token = text(json_object(optional=True), "refresh_token", required=False)
    tokens.logout(caller().user.id, caller().sign_in_id, refresh_token)
    return "", 204


@bp.get("/auth/me")
@login_required
def me() -> ResponseReturnValue:
    return jsonify(user=serializers.user(caller().user))
