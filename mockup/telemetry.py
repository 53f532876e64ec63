"""What GET /metrics reports, in the Prometheus text format (issue 6, DESIGN.md section 9).

Counted by the process that does the work: requests and their latency by endpoint, job deliveries by job
type and outcome with their duration, Gemini calls by outcome with tokens and estimated cost, and each
process's memory and CPU. Under gunicorn and Celery these are added up over every process
(mockup/multiprocess_metrics.py). Read when scraped, because the database and the disk already know them
and they must be the same whichever worker answers: jobs by type and status, the queue length by
priority, and the disk used and free under DATA_DIR.
"""
from __future__ import annotations

import os
import time
from typing import Iterable, Iterator

from flask import Flask, current_app
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from . import multiprocess_metrics, storage

REQUESTS = Counter("mockup_http_requests_total", "HTTP requests answered.", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "mockup_http_request_duration_seconds", "Time to answer an HTTP request.", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0),
)
JOBS_RUN = Counter(
    "mockup_job_runs_total",
    "Job deliveries by job type and outcome (succeeded, failed, superseded: its lease ran out and another "
    "delivery took over, duplicate: the job was not waiting, so this delivery did nothing).",
    ["job_type", "outcome"],
)
JOB_DURATION = Histogram(
    "mockup_job_duration_seconds", "Time from a job's claim to its end, by job type.", ["job_type"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900),
)
GEMINI_CALLS = Counter(
    "mockup_gemini_calls_total",
    "HTTP calls to Gemini, retries included, by outcome (ok, blocked, invalid_reply, http_<status>, "
    "timeout, connection).",
    ["outcome"],
)
GEMINI_TOKENS = Counter("mockup_gemini_tokens_total", "Tokens of answered Gemini calls.", ["direction"])
GEMINI_COST = Counter("mockup_gemini_cost_usd_total", "Estimated cost of the Gemini calls, in US dollars.")
# One series per live process (multiprocess mode adds its pid); a process that exits drops out.
PROCESS_MEMORY = Gauge(
    "mockup_process_resident_memory_bytes", "Resident memory of a web or worker process.", ["service"],
    multiprocess_mode="liveall",
)
PROCESS_CPU = Gauge(
    "mockup_process_cpu_seconds", "CPU time a web or worker process has used.", ["service"],
    multiprocess_mode="liveall",
)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Walking DATA_DIR costs a read of every folder; a scrape every few seconds need not repeat it.
DATA_DIR_BYTES_TTL_S = 60.0
_data_dir_bytes: dict[str, tuple[float, int]] = {}


def request_answered(method: str, endpoint: str, status: int, seconds: float | None) -> None:
    # Any token is a method to gunicorn: unknown ones share one series, so no client can add series.
    method = method if method in KNOWN_METHODS else "other"
    REQUESTS.labels(method, endpoint, str(status)).inc()
    if seconds is not None:
        LATENCY.labels(endpoint).observe(seconds)


def job_ran(job_type: str, outcome: str, seconds: float) -> None:
    JOBS_RUN.labels(job_type, outcome).inc()
    if outcome in ("succeeded", "failed"):
        JOB_DURATION.labels(job_type).observe(seconds)


def gemini_call(outcome: str, input_tokens: int = 0, output_tokens: int = 0, cost_usd: float = 0.0) -> None:
    GEMINI_CALLS.labels(outcome).inc()
    GEMINI_TOKENS.labels("input").inc(input_tokens)
    GEMINI_TOKENS.labels("output").inc(output_tokens)
    GEMINI_COST.inc(cost_usd)


def sample_process(service: str) -> None:
    """Record this process's memory and CPU; called as it works (each request, each job)."""
    times = os.times()
    PROCESS_CPU.labels(service).set(times.user + times.system)
    try:
        with open("/proc/self/statm") as statm:
            PROCESS_MEMORY.labels(service).set(int(statm.read().split()[1]) * PAGE_SIZE)
    except OSError:  # no /proc (a developer's Mac): memory is not reported
        pass


def init_app(app: Flask, *state: Collector) -> None:
    """Collectors of state read at each scrape (the jobs' rows: mockup.jobs.figures), registered by
    create_app so that this module, below every other, imports none of them."""
    app.extensions["metrics_state"] = state


def exposition() -> bytes:
    """The whole /metrics page: the counted values, then the state read now."""
    state = CollectorRegistry(auto_describe=False)
    for collector in (*current_app.extensions.get("metrics_state", ()), _DiskState()):
        state.register(collector)
    return generate_latest(_counted()) + generate_latest(state)


def _counted() -> CollectorRegistry:
    if not multiprocess_metrics.enabled():
        return REGISTRY  # one process: its own values, with prometheus_client's process_* figures
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_AllProcesses())
    return registry


class _AllProcesses:
    """Every process's values, over every service folder under METRICS_DIR."""

    def collect(self) -> Iterable[Metric]:
        return MultiProcessCollector.merge(storage.metrics_value_files(current_app.config["METRICS_DIR"]),
                                           accumulate=True)


class _DiskState:
    def collect(self) -> Iterator[Metric]:
        free, total = storage.disk_usage()
        yield GaugeMetricFamily("mockup_disk_free_bytes", "Free space on the disk holding DATA_DIR.", value=free)
        yield GaugeMetricFamily("mockup_disk_total_bytes", "Size of the disk holding DATA_DIR.", value=total)
        yield GaugeMetricFamily("mockup_data_dir_bytes", "Bytes of the files under DATA_DIR (counted at most "
                                "once a minute).", value=_bytes_used())


def _bytes_used() -> int:
    folder = str(storage.root())
    counted_at, total = _data_dir_bytes.get(folder, (float("-inf"), 0))
    if time.monotonic() - counted_at > DATA_DIR_BYTES_TTL_S:
        total = storage.bytes_used()
        _data_dir_bytes[folder] = (time.monotonic(), total)
    return total
