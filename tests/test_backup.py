"""`flask backup create PATH` and `flask backup restore PATH` (issue 15): one archive holding a consistent
snapshot of the database and the stored files, made while the app runs; restored into an empty
installation every row of every table and every file comes back, on SQLite and on PostgreSQL. A restore
into an installation that holds anything, or from a damaged archive, is refused and changes nothing."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
import shlex
import stat
import subprocess
import sys
import tarfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy
import yaml
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, select

from mockup import create_app
from mockup.extensions import db
from mockup.models import Generation, User
from mockup.services import accounts, batches, edits, history, image_jobs, images, members, review, staging, tokens, users

from .conftest import AuthActions, base_config, drop_database, files_under, png_bytes, recreate_database
from .fixtures_stack import ROOT
from .factories import create_character, create_project, finished_generation
from .job_runner import run_job

PASSWORD = "correct horse"


@contextmanager
def installation(folder: Path, database_url: str | None = None) -> Iterator[Flask]:
    """An installation as `flask db upgrade` leaves it: migrated tables, an empty DATA_DIR."""
    folder.mkdir()
    config = base_config(folder)
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = database_url
    app = create_app(config)
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_installations(request, tmp_path) -> Iterator[tuple[Flask, Flask]]:
    """The one a backup is made of, and an empty one to restore it into, on the same kind of database."""
    if request.param == "sqlite":
        with installation(tmp_path / "source") as source, installation(tmp_path / "target") as target:
            yield source, target
        return
    source_url = request.getfixturevalue("postgres_url")
    target_name = f"mockup_restore_{os.getpid()}"
    target_url = recreate_database(target_name)
    try:
        with installation(tmp_path / "source", source_url) as source, \
                installation(tmp_path / "target", target_url) as target:
            yield source, target
    finally:
        drop_database(target_name)


def fill(app: Flask) -> None:
    """A user's work touching every table: a sign-in of each kind, a project with a character, a
    finished generation, an edit of one of its images (which closes the generations-images cycle), the
    edit's results, a history entry, a queued upscale, a colleague who reviews and comments, a deleted
    image's tombstone, an upload kept for a form, a batch and (the user is the installation's admin) an
    invitation and a password-reset link."""
    client = app.test_client()
    AuthActions(client).register()
    project_id = create_project(client)
    generation_id, (image_id, other_id) = finished_generation(app, client, project_id,
                                                              create_character(client, project_id))
    with app.app_context():
        owner = db.session.get(Generation, generation_id).owner_id
        tokens.login("designer@example.com", PASSWORD)
        history.save_to_history(owner, image_id, "the one with the bunny, ünïcode kept")
        edit_id = edits.submit_edit(owner, generation_id, image_id, "make it red",
                                    region={"x": 1, "y": 1, "width": 9, "height": 9}).id
        image_jobs.request_upscale_in_background(owner, image_id)
        colleague = accounts.register("colleague@example.com", PASSWORD, "Colleague").id
        members.add_member(owner, project_id, "colleague@example.com", "reviewer")
        review.set_review(colleague, image_id, "approved", "Lovely, ünïcode too")
        review.add_comment(colleague, image_id, "The ear", {"x": 1, "y": 2, "width": 3, "height": 4})
        images.delete_image(owner, other_id)
        staging.keep(owner, png_bytes((90, 90)), "kept.png")
        batches.create_batch(owner, project_id, mode="sketch-to-real", sources=[png_bytes((90, 90))], character_ids=[],
                             options=batches.Options(prompt="a batch of one"))
        users.invite(owner, "colleague@example.com")
        users.issue_password_reset(owner, owner)
        db.session.remove()
    assert run_job(app, edit_id) == "succeeded"


def every_row(app: Flask) -> dict[str, list[tuple]]:
    with app.app_context():
        rows = {table.name: [tuple(row) for row in db.session.execute(select(table).order_by(*table.primary_key))]
                for table in db.metadata.sorted_tables}
        db.session.remove()
    return rows


def every_file(app: Flask) -> dict[str, str]:
    folder = Path(app.config["DATA_DIR"])
    return {rel: hashlib.sha256((folder / rel).read_bytes()).hexdigest() for rel in files_under(folder)}


def cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["backup", *args])


def test_a_backup_restores_every_row_and_every_file(two_installations, tmp_path):
    source, target = two_installations
    fill(source)
    rows, files = every_row(source), every_file(source)
    assert all(rows.values()), {name: len(table) for name, table in rows.items()}  # every table has rows
    archive = tmp_path / "mockup-backup.tar"

    made = cli(source, "create", str(archive))
    assert made.exit_code == 0, made.output
    total = sum(len(table) for table in rows.values())
    assert f"Backed up {total} rows in {len(rows)} tables and {len(files)} files" in made.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds password hashes

    restored = cli(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert every_row(target) == rows
    assert every_file(target) == files
    with target.app_context():  # the restored installation works: the user signs in with their password
        assert tokens.login("designer@example.com", PASSWORD).user.email == "designer@example.com"


def test_the_manifest_names_the_revision_the_counts_and_every_checksum(tmp_path):
    with installation(tmp_path / "site") as app:
        fill(app)
        archive = tmp_path / "backup.tar"
        assert cli(app, "create", str(archive)).exit_code == 0
        rows, files = every_row(app), every_file(app)
        with app.app_context():
            revision = db.session.scalar(sqlalchemy.text("SELECT version_num FROM alembic_version"))
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        members = {name: hashlib.sha256(tar.extractfile(name).read()).hexdigest()
                   for name in tar.getnames() if name != "manifest.json"}
    assert manifest["format"] == 1 and manifest["alembic_revision"] == revision and manifest["database"] == "sqlite"
    assert manifest["created_at"]
    assert {name: table["rows"] for name, table in manifest["tables"].items()} == {n: len(t) for n, t in rows.items()}
    assert manifest["files"] == files
    assert members == {**{f"tables/{name}.jsonl": table["sha256"] for name, table in manifest["tables"].items()},
                       **{f"files/{rel}": digest for rel, digest in files.items()}}


def test_the_snapshot_ignores_what_is_written_while_it_is_taken(postgres_url, tmp_path):
    """Another connection commits a user after the snapshot read its first table: the archive holds the
    database as it was when the snapshot began, and the live database keeps the new user."""
    with installation(tmp_path / "site", postgres_url) as app:
        fill(app)
        writer = sqlalchemy.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        written = []

        def write_meanwhile(connection, cursor, statement, *args) -> None:
            if not written and "FROM users" in statement:
                with writer.begin() as other:
                    other.execute(sqlalchemy.insert(User.__table__).values(
                        id="f" * 32, email="late@example.com", name="Late", password_hash="x", is_admin=False))
                written.append(True)

        with app.app_context():
            event.listen(db.engine, "after_cursor_execute", write_meanwhile)
        try:
            made = cli(app, "create", str(tmp_path / "backup.tar"))
        finally:
            with app.app_context():
                event.remove(db.engine, "after_cursor_execute", write_meanwhile)
            writer.dispose()
        assert made.exit_code == 0, made.output
        assert written
        assert len(every_row(app)["users"]) == 3  # fill's two, and the late one
    with tarfile.open(tmp_path / "backup.tar") as tar:
        users = tar.extractfile("tables/users.jsonl").read().decode().splitlines()
    assert sorted(json.loads(line)["email"] for line in users) == ["colleague@example.com", "designer@example.com"]


@pytest.fixture
def archive_of_work(tmp_path) -> Path:
    with installation(tmp_path / "made") as app:
        fill(app)
        assert cli(app, "create", str(tmp_path / "backup.tar")).exit_code == 0
    return tmp_path / "backup.tar"


def before_and_after(app: Flask, archive: Path) -> tuple[tuple, tuple, str]:
    before = (every_row(app), every_file(app))
    refused = cli(app, "restore", str(archive))
    assert refused.exit_code == 1
    return before, (every_row(app), every_file(app)), refused.output


def test_a_restore_into_a_database_with_rows_is_refused(archive_of_work, tmp_path):
    with installation(tmp_path / "busy") as app:
        AuthActions(app.test_client()).register("someone@example.com")
        before, after, message = before_and_after(app, archive_of_work)
    assert "already holds rows (in users, login_sessions)" in message and "empty installation" in message
    assert after == before


def test_a_restore_into_a_data_dir_with_files_is_refused(archive_of_work, tmp_path):
    with installation(tmp_path / "busy") as app:
        stray = Path(app.config["DATA_DIR"]) / "uploads" / "left-over.png"
        stray.parent.mkdir(parents=True)
        stray.write_bytes(b"old")
        before, after, message = before_and_after(app, archive_of_work)
    assert "DATA_DIR" in message and "already holds stored files" in message
    assert after == before


def test_a_damaged_archive_is_refused_and_restores_nothing(archive_of_work, tmp_path):
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive_of_work) as original, tarfile.open(damaged, "w") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read()
            if member.name == "tables/projects.jsonl":
                data = data.replace(b"Spring mugs", b"Spring mugz")
            copy.addfile(member, fileobj=io.BytesIO(data))
    with installation(tmp_path / "empty") as app:
        before, after, message = before_and_after(app, damaged)
    assert "tables/projects.jsonl in the backup does not match its checksum" in message
    assert after == before and before[1] == {}


def test_a_file_that_fails_its_checksum_leaves_neither_rows_nor_files(archive_of_work, tmp_path):
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive_of_work) as original, tarfile.open(damaged, "w") as copy:
        members = original.getmembers()
        last_file = [member.name for member in members if member.name.startswith("files/")][-1]
        for member in members:
            data = original.extractfile(member).read()
            copy.addfile(member, fileobj=io.BytesIO(data[::-1] if member.name == last_file else data))
    with installation(tmp_path / "empty") as app:
        before, after, message = before_and_after(app, damaged)
    assert "does not match its checksum" in message
    assert after == before and before[1] == {}  # the files written before the bad one were removed


@pytest.mark.parametrize("content", [b"", b"not a tar at all"])
def test_something_that_is_not_a_backup_is_refused(tmp_path, content):
    path = tmp_path / "notes.tar"
    path.write_bytes(content)
    with installation(tmp_path / "empty") as app:
        _, _, message = before_and_after(app, path)
    assert "not" in message and "Mockup Studio backup" in message


def test_create_never_overwrites_a_file_nor_leaves_half_an_archive(tmp_path):
    with installation(tmp_path / "site") as app:
        existing = tmp_path / "backup.tar"
        existing.write_bytes(b"yesterday's backup")
        refused = cli(app, "create", str(existing))
        assert refused.exit_code == 1 and "already exists" in refused.output
        assert existing.read_bytes() == b"yesterday's backup"
        missing_folder = cli(app, "create", str(tmp_path / "nowhere" / "backup.tar"))
        assert missing_folder.exit_code == 1 and "does not exist" in missing_folder.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["backup.tar", "site"]


def test_create_needs_a_migrated_database(app, tmp_path):
    """The `app` fixture's tables come from create_all, with no Alembic revision to record."""
    refused = cli(app, "create", str(tmp_path / "backup.tar"))
    assert refused.exit_code == 1 and "flask db upgrade" in refused.output
    assert not (tmp_path / "backup.tar").exists()


