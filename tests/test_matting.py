"""Background removal on synthetic product shots whose true masks are known."""
from __future__ import annotations

import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from mockup.engines.base import GenerationRequest
from mockup.engines.local import LocalEngine
from mockup.imaging import segmentation
from mockup.imaging.matting import cut_out, cut_out_character
from tests import matting_cases
from tests.conftest import png_bytes

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


# The product-shot set of tests/matting_cases.py: photographic shading, studio sweeps, contact shadows,
# sensor noise and JPEG, with the true coverage known. bench/matting_bench.py measures the same set.

SET_SIZE = 768


@lru_cache(maxsize=1)
def shot_set() -> dict[str, matting_cases.Case]:
    return {case.name: case for case in matting_cases.cases(SET_SIZE)}


@lru_cache(maxsize=None)
def cut(name: str) -> tuple[np.ndarray, np.ndarray]:
    """The cut-out of one case as (RGB, alpha 0..1), made once for all the tests that look at it."""
    case = shot_set()[name]
    result = cut_out_character(case.image) if case.kind == "character" else cut_out(case.image)
    rgba = np.asarray(result)
    return rgba[..., :3], rgba[..., 3].astype(np.float32) / 255.0


CASE_NAMES = [make(64).name for make in matting_cases.ALL]
HOLE_CASES = [name for name in CASE_NAMES if shot_set()[name].holes]
SHADOW_CASES = [name for name in CASE_NAMES if shot_set()[name].shadow is not None]


def _at(alpha: np.ndarray, point: tuple[float, float], radius: int = 3) -> np.ndarray:
    x, y = round(point[0] * alpha.shape[1]), round(point[1] * alpha.shape[0])
    return alpha[y - radius:y + radius + 1, x - radius:x + radius + 1]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_every_shot_of_the_set_is_cut_out_along_its_true_silhouette(name):
    _, alpha = cut(name)
    assert matting_cases.iou(alpha, shot_set()[name].alpha) >= 0.95


def test_the_set_as_a_whole_reaches_the_target_mean():
    ious = [matting_cases.iou(cut(name)[1], shot_set()[name].alpha) for name in CASE_NAMES]
    assert np.mean(ious) >= 0.97


