"""Log lines as one JSON object each (requirements section 10), so that a log collector can follow one
request and the job it started across the web and worker processes without parsing text.

Every record is stamped, when it is made, with the request id and user id of the work in hand: the web
request's (each request gets an id here) or the running job's (mockup.jobs.context restores what the
request that enqueued the job passed along). Stamping the record rather than formatting it means every
handler sees the fields, pytest's log capture included. `LOG_FORMAT=text` keeps `./dev run` readable.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import sqlalchemy
from celery.signals import setup_logging
from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only when it cannot break or forge a log line; nginx's $request_id is 32 hex digits.
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "mockup"
# The attributes every record has; anything else on a record came from `extra=` and is logged as a field.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "requestId", "userId", "duration",
}

access_log = logging.getLogger("mockup.access")


class LogContext(NamedTuple):
    request_id: str | None = None
    user_id: str | None = None


_job_context: ContextVar[LogContext] = ContextVar("mockup_log_context", default=LogContext())


def current() -> LogContext:
    """The request id and user id of the work in hand: the web request's, else the running job's."""
    if has_request_context():
        return LogContext(g.get("request_id"), _request_user_id())
    return _job_context.get()


def enter(context: LogContext) -> Token:
    """Stamp the lines this thread logs from now on with a job's context; give the token to leave()."""
    return _job_context.set(context)


def leave(token: Token) -> None:
    _job_context.reset(token)


@contextmanager
def bound(context: LogContext) -> Iterator[None]:
    """Stamp every line logged inside the block with `context`."""
    token = enter(context)
    try:
        yield
    finally:
        leave(token)


def _request_user_id() -> str | None:
    """The signed-in user, if this request has looked them up already: a log line must not run a query,
    and after a commit the User's attributes are expired, so the id is read from its identity key."""
    caller = g.get("api_user")  # mockup.callers: the bearer-token or cookie caller of an /api request
    # Flask-Login keeps the user it loaded for this request in g._login_user (anonymous users have no .user).
    user = caller.user if caller is not None else getattr(g.get("_login_user"), "user", None)
    if user is None:
        return None
    identity = sqlalchemy.inspect(user).identity
    return str(identity[0]) if identity else None


class _StampingFactory:
    """Wraps the record factory so every record carries the context, whichever handler formats it."""

    def __init__(self, make: Callable[..., logging.LogRecord]) -> None:
        self.make = make

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.make(*args, **kwargs)
        record.requestId, record.userId = current()
        return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line: the requirements' fields first, then any `extra=` fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "timestamp": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "userId": getattr(record, "userId", None),
            "requestId": getattr(record, "requestId", None),
            "duration": getattr(record, "duration", None),
            "error": self.formatException(record.exc_info) if record.exc_info else None,
        }
        line.update((key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES)
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(settings: Mapping[str, Any]) -> logging.Formatter:
    """The formatter LOG_FORMAT asks for; gunicorn.conf.py gives gunicorn's own lines the same one."""
    if settings["LOG_FORMAT"] == "json":
        return JsonFormatter(settings["SERVICE_NAME"])
    return logging.Formatter(TEXT_FORMAT)


def init_app(app: Flask) -> None:
    """Stamp records and log to stderr in LOG_FORMAT (under TESTING pytest's capture is the handler).
    Called before the extensions bind; the factory's register_hooks adds start_request/finish_request."""
    if not isinstance(logging.getLogRecordFactory(), _StampingFactory):
        logging.setLogRecordFactory(_StampingFactory(logging.getLogRecordFactory()))
    if not app.testing:
        _log_to_stderr(app.config)


def _log_to_stderr(settings: Mapping[str, Any]) -> None:
    """One handler of ours on the root logger; a later create_app in the same process replaces it."""
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if handler.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter(settings))
    root.addHandler(handler)
    root.setLevel(settings["LOG_LEVEL"])
    logging.captureWarnings(True)  # a library's warnings.warn() would otherwise print raw text lines


@setup_logging.connect
def _keep_our_logging(**_kwargs: Any) -> None:
    """Connected at all, this stops Celery's worker and beat from replacing the root logger's handlers
    with their own text format: create_app has configured logging by the time they start."""


def start_request() -> None:
    """Give every request an id (the one a proxy sent when it is well formed)."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _WELL_FORMED_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    """The access line, after the view (so it knows the status and the user) and with the request id
    sent back, so that a user's bug report can quote it."""
    response.headers[REQUEST_ID_HEADER] = g.request_id
    duration_ms = round((time.perf_counter() - g.request_started) * 1000, 1)
    access_log.info(
        "%s %s %s", request.method, request.path, response.status_code,
        extra={"duration": duration_ms, "method": request.method, "path": request.path,
               "status": response.status_code, "remoteAddr": request.remote_addr},
    )
    return response
