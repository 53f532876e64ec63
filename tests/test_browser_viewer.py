"""Judging images in a real browser (static/lightbox.js): candidates shown large, the full-screen viewer
with zoom to 100 % and pan by mouse, keys and fingers, the A/B view of two candidates or versions, and
the history note on the image page. Uses the server and browser fixtures of tests/test_browser.py."""
from __future__ import annotations

import pytest

from .test_browser import (  # noqa: F401 (fixtures)
    image_file, page, server, shot, sign_up_with_a_project, wait_for_candidates,
)

# Where the first image of the open viewer is and how large it is drawn, in CSS px.
IMAGE_BOX = "() => { const b = document.querySelector('.lightbox-pane img').getBoundingClientRect();" \
            " return {x: b.x, y: b.y, width: b.width, height: b.height}; }"


def make_candidates(page, server: str, size=(1600, 1200)) -> None:
    """A project with one finished sketch-to-real generation; its page is open afterwards."""
    sign_up_with_a_project(page, server)
    page.click(".subnav >> text=New mockup")
    page.check("input[value=sketch-to-real]")
    page.set_input_files("#source_image", image_file("sketch.png", size, (60, 90, 200)))
    page.click("text=Make the mockup")
    page.wait_for_url("**/generations/*")
    wait_for_candidates(page)


def open_viewer(page, opener) -> None:
    opener.click()
    page.wait_for_selector("dialog.lightbox[open].is-ready")


def natural_width(page) -> int:
    return page.evaluate("document.querySelector('.lightbox-pane img').naturalWidth")


@pytest.mark.parametrize("width, smallest", [(1440, 480), (390, 340)])
def test_candidates_are_large_and_keep_their_shape(server, page, width, smallest):  # noqa: F811
    make_candidates(page, server)
    page.set_viewport_size({"width": width, "height": 900})
    for img in page.locator(".candidate-media img").all():
        box = img.bounding_box()
        assert box["width"] >= smallest
        # Drawn at the picture's own aspect ratio, not letterboxed in a square.
        natural = img.evaluate("i => i.naturalWidth / i.naturalHeight")
        assert abs(box["width"] / box["height"] - natural) < 0.02
    shot(page, f"candidates-{width}")


def test_the_viewer_zooms_to_100_percent_pans_and_closes(server, page):  # noqa: F811
    make_candidates(page, server)
    page.set_viewport_size({"width": 1280, "height": 640})
    opener = page.locator(".candidate").first.locator(".candidate-zoom")
    assert opener.get_attribute("aria-label") == "View Candidate 1 full screen"
    open_viewer(page, opener)
    assert page.evaluate("document.activeElement.dataset.zoom") == "fit", "focus moves into the viewer"
    fitted = page.evaluate(IMAGE_BOX)
    natural = natural_width(page)
    assert fitted["width"] < natural and fitted["height"] <= 640 - 40, "fitted: smaller than the image, on screen"

    page.click("[data-zoom=actual]")
    actual = page.evaluate(IMAGE_BOX)
    assert abs(actual["width"] - natural) < 1, "100 % is one image pixel per CSS pixel"
    assert page.locator("[data-level]").inner_text() == "100%"
    assert page.locator("[data-zoom=actual]").get_attribute("aria-pressed") == "true"

    # Beyond 100 %: + zooms in by a quarter each time.
    page.keyboard.press("+")
    page.keyboard.press("+")
    zoomed = page.evaluate(IMAGE_BOX)
    assert zoomed["width"] == pytest.approx(natural * 1.25 ** 2, abs=1)
    assert zoomed["width"] > 1280 and zoomed["height"] > 640, "larger than the screen: there is room to pan"

    # Drag with the mouse: the image follows the pointer.
    page.mouse.move(640, 350)
    page.mouse.down()
    page.mouse.move(600, 320, steps=5)
    page.mouse.up()
    dragged = page.evaluate(IMAGE_BOX)
    assert (round(dragged["x"] - zoomed["x"]), round(dragged["y"] - zoomed["y"])) == (-40, -30)

    # The arrow keys pan too; - zooms back out, 0 fits again, 1 is 100 % again.
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(IMAGE_BOX)["x"] > dragged["x"]
    page.keyboard.press("-")
    assert page.evaluate(IMAGE_BOX)["width"] == pytest.approx(natural * 1.25, abs=1)
    page.keyboard.press("0")
    assert page.evaluate(IMAGE_BOX) == pytest.approx(fitted, abs=1)
    page.keyboard.press("1")
    assert page.evaluate(IMAGE_BOX)["width"] == pytest.approx(natural, abs=1)
    shot(page, "viewer-100")

    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.lightbox", state="detached")
    assert page.evaluate("document.activeElement.classList.contains('candidate-zoom')"), "focus goes back"


