"""The `gemini_server` fixture: a fake Gemini endpoint per test, and `gemini_app`, the app pointed at it
(registered through pytest_plugins)."""
from __future__ import annotations

from typing import Iterator

import pytest

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
