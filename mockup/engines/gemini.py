"""The Gemini engine: Google's image model ("Nano Banana Pro") through the official google-genai SDK.

One image per call, so the candidates of a request are separate calls made concurrently. Transient
failures are retried with exponential backoff; everything that still fails becomes an EngineError
whose message a designer can act on. Protocol facts are in DESIGN.md section 5.
"""
from __future__ import annotations

import io
import logging
import math
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Mapping

import httpx2
import tenacity
from google import genai
from google.genai import errors, types
from PIL import Image

from .base import (
    API_RATE_LIMIT,
    CONTENT_POLICY,
    INVALID_IMAGE,
    MAX_CHARACTER_IMAGES,
    MAX_REFERENCE_IMAGES,
    TIMEOUT,
    UNKNOWN,
    EditRequest,
    EngineError,
    GenerationRequest,
    GenerationResult,
    Usage,
)
from .. import telemetry
from ..imaging.backdrop import MID_GREY, contrasting_backdrop
from ..imaging.regions import MARK_COLOUR_NAME
from . import pricing
from .prompts import build_edit_prompt, build_prompt
from .quota import CallQuota

logger = logging.getLogger(__name__)

# Retries (DESIGN.md section 5): 3 retries after the first call, 1 s base doubling up to 10 s, jitter.
MAX_RETRIES = 3
RETRY_MAX_WAIT_S = 10.0
RETRY_STATUS_CODES = frozenset({429, 500, 503, 504})
# An answer without an image (text only, or an image that does not decode) is asked once more: the model
# sometimes writes instead of drawing, but a refusal (its usual way of declining a well-known character)
# repeats, and every answer is billed.
ANSWER_RETRIES = 1
# The model's own words kept with a failure: enough for a refusal's reasons, not a whole essay.
SAID_MAX_CHARS = 1000

# An edit is answered at 1K (its result is blended into a 1K or 2K parent by the job); a generation at its
# request's image_size: the model's own 2K costs the same as 1K (engines/pricing.py).
EDIT_IMAGE_SIZE = "1K"
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
# Inputs are downscaled to this long side: enough for a 1K or 2K answer, and a request carrying several
# full-size PNGs (a character sheet is up to 5) would pass Gemini's 20 MB limit for inline data.
MAX_INPUT_SIDE = 1536

# Finish reasons that mean "refused under the content rules", as opposed to "failed to draw".
POLICY_FINISH_REASONS = frozenset({
    "SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR",
})

RATE_LIMIT_MESSAGE = "Gemini is receiving too many requests right now. Please try again in a minute."
TIMEOUT_MESSAGE = "Gemini took too long to answer. Please try again in a few minutes."
UNAVAILABLE_MESSAGE = "Gemini is temporarily unavailable. Please try again in a few minutes."
CONNECTION_MESSAGE = "The connection to Gemini was interrupted. Please try again in a few minutes."
INVALID_IMAGE_MESSAGE = (
    "Gemini could not read one of the images. Try another photo or sketch, saved as PNG or JPEG."
)
KEY_REFUSED_MESSAGE = (
    "Gemini refused the API key, so nothing was generated. Ask your administrator to check "
    "GEMINI_API_KEY."
)
MODEL_MISSING_MESSAGE = (
    "The Gemini model '{model}' is not available with this API key. Ask your administrator to check "
    "GEMINI_MODEL."
)
CONTENT_POLICY_MESSAGE = (
    "Gemini declined to create this image under its content rules ({reason}). Try a different "
    "image, character or prompt."
)
NO_IMAGE_MESSAGE = (
    "Gemini answered without an image ({reason}). Please try again, or rephrase the prompt."
)
ANSWERED_IN_WORDS_MESSAGE = (
    "Gemini answered in words instead of an image ({reason}). Read its answer, then rephrase the prompt "
    "or try another picture."
)
UNREADABLE_MESSAGE = "Gemini sent back an answer that could not be read. Please try again."
UNEXPECTED_MESSAGE = "Gemini returned an unexpected error (HTTP {code}). Please try again later."
MISSING_CHARACTER_MESSAGE = "An IP change needs a character image. Pick a character and try again."
TOO_MANY_IMAGES_MESSAGE = (
    "Gemini takes at most {characters} pictures of a character and {total} images in all per request. "
    "Remove some pictures from the character and try again."
)


