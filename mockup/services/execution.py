"""The work of a generation job: call the engine and encode its outputs. The registry
(mockup/jobs/registry.py) runs these for the job types `generate-mockup` and `edit-image`, inside the
lifecycle of mockup/jobs/lifecycle.py (claim, lease, finish), which keeps the outputs only together with
the row that marks success."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from flask import current_app
from PIL import Image

from .. import storage
from ..engines import get_engine
from ..engines.base import CharacterView, EditRequest, Engine, EngineError, GenerationRequest, GenerationResult, Usage
from ..errors import JobFailed
from ..extensions import db
from ..imaging import regions
from ..imaging.formats import encode, thumbnail
from ..imaging.compose import resize_long_side
from ..imaging.matting import cut_out
from ..imaging.upscale import TARGET_LONG_SIDE
from ..imaging.structure import StructureCheck, character_region, structure_score
from ..jobs import record_step
from ..models import JOB_EDIT, STEP_CUTOUT, STEP_MODEL, STEP_SAVING, Generation, Image as ImageRow, new_id

log = logging.getLogger(__name__)


@dataclass
class Outputs:
    """A generation's candidates, encoded, with the image rows that will describe them."""

    images: list[tuple[ImageRow, bytes, bytes]]  # (row, PNG, thumbnail)
    values: dict[str, object]  # the token usage and cost, stored on the generation
    # A 2K generation's 2K downloads, where the model's 2K is not at the download's long side already.
    downloads_2k: dict[str, bytes] = field(default_factory=dict)

    def keep(self, staging: storage.Staging) -> None:
        for row, png, thumb in self.images:
            staging.write(row.path, png)
            staging.write(row.thumbnail_path, thumb)
            if row.upscaled_path in self.downloads_2k:
                staging.write(row.upscaled_path, self.downloads_2k[row.upscaled_path])
            db.session.add(row)


def make_mockup(generation: Generation) -> Outputs:
    """The job `generate-mockup`: the engine's candidates, cut out when a transparent background was asked."""
    record_step(generation, STEP_MODEL)
    first, *more = generation.views or [{"view": "front", "path": None}]
    more_views = tuple(CharacterView(_load(view["path"]), view["view"]) for view in more)
    result = _run_engine(generation, lambda engine: engine.generate(GenerationRequest(
        mode=generation.mode, source=_load(generation.source_path), character=_load(first["path"]),
        character_view=first["view"], more_views=more_views,
        character_description=generation.character_description or "",
        texture=_load(generation.texture_path), prompt=generation.prompt,
        preserve_structure=generation.preserve_structure,
        transparent_background=generation.transparent_background,
        candidates=generation.candidates, image_size=generation.image_size,
    )))
    if generation.transparent_background:
        # The engine was asked for a plain background (no model returns alpha); cut the product out here.
        record_step(generation, STEP_CUTOUT)
        result.images = [cut_out(image) for image in result.images]
    return _outputs(generation, result)


def make_edit(generation: Generation) -> Outputs:
    """The job `edit-image`. The engine returns whole images; only their region is blended into the
    parent here, so no engine can change a pixel outside it (DESIGN.md section 6, "Partial edit")."""
    parent = _load(generation.source_path)
    mask = _edit_mask(generation.edit_region, parent.size)
    record_step(generation, STEP_MODEL)
    result = _run_engine(generation, lambda engine: engine.edit(EditRequest(
        image=parent, mask=mask, marked=regions.mark_region(parent, mask), instruction=generation.prompt,
    )))
    result.images = [regions.composite_edit(parent, image, mask) for image in result.images]
    return _outputs(generation, result)


def _run_engine(generation: Generation, call: Callable[[Engine], GenerationResult]) -> GenerationResult:
    """Call the generation's engine. A failure keeps what its calls cost and the model's own words on the
    row, beside our sentence."""
    try:
        return call(get_engine(generation.engine, current_app.config))
    except EngineError as error:
        values = {**_usage_columns(error.usage), "error_detail": error.said or None}
        raise JobFailed(error.code, error.message, detail=error.detail, values=values) from error


def _usage_columns(usage: Usage) -> dict[str, object]:
    """The generation's token and cost columns, added to: a job tried again keeps what it cost before."""
    return {"input_tokens": Generation.input_tokens + usage.input_tokens,
            "output_tokens": Generation.output_tokens + usage.output_tokens,
            "cost_usd": Generation.cost_usd + usage.cost_usd}


def _load(rel: str | None) -> Image.Image | None:
    if not rel:
        return None
    with Image.open(storage.resolve(rel)) as image:
        return image.copy()


def _edit_mask(edit_region: dict, size: tuple[int, int]) -> Image.Image:
    """edit_region is a pixel rectangle, or names the stored PNG mask (services/edits.py writes both)."""
    if "mask" in edit_region:
        return _load(edit_region["mask"]).convert("L")
    return regions.mask_from_region(size, *(edit_region[key] for key in regions.REGION_KEYS))


def _outputs(generation: Generation, result: GenerationResult) -> Outputs:
    record_step(generation, STEP_SAVING)
    images = []
    checks = structure_checks(generation, result.images)
    for index, image in enumerate(result.images):
        rel = storage.output(generation.owner_id, generation.project_id, generation.id, index)
        check = checks[index]
        row = ImageRow(
            id=new_id(), generation_id=generation.id, index=index, width=image.width, height=image.height,
            format="png", has_alpha=image.mode == "RGBA", path=rel, thumbnail_path=storage.thumbnail(rel),
            structure_score=check.score if check else None, structure_warning=bool(check and check.warning),
        )
        images.append((row, encode(image, "png"), thumbnail(image)))
    outputs = Outputs(images, _usage_columns(result.usage))
    if generation.image_size == "2K":
        for (row, _, _), image in zip(images, result.images):
            _native_2k(outputs, row, image)
    return outputs


def _native_2k(outputs: Outputs, row: ImageRow, image: Image.Image) -> None:
    """A 2K generation needs no upscale job for its 2K download: the image itself when its long side is
    the download's already, else a Lanczos resize of it to that side (the model's 2K is 2048 px at 1:1,
    up to 3168 px at 21:9), stored where an upscale would be."""
    if max(image.size) == TARGET_LONG_SIDE:
        row.upscaled_path = row.path
        return
    row.upscaled_path = storage.upscaled(row.id)
    outputs.downloads_2k[row.upscaled_path] = encode(resize_long_side(image, TARGET_LONG_SIDE), "png")


def structure_checks(generation: Generation, images: list[Image.Image]) -> list[StructureCheck | None]:
    """The structure check of each candidate against its source, outside the part meant to change: the
    edit's region, or the character's on the source product (None for sketch to real, whose result is
    meant to differ from its drawing)."""
    if generation.job_type != JOB_EDIT and generation.mode != "ip-change":
        return [None] * len(images)
    try:
        source = _load(generation.source_path)
        if generation.job_type == JOB_EDIT:
            excluded = regions.selected(_edit_mask(generation.edit_region, source.size))
        else:
            excluded = character_region(source)
        return [structure_score(source, image, excluded) for image in images]
    except Exception:  # a check that broke must not cost the designer the images: they are stored unchecked
        log.exception("structure check of job %s failed; its images are stored without one", generation.id)
        return [None] * len(images)
