"""/api/history: save an image (once), list newest first, remove an entry."""
from __future__ import annotations

from .api_support import assert_error, assert_shape


def test_save_answers_201_then_the_same_entry_with_200(alice, alices_generation):
    image = alices_generation["images"][0]
    response = alice.post(f"/api/history/{image['id']}/save", json={"note": "the keeper"})
    assert response.status_code == 201 and set(response.get_json()) == {"history"}
    entry = response.get_json()["history"]
    assert_shape(entry, "history")
    assert (entry["project_id"], entry["note"], entry["image"]) == (alices_generation["project_id"], "the keeper", image)
    again = alice.post(f"/api/history/{image['id']}/save", json={"note": "ignored"})
    assert again.status_code == 200 and again.get_json()["history"] == entry


def test_the_note_is_optional_and_checked(alice, alices_generation):
    image_id = alices_generation["images"][0]["id"]
    assert_error(alice.post(f"/api/history/{image_id}/save", json={"note": "x" * 1001}), 422, "VALIDATION", "note")
    assert_error(alice.post(f"/api/history/{image_id}/save", json={"note": 3}), 422, "VALIDATION", "note")
    assert alice.post(f"/api/history/{image_id}/save").get_json()["history"]["note"] == ""


def test_list_is_newest_first(alice, alices_generation):
    first, second = (image["id"] for image in alices_generation["images"])
    alice.post(f"/api/history/{first}/save")
    alice.post(f"/api/history/{second}/save")
    response = alice.get(f"/api/projects/{alices_generation['project_id']}/history")
    assert response.status_code == 200 and response.get_json().keys() == {"items", "next_cursor"}
    items = response.get_json()["items"]
    for item in items:
        assert_shape(item, "history")
    assert [item["image"]["id"] for item in items] == [second, first]


def test_delete_removes_the_entry_but_not_the_image(alice, alices_generation):
    image_id = alices_generation["images"][0]["id"]
    entry = alice.post(f"/api/history/{image_id}/save").get_json()["history"]
    assert alice.delete(f"/api/history/{entry['id']}").status_code == 204
    assert alice.get(f"/api/projects/{alices_generation['project_id']}/history").get_json()["items"] == []
    assert alice.get(f"/api/images/{image_id}").status_code == 200
    assert_error(alice.delete(f"/api/history/{entry['id']}"), 404, "NOT_FOUND")
