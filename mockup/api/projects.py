"""/api/projects: a user's projects."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..services import projects
from . import serializers
from .blueprint import bp
from .parsing import json_object, page, text
from .security import login_required, owner_id


@bp.get("/projects")
@login_required
def list_projects() -> ResponseReturnValue:
    return jsonify(serializers.page(projects.list_projects(owner_id(), page()), serializers.project_list))


@bp.post("/projects")
@login_required
def create_project() -> ResponseReturnValue:
    body = json_object()
    project = projects.create_project(owner_id(), text(body, "name"), text(body, "description", required=False) or "")
    return jsonify(project=serializers.project(project, image_count=0)), 201


@bp.get("/projects/<project_id>")
@login_required
def get_project(project_id: str) -> ResponseReturnValue:
    return jsonify(project=serializers.project(projects.get_project(owner_id(), project_id)))


@bp.patch("/projects/<project_id>")
@login_required
def update_project(project_id: str) -> ResponseReturnValue:
    body = json_object()
    project = projects.update_project(
        owner_id(), project_id, text(body, "name", required=False), text(body, "description", required=False))
    return jsonify(project=serializers.project(project))


@bp.delete("/projects/<project_id>")
@login_required
def delete_project(project_id: str) -> ResponseReturnValue:
    projects.delete_project(owner_id(), project_id)
    return "", 204
