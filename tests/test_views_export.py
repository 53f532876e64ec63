"""The Export control of the history and project pages, the preparing page of a 2K export, and the
selection export the gallery posts (services/exports.py behind all three)."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import select

from mockup.extensions import db
from mockup.models import ImageJob

from .conftest import AuthActions
from .factories import create_character, create_project, finished_generation
from .job_runner import run_image_job, use_upscale
from .studio import location


@pytest.fixture
def saved(app, client, auth):
    """A project whose two candidates are in the history: (project_id, [image ids])."""
    auth.register()
    project_id = create_project(client, "Spring mugs")
    _, image_ids = finished_generation(app, client, project_id, create_character(client, project_id))
    for image_id in image_ids:
        assert client.post(f"/images/{image_id}/history", data={"note": ""}).status_code == 303
    return project_id, image_ids


def _zip_names(response) -> list[str]:
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed
    return zipfile.ZipFile(io.BytesIO(response.get_data())).namelist()


def _run_upscales(app) -> None:
    with app.app_context():
        job_ids = list(db.session.scalars(select(ImageJob.id).where(ImageJob.status == "queued")))
    for job_id in job_ids:
        assert run_image_job(app, job_id) == "succeeded"


def test_history_and_project_pages_offer_the_export(client, saved):
    project_id, _ = saved
    for page in (f"/projects/{project_id}/history", f"/projects/{project_id}"):
        body = client.get(page).get_data(as_text=True)
        assert f'action="/projects/{project_id}/export"' in body
        for choice in ('value="history"', 'value="selected"', 'value="approved"', 'value="webp"', 'value="2k"'):
            assert choice in body
    approved_page = client.get(f"/projects/{project_id}/history?review=approved").get_data(as_text=True)
    assert "No approved images" in approved_page  # nothing to export there: no control


def test_the_export_downloads_the_zip(client, saved):
    project_id, _ = saved
    response = client.get(f"/projects/{project_id}/export?scope=history&format=jpeg&size=1k")
    names = _zip_names(response)
    assert names[:2] == ["manifest.csv", "manifest.json"]
    assert len(names) == 4 and all(name.endswith(".jpg") for name in names[2:])
    assert "attachment" in response.headers["Content-Disposition"]


def test_an_empty_scope_goes_back_with_its_sentence(client, saved):
    project_id, _ = saved
    back = f"/projects/{project_id}/history"
    response = client.get(f"/projects/{project_id}/export?scope=approved&next={back}")
    assert response.status_code == 303 and location(response) == back
    assert "no image of this project is approved yet" in client.get(back).get_data(as_text=True)


def test_a_2k_export_shows_its_progress_then_downloads(app, client, saved, monkeypatch):
    use_upscale(monkeypatch, lambda picture, upscaler: picture.resize((2048, 1536)))
    project_id, _ = saved
    url = f"/projects/{project_id}/export?scope=history&format=png&size=2k"
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == 202 and int(response.headers["Retry-After"]) > 0
    assert '<meta http-equiv="refresh"' in body  # it checks again by itself
    assert '<progress max="2" value="0">' in body and "0 of 2 ready" in body
    _run_upscales(app)
    assert len(_zip_names(client.get(url))) == 4


def test_a_selection_export_of_2k_files_sends_itself_again(app, client, saved, monkeypatch):
    use_upscale(monkeypatch, lambda picture, upscaler: picture.resize((2048, 1536)))
    _, image_ids = saved
    form = {"image_id": image_ids, "format": "webp", "size": "2k", "next": "/projects"}
    response = client.post("/exports/selection", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 202
    resend = re.search(r'<form method="post" action="/exports/selection" data-resend="\d+">(.*?)</form>', body, re.S)
    assert resend, body
    assert re.findall(r'name="image_id" value="([0-9a-f]{32})"', resend.group(1)) == image_ids
    assert 'name="size" value="2k"' in resend.group(1) and 'name="format" value="webp"' in resend.group(1)
    _run_upscales(app)
    names = _zip_names(client.post("/exports/selection", data=form))
    assert len([name for name in names if name.endswith(".webp")]) == 2


def test_a_selection_with_someone_elses_image_is_404(app, client, saved):
    _, image_ids = saved
    other = app.test_client()
    AuthActions(other).register(email="b@example.com", name="B")
    assert other.post("/exports/selection", data={"image_id": image_ids[:1]}).status_code == 404
    assert other.post("/exports/selection", data={"image_id": ["0" * 32]}).status_code == 404


def test_a_selection_with_a_bad_size_goes_back_with_its_sentence(client, saved):
    _, image_ids = saved
    response = client.post("/exports/selection", data={"image_id": image_ids, "size": "8k", "next": "/projects"})
    assert response.status_code == 303 and location(response) == "/projects"
    assert "Choose 1k or 2k as the size." in client.get("/projects").get_data(as_text=True)
