"""/api/users, /api/invites, /api/usage: accounts for admins, and what the month cost."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..services import usage, users
from . import contract, serializers
from .blueprint import bp
from .parsing import boolean, json_object, number_or_null, page, text
from .security import login_required, owner_id


@bp.get("/users")
@login_required
def list_users() -> ResponseReturnValue:
    return jsonify(serializers.page(users.list_users(owner_id(), page()), serializers.each(serializers.user)))


@bp.post("/users")
@login_required
def create_user() -> ResponseReturnValue:
    body = json_object()
    user = users.create_user(owner_id(), text(body, "email"), text(body, "name"), text(body, "password"),
                             is_admin=bool(boolean(body, "is_admin")))
    return jsonify(user=serializers.user(user)), 201


@bp.patch("/users/<user_id>")
@login_required
def update_user(user_id: str) -> ResponseReturnValue:
    body = json_object()
    user = users.update_user(
        owner_id(), user_id, is_admin=boolean(body, "is_admin"), disabled=boolean(body, "disabled"),
        monthly_budget_usd=number_or_null(body, "monthly_budget_usd", absent=users.KEEP),
    )
    return jsonify(user=serializers.user(user))


@bp.post("/invites")
@login_required
def create_invite() -> ResponseReturnValue:
    email = text(json_object(optional=True), "email", required=False)
    return jsonify(invite=serializers.invite(users.invite(owner_id(), email))), 201


@bp.get("/usage")
@login_required
def month_usage() -> ResponseReturnValue:
    return jsonify(serializers.month_usage(usage.month_usage(owner_id(), contract.query("month"), page=page())))
