"""/api/projects/:id/characters and /api/characters: a project's IP characters and their pictures."""
from __future__ import annotations

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from ..http.files import send_stored
from ..imaging.formats import MIME_TYPES
from ..services import characters
from . import serializers
from .blueprint import bp
from .parsing import page, require_multipart, upload
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
    character = characters.create_character(owner_id(), project_id, request.form.get("name", ""), upload("image"))
    return jsonify(character=serializers.character(character)), 201


@bp.delete("/characters/<character_id>")
@login_required
def delete_character(character_id: str) -> ResponseReturnValue:
    characters.delete_character(owner_id(), character_id)
    return "", 204


@bp.get("/characters/<character_id>/image")
@login_required
def character_image(character_id: str) -> ResponseReturnValue:
    return send_stored(characters.picture_file(owner_id(), character_id), MIME_TYPES["png"])


@bp.get("/characters/<character_id>/thumbnail")
@login_required
def character_thumbnail(character_id: str) -> ResponseReturnValue:
    return send_stored(characters.picture_file(owner_id(), character_id, thumbnail=True), MIME_TYPES["jpeg"])
