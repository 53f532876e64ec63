"""The per-user limit of 60 requests a minute guards pages and actions, but not what a single page
loads by itself: a generation page polls its status every 2.5 s and a project page shows dozens of
thumbnails, so those routes are exempt."""
from __future__ import annotations

import pytest

from .factories import create_character, create_project, finished_generation


pytestmark = pytest.mark.rate_limited


def test_polling_and_images_are_not_limited_but_pages_are(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    generation_id, (image_id, _) = finished_generation(app, client, project_id, character_id)
    exempt = [
        f"/generations/{generation_id}/status", f"/generations/{generation_id}/source",
        f"/images/{image_id}/thumbnail", f"/images/{image_id}/file", f"/characters/{character_id}/thumbnail",
    ]
    for _ in range(15):
        assert all(client.get(url).status_code == 200 for url in exempt)
    responses = [client.get(f"/projects/{project_id}") for _ in range(61)]
    assert responses[0].status_code == 200 and responses[-1].status_code == 429
    # The 429 page says when to come back, like the API's 429 (issue 15).
    assert responses[-1].mimetype == "text/html" and 1 <= int(responses[-1].headers["Retry-After"]) <= 60
