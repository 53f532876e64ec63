"""Sign-up, sign-in, sign-out and the account page."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Project, User

from .conftest import files_under
from .factories import create_character, create_project, finished_generation
from .studio import location

PASSWORD = "correct horse"


def test_register_signs_in_and_lands_on_projects(client, auth):
    assert client.get("/auth/register").status_code == 200
    response = auth.register()
    assert response.status_code == 303 and location(response) == "/projects"
    page = client.get("/projects")
    assert page.status_code == 200 and "Designer" in page.get_data(as_text=True)


def test_register_form_errors_are_shown_not_raised(client, auth):
    response = client.post("/auth/register", data={
        "email": "not-an-email", "name": "", "password": "short", "confirm": "other",
    })
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a valid email address." in body
    assert "Use at least 8 characters." in body
    assert "The two passwords are not the same." in body


def test_register_twice_shows_the_email_is_taken(client, auth):
    auth.register()
    auth.logout()
    response = auth.register(name="Someone else")
    assert response.status_code == 409
    assert "An account with this email already exists." in response.get_data(as_text=True)


def test_password_over_72_bytes_is_a_form_error(client, app):
    password = "가" * 25  # 25 characters, 75 bytes in UTF-8
    response = client.post("/auth/register", data={
        "email": "kim@example.com", "name": "Kim", "password": password, "confirm": password,
    })
    assert response.status_code == 422
    assert "longer than 72 bytes" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_login_and_logout(client, auth):
    auth.register()
    auth.logout()
    assert location(client.get("/projects")).startswith("/auth/login")
    response = auth.login()
    assert response.status_code == 303 and location(response) == "/projects"
    assert client.get("/projects").status_code == 200
    response = auth.logout()
    assert response.status_code == 303 and location(response) == "/auth/login"
    assert location(client.get("/projects")).startswith("/auth/login")


def test_wrong_password_is_refused_with_one_message(client, auth):
    auth.register()
    auth.logout()
    wrong_password = auth.login(password="wrong password")
    unknown_email = auth.login(email="nobody@example.com")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 422
        assert "The email or password is not correct." in response.get_data(as_text=True)


def test_old_cookie_replayed_after_logout_is_not_signed_in(client, auth):
    auth.register()
    stolen = client.get_cookie("session").value
    auth.logout()
    client.set_cookie("session", stolen)
    response = client.get("/projects")
    assert response.status_code == 302 and location(response).startswith("/auth/login")


def test_session_is_renewed_at_login(client, auth):
    auth.register()
    auth.logout()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    fixated = client.get_cookie("session").value
    auth.login()
    assert client.get_cookie("session").value != fixated
    with client.session_transaction() as session:
        first = session["_user_id"]
        assert "planted" not in session
    auth.logout()
    auth.login()
    with client.session_transaction() as session:
        assert session["_user_id"] != first
    client.set_cookie("session", fixated)  # the cookie an attacker planted before the login
    assert location(client.get("/projects")).startswith("/auth/login")


@pytest.mark.parametrize("target", [
    "https://evil.example/", "http://evil.example", "//evil.example/projects", "///evil.example",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "javascript:alert(1)", "https:/evil.example",
    " //evil.example", "/%5Cevil.example", "/auth/logout",
])
def test_next_never_leaves_the_app(client, auth, target):
    auth.register()
    auth.logout()
    response = client.post(f"/auth/login?next={target}", data={
        "email": "designer@example.com", "password": PASSWORD, "next": target,
    })
    assert response.status_code == 303
    assert response.headers["Location"] == "/projects"


def test_next_inside_the_app_is_followed(client, auth):
    auth.register()
    project_id = create_project(client)
    auth.logout()
    response = client.get(f"/projects/{project_id}")
    assert location(response) == f"/auth/login?next=%2Fprojects%2F{project_id}"
    login_page = client.get(location(response)).get_data(as_text=True)
    assert f'value="/projects/{project_id}"' in login_page
    response = client.post("/auth/login", data={
        "email": "designer@example.com", "password": PASSWORD, "next": f"/projects/{project_id}",
    })
    assert location(response) == f"/projects/{project_id}"


def test_account_page_shows_the_user(client, auth):
    auth.register()
    body = client.get("/account").get_data(as_text=True)
    assert "designer@example.com" in body and "Designer" in body


def test_password_change_ends_other_sessions(app, client, auth):
    auth.register()
    other = app.test_client()
    other.post("/auth/login", data={"email": "designer@example.com", "password": PASSWORD})
    assert other.get("/projects").status_code == 200

    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "battery staple", "confirm": "battery staple",
    })
    assert response.status_code == 303
    assert client.get("/projects").status_code == 200  # this browser continues in a fresh sign-in
    assert location(other.get("/projects")).startswith("/auth/login")
    auth.logout()
    assert auth.login().status_code == 422
    assert auth.login(password="battery staple").status_code == 303


def test_cookie_from_before_a_password_change_is_refused(client, auth):
    auth.register()
    stolen = client.get_cookie("session").value
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "battery staple", "confirm": "battery staple",
    })
    assert response.status_code == 303
    client.set_cookie("session", stolen)
    assert location(client.get("/projects")).startswith("/auth/login")


def test_password_change_with_wrong_current_password(client, auth):
    auth.register()
    response = client.post("/account/password", data={
        "current_password": "not my password", "new_password": "battery staple", "confirm": "battery staple",
    })
    assert response.status_code == 422
    assert "The current password is not correct." in response.get_data(as_text=True)
    auth.logout()
    assert auth.login().status_code == 303


def test_account_delete_removes_the_users_files(app, client, auth):
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    finished_generation(app, client, project_id, character_id)
    data_dir = app.config["DATA_DIR"]
    assert files_under(data_dir)

    refused = client.post("/account/delete", data={"password": "not my password"})
    assert refused.status_code == 422 and files_under(data_dir)

    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 303 and location(response) == "/auth/login"
    assert files_under(data_dir) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(Project)) == 0
    assert location(client.get("/projects")).startswith("/auth/login")
    assert auth.login().status_code == 422


def test_csrf_token_is_required(app, client, auth):
    auth.register()
    app.config["WTF_CSRF_ENABLED"] = True
    # Refused without a bare 400: back to the form's page, with a sentence saying nothing was sent.
    refused = client.post("/projects", data={"name": "No token"})
    assert refused.status_code == 303 and location(refused) == "/projects"
    assert "so the form was not sent" in client.get("/projects").get_data(as_text=True)
    logout = client.post("/auth/logout", headers={"Referer": "http://localhost/account"})
    assert logout.status_code == 303 and location(logout) == "/account"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == 0

    page = client.get("/projects").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post("/projects", data={"name": "With token", "csrf_token": token})
    assert accepted.status_code == 303
    assert client.get("/projects").status_code == 200  # the refused logout did not sign out


def test_korean_from_accept_language(client):
    body = client.get("/auth/login", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="ko">' in body
    assert "로그인" in body
    english = client.get("/auth/login", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "Sign in" in english and "로그인" not in english


def test_korean_when_the_user_chose_it(client, auth):
    auth.register()
    assert client.post("/account/language", data={"locale": "ko"}).status_code == 303
    body = client.get("/projects", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="ko">' in body and "프로젝트" in body
    client.post("/account/language", data={"locale": "en"})
    assert "프로젝트" not in client.get("/projects", headers={"Accept-Language": "ko"}).get_data(as_text=True)


def test_unknown_language_is_refused(client, auth):
    auth.register()
    assert client.post("/account/language", data={"locale": "xx"}).status_code == 422
