"""Upload intake: what is refused (and with which exception), and what an accepted file turns into."""
from __future__ import annotations

import struct
from io import BytesIO

import numpy as np
import pytest
from PIL import Image

from mockup.errors import Invalid, TooLarge, UnsupportedMedia
from mockup.imaging import intake
from mockup.imaging.formats import encode, thumbnail
from mockup.imaging.intake import decode_upload

from .hostile_files import (
    NOT_IMAGES, bomb, handmade_png, huge_text_chunk, jpeg_with_metadata, just_over_pillows_warning_limit,
    over_ten_megabytes, photo, png_with_text_and_html_tail, rotated_jpeg, save, truncated_jpeg,
)

# --- refused -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", NOT_IMAGES.values(), ids=NOT_IMAGES.keys())
def test_non_images_are_unsupported(data):
    with pytest.raises(UnsupportedMedia) as caught:
        decode_upload(data)
    assert caught.value.message == "Only PNG, JPEG and WEBP images are accepted."


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_unsupported_whatever_their_name(fmt):
    # The caller never passes a name: a GIF "renamed" to .png is just these bytes.
    with pytest.raises(UnsupportedMedia):
        decode_upload(save(photo(), fmt))


def test_truncated_jpeg_is_invalid():
    with pytest.raises(Invalid) as caught:
        decode_upload(truncated_jpeg())
    assert "damaged or incomplete" in caught.value.message


def test_truncated_png_is_invalid():
    data = save(photo((256, 256)), "PNG")
    with pytest.raises(Invalid):
        decode_upload(data[: len(data) // 2])


def test_png_with_a_broken_header_is_invalid_not_unsupported():
    data = bytearray(save(photo(), "PNG"))
    data[20] ^= 0xFF  # inside IHDR: the CRC no longer matches
    with pytest.raises(Invalid):
        decode_upload(bytes(data))


def test_decompression_bomb_header_is_invalid():
    assert len(bomb()) < 100
    with pytest.raises(Invalid) as caught:
        decode_upload(bomb())
    assert "too large" in caught.value.message


def test_pillow_bomb_warning_is_an_error_even_without_our_own_caps(monkeypatch):
    monkeypatch.setattr(intake, "MAX_PIXELS", 10**12)
    monkeypatch.setattr(intake, "MAX_SIDE", 10**6)
    data = just_over_pillows_warning_limit()
    width, height = struct.unpack(">II", data[16:24])  # IHDR, read without Pillow's warning
    assert Image.MAX_IMAGE_PIXELS < width * height < 2 * Image.MAX_IMAGE_PIXELS
    with pytest.raises(Invalid):
        decode_upload(data)


@pytest.mark.parametrize("size", [(8193, 10), (10, 8193), (7000, 7000)])
def test_our_own_pixel_caps_apply_before_decoding(size):
    with pytest.raises(Invalid) as caught:
        decode_upload(handmade_png(*size))
    assert f"{size[0]} x {size[1]}" in caught.value.message


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_animated_images_are_invalid(fmt):
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue", "green")]
    data = save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(BytesIO(data)).n_frames == 3
    with pytest.raises(Invalid) as caught:
        decode_upload(data)
    assert "Animated" in caught.value.message


def test_huge_compressed_text_chunk_is_invalid():
    data = huge_text_chunk()
    assert len(data) < 50_000  # a small file that would inflate to megabytes of text
    with pytest.raises(Invalid):
        decode_upload(data)


def test_more_than_ten_megabytes_is_too_large():
    with pytest.raises(TooLarge):
        decode_upload(over_ten_megabytes())


# --- accepted ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("cmyk, rgb", [
    ((0, 255, 255, 0), (255, 0, 0)),
    ((255, 0, 0, 0), (0, 255, 255)),
    ((0, 0, 0, 128), (127, 127, 127)),
])
def test_cmyk_jpeg_becomes_rgb_with_the_right_colours(cmyk, rgb):
    image = decode_upload(save(Image.new("CMYK", (32, 32), cmyk), "JPEG", quality=95))
    assert image.mode == "RGB"
    assert np.abs(np.asarray(image)[16, 16].astype(int) - rgb).max() <= 6


def test_sixteen_bit_grey_png_is_scaled_not_clipped():
    values = np.array([[0, 257 * 128, 40000, 65535]], np.uint16)
    data = save(Image.fromarray(values), "PNG")
    assert Image.open(BytesIO(data)).mode == "I;16"
    image = decode_upload(data)
    assert image.mode == "RGB"
    assert np.asarray(image)[0, :, 0].tolist() == [0, 128, 156, 255]


def test_sixteen_bit_colour_png_is_scaled():
    row = b"\x00" + struct.pack(">6H", 65535, 32896, 0, 0, 65535, 257 * 64)
    image = decode_upload(handmade_png(2, 1, bit_depth=16, colour_type=2, rows=row))
    assert image.mode == "RGB"
    assert np.asarray(image)[0].tolist() == [[255, 128, 0], [0, 255, 64]]


