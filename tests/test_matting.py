"""Background removal on synthetic product shots whose true masks are known."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from mockup.imaging.matting import cut_out

SUPERSAMPLE = 4  # shapes are drawn large and shrunk, so their edges are anti-aliased like a photo's


def draw_shape(shape: str, size: tuple[int, int]) -> np.ndarray:
    """Coverage (0..1) of a product silhouette: an ellipse, a rounded rectangle, or a mug with a handle."""
    w, h = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    canvas = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(canvas)
    if shape == "ellipse":
        draw.ellipse((0.2 * w, 0.12 * h, 0.8 * w, 0.9 * h), fill=255)
    elif shape == "rounded":
        draw.rounded_rectangle((0.25 * w, 0.15 * h, 0.75 * w, 0.85 * h), radius=0.08 * w, fill=255)
    else:  # mug: body plus a ring handle whose hole must stay background
        draw.rounded_rectangle((0.22 * w, 0.2 * h, 0.62 * w, 0.85 * h), radius=0.03 * w, fill=255)
        draw.ellipse((0.5 * w, 0.35 * h, 0.82 * w, 0.7 * h), fill=255)
        draw.ellipse((0.62 * w, 0.43 * h, 0.74 * w, 0.62 * h), fill=0)
    small = canvas.resize(size, Image.Resampling.BOX)
    return np.asarray(small, np.float32) / 255.0


def product_shot(shape: str, background: tuple[int, int, int], colour: tuple[int, int, int],
                 size: tuple[int, int] = (640, 480)) -> tuple[Image.Image, np.ndarray]:
    """A shaded product (lit from the top left, darker towards the far side) on a plain backdrop,
    with a little sensor noise; returns the photo and the true coverage."""
    coverage = draw_shape(shape, size)
    yy, xx = np.mgrid[0:size[1], 0:size[0]].astype(np.float32)
    shading = 0.6 + 0.45 * (1.0 - np.hypot(xx / size[0] - 0.35, yy / size[1] - 0.3))
    product = np.clip(np.array(colour, np.float32) * shading[..., None], 0, 255)
    photo = product * coverage[..., None] + np.array(background, np.float32) * (1 - coverage[..., None])
    photo += np.random.default_rng(3).normal(0.0, 1.5, photo.shape)
    return Image.fromarray(np.clip(np.rint(photo), 0, 255).astype(np.uint8)), coverage


CASES = {
    "red ellipse on white": ("ellipse", (255, 255, 255), (205, 45, 40)),
    "light ceramic mug on white": ("mug", (252, 252, 252), (232, 230, 226)),
    "sand rounded box on grey": ("rounded", (128, 128, 128), (228, 200, 140)),
    "yellow ellipse on green": ("ellipse", (40, 170, 70), (245, 215, 60)),
    "white mug on green": ("mug", (40, 170, 70), (245, 245, 245)),
    "orange rounded box on dark blue": ("rounded", (20, 30, 90), (240, 140, 40)),
    "grey-blue ellipse on dark blue": ("ellipse", (20, 30, 90), (150, 165, 190)),
}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a & b) / np.count_nonzero(a | b))


@pytest.mark.parametrize("shape, background, colour", CASES.values(), ids=CASES.keys())
def test_cut_out_matches_the_true_mask(shape, background, colour):
    photo, coverage = product_shot(shape, background, colour)
    result = cut_out(photo)
    assert result.mode == "RGBA" and result.size == photo.size
    alpha = np.asarray(result.getchannel("A")).astype(np.float32) / 255.0
    assert iou(alpha >= 0.5, coverage >= 0.5) >= 0.97
    # Colours are untouched except at the edge, where the backdrop's share is taken out (decontamination).
    settled = (alpha == 0.0) | (alpha == 1.0)
    assert np.array_equal(np.asarray(result.convert("RGB"))[settled], np.asarray(photo)[settled])


@pytest.mark.parametrize("shape, background, colour", CASES.values(), ids=CASES.keys())
def test_edges_are_partially_transparent(shape, background, colour):
    photo, coverage = product_shot(shape, background, colour)
    alpha = np.asarray(cut_out(photo).getchannel("A"))
    edge = (coverage > 0.1) & (coverage < 0.9)
    partial = (alpha > 5) & (alpha < 250)
    assert np.count_nonzero(partial[edge]) >= 0.8 * np.count_nonzero(edge)
    inner = cv2.erode((coverage > 0.99).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    outer = cv2.erode((coverage < 0.01).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert np.mean(alpha[inner] == 255) > 0.99 and np.mean(alpha[outer] == 0) > 0.99


def test_the_hole_of_a_handle_stays_transparent():
    photo, coverage = product_shot("mug", (255, 255, 255), (200, 60, 50))
    alpha = np.asarray(cut_out(photo).getchannel("A"))
    height, width = coverage.shape
    assert alpha[round(0.52 * height), round(0.68 * width)] == 0


def test_enclosed_background_coloured_areas_can_be_kept_for_character_art():
    art = Image.new("RGB", (400, 400), "white")
    ImageDraw.Draw(art).ellipse((60, 60, 340, 340), fill="white", outline=(20, 20, 20), width=14)
    assert np.asarray(cut_out(art).getchannel("A"))[200, 200] == 0
    assert np.asarray(cut_out(art, fill_enclosed=True).getchannel("A"))[200, 200] == 255


def test_existing_transparency_is_kept_as_it_is():
    art = Image.new("RGBA", (120, 90), (0, 0, 0, 0))
    ImageDraw.Draw(art).ellipse((20, 10, 100, 80), fill=(10, 200, 90, 255))
    assert np.array_equal(np.asarray(cut_out(art)), np.asarray(art))


def test_cut_out_is_deterministic():
    photo, _ = product_shot("rounded", (128, 128, 128), (228, 200, 140))
    assert np.array_equal(np.asarray(cut_out(photo)), np.asarray(cut_out(photo)))


def test_a_frame_filling_subject_stays_opaque_rather_than_vanishing():
    photo = Image.fromarray(np.random.default_rng(5).integers(0, 256, (120, 160, 3), dtype=np.uint8))
    alpha = np.asarray(cut_out(photo).getchannel("A"))
    assert alpha.mean() > 128
