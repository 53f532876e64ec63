"""A shared review in a real browser (the server and Chromium of tests/test_browser.py): the owner shares
a project with a colleague as reviewer; the colleague signs in, pins a comment to a box drawn on a
candidate, approves it with a comment, and the owner sees all of it on their next page load."""
from __future__ import annotations

import pytest

from .test_browser import image_file, page, register, server, shot, sign_up_with_a_project, wait_for_candidates  # noqa: F401

pytestmark = pytest.mark.rate_limited  # served as in production, limits on

COLLEAGUE = "rey@example.com"
BOX = ((0.2, 0.3), (0.5, 0.6))  # the comment's box: its corners in fractions of the shown image


def drag(page, locator, start: tuple[float, float], end: tuple[float, float]) -> None:
    """A mouse drag between two points given as fractions of the element's box."""
    box = locator.bounding_box()
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    for step in range(1, 11):
        x = start[0] + (end[0] - start[0]) * step / 10
        y = start[1] + (end[1] - start[1]) * step / 10
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.mouse.up()


def make_two_candidates(page) -> None:
    """From a project's page: a sketch-to-real generation, until its two candidates are shown."""
    page.click(".subnav >> text=New mockup")
    page.check("input[value=sketch-to-real]")
    page.set_input_files("#source_image", image_file("sketch.png", (640, 480), (60, 90, 200)))
    page.click("text=Make the mockup")
    page.wait_for_url("**/generations/*")
    wait_for_candidates(page)


def pin_a_comment_and_approve(colleague) -> dict[str, int]:
    """On a candidate's page, as a reviewer: draw BOX, pin a comment to it, approve with a comment.
    Returns the box in the image's pixels, as the comment form sent it."""
    (left, top), (right, bottom) = BOX
    assert not colleague.locator("text=Remove the box").is_visible()  # until a box is drawn
    colleague.click("text=Mark a region on the image")
    surface = colleague.locator(".review-boxes")
    drag(colleague, surface, *BOX)
    width, height = (int(value) for value in (surface.get_attribute("viewBox").split()[2:]))
    region = {key: int(colleague.input_value(f"[data-region={key}]")) for key in ("x", "y", "width", "height")}
    assert colleague.locator("text=Remove the box").is_visible()
    assert abs(region["x"] - left * width) <= 2 and abs(region["y"] - top * height) <= 2
    assert abs(region["width"] - (right - left) * width) <= 3 and abs(region["height"] - (bottom - top) * height) <= 3
    colleague.fill("#body", "The rim should be thinner here")
    colleague.click("text=Add comment")
    colleague.wait_for_selector("text=Comment added.")
    colleague.select_option("#state", "approved")
    colleague.fill("#comment", "Approved for the catalogue")
    colleague.click("text=Save review")
    colleague.wait_for_selector("text=Review saved.")
    return region


def assert_the_owner_sees_the_review(page, region: dict[str, int]) -> None:
    """On the candidate's page, as its owner: Rey's approval, both comments and the stored box."""
    assert page.locator(".candidate-meta >> text=Approved").count() == 1
    assert page.locator("text=Review by Rey Reviewer").count() == 1
    assert page.locator(".comment >> text=The rim should be thinner here").count() == 1
    assert page.locator(".comment >> text=Approved for the catalogue").count() == 1
    box = page.locator(".review-box rect")
    assert box.count() == 1
    assert {key: int(box.get_attribute(key)) for key in region} == region


def test_a_reviewer_approves_with_a_comment_on_a_region_and_the_owner_sees_it(server, page):  # noqa: F811
    colleague = page.context.browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
    register(colleague, server, COLLEAGUE, "Rey Reviewer")

    sign_up_with_a_project(page, server)
    project_url = page.url
    make_two_candidates(page)

    page.goto(project_url)
    page.fill("#email", COLLEAGUE)
    page.select_option("#role", "reviewer")
    page.click("text=Add member")
    page.wait_for_selector("#members >> text=rey@example.com")
    shot(page, "review-01-members")

    colleague.goto(f"{server}/projects")
    colleague.click(".project-card >> text=Spring mugs")
    assert colleague.locator("text=Shared by Dana Designer").count() == 1
    assert colleague.locator(".page-actions >> text=New mockup").count() == 0  # a reviewer makes none
    colleague.click(".generation-card")
    colleague.locator(".candidate-media").first.click()
    colleague.wait_for_url("**/images/*")
    image_url = colleague.url

    region = pin_a_comment_and_approve(colleague)
    shot(colleague, "review-02-reviewer")

    page.goto(image_url)
    assert_the_owner_sees_the_review(page, region)
    shot(page, "review-03-owner-sees-it")
    colleague.context.close()
