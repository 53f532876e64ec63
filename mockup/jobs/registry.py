"""The one table of job types (DESIGN.md section 4): for each, the table its rows live in, the service
function that does its work, the sentence a crashed job shows, and the Celery task that carries it.
The embedded runner, the Celery tasks, the reaper and the metrics all read it; a new job type is one
line here plus its work function in the services.

The priority of a job is chosen by the service that submits it (an edit runs high, a background 2K
upscale at batch priority, a batch cell at batch priority), so it lives on the row, not here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import N_
from ..models import JOB_CUTOUT, JOB_EDIT, JOB_GENERATE, JOB_UPSCALE, Generation, ImageJob
from ..services import execution, image_jobs
from .lifecycle import JobRow, JobTable, Made
from .order import JOB_TABLES

# Celery task names; tasks.py registers one task under each.
GENERATION_TASK = "mockup.generate_mockup"
IMAGE_TASK = "mockup.process_image"
MOCKUP_CRASHED = N_("Something went wrong while making the mockup. Please try again.")
IMAGE_CRASHED = N_("Something went wrong while processing the image.")


@dataclass(frozen=True)
class JobType:
    table: JobTable
    work: Callable[[JobRow], Made]
    crashed: str  # the job's error message when its work raised something unexpected
    task: str


JOB_TYPES: dict[str, JobType] = {
    JOB_GENERATE: JobType(Generation, execution.make_mockup, MOCKUP_CRASHED, GENERATION_TASK),
    JOB_EDIT: JobType(Generation, execution.make_edit, MOCKUP_CRASHED, GENERATION_TASK),
    JOB_UPSCALE: JobType(ImageJob, image_jobs.make_variant, IMAGE_CRASHED, IMAGE_TASK),
    JOB_CUTOUT: JobType(ImageJob, image_jobs.make_variant, IMAGE_CRASHED, IMAGE_TASK),
}
# Every job table once: the tables of the queue's fair order (order.py, below the services, which read it
# too); tests/test_fair_queue.py checks that they are the tables of the job types above.
TABLES: tuple[JobTable, ...] = JOB_TABLES
TASK_OF_TABLE: dict[str, str] = {job_type.table.__tablename__: job_type.task for job_type in JOB_TYPES.values()}
