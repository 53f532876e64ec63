"""/api/projects/:id/export: a project's images as one zip, streamed (services/exports.py)."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..http.files import send_stream
from ..http.retry import retry_after
from ..services import exports
from . import serializers
from .blueprint import bp
from .contract import query
from .security import login_required, owner_id

ZIP = "application/zip"


@bp.get("/projects/<project_id>/export")
@login_required
def export_project(project_id: str) -> ResponseReturnValue:
    """The zip; with size=2k, 202 with ready/total and Retry-After until every 2K file exists (the
    first call starts the missing upscales)."""
    result = exports.export_project(owner_id(), project_id, query("scope"), query("format"), query("size"))
    if isinstance(result, exports.Preparing):
        return (jsonify(status="processing", ready=result.ready, total=result.total), 202,
                retry_after(result.retry_after))
    project = serializers.project(result.project, role=result.role)
    return send_stream(exports.stream(result, project), ZIP, result.filename)
