"""Generations: submitting a mockup job and following it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from PIL import Image
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from .. import jobs, storage
from ..engines import pricing
from ..engines.base import Mode
from ..errors import N_, Conflict, Invalid, NotFound, QueueFull
from ..jobs import PRIORITY_NORMAL
from ..extensions import db
from ..models import (
    CANDIDATES_DEFAULT,
    CANDIDATES_MAX,
    CANDIDATES_MIN,
    CHARACTER_VIEWS,
    GENERATION_STATUSES,
    IMAGE_SIZES,
    Character,
    Generation,
    Image as ImageRow,
    Project,
    new_id,
    utcnow,
)
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


def count_by_status(since: datetime) -> dict[str, int]:
    """Generations per status over all users, every status present: each one still waiting or running,
    and those asked for since `since`. Read along the status and creation indexes, so it costs the
    period's jobs and the queue, never the installation's history (counting all of it took 33 ms at
    61,100 generations, bench/scale_bench.py, on a page that refreshes itself every few seconds)."""
    counts = dict.fromkeys(GENERATION_STATUSES, 0)
    counts.update(db.session.execute(
        select(Generation.status, func.count())
        .where(or_(Generation.created_at >= since, Generation.status.in_(("queued", "running"))))
        .group_by(Generation.status)).all())
    return counts


def queue_position(generation: Generation) -> int | None:
    """1 for the next job to run, in the queue's fair order over every job table (jobs/order.py); None
    once it is no longer waiting."""
    return queue_positions([generation])[generation.id]


def queue_positions(rows: list[Generation]) -> dict[str, int | None]:
    """queue_position of each of the rows, reading the fair order once however many (a batch's contact sheet)."""
    waiting = jobs.queue_positions() if any(row.status == "queued" for row in rows) else {}
    return {row.id: waiting.get(row.id) if row.status == "queued" else None for row in rows}


def ensure_room(count: int = 1) -> None:
    """Refuse new work when `count` more jobs would take the queue past QUEUE_LIMIT, so a burst cannot
    queue hours of work; a batch asks for all of its generations at once, so it fits whole or not at all."""
    if queued_count() + count > current_app.config["QUEUE_LIMIT"]:
        raise QueueFull(N_("The queue is full right now. Please try again in a minute."))


@dataclass(frozen=True)
class Output:
    """What a generation asks of the model besides its inputs: how many candidates (one call each,
    made concurrently) and at which size (the model's own 1K or 2K, the same price)."""

    candidates: int = CANDIDATES_DEFAULT
    image_size: str = IMAGE_SIZES[0]

    def problems(self) -> dict[str, str]:
        fields = {}
        if isinstance(self.candidates, bool) or self.candidates not in range(CANDIDATES_MIN, CANDIDATES_MAX + 1):
            fields["candidates"] = N_("Choose 1 to 4 candidates.")
        if self.image_size not in IMAGE_SIZES:
            fields["image_size"] = N_("Choose the size 1K or 2K.")
        return fields


def request_fields(mode: str, prompt: str, *, has_character: bool) -> dict[str, str]:
    """What is wrong with a request's mode, prompt and character choice, by field (empty when nothing);
    a batch adds its own fields to these before refusing."""
    fields = {}
    if mode not in MODES:
        fields["mode"] = N_("Choose ip-change or sketch-to-real.")
    if len(prompt) > PROMPT_MAX:
        fields["prompt"] = f"Keep the prompt under {PROMPT_MAX} characters."
    if mode == "ip-change" and not has_character:
        fields["character_id"] = N_("Choose a registered character or upload one for this run.")
    return fields


def refuse(fields: dict[str, str]) -> None:
    if fields:
        raise Invalid(N_("Please correct the highlighted fields."), fields=fields)


def _registered_character(user_id: str, project: Project, character_id: str | None) -> Character | None:
    """The project's character a generation uses (none when a picture is uploaded for the run)."""
    character = get_character(user_id, character_id) if character_id else None
    if character is not None and character.project_id != project.id:
        raise NotFound(N_("This character does not exist."))
    return character


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
    candidates: int = CANDIDATES_DEFAULT,
    image_size: str = IMAGE_SIZES[0],
) -> Generation:
    """Validate and store the inputs, queue the job, and return the queued generation. `submission` is
    the form's one-time token (services/submissions.py): sent again, it returns the generation it made.
    `candidates` (1 to 4 calls, each priced with every input image) and `image_size` ("1K", "2K")."""
    project = get_project(owner_id, project_id, Permission.EDIT)
    if (made := submissions.made_by(owner_id, submission)) is not None:
        return made
    output = Output(candidates, image_size)
    prompt = (prompt or "").strip()
    refuse({**output.problems(), **request_fields(mode, prompt, has_character=bool(character_id or character_image))})
    character = _registered_character(owner_id, project, None if character_image else character_id)
    inputs = _Inputs(uploads.decode_input(source_image, "source_image"),
                     uploads.decode_input(character_image, "character_image", required=False),
                     uploads.decode(texture_image, "texture_image", required=False),
                     character if mode == "ip-change" else None)
    engine = current_app.config["MOCKUP_ENGINE"]
    estimated = budgets.checked_estimate(owner_id, engine, inputs.image_count(mode), output.candidates)
    ensure_room()
    generation = new_generation(
        project, owner_id, mode=mode, prompt=prompt, preserve_structure=preserve_structure,
        transparent_background=transparent_background, priority=priority, character=character,
        estimated_cost_usd=estimated, submission=submission, **vars(output))
    return _queue(project, generation, inputs)


