"""A large project built in bulk: one multi-row INSERT per table (no ORM objects, no files written), so
hundreds or thousands of rows take a second. For tests of what a list costs as it grows and how it pages
(tests/test_query_counts.py, tests/test_explain.py, tests/test_light_pages.py, tests/test_api_paging.py).
Every stored path names one shared file that need not exist: the lists link to files, they never read
them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from mockup.extensions import db
from mockup.models import (Character, Comment, Generation, HistoryEntry, Image, Membership, Project, User, new_id,
                           utcnow)

from .api_support import PASSWORD, ApiClient, sign_up

SHARED_FILE = "shared/picture.png"
OWNER = "owner@example.com"


@dataclass(frozen=True)
class Built:
    project_id: str  # the big project: `rows` of characters, members, generations, history entries
    generation_id: str  # a generation of `rows` images, the project's oldest
    image_id: str  # an image with `rows` comments


def owner_of_a_big_project(app: Flask, rows: int) -> tuple[ApiClient, FlaskClient, Built]:
    """The installation's first account (so an admin), signed in through the API and through the pages,
    owning what build() makes with `rows`."""
    api = sign_up(app.test_client(), OWNER, "Owner")
    pages = app.test_client()
    assert pages.post("/auth/login", data={"email": OWNER, "password": PASSWORD}).status_code == 303
    with app.app_context():
        return api, pages, build(api.user["id"], rows)


def _insert(model, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(model.__table__), rows)


def build(owner_id: str, rows: int) -> Built:
    """`rows` of everything a list shows, in one project of `owner_id` (and `rows` more projects of
    theirs, `rows` colleagues who are its members, made its generations, reviewed and commented)."""
    now = utcnow()
    at = [now - timedelta(milliseconds=number) for number in range(rows)]  # newest first, all this month
    # The generation of `rows` images (for the list of a generation's images) is the project's oldest, so
    # the project's first pages show generations of one candidate each, as real ones (batches make dozens).
    oldest = now - timedelta(milliseconds=rows)
    people = [new_id() for _ in range(rows)]
    project_id, big_id, commented_id = new_id(), new_id(), new_id()
    generations = [new_id() for _ in range(rows)]
    images = [commented_id, *(new_id() for _ in range(rows - 1))]
    _insert(User, [{"id": person, "email": f"person{number}.{person[:8]}@example.com", "name": f"Person {number:05d}",
                    "password_hash": "x", "created_at": at[number]} for number, person in enumerate(people)])
    _insert(Project, [{"id": project_id, "owner_id": owner_id, "name": "Big project", "created_at": now,
                       "updated_at": now}]
            + [{"id": new_id(), "owner_id": owner_id, "name": f"Project {number}", "created_at": when,
                "updated_at": when} for number, when in enumerate(at)])
    _insert(Membership, [{"project_id": project_id, "user_id": person, "role": "viewer", "added_at": when}
                         for person, when in zip(people, at)])
    _insert(Character, [{"project_id": project_id, "name": f"Character {number}", "image_path": SHARED_FILE,
                         "thumbnail_path": SHARED_FILE, "created_at": when} for number, when in enumerate(at)])
    _insert(Generation, [_generation(generation, project_id, person, when)
                         for generation, person, when in zip(generations, people, at)]
            + [_generation(big_id, project_id, owner_id, oldest)])
    _insert(Image, [_image(image, generation, 0, person, when)
                    for image, generation, person, when in zip(images, generations, people, at)]
            + [_image(new_id(), big_id, number, None, oldest) for number in range(rows)])
    _insert(HistoryEntry, [{"project_id": project_id, "image_id": image, "note": f"Pick {number}",
                            "created_at": when} for number, (image, when) in enumerate(zip(images, at))])
    _insert(Comment, [{"image_id": commented_id, "author_id": person, "body": f"Comment {number}",
                       "region": {"x": 1, "y": 1, "width": 4, "height": 4} if number % 2 else None,
                       "created_at": when} for number, (person, when) in enumerate(zip(people, reversed(at)))])
    db.session.commit()
    return Built(project_id, big_id, commented_id)


def _generation(generation_id: str, project_id: str, owner_id: str, when) -> dict:
    return {"id": generation_id, "project_id": project_id, "owner_id": owner_id, "mode": "ip-change",
            "engine": "local", "source_path": SHARED_FILE, "status": "succeeded", "created_at": when,
            "queued_at": when, "started_at": when, "finished_at": when, "cost_usd": 0.04}


def _image(image_id: str, generation_id: str, index: int, reviewer: str | None, when) -> dict:
    return {"id": image_id, "generation_id": generation_id, "index": index, "width": 64, "height": 48,
            "path": SHARED_FILE, "thumbnail_path": SHARED_FILE, "created_at": when,
            "review_state": "approved" if reviewer else "none", "reviewed_by_id": reviewer,
            "reviewed_at": when if reviewer else None}
