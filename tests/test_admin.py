"""The admins' pages and API: only admins (403 for everyone else, the login page without a sign-in);
creating, inviting, making admins, budgets, password links; disabling ends every session and token at
once and keeps the account out; there is always an active admin left."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mockup.extensions import db
from mockup.models import LoginSession, PasswordReset, RefreshToken, User, utcnow

from .api_support import PASSWORD, ApiClient, assert_error, assert_shape, sign_up
from .studio import location


@pytest.fixture
def lead(client) -> ApiClient:
    """The installation's first account, so its admin."""
    return sign_up(client, "lead@example.com", "Lead")


@pytest.fixture
def admin_browser(app, lead):
    """The lead's signed-in browser."""
    return browser_of(app, "lead@example.com")


@pytest.fixture
def colleague(app, lead) -> ApiClient:
    """A second account (no admin) with its own browser too: `colleague.browser`."""
    api = sign_up(app.test_client(), "colleague@example.com", "Colleague")
    api.browser = app.test_client()
    api.browser.post("/auth/login", data={"email": "colleague@example.com", "password": PASSWORD})
    return api


def browser_of(app, email: str):
    browser = app.test_client()
    assert browser.post("/auth/login", data={"email": email, "password": PASSWORD}).status_code == 303
    return browser


def admin_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            url = re.sub(r"<[^>]+>", "0" * 32, rule.rule)
            routes += [(method, url) for method in ("GET", "POST") if method in rule.methods]
    return sorted(routes)


def test_every_admin_page_needs_a_sign_in_and_an_admin(app, client, lead, colleague):
    routes = admin_routes(app)
    assert {url for _, url in routes} >= {"/admin/users", "/admin/usage", "/admin/invites"}
    stranger = app.test_client()
    for method, url in routes:
        response = stranger.open(url, method=method)
        assert response.status_code in (302, 303) and location(response).startswith("/auth/login"), url
        refused = colleague.browser.open(url, method=method, data={"email": "x@example.com", "is_admin": "true"})
        assert refused.status_code == 403, url
        assert "Only an administrator may do this." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "colleague@example.com")).is_admin is False


def test_admin_api_routes_answer_403_to_others(app, lead, colleague):
    lead_id = lead.user["id"]
    for method, path, body in (("GET", "/api/users", None), ("POST", "/api/users", {"email": "n@example.com", "name": "N", "password": PASSWORD}),
                               ("PATCH", f"/api/users/{lead_id}", {"disabled": True}), ("POST", "/api/invites", {})):
        assert_error(colleague.request(method, path, json=body), 403, "FORBIDDEN")
    assert colleague.get("/api/auth/me").get_json()["user"]["is_admin"] is False
    with app.app_context():
        assert db.session.get(User, lead_id).disabled is False


def test_the_admin_lists_creates_and_changes_accounts(app, lead, colleague):
    listed = lead.get("/api/users").get_json()["items"]
    assert [user["email"] for user in listed] == ["lead@example.com", "colleague@example.com"]
    for user in listed:
        assert_shape(user, "user")
    created = lead.post("/api/users", json={"email": "new@example.com", "name": "New", "password": PASSWORD, "is_admin": True})
    assert created.status_code == 201 and created.get_json()["user"]["is_admin"] is True
    changed = lead.patch(f"/api/users/{colleague.user['id']}", json={"is_admin": True, "monthly_budget_usd": 12.5})
    assert changed.get_json()["user"]["is_admin"] is True
    with app.app_context():
        assert db.session.get(User, colleague.user["id"]).monthly_budget_usd == 12.5
    lead.patch(f"/api/users/{colleague.user['id']}", json={"monthly_budget_usd": None})
    with app.app_context():
        assert db.session.get(User, colleague.user["id"]).monthly_budget_usd is None


@pytest.mark.parametrize("budget", [-1, "ten", True, 10**9])
def test_a_bad_budget_is_refused_and_changes_nothing(app, lead, colleague, budget):
    response = lead.patch(f"/api/users/{colleague.user['id']}", json={"monthly_budget_usd": budget})
    assert_error(response, 422, "VALIDATION", "monthly_budget_usd")
    with app.app_context():
        assert db.session.get(User, colleague.user["id"]).monthly_budget_usd is None


def test_disabling_ends_every_session_and_token_at_once(app, lead, colleague):
    assert colleague.browser.get("/projects").status_code == 200
    assert colleague.get("/api/projects").status_code == 200
    assert lead.patch(f"/api/users/{colleague.user['id']}", json={"disabled": True}).get_json()["user"]["disabled"]
    # The very next request of the signed-in browser and of the bearer token is refused.
    page = colleague.browser.get("/projects")
    assert page.status_code in (302, 303) and location(page).startswith("/auth/login")
    assert_error(colleague.get("/api/projects"), 401, "UNAUTHORIZED")
    assert_error(colleague.post("/api/auth/refresh", json={"refresh_token": colleague.refresh_token}), 401, "UNAUTHORIZED")
    with app.app_context():
        for model in (LoginSession, RefreshToken):
            rows = db.session.scalars(select(model).where(model.user_id == colleague.user["id"])).all()
            assert rows and all(row.revoked_at is not None for row in rows)


