"""The one interface every image generator implements.

Engines receive decoded, already-validated Pillow images and return Pillow images; they never touch
the database or the disk, so the job layer decides where and when results are written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from PIL import Image

from ..errors import API_RATE_LIMIT, CONTENT_POLICY, INVALID_IMAGE, TIMEOUT, UNKNOWN, JobFailed
from ..models import CHARACTER_IMAGES_MAX

__all__ = ["API_RATE_LIMIT", "CONTENT_POLICY", "INVALID_IMAGE", "MAX_CHARACTER_IMAGES", "MAX_REFERENCE_IMAGES",
           "TIMEOUT", "UNKNOWN", "CharacterView", "EditRequest", "Engine", "EngineError", "GenerationRequest",
           "GenerationResult", "ImageSize", "Mode", "Usage"]

Mode = Literal["ip-change", "sketch-to-real"]
ImageSize = Literal["1K", "2K"]
# Gemini's image model takes up to 14 reference images per call, of which about 5 keep a character (or
# person) consistent: the reason a character sheet has at most 5 images (models.CHARACTER_IMAGES_MAX).
MAX_REFERENCE_IMAGES = 14
MAX_CHARACTER_IMAGES = CHARACTER_IMAGES_MAX


@dataclass(frozen=True)
class CharacterView:
    """One more reference image of the character, with the view it shows (front, side, back...)."""

    image: Image.Image
    view: str


@dataclass(frozen=True)
class GenerationRequest:
    """`character` is the character's first reference image (`character_view` says what it shows; the
    local engine uses it alone); `more_views` are the sheet's other images, in order, and
    `character_description` its words, all sent to models that take several images."""

    mode: Mode
    source: Image.Image
    character: Image.Image | None = None
    texture: Image.Image | None = None
    prompt: str = ""
    preserve_structure: bool = True
    transparent_background: bool = False
    candidates: int = 2
    character_view: str = "front"
    more_views: tuple[CharacterView, ...] = ()
    character_description: str = ""
    image_size: ImageSize = "1K"

    def character_views(self) -> list[CharacterView]:
        """Every character image of an IP change, first one first (none without a character)."""
        if self.mode != "ip-change" or self.character is None:
            return []
        return [CharacterView(self.character, self.character_view), *self.more_views]


@dataclass(frozen=True)
class EditRequest:
    """Change one region of an image. `mask` is an "L" image the size of `image`, white where the edit
    goes; `marked` is `image` with that region visibly marked, for models that take no mask.

    Engines return whole images; blending them into `image` only inside the mask is the job layer's
    work (mockup.imaging.regions.composite_edit), so no engine can change a pixel outside the region.
    """

    image: Image.Image
    mask: Image.Image
    marked: Image.Image
    instruction: str
    candidates: int = 2


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: "Usage") -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd


@dataclass
class GenerationResult:
    images: list[Image.Image]
    usage: Usage = field(default_factory=Usage)


class EngineError(JobFailed):
    """A generation that failed, with a code from the API contract and a sentence a designer understands.
    `said` is the model's own words when it answered with text instead of an image; `usage` is what the
    calls made for the failed request were billed (a model's answer costs tokens, image or not)."""

    def __init__(self, code: str, message: str, *, retryable: bool = False, detail: str = "", said: str = "",
                 usage: Usage | None = None):
        super().__init__(code, message, retryable=retryable, detail=detail)
        self.said = said
        self.usage = usage or Usage()


class Engine(Protocol):
    name: str

    def generate(self, request: GenerationRequest) -> GenerationResult: ...

    def edit(self, request: EditRequest) -> GenerationResult: ...
