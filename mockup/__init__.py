"""Mockup Studio: the application factory."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config

from . import logging_setup
from .imaging import segmentation
from .extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(test_config: Mapping | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.from_mapping(config.from_env())
    app.config.update(
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        BABEL_DEFAULT_LOCALE="en",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        EMBEDDED_RUNNER_AUTOSTART=True,
        # While Redis is unreachable the limits go on counting in each process's memory instead of
        # stopping, and Flask-Limiter logs the switch and the recovery (docs/SECURITY.md).
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    if test_config:
        app.config.update(test_config)
    config.check(app.config)
    segmentation.use_model(app.config["MATTING_MODEL"])
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or config.DEV_SECRET_KEY
    logging_setup.init_app(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_jobs(app)
    return app


def register_extensions(app: Flask) -> None:
    from . import auth_session, i18n, security

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_security(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    auth_session.init_login(app, login_manager)


def register_blueprints(app: Flask) -> None:
    from . import api
    from .views import auth, characters, generate, history, metrics, projects, system

    for module in (auth, projects, characters, generate, history, system, metrics, api):
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    from .api import register_app_handlers
    from .views.errors import register

    register(app)
    # After the HTML handlers: the API's app-level handlers answer /api paths and pass the rest to them.
    register_app_handlers(app)


def register_commands(app: Flask) -> None:
    from .cli import users

    app.cli.add_command(users)


def register_jobs(app: Flask) -> None:
    """Celery when REDIS_URL is set; otherwise the embedded runner in this process."""
    from .jobs.celery_app import celery_init_app

    celery_init_app(app)
    if app.config["REDIS_URL"]:
        return
    from .jobs.embedded import EmbeddedRunner

    runner = EmbeddedRunner(app, app.config["JOB_WORKERS"], autostart=app.config["EMBEDDED_RUNNER_AUTOSTART"])
    app.extensions["embedded_runner"] = runner
    # Started by the first request rather than here, so `flask db upgrade` on an empty database
    # does not start a runner that reads tables which do not exist yet.
    app.before_request(runner.ensure_started)
