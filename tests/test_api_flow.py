"""The issue's script, through the JSON API only: register, log in, create a project, register a
character, submit an ip-change generation, poll until it succeeded, select a candidate, save it to the
history, download it as PNG and JPEG, delete the project and find every file of it gone. It runs on the
embedded default and again on PostgreSQL + Redis + a real Celery worker."""
from __future__ import annotations

import io
import time
from typing import Callable

from PIL import Image

from mockup.jobs import runner

from .api_support import PASSWORD, ApiClient
from .conftest import files_under, png_bytes

FINISHED = ("succeeded", "failed", "canceled")


def poll(api: ApiClient, location: str, timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        generation = api.get(location).get_json()["generation"]
        if generation["status"] in FINISHED:
            return generation
        time.sleep(0.3)
    raise AssertionError(f"{location} still {generation['status']} after {timeout_s}s")


def decoded_format(data: bytes) -> str:
    return Image.open(io.BytesIO(data)).format


def run_script(client, data_dir: str, run_job: Callable[[str], None]) -> None:
    anonymous = ApiClient(client)
    assert anonymous.post("/api/auth/register", json={
        "email": "script@example.com", "password": PASSWORD, "name": "Script"}).status_code == 201
    login = anonymous.post("/api/auth/login", json={"email": "script@example.com", "password": PASSWORD}).get_json()
    api = ApiClient(client, login["access_token"])

    project = api.post("/api/projects", json={"name": "Acrylic stands"}).get_json()["project"]
    character = api.post_form(f"/api/projects/{project['id']}/characters", {
        "name": "Bunny", "image": png_bytes((90, 90), (30, 120, 220))}).get_json()["character"]
    submitted = api.post_form("/api/generations", {
        "project_id": project["id"], "mode": "ip-change", "character_id": character["id"],
        "source_image": png_bytes((160, 120)), "prompt": "glossy acrylic", "preserve_structure": "true"})
    assert submitted.status_code == 202
    location = submitted.headers["Location"]
    run_job(submitted.get_json()["generation"]["id"])
    generation = poll(api, location)
    assert generation["status"] == "succeeded" and len(generation["images"]) == 2

    chosen = generation["images"][1]
    selected = api.post(f"/api/generations/{generation['id']}/select", json={"image_id": chosen["id"]})
    assert selected.get_json()["image"]["selected"] is True
    saved = api.post(f"/api/history/{chosen['id']}/save", json={"note": "for the catalogue"})
    assert saved.status_code == 201
    history = api.get(f"/api/projects/{project['id']}/history").get_json()["items"]
    assert [entry["image"]["id"] for entry in history] == [chosen["id"]]

    assert decoded_format(api.get(f"{chosen['download_url']}?format=png").data) == "PNG"
    assert decoded_format(api.get(f"{chosen['download_url']}?format=jpeg").data) == "JPEG"

    assert files_under(data_dir)
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204
    assert files_under(data_dir) == []
    assert api.get(location).status_code == 404


def test_script_on_the_embedded_default(app, client):
    def run_job(generation_id: str) -> None:
        with app.app_context():
            runner.run_generation(generation_id)

    run_script(client, app.config["DATA_DIR"], run_job)


def test_script_on_postgres_redis_and_celery(stack):
    # The Celery worker started by the `stack` fixture runs the job; the script only polls.
    run_script(stack.test_client(), stack.config["DATA_DIR"], lambda generation_id: None)
