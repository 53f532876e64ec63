"""Pictures for the region-edit tests: photo-like content, where any stray change shows up in a
bit-for-bit comparison, brush-like masks, and the "certainly beyond the feather" area to compare; and
character art with white areas inside its outline, for the character cut-out."""
from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageDraw

from mockup.imaging import regions
from mockup.imaging.regions import FEATHER_PX


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """A synthetic product shot: a lit backdrop, a shaded body with a printed pattern, grain."""
    width, height = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    backdrop = np.dstack([200 - 60 * y / height, 190 - 30 * x / width, 170 + 40 * y / height])
    body = ((x - 0.55 * width) / (0.3 * width)) ** 2 + ((y - 0.5 * height) / (0.35 * height)) ** 2 < 1
    shading = (0.6 + 0.4 * np.cos((x - 0.45 * width) / width * np.pi))[..., None]
    pattern = 25 * np.sin(x / 7.0) * np.cos(y / 11.0)
    product = np.dstack([150 + pattern, 60 + pattern / 2, 80 - pattern]) * shading
    pixels = np.where(body[..., None], product, backdrop) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def irregular_mask(size: tuple[int, int]) -> Image.Image:
    """A lumpy blob plus a thick free-hand stroke, as a brush would paint them."""
    width, height = size
    mask = np.zeros((height, width), np.uint8)
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    radii = 0.12 * min(size) * (1 + 0.35 * np.sin(3 * angles) + 0.2 * np.cos(7 * angles))
    blob = np.stack([0.35 * width + radii * np.cos(angles), 0.4 * height + radii * np.sin(angles)], 1)
    cv2.fillPoly(mask, [blob.astype(np.int32)], 255)
    stroke = np.array([[0.5 * width, 0.8 * height], [0.62 * width, 0.7 * height], [0.7 * width, 0.78 * height],
                       [0.85 * width, 0.6 * height]], np.int32)
    cv2.polylines(mask, [stroke], False, 255, thickness=max(3, min(size) // 25), lineType=cv2.LINE_AA)
    return Image.fromarray(mask, "L")


def beyond_feather(mask: Image.Image, feather_px: int = FEATHER_PX) -> np.ndarray:
    """Pixels whose distance from the mask is certainly above `feather_px`: outside a square of radius
    `feather_px` around every mask pixel (computed independently of the implementation's distance map)."""
    kernel = np.ones((2 * feather_px + 1, 2 * feather_px + 1), np.uint8)
    return cv2.dilate(regions.selected(mask).astype(np.uint8), kernel) == 0


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


CHARACTER_EYE = (90, 96)  # (x, y) of a white eye of character_art(), fully inside the outline


def character_art() -> bytes:
    """A pink character on a white sheet with white eyes inside its outline (PNG, 240x240): the case a
    careless cut-out punches holes through."""
    image = Image.new("RGB", (240, 240), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((30, 30, 210, 210), fill=(235, 110, 150), outline=(40, 20, 30), width=4)
    for x in (90, 150):
        draw.ellipse((x - 16, 80, x + 16, 112), fill=(255, 255, 255))
    return png(image)
