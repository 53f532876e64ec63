"""The team's day as locust users (bench/load_bench.py runs this headless against the production stack).

Each user signs in through the login form and then, with a few seconds' thought between clicks, browses
projects, the project page, history and the queue, looks at thumbnails, polls the status fragment of its
latest generation as the page's script does, and now and then uploads a photo and generates. Requests
are grouped by route (`name=`), so the report reads per endpoint, not per id.

The accounts come from the bench (LOAD_ACCOUNTS, a JSON list of {email, password, project_id,
character_id}); the ids of every generation submitted go to LOAD_SUBMITTED so that the bench can check
afterwards that each one ran exactly once, and every request's route and time to LOAD_TIMES, so that it
can work out percentiles over any group of routes.
"""
from __future__ import annotations

import io
import json
import os
import re
import threading

from locust import HttpUser, between, events, task
from PIL import Image

ACCOUNTS = json.loads(os.environ.get("LOAD_ACCOUNTS", "[]"))
SUBMITTED_FILE = os.environ.get("LOAD_SUBMITTED", "submitted.txt")
TIMES_FILE = os.environ.get("LOAD_TIMES", "times.csv")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
IMAGE_ID = re.compile(r'data-image-id="([0-9a-f]{32})"')
GENERATION = re.compile(r"/generations/([0-9a-f]{32})")

_next_account = iter(range(len(ACCOUNTS)))
_lock = threading.Lock()
_submitted: list[str] = []
_times: list[tuple[str, float]] = []


def product_photo() -> bytes:
    """A 1600x1200 JPEG of about 1.2 MB (noise does not compress), like a phone photo scaled for the web."""
    image = Image.effect_noise((1600, 1200), 40).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


PHOTO = product_photo()


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if match is None:
        raise AssertionError("no CSRF token in the page")
    return match.group(1) or match.group(2)


class Designer(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        with _lock:
            self.account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.project = self.account["project_id"]
        self.generation: str | None = None
        self.images: list[str] = []
        page = self.client.get("/auth/login", name="/auth/login").text
        self.client.post("/auth/login", name="/auth/login [POST]", data={
            "email": self.account["email"], "password": self.account["password"], "csrf_token": csrf_token(page),
        })

    @task(6)
    def poll_status(self) -> None:
        if self.generation is None:
            return
        with self.client.get(f"/generations/{self.generation}/status", name="/generations/[id]/status",
                             catch_response=True) as response:
            if response.ok and 'data-finished="true"' in response.text:
                self.images = IMAGE_ID.findall(response.text) or self.images

    @task(4)
    def project_page(self) -> None:
        self.client.get(f"/projects/{self.project}", name="/projects/[id]")

    @task(3)
    def projects(self) -> None:
        self.client.get("/projects", name="/projects")

    @task(3)
    def thumbnail(self) -> None:
        if self.images:
            self.client.get(f"/images/{self.images[0]}/thumbnail", name="/images/[id]/thumbnail")

    @task(2)
    def generation_page(self) -> None:
        if self.generation is not None:
            self.client.get(f"/generations/{self.generation}", name="/generations/[id]")

    @task(2)
    def history(self) -> None:
        self.client.get(f"/projects/{self.project}/history", name="/projects/[id]/history")

    @task(1)
    def queue(self) -> None:
        self.client.get("/queue", name="/queue")

    @task(1)
    def generate(self) -> None:
        """Open the generate page, upload a photo and submit; about one generation a minute per user."""
        page = self.client.get(f"/projects/{self.project}/generate", name="/projects/[id]/generate").text
        response = self.client.post(
            f"/projects/{self.project}/generate", name="/projects/[id]/generate [POST]", allow_redirects=False,
            data={"mode": "ip-change", "character_id": self.account["character_id"], "prompt": "glossy acrylic",
                  "preserve_structure": "y", "csrf_token": csrf_token(page)},
            files={"source_image": ("photo.jpg", PHOTO, "image/jpeg")},
        )
        match = GENERATION.search(response.headers.get("Location", ""))
        if match:
            self.generation = match.group(1)
            with _lock:
                _submitted.append(self.generation)


@events.request.add_listener
def _record_time(request_type: str, name: str, response_time: float, **_kwargs) -> None:
    _times.append((f"{request_type} {name}", response_time))


@events.quitting.add_listener
def _write_results(**_kwargs) -> None:
    with open(SUBMITTED_FILE, "w") as out:
        out.write("\n".join(_submitted))
    with open(TIMES_FILE, "w") as out:
        out.writelines(f"{route},{milliseconds:.2f}\n" for route, milliseconds in _times)
