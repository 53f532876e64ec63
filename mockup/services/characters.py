"""IP characters registered per project."""
from __future__ import annotations

from PIL import Image
from sqlalchemy import select

from .. import storage
from ..errors import N_, Conflict, Invalid, NotFound
from ..extensions import db
from ..imaging.matting import cut_out_character, has_meaningful_alpha
from ..models import Character, new_id
from . import access, uploads
from .access import Permission
from .paging import Page, PageRequest, paginate
from .projects import get_project


def list_characters(user_id: str, project_id: str, page: PageRequest = PageRequest()) -> Page[Character]:
    """A page of the project's characters, oldest first (the order they were registered in)."""
    project = get_project(user_id, project_id)
    query = select(Character).where(Character.project_id == project.id)
    return paginate(query, (Character.created_at, Character.id), page)


def get_character(user_id: str, character_id: str, needs: Permission = Permission.VIEW) -> Character:
    character = db.session.get(Character, character_id)
    access.check(user_id, character.project if character else None, needs, N_("This character does not exist."))
    return character


def create_character(owner_id: str, project_id: str, name: str, image_data: bytes | None) -> Character:
    project = get_project(owner_id, project_id, Permission.EDIT)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise Invalid(N_("Give the character a name of 1 to 100 characters."), fields={"name": N_("Enter a name.")})
    image = uploads.decode_input(image_data, "image")
    character = Character(id=new_id(), project_id=project.id, name=name)
    with storage.staged() as staging:
        character.image_path = storage.character(owner_id, character.id)
        character.thumbnail_path = uploads.store_with_thumbnail(staging, character.image_path, image)
        db.session.add(character)
        db.session.commit()
    return character


def delete_character(user_id: str, character_id: str) -> None:
    character = get_character(user_id, character_id, Permission.EDIT)
    doomed = storage.with_thumbnails(character.image_path, character.cutout_path)
    db.session.delete(character)
    db.session.commit()
    storage.remove(*doomed)


# The two pictures a character can have: the upload as it was sent, and its cut-out.
ORIGINAL, CUTOUT = "original", "cutout"


def picture_file(user_id: str, character_id: str, version: str | None = None, *, thumbnail: bool = False) -> str:
    """The stored file of one version of the character's picture (None: the one generations use), or
    its JPEG thumbnail."""
    character = get_character(user_id, character_id)
    paths = {None: character.picture_path, ORIGINAL: character.image_path, CUTOUT: character.cutout_path}
    if version not in paths:
        raise NotFound()
    rel = paths[version]
    if rel is None:
        raise NotFound(N_("This character has no picture with its background removed."))
    return storage.thumbnail(rel) if thumbnail else rel


def remove_background(user_id: str, character_id: str) -> Character:
    """Cut the character out of a plain background into a second file beside the upload, keeping what its
    outline encloses, and use it from now on. The upload itself is never touched, so this can be undone."""
    character = get_character(user_id, character_id, Permission.EDIT)
    if character.cutout_path:
        raise Conflict(N_("The background of this character is already removed."))
    with Image.open(storage.resolve(character.image_path)) as stored:
        if has_meaningful_alpha(stored):
            raise Conflict(N_("This character already has a transparent background."))
        cut = cut_out_character(stored.copy())
    with storage.staged() as staging:
        character.cutout_path = storage.character_cutout(character.image_path)
        uploads.store_with_thumbnail(staging, character.cutout_path, cut)
        character.use_cutout = True
        db.session.commit()
    return character


def use_picture(user_id: str, character_id: str, version: str) -> Character:
    """Choose which picture generations use: the original upload or its cut-out."""
    character = get_character(user_id, character_id, Permission.EDIT)
    if version not in (ORIGINAL, CUTOUT):
        raise Invalid(N_("Choose the original picture or the one with its background removed."))
    if version == CUTOUT and not character.cutout_path:
        raise Conflict(N_("This character has no picture with its background removed."))
    character.use_cutout = version == CUTOUT
    db.session.commit()
    return character


def undo_background_removal(user_id: str, character_id: str) -> Character:
    """Go back to the original upload: forget the cut-out and remove its files."""
    character = get_character(user_id, character_id, Permission.EDIT)
    if not character.cutout_path:
        raise Conflict(N_("This character has no picture with its background removed."))
    doomed = storage.with_thumbnails(character.cutout_path)
    character.cutout_path, character.use_cutout = None, False
    db.session.commit()
    storage.remove(*doomed)
    return character
