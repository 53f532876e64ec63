"""The queue page: your jobs with position, time and outcome, cancel and retry; admins see everyone's."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from mockup.extensions import db
from mockup.models import Generation, User
from mockup.services import accounts, projects, queue

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


def test_admin_totals_count_the_last_day_and_everything_still_waiting_or_running(app):
    """The totals read the day's jobs and the queue, never the installation's whole history."""
    now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    with app.app_context():
        admin = accounts.register("admin@example.com", "correct horse", "Admin")
        designer = accounts.register("designer@example.com", "correct horse", "Designer", by_admin=True)
        project = projects.create_project(designer.id, "Mugs")
        ages = {"succeeded": [1, 23, 25, 400], "failed": [2, 30], "canceled": [48], "queued": [0, 50], "running": [70]}
        db.session.add_all([
            Generation(project_id=project.id, owner_id=designer.id, mode="ip-change", engine="local",
                       source_path="uploads/x.png", status=status, created_at=now - timedelta(hours=hours))
            for status, hours_ago in ages.items() for hours in hours_ago])
        db.session.commit()
        assert queue.totals_for(admin.id, now) == {"queued": 2, "running": 1, "succeeded": 2, "failed": 1, "canceled": 0}
        assert queue.totals_for(designer.id, now) is None
