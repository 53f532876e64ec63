"""Batches (shared/API.md, "Batches") on the embedded default: the service and the API. One generation
per source x character at batch priority, each source stored once; the limits (20 files, 10
characters, 50 generations), the queue limit and the budget counted for the whole batch, refusing it
whole (no row, no file); status derived from the generations; cancel; constant queries."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import event, func, select

from mockup.extensions import db
from mockup.jobs import PRIORITY_BATCH
from mockup.errors import Forbidden, Invalid, NotFound
from mockup.models import Batch, Generation
from mockup.services import accounts, batches, members

from .api_support import assert_error, assert_shape
from .conftest import files_under, png_bytes, snapshot
from .factories import character_picture, create_character, create_project
from .job_runner import run_job, run_queued_jobs


def _sources(count: int) -> list[bytes]:
    return [png_bytes((160 + index, 120), (20 * index % 255, 90, 160)) for index in range(count)]


def _post(api, project_id: str, sources: list[bytes], character_ids: list[str], **fields):
    data = {"project_id": project_id, "mode": "ip-change" if character_ids else "sketch-to-real",
            "source_image": [(io.BytesIO(source), f"product-{index}.png") for index, source in enumerate(sources)],
            "character_id": character_ids, **fields}
    return api.post("/api/batches", data=data, content_type="multipart/form-data")


@pytest.fixture
def studio(alice) -> dict:
    """alice's project with three characters."""
    project_id = create_project(alice, "Spring line")
    return {"project_id": project_id, "characters": [create_character(alice, project_id, name)
                                                     for name in ("Bunny", "Fox", "Owl")]}


def _rows_and_files(app) -> tuple[int, int, list[str]]:
    with app.app_context():
        counts = (db.session.scalar(select(func.count()).select_from(Batch)),
                  db.session.scalar(select(func.count()).select_from(Generation)))
    return (*counts, files_under(app.config["DATA_DIR"]))


def test_a_batch_is_a_generation_per_source_and_character_sharing_each_stored_source(app, alice, studio):
    response = _post(alice, studio["project_id"], _sources(2), studio["characters"][:2], prompt="glossy")
    assert response.status_code == 202, response.get_data(as_text=True)
    batch = response.get_json()["batch"]
    assert_shape(batch, "batch")
    assert response.headers["Location"] == f"/api/batches/{batch['id']}"
    assert batch["status"] == "queued" and batch["total"] == 4 and batch["finished_at"] is None
    assert batch["counts"] == {"queued": 4, "running": 0, "succeeded": 0, "failed": 0, "canceled": 0}
    assert {cell["batch_id"] for cell in batch["generations"]} == {batch["id"]}
    assert [cell["prompt"] for cell in batch["generations"]] == ["glossy"] * 4
    with app.app_context():
        cells = db.session.scalars(select(Generation).where(Generation.batch_id == batch["id"])
                                   .order_by(Generation.source_index, Generation.character_index)).all()
        assert [(cell.source_index, cell.character_index) for cell in cells] == [(0, 0), (0, 1), (1, 0), (1, 1)]
        assert {cell.priority for cell in cells} == {PRIORITY_BATCH}
        assert cells[0].source_path == cells[1].source_path != cells[2].source_path == cells[3].source_path
        assert cells[0].character_path == cells[2].character_path != cells[1].character_path
        assert [cell.character_id for cell in cells] == [studio["characters"][0], studio["characters"][1]] * 2
    # Two sources and two character copies stored, once each, beside the characters' own files.
    uploads = [path for path in files_under(app.config["DATA_DIR"]) if path.startswith("uploads/")]
    assert len(uploads) == 4

    run_queued_jobs(app)
    done = alice.get(f"/api/batches/{batch['id']}").get_json()["batch"]
    assert done["status"] == "succeeded" and done["counts"]["succeeded"] == 4
    assert done["finished_at"] == max(cell["finished_at"] for cell in done["generations"])
    assert all(len(cell["images"]) == 2 for cell in done["generations"])


