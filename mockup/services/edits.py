"""Region edits of a generated image (DESIGN.md section 6, "Partial edit").

The request is validated in full now, so clients can be written against the final behaviour; the
edit-image job itself arrives with the imaging work, and until then a valid request is refused as
unavailable with nothing written.
"""
from __future__ import annotations

from io import BytesIO
from typing import Any, Mapping

from PIL import Image, UnidentifiedImageError

from ..errors import Invalid, TooLarge, Unavailable, UnsupportedMedia
from ..imaging.intake import MAX_UPLOAD_BYTES
from ..models import Generation, Image as ImageRow
from .generations import PROMPT_MAX
from .images import get_candidate

REGION_KEYS = ("x", "y", "width", "height")
MASK_WHITE = 128  # a mask pixel at or above this grey level is part of the edit


def submit_edit(owner_id: str, generation_id: str, image_id: str, prompt: str, *,
                region: Mapping[str, Any] | None = None, mask: bytes | None = None) -> Generation:
    """Validate an edit of one candidate: an instruction plus either a pixel rectangle or a PNG mask the
    size of the image. Raises Unavailable after validation until the edit job exists."""
    image = get_candidate(owner_id, generation_id, image_id)
    _check_prompt(prompt)
    if (region is None) == (mask is None):
        raise Invalid("Mark the part to edit with either a region or a mask.",
                      fields={"region": "Give a region or a mask.", "mask": "Give a region or a mask."})
    if region is not None:
        _check_region(region, image)
    else:
        _check_mask(mask, image)
    raise Unavailable("Region edits are not available yet: they arrive with the next imaging update. "
                      "Generate again with a more precise prompt meanwhile.")


def _check_prompt(prompt: str) -> None:
    prompt = (prompt or "").strip()
    if not prompt:
        raise Invalid("Say what to change in the marked part.", fields={"prompt": "Enter an instruction."})
    if len(prompt) > PROMPT_MAX:
        raise Invalid(f"Keep the prompt under {PROMPT_MAX} characters.", fields={"prompt": "Too long."})


def _check_region(region: Mapping[str, Any], image: ImageRow) -> None:
    """A rectangle in the image's pixels: whole numbers, a positive size, entirely inside the image."""
    if not isinstance(region, Mapping):
        raise Invalid("The region must be an object with x, y, width and height.",
                      fields={"region": "Give x, y, width and height."})
    for key in REGION_KEYS:
        value = region.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(f"region.{key} must be a whole number of pixels.", fields={f"region.{key}": "Not a whole number."})
    x, y, width, height = (region[key] for key in REGION_KEYS)
    if width <= 0 or height <= 0:
        raise Invalid("The region must have a positive width and height.", fields={"region": "Empty region."})
    if x < 0 or y < 0 or x + width > image.width or y + height > image.height:
        raise Invalid(f"The region must lie inside the image ({image.width}x{image.height} pixels).",
                      fields={"region": "Outside the image."})


def _check_mask(data: bytes, image: ImageRow) -> None:
    """A PNG exactly the image's size with some white in it. The size is read from the header before
    any pixel is decoded, so an oversized file costs nothing."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge("The mask is larger than 10 MB.", fields={"mask": "Too large."})
    try:
        with Image.open(BytesIO(data), formats=["PNG"]) as opened:
            if opened.size != (image.width, image.height):
                raise Invalid(f"The mask must be {image.width}x{image.height} pixels, the size of the image.",
                              fields={"mask": "Wrong size."})
            mask = opened.convert("L")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnsupportedMedia("The mask must be a PNG image.", fields={"mask": "Not a PNG image."}) from None
    if mask.getextrema()[1] < MASK_WHITE:
        raise Invalid("The mask has no white area: paint the part to edit in white.", fields={"mask": "Nothing marked."})
