"""Turn uploaded bytes into a clean, trusted Pillow image (DESIGN.md section 6).

Everything a user uploads passes through `decode_upload` before it is stored or shown to an engine. The
format is decided only by Pillow decoding the bytes with the three accepted decoders, never by the file
name or the Content-Type the browser sent. The result is a fresh RGB or RGBA image that carries no
metadata at all, so nothing from the upload (EXIF with GPS, ICC profiles, comments, bytes after the end
of the image) can reach storage or another user.
"""
from __future__ import annotations

import warnings
from io import BytesIO

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps

from mockup.errors import N_, Invalid, TooLarge, UnsupportedMedia

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 8192
# Big JPEGs are decoded at a reduced scale that keeps at least this many pixels on the long side.
WORKING_SIDE = 2048
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")

UNSUPPORTED_MESSAGE = N_("Only PNG, JPEG and WEBP images are accepted.")
DAMAGED_MESSAGE = N_("This image is damaged or incomplete. Please export it again and upload the new file.")

# Used only to word the error for a file Pillow could not open: a file that starts like one of our
# formats is a damaged image, anything else is the wrong kind of file. Acceptance never relies on this.
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")

# Errors Pillow's decoders raise on malformed data (truncation, bad chunks, oversized text chunks...).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, MemoryError)

_SRGB = ImageCms.createProfile("sRGB")


def decode_upload(data: bytes) -> Image.Image:
    """Decode an upload into a metadata-free RGB or RGBA image, upright as the camera saw it.

    Raises TooLarge (over 10 MB), UnsupportedMedia (not PNG/JPEG/WEBP) or Invalid (damaged, animated,
    too many pixels, decompression bomb), each with a sentence a designer can act on.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge(N_("This file is larger than 10 MB. Please upload a smaller image."))
    if not data:
        raise UnsupportedMedia(UNSUPPORTED_MESSAGE)
    # Pillow only warns up to twice its pixel limit; a warning must stop the upload like the error does.
    # catch_warnings is process-global on Python 3.11, so a racing thread could drop this filter; that is
    # safe because MAX_PIXELS is below Pillow's warning limit and _check_dimensions rejects such files.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data)
        _check_still(image)
        _check_dimensions(image.size)
        _draft_to_working_size(image)
        _load_fully(image)
        image = _upright(image)
        image = _to_srgb(image)
        return _fresh_copy(_normalise_mode(image))


def _open(data: bytes) -> ImageFile.ImageFile:
    """Identify the format by decoding the header with the accepted decoders only."""
    try:
        return Image.open(BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except Image.UnidentifiedImageError:
        if _looks_like_accepted_format(data):
            raise Invalid(DAMAGED_MESSAGE) from None
        raise UnsupportedMedia(UNSUPPORTED_MESSAGE) from None
    except _DECODE_ERRORS:
        raise Invalid(DAMAGED_MESSAGE) from None


def _looks_like_accepted_format(data: bytes) -> bool:
    return data.startswith(_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _check_still(image: ImageFile.ImageFile) -> None:
    """Reject animations; an MPO (a phone's JPEG with extra depth or preview frames) keeps its first frame."""
    if getattr(image, "is_animated", False) and image.format != "MPO":
        raise Invalid(N_("Animated images are not supported. Please upload a single still image."))


def _check_dimensions(size: tuple[int, int]) -> None:
    """Check the header's claimed size before any pixel is decoded, so a bomb never allocates memory."""
    width, height = size
    if width < 1 or height < 1:
        raise Invalid(DAMAGED_MESSAGE)
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise _too_many_pixels(size)


def _too_many_pixels(size: tuple[int, int] | None = None) -> Invalid:
    claimed = f" ({size[0]} x {size[1]} pixels)" if size else ""
    return Invalid(
        f"This image is too large{claimed}. Images may be at most {MAX_SIDE} pixels on a side and "
        f"{MAX_PIXELS // 1_000_000} megapixels; please downscale it and upload again."
    )


def _draft_to_working_size(image: ImageFile.ImageFile) -> None:
    """Let libjpeg decode a big JPEG at 1/2, 1/4 or 1/8 scale (DCT scaling: exact, and several times
    faster than decoding every pixel and resizing), never below WORKING_SIDE on the long side. No engine
    uses more than that: Gemini gets at most 1536 px, and the outputs are 1K. Other formats decode whole."""
    width, height = image.size
    long_side = max(width, height)
    if image.format in ("JPEG", "MPO") and long_side >= 2 * WORKING_SIDE:
        # At least 1 px: a long thin strip's short side would otherwise round to 0 (Pillow divides by it).
        image.draft(image.mode, (max(1, width * WORKING_SIDE // long_side), max(1, height * WORKING_SIDE // long_side)))


def _load_fully(image: ImageFile.ImageFile) -> None:
    """Decode every pixel now, so truncated or corrupt files fail here and not later in a job."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("ImageFile.LOAD_TRUNCATED_IMAGES must stay off: it hides damaged uploads.")
    try:
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(image.size) from None
    except _DECODE_ERRORS:
        raise Invalid(DAMAGED_MESSAGE) from None


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation, since the stored copy loses the tag that told viewers to rotate it."""
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
            return image  # the common case; exif_transpose would still copy every pixel
        return ImageOps.exif_transpose(image)
    except _DECODE_ERRORS + (KeyError,):
        # A malformed EXIF block only costs us the orientation; the pixels themselves are fine.
        return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert through the embedded ICC profile, because the profile is stripped before storage.

    Without this, Display-P3 phone photos look dull and CMYK files with a press profile shift colour.
    Files without a usable profile fall back to Pillow's plain conversion in `_normalise_mode`.
    """
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image
    return converted if converted is not None else image


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Reduce every decoded mode to RGB, or RGBA when the image really has transparency."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        image = _sixteen_bit_to_l(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    )
    if not has_alpha:
        return image if image.mode == "RGB" else image.convert("RGB")
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    if rgba.getchannel("A").getextrema()[0] == 255:
        return rgba.convert("RGB")  # an alpha channel that is opaque everywhere carries no information
    return rgba


def _sixteen_bit_to_l(image: Image.Image) -> Image.Image:
    """Scale 16-bit grey to 8 bits; Pillow's own conversion clips everything above 255 to white."""
    values = np.asarray(image, dtype=np.float64)
    return Image.fromarray(np.clip(np.rint(values / 257.0), 0, 255).astype(np.uint8), "L")


def _fresh_copy(image: Image.Image) -> Image.Image:
    """Copy only the pixels into a new image, so no info, EXIF, ICC or text chunk survives."""
    fresh = image.copy()  # a plain Image: what a file plugin keeps beside the pixels stays behind
    fresh.info = {}
    return fresh
