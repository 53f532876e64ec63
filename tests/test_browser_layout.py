"""Every page fits a 390 px phone and a 1440 px desktop, in English and in Korean, whatever users
wrote: 100-character unbroken names and 1,000-character unbroken descriptions, notes and prompts.
One server, one browser page and one set of content for the whole matrix (the fixtures of
tests/test_browser.py)."""
from __future__ import annotations

from .test_browser import image_file, page, register, server, shot, wait_for_candidates  # noqa: F401 (fixtures)

WIDTHS = (390, 1440)
LANGUAGES = ("en", "ko")
NAME = "W" * 100  # the widest Latin letter, no break opportunity anywhere
DESCRIPTION = "https://example.com/" + "assets/" * 140
PROMPT = "유광세라믹머그컵에캐릭터를크게" * 66  # Korean without spaces: one "word" under keep-all
NOTE = "M" * 1000
EMAIL = "w" * 64 + "@" + "x" * 60 + ".com"

# Every element is measured; one wider than the viewport, or reaching past its right edge without a
# scrolling or clipping box around it, widens the page on a phone.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const describe = el => el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
      ? "." + el.className.trim().split(/\\s+/).join(".") : "") + " " + Math.round(el.getBoundingClientRect().width) + "px";
  const insideScroller = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== "visible") return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.width > width + 0.5 || (!insideScroller(el) && (box.right > width + 0.5 || box.left < -0.5))) {
      wide.push(describe(el));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, width, wide: wide.slice(0, 5)};
}"""


def overflow(page) -> list[str]:
    """What makes the open page wider than the viewport; empty when it fits."""
    found = page.evaluate(OVERFLOW)
    problems = list(found["wide"])
    if found["scrollWidth"] > found["width"] or found["scrollWidth"] > found["innerWidth"]:
        problems.insert(0, f"page {found['scrollWidth']}px wide")
    return problems


def check_pages(page, server: str, paths: dict[str, str], offenders: list[str], language: str) -> None:
    page.set_extra_http_headers({"Accept-Language": language})
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in paths.items():
            page.goto(server + path)
            assert page.locator("html").get_attribute("lang") == language
            problems = overflow(page)
            if problems:
                shot(page, f"overflow-{name}-{language}-{width}")
                offenders.append(f"{name} ({language}, {width} px): {', '.join(problems)}")


def make_long_content(page, server: str) -> dict[str, str]:
    """Sign up and fill a project with the longest things users may write; the pages to check."""
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.set_viewport_size({"width": 1440, "height": 900})
    register(page, server, EMAIL, NAME)
    page.fill("#name", NAME)
    page.fill("#description", DESCRIPTION)
    page.click("text=Create project")
    page.wait_for_url("**/projects/*")
    project = page.url.removeprefix(server)

    page.goto(f"{server}{project}/characters")
    page.fill("#name", NAME)
    page.set_input_files("#image", image_file("bunny.png", (300, 300), (240, 110, 150)))
    page.click("text=Register character")
    page.wait_for_selector(".tile-title")

    page.goto(f"{server}{project}/generate")
    page.set_input_files("#source_image", image_file("mug.png", (640, 480), (60, 90, 200)))
    page.select_option("#character_id", index=1)
    page.fill("#prompt", PROMPT)
    page.click("text=Make the mockup")
    page.wait_for_url("**/generations/*")
    generation = page.url.removeprefix(server)
    wait_for_candidates(page)
    page.locator(".candidate").first.locator("input[name=note]").fill(NOTE)
    page.locator(".candidate").first.locator("text=Save to history").click()
    page.wait_for_selector(".candidate .saved-note")
    image = page.locator(".candidate-media").first.get_attribute("href")

    page.goto(f"{server}{project}/batches/new")
    page.set_input_files("#source_image", [image_file("mug.png", (640, 480), (60, 90, 200))])
    page.check(".character-pick input")
    page.fill("#prompt", PROMPT)
    page.click("text=Start the batch")
    page.wait_for_url("**/batches/*")
    batch = page.url.removeprefix(server)
    page.wait_for_selector("#batch-sheet[data-finished=true]", timeout=60_000)
    return {
        "projects": "/projects", "project": project, "project-edit": f"{project}/edit",
        "project-delete": f"{project}/delete", "characters": f"{project}/characters",
        "generate": f"{project}/generate", "generation": generation, "image": image,
        "history": f"{project}/history", "queue": "/queue", "account": "/account",
        "error": "/projects/no-such-project", "batch-new": f"{project}/batches/new", "batch": batch,
    }


def test_every_page_fits_every_screen_and_language(server, page):  # noqa: F811 (fixtures)
    offenders: list[str] = []
    for language in LANGUAGES:
        check_pages(page, server, {"login": "/auth/login", "register": "/auth/register"}, offenders, language)
    paths = make_long_content(page, server)
    for language in LANGUAGES:
        check_pages(page, server, paths, offenders, language)
    assert not offenders, "\n".join(offenders)


def test_korean_breaks_between_words_and_long_words_wrap(server, page):  # noqa: F811 (fixtures)
    page.set_extra_http_headers({"Accept-Language": "ko"})
    page.goto(f"{server}/auth/login")
    assert page.evaluate("getComputedStyle(document.body).wordBreak") == "keep-all"
    assert page.evaluate("getComputedStyle(document.querySelector('main')).overflowWrap") == "anywhere"
    page.set_extra_http_headers({"Accept-Language": "en"})
    page.goto(f"{server}/auth/login")
    assert page.evaluate("getComputedStyle(document.body).wordBreak") == "normal"


def test_the_project_menu_and_the_queue_fit_a_phone(server, page):  # noqa: F811 (fixtures)
    paths = make_long_content(page, server)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server + paths["project"])
    cta = page.locator(".subnav >> text=New mockup")
    box = cta.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, "New mockup is on screen, not scrolled away"
    cta.click()
    page.wait_for_url("**/generate")

    page.goto(server + paths["queue"])
    row = page.locator(".queue-table tbody tr").first
    assert page.locator(".queue-table thead").is_hidden()
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    status = row.locator("td[data-label=Status]")
    assert status.evaluate("td => getComputedStyle(td, '::before').content") == '"Status: "'
    shot(page, "queue-phone")
