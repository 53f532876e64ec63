"""Every environment variable the app reads is read here, and only here (DESIGN.md section 7)."""
from __future__ import annotations

import hashlib
import ipaddress
import os
import sys
import tempfile
from pathlib import Path
from typing import Mapping, Sequence

DEV_SECRET_KEY = "dev-only-not-secret"  # tests only (APP_ENV=testing); every other mode needs a key
SAFE_ENVIRONMENTS = {"development", "testing"}
LOG_FORMATS = {"json", "text"}
# Who may create an account (the first account of an empty installation always may, and is an admin).
REGISTRATION_MODES = ("invite", "open", "closed")
SECRET_KEY_MIN_BYTES = 32
# Example keys shipped in this repository that are long enough to pass the length check; anyone can read
# them, so they sign nothing (tests/test_keys.py finds every SECRET_KEY value in the repository).
EXAMPLE_SECRET_KEYS = {"change-me-to-64-random-hex-characters"}
MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"
# Who may read /metrics when METRICS_ALLOW is unset: this machine and the private networks (the team's LAN,
# the compose network Prometheus scrapes from).
DEFAULT_METRICS_ALLOW = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


class ConfigError(RuntimeError):
    """Raised at start-up when the environment would make an unsafe or broken app."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _optional_float(value: str | None) -> float | None:
    return float(value) if value and value.strip() else None


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
        "METRICS_ALLOW": _networks(env.get("METRICS_ALLOW", DEFAULT_METRICS_ALLOW)),
        "JOB_WORKERS": int(env.get("JOB_WORKERS", "3")),
        "QUEUE_LIMIT": int(env.get("QUEUE_LIMIT", "100")),
        # Product photos, sketches and characters smaller than this on their shorter side are refused:
        # the engines answer at about 1024 px, so a smaller input is blown up into a blurred mockup.
        "MIN_SOURCE_SIDE_PX": int(env.get("MIN_SOURCE_SIDE_PX", "512")),
        "REGISTRATION": env.get("REGISTRATION", "invite").strip().lower(),
        # Bytes each user may keep in DATA_DIR (services/storage_usage.py); unset or empty: no quota.
        "STORAGE_QUOTA_GB": _optional_float(env.get("STORAGE_QUOTA_GB")),
        # The Celery time limit of one job; its lease is far shorter and renewed by the heartbeat while it
        # runs, so a dead worker's job is taken over within about a minute and a slow live one never is.
        "JOB_TIMEOUT_S": int(env.get("JOB_TIMEOUT_S", "900")),
        "JOB_LEASE_S": int(env.get("JOB_LEASE_S", "60")),
        "JOB_HEARTBEAT_S": float(env.get("JOB_HEARTBEAT_S", "20")),
        "JOB_REQUEUE_S": int(env.get("JOB_REQUEUE_S", "300")),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), app_env == "production"),
        "SERVICE_NAME": env.get("SERVICE_NAME") or service_from_argv(sys.argv),
        # JSON for log collectors; `./dev run` (APP_ENV=development) is read by a person.
        "LOG_FORMAT": env.get("LOG_FORMAT", "text" if app_env == "development" else "json"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
    }


def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated CIDRs (a bare address is a network of one)."""
    try:
        return tuple(ipaddress.ip_network(item) for item in _list(value))
    except ValueError as error:
        raise ConfigError(f"METRICS_ALLOW must be comma-separated networks such as 10.0.0.0/8: {error}.") from None


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
    """Refuse to start with a SECRET_KEY anyone could know or guess, or with logs in a format nothing
    reads."""
    if config["LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {sorted(LOG_FORMATS)}, not {config['LOG_FORMAT']!r}.")
    if config["REGISTRATION"] not in REGISTRATION_MODES:
        raise ConfigError(f"REGISTRATION must be one of {', '.join(REGISTRATION_MODES)}, "
                          f"not {config['REGISTRATION']!r}.")
    if not 0 < config["JOB_HEARTBEAT_S"] < config["JOB_LEASE_S"]:
        raise ConfigError(f"JOB_HEARTBEAT_S ({config['JOB_HEARTBEAT_S']}) must be positive and shorter than "
                          f"JOB_LEASE_S ({config['JOB_LEASE_S']}), or running jobs would lose their lease.")
    problem = secret_key_problem(config["SECRET_KEY"], config["APP_ENV"])
    if problem:
        raise ConfigError(f"SECRET_KEY {problem}; make one with: {MAKE_A_KEY}")


def secret_key_problem(key: str, app_env: str) -> str | None:
    """Why a SECRET_KEY may not sign this app's sessions and tokens, or None. Only tests run on the fixed
    development key; `./dev run` (development) makes a random key, and any key it is given will do there;
    every other environment needs a long random one."""
    if app_env == "testing":
        return None
    if not key:
        return "is missing"
    if app_env in SAFE_ENVIRONMENTS:
        return None
    if key == DEV_SECRET_KEY or key in EXAMPLE_SECRET_KEYS:
        return "is an example value shipped with Mockup Studio, so anyone can know it"
    if len(key.encode("utf-8")) < SECRET_KEY_MIN_BYTES:
        return f"is shorter than {SECRET_KEY_MIN_BYTES} bytes"
    if len(set(key)) == 1:
        return "is one character repeated"
    return None


def _database_url(url: str, data_dir: Path) -> str:
    if not url:
        return f"sqlite:///{data_dir / 'mockup.sqlite3'}"
    # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
