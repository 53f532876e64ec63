"""Generations: submitting a mockup job and following it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from PIL import Image
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from .. import jobs, storage
from ..engines import pricing
from ..engines.base import Mode
from ..errors import N_, Conflict, Invalid, NotFound, QueueFull
from ..jobs import PRIORITY_NORMAL
from ..extensions import db
from ..models import GENERATION_STATUSES, Character, Generation, Image as ImageRow, Project, new_id, utcnow
from . import access, budgets, submissions, uploads
from .access import Permission
from .characters import get_character
from .paging import Page, PageRequest, paginate
from .projects import get_project

MODES: tuple[Mode, ...] = ("ip-change", "sketch-to-real")
PROMPT_MAX = 2000
CARD_IMAGES = 4  # the thumbnails a generation's card shows


def get_generation(user_id: str, generation_id: str, needs: Permission = Permission.VIEW) -> Generation:
    """A generation of a project the user is in; a member's generations belong to the whole project."""
    generation = db.session.get(Generation, generation_id)
    access.check(user_id, generation.project if generation else None, needs, N_("This generation does not exist."))
    return generation


def recent_generations(user_id: str, project_id: str, page: PageRequest = PageRequest()) -> Page[Generation]:
    """A page of the project's generations, newest first, whoever of its members made them (their
    first candidates: first_images)."""
    get_project(user_id, project_id)
    query = select(Generation).where(Generation.project_id == project_id)
    return paginate(query, (Generation.created_at.desc(), Generation.id.desc()), page)


def first_images(generation_ids: list[str], per: int = CARD_IMAGES) -> dict[str, list[ImageRow]]:
    """The first `per` candidates of each of these generations, in one query: a card shows a few,
    however many a batch made."""
    ranked = (select(ImageRow, func.row_number().over(partition_by=ImageRow.generation_id, order_by=ImageRow.index)
                     .label("rank"))
              .where(ImageRow.generation_id.in_(generation_ids)).subquery())
    image = aliased(ImageRow, ranked)
    found: dict[str, list[ImageRow]] = {generation_id: [] for generation_id in generation_ids}
    for row in db.session.scalars(select(image).where(ranked.c.rank <= per).order_by(image.index)):
        found[row.generation_id].append(row)
    return found


def list_images(user_id: str, generation_id: str, page: PageRequest = PageRequest()) -> Page[ImageRow]:
    """A page of a generation's images in candidate order, with who reviewed each."""
    generation = get_generation(user_id, generation_id)
    query = (select(ImageRow).where(ImageRow.generation_id == generation.id)
             .options(joinedload(ImageRow.reviewed_by)))
    return paginate(query, (ImageRow.index, ImageRow.id), page)


def queued_count() -> int:
    return db.session.scalar(select(func.count()).where(Generation.status == "queued")) or 0


def count_by_status() -> dict[str, int]:
    """Jobs per status over all users, every status present (for the operators' metrics)."""
    counts = dict.fromkeys(GENERATION_STATUSES, 0)
    counts.update(db.session.execute(select(Generation.status, func.count()).group_by(Generation.status)).all())
    return counts


def queue_position(generation: Generation) -> int | None:
    """1 for the next job to run; None once it is no longer waiting."""
    if generation.status != "queued":
        return None
    ahead = db.session.scalar(
        select(func.count()).where(
            Generation.status == "queued",
            or_(
                Generation.priority < generation.priority,
                and_(Generation.priority == generation.priority, Generation.queued_at < generation.queued_at),
            ),
        )
    )
    return (ahead or 0) + 1


def ensure_room() -> None:
    """Refuse new work while QUEUE_LIMIT jobs already wait, so a burst cannot queue hours of work."""
    if queued_count() >= current_app.config["QUEUE_LIMIT"]:
        raise QueueFull(N_("The queue is full right now. Please try again in a minute."))


def _validate(mode: str, prompt: str, character_id: str | None, character_image: bytes | None) -> str:
    """The prompt, once the request's fields are known to be acceptable."""
    fields = {}
    if mode not in MODES:
        fields["mode"] = N_("Choose ip-change or sketch-to-real.")
    if len(prompt) > PROMPT_MAX:
        fields["prompt"] = f"Keep the prompt under {PROMPT_MAX} characters."
    if mode == "ip-change" and not character_id and not character_image:
        fields["character_id"] = N_("Choose a registered character or upload one for this run.")
    if fields:
        raise Invalid(N_("Please correct the highlighted fields."), fields=fields)
    return prompt


