"""The offline engine: deterministic compositing instead of AI (DESIGN.md section 5, `local`).

It lets the whole product run with no API key and in tests, and its results are labelled "local
preview" in the UI. It is honest about what it does: IP change really swaps the print on the product for
the chosen character, and sketch to real really renders the sketch's own shapes. The candidates differ in
placement and lighting (IP change) or in material and light (sketch), so choosing between them means
something. The same request always gives the same pixels. The text prompt of a generation is not
interpreted; an edit's instruction is read only for a removal verb (paint out) or a colour name (recolour),
anything else is refused with a sentence saying so, and the two candidates are two honest variants of
that one operation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageEnhance

from mockup.engines.base import INVALID_IMAGE, EditRequest, EngineError, GenerationRequest, GenerationResult
from mockup.engines.colour_words import asks_to_remove, named_colour
from mockup.imaging import compose, retouch, sketch
from mockup.imaging.formats import flatten
from mockup.imaging.matting import cut_out, foreground_alpha
from mockup.imaging.upscale import TARGET_LONG_SIDE

OUTPUT_LONG_SIDE = 1024  # what Gemini returns at "1K"
# The long side of each image_size; at 2K the local engine renders at the long side a 2K download has.
LONG_SIDES = {"1K": OUTPUT_LONG_SIDE, "2K": TARGET_LONG_SIDE}
# Removal variants: Telea's method with a tight radius, then Navier-Stokes drawing from further out.
REMOVALS = ((False, 5), (True, 9))
UNSUPPORTED_EDIT = ("The local preview can only remove what is in the region (\"remove the logo\") or give it "
                    "a named colour (\"make it blue\"); this instruction needs the AI engine.")
TEXTURE_OPACITY = 0.25  # a hint of the reference material; the photo stays in charge


@dataclass(frozen=True)
class Placement:
    """How one IP-change candidate places the character: size relative to the detected region,
    offset as a fraction of the region, how strongly it takes on the surface's light, edge softness,
    and whether it casts a shadow (reads as a sticker or an acrylic layer)."""

    scale: float
    shift: tuple[float, float]
    lighting: float
    edge_sigma: float
    shadow: bool


def placement(index: int) -> Placement:
    """Candidate 1 sits exactly in the old print's place; later ones grow, rise and light differently."""
    if index == 0:
        return Placement(scale=1.0, shift=(0.0, 0.0), lighting=0.9, edge_sigma=0.8, shadow=False)
    return Placement(scale=1.0 + 0.18 * index, shift=(0.04 * (-1) ** index, -0.06 * index),
                     lighting=0.45 / index, edge_sigma=1.4, shadow=True)


class LocalEngine:
    name = "local"

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Render `request.candidates` images at the source's aspect ratio, long side 1024 px (2048 at
        2K). Of a character sheet only the first picture is used: compositing needs one."""
        source = compose.resize_long_side(flatten(request.source), LONG_SIDES[request.image_size])
        if request.mode == "ip-change":
            images = self._ip_change(request, source)
        elif request.mode == "sketch-to-real":
            images = self._sketch_to_real(request, source)
        else:
            raise EngineError(INVALID_IMAGE, f"Unknown generation mode {request.mode!r}.")
        if not request.preserve_structure:
            images = [_stylise(image) for image in images]
        return GenerationResult(images=images)

    def edit(self, request: EditRequest) -> GenerationResult:
        """Paint the region out when the instruction asks for something to go ("remove the orange cat"
        is a removal, not an orange tint); recolour what it selects when it names a colour (candidate 1
        repaints, candidate 2 tints and keeps the lightness). Anything else is beyond an offline engine
        and fails with a sentence saying so. Images come back at the original's size; the job blends
        them in only inside the region."""
        if asks_to_remove(request.instruction):
            return GenerationResult(images=[_removed(request, index) for index in range(request.candidates)])
        colour = named_colour(request.instruction)
        if colour is None:
            raise EngineError(INVALID_IMAGE, UNSUPPORTED_EDIT)
        return GenerationResult(images=[
            retouch.recolour(request.image, request.mask, colour, keep_lightness=index % 2 == 1)
            for index in range(request.candidates)
        ])

    def _ip_change(self, request: GenerationRequest, source: Image.Image) -> list[Image.Image]:
        if request.character is None:
            raise EngineError(INVALID_IMAGE, "Choose a character to put on the product.")
        # The character never needs more pixels than the output has; this bounds the matting cost.
        character = compose.shrink_to(request.character, max(source.size))
        character = compose.crop_to_alpha(cut_out(character, fill_enclosed=True))
        rgb = np.asarray(source, np.float32)
        region = compose.detect_print_region(np.asarray(source))
        base = rgb
        if region.old_print is not None:
            base = compose.remove_print(base, region.old_print, region.product)
        if request.texture is not None:  # after the print is painted out, so its ghost is tinted too
            base = compose.texture_overlay(base, region.product, request.texture, TEXTURE_OPACITY)
        exposure = compose.exposure(base, region.product)
        if request.transparent_background:
            # Swap the backdrop before placing, so a character reaching past the product is never cut.
            base = compose.on_plain_background(base, foreground_alpha(np.asarray(source)))
        return [compose.to_image(_place(base, character, region.box, exposure, placement(index)))
                for index in range(request.candidates)]

    def _sketch_to_real(self, request: GenerationRequest, source: Image.Image) -> list[Image.Image]:
        drawing = sketch.analyse(source)
        return [
            sketch.render(drawing, sketch.look(index), texture=request.texture,
                          plain_background=request.transparent_background)
            for index in range(request.candidates)
        ]


def _removed(request: EditRequest, index: int) -> Image.Image:
    """One removal candidate: each uses another inpainting variant."""
    navier_stokes, radius = REMOVALS[index % len(REMOVALS)]
    return retouch.remove(request.image, request.mask, navier_stokes=navier_stokes, radius=radius)


def _place(base: np.ndarray, character: Image.Image, region: compose.Box, exposure: float,
           how: Placement) -> np.ndarray:
    """Fit, relight, shadow and blend the character into one candidate."""
    box = compose.fit_box(character.size, region, how.scale, how.shift)
    size = (box[2] - box[0], box[3] - box[1])
    resized = np.asarray(character.resize(size, Image.Resampling.LANCZOS), np.float32)
    alpha = compose.feather(resized[:, :, 3] / 255.0, how.edge_sigma)
    surface = compose.pixels_under(base, box)
    colours = compose.match_lighting(resized[:, :, :3], surface, exposure, how.lighting)
    out = base
    if how.shadow:
        reach = max(2, round(0.02 * max(size)))
        out = compose.drop_shadow(out, alpha, box, (reach, reach), blur=2.0 * reach, opacity=0.3)
    return compose.paste(out, colours, alpha, box)


def _stylise(image: Image.Image) -> Image.Image:
    """With structure preservation off, push colour and contrast like a more liberal re-render would."""
    return ImageEnhance.Contrast(ImageEnhance.Color(image).enhance(1.3)).enhance(1.1)