def closest_aspect_ratio(width: int, height: int) -> str:
    """The supported output ratio nearest to the source's, compared on a log scale (4:3 ~ 3:4)."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        across, down = (int(side) for side in ratio.split(":"))
        return abs(math.log(across / down) - target)

    return min(ASPECT_RATIOS, key=distance)


class GeminiEngine:
    """Generates candidates with Gemini; one instance serves many requests from many threads.

    mockup.engines builds one instance per process; its call quota is counted for the whole worker pool
    (engines/quota.py).
    """

    name = "gemini"

    def __init__(self, api_key: str, model: str, base_url: str = "", timeout_s: float = 180,
                 calls_per_minute: int = 10, quota_storage_uri: str = "memory://", retry_base_s: float = 1.0,
                 retry_budget_s: float = 480):
        if not api_key:
            raise ValueError("The Gemini engine needs an API key (GEMINI_API_KEY).")
        self.model = model
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._retry_base_s = retry_base_s
        # No new attempt starts after this many seconds, so retried timeouts end before the job's lease.
        self._retry_budget_s = retry_budget_s
        self._quota = CallQuota(calls_per_minute, quota_storage_uri)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "GeminiEngine":
        """Build the engine from the Flask config mapping made by config.from_env()."""
        return cls(
            api_key=config["GEMINI_API_KEY"],
            model=config["GEMINI_MODEL"],
            base_url=config["GEMINI_BASE_URL"],
            timeout_s=float(config["GEMINI_TIMEOUT_S"]),
            calls_per_minute=int(config["GEMINI_CALLS_PER_MINUTE"]),
            # Where Flask-Limiter counts requests: Redis when the jobs run in Celery's processes.
            quota_storage_uri=config.get("RATELIMIT_STORAGE_URI", "memory://"),
            retry_base_s=float(config.get("GEMINI_RETRY_BASE_S", 1.0)),
            retry_budget_s=0.8 * float(config["JOB_TIMEOUT_S"]) - float(config["GEMINI_TIMEOUT_S"]),
        )

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Make `request.candidates` calls at once; one call that finally fails fails the request."""
        return self._candidates(_contents(request), request.source.size, request.candidates, request.image_size)

    def edit(self, request: EditRequest) -> GenerationResult:
        """Send the original, its marked copy and the instruction; Gemini takes no mask, so the region is
        named by the mark. The answers are whole images, composited into the original by the job."""
        prompt = build_edit_prompt(request.instruction, MARK_COLOUR_NAME)
        contents = [types.Part.from_text(text=prompt)] + _image_parts([request.image, request.marked])
        return self._candidates(contents, request.image.size, request.candidates, EDIT_IMAGE_SIZE)

    def _candidates(self, contents: list[types.Part], size: tuple[int, int], count: int,
                    image_size: str) -> GenerationResult:
        """`count` concurrent calls with the same contents, answered at the ratio nearest to `size` and at
        `image_size` ("1K" or "2K"). One failed call fails the request; the error then carries the usage
        of every call, as all are billed."""
        config = types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=closest_aspect_ratio(*size), image_size=image_size),
        )
        # The with-block keeps the client referenced until every call has ended: a client that is
        # garbage-collected closes its HTTP connections under the calls still using them.
        with self._client() as client, ThreadPoolExecutor(max_workers=count, thread_name_prefix="gemini") as pool:
            futures = [pool.submit(self._generate_one, client, contents, config) for _ in range(count)]
            outcomes = [_outcome(future) for future in futures]
        usage = Usage()
        for outcome in outcomes:
            usage.add(outcome.usage if isinstance(outcome, EngineError) else outcome[1])
        failures = [outcome for outcome in outcomes if isinstance(outcome, EngineError)]
        if failures:
            failures[0].usage = usage
            raise failures[0]
        return GenerationResult(images=[image for image, _ in outcomes], usage=usage)

    def _client(self) -> genai.Client:
        """A client per request, so no HTTP connection outlives a request or crosses a worker fork.

        Retries are not delegated to the SDK's HttpRetryOptions: in google-genai 3.6.1 they cover
        timeouts and refused connections but not a connection reset mid-call (httpx2.ReadError,
        RemoteProtocolError), which is how a failing load balancer shows up.
        """
        return genai.Client(
            api_key=self._api_key,
            http_options=types.HttpOptions(
                base_url=self._base_url or None, timeout=int(self._timeout_s * 1000)
            ),
        )

    def _generate_one(self, client: genai.Client, contents: list[types.Part],
                      config: types.GenerateContentConfig) -> tuple[Image.Image, Usage]:
        """One image. An answer without one is asked for once more (ANSWER_RETRIES); what every answer
        cost is added up, and a failure carries that sum too."""
        spent = Usage()

        def answer() -> tuple[Image.Image, Usage]:
            try:
                image, usage = self._answer(client, contents, config)
            except EngineError as error:
                spent.add(error.usage)
                error.usage = spent
                raise
            spent.add(usage)
            return image, spent

        asking = tenacity.Retrying(stop=tenacity.stop_after_attempt(ANSWER_RETRIES + 1),
                                   retry=tenacity.retry_if_exception_type(_NoImage), reraise=True)
        return asking(answer)

    def _answer(self, client: genai.Client, contents: list[types.Part],
                config: types.GenerateContentConfig) -> tuple[Image.Image, Usage]:
        """One answer: the call with its retries of transient failures, then checked and decoded."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(MAX_RETRIES + 1) | tenacity.stop_after_delay(self._retry_budget_s),
            wait=tenacity.wait_exponential_jitter(
                initial=self._retry_base_s, max=RETRY_MAX_WAIT_S, exp_base=2, jitter=self._retry_base_s
            ),
            retry=tenacity.retry_if_exception(_is_transient),
            before_sleep=tenacity.before_sleep_log(logger, logging.INFO),
            reraise=True,
        )
        try:
            response = retrying(self._call, client, contents, config)
        except (errors.APIError, httpx2.TransportError, ValueError) as exc:
            logger.warning("Gemini call failed for model %s: %r", self.model, exc)
            raise _engine_error(exc, self.model) from exc
        usage = _usage(response)
        try:
            image = _extract_image(response)
        except EngineError as error:
            error.usage = usage
            telemetry.gemini_call("blocked" if error.code == CONTENT_POLICY else "invalid_reply",
                                  usage.input_tokens, usage.output_tokens, usage.cost_usd)
            raise
        telemetry.gemini_call("ok", usage.input_tokens, usage.output_tokens, usage.cost_usd)
        return image, usage

    def _call(self, client: genai.Client, contents: list[types.Part],
              config: types.GenerateContentConfig) -> types.GenerateContentResponse:
        """One HTTP attempt; every attempt counts against the quota, retries included. Attempts
        that get no reply to read are counted here, the others once their reply is read."""
        self._quota.acquire()
        try:
            return client.models.generate_content(model=self.model, contents=contents, config=config)
        except (errors.APIError, httpx2.TransportError, ValueError) as exc:
            telemetry.gemini_call(_failed_call_outcome(exc))
            raise


def _outcome(future: Future) -> tuple[Image.Image, Usage] | EngineError:
    """A call's image and usage, or the EngineError it ended with (anything else is a bug: raised)."""
    try:
        return future.result()
    except EngineError as error:
        return error


