"""/api/projects/:id/characters and /api/characters: a project's IP characters, their sheets of reference
images and their pictures."""
from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from ..http.files import send_stored
from ..imaging.formats import MIME_TYPES
from ..services import characters
from . import serializers
from .blueprint import bp
from .parsing import json_object, page, require_multipart, text, upload
from .security import login_required, owner_id


@bp.get("/projects/<project_id>/characters")
@login_required
def list_characters(project_id: str) -> ResponseReturnValue:
    found = characters.list_characters(owner_id(), project_id, page())
    return jsonify(serializers.page(found, serializers.each(serializers.character)))


@bp.post("/projects/<project_id>/characters")
@login_required
def create_character(project_id: str) -> ResponseReturnValue:
    require_multipart()
    character = characters.create_character(
        owner_id(), project_id, request.form.get("name", ""), upload("image"),
        description=request.form.get("description", ""), view=request.form.get("view") or None)
    return jsonify(character=serializers.character(character)), 201


@bp.patch("/characters/<character_id>")
@login_required
def update_character(character_id: str) -> ResponseReturnValue:
    data = json_object()
    character = characters.update_character(owner_id(), character_id, name=text(data, "name", required=False),
                                            description=text(data, "description", required=False))
    return jsonify(character=serializers.character(character))


@bp.delete("/characters/<character_id>")
@login_required
def delete_character(character_id: str) -> ResponseReturnValue:
    characters.delete_character(owner_id(), character_id)
    return "", 204


@bp.post("/characters/<character_id>/images")
@login_required
def add_character_image(character_id: str) -> ResponseReturnValue:
    require_multipart()
    character = characters.add_image(owner_id(), character_id, upload("image"), request.form.get("view") or None)
    return jsonify(character=serializers.character(character)), 201


@bp.delete("/characters/<character_id>/images/<character_image_id>")
@login_required
def delete_character_image(character_id: str, character_image_id: str) -> ResponseReturnValue:
    characters.delete_image(owner_id(), character_id, character_image_id)
    return "", 204


@bp.get("/characters/<character_id>/images/<character_image_id>/image")
@login_required
def character_sheet_image(character_id: str, character_image_id: str) -> ResponseReturnValue:
    return send_stored(characters.image_file(owner_id(), character_id, character_image_id), MIME_TYPES["png"])


@bp.get("/characters/<character_id>/images/<character_image_id>/thumbnail")
@login_required
def character_sheet_thumbnail(character_id: str, character_image_id: str) -> ResponseReturnValue:
    return send_stored(characters.image_file(owner_id(), character_id, character_image_id, thumbnail=True),
                       MIME_TYPES["jpeg"])


@bp.get("/characters/<character_id>/image")
@login_required
def character_image(character_id: str) -> ResponseReturnValue:
    return send_stored(characters.picture_file(owner_id(), character_id), MIME_TYPES["png"])


@bp.get("/characters/<character_id>/thumbnail")
@login_required
def character_thumbnail(character_id: str) -> ResponseReturnValue:
    return send_stored(characters.picture_file(owner_id(), character_id, thumbnail=True), MIME_TYPES["jpeg"])
