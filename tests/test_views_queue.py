"""The queue page: your jobs with position, time and outcome, cancel and retry; admins see everyone's."""
from __future__ import annotations

from sqlalchemy import update

from mockup.extensions import db
from mockup.models import User

from .factories import create_character, create_project
from .job_runner import run_job
from .studio import generate


def test_lists_your_jobs_with_position_and_cancel(app, client, auth):
    auth.register(email="lead@example.com", name="Lead")  # the first account of an installation is its admin
    auth.logout()
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    first = generate(client, project_id, character_id)
    second = generate(client, project_id, character_id)
    page = client.get("/queue").get_data(as_text=True)
    assert f"/generations/{first}" in page and f"/generations/{second}" in page
    assert page.count("Queued") >= 2 and f"/generations/{first}/cancel" in page
    client.post(f"/generations/{first}/cancel", data={"next": "/queue"})
    assert run_job(app, second) == "succeeded"
    page = client.get("/queue").get_data(as_text=True)
    assert "Canceled" in page and "Done" in page and f"/generations/{first}/retry" in page
    assert "Owner" not in page  # totals and owners are for admins


def test_admin_sees_everyones_jobs_and_totals(app, client, auth):
    auth.register(email="a@example.com", name="A")
    project_id = create_project(client)
    generation_id = generate(client, project_id, create_character(client, project_id))
    auth.logout()
    auth.register(email="admin@example.com", name="Admin")
    with app.app_context():
        db.session.execute(update(User).where(User.email == "admin@example.com").values(is_admin=True))
        db.session.commit()
    page = client.get("/queue").get_data(as_text=True)
    assert "a@example.com" in page and "Owner" in page
    # Someone else's job is listed, but neither linked nor cancelable from here.
    assert f"/generations/{generation_id}" not in page


def test_empty_queue(client, auth):
    auth.register()
    assert "No jobs yet" in client.get("/queue").get_data(as_text=True)