def _contents(request: GenerationRequest) -> list[types.Part]:
    """The instruction text, then the images in the order the prompt numbers them: the source, every
    view of the character, the texture."""
    if request.mode == "ip-change" and request.character is None:
        raise EngineError(INVALID_IMAGE, MISSING_CHARACTER_MESSAGE)
    views = request.character_views()
    images = [request.source, *(view.image for view in views)]
    if request.texture is not None:
        images.append(request.texture)
    if len(views) > MAX_CHARACTER_IMAGES or len(images) > MAX_REFERENCE_IMAGES:
        raise EngineError(INVALID_IMAGE, TOO_MANY_IMAGES_MESSAGE.format(
            characters=MAX_CHARACTER_IMAGES, total=MAX_REFERENCE_IMAGES))
    prompt = build_prompt(
        request.mode,
        user_prompt=request.prompt,
        preserve_structure=request.preserve_structure,
        has_texture=request.texture is not None,
        transparent_background=request.transparent_background,
        backdrop=contrasting_backdrop(request.source) if request.transparent_background else MID_GREY,
        character_views=tuple(view.view for view in views) or ("front",),
        character_description=request.character_description,
    )
    return [types.Part.from_text(text=prompt)] + _image_parts(images)


def _image_parts(images: list[Image.Image]) -> list[types.Part]:
    return [types.Part.from_bytes(data=_png_bytes(image), mime_type="image/png") for image in images]


def _png_bytes(image: Image.Image) -> bytes:
    """PNG keeps sketches' lines and characters' transparency intact; fast compression saves time."""
    if max(image.size) > MAX_INPUT_SIDE:
        image = image.copy()
        image.thumbnail((MAX_INPUT_SIDE, MAX_INPUT_SIDE), Image.Resampling.LANCZOS)
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _is_transient(exc: BaseException) -> bool:
    """Worth another try: overload and server errors, timeouts, refused or reset connections."""
    if isinstance(exc, errors.APIError):
        return exc.code in RETRY_STATUS_CODES
    return isinstance(exc, (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError))


def _engine_error(exc: Exception, model: str) -> EngineError:
    """Translate what the SDK raised, after retries, into the API contract's codes."""
    if isinstance(exc, httpx2.TimeoutException):
        return EngineError(TIMEOUT, TIMEOUT_MESSAGE, retryable=True)
    if isinstance(exc, httpx2.TransportError):
        return EngineError(UNKNOWN, CONNECTION_MESSAGE, retryable=True)
    if isinstance(exc, errors.APIError):
        return _api_error(exc, model)
    return EngineError(UNKNOWN, UNREADABLE_MESSAGE, retryable=True)  # JSON or schema the SDK rejected


