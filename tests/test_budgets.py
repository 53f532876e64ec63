"""Monthly budgets and usage on the gemini engine against the fake Gemini server: a generation whose
estimate would pass the budget is refused with 402 before anything is stored or queued; the cost of
answered calls counts even when the generation failed; GET /api/usage and the admins' usage page add it
up per user and project; the generate form shows the estimate before the request is sent."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from mockup.engines import pricing
from mockup.extensions import db
from mockup.models import Generation
from mockup.services import usage

from .api_support import PASSWORD, ApiClient, assert_error, assert_shape, read_generation, sign_up
from .conftest import png_bytes, snapshot
from .job_runner import run_job, run_queued_jobs
from .studio import submit_generation

ONE_CALL = pricing.call_cost(1290)  # the fake's usageMetadata reports 1290 prompt tokens per call
SKETCH_ESTIMATE = pricing.estimate("gemini", candidates=2, input_images=1)


@pytest.fixture
def lead(gemini_app) -> ApiClient:
    return sign_up(gemini_app.test_client(), "lead@example.com", "Lead")


@pytest.fixture
def designer(gemini_app, lead) -> ApiClient:
    return sign_up(gemini_app.test_client(), "designer@example.com", "Designer")


def project_of(api: ApiClient, name: str = "Plush") -> str:
    return api.post("/api/projects", json={"name": name, "description": ""}).get_json()["project"]["id"]


def sketch(api: ApiClient, project_id: str):
    return api.post_form("/api/generations", {"project_id": project_id, "mode": "sketch-to-real",
                                              "source_image": png_bytes((128, 96)), "prompt": "soft plush"})


def set_budget(lead: ApiClient, user: ApiClient, budget: float | None) -> None:
    assert lead.patch(f"/api/users/{user.user['id']}", json={"monthly_budget_usd": budget}).status_code == 200


def test_a_generation_carries_its_estimate_and_its_cost(gemini_app, designer):
    response = sketch(designer, project_of(designer))
    assert response.status_code == 202
    queued = response.get_json()["generation"]
    assert_shape(queued, "generation")
    assert queued["estimated_cost_usd"] == pytest.approx(SKETCH_ESTIMATE) and queued["cost_usd"] == 0
    run_job(gemini_app, queued["id"])
    done = read_generation(designer, queued["id"])
    assert done["status"] == "succeeded" and done["cost_usd"] == pytest.approx(2 * ONE_CALL)


def test_the_request_that_would_pass_the_budget_is_refused_and_writes_nothing(gemini_app, lead, designer):
    set_budget(lead, designer, 0.5)
    project = project_of(designer)
    first = sketch(designer, project).get_json()["generation"]
    run_job(gemini_app, first["id"])
    before = snapshot(gemini_app)
    refused = sketch(designer, project)
    error = assert_error(refused, 402, "BUDGET_EXCEEDED")
    assert error["fields"] == {"budget_usd": 0.5, "spent_usd": pytest.approx(2 * ONE_CALL, abs=1e-4)}
    assert f"only ${0.5 - 2 * ONE_CALL:.2f} of your monthly budget of $0.50 is left" in error["message"]
    assert snapshot(gemini_app) == before
    set_budget(lead, designer, None)
    assert sketch(designer, project).status_code == 202


def test_waiting_generations_count_at_their_estimate(gemini_app, lead, designer):
    set_budget(lead, designer, SKETCH_ESTIMATE * 1.5)
    project = project_of(designer)
    assert sketch(designer, project).status_code == 202
    assert_error(sketch(designer, project), 402, "BUDGET_EXCEEDED")


def test_a_budget_that_fits_exactly_lets_the_request_through(gemini_app, lead, designer):
    set_budget(lead, designer, round(SKETCH_ESTIMATE, 4))
    assert sketch(designer, project_of(designer)).status_code == 202


def test_a_failed_generation_costs_what_its_answered_calls_cost(gemini_app, gemini_server, lead, designer):
    gemini_server.script(400)  # one call refused (not retried), the other answered and billed
    generation = sketch(designer, project_of(designer)).get_json()["generation"]
    run_job(gemini_app, generation["id"])
    failed = read_generation(designer, generation["id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "INVALID_IMAGE"
    assert failed["cost_usd"] == pytest.approx(ONE_CALL)
    body = designer.get("/api/usage").get_json()
    assert body["items"][0]["generations"] == 1 and body["items"][0]["images"] == 0
    assert body["total_cost_usd"] == pytest.approx(ONE_CALL, abs=1e-4)


def test_retrying_is_refused_past_the_budget(gemini_app, gemini_server, lead, designer):
    gemini_server.script(400, 400)
    project = project_of(designer)
    generation = sketch(designer, project).get_json()["generation"]
    run_job(gemini_app, generation["id"])
    set_budget(lead, designer, 0.05)
    browser = gemini_app.test_client()
    browser.post("/auth/login", data={"email": "designer@example.com", "password": PASSWORD})
    page = browser.post(f"/generations/{generation['id']}/retry", follow_redirects=True)
    assert "of your monthly budget of $0.05 is left" in page.get_data(as_text=True)
    assert read_generation(designer, generation["id"])["status"] == "failed"


def test_usage_adds_up_per_user_and_project(gemini_app, lead, designer):
    plush, mugs = project_of(designer, "Plush"), project_of(designer, "Mugs")
    lead_project = project_of(lead, "Lead's")
    for api, project in ((designer, plush), (designer, plush), (designer, mugs), (lead, lead_project)):
        assert sketch(api, project).status_code == 202
    run_queued_jobs(gemini_app)
    mine = designer.get("/api/usage").get_json()
    assert {(row["project_id"], row["generations"], row["images"]) for row in mine["items"]} == {(plush, 2, 4), (mugs, 1, 2)}
    assert all(row["user"]["email"] == "designer@example.com" for row in mine["items"])
    assert mine["total_cost_usd"] == pytest.approx(3 * 2 * ONE_CALL, abs=1e-3) and mine["budget_usd"] is None
    everyone = lead.get("/api/usage").get_json()
    assert len(everyone["items"]) == 3
    assert everyone["total_cost_usd"] == pytest.approx(4 * 2 * ONE_CALL, abs=1e-3)
    for row in everyone["items"]:
        assert_shape(row["user"], "user")


def test_usage_is_by_calendar_month(gemini_app, designer):
    generation = sketch(designer, project_of(designer)).get_json()["generation"]
    run_job(gemini_app, generation["id"])
    with gemini_app.app_context():
        db.session.execute(update(Generation).values(created_at=datetime(2026, 3, 31, 23, 59, tzinfo=timezone.utc)))
        db.session.commit()
    march = designer.get("/api/usage?month=2026-03").get_json()
    assert march["month"] == "2026-03" and len(march["items"]) == 1
    assert designer.get("/api/usage?month=2026-04").get_json()["items"] == []
    for bad in ("2026-13", "March", "2026-3"):
        assert_error(designer.get(f"/api/usage?month={bad}"), 422, "VALIDATION", "month")
    with gemini_app.app_context():
        spent_in_april = usage.spent(designer.user["id"], now=datetime(2026, 4, 2, tzinfo=timezone.utc))
        spent_in_march = usage.spent(designer.user["id"], now=datetime(2026, 3, 2, tzinfo=timezone.utc))
    assert spent_in_april == 0 and spent_in_march == pytest.approx(2 * ONE_CALL)


def test_the_admins_usage_page_shows_people_projects_and_the_total(gemini_app, lead, designer):
    sketch(designer, project_of(designer, "Plush line"))
    run_queued_jobs(gemini_app)
    browser = gemini_app.test_client()
    browser.post("/auth/login", data={"email": "lead@example.com", "password": PASSWORD})
    page = browser.get("/admin/usage").get_data(as_text=True)
    assert "Designer" in page and "Plush line" in page
    assert f'<th id="usage-total">{2 * ONE_CALL:.2f}</th>' in page
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    assert f'value="{month}"' in page


def test_the_generate_form_shows_the_estimate_and_what_is_left(gemini_app, lead, designer):
    project = project_of(designer)
    set_budget(lead, designer, 10)
    browser = gemini_app.test_client()
    browser.post("/auth/login", data={"email": "designer@example.com", "password": PASSWORD})
    page = browser.get(f"/projects/{project}/generate").get_data(as_text=True)
    default = pricing.estimate("gemini", candidates=2, input_images=2)
    assert f"<output data-cost-value>{default:.2f}</output>" in page
    assert "$10.00 left of your monthly budget" in page
    assert 'data-per-call="' in page and "cost.js" in page


def test_the_generate_page_says_why_it_refused(gemini_app, lead, designer):
    set_budget(lead, designer, 0)
    project = project_of(designer)
    browser = gemini_app.test_client()
    browser.post("/auth/login", data={"email": "designer@example.com", "password": PASSWORD})
    response = submit_generation(browser, project, mode="sketch-to-real")
    assert response.status_code == 402
    assert "only $0.00 of your monthly budget of $0.00 is left" in response.get_data(as_text=True)
    with gemini_app.app_context():
        assert db.session.scalar(select(Generation.id)) is None


def test_a_retried_generation_keeps_the_cost_of_its_failed_attempt(gemini_app, gemini_server, designer):
    gemini_server.script(400)  # the first attempt: one call billed, one refused
    generation = sketch(designer, project_of(designer)).get_json()["generation"]
    run_job(gemini_app, generation["id"])
    browser = gemini_app.test_client()
    browser.post("/auth/login", data={"email": "designer@example.com", "password": PASSWORD})
    assert browser.post(f"/generations/{generation['id']}/retry").status_code == 303
    with gemini_app.app_context():
        # While it waits again, it counts what it cost plus its estimate.
        assert usage.spent(designer.user["id"]) == pytest.approx(ONE_CALL + SKETCH_ESTIMATE)
    run_job(gemini_app, generation["id"])
    retried = read_generation(designer, generation["id"])
    assert retried["status"] == "succeeded" and retried["cost_usd"] == pytest.approx(3 * ONE_CALL)