def big_jpeg(size: tuple[int, int], **save) -> bytes:
    """Quadrants of four colours, so a wrongly scaled, shifted or rotated decode shows."""
    width, height = size
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[: height // 2, : width // 2] = (220, 30, 30)
    pixels[: height // 2, width // 2:] = (30, 200, 30)
    pixels[height // 2:, : width // 2] = (30, 30, 220)
    pixels[height // 2:, width // 2:] = (240, 240, 240)
    buffer = BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=90, **save)
    return buffer.getvalue()


@pytest.mark.parametrize("size, decoded", [
    ((6000, 4000), (3000, 2000)),  # 1/2 scale keeps more than 2048 px on the long side
    ((4000, 8000), (2000, 4000)),
    ((4032, 3024), (4032, 3024)),  # half of it would be under 2048: decoded whole
])
def test_big_jpegs_decode_at_a_reduced_scale_that_keeps_the_working_size(size, decoded):
    image = decode_upload(big_jpeg(size))
    assert image.size == decoded
    pixels = np.asarray(image).astype(int)
    width, height = decoded
    for (y, x), colour in {(height // 4, width // 4): (220, 30, 30), (height // 4, 3 * width // 4): (30, 200, 30),
                           (3 * height // 4, width // 4): (30, 30, 220), (3 * height // 4, 3 * width // 4): (240, 240, 240)}.items():
        assert np.abs(pixels[y, x] - colour).max() < 12


@pytest.mark.parametrize("size", [(8192, 3), (3, 8192), (4096, 1)])
def test_a_long_thin_jpeg_is_decoded_not_a_crash(size):
    image = decode_upload(big_jpeg(size))
    assert max(image.size) >= 2048 and min(image.size) >= 1


def test_a_truncated_big_jpeg_is_still_invalid():
    data = big_jpeg((6000, 4000))
    with pytest.raises(Invalid) as caught:
        decode_upload(data[: len(data) * 2 // 3])
    assert "damaged or incomplete" in caught.value.message


def test_a_big_jpeg_is_turned_upright_after_the_reduced_decode():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    image = decode_upload(big_jpeg((6000, 4000), exif=exif.tobytes()))
    assert image.size == (2000, 3000) and not image.getexif()


def test_exif_orientation_is_applied_and_stored_upright():
    image = decode_upload(rotated_jpeg())
    assert image.size == (40, 80)
    pixels = np.asarray(image).astype(int)
    assert np.abs(pixels[10, 20] - (255, 0, 0)).max() < 30  # the left half is now on top
    assert np.abs(pixels[70, 20] - (0, 0, 255)).max() < 30
    assert not image.getexif()


def test_metadata_with_gps_icc_and_script_comment_is_gone():
    data = jpeg_with_metadata()
    assert data.count(b"<script>") == 2 and b"acsp" in data  # the upload really carries all of it

    image = decode_upload(data)
    assert image.info == {} and not image.getexif()
    for fmt in ("png", "jpeg", "webp"):
        stored = encode(image, fmt)
        assert b"<script>" not in stored and b"acsp" not in stored and b"Exif" not in stored
        reopened = Image.open(BytesIO(stored))
        assert not reopened.getexif() and "icc_profile" not in reopened.info


def test_png_text_chunks_and_html_after_iend_are_gone():
    image = decode_upload(png_with_text_and_html_tail())
    stored = encode(image, "png")
    assert b"<script>" not in stored and b"<html>" not in stored
    assert stored.endswith(b"IEND\xaeB`\x82")
    assert np.array_equal(np.asarray(image), np.asarray(photo()))


def test_webp_is_accepted():
    image = decode_upload(save(photo(), "WEBP", lossless=True))
    assert image.mode == "RGB" and np.array_equal(np.asarray(image), np.asarray(photo()))


def test_multi_picture_jpeg_from_a_phone_keeps_its_first_picture():
    frames = [Image.new("RGB", (32, 32), "red"), Image.new("RGB", (32, 32), "blue")]
    image = decode_upload(save(frames[0], "MPO", save_all=True, append_images=frames[1:]))
    assert np.abs(np.asarray(image)[16, 16].astype(int) - (255, 0, 0)).max() < 10


@pytest.mark.parametrize("source, mode", [
    (Image.new("RGBA", (8, 8), (255, 0, 0, 128)), "RGBA"),
    (Image.new("RGBA", (8, 8), (255, 0, 0, 255)), "RGB"),  # opaque alpha says nothing: dropped
    (Image.new("LA", (8, 8), (90, 10)), "RGBA"),
    (Image.new("L", (8, 8), 90), "RGB"),
    (Image.new("1", (8, 8), 1), "RGB"),
])
def test_modes_become_rgb_or_rgba(source, mode):
    assert decode_upload(save(source, "PNG")).mode == mode


def test_palette_transparency_becomes_alpha():
    source = Image.new("P", (8, 8), 0)
    source.putpalette([255, 0, 0, 0, 255, 0])
    source.putpixel((0, 0), 1)
    image = decode_upload(save(source, "PNG", transparency=0))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0)) == (0, 255, 0, 255) and image.getpixel((4, 4))[3] == 0


# --- encoding and thumbnails -------------------------------------------------------------------------

def test_encode_keeps_alpha_in_png_and_webp_and_flattens_jpeg_on_white():
    image = Image.new("RGBA", (16, 16), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 8, 16))
    assert Image.open(BytesIO(encode(image, "png"))).getpixel((12, 8))[3] == 0
    assert Image.open(BytesIO(encode(image, "webp"))).mode == "RGBA"
    jpeg = Image.open(BytesIO(encode(image, "jpeg")))
    assert jpeg.format == "JPEG" and jpeg.mode == "RGB"
    assert min(jpeg.getpixel((13, 8))) > 240  # transparent became white, not black
    with pytest.raises(Invalid):
        encode(image, "gif")


@pytest.mark.parametrize("size", [(1200, 400), (300, 900), (150, 100)])
def test_thumbnail_is_a_200px_cover_cropped_jpeg(size):
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    thumb = Image.open(BytesIO(thumbnail(image)))
    assert thumb.format == "JPEG" and thumb.size == (200, 200)
    assert min(thumb.getpixel((100, 100))) > 240