def test_each_cell_asks_for_the_batchs_candidates_and_size_with_its_characters_whole_sheet(app, alice, studio):
    """A batch's options reach every generation, and each cell carries its character's every view and
    description."""
    bunny, fox = studio["characters"][:2]
    side = alice.post(f"/api/characters/{bunny}/images", data={
        "image": (io.BytesIO(character_picture()), "side.png"), "view": "side"}, content_type="multipart/form-data")
    assert side.status_code == 201, side.get_json()
    assert alice.patch(f"/api/characters/{bunny}", json={"description": "Long ears, red scarf"}).status_code == 200
    answer = _post(alice, studio["project_id"], _sources(1), [bunny, fox], candidates="3", image_size="2K")
    assert answer.status_code == 202, answer.get_json()
    cells = answer.get_json()["batch"]["generations"]
    assert [(cell["candidates"], cell["image_size"]) for cell in cells] == [(3, "2K"), (3, "2K")]
    with app.app_context():
        rows = {row.character_id: row for row in db.session.scalars(select(Generation))}
        assert [view["view"] for view in rows[bunny].character_views] == ["front", "side"]
        assert rows[bunny].character_description == "Long ears, red scarf"
        assert [view["view"] for view in rows[fox].character_views] == ["front"]


def test_sketch_to_real_makes_one_generation_per_source(app, alice, studio):
    response = _post(alice, studio["project_id"], _sources(3), [])
    assert response.status_code == 202, response.get_data(as_text=True)
    batch = response.get_json()["batch"]
    assert batch["mode"] == "sketch-to-real" and batch["total"] == 3


@pytest.mark.parametrize(("sources", "characters", "field"), [
    (21, 1, "source_image"), (1, 11, "character_id"), (6, 9, "source_image"), (0, 1, "source_image"),
])
def test_limits_refuse_the_whole_batch(app, alice, studio, sources, characters, field):
    """21 files, 11 characters, 51 generations (6 x 9 = 54 here) or none: 422 and nothing written."""
    project_id = studio["project_id"]
    ids = studio["characters"] + [create_character(alice, project_id, f"C{index}") for index in range(characters - 3)]
    before = _rows_and_files(app)
    response = _post(alice, project_id, _sources(sources), ids[:characters])
    assert_error(response, 422, "VALIDATION", field)
    assert _rows_and_files(app) == before


def test_fifty_one_generations_are_refused_by_the_service(app, alice, studio):
    """The service's own limit (the pages reach it without the API's schema): 17 x 3 = 51."""
    with app.app_context(), pytest.raises(Invalid) as refused:
        batches.create_batch(alice.user["id"], studio["project_id"], mode="ip-change", sources=_sources(17),
                             character_ids=studio["characters"], options=batches.Options())
    assert refused.value.fields["source_image"] == batches.TOO_MANY_MESSAGE
    assert _rows_and_files(app)[:2] == (0, 0)


def test_a_batch_that_does_not_fit_in_the_queue_is_refused_whole(app, alice, studio):
    app.config["QUEUE_LIMIT"] = 5
    assert _post(alice, studio["project_id"], _sources(1), studio["characters"][:2]).status_code == 202
    before = snapshot(app)
    response = _post(alice, studio["project_id"], _sources(2), studio["characters"][:2])  # 2 + 4 > 5
    assert_error(response, 503, "QUEUE_FULL")
    assert response.headers["Retry-After"]
    assert snapshot(app) == before
    assert _post(alice, studio["project_id"], _sources(3), studio["characters"][:1]).status_code == 202  # 2 + 3


def test_the_budget_counts_the_whole_batch(app, alice, studio):
    app.config["MOCKUP_ENGINE"] = "gemini"  # priced; nothing runs in this test
    with app.app_context():
        accounts.get_user(alice.user["id"]).monthly_budget_usd = 1.0
        db.session.commit()
    before = snapshot(app)
    # About $0.27 a generation: three fit in $1, four do not.
    response = _post(alice, studio["project_id"], _sources(2), studio["characters"][:2])
    assert_error(response, 402, "BUDGET_EXCEEDED")
    assert snapshot(app) == before
    assert _post(alice, studio["project_id"], _sources(3), studio["characters"][:1]).status_code == 202


