"""In a real browser: the first account becomes the admin, invites a colleague with a link that the
colleague opens to register (REGISTRATION=invite), and the generate form's estimated cost follows the
options (static/cost.js) before anything is sent. The gemini engine is configured only for its prices:
nothing is generated, so no call is made."""
from __future__ import annotations

import pytest

from .conftest import base_config
from .test_browser import image_file, page, register, server  # noqa: F401 - the fixtures of the browser walks

PASSWORD = "correct horse"


@pytest.fixture
def app_config(tmp_path):
    return {**base_config(tmp_path), "RATELIMIT_ENABLED": True, "REGISTRATION": "invite",
            "MOCKUP_ENGINE": "gemini", "GEMINI_API_KEY": "not-used", "GEMINI_BASE_URL": "http://127.0.0.1:9"}


def test_the_first_account_invites_a_colleague_and_sees_the_cost_before_sending(server, page):
    page.goto(f"{server}/auth/register")
    assert "it becomes the administrator" in page.inner_text("main")
    register(page, server, "lead@example.com", "Lead")

    page.click(".topbar >> text=Accounts")
    page.fill("#email", "colleague@example.com")
    page.click("text=Make an invitation link")
    link = page.input_value("#issued-link input")
    assert "/auth/register?invite=" in link

    page.goto(f"{server}/projects")
    page.fill("#name", "Spring mugs")
    page.click("text=Create project")
    page.wait_for_url("**/projects/*")
    page.click(".subnav >> text=New mockup")
    cost = page.locator("[data-cost-value]")
    page.check("input[name=mode][value=sketch-to-real]")
    assert cost.inner_text() == "0.27"  # two candidates, each sending the sketch
    page.set_input_files("#texture_image", image_file("linen.png", (64, 64), (200, 190, 170)))
    assert cost.inner_text() == "0.28"  # and the texture

    page.click("text=Sign out")
    register(page, server, "colleague@example.com", "Colleague", url=link)
    assert "Accounts" not in page.inner_text(".topbar")
    assert page.goto(f"{server}/admin/users").status == 403
