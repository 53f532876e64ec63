"""The jobs as their rows say, for the operators' metrics (mockup_jobs, mockup_queue_length): a
collector that create_app() registers with telemetry, so telemetry never imports the job tables."""
from __future__ import annotations

from typing import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select

from ..extensions import db
from ..models import GENERATION_STATUSES
from .handoff import PRIORITY_NAMES
from .registry import JOB_TYPES, TABLES


def job_counts() -> dict[tuple[str, str], int]:
    """Jobs of every table per (job type, status), every pair present."""
    counts = dict.fromkeys(((job_type, status) for job_type in JOB_TYPES for status in GENERATION_STATUSES), 0)
    for table in TABLES:
        rows = db.session.execute(select(table.job_type, table.status, func.count()).group_by(table.job_type, table.status))
        counts.update({(job_type, status): count for job_type, status, count in rows})
    return counts


def waiting_by_priority() -> dict[str, int]:
    """Waiting jobs of every table per priority name (high, normal, batch), every name present."""
    counts = dict.fromkeys(PRIORITY_NAMES.values(), 0)
    for table in TABLES:
        rows = db.session.execute(
            select(table.priority, func.count()).where(table.status == "queued").group_by(table.priority)
        )
        for priority, count in rows:
            name = PRIORITY_NAMES.get(priority, str(priority))
            counts[name] = counts.get(name, 0) + count
    return counts


class JobFigures:
    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("mockup_jobs", "Jobs by type and status, as their rows say.",
                                 labels=["job_type", "status"])
        for (job_type, status), count in sorted(job_counts().items()):
            jobs.add_metric([job_type, status], count)
        yield jobs
        waiting = GaugeMetricFamily("mockup_queue_length", "Jobs waiting to run, by priority.", labels=["priority"])
        for priority, count in waiting_by_priority().items():
            waiting.add_metric([priority], count)
        yield waiting