def test_a_pinch_zooms_and_a_finger_pans(server, page):  # noqa: F811
    make_candidates(page, server)
    page.set_viewport_size({"width": 390, "height": 844})
    open_viewer(page, page.locator(".candidate").first.locator(".candidate-zoom"))
    before = page.evaluate(IMAGE_BOX)

    # Real touches through Chromium's input pipeline, which turns them into Pointer Events.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 2})

    def touch(kind: str, *points: tuple[float, float]) -> None:
        cdp.send("Input.dispatchTouchEvent", {
            "type": kind, "touchPoints": [{"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)],
        })

    # Two fingers move apart from 100 px to 200 px: the image doubles around their middle.
    touch("touchStart", (145, 400), (245, 400))
    for step in range(1, 11):
        touch("touchMove", (145 - 5 * step, 400), (245 + 5 * step, 400))
    touch("touchEnd")
    pinched = page.evaluate(IMAGE_BOX)
    assert pinched["width"] == pytest.approx(2 * before["width"], rel=0.02)
    # One finger drags it.
    touch("touchStart", (200, 400))
    for step in range(1, 7):
        touch("touchMove", (200 + 5 * step, 400))
    touch("touchEnd")
    assert page.evaluate(IMAGE_BOX)["x"] == pytest.approx(pinched["x"] + 30, abs=1)
    shot(page, "viewer-phone")


def test_two_candidates_side_by_side_share_zoom_and_pan(server, page):  # noqa: F811
    make_candidates(page, server)
    page.set_viewport_size({"width": 1440, "height": 900})
    ids = [page.locator(".candidate").nth(n).get_attribute("data-image-id") for n in range(2)]
    open_viewer(page, page.locator("[data-ab-open]"))
    panes = page.locator(".lightbox-pane")
    assert panes.count() == 2
    assert [panes.nth(n).locator("img").get_attribute("src") for n in range(2)] == [f"/images/{i}/file" for i in ids]
    assert [panes.nth(n).locator("figcaption").inner_text() for n in range(2)] == ["Candidate 1", "Candidate 2"]
    a, b = panes.nth(0).bounding_box(), panes.nth(1).bounding_box()
    assert a["x"] + a["width"] <= b["x"], "A beside B"

    page.keyboard.press("1")
    page.mouse.move(a["x"] + 300, a["y"] + 300)
    page.mouse.down()
    page.mouse.move(a["x"] + 250, a["y"] + 280, steps=4)
    page.mouse.up()
    boxes = page.evaluate("[...document.querySelectorAll('.lightbox-pane img')].map(i => i.getBoundingClientRect())"
                          ".map(r => [r.x, r.y, r.width, r.height])")
    offsets = [(x - pane["x"], y - pane["y"], w, h) for (x, y, w, h), pane in zip(boxes, (a, b))]
    assert offsets[0] == pytest.approx(offsets[1], abs=1), "the same spot of both candidates is in view"
    shot(page, "viewer-ab")
    page.click("[data-close]")
    page.wait_for_selector("dialog.lightbox", state="detached")

    # Only two at a time: unchecking one disables the button.
    page.locator("[data-ab-src]").nth(1).uncheck()
    assert page.locator("[data-ab-open]").is_disabled()


def test_the_image_page_shows_the_note_and_compares_versions(server, page):  # noqa: F811
    make_candidates(page, server, size=(640, 480))
    page.locator(".candidate").first.locator("input[name=note]").fill("Client favourite: glaze is right")
    page.locator(".candidate").first.locator("text=Save to history").click()
    page.wait_for_selector(".candidate .saved-note")
    page.locator(".candidate-media").first.click()
    page.wait_for_url("**/images/*")
    assert page.locator(".history-quote blockquote").inner_text() == "Client favourite: glaze is right"

    # The lineage: source and this candidate are checked, and open side by side.
    assert page.locator(".lineage [data-ab-src]:checked").count() == 2
    open_viewer(page, page.locator(".lineage [data-ab-open]"))
    assert [c.inner_text() for c in page.locator(".lightbox-pane figcaption").all()] == ["Source", "Candidate 1"]
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.lightbox", state="detached")

    # The big picture opens the viewer rather than the bare file.
    open_viewer(page, page.locator(".viewer-image"))
    assert "/file" not in page.url
    page.keyboard.press("Escape")
    page.wait_for_selector("dialog.lightbox", state="detached")