def test_bad_input_names_the_field_and_writes_nothing(app, alice, studio, bob):
    foreign = create_character(bob, create_project(bob, "Bob's"))
    before = snapshot(app)
    cases = [
        (_sources(1) + [b"not an image"], studio["characters"][:1], {}, 415, "UNSUPPORTED_MEDIA", "source_image"),
        (_sources(1), [studio["characters"][0]] * 2, {}, 422, "VALIDATION", "character_id"),
        (_sources(1), studio["characters"][:1], {"candidates": "5"}, 422, "VALIDATION", "candidates"),
        (_sources(1), studio["characters"][:1], {"image_size": "4K"}, 422, "VALIDATION", "image_size"),
        (_sources(1), ["0" * 32], {}, 404, "NOT_FOUND", None),
        (_sources(1), [foreign], {}, 404, "NOT_FOUND", None),
    ]
    for sources, ids, fields, status, code, field in cases:
        assert_error(_post(alice, studio["project_id"], sources, ids, **fields), status, code, field)
    assert_error(_post(bob, studio["project_id"], _sources(1), [foreign]), 404, "NOT_FOUND")
    assert snapshot(app) == before


def test_the_sentences_name_the_limits():
    assert str(batches.MAX_GENERATIONS) in batches.TOO_MANY_MESSAGE
    assert (batches.MAX_SOURCES, batches.MAX_CHARACTERS) == (20, 10)  # as the sentences of _checked say


def test_status_is_derived_from_the_generations():
    def status(**counts):
        return batches.status_of({"queued": 0, "running": 0, "succeeded": 0, "failed": 0, "canceled": 0, **counts})

    assert status(queued=4) == "queued"
    assert status(queued=3, running=1) == "running"
    assert status(queued=2, succeeded=2) == "running"
    assert status(succeeded=4) == "succeeded"
    assert status(succeeded=3, failed=1) == "partial"
    assert status(succeeded=1, canceled=3) == "partial"
    assert status(failed=4) == "failed"
    assert status(failed=1, canceled=3) == "canceled"
    assert status(canceled=4) == "canceled"


def test_cancel_stops_the_waiting_and_lets_the_running_finish(app, alice, studio):
    batch = _post(alice, studio["project_id"], _sources(2), studio["characters"][:2]).get_json()["batch"]
    first, second = batch["generations"][0]["id"], batch["generations"][1]["id"]
    assert run_job(app, first) == "succeeded"
    with app.app_context():  # a worker holds the second one
        db.session.get(Generation, second).status = "running"
        db.session.commit()
    response = alice.post(f"/api/batches/{batch['id']}/cancel")
    assert response.status_code == 200, response.get_data(as_text=True)
    canceled = response.get_json()["batch"]
    assert canceled["counts"] == {"queued": 0, "running": 1, "succeeded": 1, "failed": 0, "canceled": 2}
    assert canceled["status"] == "running" and canceled["finished_at"] is None
    with app.app_context():
        db.session.get(Generation, second).status = "queued"  # as the reaper would hand it back
        db.session.commit()
    assert run_job(app, second) == "succeeded"
    done = alice.get(f"/api/batches/{batch['id']}").get_json()["batch"]
    assert done["status"] == "partial" and done["finished_at"] is not None
    assert alice.post(f"/api/batches/{batch['id']}/cancel").get_json()["batch"]["counts"] == done["counts"]


def test_a_failed_cell_makes_the_batch_partial(app, alice, studio):
    batch = _post(alice, studio["project_id"], _sources(1), studio["characters"][:2]).get_json()["batch"]
    with app.app_context():
        cell = db.session.get(Generation, batch["generations"][1]["id"])
        cell.source_path = "uploads/missing.png"  # its input is gone: the job fails
        db.session.commit()
    run_queued_jobs(app)
    done = alice.get(f"/api/batches/{batch['id']}").get_json()["batch"]
    assert done["counts"]["succeeded"] == 1 and done["counts"]["failed"] == 1
    assert done["status"] == "partial"


