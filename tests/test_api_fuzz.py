"""Schemathesis against /api/openapi.json, served over HTTP from this process on a fresh PostgreSQL
database: every check, the examples, coverage, fuzzing and stateful phases, two users (alice and bob,
signed in through the API) so the authorization checks run, and the document's links so the stateful
phase chains create -> read -> update -> delete. Bounded (a fixed seed, 20 examples an operation: about
a minute on a quiet machine, two on a loaded one) so it stays well inside CI's limit; zero failures
allowed."""
from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Iterator

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from werkzeug.serving import make_server

from .api_support import PASSWORD, sign_up
from .conftest import app_with_tables, base_config

USERS = ("alice", "bob")
MAX_EXAMPLES = 20
SEED = 15


@pytest.fixture
def fuzzed_app(tmp_path, postgres_url):
    with app_with_tables({**base_config(tmp_path), "SQLALCHEMY_DATABASE_URI": postgres_url}) as app:
        yield app


@pytest.fixture
def served(fuzzed_app) -> Iterator[str]:
    """The app behind a real HTTP server on a free port (Schemathesis then speaks HTTP, as a client
    on the LAN would); its base URL."""
    server = make_server("127.0.0.1", 0, fuzzed_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def wfc_users(app, folder) -> str:
    """Two registered users, and a Web Fuzzing Commons auth file saying how each signs in (bearer
    tokens from /api/auth/login; Schemathesis signs in again when a token stops working, e.g. after it
    fuzzed /api/auth/logout with it)."""
    client = app.test_client()
    entries = []
    for name in USERS:
        email = f"{name}@example.com"
        sign_up(client, email, name.title())
        entries.append({"name": name, "loginEndpointAuth": {
            "endpoint": "/api/auth/login", "verb": "POST", "contentType": "application/json",
            "payloadRaw": json.dumps({"email": email, "password": PASSWORD}),
            "token": {"extractFrom": "body", "extractSelector": "/access_token", "sendIn": "header",
                      "sendName": "Authorization", "sendTemplate": "Bearer {token}"},
        }})
    path = folder / "wfc-auth.json"
    path.write_text(json.dumps({"schemaVersion": "0.1.0", "auth": entries}))
    return str(path)


# What a schema cannot say: the bytes of an upload must decode as a PNG, JPEG or WEBP image (and an
# edit's region or mask must fit its image), so schema-valid uploads may be refused with 415 (not one
# of those formats), 413 (over 10 MB) or 422 (damaged, or not fitting). Never a 500, and everything
# else still checked.
UPLOADS = ["createCharacter", "submitGeneration", "editImage"]
ACCEPTED_WITH_IMAGE_CHECKS = ["2xx", "3xx", "401", "403", "404", "409", "413", "415", "422", "429"]
# Nor can it say that bcrypt reads at most 72 bytes of a password: 64 characters may be more in UTF-8,
# and such a password is refused with 422 (the document says so in words).
NEW_PASSWORDS = ["register", "createUser"]
ACCEPTED_OR_REFUSED_IN_WORDS = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
# Nor which strings of the cursor's form are cursors a list gave out (the last row's sort key, encoded):
# any other is refused with 422 (the document says so in words).
PAGED_LISTS = ["listProjects", "listCharacters", "listGenerationImages", "listHistory", "listUsers", "getUsage",
               "listMembers", "listComments"]


def run_config(auth_file: str) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        # The same requests every run: no state carried over between runs, nothing written to the repo.
        "cache": {"enabled": False},
        # No NUL in generated text: the document says in words that text may not hold one (JSON
        # Schema cannot, short of a pattern on every string), and test_input_guard.py proves the 422.
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none",
                       "allow-x00": False},
        "phases": {name: {"enabled": True} for name in ("examples", "coverage", "fuzzing", "stateful")},
        "checks": {"enabled": True},
        "auth": {"wfc": {"path": auth_file, "peers": list(USERS)}},
        "operations": [
            {"include-operation-id": UPLOADS, "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_IMAGE_CHECKS}}},
            {"include-operation-id": NEW_PASSWORDS, "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_OR_REFUSED_IN_WORDS}}},
            {"include-operation-id": PAGED_LISTS, "checks": {
                "positive_data_acceptance": {"expected-statuses": ACCEPTED_OR_REFUSED_IN_WORDS}}},
        ],
    })


def failures_of(schema) -> tuple[list[str], Counter, set[str]]:
    """Every failed check of the run (operation, check, message), how many calls each phase made, and
    the names of the checks that ran."""
    found, calls, ran = [], Counter(), set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            calls[event.phase.value] += len(event.recorder.interactions)
            for case_id, checks in event.recorder.checks.items():
                ran.update(check.name for check in checks)
                case = event.recorder.cases[case_id].value
                answer = event.recorder.interactions.get(case_id)
                status = answer.response.status_code if answer and answer.response else None
                found += [f"{case.method} {case.formatted_path} -> {status} [{check.name}] {check.failure_info.failure.title}: "
                          f"{check.failure_info.failure.message} <- {case.as_curl_command()[:300]}"
                          for check in checks if check.status == Status.FAILURE and check.failure_info]
        elif isinstance(event, events.NonFatalError):
            found.append(f"error in {event.label}: {event.info}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return sorted(set(found)), calls, ran


def test_the_api_holds_to_its_document_under_schemathesis(fuzzed_app, served, tmp_path):
    config = run_config(wfc_users(fuzzed_app, tmp_path))
    schema = schemathesis.openapi.from_url(f"{served}/api/openapi.json", config=config)
    found, calls, ran = failures_of(schema)
    assert found == [], "\n".join(found)
    assert all(calls[phase] for phase in ("examples", "coverage", "fuzzing", "stateful")), calls
    assert {"not_a_server_error", "negative_data_rejection", "positive_data_acceptance", "ignored_auth",
            "use_after_free", "object_level_authorization"} <= ran, sorted(ran)