def new_generation(project: Project, owner_id: str, *, character: Character | None, **columns) -> Generation:
    """A queued generation row of the project, not yet added to the session: the one place a new job's
    engine and character are set (held: the dispatcher hands it over, jobs/order.py), for a single request and for each cell of a batch alike."""
    return Generation(id=new_id(), project_id=project.id, owner_id=owner_id, engine=current_app.config["MOCKUP_ENGINE"],
                      character_id=character.id if character else None, **columns)


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
        """How many images the engine is sent (what the input side of the cost depends on): a
        registered character sends every image of its sheet."""
        character_images = (1 if self.uploaded_character is not None
                            else len(self.character.images) if self.character is not None else 0)
        return pricing.input_images(mode, character_images=character_images, has_texture=self.texture is not None)


def _store_inputs(staging: storage.Staging, generation: Generation, inputs: _Inputs) -> None:
    owner_id, project_id = generation.owner_id, generation.project_id
    generation.source_path = uploads.store_source(staging, owner_id, project_id, inputs.source)
    if inputs.uploaded_character is not None:
        generation.character_path = uploads.store_png(
            staging, storage.upload(owner_id, project_id, "png"), inputs.uploaded_character)
        generation.character_views = [{"view": CHARACTER_VIEWS[0], "path": generation.character_path}]
    elif inputs.character is not None:
        copy_character(staging, owner_id, project_id, inputs.character).apply(generation)
    if inputs.texture is not None:
        generation.texture_path = uploads.store_source(staging, owner_id, project_id, inputs.texture)


@dataclass(frozen=True)
class CharacterCopy:
    """Copies of every view of a character's sheet ({"view", "path"}, front first) and its description,
    so changing or deleting the character later never breaks the jobs made with it or their history."""

    views: list[dict[str, str]]
    description: str

    def columns(self) -> dict:
        """The generation's columns that carry the character to the engine."""
        return {"character_views": self.views, "character_path": self.views[0]["path"],
                "character_description": self.description}

    def apply(self, generation: Generation) -> None:
        for column, value in self.columns().items():
            setattr(generation, column, value)


def copy_character(staging: storage.Staging, owner_id: str, project_id: str, character: Character) -> CharacterCopy:
    """Copy the character's sheet into the project's uploads (for one generation, or a batch's cells)."""
    views = [{"view": image.view, "path": staging.write(storage.upload(owner_id, project_id, "png"),
                                                         storage.read(image.picture_path))}
             for image in character.images]
    return CharacterCopy(views, character.description)


def retry_generation(user_id: str, generation_id: str) -> Generation:
    """Queue a failed or canceled generation again with the same inputs."""
    generation = get_generation(user_id, generation_id, Permission.EDIT)
    if generation.status not in ("failed", "canceled"):
        raise Conflict(N_("Only a failed or canceled generation can be tried again."))
    budgets.ensure_within_budget(user_id, generation.estimated_cost_usd)
    ensure_room()
    generation.queue_again()
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
    jobs.dispatch()  # it may have been handed to the broker already: its slot goes to the next job
    db.session.refresh(generation)
    return generation
