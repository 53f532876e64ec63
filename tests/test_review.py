"""Review and comments (shared/API.md, "Review and comments"): review states with who and when,
comments oldest first, pinned to a region inside the image, deleted by their author or the owner;
through the services, the JSON API and the pages."""
from __future__ import annotations

import re
import pytest

from mockup.errors import Forbidden, Invalid, NotFound
from mockup.services import accounts, characters, generations, history, members, projects, review

from .api_support import PASSWORD, assert_error, assert_shape, sign_up
from .conftest import png_bytes, snapshot
from .factories import create_character, create_project, finished_generation
from .job_runner import run_job


@pytest.fixture
def shared(app) -> dict:
    """A finished generation in a project of `owner`, shared with a reviewer and a viewer."""
    with app.app_context():
        users = {name: accounts.register(f"{name}@example.com", PASSWORD, name.title()).id
                 for name in ("owner", "reviewer", "viewer", "stranger")}
        project_id = projects.create_project(users["owner"], "Shared mugs").id
        character_id = characters.create_character(users["owner"], project_id, "Bunny", png_bytes((120, 120))).id
        generation_id = generations.submit_generation(
            users["owner"], project_id, mode="ip-change", source_image=png_bytes((160, 120)),
            character_id=character_id).id
        assert run_job(app, generation_id) == "succeeded"
        first, second = generations.get_generation(users["owner"], generation_id).images
        ids = {"project_id": project_id, "image_id": first.id, "other_image_id": second.id,
               "size": (first.width, first.height)}
        members.add_member(users["owner"], project_id, "reviewer@example.com", "reviewer")
        members.add_member(users["owner"], project_id, "viewer@example.com", "viewer")
    return {**users, **ids}


def test_a_reviewer_approves_with_a_comment(app, shared):
    with app.app_context():
        image = review.set_review(shared["reviewer"], shared["image_id"], "approved", "Ship it")
        assert (image.review_state, image.reviewed_by_id) == ("approved", shared["reviewer"])
        assert image.reviewed_at.tzinfo is not None
        [comment] = review.list_comments(shared["owner"], shared["image_id"]).items
        assert (comment.author_id, comment.body, comment.region) == (shared["reviewer"], "Ship it", None)


def test_who_may_review_and_what(app, shared):
    with app.app_context():
        with pytest.raises(Forbidden):
            review.set_review(shared["viewer"], shared["image_id"], "approved")
        with pytest.raises(NotFound):
            review.set_review(shared["stranger"], shared["image_id"], "approved")
        with pytest.raises(Invalid):
            review.set_review(shared["owner"], shared["image_id"], "lovely")
        assert review.set_review(shared["owner"], shared["image_id"], "none").review_state == "none"


def test_comments_are_oldest_first_and_regions_lie_inside_the_image(app, shared):
    width, height = shared["size"]
    with app.app_context():
        first = review.add_comment(shared["viewer"], shared["image_id"], "Ears rounder",
                                   {"x": 1, "y": 2, "width": 10, "height": 12})
        second = review.add_comment(shared["owner"], shared["image_id"], "Agreed")
        assert [c.id for c in review.list_comments(shared["reviewer"], shared["image_id"]).items] == [first.id, second.id]
        assert first.region == {"x": 1, "y": 2, "width": 10, "height": 12}
        for region in ({"x": 0, "y": 0, "width": width + 1, "height": 5},
                       {"x": 0, "y": height - 1, "width": 5, "height": 2},
                       {"x": -1, "y": 0, "width": 5, "height": 5},
                       {"x": 0, "y": 0, "width": 0, "height": 5}, {"x": "1", "y": 0, "width": 5, "height": 5}):
            with pytest.raises(Invalid):
                review.add_comment(shared["owner"], shared["image_id"], "Bad box", region)
        with pytest.raises(Invalid):
            review.add_comment(shared["owner"], shared["image_id"], "   ")
        assert review.comment_counts([shared["image_id"], shared["other_image_id"]]) == {shared["image_id"]: 2}


