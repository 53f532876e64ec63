"""The structure check (mockup/imaging/structure.py) on the generated pairs of tests/structure_pairs.py:
every pair where the product survived scores above the warning threshold, every pair where it changed
below it, and odd input never raises."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mockup.imaging.structure import WARNING_BELOW, character_region, delta_e_2000, structure_score
from tests import structure_pairs

PAIRS = structure_pairs.pairs()


def _check(pair: structure_pairs.Pair):
    return structure_score(structure_pairs.render(pair.source), structure_pairs.render(pair.result),
                           structure_pairs.print_mask(pair.source))


def test_the_calibration_set_is_broad():
    kinds = {pair.source.kind for pair in PAIRS}
    assert kinds == set(structure_pairs.KINDS)
    assert sum(pair.kept for pair in PAIRS) >= 50 and sum(not pair.kept for pair in PAIRS) >= 50


@pytest.mark.parametrize("pair", [pair for pair in PAIRS if pair.kept], ids=lambda pair: pair.name)
def test_a_kept_product_scores_above_the_threshold(pair):
    check = _check(pair)
    assert check.score >= WARNING_BELOW and not check.warning, check.details


@pytest.mark.parametrize("pair", [pair for pair in PAIRS if not pair.kept], ids=lambda pair: pair.name)
def test_a_changed_product_scores_below_the_threshold(pair):
    check = _check(pair)
    assert check.score < WARNING_BELOW and check.warning, check.details


def test_the_detected_character_region_lets_a_new_character_pass():
    base = structure_pairs.BASES[1]  # a navy mug with a bear print
    source = structure_pairs.render(base)
    other = structure_pairs.render(structure_pairs._apply(base, {"character": "next", "seed": 5}))
    region = character_region(source)
    x0, y0, x1, y1 = structure_pairs.print_box(base)
    assert region[(y0 + y1) // 2, (x0 + x1) // 2]  # the print's centre is inside the region found
    assert structure_score(source, other, region).score >= WARNING_BELOW
    assert structure_score(source, other).score < 1.0  # without the exclusion the swap counts


def test_identical_images_score_one():
    image = structure_pairs.render(structure_pairs.BASES[3])
    assert structure_score(image, image).score == pytest.approx(1.0)


def test_other_size_and_aspect_ratio_and_rgba():
    base = structure_pairs.BASES[0]
    source = structure_pairs.render(base)
    result = structure_pairs.render(structure_pairs._apply(base, {"seed": 9})).resize((700, 700))
    assert structure_score(source, result).score >= WARNING_BELOW
    wider = structure_pairs.render(structure_pairs._apply(base, {"crop": (0.0, 0.03, 0.0, 0.03),
                                                                   "keep_crop_size": True}))
    assert structure_score(source, wider).score >= WARNING_BELOW
    rgba = result.convert("RGBA")
    check = structure_score(source.convert("RGBA"), rgba)
    assert check.score >= WARNING_BELOW


@pytest.mark.parametrize("source_size, result_size", [((4, 4), (512, 512)), ((512, 512), (3, 7)), ((1, 1), (1, 1))])
def test_tiny_images_score_low_without_raising(source_size, result_size):
    check = structure_score(Image.new("RGB", source_size, "white"), Image.new("RGB", result_size, "white"))
    assert check.score == 0.0 and check.warning and check.details["aligned"] is False


def test_blank_images_score_low_without_raising():
    check = structure_score(Image.new("RGB", (300, 200), "white"), Image.new("RGB", (300, 200), "white"))
    assert check.score == 0.0 and check.warning


def test_unrelated_images_fail_to_register_and_score_low():
    source = structure_pairs.render(structure_pairs.BASES[0])
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 255, (512, 512, 3), dtype=np.uint8))
    check = structure_score(source, noise)
    assert check.score < WARNING_BELOW and check.warning


def test_an_exclusion_covering_everything_scores_low():
    image = structure_pairs.render(structure_pairs.BASES[2])
    check = structure_score(image, image, np.ones((image.height, image.width), bool))
    assert check.score == 0.0 and check.warning


def test_ciede2000_matches_published_values():
    # Sharma, Wu and Dalal (2005), test data pairs 1, 7, 17 and 25.
    first = np.array([[50, 2.6772, -79.7751], [50, 0, 0], [50, 2.5, 0], [60.2574, -34.0099, 36.2677]])
    second = np.array([[50, 0, -82.7485], [50, -1, 2], [73, 25, -18], [60.4626, -34.1751, 39.4387]])
    assert delta_e_2000(first, second) == pytest.approx([2.0425, 2.3669, 27.1492, 1.2644], abs=1e-4)
