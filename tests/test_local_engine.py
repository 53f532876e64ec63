"""The offline engine: honest, different, deterministic candidates in the right size."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mockup.engines.base import INVALID_IMAGE, EngineError, GenerationRequest
from mockup.engines.local import LocalEngine
from mockup.imaging import compose
from mockup.imaging.matting import cut_out

PRINT_BOX = (300, 240, 500, 470)  # where the old print sits on the mug, in source pixels (800x600)


def mug_photo(with_print: bool = True, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A shaded pale mug with a blue character printed on it, on a light studio backdrop."""
    width, height = size
    photo = Image.new("RGB", size, (244, 244, 246))
    body = Image.new("L", size, 0)
    draw = ImageDraw.Draw(body)
    draw.rounded_rectangle((220, 150, 580, 540), radius=14, fill=255)
    draw.ellipse((520, 240, 700, 440), outline=255, width=36)
    xx = np.arange(width, dtype=np.float32)
    shading = np.clip(0.62 + 0.42 * np.cos((xx - 360) / 260), 0.5, 1.02)
    ceramic = np.array((220, 228, 236), np.float32) * shading[None, :, None]
    ceramic = np.broadcast_to(ceramic, (height, width, 3))
    photo.paste(Image.fromarray(ceramic.astype(np.uint8)), mask=body)
    if with_print:
        draw = ImageDraw.Draw(photo)
        x0, y0, x1, y1 = PRINT_BOX
        draw.ellipse((x0 + 20, y0, x1 - 20, y0 + 160), fill=(30, 60, 190))
        draw.rectangle((x0 + 50, y0 + 150, x1 - 50, y1), fill=(30, 60, 190))
        draw.ellipse((x0 + 60, y0 + 50, x0 + 85, y0 + 80), fill="white")
    return photo


def character_art() -> Image.Image:
    """A red-headed, yellow-bodied character on white, the way character sheets are usually drawn."""
    art = Image.new("RGB", (300, 400), "white")
    draw = ImageDraw.Draw(art)
    draw.ellipse((50, 30, 250, 230), fill=(225, 35, 45), outline=(20, 20, 20), width=5)
    draw.ellipse((100, 100, 130, 140), fill="white", outline="black", width=3)
    draw.ellipse((170, 100, 200, 140), fill="white", outline="black", width=3)
    draw.rectangle((90, 225, 210, 380), fill=(250, 200, 40), outline=(20, 20, 20), width=5)
    return art


def sketch_drawing(size: tuple[int, int] = (900, 700)) -> Image.Image:
    """A pen sketch of a boxy gadget: outline, a dial, a coloured-in strip, a seam line."""
    drawing = Image.new("RGB", size, (250, 248, 243))
    draw = ImageDraw.Draw(drawing)
    draw.rounded_rectangle((200, 100, 700, 600), radius=50, outline=(35, 35, 35), width=5)
    draw.ellipse((350, 220, 550, 420), outline=(35, 35, 35), width=4)
    draw.rectangle((260, 490, 640, 550), outline=(35, 35, 35), width=4, fill=(110, 175, 230))
    draw.line((200, 170, 700, 170), fill=(35, 35, 35), width=3)
    return drawing


def request(mode: str = "ip-change", **overrides) -> GenerationRequest:
    source = mug_photo() if mode == "ip-change" else sketch_drawing()
    values = {"mode": mode, "source": source, "character": character_art(), **overrides}
    return GenerationRequest(**values)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, np.float32)


def redness(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] - (rgb[..., 1] + rgb[..., 2]) / 2


def blueness(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 2] - (rgb[..., 0] + rgb[..., 1]) / 2


def scaled(box: tuple[int, int, int, int], factor: float) -> tuple[int, ...]:
    return tuple(round(v * factor) for v in box)


@pytest.fixture(scope="module")
def engine() -> LocalEngine:
    return LocalEngine()


@pytest.mark.parametrize("mode", ["ip-change", "sketch-to-real"])
def test_two_different_candidates_at_the_source_aspect_with_long_side_1024(engine, mode):
    result = engine.generate(request(mode))
    source_size = request(mode).source.size
    expected = (1024, round(1024 * source_size[1] / source_size[0]))
    assert [image.size for image in result.images] == [expected, expected]
    assert all(image.mode == "RGB" for image in result.images)
    first, second = (pixels(image) for image in result.images)
    assert np.abs(first - second).mean() > 2.0  # visibly different, not noise
    assert np.mean(np.abs(first - second).max(axis=2) > 30) > 0.02
    assert result.usage.input_tokens == result.usage.output_tokens == 0 and result.usage.cost_usd == 0


@pytest.mark.parametrize("mode", ["ip-change", "sketch-to-real"])
def test_same_request_same_pixels(engine, mode):
    first = engine.generate(request(mode)).images
    second = engine.generate(request(mode)).images
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first, second))


def test_candidate_count_follows_the_request(engine):
    assert len(engine.generate(request(candidates=3)).images) == 3


def test_the_old_print_is_found():
    source = np.asarray(mug_photo())
    region = compose.detect_print_region(source)
    assert region.old_print is not None
    x0, y0, x1, y1 = region.box
    px0, py0, px1, py1 = PRINT_BOX
    overlap = max(0, min(x1, px1) - max(x0, px0)) * max(0, min(y1, py1) - max(y0, py0))
    union = (x1 - x0) * (y1 - y0) + (px1 - px0) * (py1 - py0) - overlap
    assert overlap / union > 0.8


