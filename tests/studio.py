"""Helpers for the HTML view tests: drive the real forms the way a browser would."""
from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

from .conftest import png_bytes

ID = r"[0-9a-f]{32}"


def location(response) -> str:
    """The path (and query) a redirect points to, whether the header is relative or absolute."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def last_id(response) -> str:
    return location(response).rstrip("/").rsplit("/", 1)[1]


def upload(data: bytes, name: str = "image.png") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def submit_generation(client, project_id: str, character_id: str | None = None, **fields):
    """POST the generate form: ip-change with a product photo unless told otherwise."""
    data = {
        "mode": "ip-change", "source_image": upload(png_bytes((320, 240)), "mug.png"),
        "character_id": character_id or "", "prompt": "matte ceramic", "preserve_structure": "y",
        **fields,
    }
    return client.post(f"/projects/{project_id}/generate", data=data, content_type="multipart/form-data")


def generate(client, project_id: str, character_id: str | None = None, **fields) -> str:
    response = submit_generation(client, project_id, character_id, **fields)
    assert response.status_code == 303, response.get_data(as_text=True)
    return last_id(response)


def image_ids(client, generation_id: str) -> list[str]:
    fragment = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    return list(dict.fromkeys(re.findall(rf'data-image-id="({ID})"', fragment)))
