"""Work on one stored image, run as jobs: the 2K upscale (job `upscale-image`) and the background
cut-out (job `remove-background`). Asking again joins the job that exists; a finished result is kept
beside the image and served from there (DESIGN.md section 6)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from PIL import Image
from sqlalchemy import select

from .. import jobs, storage
from ..engines.base import UNKNOWN
from ..errors import ServiceError, Unavailable
from ..extensions import db
from ..imaging.formats import encode
from ..imaging.matting import cut_out
from ..imaging.upscale import UpscaleError, get_upscaler, upscale_to_2k
from ..models import JOB_CUTOUT, JOB_UPSCALE, Image as ImageRow, ImageJob
from .execution import SUPERSEDED, claim, fail, finish, measured, requeue_deadline
from .generations import PRIORITY_BATCH, PRIORITY_NORMAL
from .images import Download, converted, get_image

log = logging.getLogger(__name__)

# How soon a client asks again about a file being made (a 2K upscale takes a few seconds).
PENDING_RETRY_AFTER_S = 2


@dataclass(frozen=True)
class Work:
    """How one job type makes its file and where the image row keeps it."""

    make: Callable[[Image.Image], Image.Image]
    path_of: Callable[[ImageRow], str]
    column: str


def _upscale(image: Image.Image) -> Image.Image:
    return upscale_to_2k(image, get_upscaler(current_app.config))


WORK = {
    JOB_UPSCALE: Work(_upscale, lambda image: storage.upscaled(image.id), "upscaled_path"),
    JOB_CUTOUT: Work(cut_out, lambda image: storage.variant(image.path, "cutout", "png"), "cutout_path"),
}


def result_path(image: ImageRow, job_type: str) -> str | None:
    """The finished file of this job type for the image, if it exists."""
    rel = getattr(image, WORK[job_type].column)
    return rel if storage.exists(rel) else None


def get_job(image_id: str, job_type: str) -> ImageJob | None:
    return db.session.scalar(select(ImageJob).where(ImageJob.image_id == image_id, ImageJob.job_type == job_type))


def request(owner_id: str, image_id: str, job_type: str, priority: int = PRIORITY_NORMAL) -> ImageJob | None:
    """Start the job unless its result exists (then None) or it is already waiting or running (then that
    job). A failed or canceled job is queued again."""
    image = get_image(owner_id, image_id)
    if result_path(image, job_type):
        return None
    job = get_job(image.id, job_type)
    if job is not None and job.status in ("queued", "running"):
        return job
    if job is None:
        job = ImageJob(image_id=image.id, owner_id=owner_id, job_type=job_type)
        db.session.add(job)
    job.priority = priority
    job.queue_again(requeue_deadline())
    db.session.commit()
    jobs.enqueue(job.id, job.priority, table=ImageJob.__tablename__)
    return job


def request_upscale_in_background(owner_id: str, image_id: str) -> None:
    """Selecting a candidate starts its 2K upscale at batch priority, so the later download is instant."""
    request(owner_id, image_id, JOB_UPSCALE, PRIORITY_BATCH)


SUFFIXES = {JOB_UPSCALE: "_2k", JOB_CUTOUT: "_transparent"}


@dataclass(frozen=True)
class Pending:
    """Not a failure: the file is being made; ask again after `retry_after` seconds."""

    retry_after: int = PENDING_RETRY_AFTER_S


def download_result(owner_id: str, image_id: str, job_type: str, fmt: str | None = "png") -> Download | Pending:
    """The finished 2K or cut-out file in the asked format. Until it exists the first call starts the job
    and every call answers Pending; a failed job reports its error once (Unavailable) and is queued again."""
    image = get_image(owner_id, image_id)
    rel = result_path(image, job_type)
    if rel is not None:
        return converted(image, rel, fmt, SUFFIXES[job_type])
    job = get_job(image.id, job_type)
    failure = job.error_message if job is not None and job.status == "failed" else None
    request(owner_id, image.id, job_type)
    if failure:
        raise Unavailable(failure)
    return Pending()


@measured(ImageJob)
def run_image_job(job_id: str) -> str | None:
    """Run one delivery of an image job; returns its outcome like execution.run_generation."""
    attempt = claim(job_id, ImageJob)
    if attempt is None:
        return None
    job = db.session.get(ImageJob, job_id)
    image, work = job.image, WORK[job.job_type]
    try:
        with Image.open(storage.resolve(image.path)) as original:
            made = work.make(original.copy())
        data = encode(made, "png")
    except UpscaleError as error:
        log.warning("image job %s failed: %s %s", job_id, error.message, error.detail)
        return fail(ImageJob, job_id, attempt, error.code, error.message)
    except Exception:
        log.exception("image job %s crashed", job_id)
        return fail(ImageJob, job_id, attempt, UNKNOWN, "Something went wrong while processing the image.")
    if not finish(ImageJob, job_id, attempt):
        return SUPERSEDED
    try:
        with storage.staged() as staging:
            setattr(image, work.column, staging.write(work.path_of(image), data))
            db.session.commit()
    except ServiceError as error:  # the file could not be stored (a full disk); nothing is kept
        return fail(ImageJob, job_id, attempt, UNKNOWN, error.message)
    return "succeeded"
