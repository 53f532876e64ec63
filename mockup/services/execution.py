"""Running a generation job: claim, call the engine, store the outputs, finish. The database row is the
source of truth (DESIGN.md section 4): the claim is one conditional UPDATE, so a second delivery of the
same job does nothing, and outputs become visible only together with the row that marks success.

Every job type (the row's job_type: a mockup, a region edit) goes through the same claim and finish;
only the engine call in between differs."""
from __future__ import annotations

import functools
import logging
import time
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app
from PIL import Image
from sqlalchemy import select, update

from .. import storage, telemetry
from ..engines import get_engine
from ..engines.base import UNKNOWN, EditRequest, Engine, EngineError, GenerationRequest, GenerationResult
from ..errors import ServiceError
from ..extensions import db
from ..imaging import regions
from ..imaging.formats import encode, thumbnail
from ..imaging.matting import cut_out
from ..imaging.structure import StructureCheck, character_region, structure_score
from ..models import JOB_EDIT, JOB_GENERATE, Generation, Image as ImageRow, ImageJob, new_id, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
JobTable = Generation | ImageJob
JOB_TABLES: tuple[type[JobTable], ...] = (Generation, ImageJob)
# A delivery whose lease ran out while it worked: the reaper gave the job to another delivery, whose
# result is the one kept.
SUPERSEDED = "superseded"
JobRunner = Callable[[str], str | None]


def measured(table: type[JobTable]) -> Callable[[JobRunner], JobRunner]:
    """Count every delivery a job runner handles in the metrics: its job type, outcome and duration."""
    def decorate(run: JobRunner) -> JobRunner:
        @functools.wraps(run)
        def measured_run(job_id: str) -> str | None:
            started = time.perf_counter()
            outcome = run(job_id)
            try:
                job_type = db.session.scalar(select(table.job_type).where(table.id == job_id)) or "unknown"
                telemetry.job_ran(job_type, outcome or "duplicate", time.perf_counter() - started)
                telemetry.sample_process(current_app.config["SERVICE_NAME"])
            except Exception:  # the job has ended and is committed: counting it must not turn it into an error
                log.exception("job %s ran, but could not be counted in the metrics", job_id)
            return outcome
        return measured_run
    return decorate


