"""The whole team story in a real browser (the server and Chromium of tests/test_browser.py), on an empty
installation in the default REGISTRATION=invite mode: the owner registers first and becomes the admin,
invites a colleague whose link registers them, shares a project with them as reviewer; the colleague signs
in, finds the shared project, pins a comment to a box on a candidate and approves it, seeing no editing
controls; the owner sees the review and the box where it was drawn. Without an invitation nobody
registers."""
from __future__ import annotations

import pytest

from .test_browser import page, server, shot, wait_for_candidates  # noqa: F401 - the fixtures
from .test_browser import register
from .test_browser_accounts import PASSWORD
from .test_browser_review import BOX, assert_the_owner_sees_the_review, make_two_candidates, pin_a_comment_and_approve

pytestmark = pytest.mark.rate_limited  # served as in production, limits on

OWNER = "lead@example.com"
COLLEAGUE = "rey@example.com"


@pytest.fixture
def app_config(app_config):
    """The tests' settings with the default registration mode, not the tests' `open`."""
    return {**app_config, "REGISTRATION": "invite"}


def new_page(page):
    """A page in a browser context of its own: another person on another computer."""
    return page.context.browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()


def sign_in(page, server: str, email: str) -> None:
    page.goto(f"{server}/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit] >> text=Sign in")
    page.wait_for_url(f"{server}/projects")


def invite(page, email: str) -> str:
    """On the admin's Accounts page: the invitation link made for `email`."""
    page.click(".topbar >> text=Accounts")
    page.fill("#email", email)
    page.click("text=Make an invitation link")
    link = page.input_value("#issued-link input")
    assert "/auth/register?invite=" in link
    return link


def make_a_generation(page) -> str:
    """Create "Spring mugs" and make a sketch-to-real generation on it; returns the project's URL."""
    page.click(".topbar >> text=Projects")
    page.fill("#name", "Spring mugs")
    page.click("text=Create project")
    page.wait_for_url("**/projects/*")
    project_url = page.url
    make_two_candidates(page)
    return project_url


def refuse_without_invitation(stranger, server: str) -> None:
    stranger.goto(f"{server}/auth/register")
    assert "You need an invitation to register" in stranger.inner_text("main")
    stranger.fill("#email", "stranger@example.com")
    stranger.fill("#name", "Stranger")
    stranger.fill("#password", PASSWORD)
    stranger.fill("#confirm", PASSWORD)
    with stranger.expect_response(lambda response: response.request.method == "POST") as answer:
        stranger.click("button[type=submit] >> text=Create account")
    assert answer.value.status == 403
    stranger.wait_for_selector(".error-card >> text=You need an invitation to register")
    assert "Sign out" not in stranger.inner_text("body")


def assert_no_edit_controls(page) -> None:
    """On an image page, as a reviewer: reviewing and commenting, nothing that changes the image."""
    side = page.locator(".viewer-side")
    for label in ("Edit a region", "Select this candidate", "Save to history", "Delete image"):
        assert side.locator(f"text={label}").count() == 0, label
    assert page.locator("[data-region-editor]").count() == 0
    assert side.locator(".review-form").count() == 1


def assert_box_drawn_where_marked(page) -> None:
    """The stored box is shown over the same part of the image as it was drawn on."""
    (left, top), (right, bottom) = BOX
    image = page.locator(".review-boxes").bounding_box()
    box = page.locator(".review-box rect").bounding_box()
    assert abs(box["x"] - (image["x"] + left * image["width"])) <= 3
    assert abs(box["y"] - (image["y"] + top * image["height"])) <= 3
    assert abs(box["width"] - (right - left) * image["width"]) <= 4
    assert abs(box["height"] - (bottom - top) * image["height"]) <= 4


def test_an_owner_invites_a_colleague_who_reviews_a_shared_candidate(server, page):  # noqa: F811
    colleague, stranger = new_page(page), new_page(page)

    page.goto(f"{server}/auth/register")
    assert "it becomes the administrator" in page.inner_text("main")
    register(page, server, OWNER, "Dana Designer")
    link = invite(page, COLLEAGUE)

    register(colleague, server, COLLEAGUE, "Rey Reviewer", url=link)
    assert "Welcome, Rey Reviewer!" in colleague.inner_text("main")
    assert "Accounts" not in colleague.inner_text(".topbar")
    colleague.click(".topbar >> text=Sign out")
    colleague.wait_for_url(f"{server}/auth/login")

    refuse_without_invitation(stranger, server)

    project_url = make_a_generation(page)
    page.goto(project_url)
    page.fill("#email", COLLEAGUE)
    page.select_option("#role", "reviewer")
    page.click("text=Add member")
    page.wait_for_selector(f"#members >> text={COLLEAGUE}")

    sign_in(colleague, server, COLLEAGUE)
    card = colleague.locator(".project-card", has_text="Spring mugs")
    assert "Shared by Dana Designer" in card.inner_text()
    assert "Reviewer" in card.locator(".badge--role").inner_text()
    card.click()
    colleague.wait_for_url(project_url)
    actions = colleague.locator(".page-actions")
    for label in ("Edit", "Delete", "New mockup"):
        assert actions.locator(f"text={label}").count() == 0, label
    assert colleague.locator("text=Share this project").count() == 0
    colleague.click(".generation-card")
    colleague.wait_for_url("**/generations/*")
    wait_for_candidates(colleague)
    assert colleague.locator(".candidate form").count() == 0  # no Select, Delete or Save to history
    colleague.locator(".candidate-media").first.click()
    colleague.wait_for_url("**/images/*")
    image_url = colleague.url
    assert_no_edit_controls(colleague)
    region = pin_a_comment_and_approve(colleague)
    shot(colleague, "team-01-reviewer")

    page.goto(image_url)
    assert_the_owner_sees_the_review(page, region)
    assert_box_drawn_where_marked(page)
    shot(page, "team-02-owner-sees-it")

    page.click(".topbar >> text=Accounts")
    assert page.locator(".users-table tbody tr").count() == 2  # the stranger got no account
    colleague.context.close()
    stranger.context.close()
