"""Batches (shared/API.md, "Batches"): one request for many generations, every source image x every
character (ip-change) or every source image (sketch-to-real), each a generation of its own at batch
priority, run by the same job lifecycle as a single one.

The batch is taken whole or not at all: its limits, the budget for all of its generations and room in
the queue for all of them are checked before anything is stored; every source is decoded and stored
once (and every character copied once) and shared by the generations made from it; the rows commit
together and the jobs are handed to the runner after that commit. A batch's status, counts and finish
are read from its generations' rows, which the job lifecycle keeps, so they never drift."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from .. import jobs, storage
from ..engines import pricing
from ..errors import N_, NotFound
from ..extensions import db
from ..models import (CANDIDATES_DEFAULT, GENERATION_STATUSES, IMAGE_SIZES, Batch, Character, Generation, Image, Project,
                      new_id, utcnow)
from . import access, budgets, estimates, generations, uploads
from .access import Permission
from .paging import Page, PageRequest, paginate
from .projects import get_project

MAX_SOURCES, MAX_CHARACTERS, MAX_GENERATIONS = 20, 10, 50
BATCH_STATUSES = ("queued", "running", "succeeded", "partial", "failed", "canceled")
TOO_MANY_MESSAGE = N_("One batch makes at most 50 mockups (images × characters). Choose fewer images or characters.")


@dataclass(frozen=True)
class Options:
    """What every generation of the batch is asked with."""

    prompt: str = ""
    preserve_structure: bool = True
    transparent_background: bool = False
    candidates: int = CANDIDATES_DEFAULT
    image_size: str = IMAGE_SIZES[0]


@dataclass(frozen=True)
class Progress:
    """A batch as its generations' rows say it is."""

    status: str
    total: int
    counts: dict[str, int]
    finished_at: datetime | None

    @property
    def done(self) -> int:
        return self.counts["succeeded"] + self.counts["failed"] + self.counts["canceled"]


def create_batch(owner_id: str, project_id: str, *, mode: str, sources: list[bytes], character_ids: list[str],
                 options: Options) -> Batch:
    """Validate the whole request, then store and queue every generation in one commit (nothing at all
    when any check fails: no row, no file) and hand the jobs to the runner."""
    project = get_project(owner_id, project_id, Permission.EDIT)
    options = _checked(mode, sources, character_ids, options)
    characters = _characters(owner_id, project, character_ids) if mode == "ip-change" else []
    per_column = _cell_estimates(mode, characters, options)
    budgets.ensure_within_budget(owner_id, sum(per_column) * len(sources))
    generations.ensure_room(len(sources) * len(per_column))
    batch = Batch(id=new_id(), project_id=project.id, owner_id=owner_id, mode=mode, options=asdict(options),
                  source_count=len(sources), character_ids=[character.id for character in characters])
    with storage.staged() as staging:
        copies = [generations.copy_character(staging, owner_id, project.id, character) for character in characters]
        for row, data in enumerate(sources):
            source = uploads.decode_input(data, "source_image")
            source_path = uploads.store_source(staging, owner_id, project.id, source)
            _add_cells(batch, project, row, source_path, characters, copies, per_column)
        db.session.add(batch)
        project.updated_at = utcnow()
        db.session.commit()
    for generation in batch.generations:
        jobs.submit(generation)
    return batch


def _cell_estimates(mode: str, characters: list[Character], options: Options) -> list[float]:
    """The estimated cost of one cell of each column (a character's sheet decides how many images its
    cells send), from the one price table."""
    engine = current_app.config["MOCKUP_ENGINE"]
    sheets = [len(character.images) for character in characters] or [0]
    return [pricing.estimate(engine, candidates=options.candidates,
                             input_images=pricing.input_images(mode, character_images=views, has_texture=False))
            for views in sheets]


def _checked(mode: str, sources: list[bytes], character_ids: list[str], options: Options) -> Options:
    """The options as stored (the prompt trimmed), once every field and limit is known to be acceptable."""
    options = Options(**{**asdict(options), "prompt": (options.prompt or "").strip()})
    fields = generations.request_fields(mode, options.prompt, has_character=bool(character_ids))
    if not sources:
        fields["source_image"] = N_("Choose at least one product photo or sketch.")
    elif len(sources) > MAX_SOURCES:
        fields["source_image"] = N_("Choose at most 20 images for one batch.")
    if len(character_ids) > MAX_CHARACTERS:
        fields["character_id"] = N_("Choose at most 10 characters for one batch.")
    if len(set(character_ids)) != len(character_ids):
        fields["character_id"] = N_("Choose each character only once.")
    fields.update(generations.Output(options.candidates, options.image_size).problems())
    total = len(sources) * max(len(character_ids) if mode == "ip-change" else 1, 1)
    if not fields and total > MAX_GENERATIONS:
        fields["source_image"] = TOO_MANY_MESSAGE
    generations.refuse(fields)
    return options


