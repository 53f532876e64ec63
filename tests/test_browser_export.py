"""Exporting in a real browser: the history page's Export control downloads the zip, and a 2K export's
preparing page follows the upscales by itself until the zip downloads. Uses the server and browser
fixtures of tests/test_browser.py (the embedded runner makes the 2K files, with a fast upscaler)."""
from __future__ import annotations

import zipfile

from .job_runner import use_upscale
from .test_browser import page, server, shot, sign_up_with_a_project  # noqa: F401
from .test_browser_review import make_two_candidates


def _two_candidates_in_the_history(page, server: str) -> None:
    sign_up_with_a_project(page, server)
    make_two_candidates(page)
    for _ in range(2):
        with page.expect_navigation():
            page.locator(".save-form button").first.click()
    assert page.locator(".saved-note").count() == 2
    page.click(".subnav >> text=History")
    page.wait_for_url("**/history")


def _names(download) -> list[str]:
    with zipfile.ZipFile(download.path()) as archive:
        return archive.namelist()


def test_the_history_page_downloads_a_zip(server, page):  # noqa: F811
    _two_candidates_in_the_history(page, server)
    page.select_option(".export-form select[name=format]", "jpeg")
    shot(page, "export-history")
    with page.expect_download() as downloaded:
        page.click(".export-form >> text=Download zip")
    names = _names(downloaded.value)
    assert names[:2] == ["manifest.csv", "manifest.json"] and len(names) == 4
    assert all(name.startswith("spring-mugs_sketch-to-real_c") and name.endswith(".jpg") for name in names[2:])
    assert page.url.endswith("/history")  # the page stays


def test_a_2k_export_shows_progress_and_downloads_by_itself(server, page, monkeypatch):  # noqa: F811
    use_upscale(monkeypatch, lambda picture, upscaler: picture.resize((2048, 1536)))
    _two_candidates_in_the_history(page, server)
    page.select_option(".export-form select[name=size]", "2k")
    with page.expect_download(timeout=60_000) as downloaded:
        page.click(".export-form >> text=Download zip")
        page.wait_for_selector("progress")
        shot(page, "export-preparing")
        assert "of 2 ready" in page.locator(".export-progress").inner_text()
    names = _names(downloaded.value)
    assert len(names) == 4 and all(name.endswith(".png") for name in names[2:])
