"""Input no route can store is refused once for every route (mockup/http/guard.py): a NUL or a lone
surrogate anywhere is a 422 naming the field, JSON nested too deeply a 400, a path id of the wrong shape
a 404, on pages and API alike, before any query; on SQLite and on PostgreSQL (which cannot store NUL in
text at all, where it used to be a 500)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mockup.extensions import db
from mockup.models import Project, User

from .api_support import assert_error, sign_up
from .conftest import app_with_tables

NUL_NAME = '{"name": "a\\u0000b"}'
SURROGATE_NAME = '{"name": "\\ud800"}'
TOO_DEEP = "[" * 33 + "]" * 33
RECURSION = "[" * 100_000


@pytest.fixture
def any_db_app(config_on_each_database):
    """The app on SQLite, then on PostgreSQL."""
    config = config_on_each_database
    with app_with_tables(config) as app:
        yield app


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def post_json(client, path: str, raw: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(path, data=raw, content_type="application/json", headers=headers)


@pytest.mark.parametrize("raw", [NUL_NAME, SURROGATE_NAME], ids=["nul", "surrogate"])
def test_api_refuses_text_it_cannot_store(any_db_app, raw):
    client = any_db_app.test_client()
    alice = sign_up(client, "alice@example.com")
    assert_error(post_json(client, "/api/projects", raw, alice.token), 422, "VALIDATION", "name")
    assert count(any_db_app, Project) == 0


def test_a_nul_in_a_json_key_or_nested_value_is_refused(client):
    alice = sign_up(client, "alice@example.com")
    assert_error(post_json(client, "/api/projects", '{"name": "P", "a\\u0000": 1}', alice.token), 422, "VALIDATION")
    response = post_json(client, "/api/projects", '{"name": "P", "tags": ["ok", "\\u0000"]}', alice.token)
    assert_error(response, 422, "VALIDATION", "tags.1")


@pytest.mark.parametrize("raw", [NUL_NAME, SURROGATE_NAME], ids=["nul", "surrogate"])
def test_sign_in_and_register_refuse_unstorable_text(any_db_app, raw):
    client = any_db_app.test_client()
    body = raw.replace('"name"', '"email"')[:-1] + ', "password": "correct horse", "name": "N"}'
    assert_error(post_json(client, "/api/auth/register", body), 422, "VALIDATION", "email")
    assert_error(post_json(client, "/api/auth/login", body), 422, "VALIDATION", "email")
    assert count(any_db_app, User) == 0


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register", "/api/projects"])
@pytest.mark.parametrize("raw", [TOO_DEEP, RECURSION], ids=["over-the-limit", "recursion"])
def test_deeply_nested_json_is_a_bad_request(client, path, raw):
    alice = sign_up(client, "alice@example.com")
    assert_error(post_json(client, path, raw, alice.token), 400, "BAD_REQUEST")


def test_nesting_up_to_the_limit_is_read(client):
    alice = sign_up(client, "alice@example.com")
    nested = "[" * 31 + "]" * 31
    response = post_json(client, "/api/projects", '{"name": "P", "x": ' + nested + "}", alice.token)
    assert_error(response, 422, "VALIDATION", "x")  # parsed, then refused by the schema: an unknown field


@pytest.mark.parametrize("path", ["/api/projects/%00", "/api/projects/zzz", "/api/projects/" + "A" * 32,
                                  "/api/images/%00/download/2k", "/api/generations/%00%ff/images"])
def test_api_ids_of_the_wrong_shape_are_not_found(any_db_app, path):
    client = any_db_app.test_client()
    alice = sign_up(client, "alice@example.com")
    assert_error(client.get(path, headers={"Authorization": f"Bearer {alice.token}"}), 404, "NOT_FOUND")


@pytest.mark.parametrize("path", ["/projects/zzz", "/projects/%00/edit", "/images/%00"])
def test_page_ids_of_the_wrong_shape_are_the_not_found_page(any_db_app, path):
    client = any_db_app.test_client()
    client.post("/auth/register", data={"email": "d@example.com", "password": "correct horse", "name": "D"})
    response = client.get(path)
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_a_page_form_with_a_nul_is_refused_and_nothing_stored(any_db_app):
    client = any_db_app.test_client()
    client.post("/auth/register", data={"email": "d@example.com", "password": "correct horse", "name": "D"})
    response = client.post("/projects", data={"name": "Mugs\x00", "description": ""})
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert "NUL" in response.get_data(as_text=True)
    assert count(any_db_app, Project) == 0


def test_registering_on_the_page_with_a_nul_stores_no_account(any_db_app):
    client = any_db_app.test_client()
    response = client.post("/auth/register", data={"email": "d\x00@example.com", "password": "correct horse", "name": "D"})
    assert response.status_code == 422
    assert count(any_db_app, User) == 0


def test_a_query_string_with_a_nul_is_refused(client):
    alice = sign_up(client, "alice@example.com")
    response = client.get("/api/projects?sort=%00", headers={"Authorization": f"Bearer {alice.token}"})
    assert_error(response, 422, "VALIDATION", "sort")


def test_an_unknown_address_stays_a_404_whatever_it_carries(client):
    assert_error(client.get("/api/nowhere?x=%00"), 404, "NOT_FOUND")
    assert client.get("/nowhere/%00").status_code == 404


def test_the_refusal_reads_in_korean_on_the_pages(client):
    client.post("/auth/register", data={"email": "d@example.com", "password": "correct horse", "name": "D"})
    response = client.post("/projects", data={"name": "Mugs\x00"}, headers={"Accept-Language": "ko"})
    assert response.status_code == 422
    assert "NUL 문자" in response.get_data(as_text=True)


def test_a_204_names_no_body_type(client):
    alice = sign_up(client, "alice@example.com")
    project = alice.post("/api/projects", json={"name": "P"}).get_json()["project"]["id"]
    response = alice.delete(f"/api/projects/{project}")
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers
