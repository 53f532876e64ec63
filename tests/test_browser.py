"""Real browser walks through the product: a real server (embedded job runner, CSRF on, local engine)
and Debian's Chromium driven by Playwright. Screenshots land in /tmp/shots for a human look."""
from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from werkzeug.serving import make_server

from mockup import create_app
from mockup.engines import get_engine
from mockup.extensions import db

from .conftest import need, png_bytes
from .job_runner import use_engine
from .pictures import CHARACTER_EYE, character_art

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/shots")
ENGINE_DELAY_S = 3.0

pytestmark = pytest.mark.rate_limited  # served as in production, limits on


class SlowEngine:
    """The local engine, slowed down so the page is seen waiting before the candidates arrive."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.name = engine.name

    def generate(self, request):
        time.sleep(ENGINE_DELAY_S)
        return self.engine.generate(request)

    def edit(self, request):
        time.sleep(ENGINE_DELAY_S)
        return self.engine.edit(request)


@pytest.fixture
def server(app_config, monkeypatch):
    """The app served over HTTP in a thread, like `flask run`; yields its base URL."""
    use_engine(monkeypatch, lambda name, config: SlowEngine(get_engine(name, config)))
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True, "EMBEDDED_RUNNER_AUTOSTART": True})
    with app.app_context():
        db.create_all()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)
    app.extensions["embedded_runner"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def page():
    need(os.path.exists(CHROMIUM), "Debian chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        # bypass_csp: wait_for_function polls its predicate through `new Function`, which the app's
        # Content-Security-Policy refuses (no 'unsafe-eval'); tests/test_http_security.py checks the
        # policy in a context of its own.
        context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True)
        yield context.new_page()
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def image_file(name: str, size, color) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes(size, color)}


def register(page, server: str, email: str, name: str, url: str | None = None, screenshot: str | None = None) -> None:
    """Sign up through the register form (at `url`, an invitation link, when given); signed in afterwards."""
    page.goto(url or f"{server}/auth/register")
    if screenshot:
        shot(page, screenshot)
    page.fill("#email", email)
    page.fill("#name", name)
    page.fill("#password", "correct horse")
    page.fill("#confirm", "correct horse")
    page.click("button[type=submit] >> text=Create account")
    page.wait_for_url(f"{server}/projects")


def sign_up_with_a_project(page, server: str, screenshots: bool = False) -> None:
    """Register through the form and create the project "Spring mugs"; its page is open afterwards."""
    register(page, server, "designer@example.com", "Dana Designer", screenshot="01-register" if screenshots else None)
    page.fill("#name", "Spring mugs")
    page.fill("#description", "Ceramic mugs for the spring collection")
    page.click("text=Create project")
    page.wait_for_url("**/projects/*")


def wait_for_candidates(page) -> None:
    """On a generation's page: the job finishes without a reload and both candidates' pictures load."""
    page.wait_for_selector("#generation-status[data-status=succeeded]", timeout=60_000)
    page.wait_for_function("[...document.querySelectorAll('.candidate img')].every(img => img.complete && img.naturalWidth > 0)")


def test_make_a_mockup_in_the_browser(server, page):
    sign_up_with_a_project(page, server, screenshots=True)
    shot(page, "02-project-empty")

    page.click(".subnav >> text=Characters")
    page.fill("#name", "Bunny")
    page.set_input_files("#image", image_file("bunny.png", (300, 300), (240, 110, 150)))
    page.click("text=Register character")
    page.wait_for_selector(".tile >> text=Bunny")
    shot(page, "03-characters")

    page.click(".subnav >> text=New mockup")
    page.set_input_files("#source_image", image_file("mug.png", (640, 480), (60, 90, 200)))
    page.select_option("#character_id", label="Bunny")
    page.fill("#prompt", "glossy white ceramic")
    shot(page, "04-generate-form")
    page.click("text=Make 2 candidates")
    page.wait_for_url("**/generations/*")

    status = page.locator("#generation-status")
    assert status.get_attribute("data-finished") == "false"
    waiting = status.inner_text()
    assert "Waiting for its turn" in waiting or "Making your mockups" in waiting
    shot(page, "05-generation-waiting")
    page.evaluate("window.marker = 1")
    wait_for_candidates(page)
    assert page.evaluate("window.marker") == 1, "the candidates must arrive without a page load"
    assert page.locator(".candidate").count() == 2
    assert page.locator(".candidate >> text=local preview").count() == 2
    shot(page, "06-generation-done")

    page.locator(".candidate").first.locator("button >> text=Select").click()
    page.wait_for_selector(".candidate.is-selected")
    assert page.locator(".candidate.is-selected").count() == 1
    page.locator(".candidate").first.locator("input[name=note]").fill("Client favourite")
    page.locator(".candidate").first.locator("text=Save to history").click()
    page.wait_for_selector("text=Saved to the project history.")

    with page.expect_download() as download_info:
        page.locator(".candidate").first.locator("text=Download PNG").click()
    download = download_info.value
    assert download.suggested_filename.endswith("_candidate-1.png")
    assert Path(download.path()).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    page.click(".subnav >> text=History")
    page.wait_for_selector(".history-entry >> text=Client favourite")
    page.wait_for_function("[...document.querySelectorAll('.history img')].every(img => img.complete && img.naturalWidth > 0)")
    shot(page, "07-history")

    # The transparent PNG is made by a background job: the button shows progress, then downloads. It is
    # on the image's page, which the history entry's picture opens (a history row stays light).
    page.click(".history-entry .history-media")
    prepared = page.locator(".downloads a[href*='/download/transparent']")
    with page.expect_download(timeout=60_000) as download_info:
        prepared.click()
        assert prepared.get_attribute("aria-busy") == "true" and prepared.inner_text() == "Cutting out…"
    download = download_info.value
    assert download.suggested_filename.endswith("_transparent.png")
    assert Image.open(download.path()).mode == "RGBA"
    assert prepared.inner_text() == "PNG" and prepared.get_attribute("aria-busy") is None

    page.click(".subnav >> text=Overview")
    shot(page, "08-project")
    page.goto(f"{server}/account")
    shot(page, "09-account")

    page.select_option("#footer-locale", "ko")  # applies at once (static/app.js)
    page.wait_for_selector("html[lang=ko]")
    page.click(".topnav >> text=프로젝트")
    page.click(".project-card >> text=Spring mugs")
    page.click(".generation-card")
    page.wait_for_selector(".candidate >> text=로컬 미리보기")
    shot(page, "10-generation-korean")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "11-generation-phone")


def fetch_pixels(page, url: str, mode: str = "RGB") -> np.ndarray:
    """An image the signed-in browser may see, decoded (the request shares the page's cookies)."""
    return np.asarray(Image.open(io.BytesIO(page.request.get(url).body())).convert(mode)).astype(int)


def start_sketch_mockup(page, *, transparent: bool = False) -> None:
    """From a project's page: submit a sketch-to-real generation; its page is open afterwards."""
    page.click(".subnav >> text=New mockup")
    page.check("input[value=sketch-to-real]")
    page.set_input_files("#source_image", image_file("sketch.png", (640, 480), (60, 90, 200)))
    if transparent:
        page.check("#transparent_background")
    page.click("text=Make 2 candidates")
    page.wait_for_url("**/generations/*")


def test_edit_a_region_in_the_browser(server, page):
    sign_up_with_a_project(page, server)
    start_sketch_mockup(page)
    wait_for_candidates(page)
    assert page.locator(".compare-block .compare").count() == 1, "source and candidate side by side"

    page.locator(".candidate-media").first.click()
    page.wait_for_url("**/images/*")
    parent_url = page.url
    canvas = page.locator(".region-stage canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = page.evaluate("c => c.width / c.getBoundingClientRect().width", canvas.element_handle())
    # A brush stroke from 30 % to 60 % across, at 40 % down: painted with the mouse, point by point.
    start, end, row = box["x"] + 0.3 * box["width"], box["x"] + 0.6 * box["width"], box["y"] + 0.4 * box["height"]
    page.mouse.move(start, row)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(start + (end - start) * step / 20, row + 6 * np.sin(step / 3))
    page.mouse.up()
    assert page.locator("[data-action=undo]").is_enabled()
    page.click("[data-tool=box]")  # a box, then undone: only the stroke is sent
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 80, box["y"] + 60)
    page.mouse.up()
    page.click("[data-action=undo]")
    page.fill("#prompt", "remove the pattern here")
    shot(page, "12-edit-painted")
    page.click("text=Make 2 edited versions")
    page.wait_for_url("**/generations/*")
    assert page.locator("h1").inner_text() == "Region edit"
    wait_for_candidates(page)
    assert page.locator(".candidate").count() == 2

    compare = page.locator(".compare-block .compare")
    compare.scroll_into_view_if_needed()
    area = compare.bounding_box()
    page.mouse.click(area["x"] + 0.25 * area["width"], area["y"] + area["height"] / 2)
    split = float(page.locator(".compare-block .compare-range").input_value())
    assert 15 < split < 35
    assert page.evaluate("f => f.style.getPropertyValue('--split')", compare.element_handle()) == f"{split:g}%"
    page.click(".compare-choices >> text=Candidate 2")
    second = page.locator(".candidate").nth(1).get_attribute("data-image-id")
    assert page.locator(".compare-block .compare-after").get_attribute("src") == f"/images/{second}/file"
    shot(page, "13-edit-compare")

    # Only the painted stroke changed: every differing pixel lies within the brush's reach of it.
    parent = fetch_pixels(page, parent_url + "/file")
    reach = 32 * scale / 2 + 4 + 8  # brush radius in image pixels, the feather, the stroke's wobble
    for image_id in (page.locator(".candidate").nth(n).get_attribute("data-image-id") for n in range(2)):
        changed = np.argwhere((fetch_pixels(page, f"{server}/images/{image_id}/file") != parent).any(axis=2))
        assert len(changed) > 100
        ys, xs = changed[:, 0], changed[:, 1]
        assert (start - box["x"]) * scale - reach <= xs.min() and xs.max() <= (end - box["x"]) * scale + reach
        assert abs(ys.mean() - (row - box["y"]) * scale) < reach

    page.locator(".candidate-media").first.click()
    page.wait_for_url("**/images/*")
    assert page.locator(".lineage-step").count() == 3  # source -> candidate -> this edit
    assert page.locator(".lineage-step.is-current >> text=Edit 1").count() == 1
    shot(page, "14-edit-lineage")
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#edit-region").scroll_into_view_if_needed()
    shot(page, "15-edit-phone")


def character_art_file() -> dict:
    return {"name": "bunny.png", "mimeType": "image/png", "buffer": character_art()}


def test_remove_a_characters_background_and_undo_it(server, page):
    sign_up_with_a_project(page, server)
    page.click(".subnav >> text=Characters")
    page.fill("#name", "Bunny")
    page.set_input_files("#image", character_art_file())
    page.click("text=Register character")
    tile = page.locator(".tile", has_text="Bunny")
    tile.wait_for()
    character_id = tile.get_attribute("data-character-id")
    original = page.request.get(f"{server}/characters/{character_id}/image").body()

    tile.locator("button >> text=Remove background").click()
    page.wait_for_selector("text=Background removed. The original picture is kept.")
    before, after = tile.locator("[data-version=original]"), tile.locator("[data-version=cutout]")
    assert before.is_visible() and after.is_visible()
    assert "checker" in after.locator("img").get_attribute("class")
    page.wait_for_function("[...document.querySelectorAll('.tile img')].every(img => img.complete && img.naturalWidth > 0)")
    shot(page, "12-character-cutout")
    assert after.locator("text=In use").is_visible() and before.locator("button >> text=Use this one").is_visible()
    alpha = fetch_pixels(page, f"{server}{after.locator('img').get_attribute('src')}", "RGBA")[..., 3]
    assert alpha[3, 3] == 0
    assert alpha[CHARACTER_EYE[1], CHARACTER_EYE[0]] == 255, "the white eye inside the outline is kept"
    assert page.request.get(f"{server}/characters/{character_id}/image/original").body() == original

    before.locator("button >> text=Use this one").click()
    page.wait_for_selector("text=Mockups of this character now use the picture you chose.")
    assert before.locator("text=In use").is_visible()
    assert page.request.get(f"{server}/characters/{character_id}/image").body() == original

    tile.locator("button >> text=Undo background removal").click()
    page.wait_for_selector("text=Back to the original picture.")
    assert tile.locator("[data-version]").count() == 0
    assert tile.locator("button >> text=Remove background").is_visible()
    assert page.request.get(f"{server}/characters/{character_id}/image").body() == original
    assert page.request.get(f"{server}/characters/{character_id}/image/cutout").status == 404


def test_generate_on_a_transparent_background_and_download_it(server, page):
    sign_up_with_a_project(page, server)
    start_sketch_mockup(page, transparent=True)
    wait_for_candidates(page)
    assert page.locator(".candidate .checker").count() == 2

    with page.expect_download() as download_info:
        page.locator(".candidate").first.locator("text=Download PNG").click()
    download = download_info.value
    picture = Image.open(download.path())
    assert picture.format == "PNG" and picture.mode == "RGBA"
    alpha = np.asarray(picture.getchannel("A"))
    assert (alpha == 0).any() and (alpha == 255).any(), "a real alpha channel: see-through and solid pixels"
