"""/api/generations: submitting a mockup job, following it, choosing a candidate, region edits."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask.typing import ResponseReturnValue

from ..models import CANDIDATES_DEFAULT, IMAGE_SIZES, Generation
from ..services import edits, generations, image_jobs
from . import serializers
from .blueprint import bp
from .parsing import MULTIPART, flag, integer, json_object, page, require_multipart, text, upload
from .security import login_required, owner_id


def _accepted(generation: Generation) -> ResponseReturnValue:
    """202 with the queued generation and where to poll it."""
    location = url_for("api.get_generation", generation_id=generation.id)
    return jsonify(generation=serializers.generation(generation)), 202, {"Location": location}


@bp.post("/generations")
@login_required
def submit_generation() -> ResponseReturnValue:
    require_multipart()
    form = request.form
    generation = generations.submit_generation(
        owner_id(), text(form, "project_id"), mode=form.get("mode", ""),
        source_image=upload("source_image"), character_id=form.get("character_id") or None,
        character_image=upload("character_image"), texture_image=upload("texture_image"),
        prompt=form.get("prompt", ""), preserve_structure=flag("preserve_structure", True),
        transparent_background=flag("transparent_background", False),
        candidates=integer("candidates", CANDIDATES_DEFAULT), image_size=form.get("image_size") or IMAGE_SIZES[0],
    )
    return _accepted(generation)


@bp.get("/generations/<generation_id>")
@login_required
def get_generation(generation_id: str) -> ResponseReturnValue:
    return jsonify(generation=serializers.generation(generations.get_generation(owner_id(), generation_id)))


@bp.get("/generations/<generation_id>/images")
@login_required
def list_generation_images(generation_id: str) -> ResponseReturnValue:
    found = generations.list_images(owner_id(), generation_id, page())
    return jsonify(serializers.page(found, serializers.image_list))


@bp.post("/generations/<generation_id>/select")
@login_required
def select_image(generation_id: str) -> ResponseReturnValue:
    image = image_jobs.select_image(owner_id(), generation_id, text(json_object(), "image_id"))
    return jsonify(image=serializers.image(image))


@bp.post("/generations/<generation_id>/edit")
@login_required
def edit_image(generation_id: str) -> ResponseReturnValue:
    """JSON with a pixel `region`, or multipart with a PNG `mask` (shared/API.md)."""
    if request.mimetype == MULTIPART:
        require_multipart()
        data, region, mask = request.form, None, upload("mask")
    else:
        data = json_object()
        region, mask = data.get("region"), None
    generation = edits.submit_edit(
        owner_id(), generation_id, text(data, "image_id"), text(data, "prompt"), region=region, mask_png=mask)
    return _accepted(generation)
