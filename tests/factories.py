"""The one set of object factories: a project, a character and a finished generation, made the way the
test's own client speaks. Given an `ApiClient` they go through the JSON API; given the Flask test client
(signed in through the pages) they go through the HTML forms. Each returns ids. Registered through
pytest_plugins for `alices_generation`, the API tests' finished generation."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from .api_support import ApiClient, read_generation, submit
from .conftest import png_bytes
from .job_runner import run_job
from .studio import ID, generate, image_ids, last_id, location, upload

CHARACTER_SIZE = (240, 240)


def character_picture() -> bytes:
    return png_bytes(CHARACTER_SIZE, (250, 120, 160))


class _Api:
    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def project(self, name: str, description: str) -> str:
        response = self.api.post("/api/projects", json={"name": name, "description": description})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["project"]["id"]

    def character(self, project_id: str, name: str) -> str:
        response = self.api.post_form(f"/api/projects/{project_id}/characters",
                                      {"name": name, "image": character_picture()})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["character"]["id"]

    def generation(self, project_id: str, character_id: str) -> str:
        response = submit(self.api, project_id, character_id)
        assert response.status_code == 202, response.get_data(as_text=True)
        return response.get_json()["generation"]["id"]

    def candidates(self, generation_id: str) -> list[str]:
        items = self.api.get(f"/api/generations/{generation_id}/images").get_json()["items"]
        return [image["id"] for image in items]


class _Pages:
    def __init__(self, client) -> None:
        self.client = client

    def project(self, name: str, description: str) -> str:
        response = self.client.post("/projects", data={"name": name, "description": description})
        assert response.status_code == 303, response.get_data(as_text=True)
        return last_id(response)

    def character(self, project_id: str, name: str) -> str:
        response = self.client.post(f"/projects/{project_id}/characters", data={
            "name": name, "image": upload(character_picture(), "bunny.png"),
        }, content_type="multipart/form-data")
        assert response.status_code == 303, response.get_data(as_text=True)
        page = self.client.get(location(response)).get_data(as_text=True)
        return re.findall(rf'data-character-id="({ID})"', page)[-1]

    def generation(self, project_id: str, character_id: str) -> str:
        return generate(self.client, project_id, character_id)

    def candidates(self, generation_id: str) -> list[str]:
        return image_ids(self.client, generation_id)


def _through(client) -> _Api | _Pages:
    return _Api(client) if isinstance(client, ApiClient) else _Pages(client)


def create_project(client, name: str = "Spring mugs", description: str = "Mugs for the spring line") -> str:
    """A project of the signed-in user; its id."""
    return _through(client).project(name, description)


def create_character(client, project_id: str, name: str = "Bunny") -> str:
    """A character with a CHARACTER_SIZE picture in the project; its id."""
    return _through(client).character(project_id, name)


def finished_generation(app: Flask, client, project_id: str, character_id: str) -> tuple[str, list[str]]:
    """An ip-change generation that ran and succeeded: its id and the ids of its two candidates."""
    medium = _through(client)
    generation_id = medium.generation(project_id, character_id)
    assert run_job(app, generation_id) == "succeeded"
    return generation_id, medium.candidates(generation_id)


@pytest.fixture
def alices_generation(app, alice) -> dict:
    """A finished generation of `alice` (tests/api_support.py), as GET /api/generations/:id shows it."""
    project_id = create_project(alice, "Acrylic stands")
    generation_id, _ = finished_generation(app, alice, project_id, create_character(alice, project_id))
    return read_generation(alice, generation_id)