@pytest.mark.parametrize("name", CASE_NAMES)
def test_a_subject_is_opaque_away_from_its_outline(name):
    """Partial alpha belongs to edges; inside a solid product or a character it would let the page show
    through a print or a highlight."""
    _, alpha = cut(name)
    inside = cv2.erode((shot_set()[name].alpha > 0.99).astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    assert np.mean(alpha[inside] == 1.0) > 0.999


def test_the_networks_doubts_inside_a_product_do_not_make_it_see_through():
    """The local engine's transparent previews: on the second one the network is only 70 % sure of the
    pasted pink disc (a soft shadow rings it). The whole product still comes out opaque."""
    request = GenerationRequest(mode="ip-change", source=Image.open(io.BytesIO(png_bytes((320, 240)))),
                                character=Image.open(io.BytesIO(png_bytes((240, 240), (250, 120, 160)))),
                                transparent_background=True, candidates=2)
    for preview in LocalEngine().generate(request).images:
        rgb = np.asarray(preview.convert("RGB")).astype(np.int32)
        product = np.abs(rgb - rgb[0, 0]).sum(axis=2) > 40
        inside = cv2.erode(product.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        assert np.asarray(cut_out(preview).getchannel("A"))[inside].min() == 255


@pytest.mark.parametrize("name", HOLE_CASES)
def test_holes_inside_products_are_see_through(name):
    _, alpha = cut(name)
    for point in shot_set()[name].holes:
        assert _at(alpha, point).max() == 0.0, point


@pytest.mark.parametrize("name", SHADOW_CASES)
def test_contact_shadows_are_not_part_of_the_product(name):
    _, alpha = cut(name)
    shadow = shot_set()[name].shadow
    away_from_edge = shadow & (cv2.distanceTransform((shot_set()[name].alpha < 0.01).astype(np.uint8),
                                                     cv2.DIST_L2, 5) > 4)
    assert np.count_nonzero(away_from_edge) > 100
    assert np.mean(alpha[away_from_edge] < 0.1) > 0.98


@pytest.mark.parametrize("name", [n for n in CASE_NAMES if n != "plush toy with fuzzy edges"])
def test_silhouettes_are_anti_aliased_not_stair_stepped(name):
    _, alpha = cut(name)
    truth = shot_set()[name].alpha
    edge = (truth > 0.1) & (truth < 0.9)
    partial = (alpha > 0.02) & (alpha < 0.98)
    assert np.mean(partial[edge]) >= 0.5
    # and the edge is where it should be: the alpha error there stays well under a hard mask's
    assert np.abs(alpha - truth)[edge].mean() < 0.3


def test_fuzzy_plush_edges_come_out_soft():
    _, alpha = cut("plush toy with fuzzy edges")
    truth = shot_set()["plush toy with fuzzy edges"].alpha
    fur = (truth > 0.05) & (truth < 0.95)
    assert np.mean((alpha[fur] > 0.02) & (alpha[fur] < 0.98)) >= 0.5
    assert matting_cases.sad(alpha, truth) < matting_cases.sad((alpha >= 0.5).astype(np.float32), truth)


@pytest.mark.parametrize("name", [name for name in CASE_NAMES if shot_set()[name].enclosed])
def test_white_areas_enclosed_by_a_drawing_or_a_print_stay_opaque(name):
    """A character's white eyes and belly; a printed character's on a white mug; the inside of a
    printed "O": all enclosed by lines, none of them a hole."""
    case = shot_set()[name]
    _, alpha = cut(name)
    for point in case.enclosed:
        assert _at(alpha, point).min() == 1.0, point


def test_a_white_print_on_a_dark_product_is_kept_not_taken_for_a_hole():
    _, alpha = cut("navy mug with a white label")
    assert _at(alpha, (0.44, 0.52), radius=20).min() == 1.0


def test_edge_pixels_lose_the_backdrop_colour():
    """Decontamination: on a red product shot on white, the partly transparent edge pixels are redder
    than the photo's (which mix in the white), so the cut-out shows no pale fringe on a dark page."""
    photo, coverage = product_shot("ellipse", (255, 255, 255), (205, 45, 40))
    result = np.asarray(cut_out(photo)).astype(np.float32)
    alpha = result[..., 3] / 255.0
    edge = (alpha > 0.2) & (alpha < 0.8)
    assert np.count_nonzero(edge) > 50
    def whiteness(rgb):
        return rgb[..., 1:].mean(axis=-1)  # green and blue: what white adds to red
    assert whiteness(result[..., :3][edge]).mean() < whiteness(np.asarray(photo, np.float32)[edge]).mean() - 20


def test_a_model_file_of_the_operators_choice_takes_the_same_path(tmp_path):
    """MATTING_MODEL: any ONNX file of the same contract; here the packaged one under another name."""
    own = tmp_path / "my-model.onnx"
    shutil.copyfile(segmentation.default_model_path(), own)
    photo = shot_set()["white mug on white"].image
    try:
        segmentation.use_model(str(own))
        assert segmentation.model_path() == own
        chosen = np.asarray(cut_out(photo))
    finally:
        segmentation.use_model("")
    assert np.array_equal(chosen, np.asarray(cut_out(photo)))


def test_a_missing_model_file_is_reported_by_name(tmp_path):
    try:
        segmentation.use_model(str(tmp_path / "nowhere.onnx"))
        with pytest.raises(segmentation.ModelMissing, match="nowhere.onnx"):
            cut_out(shot_set()["white mug on white"].image)
    finally:
        segmentation.use_model("")


def test_the_model_is_loaded_once_per_process_even_by_racing_threads():
    with ThreadPoolExecutor(4) as pool:
        sessions = list(pool.map(lambda _: segmentation.segmenter(), range(8)))
    assert all(session is sessions[0] for session in sessions)


def test_the_packaged_model_is_found_through_its_distribution():
    path = segmentation.default_model_path()
    assert path.name == "u2netp.onnx" and path.is_file() and path.stat().st_size > 4_000_000
