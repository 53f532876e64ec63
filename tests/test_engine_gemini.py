"""The Gemini engine against the fake Gemini server, through the real google-genai SDK.

Retries wait 0.01 s and timeouts are short, so the whole file runs in a few seconds.
"""
from __future__ import annotations

import io
import re
import subprocess
import sys
from unittest.mock import patch

import pytest
from PIL import Image

from mockup.engines.base import (
    API_RATE_LIMIT,
    CONTENT_POLICY,
    INVALID_IMAGE,
    MAX_CHARACTER_IMAGES,
    TIMEOUT,
    UNKNOWN,
    CharacterView,
    EngineError,
    GenerationRequest,
)
from mockup.engines.gemini import SAID_MAX_CHARS, GeminiEngine, closest_aspect_ratio
from mockup.engines.pricing import (
    PRICE_PER_IMAGE_USD,
    PRICE_PER_MILLION_INPUT_TOKENS_USD,
    PRICE_PER_MILLION_TEXT_OUTPUT_TOKENS_USD,
)
from mockup.engines.prompts import build_prompt
from mockup.imaging.backdrop import contrasting_backdrop
from tests.matting_cases import white_mug_on_white
from tests.fixtures_gemini import API_KEY
from tests.gemini_server import (
    DECLINED_TEXT,
    IMAGE_OTHER_MESSAGE,
    NO_IMAGE_TEXT,
    TEXT_USAGE,
    USAGE,
    FakeGemini,
    slow,
    to_reply,
)

DRAFT_GREY = (128, 128, 128)


def make_engine(server: FakeGemini, **overrides) -> GeminiEngine:
    options = dict(api_key=API_KEY, model="gemini-3-pro-image", base_url=server.url, timeout_s=2,
                   calls_per_minute=1000, retry_base_s=0.01)
    options.update(overrides)
    return GeminiEngine(**options)


def picture(size: tuple[int, int], colour: str) -> Image.Image:
    return Image.new("RGB", size, colour)


def ip_request(**overrides) -> GenerationRequest:
    options = dict(mode="ip-change", source=picture((80, 60), "red"),
                   character=picture((32, 32), "blue"), candidates=1)
    options.update(overrides)
    return GenerationRequest(**options)


def fail(engine: GeminiEngine, request: GenerationRequest) -> EngineError:
    with pytest.raises(EngineError) as caught:
        engine.generate(request)
    return caught.value


# --- success -----------------------------------------------------------------------------------

def test_two_candidates_come_from_two_overlapping_calls(gemini_server):
    gemini_server.together = 2  # each call is held until the other one is in flight too
    result = make_engine(gemini_server).generate(ip_request(candidates=2))

    assert len(gemini_server.requests) == 2 and gemini_server.most_in_flight == 2
    assert len(result.images) == 2
    assert result.images[0].getpixel((0, 0)) != result.images[1].getpixel((0, 0))
    assert all(image.getpixel((0, 0)) != DRAFT_GREY for image in result.images)  # not the thought
    assert {image.size for image in result.images} == {(1200, 896)}  # 4:3 source -> 4:3 at 1K


def test_usage_is_summed_over_calls_and_priced(gemini_server):
    result = make_engine(gemini_server).generate(ip_request(candidates=2))

    assert result.usage.input_tokens == 2 * USAGE["promptTokenCount"]
    output_per_call = USAGE["candidatesTokenCount"] + USAGE["thoughtsTokenCount"]  # thinking is output
    assert result.usage.output_tokens == 2 * output_per_call
    input_cost = USAGE["promptTokenCount"] * PRICE_PER_MILLION_INPUT_TOKENS_USD / 1e6
    assert result.usage.cost_usd == pytest.approx(2 * (PRICE_PER_IMAGE_USD + input_cost))


def test_request_body_carries_prompt_images_and_image_config(gemini_server):
    request = ip_request(texture=picture((20, 10), "green"), prompt="glossy finish",
                         transparent_background=True)
    make_engine(gemini_server).generate(request)

    sent = gemini_server.requests[0]
    assert sent.path == "/v1/models/gemini-3-pro-image:generateContent"
    assert sent.headers["x-goog-api-key"] == API_KEY
    assert sent.texts == [build_prompt("ip-change", user_prompt="glossy finish", has_texture=True,
                                       transparent_background=True,
                                       backdrop=contrasting_backdrop(request.source))]
    parts = sent.body["contents"][0]["parts"]
    assert [list(part) for part in parts] == [["text"], ["inlineData"], ["inlineData"], ["inlineData"]]
    assert all(part["inlineData"]["mime_type"] == "image/png" for part in parts[1:])
    decoded = [Image.open(io.BytesIO(data)) for _, data in sent.images]
    assert [(image.format, image.size) for image in decoded] == [
        ("PNG", (80, 60)), ("PNG", (32, 32)), ("PNG", (20, 10))]  # source, character, texture
    assert sent.generation_config == {"responseModalities": ["TEXT", "IMAGE"],
                                      "imageConfig": {"aspectRatio": "4:3", "imageSize": "1K"}}