def _api_error(exc: errors.APIError, model: str) -> EngineError:
    """HTTP errors by status; a 400 is about our images unless Google says the key is invalid."""
    if exc.code == 429:
        return EngineError(API_RATE_LIMIT, RATE_LIMIT_MESSAGE, retryable=True)
    if exc.code == 504:
        return EngineError(TIMEOUT, TIMEOUT_MESSAGE, retryable=True)
    if exc.code >= 500:
        return EngineError(UNKNOWN, UNAVAILABLE_MESSAGE, retryable=True)
    if exc.code in (401, 403) or (exc.code == 400 and "API key" in (exc.message or "")):
        return EngineError(UNKNOWN, KEY_REFUSED_MESSAGE)
    if exc.code == 400:
        return EngineError(INVALID_IMAGE, INVALID_IMAGE_MESSAGE)
    if exc.code == 404:
        return EngineError(UNKNOWN, MODEL_MISSING_MESSAGE.format(model=model))
    return EngineError(UNKNOWN, UNEXPECTED_MESSAGE.format(code=exc.code))


class _NoImage(EngineError):
    """An answer without a usable image that is worth asking for once more (not a policy refusal)."""

    def __init__(self, message: str, said: str = ""):
        super().__init__(UNKNOWN, message, retryable=True, said=said)


def _extract_image(response: types.GenerateContentResponse) -> Image.Image:
    """The final image of the first candidate; a refusal or a missing image is an error, never empty.
    What the model wrote instead of drawing goes with the error, in its own words."""
    if not response.candidates:
        feedback = response.prompt_feedback
        if feedback and feedback.block_reason:
            reason = _name(feedback.block_reason)
            raise EngineError(CONTENT_POLICY, CONTENT_POLICY_MESSAGE.format(reason=reason))
        raise _NoImage(NO_IMAGE_MESSAGE.format(reason="no candidates"))
    candidate = response.candidates[0]
    data = _last_image_bytes(candidate)
    if data is not None:
        return _decode_image(data)
    reason = _name(candidate.finish_reason) if candidate.finish_reason else "no reason given"
    said = _said(candidate)
    if reason in POLICY_FINISH_REASONS:
        raise EngineError(CONTENT_POLICY, CONTENT_POLICY_MESSAGE.format(reason=reason), said=said)
    message = ANSWERED_IN_WORDS_MESSAGE if said else NO_IMAGE_MESSAGE
    raise _NoImage(message.format(reason=reason), said)


def _said(candidate: types.Candidate) -> str:
    """The model's own words: its text parts that are not thoughts, shortened to SAID_MAX_CHARS. (Its
    finishMessage would be another source, but google-genai 3.6.1 does not read it from the reply.)"""
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    text = "\n".join(part.text.strip() for part in parts if part.text and part.text.strip() and not part.thought)
    return text if len(text) <= SAID_MAX_CHARS else text[:SAID_MAX_CHARS - 1].rstrip() + "…"


def _last_image_bytes(candidate: types.Candidate) -> bytes | None:
    """The last image part that is not a thought: parts marked `thought` are interim drafts."""
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    images = [part.inline_data.data for part in parts
              if part.inline_data and part.inline_data.data and not part.thought]
    return images[-1] if images else None


def _decode_image(data: bytes) -> Image.Image:
    """Decode by magic bytes, not by the declared MIME type: JPEG bytes come labelled image/png."""
    fmt = _sniff_format(data)
    if fmt is None:
        raise _NoImage(UNREADABLE_MESSAGE)
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        logger.warning("Gemini returned undecodable %s bytes: %r", fmt, exc)
        raise _NoImage(UNREADABLE_MESSAGE) from exc
    return image if image.mode == "RGB" else image.convert("RGB")


def _sniff_format(data: bytes) -> str | None:
    """The Pillow format name for the image formats Gemini is known to return."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def _failed_call_outcome(exc: Exception) -> str:
    if isinstance(exc, errors.APIError):
        return f"http_{exc.code}"
    if isinstance(exc, httpx2.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx2.TransportError):
        return "connection"
    return "invalid_reply"  # the SDK could not parse the reply


def _usage(response: types.GenerateContentResponse) -> Usage:
    """Tokens of one call (thinking is billed as output) and its estimated cost: an answer with an image
    is billed per image, one without it (a refusal in words) by its output tokens."""
    meta = response.usage_metadata
    input_tokens = (meta.prompt_token_count or 0) if meta else 0
    output_tokens = (
        (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0) if meta else 0
    )
    drew = bool(response.candidates) and _last_image_bytes(response.candidates[0]) is not None
    cost = pricing.call_cost(input_tokens) if drew else pricing.text_call_cost(input_tokens, output_tokens)
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost)


def _name(value: Any) -> str:
    """An SDK enum's wire name (FinishReason.IMAGE_SAFETY -> "IMAGE_SAFETY"), or the raw string."""
    return str(getattr(value, "value", value))