def submit_generation(
    owner_id: str,
    project_id: str,
    *,
    mode: str,
    source_image: bytes | None,
    character_id: str | None = None,
    character_image: bytes | None = None,
    texture_image: bytes | None = None,
    prompt: str = "",
    preserve_structure: bool = True,
    transparent_background: bool = False,
    priority: int = PRIORITY_NORMAL,
    submission: str | None = None,
) -> Generation:
    """Validate and store the inputs, queue the job, and return the queued generation. `submission` is
    the form's one-time token (services/submissions.py): sent again, it returns the generation it made."""
    project = get_project(owner_id, project_id, Permission.EDIT)
    if (made := submissions.made_by(owner_id, submission)) is not None:
        return made
    prompt = _validate(mode, (prompt or "").strip(), character_id, character_image)
    character = get_character(owner_id, character_id) if character_id and not character_image else None
    if character is not None and character.project_id != project.id:
        raise NotFound(N_("This character does not exist."))
    inputs = _Inputs(uploads.decode_input(source_image, "source_image"),
                     uploads.decode_input(character_image, "character_image", required=False),
                     uploads.decode(texture_image, "texture_image", required=False),
                     character if mode == "ip-change" else None)
    engine = current_app.config["MOCKUP_ENGINE"]
    estimated = budgets.checked_estimate(owner_id, engine, inputs.image_count(mode))
    ensure_room()
    generation = Generation(
        id=new_id(), project_id=project.id, owner_id=owner_id, mode=mode, engine=engine, prompt=prompt,
        preserve_structure=preserve_structure, transparent_background=transparent_background, priority=priority,
        lease_until=jobs.requeue_deadline(), character_id=character.id if character else None,
        estimated_cost_usd=estimated, submission=submission)
    return _queue(project, generation, inputs)


def _queue(project: Project, generation: Generation, inputs: "_Inputs") -> Generation:
    """Store the inputs, commit the queued row and hand it to the runner; the generation the same form
    made already when another request sent it at the same moment (its files are then removed again)."""
    try:
        with storage.staged() as staging:
            _store_inputs(staging, generation, inputs)
            db.session.add(generation)
            project.updated_at = utcnow()
            submissions.commit_once(generation)
    except submissions.AlreadyMade as already:
        return already.generation
    jobs.submit(generation)
    return generation


@dataclass(frozen=True)
class _Inputs:
    """A generation's decoded uploads, and the registered character it uses, if any."""

    source: Image.Image
    uploaded_character: Image.Image | None
    texture: Image.Image | None
    character: Character | None

    def image_count(self, mode: str) -> int:
        """How many images the engine is sent (what the input side of the cost depends on)."""
        return pricing.input_images(mode, has_character=self.uploaded_character is not None or self.character is not None,
                                    has_texture=self.texture is not None)


def _store_inputs(staging: storage.Staging, generation: Generation, inputs: _Inputs) -> None:
    owner_id, project_id = generation.owner_id, generation.project_id
    generation.source_path = uploads.store_source(staging, owner_id, project_id, inputs.source)
    if inputs.uploaded_character is not None:
        generation.character_path = uploads.store_png(
            staging, storage.upload(owner_id, project_id, "png"), inputs.uploaded_character)
    elif inputs.character is not None:
        # A copy, so deleting the character later never breaks this job or its history.
        generation.character_path = staging.write(
            storage.upload(owner_id, project_id, "png"), storage.read(inputs.character.picture_path))
    if inputs.texture is not None:
        generation.texture_path = uploads.store_source(staging, owner_id, project_id, inputs.texture)


def retry_generation(user_id: str, generation_id: str) -> Generation:
    """Queue a failed or canceled generation again with the same inputs."""
    generation = get_generation(user_id, generation_id, Permission.EDIT)
    if generation.status not in ("failed", "canceled"):
        raise Conflict(N_("Only a failed or canceled generation can be tried again."))
    budgets.ensure_within_budget(user_id, generation.estimated_cost_usd)
    ensure_room()
    generation.queue_again(jobs.requeue_deadline())
    db.session.commit()
    jobs.submit(generation)
    return generation


def cancel_generation(user_id: str, generation_id: str) -> Generation:
    generation = get_generation(user_id, generation_id, Permission.EDIT)
    # Conditional, so a worker claiming the job at the same moment wins cleanly.
    canceled = db.session.execute(
        update(Generation).where(Generation.id == generation.id, Generation.status == "queued")
        .values(status="canceled", finished_at=utcnow(), lease_until=None)
    ).rowcount == 1
    db.session.commit()
    if not canceled:
        raise Conflict(N_("Only a generation that is still waiting can be canceled."))
    db.session.refresh(generation)
    return generation
