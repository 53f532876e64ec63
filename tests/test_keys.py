"""SECRET_KEY (issue 15): outside development and tests only a long random key signs sessions and tokens;
no mode but testing falls back to a fixed key; `./dev run` keeps its generated key and the SQLite file
readable by their owner only."""
from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
from pathlib import Path

import pytest
import requests

import config
from mockup import create_app

from .fixtures_stack import ROOT, free_port, stop, wait_until

STRONG = secrets.token_hex(32)
# `SECRET_KEY=value` in env files and shell lines, `"SECRET_KEY": "value"` in Python and YAML.
KEY_VALUES = (re.compile(r"SECRET_KEY=([^\s\"'$]+)"), re.compile(r"[\"']?SECRET_KEY[\"']?:\s*[\"']([^\"']+)[\"']"))


def production(key: str) -> dict:
    return config.from_env({"APP_ENV": "production", "SECRET_KEY": key})


def shipped_example_keys() -> set[str]:
    """Every SECRET_KEY value written anywhere in the repository: all of them are public."""
    found = {config.DEV_SECRET_KEY}
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in listed.splitlines():
        path = ROOT / name
        if not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for pattern in KEY_VALUES:
            found.update(pattern.findall(text))
    return found


def test_every_example_key_in_the_repository_is_refused_in_production():
    examples = shipped_example_keys()
    assert "change-me-to-64-random-hex-characters" in examples  # the .env.example placeholder was found
    for key in examples:
        with pytest.raises(config.ConfigError, match=r"SECRET_KEY .*secrets\.token_hex\(32\)"):
            config.check(production(key))


@pytest.mark.parametrize("key, why", [
    ("", "is missing"),
    ("a", "shorter than 32 bytes"),
    ("secret", "shorter than 32 bytes"),
    (STRONG[:31], "shorter than 32 bytes"),
    ("x" * 64, "one character repeated"),
    (config.DEV_SECRET_KEY, "example value"),
])
def test_a_weak_key_stops_production_with_how_to_make_one(key, why):
    with pytest.raises(config.ConfigError) as refused:
        config.check(production(key))
    assert why in str(refused.value)
    assert config.MAKE_A_KEY in str(refused.value)


def test_a_long_random_key_starts_production(app_config):
    config.check(production(STRONG))
    config.check(production(STRONG[:32]))
    app = create_app({**app_config, "APP_ENV": "production", "SECRET_KEY": STRONG})
    assert app.config["SECRET_KEY"] == STRONG


def test_development_needs_a_key_but_not_a_strong_one(app_config):
    with pytest.raises(config.ConfigError, match=r"SECRET_KEY is missing; make one with"):
        create_app({**app_config, "APP_ENV": "development", "SECRET_KEY": ""})
    assert create_app({**app_config, "APP_ENV": "development", "SECRET_KEY": "mine"}).config["SECRET_KEY"] == "mine"


def test_only_tests_fall_back_to_the_fixed_key(app_config):
    assert create_app({**app_config, "SECRET_KEY": ""}).config["SECRET_KEY"] == config.DEV_SECRET_KEY


def private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def dev_run(data_dir: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """`./dev run` as a person starts it (no key, no database settings), on a free port, once it answers."""
    port = free_port()
    env = {name: value for name, value in os.environ.items()
           if name not in {"SECRET_KEY", "APP_ENV", "DATABASE_URL", "REDIS_URL", "GEMINI_API_KEY", "METRICS_DIR"}}
    env.update(DATA_DIR=str(data_dir), HOST="127.0.0.1", PORT=str(port), MOCKUP_ENGINE="local")
    with open(log, "ab") as output:
        process = subprocess.Popen([str(ROOT / "dev"), "run"], cwd=ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _healthy(port), 120, f"./dev run on port {port} (log: {log})")
    except AssertionError:
        stop(process)
        raise
    return process, port


def _healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_dev_run_keeps_its_key_and_database_for_the_owner_only(tmp_path):
    data_dir = tmp_path / "data"
    key, database = data_dir / ".secret_key", data_dir / "mockup.sqlite3"
    process, _ = dev_run(data_dir, tmp_path / "dev-run.log")
    stop(process)
    assert private(data_dir) and private(key) and private(database)
    made = key.read_text().strip()
    assert len(made) == 64 and config.secret_key_problem(made, "production") is None
    # Files an older version left world-readable are closed again at the next start; the key is kept.
    for path, mode in ((data_dir, 0o755), (key, 0o644), (database, 0o644)):
        path.chmod(mode)
    process, _ = dev_run(data_dir, tmp_path / "dev-run.log")
    stop(process)
    assert private(data_dir) and private(key) and private(database)
    assert key.read_text().strip() == made