def test_sketch_to_real_sends_no_character(gemini_server):
    request = GenerationRequest(mode="sketch-to-real", source=picture((60, 100), "white"),
                                character=picture((32, 32), "blue"), candidates=1)
    make_engine(gemini_server).generate(request)

    sent = gemini_server.requests[0]
    assert [Image.open(io.BytesIO(data)).size for _, data in sent.images] == [(60, 100)]
    assert sent.generation_config["imageConfig"]["aspectRatio"] == "9:16"


@pytest.mark.parametrize("model", ["gemini-3-pro-image", "gemini-3-pro-image-preview"])
def test_both_model_ids_work(gemini_server, model):
    result = make_engine(gemini_server, model=model).generate(ip_request())

    assert len(result.images) == 1
    assert gemini_server.requests[0].model == model


def test_jpeg_labelled_png_is_decoded_by_its_bytes(gemini_server):
    gemini_server.script("jpeg_labelled_png")
    result = make_engine(gemini_server).generate(ip_request(source=picture((64, 64), "red")))

    assert result.images[0].size == (1024, 1024)
    assert result.images[0].mode == "RGB"


# --- retries -------------------------------------------------------------------------------------

def test_429_is_retried_then_succeeds(gemini_server):
    gemini_server.script(429)
    result = make_engine(gemini_server).generate(ip_request())

    assert len(result.images) == 1
    assert len(gemini_server.requests) == 2


def test_connection_reset_is_retried_then_succeeds(gemini_server):
    gemini_server.script("reset")
    result = make_engine(gemini_server).generate(ip_request())

    assert len(result.images) == 1
    assert len(gemini_server.requests) == 2


@pytest.mark.parametrize("status, code, words", [
    (503, UNKNOWN, "temporarily unavailable"),
    (500, UNKNOWN, "temporarily unavailable"),
    (504, TIMEOUT, "took too long"),
])
def test_server_errors_are_retried_three_times_then_fail(gemini_server, status, code, words):
    gemini_server.script(*[status] * 4)
    error = fail(make_engine(gemini_server), ip_request())

    assert len(gemini_server.requests) == 4
    assert (error.code, error.retryable) == (code, True)
    assert words in error.message


def test_429_after_retries_is_a_rate_limit(gemini_server):
    gemini_server.script(429, 429, 429, 429)
    error = fail(make_engine(gemini_server), ip_request())

    assert len(gemini_server.requests) == 4
    assert error.code == API_RATE_LIMIT
    assert error.message == (
        "Gemini is receiving too many requests right now. Please try again in a minute.")


def test_reply_slower_than_timeout_is_a_timeout(gemini_server):
    gemini_server.script(*[slow(1.0)] * 4)
    error = fail(make_engine(gemini_server, timeout_s=0.2), ip_request())

    assert error.code == TIMEOUT
    assert len(gemini_server.requests) == 4  # timeouts are retried too


# --- failures that are not retried ---------------------------------------------------------------

def test_400_is_an_invalid_image_and_not_retried(gemini_server):
    gemini_server.script(400)
    error = fail(make_engine(gemini_server), ip_request())

    assert error.code == INVALID_IMAGE
    assert len(gemini_server.requests) == 1


@pytest.mark.parametrize("scripted", [403, 401])
def test_refused_key_is_explained_and_not_retried(gemini_server, scripted):
    gemini_server.script(scripted)
    error = fail(make_engine(gemini_server), ip_request())

    assert error.code == UNKNOWN
    assert "API key" in error.message
    assert len(gemini_server.requests) == 1


def test_wrong_key_gets_googles_400_but_is_reported_as_a_key_problem(gemini_server):
    error = fail(make_engine(gemini_server, api_key="not-the-key"), ip_request())

    assert error.code == UNKNOWN
    assert "API key" in error.message
    assert len(gemini_server.requests) == 1


@pytest.mark.parametrize("kind, code", [
    ("blocked", CONTENT_POLICY),
    ("image_safety", CONTENT_POLICY),
    ("malformed", UNKNOWN),
])
def test_refusals_and_unreadable_replies_fail_at_once(gemini_server, kind, code):
    gemini_server.script(kind)
    error = fail(make_engine(gemini_server), ip_request())

    assert error.code == code
    assert error.message.endswith(".")
    assert len(gemini_server.requests) == 1


