"""The work of a generation job: call the engine and encode its outputs. The registry
(mockup/jobs/registry.py) runs these for the job types `generate-mockup` and `edit-image`, inside the
lifecycle of mockup/jobs/lifecycle.py (claim, lease, finish), which keeps the outputs only together with
the row that marks success."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app
from PIL import Image

from .. import storage
from ..engines import get_engine
from ..engines.base import EditRequest, Engine, GenerationRequest, GenerationResult
from ..errors import JobFailed
from ..extensions import db
from ..imaging import regions
from ..imaging.formats import encode, thumbnail
from ..imaging.matting import cut_out
from ..models import Generation, Image as ImageRow, new_id


@dataclass
class Outputs:
    """A generation's candidates, encoded, with the image rows that will describe them."""

    images: list[tuple[ImageRow, bytes, bytes]]  # (row, PNG, thumbnail)
    values: dict[str, object]  # the token usage and cost, stored on the generation

    def keep(self, staging: storage.Staging) -> None:
        for row, png, thumb in self.images:
            staging.write(row.path, png)
            staging.write(row.thumbnail_path, thumb)
            db.session.add(row)


def make_mockup(generation: Generation) -> Outputs:
    """The job `generate-mockup`: the engine's candidates, cut out when a transparent background was asked."""
    request = GenerationRequest(
        mode=generation.mode, source=_load(generation.source_path), character=_load(generation.character_path),
        texture=_load(generation.texture_path), prompt=generation.prompt,
        preserve_structure=generation.preserve_structure,
        transparent_background=generation.transparent_background,
    )
    result = _billed(generation, lambda: _engine(generation).generate(request))
    if generation.transparent_background:
        # The engine was asked for a plain background (no model returns alpha); cut the product out here.
        result.images = [cut_out(image) for image in result.images]
    return _outputs(generation, result)


def make_edit(generation: Generation) -> Outputs:
    """The job `edit-image`. The engine returns whole images; only their region is blended into the
    parent here, so no engine can change a pixel outside it (DESIGN.md section 6, "Partial edit")."""
    parent = _load(generation.source_path)
    mask = _edit_mask(generation.edit_region, parent.size)
    request = EditRequest(image=parent, mask=mask, marked=regions.mark_region(parent, mask),
                          instruction=generation.prompt)
    result = _billed(generation, lambda: _engine(generation).edit(request))
    result.images = [regions.composite_edit(parent, image, mask) for image in result.images]
    return _outputs(generation, result)


def _billed(generation: Generation, call: Callable[[], GenerationResult]) -> GenerationResult:
    """The engine's answer; a failure carries what its answered calls cost on top of what earlier
    attempts of this generation (a retry) already cost, so no billed call is forgotten."""
    try:
        return call()
    except JobFailed as error:
        if error.values:
            error.values = _with_earlier_attempts(generation, error.values)
        raise


def _with_earlier_attempts(generation: Generation, usage: dict[str, object]) -> dict[str, object]:
    return {name: getattr(generation, name) + value for name, value in usage.items()}


def _engine(generation: Generation) -> Engine:
    return get_engine(generation.engine, current_app.config)


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
    images = []
    for index, image in enumerate(result.images):
        rel = storage.output(generation.owner_id, generation.project_id, generation.id, index)
        row = ImageRow(
            id=new_id(), generation_id=generation.id, index=index, width=image.width, height=image.height,
            format="png", has_alpha=image.mode == "RGBA", path=rel, thumbnail_path=storage.thumbnail(rel),
        )
        images.append((row, encode(image, "png"), thumbnail(image)))
    usage = result.usage
    return Outputs(images, _with_earlier_attempts(generation, {
        "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens, "cost_usd": usage.cost_usd}))
