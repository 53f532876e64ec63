"""A generation job on the gemini engine, end to end against the fake Gemini server: the job ends in
the right status and error code, and a failed job leaves no image file."""
from __future__ import annotations

import pytest

from .conftest import files_under
from .fixtures_gemini import run_gemini_job
from .gemini_server import slow, to_reply


def outputs(app) -> list[str]:
    return [name for name in files_under(app.config["DATA_DIR"]) if name.startswith("generations/")]


def test_success_stores_both_images_usage_and_cost(gemini_app, gemini_server):
    generation = run_gemini_job(gemini_app)
    assert generation.status == "succeeded" and generation.engine == "gemini"
    assert len(gemini_server.requests) == 2
    assert generation.input_tokens > 0 and generation.output_tokens > 0
    assert generation.cost_usd == pytest.approx(2 * 0.134, rel=0.05)
    assert len([name for name in outputs(gemini_app) if name.endswith(".png")]) == 2


@pytest.mark.parametrize("first, default, status, code", [
    ((429,), "image", "succeeded", None),
    ((), 503, "failed", "UNKNOWN"),
    ((), 429, "failed", "API_RATE_LIMIT"),
    ((400,), "image", "failed", "INVALID_IMAGE"),
    (("blocked",), "image", "failed", "CONTENT_POLICY"),
    (("image_safety",), "image", "failed", "CONTENT_POLICY"),
    ((), "jpeg_labelled_png", "succeeded", None),
    (("malformed",), "image", "failed", "UNKNOWN"),
    ((), slow(5), "failed", "TIMEOUT"),
])
def test_job_outcome(gemini_app, gemini_server, first, default, status, code):
    """`first` answers the first requests of the two concurrent calls; `default` every later one."""
    gemini_server.script(*first)
    gemini_server.default = to_reply(default)
    generation = run_gemini_job(gemini_app)
    assert (generation.status, generation.error_code) == (status, code)
    if status == "failed":
        assert generation.error_message
        assert outputs(gemini_app) == []
