"""Image jobs (DESIGN.md sections 4 and 6): the 2K upscale that selecting a candidate starts, 2K and
transparent downloads that wait for their job, real transparent generations, and character cut-outs."""
from __future__ import annotations

import io
import stat
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, update

from mockup import storage
from mockup.errors import Invalid
from mockup.extensions import db
from mockup.models import JOB_CUTOUT, JOB_UPSCALE, Image as ImageRow, ImageJob, User, utcnow
from mockup.jobs import lifecycle, runner
from mockup.services import image_jobs

from .factories import create_character, create_project, finished_generation
from .job_runner import run_image_job, run_job
from .studio import generate, image_ids


@pytest.fixture
def candidates(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    generation_id, ids = finished_generation(app, client, project_id, character_id)
    return generation_id, ids


def the_job(app, image_id: str, job_type: str) -> ImageJob:
    with app.app_context():
        job = db.session.scalar(select(ImageJob).where(ImageJob.image_id == image_id, ImageJob.job_type == job_type))
        db.session.expunge(job)
        return job


def test_selecting_a_candidate_starts_its_2k_upscale_at_batch_priority(app, client, candidates):
    generation_id, (image_id, _) = candidates
    client.post(f"/generations/{generation_id}/select", data={"image_id": image_id})
    job = the_job(app, image_id, JOB_UPSCALE)
    assert (job.status, job.priority) == ("queued", 10)


def test_a_2k_download_in_a_refused_format_starts_no_job(app, client, candidates):
    """The service checks the format before it queues the upscale, for the page as for the API."""
    _, (image_id, _) = candidates
    assert client.get(f"/images/{image_id}/download/2k?format=gif").status_code == 422
    with app.app_context():
        owner_id = db.session.scalar(select(User.id))
        with pytest.raises(Invalid):
            image_jobs.download_result(owner_id, image_id, JOB_UPSCALE, "tiff")
        assert db.session.scalar(select(ImageJob)) is None


def test_the_real_upscale_makes_a_2048_px_file_and_the_second_download_uses_it(app, client, candidates):
    generation_id, (image_id, _) = candidates
    client.post(f"/generations/{generation_id}/select", data={"image_id": image_id})
    assert run_image_job(app, the_job(app, image_id, JOB_UPSCALE).id) == "succeeded"
    first = client.get(f"/images/{image_id}/download/2k")
    assert first.status_code == 200 and "attachment" in first.headers["Content-Disposition"]
    picture = Image.open(io.BytesIO(first.data))
    assert picture.format == "PNG" and max(picture.size) == 2048
    with app.app_context():
        upscaled = storage.resolve(db.session.get(ImageRow, image_id).upscaled_path)
    modified = upscaled.stat().st_mtime_ns
    again = client.get(f"/images/{image_id}/download/2k?format=jpeg")
    assert again.status_code == 200 and Image.open(io.BytesIO(again.data)).format == "JPEG"
    assert upscaled.stat().st_mtime_ns == modified
    assert the_job(app, image_id, JOB_UPSCALE).attempts == 1


def test_2k_download_waits_for_the_job_with_a_page_and_a_status_check(app, client, candidates):
    _, (image_id, _) = candidates
    page = client.get(f"/images/{image_id}/download/2k")
    assert page.status_code == 202 and 'http-equiv="refresh"' in page.get_data(as_text=True)
    check = client.get(f"/images/{image_id}/download/2k?check=1")
    assert check.status_code == 202 and check.mimetype == "text/html" and check.headers["Retry-After"] == "2"
    assert 'data-status="processing"' in check.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ImageJob.status)) == "queued"  # one job, joined by both calls


def test_a_failing_upscale_program_is_a_clear_job_error(app, client, candidates, tmp_path):
    _, (image_id, _) = candidates
    program = tmp_path / "realesrgan-ncnn-vulkan"
    program.write_text("#!/bin/sh\necho 'vkCreateInstance failed' >&2\nexit 1\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    app.config["REALESRGAN_PATH"] = str(program)
    client.get(f"/images/{image_id}/download/2k?check=1")
    assert run_image_job(app, the_job(app, image_id, JOB_UPSCALE).id) == "failed"
    job = the_job(app, image_id, JOB_UPSCALE)
    assert job.error_message == "The 2K upscale program failed (exit code 1)."
    check = client.get(f"/images/{image_id}/download/2k?check=1")
    assert check.status_code == 503 and 'data-status="failed"' in check.get_data(as_text=True)
    assert "The 2K upscale program failed (exit code 1)." in check.get_data(as_text=True)
    assert the_job(app, image_id, JOB_UPSCALE).status == "queued"  # asking again tries again
    with app.app_context():
        assert db.session.get(ImageRow, image_id).upscaled_path is None


def test_transparent_download_cuts_the_product_out(app, client, candidates):
    _, (image_id, _) = candidates
    assert client.get(f"/images/{image_id}/download/transparent?check=1").status_code == 202
    assert run_image_job(app, the_job(app, image_id, JOB_CUTOUT).id) == "succeeded"
    ready = client.get(f"/images/{image_id}/download/transparent?check=1")
    assert ready.status_code == 200 and 'data-status="ready"' in ready.get_data(as_text=True)
    response = client.get(f"/images/{image_id}/download/transparent")
    assert response.status_code == 200 and "_transparent.png" in response.headers["Content-Disposition"]
    alpha = np.asarray(Image.open(io.BytesIO(response.data)).getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255


def test_a_transparent_generation_gives_rgba_candidates(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    generation_id = generate(client, project_id, character_id, transparent_background="y")
    assert run_job(app, generation_id) == "succeeded"
    for image_id in image_ids(client, generation_id):
        with app.app_context():
            assert db.session.get(ImageRow, image_id).has_alpha
        picture = Image.open(io.BytesIO(client.get(f"/images/{image_id}/file").data))
        assert picture.mode == "RGBA"
        alpha = np.asarray(picture.getchannel("A"))
        assert alpha[0, 0] == 0 and alpha[alpha.shape[0] // 2, alpha.shape[1] // 2] == 255
        jpeg = Image.open(io.BytesIO(client.get(f"/images/{image_id}/download?format=jpeg").data))
        assert jpeg.mode == "RGB" and jpeg.getpixel((0, 0)) == pytest.approx((255, 255, 255), abs=3)


def test_image_jobs_are_reaped_like_generations(app, candidates):
    _, (image_id, _) = candidates
    with app.app_context():
        job = image_jobs.request(db.session.get(ImageRow, image_id).generation.owner_id, image_id, JOB_UPSCALE)
        assert lifecycle.claim(job.id, ImageJob) == 1
        db.session.execute(update(ImageJob).values(lease_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert ("image_jobs", job.id, 5) in runner.reap()


def test_an_unknown_variant_is_404(client, candidates):
    _, (image_id, _) = candidates
    assert client.get(f"/images/{image_id}/download/4k").status_code == 404


def test_character_background_removal(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    response = client.post(f"/characters/{character_id}/cutout", data={})
    assert response.status_code == 303
    picture = Image.open(io.BytesIO(client.get(f"/characters/{character_id}/image").data))
    alpha = np.asarray(picture.getchannel("A"))
    assert alpha[0, 0] == 0 and alpha[120, 120] == 255
    again = client.post(f"/characters/{character_id}/cutout", data={}, follow_redirects=True)
    assert "already removed" in again.get_data(as_text=True)
