"""/api/batches: many generations in one request (source images x characters), followed as a whole."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue

from ..services import batches
from . import serializers
from .blueprint import bp
from .parsing import flag, integer, page, require_multipart, text, uploads
from .security import login_required, owner_id


@bp.post("/batches")
@login_required
def create_batch() -> ResponseReturnValue:
    require_multipart(repeated=("source_image", "character_id"))
    form = request.form
    options = batches.Options(
        prompt=form.get("prompt", ""), preserve_structure=flag("preserve_structure", True),
        transparent_background=flag("transparent_background", False),
        candidates=integer("candidates", batches.Options.candidates), image_size=form.get("image_size") or "1K")
    batch = batches.create_batch(owner_id(), text(form, "project_id"), mode=form.get("mode", ""),
                                 sources=uploads("source_image"), character_ids=form.getlist("character_id"),
                                 options=options)
    location = url_for("api.get_batch", batch_id=batch.id)
    return jsonify(batch=serializers.batch(batch)), 202, {"Location": location}


@bp.get("/batches/<batch_id>")
@login_required
def get_batch(batch_id: str) -> ResponseReturnValue:
    return jsonify(batch=serializers.batch(batches.get_batch(owner_id(), batch_id)))


@bp.get("/projects/<project_id>/batches")
@login_required
def list_batches(project_id: str) -> ResponseReturnValue:
    return jsonify(serializers.page(batches.project_batches(owner_id(), project_id, page()), serializers.batch_list))


@bp.post("/batches/<batch_id>/cancel")
@login_required
def cancel_batch(batch_id: str) -> ResponseReturnValue:
    return jsonify(batch=serializers.batch(batches.cancel_batch(owner_id(), batch_id)))
