"""Shared projects (shared/API.md, "Shared projects"): members and their roles, through the services and
the JSON API (every response checked against the OpenAPI document by ApiClient)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mockup import storage
from mockup.errors import Conflict, Forbidden, Invalid, NotFound
from mockup.extensions import db
from mockup.models import Generation
from mockup.services import access, accounts, generations, members, projects
from mockup.services.access import Permission

from .api_support import PASSWORD, assert_error, assert_shape, sign_up
from .conftest import files_under, png_bytes
from .factories import create_character, create_project, finished_generation


@pytest.fixture
def people(app) -> dict[str, str]:
    with app.app_context():
        return {name: accounts.register(f"{name}@example.com", PASSWORD, name.title()).id
                for name in ("owner", "colleague", "other")}


@pytest.fixture
def project_id(app, people) -> str:
    with app.app_context():
        return projects.create_project(people["owner"], "Shared mugs").id


def test_the_owner_adds_a_colleague_who_then_sees_the_project(app, people, project_id):
    with app.app_context():
        member = members.add_member(people["owner"], project_id, " Colleague@Example.com ", "reviewer")
        assert (member.user.id, member.role) == (people["colleague"], "reviewer")
        assert [p.id for p in projects.list_projects(people["colleague"]).items] == [project_id]
        project, role = access.project_for(people["colleague"], project_id)
        assert (project.id, role) == (project_id, "reviewer")
        listed = members.list_members(people["colleague"], project_id)
        assert [(m.user.id, m.role) for m in listed.items] == [(people["owner"], "owner"), (people["colleague"], "reviewer")]
        assert projects.list_projects(people["other"]).items == []


def test_adding_refuses_unknown_people_members_and_bad_roles(app, people, project_id):
    with app.app_context():
        with pytest.raises(members.UnknownUser):
            members.add_member(people["owner"], project_id, "nobody@example.com", "viewer")
        with pytest.raises(Invalid):
            members.add_member(people["owner"], project_id, "colleague@example.com", "owner")
        members.add_member(people["owner"], project_id, "colleague@example.com", "viewer")
        with pytest.raises(Conflict):
            members.add_member(people["owner"], project_id, "colleague@example.com", "editor")
        with pytest.raises(Conflict):
            members.add_member(people["owner"], project_id, "owner@example.com", "editor")
        with pytest.raises(Forbidden):
            members.add_member(people["colleague"], project_id, "other@example.com", "viewer")
        with pytest.raises(NotFound):
            members.add_member(people["other"], project_id, "other@example.com", "viewer")


def test_roles_change_and_members_leave(app, people, project_id):
    with app.app_context():
        members.add_member(people["owner"], project_id, "colleague@example.com", "viewer")
        with pytest.raises(Forbidden):
            projects.update_project(people["colleague"], project_id, name="Mine now")
        members.change_role(people["owner"], project_id, people["colleague"], "editor")
        assert projects.update_project(people["colleague"], project_id, name="Renamed").name == "Renamed"
        with pytest.raises(Forbidden):
            projects.delete_project(people["colleague"], project_id)
        with pytest.raises(Conflict):
            members.remove_member(people["owner"], project_id, people["owner"])
        members.remove_member(people["colleague"], project_id, people["colleague"])
        with pytest.raises(NotFound):
            projects.get_project(people["colleague"], project_id)


def test_permissions_follow_the_contract():
    assert access.ALLOWED["editor"] == set(Permission) - {Permission.MANAGE}
    assert access.ALLOWED["reviewer"] == {Permission.VIEW, Permission.COMMENT, Permission.REVIEW}
    assert access.ALLOWED["viewer"] == {Permission.VIEW, Permission.COMMENT}


def test_a_members_generation_belongs_to_the_project_and_its_files_go_with_it(app, people, project_id):
    """An editor's generation is seen by the owner; its files are under the editor's id, and deleting the
    project removes them too."""
    with app.app_context():
        members.add_member(people["owner"], project_id, "colleague@example.com", "editor")
        generation = generations.submit_generation(
            people["colleague"], project_id, mode="sketch-to-real", source_image=png_bytes((160, 120)))
        assert generation.owner_id == people["colleague"]
        assert generation.source_path.startswith(f"uploads/{people['colleague']}/{project_id}/")
        assert [g.id for g in generations.recent_generations(people["owner"], project_id).items] == [generation.id]
        assert generations.get_generation(people["owner"], generation.id).id == generation.id
        projects.delete_project(people["owner"], project_id)
        assert db.session.scalar(select(Generation.id)) is None
        assert not storage.resolve(generation.source_path).exists()
    assert files_under(app.config["DATA_DIR"] + f"/uploads/{people['colleague']}") == []


@pytest.fixture
def editors_work(app, client) -> tuple:
    """The owner's project where an editor registered a character and made a finished generation:
    (owner, editor, project id, character id, generation id, image ids)."""
    owner = sign_up(client, "owner@example.com", "Owner")
    editor = sign_up(app.test_client(), "editor@example.com", "Editor")
    project_id = create_project(owner)
    owner.post(f"/api/projects/{project_id}/members", json={"email": "editor@example.com", "role": "editor"})
    character_id = create_character(editor, project_id)
    generation_id, image_ids = finished_generation(app, editor, project_id, character_id)
    return owner, editor, project_id, character_id, generation_id, image_ids


def test_a_member_who_deletes_their_account_leaves_their_work_with_the_project(app, editors_work):
    """An editor's generation, its images and the character they registered stay in the owner's project,
    files and all, when the editor deletes their account; what was only theirs (their own project) goes."""
    owner, editor, project_id, character_id, generation_id, image_ids = editors_work
    own_project = create_project(editor, "Editor's own")
    with app.app_context():
        before = {rel for rel in files_under(app.config["DATA_DIR"]) if f"/{project_id}/" in rel or "characters/" in rel}
        accounts.delete_account(editor.user["id"], PASSWORD)
        kept = db.session.get(Generation, generation_id)
        assert kept.owner_id == owner.user["id"]
        assert projects.list_projects(owner.user["id"]).items[0].id == project_id
        inputs = [kept.source_path, *(view["path"] for view in kept.character_views)]
    assert owner.get(f"/api/generations/{generation_id}").get_json()["generation"]["images"][0]["id"] == image_ids[0]
    assert owner.get(f"/api/characters/{character_id}/image").status_code == 200
    assert owner.get(f"/api/images/{image_ids[0]}/download").status_code == 200
    assert before and before <= set(files_under(app.config["DATA_DIR"]))
    assert_error(owner.get(f"/api/projects/{own_project}"), 404, "NOT_FOUND")
    with app.app_context():  # and the project, deleted later, takes those files with it
        projects.delete_project(owner.user["id"], project_id)
        assert not any(storage.resolve(rel).exists() for rel in inputs)


# --- the JSON API ---------------------------------------------------------------------------------------

def test_members_api(app, client):
    owner = sign_up(client, "owner@example.com", "Owner")
    colleague = sign_up(app.test_client(), "colleague@example.com", "Colleague")
    project_id = create_project(owner)

    added = owner.post(f"/api/projects/{project_id}/members", json={"email": "colleague@example.com", "role": "viewer"})
    assert added.status_code == 201
    assert_shape(added.get_json()["member"], "member")
    assert_error(owner.post(f"/api/projects/{project_id}/members",
                            json={"email": "colleague@example.com", "role": "viewer"}), 409, "CONFLICT")
    assert_error(owner.post(f"/api/projects/{project_id}/members",
                            json={"email": "nobody@example.com", "role": "viewer"}), 404, "NOT_FOUND")
    assert_error(owner.post(f"/api/projects/{project_id}/members",
                            json={"email": "colleague@example.com", "role": "admin"}), 422, "VALIDATION", "role")

    listed = colleague.get(f"/api/projects/{project_id}/members").get_json()["items"]
    assert [(item["user"]["email"], item["role"]) for item in listed] == [
        ("owner@example.com", "owner"), ("colleague@example.com", "viewer")]

    shared = colleague.get("/api/projects").get_json()["items"]
    assert [(p["id"], p["role"], p["owner"]["email"]) for p in shared] == [(project_id, "viewer", "owner@example.com")]
    assert_shape(shared[0], "project")
    assert owner.get(f"/api/projects/{project_id}").get_json()["project"]["role"] == "owner"

    assert_error(colleague.patch(f"/api/projects/{project_id}", json={"name": "x"}), 403, "FORBIDDEN")
    changed = owner.patch(f"/api/projects/{project_id}/members/{colleague.user['id']}", json={"role": "editor"})
    assert changed.get_json()["member"]["role"] == "editor"
    assert colleague.patch(f"/api/projects/{project_id}", json={"name": "Renamed"}).status_code == 200
    assert_error(colleague.delete(f"/api/projects/{project_id}/members/{owner.user['id']}"), 403, "FORBIDDEN")

    assert colleague.delete(f"/api/projects/{project_id}/members/{colleague.user['id']}").status_code == 204
    assert_error(colleague.get(f"/api/projects/{project_id}"), 404, "NOT_FOUND")
    assert colleague.get("/api/projects").get_json()["items"] == []


def test_an_editors_generation_is_the_projects(editors_work):
    owner, editor, project_id, character_id, generation_id, image_ids = editors_work
    seen = owner.get(f"/api/generations/{generation_id}").get_json()["generation"]
    assert [image["id"] for image in seen["images"]] == image_ids
    assert owner.get(f"/api/projects/{project_id}").get_json()["project"]["image_count"] == 2
