"""Encoding stored and downloaded images, and the 200 px thumbnails shown in lists (DESIGN.md section 6).

Every file we write is produced here from a decoded image, never copied from the upload, so what is
stored contains only pixels. Images handed in must already be free of metadata (see intake.py); the
encoders below are given no EXIF, ICC or text to write. An export adds its own text chunks to a copy
(png_text_chunks).
"""
from __future__ import annotations

from io import BytesIO
from typing import Literal

from PIL import Image, ImageOps
from PIL.PngImagePlugin import PngInfo, putchunk

from mockup.errors import N_, Invalid

Format = Literal["png", "jpeg", "webp"]

PNG_COMPRESS_LEVEL = 1
THUMBNAIL_SIZE = (200, 200)
JPEG_QUALITY = 90
WEBP_QUALITY = 85
THUMBNAIL_QUALITY = 80
FLATTEN_COLOUR = (255, 255, 255)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Every PNG starts with its signature and the IHDR chunk (13 bytes of data): 8 + 4 + 4 + 13 + 4 bytes.
PNG_HEAD_BYTES = 33

MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def encode(image: Image.Image, fmt: Format | str) -> bytes:
    """Encode an image for storage or download ("png", "jpeg" or "jpg", "webp").

    JPEG has no alpha, so transparency is flattened on white; PNG and WEBP keep it.
    """
    fmt = fmt.lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    out = BytesIO()
    if fmt == "png":
        # Speed over a few percent of size: optimize=True and zlib's higher levels cost seconds on large
        # images (a 24 MP photo: level 1 about 2 s, level 6 about 5 s on this machine's CPUs).
        _keep_colour_modes(image).save(out, "PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    elif fmt == "jpeg":
        flatten(image).save(out, "JPEG", quality=JPEG_QUALITY)
    elif fmt == "webp":
        _keep_colour_modes(image).save(out, "WEBP", quality=WEBP_QUALITY)
    else:
        raise Invalid(N_("Choose PNG, JPEG or WEBP as the download format."))
    return out.getvalue()


def png_text_chunks(text: dict[str, str]) -> bytes:
    """Text chunks to insert right after a PNG's IHDR (an export's prompt, characters, model and ids),
    built by Pillow's PngInfo: tEXt for Latin-1 values, iTXt (UTF-8) for the rest, so Korean reads back
    as written. Inserted into the stored bytes, the picture is neither decoded nor re-encoded."""
    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    out = BytesIO()
    for cid, data, _after_idat in info.chunks:
        putchunk(out, cid, data)
    return out.getvalue()


def is_png_head(head: bytes) -> bool:
    """Whether `head` (the first PNG_HEAD_BYTES of a file) is a PNG signature followed by its IHDR."""
    return len(head) == PNG_HEAD_BYTES and head.startswith(PNG_SIGNATURE) and head[12:16] == b"IHDR"


def thumbnail(image: Image.Image) -> bytes:
    """A 200x200 cover-cropped JPEG preview: lists show a full square, whatever the image's shape."""
    # Halve large images cheaply first; LANCZOS on the full 40 MP would dominate the upload time.
    reduced = image
    while min(reduced.size) >= 4 * THUMBNAIL_SIZE[0]:
        reduced = reduced.reduce(2)
    fitted = ImageOps.fit(reduced, THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
    out = BytesIO()
    flatten(fitted).save(out, "JPEG", quality=THUMBNAIL_QUALITY)
    return out.getvalue()


def flatten(image: Image.Image, colour: tuple[int, int, int] = FLATTEN_COLOUR) -> Image.Image:
    """Composite any transparency onto a solid colour and return an RGB image."""
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, colour)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _keep_colour_modes(image: Image.Image) -> Image.Image:
    """PNG and WEBP keep RGB or RGBA as they are; anything else becomes RGB(A) so every file looks alike."""
    if image.mode in ("RGB", "RGBA"):
        return image
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")
