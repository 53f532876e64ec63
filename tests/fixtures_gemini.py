"""The `gemini_server` fixture: a fake Gemini endpoint per test, and `gemini_app`, the app pointed at it
(registered through pytest_plugins); `run_gemini_job` runs one generation against it."""
from __future__ import annotations

from typing import Iterator

import pytest
from flask import Flask

from mockup.extensions import db
from mockup.models import Generation
from mockup.jobs import runner
from mockup.services import accounts, generations, projects
from tests.conftest import png_bytes
from tests.gemini_server import FakeGemini

API_KEY = "test-key"


@pytest.fixture
def gemini_server() -> Iterator[FakeGemini]:
    """A started fake that requires API_KEY; point the SDK's base_url at `gemini_server.url`."""
    with FakeGemini(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def gemini_app(app, gemini_server):
    """The test app with the gemini engine talking to the fake, with short timeouts and retries."""
    app.config.update(
        MOCKUP_ENGINE="gemini", GEMINI_API_KEY=API_KEY, GEMINI_BASE_URL=gemini_server.url,
        GEMINI_TIMEOUT_S=2, GEMINI_RETRY_BASE_S=0.01,
    )
    return app


def run_gemini_job(app: Flask) -> Generation:
    """Submit one sketch-to-real generation and run it in this process; returns its finished row."""
    with app.app_context():
        user = accounts.register("g@example.com", "correct horse", "G")
        project = projects.create_project(user.id, "Plush")
        generation = generations.submit_generation(
            user.id, project.id, mode="sketch-to-real", source_image=png_bytes((128, 96)), prompt="soft plush",
        )
        runner.run_generation(generation.id)
        generation = db.session.get(Generation, generation.id)
        db.session.expunge(generation)
        return generation