def text_cost(calls: int) -> float:
    """What `calls` answers in words cost: input tokens, and text and thinking output tokens."""
    output = TEXT_USAGE["candidatesTokenCount"] + TEXT_USAGE["thoughtsTokenCount"]
    return calls * (TEXT_USAGE["promptTokenCount"] * PRICE_PER_MILLION_INPUT_TOKENS_USD
                    + output * PRICE_PER_MILLION_TEXT_OUTPUT_TOKENS_USD) / 1e6


WORDS = [("declined", "STOP", DECLINED_TEXT), ("image_other", "IMAGE_OTHER", IMAGE_OTHER_MESSAGE),
         ("no_image", "NO_IMAGE", NO_IMAGE_TEXT)]


@pytest.mark.parametrize("kind, reason, said", WORDS)
def test_an_answer_in_words_is_asked_once_more_then_fails_with_the_models_words(gemini_server, kind, reason, said):
    gemini_server.default = to_reply(kind)
    error = fail(make_engine(gemini_server), ip_request(candidates=2))

    assert len(gemini_server.requests) == 4  # two calls per candidate: the answer and one more try
    assert error.code == UNKNOWN and f"({reason})" in error.message
    assert error.said == said
    assert error.usage.input_tokens == 4 * TEXT_USAGE["promptTokenCount"]
    assert error.usage.output_tokens == 4 * (TEXT_USAGE["candidatesTokenCount"] + TEXT_USAGE["thoughtsTokenCount"])
    assert error.usage.cost_usd == pytest.approx(text_cost(4))


@pytest.mark.parametrize("kind", ["declined", "image_other", "no_image"])
def test_a_second_answer_with_an_image_is_kept_and_both_are_billed(gemini_server, kind):
    gemini_server.script(kind)
    result = make_engine(gemini_server).generate(ip_request())

    assert len(gemini_server.requests) == 2 and len(result.images) == 1
    input_cost = USAGE["promptTokenCount"] * PRICE_PER_MILLION_INPUT_TOKENS_USD / 1e6
    assert result.usage.cost_usd == pytest.approx(text_cost(1) + PRICE_PER_IMAGE_USD + input_cost)


def test_a_failed_request_carries_the_cost_of_its_drawn_candidate_too(gemini_server):
    gemini_server.default = to_reply("declined")
    gemini_server.script("image")  # the first call to arrive draws; the other candidate declines twice
    error = fail(make_engine(gemini_server), ip_request(candidates=2))

    assert len(gemini_server.requests) == 3
    input_cost = USAGE["promptTokenCount"] * PRICE_PER_MILLION_INPUT_TOKENS_USD / 1e6
    assert error.usage.cost_usd == pytest.approx(text_cost(2) + PRICE_PER_IMAGE_USD + input_cost)
    assert error.said == DECLINED_TEXT


def test_the_models_words_are_shortened_to_a_readable_length(gemini_server):
    gemini_server.default = to_reply("declined")
    with patch("tests.gemini_server.DECLINED_TEXT", "word " * 1000):
        error = fail(make_engine(gemini_server), ip_request())
    assert len(error.said) == SAID_MAX_CHARS and error.said.endswith("…")


def test_one_failed_candidate_fails_the_whole_generation(gemini_server):
    gemini_server.script("image_safety")  # the other call gets the default image
    error = fail(make_engine(gemini_server), ip_request(candidates=2))

    assert error.code == CONTENT_POLICY
    assert len(gemini_server.requests) == 2


def test_ip_change_without_character_fails_before_calling(gemini_server):
    error = fail(make_engine(gemini_server), ip_request(character=None))

    assert error.code == INVALID_IMAGE
    assert gemini_server.requests == []


def test_from_config_reads_the_gemini_keys(gemini_server):
    engine = GeminiEngine.from_config({
        "GEMINI_API_KEY": API_KEY, "GEMINI_MODEL": "gemini-3-pro-image-preview",
        "GEMINI_BASE_URL": gemini_server.url, "GEMINI_TIMEOUT_S": 5.0, "GEMINI_CALLS_PER_MINUTE": 10,
        "JOB_TIMEOUT_S": 900,
    })
    engine.generate(ip_request())

    assert gemini_server.requests[0].model == "gemini-3-pro-image-preview"
    assert gemini_server.requests[0].headers["X-Server-Timeout"] == "5"


