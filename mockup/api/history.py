"""/api/projects/:id/history and /api/history: the images a project keeps."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..services import history
from . import serializers
from .blueprint import bp
from .parsing import json_object, page, text
from .security import login_required, owner_id


@bp.get("/projects/<project_id>/history")
@login_required
def list_history(project_id: str) -> ResponseReturnValue:
    found = history.list_history(owner_id(), project_id, page=page())
    return jsonify(serializers.page(found, serializers.history_list))


@bp.post("/history/<image_id>/save")
@login_required
def save_to_history(image_id: str) -> ResponseReturnValue:
    """201 for a new entry; 200 with the existing entry when the image was saved before."""
    note = text(json_object(optional=True), "note", required=False) or ""
    entry, created = history.save_to_history(owner_id(), image_id, note)
    return jsonify(history=serializers.history_entry(entry)), 201 if created else 200


@bp.delete("/history/<entry_id>")
@login_required
def delete_entry(entry_id: str) -> ResponseReturnValue:
    history.delete_entry(owner_id(), entry_id)
    return "", 204
