"""Hostile and odd uploads on every upload route and file field, HTML and API: each hostile file is
refused with a clear 4xx and leaves no file, no row and no temporary file; odd images are stored
normalised and without metadata; file names never reach a stored path; and every route that serves a
stored image labels it with its real type, forbids sniffing and sandboxes it."""
from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Character, Generation
from mockup.security import FILE_CSP

from .api_support import PASSWORD, ApiClient
from .conftest import AuthActions, app_with_tables, base_config, files_under, png_bytes
from .hostile_files import (
    METADATA_MARKERS, NOT_IMAGES, animated_webp, bomb, cmyk_jpeg, huge_text_chunk, jpeg_with_metadata,
    just_over_pillows_warning_limit, over_ten_megabytes, photo, png_with_text_and_html_tail, rotated_jpeg,
    save, sixteen_bit_png, truncated_jpeg, wider_than_the_side_limit,
)
from .factories import create_character, create_project
from .job_runner import run_job
from .studio import generate, image_ids, upload

MULTIPART = "multipart/form-data"
UNSUPPORTED = "Only PNG, JPEG and WEBP images are accepted."
DAMAGED = "This image is damaged or incomplete."
ID = "[0-9a-f]{32}"
# Where uploads may land: built from ids only (mockup/storage.py).
STORED_PATH = re.compile(rf"(characters/{ID}/{ID}(_thumb\.jpg|\.png)|uploads/{ID}/{ID}/{ID}\.(png|jpg)"
                         rf"|staging/{ID}/{ID}(_thumb\.jpg|\.upload))")


@dataclass(frozen=True)
class World:
    """One user with a project, signed in twice: a browser session and an API token."""

    browser: object
    api: ApiClient
    project_id: str


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app for the module's many cases: a refused upload changes nothing, and what an accepted one
    adds is found by comparing the files before and after it."""
    with app_with_tables(base_config(tmp_path_factory.mktemp("uploads"))) as app:
        yield app


@pytest.fixture(scope="module")
def world(app) -> World:
    browser = app.test_client()
    AuthActions(browser).register(email="uploader@example.com", password=PASSWORD)
    project_id = create_project(browser)
    api = ApiClient(app.test_client())
    login = api.post("/api/auth/login", json={"email": "uploader@example.com", "password": PASSWORD})
    api.token = login.get_json()["access_token"]
    return World(browser, api, project_id)


def _generation_fields(field: str, file: tuple[io.BytesIO, str]) -> dict:
    """A generation with the file in `field`: a one-off character needs ip-change, the rest sketch-to-real."""
    fields = {"mode": "ip-change" if field == "character_image" else "sketch-to-real", field: file}
    if field != "source_image":
        fields["source_image"] = upload(png_bytes((120, 90)), "source.png")
    return fields


def html_character(world: World, field: str, file):
    return world.browser.post(f"/projects/{world.project_id}/characters", data={"name": "Bunny", field: file},
                              content_type=MULTIPART)


def html_generate(world: World, field: str, file):
    data = {"character_id": "", "prompt": "", **_generation_fields(field, file)}
    return world.browser.post(f"/projects/{world.project_id}/generate", data=data, content_type=MULTIPART)


def api_character(world: World, field: str, file):
    return world.api.post(f"/api/projects/{world.project_id}/characters", data={"name": "Bunny", field: file},
                          content_type=MULTIPART)


def api_generation(world: World, field: str, file):
    data = {"project_id": world.project_id, **_generation_fields(field, file)}
    return world.api.post("/api/generations", data=data, content_type=MULTIPART)


Send = Callable[[World, tuple[io.BytesIO, str]], object]
TARGETS: dict[str, Send] = {
    "html character image": partial(html_character, field="image"),
    **{f"html generate {field}": partial(html_generate, field=field)
       for field in ("source_image", "character_image", "texture_image")},
    "api character image": partial(api_character, field="image"),
    **{f"api generation {field}": partial(api_generation, field=field)
       for field in ("source_image", "character_image", "texture_image")},
}


@dataclass(frozen=True)
class Hostile:
    make: Callable[[], bytes]
    name: str
    status: int
    message: str


HOSTILE = {
    "decompression bomb": Hostile(bomb, "bomb.png", 422, "too large"),
    "over Pillow's warning limit": Hostile(just_over_pillows_warning_limit, "big.png", 422, "too large"),
    "wider than the side limit": Hostile(wider_than_the_side_limit, "wide.png", 422, "at most 8192 pixels on a side"),
    "huge compressed text chunk": Hostile(huge_text_chunk, "text.png", 422, DAMAGED),
    "truncated jpeg": Hostile(truncated_jpeg, "cut.jpg", 422, DAMAGED),
    # "Choose an image file", or in the one-off character field "Choose a registered character or upload one".
    "empty file": Hostile(lambda: b"", "empty.png", 422, "Choose a"),
    **{kind: Hostile(lambda data=data: data, "image.png", 415, UNSUPPORTED)
       for kind, data in NOT_IMAGES.items() if kind.endswith("named .png")},
    "gif renamed .png": Hostile(lambda: save(photo(), "GIF"), "photo.png", 415, UNSUPPORTED),
    "tiff renamed .jpg": Hostile(lambda: save(photo(), "TIFF"), "photo.jpg", 415, UNSUPPORTED),
    "bmp renamed .webp": Hostile(lambda: save(photo(), "BMP"), "photo.webp", 415, UNSUPPORTED),
    "animated webp of 1000 frames": Hostile(animated_webp, "moving.webp", 422, "Animated images are not supported"),
    "over 10 MB": Hostile(over_ten_megabytes, "huge.png", 413, "larger than 10 MB"),
}


@cache
def hostile_bytes(kind: str) -> bytes:
    return HOSTILE[kind].make()


def row_counts(app) -> tuple[int, int]:
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Character, Generation))
        db.session.remove()
    return counts


@pytest.fixture
def upload_tmp(tmp_path, monkeypatch):
    """The folder Werkzeug spools large request bodies to, checked empty after each request."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("target", TARGETS)
