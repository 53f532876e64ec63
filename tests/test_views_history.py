"""The project history: save, list newest first, remove."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import HistoryEntry, Image as ImageRow

from .factories import create_character, create_project, finished_generation
from .studio import location


@pytest.fixture
def images(app, client, auth):
    """A project with a finished generation: (project_id, generation_id, [image ids])."""
    auth.register()
    project_id = create_project(client)
    generation_id, image_ids = finished_generation(app, client, project_id, create_character(client, project_id))
    return project_id, generation_id, image_ids


def entry_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(HistoryEntry))


def test_save_twice_keeps_one_entry(app, client, images):
    project_id, generation_id, (image_id, _) = images
    page = f"/generations/{generation_id}"
    first = client.post(f"/images/{image_id}/history", data={"note": "Client favourite", "next": page})
    assert first.status_code == 303 and location(first) == page
    assert "Saved to the project history." in client.get(page).get_data(as_text=True)
    second = client.post(f"/images/{image_id}/history", data={"note": "Again"})
    assert second.status_code == 303
    assert "already in the project history" in client.get(page).get_data(as_text=True)
    assert entry_count(app) == 1
    body = client.get(f"/projects/{project_id}/history").get_data(as_text=True)
    assert "Client favourite" in body and "Again" not in body


def test_history_is_newest_first_with_thumbnails_notes_and_downloads(app, client, images):
    project_id, _, (older, newer) = images
    client.post(f"/images/{older}/history", data={"note": "first pick"})
    client.post(f"/images/{newer}/history", data={"note": "second pick"})
    body = client.get(f"/projects/{project_id}/history").get_data(as_text=True)
    assert body.index("second pick") < body.index("first pick")
    for image_id in (older, newer):
        assert f"/images/{image_id}/thumbnail" in body
        assert f"/images/{image_id}/download?format=png" in body


def test_note_too_long_is_refused(app, client, images):
    _, generation_id, (image_id, _) = images
    response = client.post(f"/images/{image_id}/history", data={"note": "n" * 1001})
    assert response.status_code == 303
    assert "Use at most 1000 characters." in client.get(location(response)).get_data(as_text=True)
    assert entry_count(app) == 0


def test_remove_entry_keeps_the_image(app, client, images):
    project_id, _, (image_id, _) = images
    client.post(f"/images/{image_id}/history", data={})
    with app.app_context():
        entry_id = db.session.scalar(select(HistoryEntry.id))
    history_page = f"/projects/{project_id}/history"
    response = client.post(f"/history/{entry_id}/delete", data={"next": history_page})
    assert response.status_code == 303 and location(response) == history_page
    assert entry_count(app) == 0
    with app.app_context():
        assert db.session.get(ImageRow, image_id) is not None
    assert "Nothing saved yet" in client.get(history_page).get_data(as_text=True)