def test_project_batches_newest_first_and_only_for_members(app, alice, bob, studio):
    first = _post(alice, studio["project_id"], _sources(1), studio["characters"][:1]).get_json()["batch"]
    second = _post(alice, studio["project_id"], _sources(1), []).get_json()["batch"]
    items = alice.get(f"/api/projects/{studio['project_id']}/batches").get_json()["items"]
    assert [item["id"] for item in items] == [second["id"], first["id"]]
    assert_error(bob.get(f"/api/projects/{studio['project_id']}/batches"), 404, "NOT_FOUND")
    assert_error(bob.get(f"/api/batches/{first['id']}"), 404, "NOT_FOUND")
    assert_error(bob.post(f"/api/batches/{first['id']}/cancel"), 404, "NOT_FOUND")


def test_a_projects_batches_are_paged_newest_first(app, alice, studio):
    made = [_post(alice, studio["project_id"], _sources(1), []).get_json()["batch"]["id"] for _ in range(3)]
    path = f"/api/projects/{studio['project_id']}/batches"
    first = alice.get(f"{path}?limit=2").get_json()
    second = alice.get(f"{path}?limit=2&cursor={first['next_cursor']}").get_json()
    assert [item["id"] for item in first["items"] + second["items"]] == made[::-1]
    assert second["next_cursor"] is None
    assert_error(alice.get(f"{path}?cursor=not-a-cursor"), 422, "VALIDATION", "cursor")


def _queries(app, call) -> int:
    seen = []
    with app.app_context():
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            call()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_reading_a_batch_takes_the_same_queries_however_many_cells(app, alice, studio):
    """Two cells or twelve, one batch or three in a list: the same number of queries (generations,
    images, reviewers, queue places and comment counts each read once)."""
    small = _post(alice, studio["project_id"], _sources(1), studio["characters"][:2]).get_json()["batch"]
    big = _post(alice, studio["project_id"], _sources(4), studio["characters"]).get_json()["batch"]
    for cell in small["generations"][:-1] + big["generations"][:-1]:  # in each, one cell still waits
        assert run_job(app, cell["id"]) == "succeeded"
    headers = {"Authorization": f"Bearer {alice.token}"}

    def read(path: str) -> int:
        return _queries(app, lambda: alice.client.get(path, headers=headers))

    assert read(f"/api/batches/{small['id']}") == read(f"/api/batches/{big['id']}")
    two = read(f"/api/projects/{studio['project_id']}/batches")
    _post(alice, studio["project_id"], _sources(2), studio["characters"][:2])
    assert read(f"/api/projects/{studio['project_id']}/batches") == two


def test_the_service_takes_a_batch_for_editors_only_and_follows_it(app, alice, studio):
    """Services directly: an editor's batch, a viewer refused (403) and a stranger not told it exists
    (404), progress and cancel as the rows say."""
    with app.app_context():
        owner = alice.user["id"]
        editor, viewer, stranger = (accounts.register(f"{name}@example.com", "correct horse", name).id
                                    for name in ("editor", "viewer", "stranger"))
        members.add_member(owner, studio["project_id"], "editor@example.com", "editor")
        members.add_member(owner, studio["project_id"], "viewer@example.com", "viewer")
        made = batches.create_batch(editor, studio["project_id"], mode="ip-change", sources=_sources(2),
                                    character_ids=studio["characters"][:2], options=batches.Options(prompt=" soft "))
        assert made.owner_id == editor and made.options["prompt"] == "soft" and len(made.generations) == 4
        assert batches.grid(made) == [made.generations[:2], made.generations[2:]]
        with pytest.raises(Forbidden):
            batches.create_batch(viewer, studio["project_id"], mode="sketch-to-real", sources=_sources(1),
                                 character_ids=[], options=batches.Options())
        with pytest.raises(NotFound):
            batches.get_batch(stranger, made.id)
        with pytest.raises(Forbidden):
            batches.cancel_batch(viewer, made.id)
        assert batches.get_batch(viewer, made.id).id == made.id
        shown = batches.progress(made)
        assert (shown.status, shown.total, shown.done, shown.finished_at) == ("queued", 4, 0, None)
        canceled = batches.progress(batches.cancel_batch(owner, made.id))
        assert (canceled.status, canceled.counts["canceled"], canceled.done) == ("canceled", 4, 4)
        assert canceled.finished_at is not None
        assert batches.project_batches(viewer, studio["project_id"]).items == [made]
