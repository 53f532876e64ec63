"""GET /metrics: Prometheus text with request counts and latency by endpoint, jobs by status and the
queue length; no login needed."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from .api_support import alice, create_character, create_project, submit  # noqa: F401


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_report_requests_and_jobs(client, alice):
    project = create_project(alice)
    submit(alice, project["id"], create_character(alice, project["id"])["id"])
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    found = samples(response.get_data(as_text=True))
    created = (("endpoint", "api.create_project"), ("method", "POST"), ("status", "201"))
    assert found[("mockup_http_requests_total", created)] >= 1
    assert found[("mockup_http_request_duration_seconds_count", (("endpoint", "api.create_project"),))] >= 1
    assert found[("mockup_jobs", (("status", "queued"),))] == 1
    assert found[("mockup_jobs", (("status", "succeeded"),))] == 0
    assert found[("mockup_queue_length", ())] == 1
