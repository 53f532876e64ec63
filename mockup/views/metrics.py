"""GET /metrics for Prometheus (what it holds: mockup/telemetry.py), and the request timing behind it."""
from __future__ import annotations

import ipaddress
import time

from flask import Blueprint, Response, abort, current_app, g, request
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
    if not _client_may_read_metrics():
        abort(403)
    return Response(telemetry.exposition(), content_type=CONTENT_TYPE_LATEST)


def _client_may_read_metrics() -> bool:
    """Job counts, Gemini spend and disk use are for the operators: only clients in METRICS_ALLOW, as
    ProxyFix reports them (the last PROXY_COUNT hops), whatever reaches gunicorn directly."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.1.2.3 is 10.1.2.3
    return any(address in network for network in current_app.config["METRICS_ALLOW"])
