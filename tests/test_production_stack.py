"""The full flow on the production stack: PostgreSQL, Redis and a real Celery worker process."""
from __future__ import annotations

import io
import re

from mockup.extensions import db
from mockup.models import Generation
from mockup.services import accounts, characters, projects

from .conftest import AuthActions, png_bytes
from .fixtures_stack import wait_for_status


def test_generate_on_postgres_with_a_celery_worker(stack):
    client = stack.test_client()
    auth = AuthActions(client)
    auth.register()
    auth.login()
    with stack.app_context():
        user_id = accounts.authenticate("designer@example.com", "correct horse").id
        project_id = projects.create_project(user_id, "Acrylic stands").id
        character_id = characters.create_character(user_id, project_id, "Bunny", png_bytes((90, 90))).id
    response = client.post(f"/projects/{project_id}/generate", data={
        "mode": "ip-change", "character_id": character_id, "prompt": "glossy acrylic",
        "preserve_structure": "y", "source_image": (io.BytesIO(png_bytes((160, 120))), "stand.png"),
    }, content_type="multipart/form-data")
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    generation_id = re.search(r"/generations/([0-9a-f]{32})", response.headers["Location"]).group(1)
    assert wait_for_status(stack, generation_id) == "succeeded"
    page = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    with stack.app_context():
        images = db.session.get(Generation, generation_id).images
        assert len(images) == 2
    for image in images:
        assert f"/images/{image.id}" in page
