"""Work on one stored image, run as jobs: the 2K upscale (job `upscale-image`) and the background
cut-out (job `remove-background`). Asking again joins the job that exists; a finished result is kept
beside the image and served from there (DESIGN.md section 6). The registry (mockup/jobs/registry.py)
runs make_variant for both job types."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import current_app
from PIL import Image
from sqlalchemy import select, update

from .. import jobs, storage
from ..errors import Unavailable
from ..extensions import db
from ..imaging.formats import encode
from ..imaging.matting import cut_out
from ..imaging.upscale import get_upscaler, upscale_to_2k
from ..jobs import PRIORITY_BATCH, PRIORITY_NORMAL
from ..models import JOB_CUTOUT, JOB_UPSCALE, Image as ImageRow, ImageJob
from .images import Download, checked_format, converted, get_candidate, get_image

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
    job.queue_again()
    db.session.commit()
    jobs.submit(job)
    return job


def select_image(owner_id: str, generation_id: str, image_id: str) -> ImageRow:
    """Mark one candidate as the chosen one (the generation's others are unselected) and start its 2K
    upscale in the background, so the later 2K download is instant."""
    image = get_candidate(owner_id, generation_id, image_id)
    db.session.execute(update(ImageRow).where(ImageRow.generation_id == generation_id).values(selected=False))
    image.selected = True
    db.session.commit()
    request_upscale_in_background(owner_id, image.id)
    return image


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
    and every call answers Pending; a failed job reports its error once (Unavailable) and is queued again.
    The format is checked first: a download that will be refused starts no job."""
    checked_format(fmt)
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


@dataclass
class Variant:
    """The file an image job made, and where the image row keeps it."""

    image: ImageRow
    work: Work
    data: bytes
    values: dict[str, object] = field(default_factory=dict)  # nothing to store on the job row itself

    def keep(self, staging: storage.Staging) -> None:
        setattr(self.image, self.work.column, staging.write(self.work.path_of(self.image), self.data))


def make_variant(job: ImageJob) -> Variant:
    """The jobs `upscale-image` and `remove-background`: the image's 2K or cut-out, encoded as PNG."""
    image, work = job.image, WORK[job.job_type]
    with Image.open(storage.resolve(image.path)) as original:
        made = work.make(original.copy())
    return Variant(image, work, encode(made, "png"))
