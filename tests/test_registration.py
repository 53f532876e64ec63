"""Who may create an account (REGISTRATION=invite|open|closed), the first admin of an empty
installation (also when two registrations race on PostgreSQL), and invitations: valid, used once,
expired, for another address, in a mode that takes none."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mockup.errors import Forbidden
from mockup.extensions import db
from mockup.models import Invitation, User, utcnow
from mockup.services import accounts, users

from .api_support import PASSWORD, ApiClient, assert_error, sign_up
from .conftest import app_with_tables, base_config, snapshot


@pytest.fixture
def app_config(tmp_path):
    """The default mode, `invite`, which the rest of the suite turns off."""
    return {**base_config(tmp_path), "REGISTRATION": "invite"}


def register(client, email: str, invite_code: str | None = None):
    body = {"email": email, "password": PASSWORD, "name": email.split("@")[0]}
    if invite_code is not None:
        body["invite_code"] = invite_code
    return ApiClient(client).post("/api/auth/register", json=body)


def user_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(User)).all())


@pytest.fixture
def admin(client) -> ApiClient:
    """The first account of the installation, signed in through the API."""
    return sign_up(client, "lead@example.com", "Lead")


def invite_code(admin: ApiClient, email: str | None = None) -> str:
    response = admin.post("/api/invites", json={"email": email} if email else {})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["invite"]["code"]


def test_the_first_account_needs_no_invitation_and_is_the_admin(app, client):
    response = register(client, "lead@example.com")
    assert response.status_code == 201
    assert response.get_json()["user"]["is_admin"] is True
    second = register(client, "colleague@example.com")
    assert_error(second, 403, "FORBIDDEN")
    assert user_count(app) == 1


@pytest.mark.parametrize("mode", ["invite", "open", "closed"])
def test_the_first_account_is_the_admin_in_every_mode(app, client, mode):
    app.config["REGISTRATION"] = mode
    assert register(client, "lead@example.com").get_json()["user"]["is_admin"] is True


def test_a_valid_invitation_registers_once(app, client, admin):
    code = invite_code(admin)
    response = register(client, "colleague@example.com", code)
    assert response.status_code == 201
    assert response.get_json()["user"]["is_admin"] is False
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.used_by_id == response.get_json()["user"]["id"] and invitation.used_at is not None
    before = snapshot(app)
    assert_error(register(client, "another@example.com", code), 403, "FORBIDDEN")
    assert snapshot(app) == before


def test_an_expired_invitation_is_refused(app, client, admin):
    code = invite_code(admin)
    with app.app_context():
        db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_error(register(client, "late@example.com", code), 403, "FORBIDDEN")
    assert user_count(app) == 1


def test_an_invitation_is_valid_seven_days(app, admin):
    invite = admin.post("/api/invites", json={}).get_json()["invite"]
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert timedelta(days=7) - (invitation.expires_at - invitation.created_at) < timedelta(seconds=5)
        assert invitation.code_hash != invite["code"]  # only the hash is kept
    assert invite["url"].endswith(f"/auth/register?invite={invite['code']}")


def test_an_invitation_for_one_address_refuses_another(app, client, admin):
    code = invite_code(admin, "named@example.com")
    assert_error(register(client, "someone.else@example.com", code), 403, "FORBIDDEN")
    assert register(client, "Named@Example.com", code).status_code == 201


def test_a_made_up_or_missing_code_is_refused(app, client, admin):
    assert_error(register(client, "guess@example.com", "not-a-code"), 403, "FORBIDDEN")
    assert_error(register(client, "guess@example.com"), 403, "FORBIDDEN")
    assert user_count(app) == 1


def test_a_registration_refused_for_its_email_keeps_the_invitation(app, client, admin):
    code = invite_code(admin)
    assert_error(register(client, "lead@example.com", code), 409, "CONFLICT")
    assert register(client, "colleague@example.com", code).status_code == 201


def test_closed_mode_refuses_even_an_invitation(app, client, admin):
    code = invite_code(admin)
    app.config["REGISTRATION"] = "closed"
    assert_error(register(client, "colleague@example.com", code), 403, "FORBIDDEN")
    created = admin.post("/api/users", json={"email": "made@example.com", "name": "Made", "password": PASSWORD})
    assert created.status_code == 201


def test_open_mode_needs_no_invitation(app, client, admin):
    app.config["REGISTRATION"] = "open"
    assert register(client, "anyone@example.com").status_code == 201


def test_the_register_page_takes_the_invitation_from_its_link(app, client, admin):
    code = invite_code(admin)
    visitor = app.test_client()
    page = visitor.get(f"/auth/register?invite={code}")
    assert f'value="{code}"' in page.get_data(as_text=True)
    form = {"email": "c@example.com", "name": "C", "password": PASSWORD, "confirm": PASSWORD, "invite_code": code}
    assert visitor.post("/auth/register", data=form).status_code == 303
    assert visitor.get("/projects").status_code == 200


def test_the_register_page_says_why_without_an_invitation(app, client, admin):
    visitor = app.test_client()
    assert "You need an invitation" in visitor.get("/auth/register").get_data(as_text=True)
    form = {"email": "c@example.com", "name": "C", "password": PASSWORD, "confirm": PASSWORD}
    response = visitor.post("/auth/register", data=form)
    assert response.status_code == 403
    assert "You need an invitation to register" in response.get_data(as_text=True)
    assert user_count(app) == 1


def test_the_register_page_of_an_empty_installation_says_it_makes_the_admin(client):
    assert "it becomes the administrator" in client.get("/auth/register").get_data(as_text=True)


def test_only_admins_invite(app, client, admin):
    colleague = ApiClient(app.test_client())
    register(colleague.client, "colleague@example.com", invite_code(admin))
    colleague = sign_up_existing(colleague, "colleague@example.com")
    assert_error(colleague.post("/api/invites", json={}), 403, "FORBIDDEN")


def sign_up_existing(api: ApiClient, email: str) -> ApiClient:
    body = api.post("/api/auth/login", json={"email": email, "password": PASSWORD}).get_json()
    api.token = body["access_token"]
    return api


def test_cli_creates_accounts_in_any_mode(app, runner):
    app.config["REGISTRATION"] = "closed"
    first = runner.invoke(args=["users", "create", "ops@example.com", "--password", PASSWORD])
    second = runner.invoke(args=["users", "create", "dev@example.com", "--password", PASSWORD])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    with app.app_context():
        admins = {user.email: user.is_admin for user in db.session.scalars(select(User))}
    assert admins == {"ops@example.com": True, "dev@example.com": False}


def test_two_registrations_racing_on_an_empty_postgres_make_one_admin(tmp_path, postgres_url):
    """Both start at the same moment on an empty installation; PostgreSQL's advisory lock lets one
    register first (the admin) and the other then needs an invitation. Repeated to give the race chances."""
    config = {**base_config(tmp_path), "REGISTRATION": "invite", "SQLALCHEMY_DATABASE_URI": postgres_url}
    with app_with_tables(config) as app:
        for round_number in range(5):
            outcomes = race_registrations(app, [f"r{round_number}-{n}@example.com" for n in range(2)])
            assert sorted(outcomes) == ["admin", "forbidden"], outcomes
            with app.app_context():
                assert db.session.scalar(select(User).where(User.is_admin.is_(True))) is not None
                db.session.query(User).delete()
                db.session.commit()


def race_registrations(app, emails: list[str]) -> list[str]:
    start = threading.Barrier(len(emails))
    outcomes: list[str] = []

    def attempt(email: str) -> None:
        with app.app_context():
            start.wait()
            try:
                outcomes.append("admin" if accounts.register(email, PASSWORD, "Racer").is_admin else "member")
            except Forbidden:
                outcomes.append("forbidden")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_an_admin_created_account_is_an_admin_only_when_asked(app, admin):
    with app.app_context():
        lead = db.session.scalar(select(User).where(User.email == "lead@example.com"))
        made = users.create_user(lead.id, "made@example.com", "Made", PASSWORD, is_admin=True)
        assert made.is_admin
