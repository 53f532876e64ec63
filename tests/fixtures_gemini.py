"""The `gemini_server` fixture: a fake Gemini endpoint per test (registered through pytest_plugins)."""
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
