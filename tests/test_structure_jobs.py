"""The structure check where candidates are stored (services/execution.py): ip-change candidates and edits
get a score and a warning, sketch to real gets none; the API serializes it and the pages show a badge."""
from __future__ import annotations

import io

from mockup.extensions import db
from mockup.imaging.structure import WARNING_BELOW
from mockup.models import Generation
from mockup.services import accounts, edits, execution, generations, projects

from . import structure_pairs
from .job_runner import run_job
from .conftest import png_bytes


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _finished(app, mode: str, **fields) -> str:
    with app.app_context():
        user = accounts.register("checks@example.com", "correct horse", "C")
        project = projects.create_project(user.id, "Mugs")
        generation = generations.submit_generation(user.id, project.id, mode=mode, prompt="", **fields)
        assert run_job(app, generation.id) == "succeeded"
        return generation.id


def _checks(app, generation_id: str) -> list[tuple[float | None, bool]]:
    with app.app_context():
        return [(row.structure_score, row.structure_warning) for row in db.session.get(Generation, generation_id).images]


def test_ip_change_candidates_are_checked_outside_the_character(app):
    mug = structure_pairs.render(structure_pairs.BASES[1])  # a navy mug with a printed bear
    generation_id = _finished(app, "ip-change", source_image=_png(mug),
                              character_image=png_bytes((200, 200), (250, 120, 160)))
    checks = _checks(app, generation_id)
    assert len(checks) == 2
    for score, warning in checks:
        assert 0.0 <= score <= 1.0 and warning == (score < WARNING_BELOW)
    first_score, _ = checks[0]  # the first local candidate sits exactly where the old print was
    assert first_score >= WARNING_BELOW


def test_sketch_to_real_has_no_structure_check(app):
    generation_id = _finished(app, "sketch-to-real", source_image=png_bytes((160, 120)))
    assert _checks(app, generation_id) == [(None, False), (None, False)]


def test_an_edit_kept_inside_its_region_is_product_kept(app):
    generation_id = _finished(app, "sketch-to-real", source_image=png_bytes((160, 120)))
    with app.app_context():
        generation = db.session.get(Generation, generation_id)
        image = generation.images[0]
        edit = edits.submit_edit(generation.owner_id, generation_id, image.id, "make it blue",
                                 region={"x": 10, "y": 10, "width": 60, "height": 40})
        assert run_job(app, edit.id) == "succeeded"
        edit_id = edit.id
    for score, warning in _checks(app, edit_id):
        assert score >= WARNING_BELOW and not warning


def test_the_api_serializes_the_checks(alices_generation):
    for image in alices_generation["images"]:
        checks = image["checks"]
        assert set(checks) == {"structure", "structure_warning"}
        assert 0.0 <= checks["structure"] <= 1.0
        assert checks["structure_warning"] == (checks["structure"] < WARNING_BELOW)


def test_each_candidate_shows_a_badge(app, client, auth):
    auth.register()
    with app.app_context():
        user = accounts.authenticate("designer@example.com", "correct horse")
        project = projects.create_project(user.id, "Mugs")
        generation = generations.submit_generation(
            user.id, project.id, mode="ip-change", prompt="",
            source_image=_png(structure_pairs.render(structure_pairs.BASES[1])),
            character_image=png_bytes((200, 200), (250, 120, 160)))
        assert run_job(app, generation.id) == "succeeded"
        generation_id = generation.id
    page = client.get(f"/generations/{generation_id}/status").get_data(as_text=True)
    assert page.count("Product kept") + page.count("Product changed: check the shape") == 2
    assert "Local previews are made on this server without AI" in page


def test_a_broken_check_stores_the_images_unchecked(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(execution, "structure_score", broken)
    mug = structure_pairs.render(structure_pairs.BASES[1])
    generation_id = _finished(app, "ip-change", source_image=_png(mug),
                              character_image=png_bytes((200, 200), (250, 120, 160)))
    assert _checks(app, generation_id) == [(None, False), (None, False)]
