"""HTTP-level defences on real responses: security headers (Flask-Talisman), cookie flags, HTTPS
redirection, CORS on the JSON API, the secret key a production app insists on; and in Chromium, that the
page policy blocks nothing the pages themselves use."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask_login import login_user

import config
from mockup import create_app
from mockup.auth_session import SignedInUser
from mockup.extensions import db
from mockup.security import FILE_CSP
from mockup.services import accounts

from .api_support import sign_up
from .factories import create_character, create_project, finished_generation
from .test_browser import image_file, page, server, sign_up_with_a_project  # noqa: F401

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
ORIGIN = "https://design.example"


def directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


@pytest.fixture
def signed_in(app, client, auth):
    """A user with a finished generation: (project_id, generation_id, image_id, character_id)."""
    auth.register()
    project_id = create_project(client)
    character_id = create_character(client, project_id)
    generation_id, (image_id, _) = finished_generation(app, client, project_id, character_id)
    return project_id, generation_id, image_id, character_id


def test_pages_get_a_policy_without_inline_script(client, signed_in):
    project_id, generation_id, image_id, _ = signed_in
    for url in ("/projects", f"/projects/{project_id}", f"/generations/{generation_id}", f"/images/{image_id}",
                "/account"):
        response = client.get(url)
        assert response.status_code == 200 and response.mimetype == "text/html"
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
        assert policy["frame-ancestors"] == "'self'" and policy["style-src"] == "'self'"
        assert "unsafe-inline" not in policy["script-src"] + policy["default-src"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_templates_hold_no_inline_script():
    """What the policy would block must not be in the templates: inline <script>, on* handlers,
    javascript: URLs or <style> blocks. Inline style attributes are allowed by style-src-attr only."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert "javascript:" not in text and "<style" not in text, path


def test_everything_but_pages_gets_the_sandbox_policy(app, client, signed_in):
    _, generation_id, image_id, _ = signed_in
    api = sign_up(client, "api@example.com")
    for response in (client.get(f"/images/{image_id}/file"), client.get(f"/generations/{generation_id}/source"),
                     client.get("/healthz"), api.get("/api/projects"), client.get("/static/app.js")):
        assert response.headers["Content-Security-Policy"] == FILE_CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/auth/login").headers
    secure = client.get("/auth/login", base_url="https://localhost")
    assert re.fullmatch(r"max-age=\d{8,}; includeSubDomains", secure.headers["Strict-Transport-Security"])


def test_http_is_served_unless_https_is_forced(app_config):
    plain = create_app(app_config).test_client()
    assert plain.get("/auth/login").status_code == 200
    forced = create_app({**app_config, "FORCE_HTTPS": True}).test_client()
    redirect = forced.get("/auth/login")
    assert redirect.status_code == 302 and redirect.headers["Location"] == "https://localhost/auth/login"
    assert forced.get("/auth/login", base_url="https://localhost").status_code == 200


def test_force_https_accepts_https_reported_by_the_proxy(app_config):
    """Behind PROXY_COUNT proxies, the proxy's X-Forwarded-Proto says the browser used HTTPS."""
    app = create_app({**app_config, "FORCE_HTTPS": True, "PROXY_COUNT": 1})
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"}
    response = app.test_client().get("/auth/login", headers=proxied)
    assert response.status_code == 200 and "Strict-Transport-Security" in response.headers


@pytest.mark.parametrize("secure", [True, False])
def test_session_and_remember_cookies_flags(app_config, secure):
    """Secure when configured for HTTPS (the default in production), always HttpOnly and SameSite=Lax."""
    app = create_app({**app_config, "SESSION_COOKIE_SECURE": secure, "REMEMBER_COOKIE_SECURE": secure})
    with app.app_context():
        db.create_all()
        user = accounts.register("cookie@example.com", "correct horse", "Cookie")
        # No form offers "remember me" yet, so the sign-in is made here the way sign_in() makes it.
        with app.test_request_context("/auth/login", method="POST", base_url="https://localhost"):
            app.preprocess_request()
            login_user(SignedInUser(user, accounts.start_session(user.id)), remember=True)
            response = app.process_response(app.make_response("signed in"))
        db.drop_all()
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"session", "remember_token"}
    for header in cookies.values():
        flags = {flag.strip().lower() for flag in header.split(";")[1:]}
        assert "httponly" in flags and "samesite=lax" in flags
        assert ("secure" in flags) is secure


def test_cors_only_for_configured_origins_and_only_on_the_api(app_config):
    app = create_app({**app_config, "CORS_ORIGINS": [ORIGIN]})
    client = app.test_client()
    preflight = client.options("/api/projects", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
    })
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    allowed = client.get("/api/openapi.json", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    for response in (client.get("/api/openapi.json", headers={"Origin": "https://evil.example"}),
                     client.options("/api/projects", headers={"Origin": "https://evil.example",
                                                             "Access-Control-Request-Method": "POST"}),
                     client.get("/auth/login", headers={"Origin": ORIGIN})):
        assert not any(name.startswith("Access-Control-") for name in response.headers.keys())


def test_no_cors_without_configured_origins(client):
    response = client.get("/api/openapi.json", headers={"Origin": ORIGIN})
    assert not any(name.startswith("Access-Control-") for name in response.headers.keys())


@pytest.fixture
def strict_page(page):
    """A page in a browser context of its own that enforces the policy (the shared `page` bypasses it)."""
    context = page.context.browser.new_context()
    yield context.new_page()
    context.close()


def test_chromium_reports_no_policy_violation_on_the_pages(server, strict_page):
    """The policy is checked by a real browser on the pages that use scripts, inline style attributes
    (the before/after figure), data: and blob: images: nothing may be refused. Only selector waits here:
    Playwright's wait_for_function would itself be refused by the policy."""
    page = strict_page
    refused = []

    def note(message) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", note)
    sign_up_with_a_project(page, server)
    page.click(".subnav >> text=New mockup")
    page.check("input[value=sketch-to-real]")
    page.set_input_files("#source_image", image_file("sketch.png", (320, 240), (60, 90, 200)))
    page.click("text=Make the mockup")
    page.wait_for_url("**/generations/*")
    page.wait_for_selector("#generation-status[data-status=succeeded] .candidate img", timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.locator(".candidate-media").first.click()
    page.wait_for_url("**/images/*")
    page.wait_for_load_state("networkidle")
    page.goto(f"{server}/account")
    assert refused == []


@pytest.mark.parametrize("secret", ["", config.DEV_SECRET_KEY])
def test_production_refuses_a_missing_or_development_secret_key(app_config, secret):
    """Sessions and tokens signed with a known key could be forged by anyone."""
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        create_app({**app_config, "APP_ENV": "production", "SECRET_KEY": secret})
