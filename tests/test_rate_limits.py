"""Rate limits as an attacker and a heavy user meet them: failed sign-ins limited per account and per
address (over pages and API together, with spoofed X-Forwarded-For values of no help), one counter of
60 requests a minute per user over pages and API, still counting while Redis is down, and shared by two
real gunicorn workers through Redis."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from mockup import create_app
from mockup.extensions import db

from .api_support import PASSWORD, ApiClient, assert_error, sign_up
from .conftest import AuthActions
from .fixtures_stack import free_port, migrate, start_web, stop
from .prometheus_text import label_values, parse, value

FAILURES_ALLOWED = 10
PER_MINUTE = 60
WRONG = "not the password"


pytestmark = pytest.mark.rate_limited


def html_login(client, email: str, password: str = WRONG, **kwargs):
    return client.post("/auth/login", data={"email": email, "password": password}, **kwargs)


def api_login(client, email: str, password: str = WRONG, **kwargs):
    return client.post("/api/auth/login", json={"email": email, "password": password}, **kwargs)


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


@pytest.fixture
def victim(client) -> str:
    AuthActions(client).register(email="victim@example.com", password=PASSWORD)
    client.post("/auth/logout")
    return "victim@example.com"


@pytest.mark.parametrize("login", [html_login, api_login], ids=["html", "api"])
def test_an_account_is_locked_after_ten_failures_from_any_address(client, victim, login):
    for number in range(FAILURES_ALLOWED):
        assert login(client, victim, **from_address(f"198.51.100.{number}")).status_code in (401, 422)
    locked = login(client, victim, password=PASSWORD, **from_address("198.51.100.200"))
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    assert login(client, "other@example.com", **from_address("198.51.100.201")).status_code in (401, 422)


@pytest.mark.parametrize("login", [html_login, api_login], ids=["html", "api"])
def test_an_address_is_blocked_after_ten_failures_on_any_accounts(client, victim, login):
    for number in range(FAILURES_ALLOWED):
        assert login(client, f"guess{number}@example.com", **from_address("198.51.100.7")).status_code in (401, 422)
    assert login(client, victim, password=PASSWORD, **from_address("198.51.100.7")).status_code == 429
    assert login(client, victim, password=PASSWORD, **from_address("198.51.100.8")).status_code in (200, 303)
    assert client.get("/auth/login", **from_address("198.51.100.7")).status_code != 429  # only attempts count


def test_pages_and_api_share_the_failure_count(client, victim):
    for number in range(FAILURES_ALLOWED // 2):
        html_login(client, victim, **from_address(f"198.51.100.{number}"))
        api_login(client, victim, **from_address(f"198.51.100.{100 + number}"))
    assert_error(api_login(client, victim, password=PASSWORD), 429, "RATE_LIMITED")
    assert html_login(client, victim, password=PASSWORD).status_code == 429


def test_successful_sign_ins_are_not_counted(client, victim):
    for _ in range(FAILURES_ALLOWED + 5):
        assert html_login(client, victim, password=PASSWORD).status_code == 303
        assert api_login(client, victim, password=PASSWORD).status_code == 200


def test_rotating_x_forwarded_for_does_not_escape_the_limit(app_config):
    """Behind one proxy, only the address the proxy appended counts; what the client wrote before it
    is ignored, however it changes."""
    client = create_app({**app_config, "PROXY_COUNT": 1}).test_client()
    _create_tables(client.application)
    for number in range(FAILURES_ALLOWED):
        spoofed = {"X-Forwarded-For": f"10.{number}.0.1, 203.0.113.7"}
        assert html_login(client, f"guess{number}@example.com", headers=spoofed).status_code == 422
    again = {"X-Forwarded-For": "10.99.0.1, 192.0.2.1, 203.0.113.7"}
    assert html_login(client, "another@example.com", headers=again).status_code == 429
    elsewhere = {"X-Forwarded-For": "10.99.0.1, 203.0.113.8"}
    assert html_login(client, "another@example.com", headers=elsewhere).status_code == 422


def _create_tables(app) -> None:
    with app.app_context():
        db.create_all()


def test_one_counter_of_60_a_minute_over_pages_and_api(app, client):
    AuthActions(client).register(email="busy@example.com", password=PASSWORD)
    api = ApiClient(app.test_client())  # a script of the same user, signed in with a token
    login = api.post("/api/auth/login", json={"email": "busy@example.com", "password": PASSWORD})
    api.token = login.get_json()["access_token"]
    for number in range(PER_MINUTE // 2):
        assert client.get("/projects").status_code == 200, number
        assert api.get("/api/projects").status_code == 200, number
    assert client.get("/account").status_code == 429
    assert_error(api.get("/api/auth/me"), 429, "RATE_LIMITED")
    other = sign_up(app.test_client(), "other@example.com")
    assert other.get("/api/projects").status_code == 200


def test_a_redis_outage_is_logged_and_limits_go_on_in_memory(app_config, caplog):
    """Flask-Limiter's in-memory fallback: requests are answered, the switch is logged, and the 61st
    request of a minute is still refused."""
    app = create_app({**app_config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}/0"})
    _create_tables(app)
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        statuses = [client.get("/auth/login").status_code for _ in range(PER_MINUTE + 1)]
    assert statuses[:PER_MINUTE] == [200] * PER_MINUTE and statuses[-1] == 429
    assert any("Rate limit storage unreachable" in record.getMessage() for record in caplog.records)


def test_two_gunicorn_workers_share_the_limit_through_redis(stack_env, tmp_path):
    """Requests on new connections, several at once, so both workers serve them: the 61st is refused all
    the same, and the counter is the one in Redis."""
    migrate(stack_env)
    port = free_port()
    web = start_web(stack_env, tmp_path, port, workers=2)
    try:
        base = f"http://127.0.0.1:{port}"
        close = {"Connection": "close"}
        assert requests.post(f"{base}/api/auth/register", json={
            "email": "shared@example.com", "password": PASSWORD, "name": "Shared"}, headers=close).status_code == 201
        token = requests.post(f"{base}/api/auth/login", json={"email": "shared@example.com", "password": PASSWORD},
                              headers=close).json()["access_token"]
        bearer = {**close, "Authorization": f"Bearer {token}"}
        # Eight at a time: a sync worker serves one request at once, so both workers take their share.
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: requests.get(f"{base}/api/auth/me", headers=bearer).status_code,
                                     range(PER_MINUTE)))
        statuses.append(requests.get(f"{base}/api/auth/me", headers=bearer).status_code)
        metrics = parse(requests.get(f"{base}/metrics", headers=close).text)
    finally:
        stop(web)
    assert statuses[:PER_MINUTE] == [200] * PER_MINUTE and statuses[-1] == 429
    # Both workers served some of them (each live worker reports its own memory, labelled by pid); the
    # metrics add both workers' counts up.
    assert len(label_values(metrics, "mockup_process_resident_memory_bytes", "pid", service="web")) == 2
    assert value(metrics, "mockup_http_requests_total", endpoint="api.me", method="GET", status="200") == PER_MINUTE
    keys = redis.Redis.from_url(stack_env["REDIS_URL"]).keys("*user:*")
    assert keys, "the per-user counter lives in Redis"
