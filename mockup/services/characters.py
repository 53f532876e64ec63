"""IP characters registered per project."""
from __future__ import annotations

from PIL import Image
from .. import storage
from ..errors import N_, Conflict, Invalid
from ..extensions import db
from ..imaging.formats import encode, thumbnail
from ..imaging.matting import cut_out, has_meaningful_alpha
from ..models import Character, new_id
from . import access, uploads
from .access import Permission
from .projects import get_project


def list_characters(user_id: str, project_id: str) -> list[Character]:
    return list(get_project(user_id, project_id).characters)


def get_character(user_id: str, character_id: str, needs: Permission = Permission.VIEW) -> Character:
    character = db.session.get(Character, character_id)
    access.check(user_id, character.project if character else None, needs, N_("This character does not exist."))
    return character


def create_character(owner_id: str, project_id: str, name: str, image_data: bytes | None) -> Character:
    project = get_project(owner_id, project_id, Permission.EDIT)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(N_("Give the character a name of 1 to 100 characters."), fields={"name": N_("Enter a name.")})
    image = uploads.decode(image_data, "image")
    character = Character(id=new_id(), project_id=project.id, name=name)
    with storage.staged() as staging:
        character.image_path = storage.character(owner_id, character.id)
        character.thumbnail_path = uploads.store_with_thumbnail(staging, character.image_path, image)
        db.session.add(character)
        db.session.commit()
    return character


def delete_character(user_id: str, character_id: str) -> None:
    character = get_character(user_id, character_id, Permission.EDIT)
    doomed = [character.image_path, character.thumbnail_path]
    db.session.delete(character)
    db.session.commit()
    storage.remove(*doomed)


def remove_background(user_id: str, character_id: str) -> Character:
    """Cut a character uploaded on a plain background out of it (the same cut-out as transparent
    mockups), so it composites cleanly. Replaces the stored picture and its thumbnail in place."""
    character = get_character(user_id, character_id, Permission.EDIT)
    with Image.open(storage.resolve(character.image_path)) as stored:
        if has_meaningful_alpha(stored):
            raise Conflict(N_("This character already has a transparent background."))
        cut = cut_out(stored.copy())
    storage.write_atomic(character.image_path, encode(cut, "png"))
    storage.write_atomic(character.thumbnail_path, thumbnail(cut))
    return character
