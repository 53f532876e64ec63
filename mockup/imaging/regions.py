"""Masks for region edits, the marked copy shown to the model, and the composite that keeps an edit local
(DESIGN.md section 6, "Partial edit").

Image models repaint the whole picture a little even when asked to change one part, so the model's answer
is never stored as it is: `composite_edit` copies the original and overwrites only the pixels inside the
mask and a narrow feathered band around it. Every pixel farther than the feather from the mask is
therefore the original's own, bit for bit, whatever the engine returned.

Masks are 8-bit greyscale ("L") images the size of the edited image; white (at or above MASK_WHITE) marks
the part to edit.
"""
from __future__ import annotations

from io import BytesIO

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from mockup.errors import N_, Invalid, TooLarge, UnsupportedMedia
from mockup.imaging.formats import flatten
from mockup.imaging.intake import MAX_UPLOAD_BYTES

REGION_KEYS = ("x", "y", "width", "height")  # a rectangle in pixels, as the API's edit route takes it
MASK_WHITE = 128  # a mask pixel at or above this grey level is part of the edit
FEATHER_PX = 4
MARK_COLOUR = (255, 0, 255)  # magenta: rare in product photos, so the model cannot mistake it for content
MARK_COLOUR_NAME = "magenta"  # how the edit prompt names MARK_COLOUR
MARK_OPACITY = 0.45  # enough to see the region, little enough that the model still sees what is under it

MASK_SIZE_MESSAGE = N_("The mask must have the same width and height as the image.")
MASK_FORMAT_MESSAGE = N_("The mask must be a PNG image.")
MASK_EMPTY_MESSAGE = N_("The mask has no white area: paint the part to edit in white.")


def mask_from_region(size: tuple[int, int], x: int, y: int, width: int, height: int) -> Image.Image:
    """A mask of `size` that is white inside the rectangle (pixels, end-exclusive) and black elsewhere."""
    mask = Image.new("L", size, 0)
    mask.paste(255, (x, y, x + width, y + height))
    return mask


def mask_from_png(data: bytes, size: tuple[int, int]) -> Image.Image:
    """Decode an uploaded mask into a black-and-white "L" image, refusing anything that is not a PNG of
    exactly `size` with some white in it. The size is read from the header before any pixel is decoded,
    so an oversized file costs nothing. Raises TooLarge, UnsupportedMedia or Invalid naming `mask`."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge(N_("The mask is larger than 10 MB."), fields={"mask": N_("Too large.")})
    try:
        with Image.open(BytesIO(data), formats=["PNG"]) as opened:
            if opened.size != tuple(size):
                raise Invalid(MASK_SIZE_MESSAGE, fields={"mask": N_("Wrong size.")})
            grey = opened.convert("L")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UnsupportedMedia(MASK_FORMAT_MESSAGE, fields={"mask": N_("Not a PNG image.")}) from None
    mask = grey.point(lambda level: 255 if level >= MASK_WHITE else 0)
    if mask.getbbox() is None:
        raise Invalid(MASK_EMPTY_MESSAGE, fields={"mask": N_("Nothing marked.")})
    return mask


def mark_region(image: Image.Image, mask: Image.Image) -> Image.Image:
    """An RGB copy with the region tinted magenta and ringed by a solid magenta outline just outside it:
    Gemini takes no mask, so the region has to be visible in a picture the model can look at."""
    base = flatten(image)
    tint = Image.new("RGB", base.size, MARK_COLOUR)
    inside = selected(mask)
    fill = Image.fromarray((inside * round(255 * MARK_OPACITY)).astype(np.uint8), "L")
    marked = Image.composite(tint, base, fill)
    width = max(2, round(max(base.size) / 300))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    ring = cv2.dilate(inside.astype(np.uint8), disc) > 0
    marked.paste(MARK_COLOUR, mask=Image.fromarray(((ring & ~inside) * 255).astype(np.uint8), "L"))
    return marked


def composite_edit(original: Image.Image, edited: Image.Image, mask: Image.Image,
                   feather_px: int = FEATHER_PX) -> Image.Image:
    """The original with the edited image blended in only inside the mask and a `feather_px` band around
    it; the result has the original's size and mode (RGBA keeps its alpha wherever the edit has none).

    Locality holds by construction: the result starts as a copy of the original, and only pixels whose
    blend weight is above zero are written, and the weight is zero beyond the band.
    """
    if mask.size != original.size:
        raise ValueError(f"mask {mask.size} does not match image {original.size}")
    mode = "RGBA" if original.mode == "RGBA" else "RGB"
    base = np.asarray(original.convert(mode))
    aligned = np.asarray(_aligned(edited, original, mode), np.float32)
    weight = blend_weights(mask, feather_px)
    band = weight > 0
    out = base.copy()
    before = base[band].astype(np.float32)
    blended = before + (aligned[band] - before) * weight[band][:, None]
    out[band] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return Image.fromarray(out, mode)


def blend_weights(mask: Image.Image, feather_px: int) -> np.ndarray:
    """Blend weights (float32, 0..1): 1 inside the mask, falling linearly with the Euclidean distance
    from it to exactly 0 at `feather_px`, so the seam is soft and its reach is known to the pixel."""
    inside = selected(mask)
    if feather_px <= 0:
        return inside.astype(np.float32)
    distance = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.clip(1.0 - distance / feather_px, 0.0, 1.0).astype(np.float32)


def _aligned(edited: Image.Image, original: Image.Image, mode: str) -> Image.Image:
    """The edited image at exactly the original's size and in its mode. Models answer at their own
    resolution and nearest aspect ratio but keep the framing, so stretching to fit lines the two up."""
    if edited.size != original.size:
        edited = edited.resize(original.size, Image.Resampling.LANCZOS)
    if mode == "RGB":
        return flatten(edited)
    if edited.mode == "RGBA":
        return edited
    aligned = edited.convert("RGB")
    aligned.putalpha(original.getchannel("A"))  # the model drew no transparency: keep the original's
    return aligned


def selected(mask: Image.Image) -> np.ndarray:
    """The mask as a boolean array, True where the edit goes."""
    return np.asarray(mask.convert("L")) >= MASK_WHITE
