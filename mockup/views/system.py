"""Routes for operators: health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..extensions import db, limiter

bp = Blueprint("system", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    checks = {"database": _check(lambda: db.session.execute(text("SELECT 1")))}
    if current_app.config["REDIS_URL"]:
        checks["redis"] = _check(_ping_redis)
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503


def _ping_redis() -> None:
    import redis

    redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2).ping()


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as error:  # a health check reports every failure instead of raising it
        return f"error: {type(error).__name__}"
