"""Exports (shared/API.md, "Export"): GET /api/projects/:id/export as a streamed zip with descriptive
unique names, manifest.csv and manifest.json matching the images exactly, PNG text chunks, formats, 2K
with 202 while the upscales are made, roles, refusals that write nothing, and memory bounded by one
image however many the zip holds."""
from __future__ import annotations

import csv
import io
import json
import tracemalloc
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select

from mockup import storage
from mockup.errors import NotFound
from mockup.extensions import db
from mockup.models import Generation, ImageJob, Image as ImageRow
from mockup.services import exports

from .api_support import assert_error, sign_up
from .conftest import png_bytes, snapshot
from .factories import create_character, create_project, finished_generation
from .job_runner import run_image_job, run_queued_jobs, use_upscale

COLUMNS = ["file", "image_id", "generation_id", "batch_id", "mode", "characters", "prompt", "review_state",
           "created_at", "cost_usd"]


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def _manifests(archive: zipfile.ZipFile) -> tuple[list[dict], dict]:
    rows = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8"))))
    return rows, json.loads(archive.read("manifest.json"))


def _images(archive: zipfile.ZipFile) -> list[str]:
    return [name for name in archive.namelist() if not name.startswith("manifest.")]


@pytest.fixture
def line(app, alice) -> dict:
    """A Korean-named project with a Korean-named character, two finished generations (two candidates
    each, so their names collide), every candidate saved to the history."""
    project_id = create_project(alice, "봄 머그컵 시리즈")
    character_id = create_character(alice, project_id, "토끼")
    generations = [finished_generation(app, alice, project_id, character_id) for _ in range(2)]
    image_ids = [image_id for _, ids in generations for image_id in ids]
    for image_id in image_ids:
        assert alice.post(f"/api/history/{image_id}/save", json={}).status_code in (200, 201)
    return {"project_id": project_id, "generations": [generation_id for generation_id, _ in generations],
            "image_ids": image_ids}


def _export(api, project_id: str, **query):
    suffix = "&".join(f"{name}={value}" for name, value in query.items())
    return api.get(f"/api/projects/{project_id}/export" + (f"?{suffix}" if suffix else ""))


def test_history_export_holds_every_image_under_unique_korean_names(alice, line):
    response = _export(alice, line["project_id"])
    assert response.is_streamed  # written as it is sent, never a body built beforehand
    archive = _zip(response)
    names = _images(archive)
    assert len(names) == 4 and len({name.casefold() for name in names}) == 4
    assert all(name.startswith("봄-머그컵-시리즈_ip-change_토끼_c") and name.endswith(".png") for name in names)
    # The two generations' candidates share project, product, character, candidate and date: suffixed.
    assert sum(name.count("-2.png") for name in names) == 2
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert all(archive.getinfo(name).flag_bits & 0x800 for name in names)  # UTF-8 names, as unzip reads them


def test_manifests_match_the_images_exactly(app, alice, line):
    archive = _zip(_export(alice, line["project_id"]))
    rows, manifest = _manifests(archive)
    header = archive.read("manifest.csv").decode("utf-8").splitlines()[0]
    assert header.split(",") == COLUMNS
    assert [row["file"] for row in rows] == _images(archive)
    assert {row["image_id"] for row in rows} == set(line["image_ids"])
    assert manifest["project"] == alice.get(f"/api/projects/{line['project_id']}").get_json()["project"]
    assert manifest["scope"] == "history" and manifest["created_at"].endswith("Z")
    assert [file["file"] for file in manifest["files"]] == [row["file"] for row in rows]
    with app.app_context():
        for row, file in zip(rows, manifest["files"]):
            image = db.session.get(ImageRow, row["image_id"])
            generation = image.generation
            assert list(file) == COLUMNS
            assert file["characters"] == ["토끼"] and row["characters"] == "토끼"
            assert file["generation_id"] == row["generation_id"] == generation.id
            assert file["batch_id"] is None and row["batch_id"] == ""
            assert file["mode"] == row["mode"] == "ip-change"
            assert file["prompt"] == row["prompt"] == generation.prompt
            assert file["review_state"] == row["review_state"] == "none"
            assert file["cost_usd"] == pytest.approx(generation.cost_usd / len(generation.images))
            assert float(row["cost_usd"]) == pytest.approx(file["cost_usd"])
            assert file["created_at"] == row["created_at"]
            with Image.open(io.BytesIO(archive.read(row["file"]))) as picture:
                assert picture.size == (image.width, image.height)


