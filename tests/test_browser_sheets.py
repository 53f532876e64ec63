"""A character sheet in Debian's Chromium, on the live server of tests/test_browser.py: register a
character with its description, add a side and a back view, see them as labelled thumbnails, remove one,
edit the description; then the generate form's estimate follows the sheet and the chosen candidates
before anything is sent, and the generation gets what was chosen."""
from __future__ import annotations

import pytest

from .test_browser import image_file, page, server, shot, sign_up_with_a_project, wait_for_candidates  # noqa: F401

pytestmark = pytest.mark.rate_limited


def add_view(sheet, view: str, colour) -> None:
    sheet.locator("input[type=file][name=image]").set_input_files(image_file(f"{view}.png", (300, 300), colour))
    sheet.locator("select[name=view]").select_option(view)
    sheet.locator("button >> text=Add view").click()


def test_a_character_sheet_in_the_browser(server, page):
    sign_up_with_a_project(page, server)
    page.click(".subnav >> text=Characters")
    page.fill("#name", "Bunny")
    page.set_input_files("#image", image_file("front.png", (300, 300), (240, 110, 150)))
    page.fill("#description", "A white rabbit with a red bow tie")
    page.click("text=Register character")
    sheet = page.locator(".character-sheet", has_text="Bunny")
    sheet.wait_for()
    assert sheet.locator("[data-description]").inner_text() == "A white rabbit with a red bow tie"

    add_view(sheet, "side", (40, 160, 90))
    page.wait_for_selector("text=View added to the character sheet.")
    add_view(sheet, "back", (30, 60, 220))
    page.wait_for_selector("text=View added to the character sheet.")
    views = sheet.locator(".sheet-view")
    assert views.count() == 3
    assert [views.nth(i).locator("[data-view-label]").inner_text() for i in range(3)] == ["1. Front", "2. Side", "3. Back view"]
    page.wait_for_function("[...document.querySelectorAll('.sheet img')].every(img => img.complete && img.naturalWidth > 0)")
    shot(page, "30-character-sheet")

    page.once("dialog", lambda dialog: dialog.accept())
    sheet.locator(".sheet-view[data-view=side] button >> text=Remove").click()
    page.wait_for_selector("text=View removed from the character sheet.")
    assert [views.nth(i).get_attribute("data-view") for i in range(views.count())] == ["front", "back"]

    sheet.locator("summary >> text=Edit name and description").click()
    sheet.locator("textarea[name=description]").fill("A white rabbit, red bow tie, never a hat")
    sheet.locator("button >> text=Save").click()
    page.wait_for_selector("text=Character saved.")
    assert "never a hat" in sheet.locator("[data-description]").inner_text()

    # The estimate before sending: the source and both views, times the candidates chosen.
    # The local engine is free, so the page's rates are set to round numbers here: $1 a call, $0.10 an image.
    page.click(".subnav >> text=New mockup")
    page.evaluate("""() => { const box = document.querySelector('[data-cost-estimate]');
                              box.dataset.perCall = '1'; box.dataset.perInputImage = '0.1'; }""")
    estimate = page.locator("[data-cost-value]")
    page.select_option("#character_id", label="Bunny")
    assert estimate.inner_text() == "2.60"  # 2 calls, each with the source and the sheet's 2 pictures
    page.select_option("#candidates", "4")
    assert estimate.inner_text() == "5.20"
    page.check("input[name=image_size][value='2K']")
    page.set_input_files("#source_image", image_file("mug.png", (640, 480), (60, 90, 200)))
    shot(page, "31-generate-candidates-size")
    page.click("text=Make the mockup")
    page.wait_for_url("**/generations/*")
    assert page.locator("[data-character-view]").count() == 2
    page.wait_for_selector("#generation-status[data-status=succeeded]", timeout=90_000)
    assert page.locator(".candidate").count() == 4
