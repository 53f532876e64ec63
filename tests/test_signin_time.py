"""Equal-time sign-in (issue 15): an unknown email and a wrong password cost the same work, exactly one
bcrypt check at the configured cost, so the answer's time does not tell who has an account. The check is
recorded rather than timed; bench/signin_bench.py measures the real times (docs/SECURITY.md)."""
from __future__ import annotations

import bcrypt
import pytest

from mockup.services import accounts

from .api_support import ApiClient

PASSWORD = "correct horse"


@pytest.fixture
def checks(monkeypatch) -> list[int]:
    """The cost of every hash a password is checked against, in order."""
    costs: list[int] = []
    real = bcrypt.checkpw

    def recorded(password: bytes, hashed: bytes) -> bool:
        costs.append(int(hashed.split(b"$")[2]))
        return real(password, hashed)

    monkeypatch.setattr(accounts.bcrypt, "checkpw", recorded)
    return costs


@pytest.fixture(params=[4, 5], ids=["cost4", "cost5"])
def app_config(request, tmp_path):
    from .conftest import base_config

    return {**base_config(tmp_path), "BCRYPT_COST": request.param}


def test_an_unknown_email_costs_one_check_at_the_configured_cost(app, app_config, checks):
    cost = app_config["BCRYPT_COST"]
    with app.app_context():
        accounts.register("known@example.com", PASSWORD, "Known")
        checks.clear()
        assert accounts.authenticate("known@example.com", "wrong password") is None
        assert accounts.authenticate("nobody@example.com", "wrong password") is None
        assert accounts.authenticate("known@example.com", PASSWORD).email == "known@example.com"
    assert checks == [cost, cost, cost]


def test_an_unknown_email_is_no_quicker_on_the_page_or_the_api(app, app_config, client, checks):
    cost = app_config["BCRYPT_COST"]
    with app.app_context():
        accounts.register("known@example.com", PASSWORD, "Known")
    checks.clear()
    api = ApiClient(client)
    for email in ("known@example.com", "nobody@example.com"):
        assert client.post("/auth/login", data={"email": email, "password": "wrong password"}).status_code == 422
        assert api.post("/api/auth/login", json={"email": email, "password": "wrong password"}).status_code == 401
    assert checks == [cost] * 4


def test_the_dummy_hash_is_made_once_per_cost(app, monkeypatch):
    """Making a hash costs as much as checking one: an unknown email must not pay for both."""
    made: list[bytes] = []
    real = bcrypt.hashpw
    monkeypatch.setattr(accounts.bcrypt, "hashpw", lambda password, salt: made.append(salt) or real(password, salt))
    with app.app_context():
        for _ in range(3):
            accounts.authenticate("nobody@example.com", "wrong password")
    assert len(made) <= 1  # none when an earlier test made the dummy of this cost already


def test_a_disabled_account_costs_the_same_one_check(app, app_config, client, checks):
    """A disabled account is refused after the same single check, right password or wrong."""
    cost = app_config["BCRYPT_COST"]
    with app.app_context():
        accounts.register("admin@example.com", PASSWORD, "Admin")
        gone = accounts.register("gone@example.com", PASSWORD, "Gone")
        gone.disabled = True
        accounts.db.session.commit()
    checks.clear()
    api = ApiClient(client)
    for password in (PASSWORD, "wrong password"):
        assert client.post("/auth/login", data={"email": "gone@example.com", "password": password}).status_code in (401, 422)
        assert api.post("/api/auth/login", json={"email": "gone@example.com", "password": password}).status_code == 401
    assert checks == [cost] * 4
