"""What a generation costs: the one price table, used both for the estimate made before a job is queued
(budgets, the generate form) and for the cost recorded from each answered call (engines/gemini.py).

Google's published prices for gemini-3-pro-image: an output image at 1K or 2K is billed as 1120 tokens
at $120 per million (about $0.134), so a generation's image_size changes nothing here; input at $2 per
million tokens, where each input image counts as 1120 tokens at the default media resolution: the
source, every view of a character sheet, the texture. The offline `local` engine costs nothing."""
from __future__ import annotations

from ..models import CANDIDATES_DEFAULT

PRICE_PER_IMAGE_USD = 0.134
PRICE_PER_MILLION_INPUT_TOKENS_USD = 2.0
# An answer without an image (the model declining in words) is billed by its tokens: text and thinking
# output at $12 per million.
PRICE_PER_MILLION_TEXT_OUTPUT_TOKENS_USD = 12.0
INPUT_IMAGE_TOKENS = 1120
# The instruction the prompt builder writes around the user's words is a few hundred tokens.
PROMPT_TOKENS = 400
PRICED_ENGINES = frozenset({"gemini"})
DEFAULT_CANDIDATES = CANDIDATES_DEFAULT  # what a request makes unless it asks otherwise


def call_cost(input_tokens: int) -> float:
    """The cost of one answered call that produced an image, from the tokens Gemini reported."""
    return PRICE_PER_IMAGE_USD + input_tokens * PRICE_PER_MILLION_INPUT_TOKENS_USD / 1_000_000


def text_call_cost(input_tokens: int, output_tokens: int) -> float:
    """The cost of one answered call that produced no image: its input and its words."""
    return (input_tokens * PRICE_PER_MILLION_INPUT_TOKENS_USD
            + output_tokens * PRICE_PER_MILLION_TEXT_OUTPUT_TOKENS_USD) / 1_000_000


def estimate(engine: str, *, candidates: int, input_images: int) -> float:
    """The expected cost of a request before it runs: one call per candidate, each sending the images."""
    if engine not in PRICED_ENGINES:
        return 0.0
    return round(candidates * call_cost(input_images * INPUT_IMAGE_TOKENS + PROMPT_TOKENS), 4)


def input_images(mode: str, *, character_images: int, has_texture: bool) -> int:
    """How many images a generation request sends: the source, the character's images (only an IP change
    sends them, engines/gemini.py _contents), the texture."""
    return 1 + (character_images if mode == "ip-change" else 0) + has_texture


def rates(engine: str) -> dict[str, float]:
    """The parts of `estimate` for the generate form's script, which recomputes it as options change:
    per call, a fixed part (the output image and the prompt) plus a part per input image."""
    if engine not in PRICED_ENGINES:
        return {"per_call": 0.0, "per_input_image": 0.0}
    return {"per_call": call_cost(PROMPT_TOKENS),
            "per_input_image": INPUT_IMAGE_TOKENS * PRICE_PER_MILLION_INPUT_TOKENS_USD / 1_000_000}
