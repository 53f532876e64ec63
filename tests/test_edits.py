"""Region edits end to end on the services and the job (DESIGN.md section 6, "Partial edit"), for both
engines: the local one directly, Gemini against the fake server. The parent image is replaced by
photo-like content first, so "outside the region nothing changed" is checked bit for bit on pixels
where any re-encoding or resampling would show."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from mockup import storage
from mockup.engines.base import EditRequest
from mockup.engines.colour_words import COLOURS, named_colour
from mockup.engines.local import LocalEngine
from mockup.engines.prompts import build_edit_prompt
from mockup.errors import Invalid, NotFound, UnsupportedMedia
from mockup.extensions import db
from mockup.imaging import regions
from mockup.imaging.formats import encode
from mockup.models import Generation, Image as ImageRow
from mockup.jobs import runner
from mockup.services import accounts, edits, generations, images, projects

from .conftest import files_under, png_bytes
from .pictures import beyond_feather, irregular_mask, photo, pixels, png


def make_parent(app, size: tuple[int, int] | None = None) -> tuple[str, str, str]:
    """A finished generation whose first candidate holds photo-like pixels (of `size` when given, as an
    engine answering at another size would); returns (owner id, generation id, image id)."""
    with app.app_context():
        user = accounts.register("edit@example.com", "correct horse", "E")
        project = projects.create_project(user.id, "Mugs")
        generation = generations.submit_generation(user.id, project.id, mode="sketch-to-real",
                                                   source_image=png_bytes((160, 120)), prompt="")
        assert runner.run_generation(generation.id) == "succeeded"
        image = db.session.get(Generation, generation.id).images[0]
        content = photo(size or (image.width, image.height), seed=7)
        storage.write_atomic(image.path, encode(content, "png"))
        image.width, image.height = content.size
        db.session.commit()
        return user.id, generation.id, image.id


def stored(app, generation_id: str) -> tuple[Generation, list[Image.Image]]:
    with app.app_context():
        generation = db.session.get(Generation, generation_id)
        pictures = [Image.open(storage.resolve(row.path)).copy() for row in generation.images]
        db.session.expunge_all()
        return generation, pictures


def parent_pixels(app, image_id: str) -> Image.Image:
    with app.app_context():
        return Image.open(storage.resolve(db.session.get(ImageRow, image_id).path)).copy()


def assert_only_the_region_changed(parent: Image.Image, outputs: list[Image.Image], mask: Image.Image) -> None:
    outside = beyond_feather(mask)
    inside = regions.selected(mask)
    for output in outputs:
        assert output.size == parent.size and output.mode == parent.mode
        assert np.array_equal(pixels(output)[outside], pixels(parent)[outside])
        changed = np.abs(pixels(output)[inside].astype(int) - pixels(parent)[inside].astype(int)).sum(axis=1) > 0
        assert changed.mean() > 0.5, "the region itself was edited"


# ---- the local engine ---------------------------------------------------------------------------------

@pytest.mark.parametrize("instruction", ["remove the sticker", "make it blue", "파란색으로 바꿔줘"])
def test_local_edit_with_a_painted_mask(app, instruction):
    owner, generation_id, image_id = make_parent(app)
    parent = parent_pixels(app, image_id)
    mask = irregular_mask(parent.size)
    with app.app_context():
        edit = edits.submit_edit(owner, generation_id, image_id, instruction, mask_png=png(mask))
        assert (edit.job_type, edit.priority, edit.parent_image_id, edit.status) == ("edit-image", 1, image_id, "queued")
        assert edit.engine == "local" and edit.prompt == instruction
        folder = storage.generation_dir(owner, edit.project_id, edit.id)
        assert edit.source_path == f"{folder}/source.png" and edit.edit_region == {"mask": f"{folder}/mask.png"}
        assert storage.read(edit.source_path) == storage.read(db.session.get(ImageRow, image_id).path)
        edit_id = edit.id
        assert runner.run_generation(edit_id) == "succeeded"
    generation, outputs = stored(app, edit_id)
    assert len(outputs) == 2 and generation.status == "succeeded"
    assert_only_the_region_changed(parent, outputs, mask)
    assert not np.array_equal(pixels(outputs[0]), pixels(outputs[1])), "two different candidates"
    if "blue" in instruction or "파란" in instruction:
        inside = regions.selected(mask)
        for output in outputs:
            red, _, blue = pixels(output)[inside].astype(float).mean(axis=0)
            assert blue > red + 40


def test_local_edit_with_a_box_at_the_edge(app):
    owner, generation_id, image_id = make_parent(app)
    parent = parent_pixels(app, image_id)
    box = {"x": 0, "y": parent.height - 50, "width": 90, "height": 50}  # the bottom-left corner
    with app.app_context():
        edit = edits.submit_edit(owner, generation_id, image_id, "make it red", region=box)
        assert edit.edit_region == box
        runner.run_generation(edit.id)
        edit_id = edit.id
    _, outputs = stored(app, edit_id)
    mask = regions.mask_from_region(parent.size, box["x"], box["y"], box["width"], box["height"])
    assert_only_the_region_changed(parent, outputs, mask)


def test_local_recolour_keeps_texture_and_the_tint_keeps_lightness():
    picture = photo((200, 150), seed=3)
    mask = regions.mask_from_region(picture.size, 60, 40, 80, 60)
    request = EditRequest(picture, mask, regions.mark_region(picture, mask), "초록색으로")
    repaint, tint = LocalEngine().edit(request).images

    def lightness(image):  # CIE L*, the lightness the recolour works in
        return cv2.cvtColor(pixels(image).astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[40:100, 60:140, 0]

    assert np.corrcoef(lightness(repaint).ravel(), lightness(picture).ravel())[0, 1] > 0.9, "texture survives"
    assert np.abs(lightness(tint) - lightness(picture)).mean() < 6
    for image in (repaint, tint):
        red, green, blue = pixels(image)[40:100, 60:140].astype(float).mean(axis=(0, 1))
        assert green > red and green > blue


@pytest.mark.parametrize("text, colour", [
    ("make it red", "red"), ("Make the lid RED please", "red"), ("reduce the glare", None),
    ("change the red stripe to blue", "blue"), ("빨간 부분을 파란색으로", "blue"), ("하늘색으로", "sky blue"),
    ("검은색으로 칠해줘", "black"), ("흰색", "white"), ("light gray", "grey"), ("remove the logo", None),
])
def test_colour_words(text, colour):
    assert named_colour(text) == (COLOURS[colour] if colour else None)


# ---- Gemini, against the fake server ----------------------------------------------------------------

def test_gemini_edit_sends_original_marked_copy_and_instruction(gemini_app, gemini_server):
    # 640x400 is 16:10, so Gemini answers at 3:2 (1264x848): the answer has to be aligned back.
    owner, generation_id, image_id = make_parent(gemini_app, size=(640, 400))
    parent = parent_pixels(gemini_app, image_id)
    mask = irregular_mask(parent.size)
    with gemini_app.app_context():
        edit = edits.submit_edit(owner, generation_id, image_id, "make the ears rounder", mask_png=png(mask))
        assert edit.engine == "gemini"
        calls_before = len(gemini_server.requests)
        assert runner.run_generation(edit.id) == "succeeded"
        edit_id = edit.id
    calls = gemini_server.requests[calls_before:]
    assert len(calls) == 2
    for call in calls:
        assert "make the ears rounder" in call.texts[0] and "magenta" in call.texts[0]
        sent = [Image.open(io.BytesIO(data)) for _, data in call.images]
        assert [mime for mime, _ in call.images] == ["image/png", "image/png"]
        assert np.array_equal(pixels(sent[0].convert("RGB")), pixels(parent)), "the original, untouched"
        assert np.array_equal(pixels(sent[1].convert("RGB")), pixels(regions.mark_region(parent, mask)))
        assert call.generation_config["imageConfig"]["aspectRatio"] == "3:2"
    generation, outputs = stored(gemini_app, edit_id)
    assert generation.cost_usd == pytest.approx(2 * 0.134, rel=0.05) and generation.output_tokens > 0
    assert_only_the_region_changed(parent, outputs, mask)


# ---- lineage, ownership and refusals ----------------------------------------------------------------

def test_an_edit_of_an_edit_has_the_whole_chain(app):
    owner, generation_id, image_id = make_parent(app)
    with app.app_context():
        first = edits.submit_edit(owner, generation_id, image_id, "remove it", region={"x": 5, "y": 5, "width": 20, "height": 20})
        runner.run_generation(first.id)
        first_image = db.session.get(Generation, first.id).images[1]
        second = edits.submit_edit(owner, first.id, first_image.id, "make it pink", region={"x": 8, "y": 8, "width": 9, "height": 9})
        runner.run_generation(second.id)
        last = db.session.get(Generation, second.id).images[0]
        assert second.parent_image_id == first_image.id and first.parent_image_id == image_id
        assert [row.id for row in edits.lineage(owner, last.id)] == [image_id, first_image.id, last.id]
        assert [row.id for row in edits.edits_of(owner, image_id)] == [first.id]
        assert edits.lineage(owner, image_id)[0].id == image_id


def test_a_queued_edit_survives_deleting_the_image_it_edits(app):
    owner, generation_id, image_id = make_parent(app)
    with app.app_context():
        edit = edits.submit_edit(owner, generation_id, image_id, "make it red", region={"x": 0, "y": 0, "width": 30, "height": 30})
        images.delete_image(owner, image_id)
        assert runner.run_generation(edit.id) == "succeeded"
        finished = db.session.get(Generation, edit.id)
        assert finished.parent_image_id is None and len(finished.images) == 2
        assert [row.id for row in edits.lineage(owner, finished.images[0].id)] == [finished.images[0].id]


def test_an_edit_jumps_the_queue(app):
    owner, generation_id, image_id = make_parent(app)
    with app.app_context():
        project_id = db.session.get(Generation, generation_id).project_id
        waiting = generations.submit_generation(owner, project_id, mode="sketch-to-real", source_image=png_bytes())
        edit = edits.submit_edit(owner, generation_id, image_id, "blue", region={"x": 0, "y": 0, "width": 9, "height": 9})
        assert generations.queue_position(edit) == 1 and generations.queue_position(waiting) == 2


def test_another_users_image_is_not_found(app):
    _, generation_id, image_id = make_parent(app)
    with app.app_context():
        stranger = accounts.register("stranger@example.com", "correct horse", "S")
        with pytest.raises(NotFound):
            edits.submit_edit(stranger.id, generation_id, image_id, "blue", region={"x": 0, "y": 0, "width": 9, "height": 9})


def nothing_written(app, before: list[str]) -> bool:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Generation))
    return files_under(app.config["DATA_DIR"]) == before and count == 1


@pytest.mark.parametrize("region, field", [
    ({"x": 600, "y": 0, "width": 50, "height": 50}, "region"),
    ({"x": 0, "y": 0, "width": 0, "height": 50}, "region"),
    ({"x": 0, "y": 0, "width": 10.5, "height": 50}, "region.width"),
    ({"x": "1", "y": 0, "width": 10, "height": 50}, "region.x"),
    ({"x": True, "y": 0, "width": 10, "height": 50}, "region.x"),
])
def test_a_bad_region_is_refused_and_writes_nothing(app, region, field):
    owner, generation_id, image_id = make_parent(app, size=(320, 240))
    before = files_under(app.config["DATA_DIR"])
    with app.app_context(), pytest.raises(Invalid) as refused:
        edits.submit_edit(owner, generation_id, image_id, "blue", region=region)
    assert refused.value.status == 422 and field in refused.value.fields
    assert nothing_written(app, before)


@pytest.mark.parametrize("mask, error, status", [
    (png(Image.new("L", (100, 100), 255)), Invalid, 422),
    (png(Image.new("L", (320, 240), 0)), Invalid, 422),
    (b"not a png at all", UnsupportedMedia, 415),
])
def test_a_bad_mask_is_refused_and_writes_nothing(app, mask, error, status):
    owner, generation_id, image_id = make_parent(app, size=(320, 240))
    before = files_under(app.config["DATA_DIR"])
    with app.app_context(), pytest.raises(error) as refused:
        edits.submit_edit(owner, generation_id, image_id, "blue", mask_png=mask)
    assert refused.value.status == status and "mask" in refused.value.fields
    assert nothing_written(app, before)


@pytest.mark.parametrize("prompt, region, mask, field", [
    ("", {"x": 0, "y": 0, "width": 9, "height": 9}, None, "prompt"),
    ("x" * 2001, {"x": 0, "y": 0, "width": 9, "height": 9}, None, "prompt"),
    ("blue", None, None, "region"),
    ("blue", {"x": 0, "y": 0, "width": 9, "height": 9}, b"png", "mask"),
])
def test_instruction_and_exactly_one_of_region_or_mask(app, prompt, region, mask, field):
    owner, generation_id, image_id = make_parent(app, size=(320, 240))
    with app.app_context(), pytest.raises(Invalid) as refused:
        edits.submit_edit(owner, generation_id, image_id, prompt, region=region, mask_png=mask)
    assert field in refused.value.fields


def test_the_edit_prompt_names_the_mark_and_asks_for_the_whole_image():
    prompt = build_edit_prompt("  make the handle gold  ")
    assert "make the handle gold" in prompt and "Image 2" in prompt
    assert "magenta" in prompt and "without any magenta" in prompt and "exactly as in image 1" in prompt
