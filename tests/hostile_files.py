"""Crafted upload files, shared by the intake unit tests (test_intake.py) and the upload-route tests
(test_upload_hardening.py): files that must be refused, and odd files that must be normalised."""
from __future__ import annotations

import struct
import zlib
from io import BytesIO

import numpy as np
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from mockup.imaging.intake import MAX_UPLOAD_BYTES


def save(image: Image.Image, fmt: str, **params) -> bytes:
    out = BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def photo(size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A small image with real detail, so compressed files are not trivially tiny."""
    rng = np.random.default_rng(7)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def handmade_png(width: int, height: int, bit_depth: int = 8, colour_type: int = 2,
                 rows: bytes = b"\x00") -> bytes:
    """A PNG written chunk by chunk, so the header can claim any size whatever the data holds."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


# --- refused -----------------------------------------------------------------------------------------

NOT_IMAGES = {
    "plain text": b"hello, this is not an image",
    "svg named .png": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "html named .png": b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
    "eps named .png": b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n",
    "zero bytes": b"",
}


def bomb() -> bytes:
    """400 megapixels claimed by a file of under a hundred bytes."""
    return handmade_png(20000, 20000)


def just_over_pillows_warning_limit() -> bytes:
    """Pillow only warns between its limit and twice it; a warning must refuse the file too."""
    width = 10_000
    return handmade_png(width, Image.MAX_IMAGE_PIXELS // width + 1)


def wider_than_the_side_limit() -> bytes:
    return handmade_png(8193, 10)


def huge_text_chunk() -> bytes:
    """A small file whose compressed text chunk would inflate to megabytes."""
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "A" * (PngImagePlugin.MAX_TEXT_CHUNK * 3), zip=True)
    return save(Image.new("RGB", (8, 8)), "PNG", pnginfo=info)


def truncated_jpeg() -> bytes:
    data = save(photo((256, 256)), "JPEG", quality=95)
    return data[: len(data) // 2]


def animated_webp(frames: int = 1000) -> bytes:
    images = [Image.new("RGB", (8, 8), (index % 256, 0, 255 - index % 256)) for index in range(frames)]
    return save(images[0], "WEBP", save_all=True, append_images=images[1:], duration=10, lossless=True)


def over_ten_megabytes() -> bytes:
    data = save(photo(), "PNG")
    return data + b"\x00" * (MAX_UPLOAD_BYTES + 1 - len(data))


# --- accepted, and normalised --------------------------------------------------------------------------

def cmyk_jpeg() -> bytes:
    """Pure cyan in CMYK: stored as RGB (0, 255, 255)."""
    return save(Image.new("CMYK", (32, 32), (255, 0, 0, 0)), "JPEG", quality=95)


def sixteen_bit_png() -> bytes:
    """Four 16-pixel bands of 16-bit grey from black to white: stored as 8 bits scaled, not clipped
    (0, 128, 156, 255). Bands rather than single pixels, so a JPEG copy keeps their values."""
    bands = np.array([[0, 257 * 128, 40000, 65535]], np.uint16).repeat(16, axis=1).repeat(8, axis=0)
    return save(Image.fromarray(bands), "PNG")


def rotated_jpeg() -> bytes:
    """Left half red, right half blue, with EXIF orientation 6: upright, red is on top."""
    original = Image.new("RGB", (80, 40), "red")
    original.paste((0, 0, 255), (40, 0, 80, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # "rotate 90 degrees clockwise to display"
    return save(original, "JPEG", exif=exif.tobytes(), quality=95)


def jpeg_with_metadata() -> bytes:
    """EXIF with GPS and a script, an ICC profile and a <script> comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = "<script>alert('exif')</script>"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return save(photo(), "JPEG", exif=exif.tobytes(), icc_profile=icc, comment=b"<script>alert('comment')</script>")


def png_with_text_and_html_tail() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", "<script>alert('text')</script>")
    return save(photo(), "PNG", pnginfo=info) + b"<html><script>alert('tail')</script></html>"


# Markers of metadata that must not survive into stored bytes: scripts and HTML, ICC ("acsp"), EXIF.
METADATA_MARKERS = (b"<script>", b"<html>", b"acsp", b"Exif")
