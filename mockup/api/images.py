"""/api/images: one generated image, its files, downloads (1K and 2K) and deleting it."""
from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..http.files import send_stored
from ..http.retry import retry_after
from ..imaging.formats import MIME_TYPES
from ..models import JOB_UPSCALE
from ..services import image_jobs, images
from . import serializers
from .blueprint import bp
from .contract import query
from .security import login_required, owner_id


@bp.get("/images/<image_id>")
@login_required
def get_image(image_id: str) -> ResponseReturnValue:
    return jsonify(image=serializers.image(images.get_image(owner_id(), image_id)))


@bp.get("/images/<image_id>/file")
@login_required
def image_file(image_id: str) -> ResponseReturnValue:
    return send_stored(images.get_image(owner_id(), image_id).path, MIME_TYPES["png"], immutable=True)


@bp.get("/images/<image_id>/thumbnail")
@login_required
def image_thumbnail(image_id: str) -> ResponseReturnValue:
    return send_stored(images.get_image(owner_id(), image_id).thumbnail_path, MIME_TYPES["jpeg"], immutable=True)


@bp.get("/images/<image_id>/download")
@login_required
def download_image(image_id: str) -> ResponseReturnValue:
    file = images.download(owner_id(), image_id, query("format"))
    return send_stored(file.path, file.mimetype, download_name=file.filename)


@bp.get("/images/<image_id>/download/2k")
@login_required
def download_image_2k(image_id: str) -> ResponseReturnValue:
    """The 2K file once it exists; until then 202 with Retry-After (the first call starts the upscale)."""
    result = image_jobs.download_result(owner_id(), image_id, JOB_UPSCALE, query("format"))
    if isinstance(result, image_jobs.Pending):
        return jsonify(status="processing"), 202, retry_after(result.retry_after)
    return send_stored(result.path, result.mimetype, download_name=result.filename)


@bp.delete("/images/<image_id>")
@login_required
def delete_image(image_id: str) -> ResponseReturnValue:
    images.delete_image(owner_id(), image_id)
    return "", 204
