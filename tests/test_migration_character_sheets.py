"""Migration 0011 on SQLite and PostgreSQL: each character's one picture (with its cut-out) becomes its
first image, the front view, with nothing lost; going back down gives the character its picture again."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from mockup import create_app
from mockup.extensions import db
from mockup.models import Character
from mockup.services import characters as character_service

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
USER, PROJECT = "a" * 32, "b" * 32
PLAIN, CUT = "c" * 32, "d" * 32


def _rows_before_sheets() -> None:
    """A user's project with two characters as revision 0008 stores them: one with its cut-out in use."""
    db.session.execute(text(
        "INSERT INTO users (id, email, name, password_hash, is_admin, disabled, created_at) "
        "VALUES (:id, 'm@example.com', 'M', 'x', false, false, :now)"), {"id": USER, "now": NOW})
    db.session.execute(text(
        "INSERT INTO projects (id, owner_id, name, description, created_at, updated_at) "
        "VALUES (:id, :owner, 'Mugs', '', :now, :now)"), {"id": PROJECT, "owner": USER, "now": NOW})
    for character_id, cutout in ((PLAIN, None), (CUT, f"characters/{USER}/{CUT}_cutout.png")):
        db.session.execute(text(
            "INSERT INTO characters (id, project_id, name, image_path, thumbnail_path, cutout_path, use_cutout, "
            "created_at) VALUES (:id, :project, :name, :image, :thumb, :cutout, :use, :now)"),
            {"id": character_id, "project": PROJECT, "name": f"C{character_id[0]}",
             "image": f"characters/{USER}/{character_id}.png", "thumb": f"characters/{USER}/{character_id}_thumb.jpg",
             "cutout": cutout, "use": cutout is not None, "now": NOW})
    db.session.commit()


def _check_migration(app) -> None:
    with app.app_context():
        upgrade(revision="0008")
        _rows_before_sheets()
        upgrade()  # to the head: the models read the rows as the code does
        db.session.expire_all()
        plain, cut = db.session.get(Character, PLAIN), db.session.get(Character, CUT)
        assert plain.description == "" and [image.view for image in plain.images] == ["front"]
        assert plain.first_image.id == PLAIN
        assert plain.first_image.image_path == f"characters/{USER}/{PLAIN}.png"
        assert plain.first_image.thumbnail_path == f"characters/{USER}/{PLAIN}_thumb.jpg"
        assert plain.first_image.picture_path == plain.first_image.image_path
        assert cut.first_image.use_cutout and cut.first_image.picture_path == f"characters/{USER}/{CUT}_cutout.png"
        # The sheet works on migrated rows: the cut-out routes find the first image's files.
        assert character_service.picture_file(USER, CUT) == f"characters/{USER}/{CUT}_cutout.png"
        assert character_service.picture_file(USER, CUT, "original") == f"characters/{USER}/{CUT}.png"
        db.session.remove()

        downgrade(revision="0008")
        rows = db.session.execute(text(
            "SELECT id, image_path, thumbnail_path, cutout_path, use_cutout FROM characters ORDER BY id")).all()
        assert [tuple(row) for row in rows] == [
            (PLAIN, f"characters/{USER}/{PLAIN}.png", f"characters/{USER}/{PLAIN}_thumb.jpg", None, False),
            (CUT, f"characters/{USER}/{CUT}.png", f"characters/{USER}/{CUT}_thumb.jpg",
             f"characters/{USER}/{CUT}_cutout.png", True),
        ]
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_the_picture_moves_to_the_first_image_on_sqlite(app_config, tmp_path):
    _check_migration(create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"}))


def test_the_picture_moves_to_the_first_image_on_postgres(app_config, postgres_url):
    _check_migration(create_app({**app_config, "SQLALCHEMY_DATABASE_URI": postgres_url}))
