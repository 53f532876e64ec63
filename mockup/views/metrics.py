"""GET /metrics for Prometheus (what it holds: mockup/telemetry.py), and the request timing behind it."""
from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST

from .. import telemetry
from ..extensions import limiter

bp = Blueprint("metrics", __name__)


@bp.before_app_request
def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


@bp.after_app_request
def _record(response: Response) -> Response:
    # The endpoint name, not the path: ids in paths would make a time series per object.
    started = g.pop("metrics_started", None)
    seconds = None if started is None else time.perf_counter() - started
    telemetry.request_answered(request.method, request.endpoint or "unmatched", response.status_code, seconds)
    telemetry.sample_process(current_app.config["SERVICE_NAME"])
    return response


@bp.get("/metrics")
@limiter.exempt  # a scraper that is refused leaves a gap in every graph
def metrics() -> Response:
    return Response(telemetry.exposition(), content_type=CONTENT_TYPE_LATEST)
