"""Region edits of a generated image (DESIGN.md section 6, "Partial edit").

An edit is a generation of its own (job `edit-image`, high priority) whose parent is the edited image:
it keeps its own copy of that image and of the mask, so the chain of edits survives deleting any step.
The edit job (services/execution.py, make_edit) lets the engine answer with whole images and blends only the marked
region of each into the parent, so nothing outside the region can change.
"""
from __future__ import annotations

from typing import Any, Mapping

from PIL import Image
from sqlalchemy import select

from .. import jobs, storage
from ..jobs import PRIORITY_HIGH
from ..errors import N_, Invalid
from ..extensions import db
from ..imaging.regions import REGION_KEYS, mask_from_png
from ..models import JOB_EDIT, Generation, Image as ImageRow, new_id, utcnow
from . import budgets, submissions, uploads
from .generations import PROMPT_MAX, ensure_room
from .images import get_candidate, get_image

MAX_LINEAGE = 100  # a guard only: a chain is built by users one edit at a time


def submit_edit(owner_id: str, generation_id: str, image_id: str, prompt: str, *,
                region: Mapping[str, Any] | None = None, mask_png: bytes | None = None,
                submission: str | None = None) -> Generation:
    """Queue an edit of one candidate: an instruction plus either a pixel rectangle or a PNG mask the
    size of the image (white = edit). Everything is validated before anything is written. `submission`
    is the form's one-time token (services/submissions.py): sent again, it returns the edit it made."""
    parent = get_candidate(owner_id, generation_id, image_id)
    if (made := submissions.made_by(owner_id, submission)) is not None:
        return made
    prompt = _checked_prompt(prompt)
    if (region is None) == (mask_png is None):
        raise Invalid(N_("Mark the part to edit with either a region or a mask."),
                      fields={"region": N_("Give a region or a mask."), "mask": N_("Give a region or a mask.")})
    if region is not None:
        check_region(region, parent)
        mask = None
    else:
        mask = mask_from_png(mask_png, (parent.width, parent.height))
    # The engine is sent the image and its marked copy.
    estimated = budgets.checked_estimate(owner_id, parent.generation.engine, input_images=2)
    ensure_room()
    return _queue(owner_id, parent, prompt, region, mask, submission=submissions.checked(submission),
                  estimated_cost_usd=estimated)


def _queue(owner_id: str, parent: ImageRow, prompt: str, region: Mapping[str, Any] | None,
           mask: Image.Image | None, **columns: Any) -> Generation:
    """Store the edit's inputs beside its future outputs, commit the row (with `columns`: the form's
    one-time token, the estimated cost), then hand it to the runner; the edit the same form made
    already when another request sent it at the same moment. The edit is the caller's (a project
    member's), whoever made the image it starts from."""
    source = parent.generation
    generation = Generation(
        id=new_id(), project_id=source.project_id, owner_id=owner_id, job_type=JOB_EDIT,
        mode=source.mode, engine=source.engine, prompt=prompt, parent_image_id=parent.id,
        priority=PRIORITY_HIGH, **columns,
    )
    try:
        with storage.staged() as staging:
            generation.source_path = staging.write(_input_path(generation, "source"), storage.read(parent.path))
            if mask is None:
                generation.edit_region = {key: region[key] for key in REGION_KEYS}
            else:
                generation.edit_region = {"mask": uploads.store_png(staging, _input_path(generation, "mask"), mask)}
            db.session.add(generation)
            source.project.updated_at = utcnow()
            submissions.commit_once(generation)
    except submissions.AlreadyMade as already:
        return already.generation
    jobs.submit(generation)
    return generation


def _input_path(generation: Generation, kind: str) -> str:
    return storage.edit_input(generation.owner_id, generation.project_id, generation.id, kind)


def lineage(owner_id: str, image_id: str) -> list[ImageRow]:
    """The images an image was edited from, oldest first, ending with the image itself. The chain
    stops early where a parent image was deleted."""
    chain = [get_image(owner_id, image_id)]
    while len(chain) < MAX_LINEAGE and (parent := chain[0].generation.parent_image) is not None:
        chain.insert(0, parent)
    return chain


def edits_of(user_id: str, image_id: str) -> list[Generation]:
    """The edits made from an image by any member of its project, oldest first."""
    image = get_image(user_id, image_id)
    return list(db.session.scalars(
        select(Generation).where(Generation.parent_image_id == image.id).order_by(Generation.created_at)
    ))


def _checked_prompt(prompt: str | None) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise Invalid(N_("Say what to change in the marked part."), fields={"prompt": N_("Enter an instruction.")})
    if len(prompt) > PROMPT_MAX:
        raise Invalid(f"Keep the prompt under {PROMPT_MAX} characters.", fields={"prompt": N_("Too long.")})
    return prompt


def check_region(region: Mapping[str, Any], image: ImageRow) -> None:
    """A rectangle in the image's pixels: whole numbers, a positive size, entirely inside the image."""
    if not isinstance(region, Mapping):
        raise Invalid(N_("The region must be an object with x, y, width and height."),
                      fields={"region": N_("Give x, y, width and height.")})
    for key in REGION_KEYS:
        value = region.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid(f"region.{key} must be a whole number of pixels.",
                          fields={f"region.{key}": N_("Not a whole number.")})
    x, y, width, height = (region[key] for key in REGION_KEYS)
    if width <= 0 or height <= 0:
        raise Invalid(N_("The region must have a positive width and height."), fields={"region": N_("Empty region.")})
    if x < 0 or y < 0 or x + width > image.width or y + height > image.height:
        raise Invalid(f"The region must lie inside the image ({image.width}x{image.height} pixels).",
                      fields={"region": N_("Outside the image.")})