def test_standalone_server_prints_its_url_and_serves_images():
    process = subprocess.Popen([sys.executable, "-m", "tests.gemini_server", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://\S+", line).group(0)
        engine = GeminiEngine(api_key="any-key", model="gemini-3-pro-image", base_url=url)
        assert len(engine.generate(ip_request()).images) == 1
    finally:
        process.terminate()
        process.wait(timeout=5)


# --- units: aspect ratio, prompt, rate limiter ---------------------------------------------------

@pytest.mark.parametrize("size, ratio", [
    ((1000, 1000), "1:1"), ((1920, 1080), "16:9"), ((1080, 1920), "9:16"), ((800, 600), "4:3"),
    ((600, 800), "3:4"), ((3000, 1000), "21:9"), ((1010, 990), "1:1"),
])
def test_closest_aspect_ratio(size, ratio):
    assert closest_aspect_ratio(*size) == ratio


def test_ip_change_prompt_names_the_images_in_order():
    prompt = build_prompt("ip-change", has_texture=True)

    assert "Image 1 is a product photo" in prompt
    assert "Image 2 is the licensed IP character" in prompt
    assert "Image 3 is a reference texture" in prompt
    assert "same shape, materials, lighting, camera angle and perspective" in prompt
    assert "proportions, face" in prompt


def test_sketch_prompt_keeps_details_and_numbers_texture_second():
    prompt = build_prompt("sketch-to-real", has_texture=True)

    assert "2D design sketch" in prompt and "photorealistic" in prompt
    assert "Keep every design detail" in prompt
    assert "Image 2 is a reference texture" in prompt
    assert "character" not in prompt


def test_prompt_conditional_lines():
    bare = build_prompt("sketch-to-real", preserve_structure=False)
    full = build_prompt("sketch-to-real", preserve_structure=True, transparent_background=True,
                        user_prompt="  matte black handle  ")

    assert "Preserve the structure" not in bare and "background" not in bare
    assert "Preserve the structure strictly" in full
    assert "plain uniform mid grey studio background" in full and "#808080" in full
    assert "no checkerboard" in full and "no cast shadow" in full
    assert full.splitlines()[-2] == "Additional instructions from the designer: matte black handle"
    assert "designer" not in build_prompt("sketch-to-real", user_prompt="   ")


def test_a_transparent_generation_asks_for_a_backdrop_that_contrasts_with_the_product(gemini_server):
    """White on white is what cannot be cut out: a white mug's photo gets a darker backdrop asked for."""
    request = ip_request(source=white_mug_on_white(256).image, transparent_background=True)
    make_engine(gemini_server).generate(request)
    text = gemini_server.requests[0].texts[0]
    assert "plain uniform white" not in text
    assert f"plain uniform {contrasting_backdrop(request.source).name} studio background" in text


def test_prompt_rejects_unknown_mode():
    with pytest.raises(ValueError):
        build_prompt("colorize")  # type: ignore[arg-type]


# --- character sheets --------------------------------------------------------------------------

def test_a_sheet_is_sent_in_order_within_the_models_limits(gemini_server):
    views = tuple(CharacterView(picture((32, 32), colour), view)
                  for colour, view in (("green", "side"), ("yellow", "back"), ("white", "expression")))
    make_engine(gemini_server).generate(ip_request(more_views=views, texture=picture((16, 16), "black"),
                                                   character_description="Round ears"))
    [request] = gemini_server.requests
    colours = [Image.open(io.BytesIO(data)).convert("RGB").getpixel((0, 0)) for _, data in request.images]
    assert colours == [(255, 0, 0), (0, 0, 255), (0, 128, 0), (255, 255, 0), (255, 255, 255), (0, 0, 0)]
    [prompt] = request.texts
    assert "Images 2 to 5 are reference pictures" in prompt and "image 5 shows a facial expression" in prompt
    assert "Image 6 is a reference texture" in prompt and "About the character: Round ears" in prompt


def test_more_character_pictures_than_the_model_keeps_consistent_are_refused_unsent(gemini_server):
    views = tuple(CharacterView(picture((32, 32), "green"), "other") for _ in range(MAX_CHARACTER_IMAGES))
    error = fail(make_engine(gemini_server), ip_request(more_views=views))
    assert error.code == "INVALID_IMAGE" and "at most 5 pictures of a character" in error.message
    assert gemini_server.requests == []


def test_one_picture_keeps_the_first_release_prompt():
    assert build_prompt("ip-change") == build_prompt("ip-change", character_views=("front",))
    assert "Image 2 is the licensed IP character" in build_prompt("ip-change")
