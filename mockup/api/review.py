"""/api/images/:id/review, /api/images/:id/comments and /api/comments: reviewing images together."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..services import review
from . import serializers
from .blueprint import bp
from .parsing import json_object, page, text
from .security import login_required, owner_id


@bp.post("/images/<image_id>/review")
@login_required
def review_image(image_id: str) -> ResponseReturnValue:
    body = json_object()
    image = review.set_review(owner_id(), image_id, text(body, "state"), text(body, "comment", required=False))
    return jsonify(image=serializers.image(image))


@bp.get("/images/<image_id>/comments")
@login_required
def list_comments(image_id: str) -> ResponseReturnValue:
    found = review.list_comments(owner_id(), image_id, page())
    return jsonify(serializers.page(found, serializers.each(serializers.comment)))


@bp.post("/images/<image_id>/comments")
@login_required
def add_comment(image_id: str) -> ResponseReturnValue:
    body = json_object()
    comment = review.add_comment(owner_id(), image_id, text(body, "body"), body.get("region"))
    return jsonify(comment=serializers.comment(comment)), 201


@bp.delete("/comments/<comment_id>")
@login_required
def delete_comment(comment_id: str) -> ResponseReturnValue:
    review.delete_comment(owner_id(), comment_id)
    return "", 204
