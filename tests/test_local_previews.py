"""Honest local previews (issue 17, item 5), on generated product shots: the local IP change takes the
old print away (its place looks like the bare product) and puts the new character at the same place and
scale; a box edit recolours only the object in the box, keeping its shading; a removal naming a colour is
not a tint; an instruction the offline engine cannot follow fails with a sentence saying so."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from mockup.engines.base import EditRequest, EngineError, GenerationRequest
from mockup.engines.colour_words import asks_to_remove
from mockup.engines.local import UNSUPPORTED_EDIT, LocalEngine
from mockup.imaging import regions
from mockup.models import Generation
from mockup.extensions import db
from mockup.services import edits

from . import structure_pairs
from .job_runner import run_job
from .test_edits import make_parent

MUG = structure_pairs.Scene("mug", body=(246, 246, 243), size=(1024, 1024))  # white mug on white, a cat print
PINK = (250, 120, 160)


def lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def character() -> Image.Image:
    """A tall, narrow pink character: beside it, much of the old, round print's place stays uncovered."""
    art = Image.new("RGBA", (140, 320), (0, 0, 0, 0))
    art.paste(Image.new("RGBA", (100, 280), PINK + (255,)), (20, 20))
    return art


def box_of(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


@pytest.fixture(scope="module")
def swapped() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the first IP-change candidate, the bare mug without any print, the old print's pixels)."""
    source = structure_pairs.render(MUG)
    bare = np.asarray(structure_pairs.render(structure_pairs._apply(MUG, {"character": -1})), np.float32)
    old_print = np.linalg.norm(lab(np.asarray(source)) - lab(bare), axis=2) > 10
    result = LocalEngine().generate(GenerationRequest(mode="ip-change", source=source, character=character()))
    return np.asarray(result.images[0], np.float32), bare, old_print


def test_the_old_print_is_gone_where_the_new_character_does_not_cover_it(swapped):
    output, bare, old_print = swapped
    new = np.linalg.norm(lab(output) - lab(np.full_like(output, PINK)), axis=2) < 25
    uncovered = old_print & ~cv2.dilate(new.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.count_nonzero(uncovered) > 0.1 * np.count_nonzero(old_print), "the test must see the old spot"
    difference = np.linalg.norm(lab(output) - lab(bare), axis=2)[uncovered]
    assert np.median(difference) < 4 and np.mean(difference > 12) < 0.03  # the bare surface, shading and all


def test_the_new_character_takes_the_old_ones_place_and_scale(swapped):
    output, _, old_print = swapped
    new = np.linalg.norm(lab(output) - lab(np.full_like(output, PINK)), axis=2) < 25
    ox0, oy0, ox1, oy1 = box_of(old_print)
    nx0, ny0, nx1, ny1 = box_of(new)
    size = max(ox1 - ox0, oy1 - oy0)
    assert abs((nx0 + nx1) - (ox0 + ox1)) / 2 < 0.12 * size and abs((ny0 + ny1) - (oy0 + oy1)) / 2 < 0.12 * size
    assert 0.75 < max(nx1 - nx0, ny1 - ny0) / size < 1.15


def _handle_box_edit(instruction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Image.Image], np.ndarray]:
    """A box drawn around a white mug's handle and edited: (source, product mask, the handle's pixels in
    the box, the composited candidates, the box)."""
    scene = structure_pairs.Scene("mug", body=(246, 246, 243), character=-1)
    source = structure_pairs.render(scene)
    height, width = scene.size[1], scene.size[0]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    product, _, _ = structure_pairs._product(scene, x, y)
    cx, _, half_width, _ = structure_pairs._frame(scene)
    handle = (product > 0.95) & (x > cx + half_width + 3)  # the handle: the product right of the body
    x0, y0, x1, y1 = box_of(handle)
    mask = regions.mask_from_region(source.size, x0 - 10, y0 - 10, x1 - x0 + 20, y1 - y0 + 20)
    request = EditRequest(source, mask, regions.mark_region(source, mask), instruction)
    outputs = [regions.composite_edit(source, image, mask) for image in LocalEngine().edit(request).images]
    inside = regions.selected(mask)
    return np.asarray(source, np.float32), product, inside & handle, outputs, inside


def test_a_box_edit_recolours_only_the_object_in_the_box_keeping_its_shading():
    source, product, handle, outputs, inside = _handle_box_edit("make the handle red")
    backdrop = inside & (product < 0.02)
    assert np.count_nonzero(backdrop) > 0.3 * np.count_nonzero(inside)  # the box holds much backdrop
    for output in outputs:
        output = np.asarray(output, np.float32)
        assert np.abs(output[backdrop] - source[backdrop]).mean() < 1.5, "the backdrop in the box stays"
        assert lab(output)[handle][:, 1].mean() > lab(source)[handle][:, 1].mean() + 25, "the handle is red"
        shading = np.corrcoef(lab(output)[handle][:, 0], lab(source)[handle][:, 0])[0, 1]
        assert shading > 0.8, "the handle keeps its light and shadow"


def test_removing_something_named_by_colour_does_not_tint_the_region():
    source = structure_pairs.render(MUG)
    mask = structure_pairs.print_mask(MUG)
    request = EditRequest(source, mask, regions.mark_region(source, mask), "remove the orange cat")
    inside = regions.selected(mask)
    for image in LocalEngine().edit(request).images:
        patch = lab(np.asarray(regions.composite_edit(source, image, mask)))[inside]
        assert np.hypot(patch[:, 1], patch[:, 2]).mean() < 8, "painted out to the white surface, no orange"


@pytest.mark.parametrize("text", ["remove the orange cat", "Erase the logo", "get rid of the red label",
                                  "고양이를 지워줘", "로고 제거", "스티커 없애줘"])
def test_removal_verbs(text):
    assert asks_to_remove(text)


@pytest.mark.parametrize("text", ["make it red", "파란색으로 바꿔줘", "reduce the glare", "add a hat"])
def test_not_removals(text):
    assert not asks_to_remove(text)


def test_an_instruction_beyond_the_offline_engine_says_so():
    source = structure_pairs.render(MUG)
    mask = structure_pairs.print_mask(MUG)
    with pytest.raises(EngineError) as raised:
        LocalEngine().edit(EditRequest(source, mask, regions.mark_region(source, mask), "add a party hat"))
    assert raised.value.message == UNSUPPORTED_EDIT and "AI engine" in raised.value.message


def test_the_failed_edit_shows_the_sentence(app):
    owner, generation_id, image_id = make_parent(app)
    with app.app_context():
        edit = edits.submit_edit(owner, generation_id, image_id, "make it look vintage",
                                 region={"x": 10, "y": 10, "width": 40, "height": 30})
        assert run_job(app, edit.id) == "failed"
        failed = db.session.get(Generation, edit.id)
        assert failed.error_message == UNSUPPORTED_EDIT and failed.images == []