def test_hostile_file_is_refused_and_leaves_nothing(app, world, upload_tmp, target, kind):
    hostile = HOSTILE[kind]
    data_dir = app.config["DATA_DIR"]
    files_before, rows_before = files_under(data_dir), row_counts(app)
    data = hostile_bytes(kind)
    response = TARGETS[target](world, file=upload(data, hostile.name))
    assert response.status_code == hostile.status, response.get_data(as_text=True)[:500]
    assert hostile.message in response.get_data(as_text=True)
    # The form's other, valid uploads are kept for its next try (views/kept.py); the refused file never is.
    added = new_files(data_dir, files_before)
    assert all(rel.startswith("staging/") for rel in added), added
    assert all(open(f"{data_dir}/{rel}", "rb").read() != data for rel in added)
    assert row_counts(app) == rows_before
    assert list(upload_tmp.iterdir()) == []


def new_files(data_dir: str, before: list[str]) -> list[str]:
    return [name for name in files_under(data_dir) if name not in before]


def stored_upload(data_dir: str, before: list[str]) -> tuple[Image.Image, list[bytes]]:
    """The stored image of one accepted upload (not its thumbnail), and the bytes of every new file."""
    added = new_files(data_dir, before)
    main = [name for name in added if not name.endswith("_thumb.jpg")]
    assert len(main) == 1, added
    contents = [open(f"{data_dir}/{name}", "rb").read() for name in added]
    return Image.open(f"{data_dir}/{main[0]}"), contents


def near(pixel, expected, tolerance: int = 8) -> bool:
    return int(np.abs(np.asarray(pixel[:3], int) - expected).max()) <= tolerance


def upright(image: Image.Image) -> bool:
    """The EXIF-rotated file's left half (red) is on top once applied."""
    return image.size == (40, 80) and near(image.getpixel((20, 10)), (255, 0, 0), 40) \
        and near(image.getpixel((20, 70)), (0, 0, 255), 40)