def test_the_character_replaces_the_print(engine):
    result = engine.generate(request())
    factor = 1024 / 800
    x0, y0, x1, y1 = scaled(PRINT_BOX, factor)
    for image in result.images:
        spot = pixels(image)[y0:y1, x0:x1]
        assert np.mean(blueness(spot) > 60) < 0.01  # no trace of the old blue print
        assert np.mean(redness(spot) > 80) > 0.15  # the red head is there


def test_the_character_is_drawn_where_it_was_fitted_and_undistorted(engine):
    """Correlate the first candidate with the character's own red map, fitted into the detected region."""
    output = pixels(engine.generate(request()).images[0])
    source = compose.resize_long_side(mug_photo(), 1024)
    region = compose.detect_print_region(np.asarray(source))
    character = compose.crop_to_alpha(cut_out(character_art(), fill_enclosed=True))
    x0, y0, x1, y1 = compose.fit_box(character.size, region.box)
    expected = pixels(character.convert("RGB").resize((x1 - x0, y1 - y0)))
    correlation = np.corrcoef(redness(expected).ravel(), redness(output[y0:y1, x0:x1]).ravel())[0, 1]
    assert correlation > 0.9
    aspect = character.width / character.height
    assert abs((x1 - x0) / (y1 - y0) - aspect) < 0.02


def test_the_rest_of_the_photo_is_left_alone(engine):
    source = pixels(compose.resize_long_side(mug_photo(), 1024))
    output = pixels(engine.generate(request()).images[0])
    handle = (slice(round(250 * 1.28), round(430 * 1.28)), slice(round(640 * 1.28), round(700 * 1.28)))
    backdrop = (slice(0, 120), slice(0, 1024))
    for area in (handle, backdrop):
        assert np.abs(output[area] - source[area]).max() <= 2


def test_a_product_without_a_print_gets_the_character_in_its_centre(engine):
    output = pixels(engine.generate(request(source=mug_photo(with_print=False))).images[0])
    reds = np.argwhere(redness(output) > 80)
    centre_y, centre_x = reds.mean(axis=0) / 1.28
    assert 320 < centre_x < 480 and 250 < centre_y < 440  # the mug body spans x 220..580, y 150..540


def test_a_character_with_its_own_transparency_is_used_as_is(engine):
    art = character_art().convert("RGBA")
    art.putalpha(Image.eval(art.convert("L"), lambda v: 0 if v > 250 else 255))
    image = engine.generate(request(character=art)).images[0]
    x0, y0, x1, y1 = scaled(PRINT_BOX, 1024 / 800)
    assert np.mean(redness(pixels(image)[y0:y1, x0:x1]) > 80) > 0.15


def test_texture_changes_the_product_but_not_the_backdrop(engine):
    texture = Image.new("RGB", (64, 64), (150, 90, 40))
    plain = pixels(engine.generate(request()).images[0])
    textured = pixels(engine.generate(request(texture=texture)).images[0])
    mug_side = (slice(300, 700), slice(300, 340))
    assert np.abs(textured[mug_side] - plain[mug_side]).mean() > 5
    assert np.abs(textured[:100] - plain[:100]).max() <= 1


def test_turning_structure_preservation_off_restyles_the_result(engine):
    kept = pixels(engine.generate(request()).images[0])
    free = pixels(engine.generate(request(preserve_structure=False)).images[0])
    assert np.abs(kept - free).mean() > 2


def test_ip_change_needs_a_character(engine):
    with pytest.raises(EngineError) as caught:
        engine.generate(request(character=None))
    assert caught.value.code == INVALID_IMAGE


def test_sketch_is_rendered_not_copied(engine):
    source = pixels(compose.resize_long_side(sketch_drawing(), 1024))
    for image in engine.generate(request("sketch-to-real")).images:
        output = pixels(image)
        assert np.abs(output - source).mean() > 15
        body = output[300:500, 330:420]  # inside the outline, left of the dial
        assert body.std() > 4  # shaded and textured, not a flat fill
        assert np.abs(output[5:40, 5:40].mean() - output[-40:-5, 5:40].mean()) > 8  # studio sweep


def test_sketch_keeps_its_lines_and_colours(engine):
    factor = 1024 / 900
    output = pixels(engine.generate(request("sketch-to-real")).images[0])
    strip = output[round(505 * factor):round(535 * factor), round(300 * factor):round(600 * factor)]
    assert np.mean(blueness(strip) > 25) > 0.8  # the coloured-in strip stays blue
    seam = output[round(170 * factor), round(300 * factor):round(600 * factor)]
    beside = output[round(185 * factor), round(300 * factor):round(600 * factor)]
    assert seam.mean() < beside.mean() - 30  # the seam line is still drawn
    outside = output[round(350 * factor), round(100 * factor)]
    inside = output[round(350 * factor), round(280 * factor)]
    assert np.abs(outside - inside).max() > 20  # the silhouette separates product from backdrop


def test_sketch_uses_a_texture_for_uncoloured_parts(engine):
    texture = Image.new("RGB", (32, 32), (180, 60, 60))
    output = pixels(engine.generate(request("sketch-to-real", texture=texture)).images[0])
    assert np.mean(redness(output[300:500, 330:420]) > 40) > 0.8


@pytest.mark.parametrize("mode", ["ip-change", "sketch-to-real"])
def test_transparent_background_gives_a_plain_light_backdrop(engine, mode):
    for image in engine.generate(request(mode, transparent_background=True)).images:
        rgb = pixels(image)
        border = np.concatenate([rgb[:30].reshape(-1, 3), rgb[-30:].reshape(-1, 3),
                                 rgb[:, :30].reshape(-1, 3), rgb[:, -30:].reshape(-1, 3)])
        assert border.std(axis=0).max() < 1.0 and border.mean() > 235
        assert image.mode == "RGB"