def test_a_comment_is_deleted_by_its_author_or_the_owner_only(app, shared):
    with app.app_context():
        mine = review.add_comment(shared["viewer"], shared["image_id"], "Mine").id
        theirs = review.add_comment(shared["reviewer"], shared["image_id"], "Theirs").id
        with pytest.raises(Forbidden):
            review.delete_comment(shared["viewer"], theirs)
        with pytest.raises(NotFound):
            review.delete_comment(shared["stranger"], theirs)
        with pytest.raises(NotFound):  # named through another image's page
            review.delete_comment(shared["viewer"], mine, shared["other_image_id"])
        review.delete_comment(shared["viewer"], mine, shared["image_id"])
        review.delete_comment(shared["owner"], theirs)
        assert review.list_comments(shared["owner"], shared["image_id"]).items == []


def test_the_project_and_history_filter_by_review_state(app, shared):
    with app.app_context():
        review.set_review(shared["reviewer"], shared["image_id"], "approved")
        history.save_to_history(shared["owner"], shared["image_id"])
        history.save_to_history(shared["owner"], shared["other_image_id"])
        assert [i.id for i in review.images_in_state(shared["viewer"], shared["project_id"], "approved").items] == [
            shared["image_id"]]
        assert [i.id for i in review.images_in_state(shared["viewer"], shared["project_id"], "none").items] == [
            shared["other_image_id"]]
        approved = history.list_history(shared["viewer"], shared["project_id"], "approved")
        assert [entry.image_id for entry in approved.items] == [shared["image_id"]]
        assert len(history.list_history(shared["viewer"], shared["project_id"]).items) == 2


# --- the JSON API ---------------------------------------------------------------------------------------

def test_review_and_comments_api(app, client):
    owner = sign_up(client, "owner@example.com", "Owner")
    reviewer = sign_up(app.test_client(), "reviewer@example.com", "Reviewer")
    viewer = sign_up(app.test_client(), "viewer@example.com", "Viewer")
    project_id = create_project(owner)
    for person, role in ((reviewer, "reviewer"), (viewer, "viewer")):
        owner.post(f"/api/projects/{project_id}/members", json={"email": person.user["email"], "role": role})
    _, (image_id, _) = finished_generation(app, owner, project_id, create_character(owner, project_id))

    fresh = owner.get(f"/api/images/{image_id}").get_json()["image"]
    assert fresh["review"] == {"state": "none", "by": None, "at": None} and fresh["comment_count"] == 0

    reviewed = reviewer.post(f"/api/images/{image_id}/review", json={"state": "approved", "comment": "Good"})
    assert reviewed.status_code == 200
    image = reviewed.get_json()["image"]
    assert image["review"]["state"] == "approved" and image["review"]["by"]["id"] == reviewer.user["id"]
    assert image["comment_count"] == 1
    assert_error(viewer.post(f"/api/images/{image_id}/review", json={"state": "approved"}), 403, "FORBIDDEN")
    assert_error(reviewer.post(f"/api/images/{image_id}/review", json={"state": "maybe"}), 422, "VALIDATION", "state")

    region = {"x": 3, "y": 4, "width": 20, "height": 10}
    posted = viewer.post(f"/api/images/{image_id}/comments", json={"body": "Rounder ears", "region": region})
    assert posted.status_code == 201
    comment = posted.get_json()["comment"]
    assert_shape(comment, "comment")
    assert comment["region"] == region and comment["author"]["id"] == viewer.user["id"]
    assert_error(viewer.post(f"/api/images/{image_id}/comments",
                             json={"body": "x", "region": {"x": 0, "y": 0, "width": 99999, "height": 1}}),
                 422, "VALIDATION", "region")

    items = owner.get(f"/api/images/{image_id}/comments").get_json()["items"]
    assert [item["body"] for item in items] == ["Good", "Rounder ears"]
    assert_error(reviewer.delete(f"/api/comments/{comment['id']}"), 403, "FORBIDDEN")
    assert owner.delete(f"/api/comments/{comment['id']}").status_code == 204
    assert_error(owner.delete(f"/api/comments/{comment['id']}"), 404, "NOT_FOUND")
    assert owner.get(f"/api/images/{image_id}").get_json()["image"]["comment_count"] == 1