ODD = {
    "cmyk jpeg": (cmyk_jpeg, lambda image: image.mode == "RGB" and near(image.getpixel((16, 16)), (0, 255, 255))),
    "16-bit png": (sixteen_bit_png, lambda image: image.mode == "RGB" and all(
        near(image.getpixel((8 + 16 * band, 4)), (grey,) * 3) for band, grey in enumerate((0, 128, 156, 255)))),
    "exif orientation 6": (rotated_jpeg, upright),
    "gps, icc and a script comment": (jpeg_with_metadata, lambda image: image.mode == "RGB"),
    "text chunk and html after the end": (png_with_text_and_html_tail, lambda image: image.size == (64, 48)),
}
PRIMARY_TARGETS = ["html character image", "html generate source_image", "api character image",
                   "api generation source_image"]


@pytest.mark.parametrize("kind", ODD)
@pytest.mark.parametrize("target", PRIMARY_TARGETS)
def test_odd_images_are_stored_normalised_without_metadata(app, world, target, kind):
    make, looks_right = ODD[kind]
    before = files_under(app.config["DATA_DIR"])
    response = TARGETS[target](world, file=upload(make(), "odd.jpg"))
    assert response.status_code in (201, 202, 303), response.get_data(as_text=True)[:500]
    image, contents = stored_upload(app.config["DATA_DIR"], before)
    with image:
        assert looks_right(image)
        assert not image.getexif() and "icc_profile" not in image.info and "comment" not in image.info
    for data in contents:
        assert not any(marker in data for marker in METADATA_MARKERS)


HOSTILE_NAMES = {
    "parent folders": "../../etc/passwd.png",
    "backslashes": "..\\..\\windows\\win.ini.png",
    "nul byte": "mug\x00.php.png",
    "double extension": "mug.php.png",
    "right-to-left override": "mug\u202egnp.exe",
    "windows device": "CON.png",
    "300 characters": "m" * 296 + ".png",
    "empty": "",
    "non-ascii": "목업 사진 ☕.png",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("target", TARGETS)
def test_file_names_never_reach_a_stored_path(app, world, target, name):
    folder = str(Path(app.config["DATA_DIR"]).parent)  # DATA_DIR and what lies around it
    before = files_under(folder)
    response = TARGETS[target](world, file=upload(png_bytes((90, 90)), HOSTILE_NAMES[name]))
    assert response.status_code < 500
    if HOSTILE_NAMES[name]:
        assert response.status_code in (201, 202, 303), response.get_data(as_text=True)[:500]
    added = new_files(folder, before)
    assert all(path.startswith("data/") for path in added), added
    assert all(STORED_PATH.fullmatch(path.removeprefix("data/")) for path in added), added


@pytest.fixture(scope="module")
def stored(app, world) -> dict[str, str]:
    """Every kind of stored image: a character, and a generation with source, character copy and texture."""
    character_id = create_character(world.browser, world.project_id)
    generation_id = generate(world.browser, world.project_id, character_id,
                             texture_image=upload(png_bytes((64, 64), (90, 60, 30)), "wood.png"))
    assert run_job(app, generation_id) == "succeeded"
    return {"character_id": character_id, "generation_id": generation_id,
            "image_id": image_ids(world.browser, generation_id)[0]}


SERVED = [
    "/characters/{character_id}/image", "/characters/{character_id}/thumbnail",
    "/generations/{generation_id}/source", "/generations/{generation_id}/character",
    "/generations/{generation_id}/texture", "/images/{image_id}/file", "/images/{image_id}/thumbnail",
    "/api/characters/{character_id}/image", "/api/characters/{character_id}/thumbnail",
    "/api/images/{image_id}/file", "/api/images/{image_id}/thumbnail",
]
DOWNLOADS = [f"{prefix}/images/{{image_id}}/download?format={fmt}"
             for prefix in ("", "/api") for fmt in ("png", "jpeg", "webp")]
MIME_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def fetch(world: World, url: str):
    return world.api.get(url) if url.startswith("/api/") else world.browser.get(url)


@pytest.mark.parametrize("url", SERVED + DOWNLOADS)
def test_served_images_carry_their_real_type_nosniff_and_the_sandbox(world, stored, url):
    response = fetch(world, url.format(**stored))
    assert response.status_code == 200
    with Image.open(io.BytesIO(response.data)) as image:
        assert response.mimetype == MIME_TYPES[image.format]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == FILE_CSP
    disposition = response.headers.get("Content-Disposition", "")
    assert disposition.startswith("attachment") == (url in DOWNLOADS)
