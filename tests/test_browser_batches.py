"""A 2 x 2 batch in a real browser (the server and Chromium of tests/test_browser.py): two product
photos chosen in one file input, two characters ticked by their thumbnails; the contact sheet fills in
without a reload, cell by cell, until every one shows its candidates, and the batch downloads as one zip."""
from __future__ import annotations

import json
import zipfile

import pytest

from .test_browser import image_file, page, server, shot, sign_up_with_a_project  # noqa: F401 (fixtures)

pytestmark = pytest.mark.rate_limited  # served as in production, limits on


def register_character(page, name: str, color) -> None:
    page.click(".subnav >> text=Characters")
    page.fill("#name", name)
    page.set_input_files("#image", image_file(f"{name.lower()}.png", (300, 300), color))
    page.click("text=Register character")
    page.wait_for_selector(f".tile >> text={name}")


def test_a_two_by_two_batch_fills_its_contact_sheet(server, page):  # noqa: F811 (fixtures)
    sign_up_with_a_project(page, server)
    register_character(page, "Bunny", (240, 110, 150))
    register_character(page, "Fox", (230, 140, 40))
    page.click(".subnav >> text=Overview")
    page.click(".page-actions >> text=New batch")
    page.set_input_files("#source_image", [image_file("mug.png", (640, 480), (60, 90, 200)),
                                           image_file("tumbler.png", (480, 640), (30, 150, 90))])
    page.check(".character-pick:has-text('Bunny') input")
    page.check(".character-pick:has-text('Fox') input")
    page.fill("#prompt", "glossy white ceramic")
    shot(page, "batch-01-form")
    page.click("text=Start the batch")
    page.wait_for_url("**/batches/*")

    sheet = page.locator("#batch-sheet")
    assert sheet.get_attribute("data-finished") == "false"
    assert page.locator(".contact-cell").count() == 4
    assert "of 4 finished" in sheet.inner_text()
    shot(page, "batch-02-waiting")
    page.evaluate("window.marker = 1")
    page.wait_for_selector("#batch-sheet[data-finished=true]", timeout=90_000)
    assert page.evaluate("window.marker") == 1, "the sheet must fill in without a page load"
    assert page.locator(".contact-cell[data-status=succeeded]").count() == 4
    assert page.locator("[data-batch-status]").inner_text() == "Done"
    assert "4 of 4 finished" in page.locator("#batch-sheet").inner_text()
    page.wait_for_function("[...document.querySelectorAll('.contact-candidate img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")
    assert page.locator(".contact-candidate img").count() == 8
    assert page.locator(".contact-sheet thead >> text=Bunny").count() == 1
    shot(page, "batch-03-done")

    with page.expect_download() as downloaded:  # the Export control offers this batch first
        page.click(".export-form >> text=Download zip")
    with zipfile.ZipFile(downloaded.value.path()) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    assert sorted(name for name in names if name.startswith("manifest.")) == ["manifest.csv", "manifest.json"]
    assert len(names) == 10 and len(manifest["files"]) == 8

    page.locator(".contact-cell").first.locator("button >> text=Select").first.click()
    page.wait_for_url("**/batches/*")
    assert page.locator(".contact-candidate.is-selected").count() == 1
    page.click(".subnav >> text=Overview")
    assert page.locator("#batches >> text=4 of 4 finished").count() == 1
