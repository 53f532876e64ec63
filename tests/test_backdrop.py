"""The plain background a transparent generation asks for: the one the product contrasts with most."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mockup.imaging import backdrop
from mockup.imaging.backdrop import CHARCOAL, WHITE, contrasting_backdrop
from tests import matting_cases


@pytest.mark.parametrize("make", [matting_cases.white_mug_on_white, matting_cases.white_mug_on_grey_seamless,
                                  matting_cases.ring_keychain, matting_cases.cream_on_cream])
def test_light_products_get_a_dark_backdrop(make):
    assert contrasting_backdrop(make(320).image) != WHITE


def test_a_black_product_gets_a_light_backdrop():
    assert contrasting_backdrop(matting_cases.dark_on_dark(320).image) != CHARCOAL


def test_the_choice_comes_from_the_product_not_from_the_photos_own_background():
    """A red box photographed on charcoal: nothing of the product is near white, the first choice."""
    photo = Image.new("RGB", (320, 320), CHARCOAL.rgb)
    photo.paste((200, 40, 36), (90, 70, 230, 260))
    assert contrasting_backdrop(photo) == WHITE


def test_a_picture_without_a_separable_subject_gets_the_neutral_middle():
    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8))
    assert contrasting_backdrop(noise) in backdrop.BACKDROPS
