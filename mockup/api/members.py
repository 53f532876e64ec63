"""/api/projects/:id/members: who is in a shared project, with which role."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..services import members
from . import serializers
from .blueprint import bp
from .parsing import json_object, page, text
from .security import login_required, owner_id


@bp.get("/projects/<project_id>/members")
@login_required
def list_members(project_id: str) -> ResponseReturnValue:
    found = members.list_members(owner_id(), project_id, page())
    return jsonify(serializers.page(found, serializers.each(serializers.member)))


@bp.post("/projects/<project_id>/members")
@login_required
def add_member(project_id: str) -> ResponseReturnValue:
    body = json_object()
    member = members.add_member(owner_id(), project_id, text(body, "email"), text(body, "role"))
    return jsonify(member=serializers.member(member)), 201


@bp.patch("/projects/<project_id>/members/<user_id>")
@login_required
def change_member(project_id: str, user_id: str) -> ResponseReturnValue:
    member = members.change_role(owner_id(), project_id, user_id, text(json_object(), "role"))
    return jsonify(member=serializers.member(member))


@bp.delete("/projects/<project_id>/members/<user_id>")
@login_required
def remove_member(project_id: str, user_id: str) -> ResponseReturnValue:
    members.remove_member(owner_id(), project_id, user_id)
    return "", 204
