"""Masks, the marked copy and the composite of a region edit (mockup/imaging/regions.py), on photo-like
content: gradients, shaded shapes, texture and sensor noise, where any stray change would show up in a
bit-for-bit comparison."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from mockup.errors import Invalid, TooLarge, UnsupportedMedia
from mockup.imaging import regions
from mockup.imaging.regions import FEATHER_PX, composite_edit, mark_region, mask_from_png, mask_from_region

from .pictures import beyond_feather, irregular_mask, photo, pixels, png


@pytest.fixture
def original() -> Image.Image:
    return photo((320, 240), seed=1)


@pytest.fixture
def edited() -> Image.Image:
    """What a model might return: the same scene repainted everywhere (other grain, shifted colours)."""
    return Image.fromarray(255 - pixels(photo((320, 240), seed=2)), "RGB")


def test_an_irregular_region_changes_nothing_beyond_the_feather(original, edited):
    mask = irregular_mask(original.size)
    result = composite_edit(original, edited, mask)
    outside = beyond_feather(mask)
    assert result.size == original.size and result.mode == "RGB"
    assert outside.mean() > 0.6  # the check covers most of the picture
    assert np.array_equal(pixels(result)[outside], pixels(original)[outside])
    inside = regions.selected(mask)
    assert np.array_equal(pixels(result)[inside], pixels(edited)[inside])
    band = ~inside & ~outside
    blended = pixels(result)[band].astype(int)
    assert (blended != pixels(original)[band]).any(axis=1).mean() > 0.5, "the edge is feathered"
    assert (blended != pixels(edited)[band]).any(axis=1).mean() > 0.5, "not a hard cut"


def test_the_feather_reaches_exactly_feather_px(original, edited):
    mask = irregular_mask(original.size)
    for feather_px in (0, 1, 8):
        result = composite_edit(original, edited, mask, feather_px=feather_px)
        outside = beyond_feather(mask, feather_px)
        assert np.array_equal(pixels(result)[outside], pixels(original)[outside])
    hard = composite_edit(original, edited, mask, feather_px=0)
    keep = ~regions.selected(mask)
    assert np.array_equal(pixels(hard)[keep], pixels(original)[keep])


def test_a_box_at_the_images_edge(original, edited):
    width, height = original.size
    mask = mask_from_region(original.size, width - 60, 0, 60, 90)  # the top-right corner, touching two edges
    result = composite_edit(original, edited, mask)
    outside = beyond_feather(mask)
    assert np.array_equal(pixels(result)[outside], pixels(original)[outside])
    assert np.array_equal(pixels(result)[:90, width - 60:], pixels(edited)[:90, width - 60:])
    # Nothing wraps around to the opposite edges.
    assert np.array_equal(pixels(result)[:, : width - 60 - FEATHER_PX - 1], pixels(original)[:, : width - 60 - FEATHER_PX - 1])
    assert np.array_equal(pixels(result)[90 + FEATHER_PX + 1:], pixels(original)[90 + FEATHER_PX + 1:])


def test_an_answer_of_another_size_is_aligned_to_the_original(original):
    """Gemini answers at 1K in the nearest aspect ratio: here 1.6x larger and squashed to 4:3 -> 3:2."""
    mask = mask_from_region(original.size, 100, 60, 80, 70)
    answer = original.resize((528, 352), Image.Resampling.LANCZOS)
    answer.paste((20, 200, 40), (int(100 * 1.65) + 20, int(60 * 1.467) + 20, int(180 * 1.65) - 20, int(130 * 1.467) - 20))
    result = composite_edit(original, answer, mask)
    assert result.size == original.size
    outside = beyond_feather(mask)
    assert np.array_equal(pixels(result)[outside], pixels(original)[outside])
    aligned = pixels(answer.resize(original.size, Image.Resampling.LANCZOS))
    inside = regions.selected(mask)
    assert np.array_equal(pixels(result)[inside], aligned[inside])
    # The green patch lands where it was drawn, and the untouched rim of the region still matches the
    # original closely: the scaled answer lines up with it rather than being shifted or cropped.
    assert tuple(pixels(result)[95, 140]) == pytest.approx((20, 200, 40), abs=12)
    rim = inside.copy()
    rim[70:120, 112:168] = False
    difference = np.abs(pixels(result)[rim].astype(int) - pixels(original)[rim].astype(int))
    assert difference.mean() < 12


def test_a_transparent_original_keeps_its_alpha(original, edited):
    rgba = original.copy()
    alpha = np.full(original.size[::-1], 255, np.uint8)
    alpha[:, :80] = 0  # a cut-out: the left part is transparent
    rgba.putalpha(Image.fromarray(alpha, "L"))
    mask = irregular_mask(original.size)
    result = composite_edit(rgba, edited, mask)
    assert result.mode == "RGBA"
    outside = beyond_feather(mask)
    assert np.array_equal(pixels(result)[outside], pixels(rgba)[outside])
    assert np.array_equal(pixels(result)[..., 3], alpha), "a model answer without alpha keeps the original's"


def test_mask_from_region_is_white_exactly_inside():
    mask = pixels(mask_from_region((50, 40), 5, 6, 10, 20))
    assert mask.dtype == np.uint8 and mask.shape == (40, 50)
    assert (mask[6:26, 5:15] == 255).all() and mask.sum() == 255 * 200


def test_mask_from_png_reads_white_as_the_edit(original):
    painted = Image.new("RGBA", original.size, (0, 0, 0, 255))
    painted.paste((255, 255, 255, 255), (10, 10, 50, 30))
    painted.paste((140, 140, 140, 255), (60, 10, 70, 30))  # an anti-aliased edge counts from mid-grey
    mask = mask_from_png(png(painted), original.size)
    assert mask.mode == "L" and set(np.unique(pixels(mask))) == {0, 255}
    assert int((pixels(mask) == 255).sum()) == 40 * 20 + 10 * 20


@pytest.mark.parametrize("data, error, status", [
    (png(Image.new("L", (100, 100), 255)), Invalid, 422),
    (png(Image.new("L", (320, 240), 0)), Invalid, 422),
    (png(Image.new("L", (320, 240), 100)), Invalid, 422),
    (b"GIF89a not a png", UnsupportedMedia, 415),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, UnsupportedMedia, 415),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (10 * 1024 * 1024), TooLarge, 413),
])
def test_mask_from_png_refuses_bad_masks(data, error, status):
    with pytest.raises(error) as raised:
        mask_from_png(data, (320, 240))
    assert raised.value.status == status and "mask" in raised.value.fields


def test_a_jpeg_mask_is_refused(original):
    buffer = io.BytesIO()
    Image.new("L", original.size, 255).save(buffer, "JPEG")
    with pytest.raises(UnsupportedMedia):
        mask_from_png(buffer.getvalue(), original.size)


def test_mark_region_tints_the_region_and_rings_it(original):
    mask = mask_from_region(original.size, 100, 60, 80, 70)
    marked = pixels(mark_region(original, mask))
    base = pixels(original).astype(int)
    inside = marked[60:130, 100:180].astype(int)
    assert (inside[..., 1] < base[60:130, 100:180, 1]).mean() > 0.95, "green drops under a magenta tint"
    assert tuple(marked[58, 140]) == regions.MARK_COLOUR and tuple(marked[95, 181]) == regions.MARK_COLOUR
    far = beyond_feather(mask, 8)
    assert np.array_equal(marked[far], pixels(original)[far])


def test_mark_region_of_a_transparent_image_is_opaque(original):
    rgba = original.convert("RGBA")
    assert mark_region(rgba, mask_from_region(original.size, 0, 0, 10, 10)).mode == "RGB"
