"""GET /metrics in the Prometheus text format: requests and their latency by endpoint, and the job
queue as the database sees it (the database row is the source of truth, not the broker).

The counters live in this process; under several gunicorn workers each scrape sees one worker's
requests, while the job figures are the same from every worker.
"""
from __future__ import annotations

import time

from flask import Blueprint, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from ..services import generations

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("mockup_http_requests_total", "HTTP requests answered.", ["method", "endpoint", "status"])
LATENCY = Histogram(
    "mockup_http_request_duration_seconds", "Time to answer an HTTP request.", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0),
)
JOBS = Gauge("mockup_jobs", "Generation jobs by status.", ["status"])
QUEUE_LENGTH = Gauge("mockup_queue_length", "Generation jobs waiting to run.")


@bp.before_app_request
def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def _record(response: Response) -> Response:
    # The endpoint name, not the path: ids in paths would make a time series per object.
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
    started = g.pop("metrics_started", None)
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


@bp.get("/metrics")
def metrics() -> Response:
    counts = generations.count_by_status()
    for status, count in counts.items():
        JOBS.labels(status).set(count)
    QUEUE_LENGTH.set(counts["queued"])
    return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