def claim(job_id: str, table: type[JobTable] = Generation) -> int | None:
    """Atomically move a queued job to running; returns the attempt number, or None if someone else
    has it (or it is no longer queued)."""
    now = utcnow()
    lease = now + timedelta(seconds=current_app.config["JOB_TIMEOUT_S"])
    result = db.session.execute(
        update(table)
        .where(table.id == job_id, table.status == "queued")
        .values(status="running", attempts=table.attempts + 1, lease_until=lease, started_at=now)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.scalar(select(table.attempts).where(table.id == job_id))


def _load(rel: str | None) -> Image.Image | None:
    if not rel:
        return None
    with Image.open(storage.resolve(rel)) as image:
        return image.copy()


def _generate(generation: Generation, engine: Engine) -> GenerationResult:
    result = engine.generate(GenerationRequest(
        mode=generation.mode, source=_load(generation.source_path), character=_load(generation.character_path),
        texture=_load(generation.texture_path), prompt=generation.prompt,
        preserve_structure=generation.preserve_structure,
        transparent_background=generation.transparent_background,
    ))
    if generation.transparent_background:
        # The engine was asked for a plain background (no model returns alpha); cut the product out here.
        result.images = [cut_out(image) for image in result.images]
    return result


def _edit(generation: Generation, engine: Engine) -> GenerationResult:
    """The engine returns whole images; only their region is blended into the parent here, so no engine
    can change a pixel outside it (DESIGN.md section 6, "Partial edit")."""
    parent = _load(generation.source_path)
    mask = _edit_mask(generation.edit_region, parent.size)
    result = engine.edit(EditRequest(
        image=parent, mask=mask, marked=regions.mark_region(parent, mask), instruction=generation.prompt,
    ))
    result.images = [regions.composite_edit(parent, image, mask) for image in result.images]
    return result


def _edit_mask(edit_region: dict, size: tuple[int, int]) -> Image.Image:
    """edit_region is a pixel rectangle, or names the stored PNG mask (services/edits.py writes both)."""
    if "mask" in edit_region:
        return _load(edit_region["mask"]).convert("L")
    return regions.mask_from_region(size, *(edit_region[key] for key in regions.REGION_KEYS))


JOBS: dict[str, Callable[[Generation, Engine], GenerationResult]] = {JOB_GENERATE: _generate, JOB_EDIT: _edit}


@measured(Generation)
def run_generation(generation_id: str) -> str | None:
    """Run one delivery of a generation job; returns its outcome ("succeeded", "failed", SUPERSEDED), or
    None if there was nothing to claim (a duplicate delivery)."""
    attempt = claim(generation_id, Generation)
    if attempt is None:
        log.info("job %s not claimed (duplicate delivery or no longer queued)", generation_id)
        return None
    generation = db.session.get(Generation, generation_id)
    try:
        engine = get_engine(generation.engine, current_app.config)
        result = JOBS[generation.job_type](generation, engine)
    except EngineError as error:
        return fail(Generation, generation_id, attempt, error.code, error.message)
    except Exception:
        log.exception("job %s crashed", generation_id)
        return fail(Generation, generation_id, attempt, UNKNOWN,
                    "Something went wrong while making the mockup. Please try again.")
    try:
        return _succeed(generation, attempt, result)
    except ServiceError as error:  # storing the outputs was refused (a full disk); none of them is kept
        return fail(Generation, generation_id, attempt, UNKNOWN, error.message)


def owned_by(table: type[JobTable], job_id: str, attempt: int):
    """The WHERE clause that says this attempt still owns the job (no reaper took it back)."""
    return (table.id == job_id, table.status == "running", table.attempts == attempt)


def fail(table: type[JobTable], job_id: str, attempt: int, code: str, message: str) -> str:
    """Mark the job failed if this attempt still owns it; SUPERSEDED if the reaper took it back."""
    db.session.rollback()
    owned = db.session.execute(
        update(table).where(*owned_by(table, job_id, attempt))
        .values(status="failed", error_code=code, error_message=message, finished_at=utcnow(), lease_until=None)
    ).rowcount == 1
    db.session.commit()
    return "failed" if owned else SUPERSEDED


def finish(table: type[JobTable], job_id: str, attempt: int, **values) -> bool:
    """Mark the job succeeded if this attempt still owns it; the caller commits together with its
    outputs. False means the job was taken back and this attempt's result must be dropped."""
    owned = db.session.execute(
        update(table).where(*owned_by(table, job_id, attempt))
        .values(status="succeeded", finished_at=utcnow(), lease_until=None, **values)
    ).rowcount == 1
    if not owned:
        db.session.rollback()
    return owned


def _encoded_outputs(generation: Generation, result: GenerationResult) -> list[tuple[ImageRow, bytes, bytes]]:
    outputs = []
    checks = structure_checks(generation, result.images)
    for index, image in enumerate(result.images):
        rel = storage.output(generation.owner_id, generation.project_id, generation.id, index)
        check = checks[index]
        row = ImageRow(
            id=new_id(), generation_id=generation.id, index=index, width=image.width, height=image.height,
            format="png", has_alpha=image.mode == "RGBA", path=rel, thumbnail_path=storage.thumbnail(rel),
            structure_score=check.score if check else None, structure_warning=bool(check and check.warning),
        )
        outputs.append((row, encode(image, "png"), thumbnail(image)))
    return outputs


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


def _succeed(generation: Generation, attempt: int, result: GenerationResult) -> str:
    generation_id = generation.id
    outputs = _encoded_outputs(generation, result)
    owned = finish(
        Generation, generation_id, attempt, input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens, cost_usd=result.usage.cost_usd,
    )
    if not owned:
        return SUPERSEDED
    with storage.staged() as staging:
        for row, png, thumb in outputs:
            staging.write(row.path, png)
            staging.write(row.thumbnail_path, thumb)
            db.session.add(row)
        db.session.commit()
    return "succeeded"


def requeue_deadline() -> datetime:
    """For a queued job, lease_until is when the reaper sends it to the queue again, in case the broker
    lost it (a Redis restart)."""
    return utcnow() + timedelta(seconds=current_app.config["JOB_REQUEUE_S"])


def reap(*, orphans: bool = False) -> list[tuple[str, str, int]]:
    """Take back jobs whose worker died (lease expired) and re-send queued jobs the broker may have lost.
    With orphans=True every running job counts as dead (the embedded runner's process restarted).
    Returns (table name, id, priority) of the jobs to enqueue again; a job out of attempts is failed."""
    resend = [job for table in JOB_TABLES for job in _reap_table(table, orphans)]
    db.session.commit()
    return [(job.__tablename__, job.id, job.priority) for job in resend]


def _reap_table(table: type[JobTable], orphans: bool) -> list[JobTable]:
    now = utcnow()
    dead = select(table).where(table.status == "running")
    if not orphans:
        dead = dead.where(table.lease_until < now)
    resend = []
    for job in db.session.scalars(dead):
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at, job.lease_until = "failed", now, None
            job.error_code = UNKNOWN
            job.error_message = f"The job stopped unexpectedly {MAX_ATTEMPTS} times and was given up."
        else:
            job.status = "queued"
            resend.append(job)
    resend += db.session.scalars(
        select(table).where(
            table.status == "queued", table.lease_until < now, table.id.not_in([job.id for job in resend]),
        )
    )
    for job in resend:
        job.lease_until = requeue_deadline()
    return resend
