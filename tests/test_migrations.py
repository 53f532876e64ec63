"""`flask db upgrade` on an empty database creates exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from mockup import create_app
from mockup.extensions import db


def _schema_diff(app):
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)


def _app(app_config, url):
    return create_app({**app_config, "SQLALCHEMY_DATABASE_URI": url})


def test_upgrade_matches_models_on_sqlite(app_config, tmp_path):
    app = _app(app_config, f"sqlite:///{tmp_path / 'migrated.sqlite3'}")
    assert _schema_diff(app) == []


def test_upgrade_matches_models_on_postgres(app_config, postgres_url):
    app = _app(app_config, postgres_url)
    assert _schema_diff(app) == []
    with app.app_context():
        downgrade(revision="base")
        db.engine.dispose()


def test_cli_upgrade_on_empty_database(app_config, tmp_path):
    app = _app(app_config, f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert {"users", "projects", "characters", "generations", "images", "history_entries"} <= set(
            db.inspect(db.engine).get_table_names()
        )