def _characters(owner_id: str, project: Project, character_ids: list[str]) -> list[Character]:
    """The chosen characters of this project, in the order chosen; one of another project is not found."""
    found = {row.id: row for row in db.session.scalars(
        select(Character).where(Character.id.in_(character_ids), Character.project_id == project.id))}
    if len(found) != len(character_ids):
        raise NotFound(N_("This character does not exist."))
    return [found[character_id] for character_id in character_ids]


def _add_cells(batch: Batch, project: Project, row: int, source_path: str, characters: list[Character],
               copies: list[generations.CharacterCopy], per_column: list[float]) -> None:
    """One source's generations: one per character (a row of the contact sheet), or one without."""
    options = batch.options
    cells = list(zip(characters, copies)) or [(None, None)]
    for column, (character, copy) in enumerate(cells):
        batch.generations.append(generations.new_generation(
            project, batch.owner_id, character=character, mode=batch.mode, prompt=options["prompt"],
            preserve_structure=options["preserve_structure"],
            transparent_background=options["transparent_background"], priority=jobs.PRIORITY_BATCH,
            candidates=options["candidates"], image_size=options["image_size"],
            estimated_cost_usd=per_column[column], source_path=source_path, source_index=row,
            character_index=column, **(copy.columns() if copy else {})))


def get_batch(user_id: str, batch_id: str, needs: Permission = Permission.VIEW) -> Batch:
    """A batch of a project the user is in, its generations, their images and reviewers loaded with it
    (a constant number of queries, however many cells)."""
    batch = db.session.scalar(select(Batch).where(Batch.id == batch_id).options(*_eager()))
    access.check(user_id, batch.project if batch else None, needs, N_("This batch does not exist."))
    return batch


def _eager() -> list:
    return [joinedload(Batch.project),
            selectinload(Batch.generations).selectinload(Generation.images).joinedload(Image.reviewed_by)]


def project_batches(user_id: str, project_id: str, page: PageRequest = PageRequest()) -> Page[Batch]:
    """A page of the project's batches, newest first, whoever of its members made them."""
    get_project(user_id, project_id)
    query = select(Batch).where(Batch.project_id == project_id).options(*_eager())
    return paginate(query, (Batch.created_at.desc(), Batch.id.desc()), page)


def cancel_batch(user_id: str, batch_id: str) -> Batch:
    """Cancel the batch's generations still waiting; running ones finish. Conditional, so a worker
    claiming one of them at the same moment wins cleanly; canceling a finished batch changes nothing."""
    batch = get_batch(user_id, batch_id, Permission.EDIT)
    db.session.execute(
        update(Generation).where(Generation.batch_id == batch.id, Generation.status == "queued")
        .values(status="canceled", finished_at=utcnow(), lease_until=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    jobs.dispatch()  # their slots, if any had been handed over, go to the next jobs in line
    return get_batch(user_id, batch_id)


def progress(batch: Batch) -> Progress:
    """Status, counts and finish from the generations (loaded with the batch)."""
    rows = batch.generations
    counts = dict.fromkeys(GENERATION_STATUSES, 0)
    for generation in rows:
        counts[generation.status] += 1
    status = status_of(counts)
    finished = bool(rows) and status not in ("queued", "running")
    finished_at = max((row.finished_at for row in rows if row.finished_at), default=None) if finished else None
    return Progress(status, len(rows), counts, finished_at)


def status_of(counts: dict[str, int]) -> str:
    """queued (nothing started), running (some started, some not finished), then once all are finished:
    succeeded (all did), partial (some did), canceled (none did, and the batch was canceled) or failed."""
    waiting, running = counts["queued"], counts["running"]
    started = running + counts["succeeded"] + counts["failed"] + counts["canceled"]
    if waiting or running:
        return "running" if running or started else "queued"
    if counts["succeeded"]:
        return "succeeded" if not (counts["failed"] or counts["canceled"]) else "partial"
    return "canceled" if counts["canceled"] else "failed"


def expected_finish(batch: Batch, now: datetime | None = None) -> estimates.Estimate | None:
    """When the batch should be done (estimates.finish_of: the queue played forward in its fair order over
    JOB_WORKERS slots, each job taking the typical run measured from recent ones), with that typical run;
    None when it is done or nothing of its kind has been measured yet."""
    unfinished = [generation for generation in batch.generations if not generation.is_finished]
    if not unfinished:
        return None
    finish_at = estimates.finish_of([generation.id for generation in unfinished], now)
    typical = estimates.typical_run(unfinished[0].job_type, unfinished[0].engine)
    return estimates.Estimate(typical, finish_at) if finish_at and typical else None


def grid(batch: Batch) -> list[list[Generation]]:
    """The contact sheet: a row per source, a column per character (one column for sketch-to-real)."""
    rows: list[list[Generation]] = [[] for _ in range(batch.source_count)]
    for generation in batch.generations:  # ordered by source, then character
        rows[generation.source_index].append(generation)
    return rows
