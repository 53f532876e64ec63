"""On PostgreSQL, a page of a large project's lists is read along an index (issue 14, "Indexes"): the
planner, given thousands of rows (built in bulk, then ANALYZE), does no sequential scan of the big tables
for the statements the services really run, on the first page or deep in a list."""
from __future__ import annotations

import re

import pytest
from datetime import timedelta

from sqlalchemy import event, insert, select, text

from mockup.extensions import db
from mockup.jobs import order
from mockup.models import Character, Generation, Image, Project, User, new_id, utcnow
from mockup.services import estimates, gallery, generations, history, review
from mockup.services.paging import PageRequest

from .bulk import build
from .conftest import app_with_tables, base_config

ROWS = 3000
BIG_TABLES = ("history_entries", "images", "generations", "comments", "characters")
SORTED_AT_MOST = 500  # rows: a few pages' worth
LINES, LINE_SIZE = 20, 500


@pytest.fixture
def big(tmp_path, postgres_url):
    """Two owners with a large project each, analyzed."""
    with app_with_tables({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": postgres_url}) as app, \
            app.app_context():
        owners = [User(email=f"owner{number}@example.com", name=f"Owner {number}", password_hash="x")
                  for number in range(2)]
        db.session.add_all(owners)
        db.session.commit()
        built = [build(owner.id, ROWS) for owner in owners]
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        yield owners[0].id, built[0]


def statements_of(call) -> list[tuple[str, dict]]:
    """The SQL statements (with their parameters) a service call runs."""
    ran = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:
        ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    return ran


def sequential_scans(statement: str, parameters) -> list[str]:
    plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql("EXPLAIN " + statement, parameters))
    return [table for table in BIG_TABLES if re.search(rf"Seq Scan on {table}\b", plan)]


def plan_nodes(statement: str, parameters) -> list[dict]:
    """Every node of the plan of the statement's run (EXPLAIN ANALYZE)."""
    run = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
    nodes, found = [run.scalar()[0]["Plan"]], []
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        found.append(node)
    return found


def rows_read(statement: str, parameters, table: str) -> int:
    """The rows of `table` the statement's run read (kept or filtered out), over all its scans."""
    return sum((node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
               for node in plan_nodes(statement, parameters) if node.get("Relation Name") == table)


def full_sorts(statement: str, parameters) -> list[int]:
    """How many rows each plain Sort of the statement's run sorted, where a page needs a few hundred: a
    planner that misjudges how many rows match sorts them all to return the first page."""
    sorted_rows = [child["Actual Rows"] * child["Actual Loops"] for node in plan_nodes(statement, parameters)
                   if node["Node Type"] == "Sort" for child in node.get("Plans", [])]
    return [rows for rows in sorted_rows if rows > SORTED_AT_MOST]


def test_a_page_of_history_images_and_generations_uses_the_indexes(big):
    owner_id, built = big
    deep = history.list_history(owner_id, built.project_id, page=PageRequest(100))
    for _ in range(5):  # a cursor a few pages in
        deep = history.list_history(owner_id, built.project_id, page=PageRequest(100, deep.next_cursor))
    mockups = generations.recent_generations(owner_id, built.project_id, PageRequest(24))

    def cards(cursor=None) -> None:  # the project page: a page of generations, then their first candidates
        found = generations.recent_generations(owner_id, built.project_id, PageRequest(24, cursor))
        generations.first_images([generation.id for generation in found.items])

    calls = {
        "history": lambda: history.list_history(owner_id, built.project_id, page=PageRequest(100)),
        "history deep": lambda: history.list_history(owner_id, built.project_id, page=PageRequest(100, deep.next_cursor)),
        "history approved": lambda: history.list_history(owner_id, built.project_id, "approved", PageRequest(100)),
        "mockups": cards,
        "mockups deep": lambda: cards(mockups.next_cursor),
        "review filter": lambda: review.images_in_state(owner_id, built.project_id, "approved", PageRequest(24)),
        "a generation's images": lambda: generations.list_images(owner_id, built.generation_id, PageRequest(100)),
        "comments": lambda: review.list_comments(owner_id, built.image_id, PageRequest(100)),
        "gallery": lambda: gallery.gallery(owner_id, gallery.GalleryFilter(), PageRequest(48)),
        "gallery of the project": lambda: gallery.gallery(owner_id, gallery.GalleryFilter(built.project_id), PageRequest(48)),
        "gallery approved": lambda: gallery.gallery(owner_id, gallery.GalleryFilter(review_state="approved"),
                                                    PageRequest(48)),
    }
    found = {}
    for name, call in calls.items():
        for statement, parameters in statements_of(call):
            if scans := sequential_scans(statement, parameters):
                found[name] = (scans, statement)
            if sorts := full_sorts(statement, parameters):
                found[name] = (f"sorted {sorts} rows", statement)
    assert found == {}



@pytest.fixture
def lines(tmp_path, postgres_url):
    """LINES designers with a project each of LINE_SIZE generations (two images each) of its one character,
    as on a team's server, analyzed; the first designer's id and character's."""
    with app_with_tables({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": postgres_url}) as app, \
            app.app_context():
        owners = [User(email=f"designer{number}@example.com", name=f"Designer {number}", password_hash="x")
                  for number in range(LINES)]
        db.session.add_all(owners)
        db.session.flush()
        characters = [line_of(owner.id, number) for number, owner in enumerate(owners)]
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        yield owners[0].id, characters[0]


def line_of(owner_id: str, number: int) -> str:
    """One project, its character and LINE_SIZE generations of it; the character's id."""
    project = Project(owner_id=owner_id, name=f"Line {number}")
    character = Character(project=project, name=f"Character {number}")
    db.session.add_all([project, character])
    db.session.flush()
    now = utcnow()
    cells = [{"id": new_id(), "project_id": project.id, "owner_id": owner_id, "mode": "ip-change", "engine": "local",
              "source_path": "shared.png", "status": "succeeded", "character_id": character.id,
              **dict.fromkeys(("created_at", "queued_at", "started_at", "finished_at"), now - timedelta(seconds=row))}
             for row in range(LINE_SIZE)]
    db.session.execute(insert(Generation.__table__), cells)
    db.session.execute(insert(Image.__table__), [
        {"id": new_id(), "generation_id": cell["id"], "index": index, "width": 64, "height": 48, "path": "shared.png",
         "thumbnail_path": "shared.png", "created_at": cell["created_at"]} for cell in cells for index in range(2)])
    return character.id


def test_the_gallery_of_one_character_reads_a_page_not_the_character_s_every_image(lines):
    """A character's mockups are all in its project: unless the planner knows the two columns go together
    (the statistics of migration 0014), it multiplies their shares, expects a few rows where there are
    thousands, and sorts them all to give the first page."""
    owner_id, character_id = lines
    statements = statements_of(
        lambda: gallery.gallery(owner_id, gallery.GalleryFilter(character_id=character_id), PageRequest(48)))
    assert {statement: full_sorts(statement, parameters) for statement, parameters in statements} == \
        {statement: [] for statement, _ in statements}


def test_whose_turn_it_is_takes_a_step_per_waiting_owner_not_their_history(lines):
    """The fair order (every queue position, every dispatch) looks up when each waiting owner's last job
    started: one index step, where it read all of a designer's generations."""
    owner_id, character_id = lines
    waiting = db.session.scalars(select(Generation).where(Generation.owner_id == owner_id).limit(2)).all()
    for generation in waiting:
        generation.status, generation.started_at, generation.queued_at = "queued", None, utcnow()
    db.session.commit()
    assert set(order.queue_positions()) == {generation.id for generation in waiting}
    read = [rows_read(statement, parameters, "generations") for statement, parameters in statements_of(order.queue_positions)]
    assert len(read) == 1 and read[0] <= 10, read  # the 2 waiting rows, and a step for the owner's last start


def test_a_waiting_job_s_estimate_reads_the_last_runs_of_its_kind_only(lines):
    """The median of the last runs of a kind (estimates.RECENT_RUNS) is read in finish order along an
    index, not by sorting every succeeded generation of the installation."""
    read = [rows_read(statement, parameters, "generations")
            for statement, parameters in statements_of(lambda: estimates.typical_run("generate-mockup", "local"))]
    assert len(read) == 1 and read[0] <= 2 * estimates.RECENT_RUNS, read


def test_the_admin_queue_totals_read_the_period_not_the_history(lines):
    """Of the lines' 10,000 generations none is newer than `since` and none waits: nothing to read."""
    read = [rows_read(statement, parameters, "generations")
            for statement, parameters in statements_of(lambda: generations.count_by_status(utcnow()))]
    assert len(read) == 1 and read[0] <= 10, read
