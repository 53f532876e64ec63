"""The API's lists are paged as shared/API.md "Lists are paged" says: `limit` 1..200 (default 100) and
an opaque `cursor`, answered with `next_cursor`; a bad limit or cursor is 422 VALIDATION naming it;
following the cursors returns each item once in the list's order, while items come and go. And the
pages' "load more" links lead through the same lists."""
from __future__ import annotations

import re

import pytest

from .api_support import assert_error
from .bulk import owner_of_a_big_project

ROWS = 7


@pytest.fixture
def place(app):
    return owner_of_a_big_project(app, ROWS)


def lists(built) -> list[str]:
    return ["/api/projects", f"/api/projects/{built.project_id}/characters",
            f"/api/generations/{built.generation_id}/images", f"/api/projects/{built.project_id}/history",
            "/api/users", "/api/usage", f"/api/projects/{built.project_id}/members",
            f"/api/images/{built.image_id}/comments"]


def every_page(api, path: str, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        separator = "&" if "?" in path else "?"
        response = api.get(f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.get_data(as_text=True)
        pages.append(response.get_json()["items"])
        if not (cursor := response.get_json()["next_cursor"]):
            return pages


@pytest.mark.parametrize("query, field", [("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"),
                                          ("limit=", "limit"), ("cursor=not-a-cursor", "cursor"),
                                          ("cursor=WzFd", "cursor")])
def test_a_bad_limit_or_cursor_is_a_validation_error_on_every_list(place, query, field):
    api, _, built = place
    for path in lists(built):
        assert_error(api.get(f"{path}?{query}"), 422, "VALIDATION", field)


def test_following_the_cursors_gives_every_item_once_in_the_lists_order(place):
    api, _, built = place
    for path in lists(built):
        whole = api.get(path).get_json()["items"]
        paged = every_page(api, path, 3)
        assert all(len(page) == 3 for page in paged[:-1]) and 1 <= len(paged[-1]) <= 3, path
        assert [item for page in paged for item in page] == whole, path


def test_history_pages_stay_right_while_entries_are_added_and_removed(place):
    """Newest first: an entry saved after the first page is not on the next ones (it is before the
    cursor); one removed before its page is read is simply not there; none repeats."""
    api, _, built = place
    path = f"/api/projects/{built.project_id}/history?limit=3"
    first = api.get(path).get_json()
    oldest = api.get(f"/api/projects/{built.project_id}/history").get_json()["items"][-1]
    assert api.delete(f"/api/history/{oldest['id']}").status_code == 204
    unsaved = next(image["id"] for image in api.get(f"/api/generations/{built.generation_id}/images").get_json()["items"])
    assert api.post(f"/api/history/{unsaved}/save").status_code == 201
    seen, cursor = [item["id"] for item in first["items"]], first["next_cursor"]
    while cursor:
        body = api.get(f"{path}&cursor={cursor}").get_json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
    assert len(seen) == len(set(seen)) == ROWS - 1 and oldest["id"] not in seen


def test_comments_are_oldest_first_and_the_members_owner_first_across_pages(place):
    api, _, built = place
    comments = [item for page in every_page(api, f"/api/images/{built.image_id}/comments", 2) for item in page]
    assert [c["created_at"] for c in comments] == sorted(c["created_at"] for c in comments)
    members = [item for page in every_page(api, f"/api/projects/{built.project_id}/members", 2) for item in page]
    assert members[0]["role"] == "owner" and members[0]["user"]["id"] == api.user["id"]
    assert len(members) == ROWS + 1 and [m["added_at"] for m in members[1:]] == sorted(m["added_at"] for m in members[1:])


def test_the_pages_load_more_links_lead_through_the_whole_list(place):
    _, pages, built = place
    url, notes = f"/projects/{built.project_id}/history?limit=3", []
    while url:
        body = pages.get(url).get_data(as_text=True)
        notes += re.findall(r'<p class="history-note">(Pick \d+)</p>', body)
        found = re.search(r'href="([^"]+)" data-load-more="history-entries"', body)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert notes == [f"Pick {number}" for number in range(ROWS)]


def test_a_bad_cursor_on_a_page_is_a_clear_refusal_not_an_error(place):
    _, pages, built = place
    response = pages.get(f"/projects/{built.project_id}/history?cursor=nonsense")
    assert response.status_code == 422
    assert "start again from the first page" in response.get_data(as_text=True)
