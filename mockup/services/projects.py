"""Projects: a user's folders of characters, generations and history."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import storage
from ..errors import N_, Invalid
from ..extensions import db
from ..models import Character, Generation, Image, Project
from .access import Permission, project_for, visible_projects
from .images import files_of_character_image, files_of_generation, files_of_image
from .paging import Page, PageRequest, paginate


def _clean(name: str, description: str) -> tuple[str, str]:
    name, description = (name or "").strip(), (description or "").strip()
    fields = {}
    if not name or len(name) > 100:
        fields["name"] = N_("Enter a project name of 1 to 100 characters.")
    if len(description) > 2000:
        fields["description"] = N_("Keep the description under 2000 characters.")
    if fields:
        raise Invalid(N_("Please correct the highlighted fields."), fields=fields)
    return name, description


def list_projects(user_id: str, page: PageRequest = PageRequest()) -> Page[Project]:
    """A page of the projects the user owns and those shared with them, last changed first, each with
    its owner."""
    query = select(Project).where(visible_projects(user_id)).options(joinedload(Project.owner))
    return paginate(query, (Project.updated_at.desc(), Project.id.desc()), page)


def get_project(user_id: str, project_id: str, needs: Permission = Permission.VIEW) -> Project:
    """A project the user may act on as `needs` says; a stranger's request answers NotFound exactly like
    a missing one, a member's whose role may not answers Forbidden."""
    return project_for(user_id, project_id, needs)[0]


def create_project(owner_id: str, name: str, description: str = "") -> Project:
    name, description = _clean(name, description)
    project = Project(owner_id=owner_id, name=name, description=description)
    db.session.add(project)
    db.session.commit()
    return project


def update_project(user_id: str, project_id: str, name: str | None = None,
                   description: str | None = None) -> Project:
    project = get_project(user_id, project_id, Permission.EDIT)
    project.name, project.description = _clean(
        project.name if name is None else name,
        project.description if description is None else description,
    )
    db.session.commit()
    return project


def image_counts(project_ids: list[str]) -> dict[str, int]:
    """Images per project in one query (the API's `image_count`)."""
    if not project_ids:
        return {}
    rows = db.session.execute(
        select(Generation.project_id, func.count(Image.id))
        .join(Image, Image.generation_id == Generation.id)
        .where(Generation.project_id.in_(project_ids))
        .group_by(Generation.project_id)
    )
    return {project_id: count for project_id, count in rows}


def files_of_character(character: Character) -> list[str]:
    """Every stored file of a character's sheet: each image, its cut-out and their thumbnails."""
    return [rel for row in character.images for rel in files_of_character_image(row)]


def files_of_project(project: Project) -> list[str]:
    """Everything on disk that belongs to a project (relative paths), gathered before its rows go."""
    # Each member's generations keep their files under that member's own folders.
    creators = {project.owner_id, *db.session.scalars(
        select(Generation.owner_id).where(Generation.project_id == project.id).distinct())}
    rels = [rel for creator in sorted(creators) for rel in storage.project_dirs(creator, project.id)]
    for character in project.characters:
        rels += files_of_character(character)
    # By name too: a generation handed over from a deleted account keeps its files under that account's folders.
    for generation in db.session.scalars(select(Generation).where(Generation.project_id == project.id)):
        rels += files_of_generation(generation)
    image_rows = db.session.scalars(
        select(Image).join(Generation, Image.generation_id == Generation.id).where(Generation.project_id == project.id)
    )
    for image in image_rows:
        rels += files_of_image(image)
    return [rel for rel in rels if rel]


def delete_project(user_id: str, project_id: str) -> None:
    """Deletes the project's rows, then its files (after the commit, so a failed commit keeps them).
    Only its owner may."""
    project = get_project(user_id, project_id, Permission.MANAGE)
    doomed = files_of_project(project)
    db.session.delete(project)
    db.session.commit()
    storage.remove(*doomed)