def test_exported_pngs_carry_their_text_chunks(app, alice, line):
    archive = _zip(_export(alice, line["project_id"]))
    rows, _ = _manifests(archive)
    with app.app_context():
        model = app.config["MOCKUP_ENGINE"]  # the local engine names itself; Gemini names its model
        for row in rows:
            data = archive.read(row["file"])
            with Image.open(io.BytesIO(data)) as picture:
                picture.load()
                assert picture.text == {"prompt": row["prompt"], "characters": "토끼", "model": model,
                                        "image_id": row["image_id"], "generation_id": row["generation_id"]}
            assert b"tEXtprompt" in data and b"iTXtcharacters" in data  # Latin-1 as tEXt, Korean as iTXt
            stored = storage.read(db.session.get(ImageRow, row["image_id"]).path)
            assert data.startswith(stored[:33]) and data.endswith(stored[33:])  # the pixels as stored


@pytest.mark.parametrize("fmt, pillow_format, ext", [("jpeg", "JPEG", "jpg"), ("webp", "WEBP", "webp")])
def test_other_formats_convert_every_image(alice, line, fmt, pillow_format, ext):
    archive = _zip(_export(alice, line["project_id"], format=fmt))
    names = _images(archive)
    assert len(names) == 4 and all(name.endswith(f".{ext}") for name in names)
    for name in names:
        with Image.open(io.BytesIO(archive.read(name))) as picture:
            assert picture.format == pillow_format
            assert pillow_format != "JPEG" or picture.mode == "RGB"


def test_selected_and_approved_scopes(alice, line):
    first, second = line["generations"]
    chosen = alice.get(f"/api/generations/{first}/images").get_json()["items"][1]["id"]
    assert alice.post(f"/api/generations/{first}/select", json={"image_id": chosen}).status_code == 200
    approved = line["image_ids"][2]
    assert alice.post(f"/api/images/{approved}/review", json={"state": "approved"}).status_code == 200
    rows, manifest = _manifests(_zip(_export(alice, line["project_id"], scope="selected")))
    assert [row["image_id"] for row in rows] == [chosen] and manifest["scope"] == "selected"
    assert "_c2_" in rows[0]["file"]
    rows, _ = _manifests(_zip(_export(alice, line["project_id"], scope="approved")))
    assert [(row["image_id"], row["review_state"]) for row in rows] == [(approved, "approved")]


def test_2k_export_answers_processing_until_every_upscale_exists(app, alice, line, monkeypatch):
    use_upscale(monkeypatch, lambda picture, upscaler: picture.resize((2048, 1536)))
    response = _export(alice, line["project_id"], size="2k")
    assert response.status_code == 202 and int(response.headers["Retry-After"]) > 0
    assert response.get_json() == {"status": "processing", "ready": 0, "total": 4}
    with app.app_context():
        jobs = list(db.session.scalars(select(ImageJob)))
        assert len(jobs) == 4 and {job.priority for job in jobs} == {10}  # batch priority
        assert run_image_job(app, jobs[0].id) == "succeeded"
        rest = [job.id for job in jobs[1:]]
    assert _export(alice, line["project_id"], size="2k").get_json() == {"status": "processing", "ready": 1, "total": 4}
    with app.app_context():
        assert len(list(db.session.scalars(select(ImageJob)))) == 4  # asking again joined the same jobs
    for job_id in rest:
        assert run_image_job(app, job_id) == "succeeded"
    archive = _zip(_export(alice, line["project_id"], size="2k", format="jpeg"))
    for name in _images(archive):
        with Image.open(io.BytesIO(archive.read(name))) as picture:
            assert picture.size == (2048, 1536) and picture.format == "JPEG"


def test_a_failed_upscale_is_reported_once_and_queued_again(app, alice, line, monkeypatch):
    def broken(picture, upscaler):
        raise RuntimeError("no GPU today")

    use_upscale(monkeypatch, broken)
    assert _export(alice, line["project_id"], size="2k").status_code == 202
    with app.app_context():
        job_id = db.session.scalar(select(ImageJob.id))
    run_image_job(app, job_id)
    assert_error(_export(alice, line["project_id"], size="2k"), 503, "UNAVAILABLE")
    assert _export(alice, line["project_id"], size="2k").status_code == 202


def test_a_viewer_exports_and_a_stranger_gets_404(client, alice, line):
    viewer = sign_up(client, "vera@example.com", "Vera")
    response = alice.post(f"/api/projects/{line['project_id']}/members", json={"email": "vera@example.com",
                                                                              "role": "viewer"})
    assert response.status_code == 201
    assert len(_images(_zip(_export(viewer, line["project_id"])))) == 4
    stranger = sign_up(client, "sam@example.com", "Sam")
    assert_error(_export(stranger, line["project_id"]), 404, "NOT_FOUND")