# --- the pages ------------------------------------------------------------------------------------------

def _sign_in(app, email: str):
    client = app.test_client()
    client.post("/auth/login", data={"email": email, "password": PASSWORD})
    return client


def test_the_pages_show_members_reviews_and_comments_to_the_others(app, shared):
    reviewer, owner, viewer = (_sign_in(app, f"{name}@example.com") for name in ("reviewer", "owner", "viewer"))
    image_page = f"/images/{shared['image_id']}"
    reviewed = reviewer.post(f"{image_page}/review", data={"state": "changes_requested", "comment": "Bluer"})
    assert reviewed.status_code == 303
    assert viewer.post(f"{image_page}/comments", data={
        "body": "The handle", "region_x": "5", "region_y": "6", "region_width": "30", "region_height": "20",
    }).status_code == 303

    page = owner.get(image_page).get_data(as_text=True)
    assert "Changes requested" in page and "Bluer" in page and "The handle" in page
    assert re.search(r'<rect x="5" y="6" width="30" height="20">', page)

    project_page = owner.get(f"/projects/{shared['project_id']}").get_data(as_text=True)
    assert "reviewer@example.com" in project_page and "viewer@example.com" in project_page
    filtered = viewer.get(f"/projects/{shared['project_id']}?review=changes_requested").get_data(as_text=True)
    assert f"/images/{shared['image_id']}" in filtered and f"/images/{shared['other_image_id']}\"" not in filtered
    viewer_project = viewer.get(f"/projects/{shared['project_id']}").get_data(as_text=True)
    assert "Add member" not in viewer_project and "/delete\"" not in viewer_project
    assert "Shared by Owner" in viewer.get("/projects").get_data(as_text=True)


def test_a_comment_box_outside_the_image_is_refused_on_the_page(app, shared):
    viewer = _sign_in(app, "viewer@example.com")
    before = snapshot(app)
    response = viewer.post(f"/images/{shared['image_id']}/comments", data={
        "body": "Off the edge", "region_x": "0", "region_y": "0", "region_width": "99999", "region_height": "5",
    })
    assert response.status_code == 422
    assert "The region must lie inside the image" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_the_owner_adds_a_member_by_email_on_the_page(app, shared):
    owner = _sign_in(app, "owner@example.com")
    members_url = f"/projects/{shared['project_id']}/members"
    unknown = owner.post(members_url, data={"email": "nobody@example.com", "role": "viewer"})
    assert unknown.status_code == 422
    assert "No account has this e-mail address." in unknown.get_data(as_text=True)
    added = owner.post(members_url, data={"email": "stranger@example.com", "role": "editor"})
    assert added.status_code == 303
    stranger = _sign_in(app, "stranger@example.com")
    assert stranger.get(f"/projects/{shared['project_id']}/generate").status_code == 200
    left = stranger.post(f"/projects/{shared['project_id']}/members/{shared['stranger']}/remove")
    assert left.status_code == 303
    assert stranger.get(f"/projects/{shared['project_id']}").status_code == 404


def test_the_history_shows_approved_images_first_class(app, shared):
    owner = _sign_in(app, "owner@example.com")
    for image_id in (shared["image_id"], shared["other_image_id"]):
        owner.post(f"/images/{image_id}/history", data={"note": f"note {image_id[:4]}"})
    with app.app_context():
        review.set_review(shared["reviewer"], shared["image_id"], "approved")
    approved = owner.get(f"/projects/{shared['project_id']}/history?review=approved").get_data(as_text=True)
    assert f"note {shared['image_id'][:4]}" in approved and f"note {shared['other_image_id'][:4]}" not in approved
    assert "badge--review-approved" in approved