def test_the_scheduled_command_of_the_compose_file_runs_as_written(tmp_path, postgres_url):
    """The crontab line in docker-compose.yml, minus `docker compose run`: the command web's container
    runs, in web's environment (production settings, PostgreSQL), into the backups volume."""
    compose = (ROOT / "docker-compose.yml").read_text()
    line = re.search(r"docker compose run --rm -T web (flask .+ backup create) /backups/.+\.tar$", compose, re.M)
    assert line and "backups:/backups" in yaml.safe_load(compose)["x-app"]["volumes"]
    data_dir = tmp_path / "data"
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATA_DIR": str(data_dir),
           "DATABASE_URL": postgres_url, "METRICS_DIR": str(tmp_path / "metrics"), "LOG_FORMAT": "json",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    archive = tmp_path / "mockup-2026-12-01.tar"
    done = subprocess.run([*shlex.split(line.group(1)), str(archive)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Backed up 0 rows in" in done.stdout and tarfile.is_tarfile(archive)


@pytest.mark.parametrize("manifest", [{"format": 2, "tables": {}, "files": {}}, {"format": 1}, ["not", "an", "object"],
                                      {"format": 1, "tables": {"users": "x"}, "files": {}}])
def test_an_archive_with_a_foreign_manifest_is_refused(tmp_path, manifest):
    path = tmp_path / "odd.tar"
    data = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with installation(tmp_path / "empty") as app:
        before, after, message = before_and_after(app, path)
    assert "format" in message or "damaged" in message
    assert after == before
