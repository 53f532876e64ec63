"""Mockup Studio: the application factory."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from flask import Flask, current_app
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
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
    if app.config["APP_ENV"] == "testing":  # the one mode that may run on a fixed key (config.check)
        app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or config.DEV_SECRET_KEY
    logging_setup.init_app(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count)
    register_hooks(app)
    register_extensions(app)
    register_template_helpers(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_jobs(app)
    return app


def register_hooks(app: Flask) -> None:
    """Every app-wide request hook, here in one place. Registered before the extensions: Flask runs
    after_request hooks in reverse order, so file_policy runs after Talisman's hook and may override its
    page policy, and the access line is written last, with the final status and headers."""
    from . import security
    from .http import guard
    from .views.common import layout_context

    app.before_request(logging_setup.start_request)
    app.before_request(guard.refuse_unstorable_input)  # before the limiter and sign-in read the request
    app.after_request(logging_setup.finish_request)
    app.after_request(security.file_policy)
    app.after_request(security.no_body_no_type)
    app.before_request(_start_embedded_runner)
    app.context_processor(layout_context)


def _start_embedded_runner() -> None:
    # Started by the first request rather than by create_app, so `flask db upgrade` on an empty
    # database does not start a runner that reads tables which do not exist yet.
    runner = current_app.extensions.get("embedded_runner")
    if runner is not None:
        runner.ensure_started()


def register_extensions(app: Flask) -> None:
    from . import auth_session, callers, i18n, security
    from .services import storage_usage

    db.init_app(app)
    storage_usage.install(db.session)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    callers.init_app(app)
    limiter.init_app(app)
    security.init_security(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    auth_session.init_login(app, login_manager)


def register_template_helpers(app: Flask) -> None:
    """What every template may call besides Flask's: translations and dates in the request's language
    (i18n, in place of Flask-Babel's), links to rows by id and the labels of stored values."""
    from . import labels
    from .http import links

    i18n.install_template_helpers(app)
    app.add_template_global(links.link)
    app.add_template_global(labels, "labels")


def register_blueprints(app: Flask) -> None:
    from . import api
    from .views import (account, admin, auth, batches, characters, exports, gallery, generate, history, images, kept,
                        metrics, projects, queue, system)

    for module in (auth, account, admin, projects, gallery, characters, generate, batches, images, history, exports,
                   queue, kept, system, metrics, api):
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    """The HTML error pages app-wide; the api blueprint answers what its views raise with its own JSON
    handlers (api/errors.py), which Flask prefers to these."""
    from flask_wtf.csrf import CSRFError

    from .api import errors as api_errors
    from .errors import ServiceError
    from .views import errors as pages

    def http_error(error: HTTPException) -> ResponseReturnValue:
        # Routing errors (an unknown path, a wrong method) reach no blueprint: the path says the medium.
        return api_errors.http_error(error) if api_errors.is_api_request() else pages.http_error(error)

    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return api_errors.http_error(error) if api_errors.is_api_request() else pages.csrf_error(error)

    app.register_error_handler(ServiceError, pages.service_error)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)


def register_commands(app: Flask) -> None:
    from .cli import backup, storage, users

    app.cli.add_command(users)
    app.cli.add_command(backup)
    app.cli.add_command(storage)


def register_jobs(app: Flask) -> None:
    """Celery when REDIS_URL is set; otherwise the embedded runner in this process. Either is the
    `job_runner` that jobs.submit hands work to; the job figures join the metrics."""
    from . import telemetry  # here, not on top: wsgi.py picks the metrics mode before prometheus_client loads
    from .jobs.celery_app import CeleryRunner, celery_init_app
    from .jobs.embedded import EmbeddedRunner
    from .jobs.figures import JobFigures

    telemetry.init_app(app, JobFigures())
    celery = celery_init_app(app)
    if app.config["REDIS_URL"]:
        app.extensions["job_runner"] = CeleryRunner(celery)
        return
    runner = EmbeddedRunner(app, app.config["JOB_WORKERS"], autostart=app.config["EMBEDDED_RUNNER_AUTOSTART"])
    app.extensions["embedded_runner"] = app.extensions["job_runner"] = runner  # started by the first request (register_hooks)
