"""Helpers for the HTML view tests: drive the real forms the way a browser would."""
from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

from mockup.extensions import db
from mockup.jobs import runner

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


def create_project(client, name: str = "Spring mugs", description: str = "Mugs for the spring line") -> str:
    response = client.post("/projects", data={"name": name, "description": description})
    assert response.status_code == 303, response.get_data(as_text=True)
    return last_id(response)


def create_character(client, project_id: str, name: str = "Bunny") -> str:
    response = client.post(f"/projects/{project_id}/characters", data={
        "name": name, "image": upload(png_bytes((240, 240), (250, 120, 160)), "bunny.png"),
    }, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(location(response)).get_data(as_text=True)
    return re.findall(rf"/characters/({ID})/thumbnail", page)[-1]


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


def run_job(app, generation_id: str) -> str | None:
    """Run a queued job now, in this thread (the embedded runner is not started in tests)."""
    with app.app_context():
        status = runner.run_generation(generation_id)
        db.session.remove()
    return status


def image_ids(client, generation_id: str) -> list[str]:
    fragment = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    return list(dict.fromkeys(re.findall(rf'data-image-id="({ID})"', fragment)))


def finished_generation(app, client, project_id: str, character_id: str) -> tuple[str, list[str]]:
    """A generation that ran, with the ids of its candidate images."""
    generation_id = generate(client, project_id, character_id)
    assert run_job(app, generation_id) == "succeeded"
    return generation_id, image_ids(client, generation_id)