def test_a_disabled_access_token_stops_even_before_its_sign_in_is_revoked(app, lead, colleague):
    """The account's flag is checked on every request, not only the revoked rows."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == colleague.user["id"]).values(disabled=True))
        db.session.commit()
    assert_error(colleague.get("/api/auth/me"), 401, "UNAUTHORIZED")
    page = colleague.browser.get("/projects")
    assert page.status_code in (302, 303)


def test_a_disabled_user_cannot_sign_in_and_is_told_why(app, client, lead, colleague):
    lead.patch(f"/api/users/{colleague.user['id']}", json={"disabled": True})
    error = assert_error(ApiClient(app.test_client()).post(
        "/api/auth/login", json={"email": "colleague@example.com", "password": PASSWORD}), 401, "UNAUTHORIZED")
    assert "disabled" in error["message"]
    page = app.test_client().post("/auth/login", data={"email": "colleague@example.com", "password": PASSWORD})
    assert page.status_code == 401 and "This account has been disabled" in page.get_data(as_text=True)
    wrong = app.test_client().post("/auth/login", data={"email": "colleague@example.com", "password": "not it at all"})
    assert wrong.status_code == 422 and "disabled" not in wrong.get_data(as_text=True)
    lead.patch(f"/api/users/{colleague.user['id']}", json={"disabled": False})
    assert browser_of(app, "colleague@example.com").get("/projects").status_code == 200


def test_the_last_active_admin_cannot_remove_themselves(app, lead, colleague):
    me = f"/api/users/{lead.user['id']}"
    assert_error(lead.patch(me, json={"is_admin": False}), 409, "CONFLICT")
    assert_error(lead.patch(me, json={"disabled": True}), 409, "CONFLICT")
    with app.app_context():
        row = db.session.get(User, lead.user["id"])
        assert row.is_admin and not row.disabled
    lead.patch(f"/api/users/{colleague.user['id']}", json={"is_admin": True})
    assert lead.patch(me, json={"is_admin": False}).status_code == 200


def test_the_users_page_invites_and_shows_the_link_once(app, admin_browser, lead):
    page = admin_browser.post("/admin/invites", data={"email": "friend@example.com"})
    assert page.status_code == 200
    link = re.search(r'value="(http://localhost/auth/register\?invite=[^"]+)"', page.get_data(as_text=True)).group(1)
    app.config["REGISTRATION"] = "invite"
    visitor = app.test_client()
    code = link.split("invite=")[1]
    form = {"email": "friend@example.com", "name": "Friend", "password": PASSWORD, "confirm": PASSWORD, "invite_code": code}
    assert visitor.post("/auth/register", data=form).status_code == 303
    assert "friend@example.com" in admin_browser.get("/admin/users").get_data(as_text=True)


def test_the_users_page_creates_disables_and_sets_budgets(app, admin_browser, lead):
    created = admin_browser.post("/admin/users", data={"email": "made@example.com", "name": "Made", "password": PASSWORD})
    assert created.status_code == 303
    with app.app_context():
        made_id = db.session.scalar(select(User.id).where(User.email == "made@example.com"))
    made = browser_of(app, "made@example.com")
    assert admin_browser.post(f"/admin/users/{made_id}/budget", data={"monthly_budget_usd": "25"}).status_code == 303
    assert admin_browser.post(f"/admin/users/{made_id}", data={"disabled": "true"}).status_code == 303
    with app.app_context():
        row = db.session.get(User, made_id)
        assert row.disabled and row.monthly_budget_usd == 25
    assert made.get("/projects").status_code in (302, 303)
    refused = admin_browser.post(f"/admin/users/{made_id}/budget", data={"monthly_budget_usd": "-3"}, follow_redirects=True)
    assert "from 0 to 1,000,000" in refused.get_data(as_text=True)


def test_the_users_page_refuses_to_leave_no_admin(app, admin_browser, lead):
    response = admin_browser.post(f"/admin/users/{lead.user['id']}", data={"is_admin": "false"}, follow_redirects=True)
    assert "at least one active administrator" in response.get_data(as_text=True)


def reset_link(client, user_id: str) -> str:
    page = client.post(f"/admin/users/{user_id}/reset")
    assert page.status_code == 200
    return re.search(r'value="http://localhost(/auth/reset/[^"]+)"', page.get_data(as_text=True)).group(1)


def test_a_password_link_sets_a_new_password_once_and_ends_the_old_sign_ins(app, admin_browser, lead, colleague):
    link = reset_link(admin_browser, colleague.user["id"])
    visitor = app.test_client()
    assert visitor.get(link).status_code == 200
    new = {"new_password": "a brand new one", "confirm": "a brand new one"}
    assert visitor.post(link, data=new).status_code == 303
    assert colleague.browser.get("/projects").status_code in (302, 303)
    assert_error(colleague.get("/api/projects"), 401, "UNAUTHORIZED")
    login = visitor.post("/auth/login", data={"email": "colleague@example.com", "password": "a brand new one"})
    assert login.status_code == 303
    assert app.test_client().get(link).status_code == 404
    assert app.test_client().post(link, data={"new_password": "yet another one", "confirm": "yet another one"}).status_code == 404


def test_an_expired_password_link_is_refused(app, admin_browser, lead, colleague):
    link = reset_link(admin_browser, colleague.user["id"])
    with app.app_context():
        db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    page = app.test_client().get(link)
    assert page.status_code == 404 and "has been used or has expired" in page.get_data(as_text=True)


def test_the_nav_shows_accounts_to_admins_only(app, admin_browser, lead, colleague):
    assert "/admin/users" in admin_browser.get("/projects").get_data(as_text=True)
    assert "/admin/users" not in colleague.browser.get("/projects").get_data(as_text=True)