@pytest.mark.parametrize("query, field", [
    ({"scope": "everything"}, "scope"), ({"format": "gif"}, "format"), ({"size": "4k"}, "size"),
])
def test_bad_choices_are_refused_and_write_nothing(app, alice, line, query, field):
    before = snapshot(app)
    assert_error(_export(alice, line["project_id"], **{"size": "2k", **query}), 422, "VALIDATION", field)
    assert snapshot(app) == before
    with app.app_context():
        assert db.session.scalar(select(ImageJob)) is None  # no upscale was started either


def test_an_unknown_batch_and_an_empty_scope_say_why(app, alice, line):
    before = snapshot(app)
    assert_error(_export(alice, line["project_id"], scope="batch:" + "a" * 32), 404, "NOT_FOUND")
    body = assert_error(_export(alice, line["project_id"], scope="approved"), 422, "VALIDATION", "scope")
    assert body["message"] == "There is nothing to export: no image of this project is approved yet."
    assert snapshot(app) == before


def test_a_batch_exports_every_cell_in_contact_sheet_order_named_by_product(app, alice, bob, line):
    character_id = create_character(alice, line["project_id"], "Fox")
    made = alice.post("/api/batches", data={
        "project_id": line["project_id"], "mode": "ip-change", "character_id": [character_id],
        "source_image": [(io.BytesIO(png_bytes((640, 480), colour)), f"p{number}.png")
                         for number, colour in enumerate(((200, 40, 40), (40, 40, 200)))]},
        content_type="multipart/form-data")
    assert made.status_code == 202, made.get_json()
    batch_id = made.get_json()["batch"]["id"]
    run_queued_jobs(app)
    archive = _zip(_export(alice, line["project_id"], scope=f"batch:{batch_id}"))
    rows, manifest = _manifests(archive)
    assert manifest["scope"] == f"batch:{batch_id}" and {row["batch_id"] for row in rows} == {batch_id}
    assert [row["file"].split("_")[1] for row in rows] == ["ip-change-1"] * 2 + ["ip-change-2"] * 2
    assert sorted(_images(archive)) == sorted(row["file"] for row in rows)
    assert_error(_export(bob, line["project_id"], scope=f"batch:{batch_id}"), 404, "NOT_FOUND")


def test_export_images_takes_an_explicit_selection_across_projects(app, alice, bob, line):
    other = create_project(alice, "Keyrings")
    _, (extra, _) = finished_generation(app, alice, other, create_character(alice, other, "Fox"))
    wanted = [line["image_ids"][3], extra, line["image_ids"][3]]  # twice: exported once
    with app.test_request_context():
        result = exports.export_images(alice.user["id"], wanted, "png", "1k")
        assert result.project is None and result.scope == "selection"
        assert [file.record["image_id"] for file in result.files] == wanted[:2]
        assert result.files[1].name.startswith("keyrings_ip-change_fox_c1_")
        with pytest.raises(NotFound):
            exports.export_images(bob.user["id"], wanted, "png", "1k")


def test_the_stream_holds_one_image_at_a_time(app, alice, line):
    """200 files of a 512 px picture: the peak of Python's allocations while the whole zip is read
    stays near one chunk, far below the zip's size (bench/export_bench.py measures the process's
    resident memory on bigger ones)."""
    picture = Image.effect_noise((512, 512), 64).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    with app.test_request_context():
        source = db.session.get(ImageRow, line["image_ids"][0])
        storage.write_atomic(source.path, buffer.getvalue())
        plan = exports.export_project(alice.user["id"], line["project_id"], "history", "png", "1k")
        files = [exports.ExportFile(f"{number}.png", source.path, plan.files[0].record, plan.files[0].text)
                 for number in range(200)]
        export = exports.Export(plan.project, plan.role, "history", "png", files)
        tracemalloc.start()
        total = sum(len(chunk) for chunk in exports.stream(export, None))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert total > 200 * len(buffer.getvalue())
    assert peak < total / 20, (peak, total)


def test_generation_cost_is_shared_by_its_candidates(app, alice, line):
    with app.app_context():
        generation = db.session.get(Generation, line["generations"][0])
        generation.cost_usd = 0.3
        db.session.commit()
    _, manifest = _manifests(_zip(_export(alice, line["project_id"])))
    costs = [file["cost_usd"] for file in manifest["files"] if file["generation_id"] == line["generations"][0]]
    assert costs == [0.15, 0.15]
