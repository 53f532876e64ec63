"""A generation job on the gemini engine, end to end against the fake Gemini server: the job ends in
the right status and error code, and a failed job leaves no image file."""
from __future__ import annotations

import html

import pytest

from mockup.engines.pricing import (
    PRICE_PER_IMAGE_USD,
    PRICE_PER_MILLION_INPUT_TOKENS_USD,
    PRICE_PER_MILLION_TEXT_OUTPUT_TOKENS_USD,
)
from mockup.extensions import db
from mockup.models import Generation

from .api_support import ApiClient, read_generation
from .conftest import files_under
from .factories import create_character, create_project
from .fixtures_gemini import run_gemini_job
from .gemini_server import DECLINED_TEXT, IMAGE_OTHER_MESSAGE, NO_IMAGE_TEXT, TEXT_USAGE, USAGE, slow, to_reply
from .job_runner import run_job
from .studio import generate


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


@pytest.mark.parametrize("kind, said", [("declined", DECLINED_TEXT), ("image_other", IMAGE_OTHER_MESSAGE),
                                        ("no_image", NO_IMAGE_TEXT)])
def test_an_answer_in_words_shows_the_models_words_and_records_its_cost(gemini_app, gemini_server, client, auth,
                                                                        kind, said):
    """Gemini declines in words (HTTP 200, no image): each candidate is asked once more, then the job fails
    with our sentence and the model's own words on the page and in the API, and what the calls cost."""
    gemini_server.default = to_reply(kind)
    auth.register()
    project_id = create_project(client)
    generation_id = generate(client, project_id, create_character(client, project_id))
    assert run_job(gemini_app, generation_id) == "failed"

    assert len(gemini_server.requests) == 4  # 2 candidates x (the answer + 1 more try)
    with gemini_app.app_context():
        generation = db.session.get(Generation, generation_id)
        assert generation.error_detail == said
        assert generation.input_tokens == 4 * TEXT_USAGE["promptTokenCount"]
        output = TEXT_USAGE["candidatesTokenCount"] + TEXT_USAGE["thoughtsTokenCount"]
        per_call = (TEXT_USAGE["promptTokenCount"] * PRICE_PER_MILLION_INPUT_TOKENS_USD
                    + output * PRICE_PER_MILLION_TEXT_OUTPUT_TOKENS_USD) / 1e6
        assert generation.cost_usd == pytest.approx(4 * per_call)
    page = html.unescape(client.get(f"/generations/{generation_id}").get_data(as_text=True))
    assert "The model said:" in page and said in page
    error = read_generation(ApiClient(client), generation_id)["error"]
    assert set(error) == {"code", "message"} and error["code"] == "UNKNOWN"
    assert error["message"].startswith("Gemini answered in words instead of an image") and said in error["message"]
    assert outputs(gemini_app) == []


def test_trying_again_forgets_the_words_but_keeps_adding_the_cost(gemini_app, gemini_server, client, auth):
    gemini_server.script("declined", "declined", "declined", "declined")
    auth.register()
    project_id = create_project(client)
    generation_id = generate(client, project_id, create_character(client, project_id))
    assert run_job(gemini_app, generation_id) == "failed"
    with gemini_app.app_context():
        failed_cost = db.session.get(Generation, generation_id).cost_usd
    assert client.post(f"/generations/{generation_id}/retry", data={}).status_code == 303
    assert run_job(gemini_app, generation_id) == "succeeded"
    with gemini_app.app_context():
        generation = db.session.get(Generation, generation_id)
        assert generation.error_detail is None and generation.error_message is None
        drawn = PRICE_PER_IMAGE_USD + USAGE["promptTokenCount"] * PRICE_PER_MILLION_INPUT_TOKENS_USD / 1e6
        assert generation.cost_usd == pytest.approx(failed_cost + 2 * drawn)
