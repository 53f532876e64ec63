"""Which plain background to ask an image model for when the result will be cut out (transparent output).

No image model returns alpha, so a transparent generation asks for a plain uniform background and
cuts the product out of it (DESIGN.md section 5). The cut is easiest when the background's colour is
far from every colour of the product: a white mug on white is the case that fails. The product's
colours are taken from the source image (the product photo, or the sketch) through the same
segmentation as the cut-out itself, on a small copy.

Only neutral greys are offered: a coloured backdrop (chroma green) tints a glossy product's
reflections, and that tint would stay in the cut-out. bench/matting_bench.py measures the choice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import matting

ANALYSIS_SIDE = 320  # the segmentation works at this size anyway; colours need no more
NEAR_LAB = 15.0  # a product pixel this close (Lab units) to the backdrop is hard to tell from it


@dataclass(frozen=True)
class Backdrop:
    name: str
    rgb: tuple[int, int, int]

    @property
    def hex(self) -> str:
        return "#{:02X}{:02X}{:02X}".format(*self.rgb)


WHITE = Backdrop("white", (255, 255, 255))
MID_GREY = Backdrop("mid grey", (128, 128, 128))
CHARCOAL = Backdrop("charcoal grey", (45, 45, 45))
BACKDROPS = (WHITE, MID_GREY, CHARCOAL)  # in order of preference when several do equally well


def contrasting_backdrop(source: Image.Image) -> Backdrop:
    """The backdrop that the fewest of the product's pixels resemble."""
    product = product_colours(source)
    if product.size == 0:
        return MID_GREY
    scores = [np.mean(np.linalg.norm(product - matting.to_lab(np.array([[b.rgb]], np.uint8))[0, 0], axis=1) < NEAR_LAB)
              for b in BACKDROPS]
    return BACKDROPS[int(np.argmin(scores))]


def product_colours(source: Image.Image) -> np.ndarray:
    """Lab colours (N x 3) of the pixels the segmentation is sure belong to the product."""
    small = source.convert("RGB")
    small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
    rgb = np.asarray(small)
    alpha = matting.foreground_alpha(rgb)
    return matting.to_lab(rgb)[alpha > 0.9] if np.any(alpha < 0.5) else np.empty((0, 3), np.float32)
