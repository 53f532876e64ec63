"""The designer's workflow in Debian's Chromium (issue 13, items 1, 4 and 5), on the live server of
tests/test_browser.py: a form error keeps the photo, a form sent after signing out in another tab leads
to sign-in and back, Back and submit again opens the same generation, the queue page refreshes itself,
and a running job shows its step and an expected finish."""
from __future__ import annotations

import re

import pytest

from . import test_browser
from .test_browser import image_file, page, server, shot, sign_up_with_a_project, wait_for_candidates  # noqa: F401

pytestmark = pytest.mark.rate_limited


def register_bunny(page) -> None:
    page.click(".subnav >> text=Characters")
    page.fill("#name", "Bunny")
    page.set_input_files("#image", image_file("bunny.png", (300, 300), (240, 110, 150)))
    page.click("text=Register character")
    page.wait_for_selector(".tile >> text=Bunny")


def send_a_sketch(page) -> None:
    """From a project's page: a sketch-to-real mockup through the form; its generation's page is open."""
    page.click(".subnav >> text=New mockup")
    page.check("input[value=sketch-to-real]")
    page.set_input_files("#source_image", image_file("sketch.png", (640, 480), (60, 90, 200)))
    page.click("text=Make the mockup")
    page.wait_for_url("**/generations/*")


def pictures_loaded(page, selector: str) -> None:
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].length > 0 && "
        "[...document.querySelectorAll(s)].every(img => img.complete && img.naturalWidth > 0)", arg=selector)


def test_a_form_error_keeps_the_photo_and_sends_it_without_choosing_again(server, page):
    sign_up_with_a_project(page, server)
    register_bunny(page)
    page.click(".subnav >> text=New mockup")
    page.click("text=Make the mockup")  # nothing chosen
    source_field = page.locator(".field", has=page.locator("#source_image"))
    assert "Choose an image file." in source_field.inner_text()
    page.set_input_files("#source_image", image_file("mug.png", (640, 480), (60, 90, 200)))
    assert source_field.locator(".field-error").count() == 0, "the stale message goes once a good file is chosen"
    page.set_input_files("#source_image", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
    assert "Only PNG, JPEG and WEBP images are accepted." in source_field.inner_text()
    page.set_input_files("#source_image", image_file("mug.png", (640, 480), (60, 90, 200)))

    page.click("text=Make the mockup")  # ip-change without a character: refused, the photo kept
    page.wait_for_selector(".dropzone.is-kept >> text=Kept: mug.png")
    pictures_loaded(page, ".dropzone.is-kept .dropzone-preview")
    character_field = page.locator(".field", has=page.locator("#character_id"))
    assert "Choose a registered character" in character_field.inner_text()
    shot(page, "20-form-kept-photo")
    page.select_option("#character_id", label="Bunny")
    assert character_field.locator(".field-error").count() == 0

    page.click("text=Make the mockup")  # the photo is not chosen again
    page.wait_for_url("**/generations/*")
    wait_for_candidates(page)
    source = page.request.get(page.url + "/source")
    assert source.ok and source.headers["content-type"] == "image/jpeg"


def test_a_form_sent_after_signing_out_in_another_tab_leads_to_sign_in_and_back(server, page):
    sign_up_with_a_project(page, server)
    page.click(".subnav >> text=New mockup")
    form_url = page.url
    page.check("input[value=sketch-to-real]")
    page.set_input_files("#source_image", image_file("sketch.png", (640, 480), (60, 90, 200)))

    other_tab = page.context.new_page()
    other_tab.goto(f"{server}/projects")
    other_tab.click("text=Sign out")
    other_tab.wait_for_url("**/auth/login")
    other_tab.close()

    page.click("text=Make the mockup")
    page.wait_for_url(re.compile(r".*/auth/login\?next=.+"))
    assert "Your sign-in had ended, so the form was not sent. Please sign in, then send it again." in page.inner_text("body")
    assert "CSRF" not in page.content()
    shot(page, "21-signed-out-form")
    page.fill("#email", "designer@example.com")
    page.fill("#password", "correct horse")
    page.click("button >> text=Sign in")
    page.wait_for_url(form_url)
    assert page.locator("h1").inner_text() == "New mockup"


def test_back_and_submit_again_opens_the_same_generation(server, page):
    sign_up_with_a_project(page, server)
    send_a_sketch(page)
    first = page.url
    page.go_back()
    page.wait_for_selector("h1 >> text=New mockup")
    page.click("text=Make the mockup")
    page.wait_for_url("**/generations/*")
    assert page.url == first
    page.goto(f"{server}/queue")
    assert page.locator(".queue-row").count() == 1


def test_the_queue_page_refreshes_itself_and_tells_jobs_apart(server, page):
    sign_up_with_a_project(page, server)
    register_bunny(page)
    for _ in range(2):
        page.click(".subnav >> text=New mockup")
        page.set_input_files("#source_image", image_file("mug.png", (640, 480), (60, 90, 200)))
        page.select_option("#character_id", label="Bunny")
        page.click("text=Make the mockup")
        page.wait_for_url("**/generations/*")
    page.goto(f"{server}/queue")
    jobs = page.locator("#queue-jobs")
    assert jobs.get_attribute("data-finished") == "false"
    assert page.locator(".queue-row .queue-project >> text=Spring mugs").count() == 2
    assert page.locator(".queue-row .queue-character >> text=Bunny").count() == 2
    pictures_loaded(page, ".queue-thumb")
    shot(page, "22-queue-active")
    page.evaluate("window.marker = 1")
    page.wait_for_selector("#queue-jobs[data-finished=true]", timeout=60_000)
    assert page.evaluate("window.marker") == 1, "the list refreshes without a page load"
    assert page.locator(".queue-row[data-status=succeeded]").count() == 2
    assert page.locator(".queue-when >> text=started").count() == 2
    pictures_loaded(page, ".queue-thumb")
    shot(page, "23-queue-done")


def test_a_running_job_shows_its_step_and_an_expected_finish(server, page, monkeypatch):
    monkeypatch.setattr(test_browser, "ENGINE_DELAY_S", 8.0)  # long enough to be seen at each step
    sign_up_with_a_project(page, server)
    send_a_sketch(page)  # the measured run the next one's estimate comes from
    wait_for_candidates(page)
    page.click(".subnav >> text=Overview")
    send_a_sketch(page)
    page.wait_for_selector(".progress-steps[data-step=model]", timeout=30_000)
    assert page.locator(".progress-step[aria-current=step]").inner_text() == "Calling the model"
    assert page.locator(".progress-step.is-done").inner_text() == "Queued"
    assert "Expected to finish at" in page.locator(".estimate").inner_text()
    shot(page, "24-progress-estimate")
    wait_for_candidates(page)
