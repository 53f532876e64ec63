"""Every environment variable the app reads is read here, and only here (DESIGN.md section 7)."""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

DEV_SECRET_KEY = "dev-only-not-secret"
SAFE_ENVIRONMENTS = {"development", "testing"}
LOG_FORMATS = {"json", "text"}


class ConfigError(RuntimeError):
    """Raised at start-up when the environment would make an unsafe or broken app."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [item.strip() for item in value.split(",") if item.strip()]


def from_env(environ: Mapping[str, str] | None = None) -> dict:
    """Build the Flask config mapping from the environment."""
    env = os.environ if environ is None else environ
    app_env = env.get("APP_ENV", "production")
    data_dir = Path(env.get("DATA_DIR", "./data")).resolve()
    gemini_key = env.get("GEMINI_API_KEY", "")
    redis_url = env.get("REDIS_URL", "")
    return {
        "APP_ENV": app_env,
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "DATA_DIR": str(data_dir),
        "METRICS_DIR": _metrics_dir(env.get("METRICS_DIR", ""), data_dir),
        "SQLALCHEMY_DATABASE_URI": _database_url(env.get("DATABASE_URL", ""), data_dir),
        "REDIS_URL": redis_url,
        "GEMINI_API_KEY": gemini_key,
        "GEMINI_MODEL": env.get("GEMINI_MODEL", "gemini-3-pro-image"),
        "GEMINI_BASE_URL": env.get("GEMINI_BASE_URL", ""),
        "GEMINI_TIMEOUT_S": float(env.get("GEMINI_TIMEOUT_S", "180")),
        "GEMINI_CALLS_PER_MINUTE": int(env.get("GEMINI_CALLS_PER_MINUTE", "10")),
        "GEMINI_RETRY_BASE_S": float(env.get("GEMINI_RETRY_BASE_S", "1")),
        "MOCKUP_ENGINE": env.get("MOCKUP_ENGINE", "gemini" if gemini_key else "local"),
        "UPSCALE_MODEL": env.get("UPSCALE_MODEL", "realesr-animevideov3"),
        "REALESRGAN_PATH": env.get("REALESRGAN_PATH", ""),
        "MATTING_MODEL": env.get("MATTING_MODEL", ""),
        "HOST": env.get("HOST", "127.0.0.1"),
        "PORT": int(env.get("PORT", "5000")),
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0")),
        "FORCE_HTTPS": _bool(env.get("FORCE_HTTPS")),
        "CORS_ORIGINS": _list(env.get("CORS_ORIGINS", "")),
        "JOB_WORKERS": int(env.get("JOB_WORKERS", "3")),
        "QUEUE_LIMIT": int(env.get("QUEUE_LIMIT", "100")),
        "JOB_TIMEOUT_S": int(env.get("JOB_TIMEOUT_S", "900")),
        "JOB_REQUEUE_S": int(env.get("JOB_REQUEUE_S", "300")),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        "SERVICE_NAME": env.get("SERVICE_NAME") or service_from_argv(sys.argv),
        # JSON for log collectors; `./dev run` (APP_ENV=development) is read by a person.
        "LOG_FORMAT": env.get("LOG_FORMAT", "text" if app_env == "development" else "json"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
    }


def _metrics_dir(configured: str, data_dir: Path) -> str:
    """Where the web and worker processes keep their Prometheus values (mockup/multiprocess_metrics.py).
    Not in DATA_DIR: the files are memory-mapped, and a process writing to a mapped page of a full disk is
    killed. By default a temp folder named after DATA_DIR, so that the processes of one installation share
    it and two installations on one machine do not."""
    if configured:
        return str(Path(configured).resolve())
    installation = hashlib.sha256(str(data_dir).encode()).hexdigest()[:12]
    return str(Path(tempfile.gettempdir()) / f"mockup-metrics-{os.getuid()}-{installation}")


def service_from_argv(argv: Sequence[str]) -> str:
    """The `service` of log lines when SERVICE_NAME is unset: Celery's worker and beat name themselves on
    their command line; gunicorn and everything else serve the web app."""
    for service in ("worker", "beat"):
        if service in argv[1:]:
            return service
    return "web"


def check(config: Mapping) -> None:
    """Refuse to start with a missing or development SECRET_KEY outside development and tests, or with
    logs in a format nothing reads."""
    if config["LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {sorted(LOG_FORMATS)}, not {config['LOG_FORMAT']!r}.")
    if config["APP_ENV"] not in SAFE_ENVIRONMENTS and config["SECRET_KEY"] in {"", DEV_SECRET_KEY}:
        raise ConfigError(
            "SECRET_KEY is missing or left at its development value; set a long random SECRET_KEY "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )


def _database_url(url: str, data_dir: Path) -> str:
    if not url:
        return f"sqlite:///{data_dir / 'mockup.sqlite3'}"
    # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
