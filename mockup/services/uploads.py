"""Turning uploaded bytes into stored, normalised images (DESIGN.md section 6). Decoding happens before
anything is written, so a rejected upload leaves no file and no row."""
from __future__ import annotations

from io import BytesIO

from flask import current_app
from PIL import Image

from .. import storage
from ..errors import N_, Invalid, ServiceError
from ..imaging.formats import encode, thumbnail
from ..imaging.intake import decode_upload

SOURCE_JPEG_QUALITY = 95
TOO_SMALL_MESSAGE = N_("This image is too small for a sharp mockup. Please upload a larger one.")


def decode(data: bytes | None, field: str, *, required: bool = True) -> Image.Image | None:
    """Decode one upload, naming the form field in the error. None means no file was sent, which only
    an optional field accepts; an empty file is refused in every field rather than taken for none."""
    if not data:
        if data is None and not required:
            return None
        raise Invalid(N_("Choose an image file to upload."), fields={field: N_("Choose an image file.")})
    try:
        return decode_upload(data)
    except ServiceError as error:
        error.fields = {field: error.message, **error.fields}
        raise


def decode_input(data: bytes | None, field: str, *, required: bool = True) -> Image.Image | None:
    """decode() for what a mockup is made from (a product photo or sketch, a character): also refused
    under MIN_SOURCE_SIDE_PX on the shorter side, since the engine would only blow it up, blurred."""
    image = decode(data, field, required=required)
    if image is not None and min(image.size) < current_app.config["MIN_SOURCE_SIDE_PX"]:
        raise Invalid(TOO_SMALL_MESSAGE, fields={field: TOO_SMALL_MESSAGE})
    return image


def store_png(staging: storage.Staging, rel: str, image: Image.Image) -> str:
    return staging.write(rel, encode(image, "png"))


def store_source(staging: storage.Staging, owner_id: str, project_id: str, image: Image.Image) -> str:
    """Store a generation input under uploads/. Opaque images become high-quality JPEG (no chroma
    subsampling, so sketch lines stay crisp): a 24 MP photo takes about 0.1 s instead of 2 s as PNG.
    Anything with transparency stays PNG."""
    if image.mode == "RGBA":
        return store_png(staging, storage.upload(owner_id, project_id, "png"), image)
    buffer = BytesIO()
    image.save(buffer, "JPEG", quality=SOURCE_JPEG_QUALITY, subsampling=0)
    return staging.write(storage.upload(owner_id, project_id, "jpg"), buffer.getvalue())


def store_with_thumbnail(staging: storage.Staging, rel: str, image: Image.Image) -> str:
    """Write the PNG and its thumbnail beside it; returns the thumbnail's path."""
    store_png(staging, rel, image)
    return staging.write(storage.thumbnail(rel), thumbnail(image))
