"""IP characters registered per project, each with its character sheet: 1 to CHARACTER_IMAGES_MAX
reference images, each showing one view, and a description; all of them go to the image model with every
generation that uses the character (services/generations.py, engines/prompts.py).

The background cut-out is made of the first image (the one lists show and the local engine uses): the
other views are sent as uploaded. The columns are the image's, so each image keeps its own cut-out."""
from __future__ import annotations

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import storage
from ..errors import N_, Conflict, Invalid, NotFound
from ..extensions import db
from ..imaging.matting import cut_out_character, has_meaningful_alpha
from ..models import CHARACTER_IMAGES_MAX, CHARACTER_VIEWS, Character, CharacterImage, new_id
from . import access, uploads
from .access import Permission
from .paging import Page, PageRequest, paginate
from .images import files_of_character_image
from .projects import files_of_character, get_project

NAME_MAX = 100
DESCRIPTION_MAX = 1000


def list_characters(user_id: str, project_id: str, page: PageRequest = PageRequest()) -> Page[Character]:
    """A page of the project's characters, oldest first (the order they were registered in)."""
    project = get_project(user_id, project_id)
    query = select(Character).where(Character.project_id == project.id).options(selectinload(Character.images))
    return paginate(query, (Character.created_at, Character.id), page)


def get_character(user_id: str, character_id: str, needs: Permission = Permission.VIEW) -> Character:
    character = db.session.get(Character, character_id)
    access.check(user_id, character.project if character else None, needs, N_("This character does not exist."))
    return character


def _checked_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid(N_("Give the character a name of 1 to 100 characters."), fields={"name": N_("Enter a name.")})
    return name


def _checked_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(N_("Keep the description under 1000 characters."),
                      fields={"description": N_("Use at most 1000 characters.")})
    return description


def _checked_view(view: str | None) -> str:
    view = view or CHARACTER_VIEWS[0]
    if view not in CHARACTER_VIEWS:
        raise Invalid(N_("Choose the view the picture shows: front, side, back, expression or other."),
                      fields={"view": N_("Choose a view.")})
    return view


def create_character(owner_id: str, project_id: str, name: str, image_data: bytes | None, *,
                     description: str = "", view: str | None = None) -> Character:
    """A character with its first reference image (`view`, front unless said)."""
    project = get_project(owner_id, project_id, Permission.EDIT)
    character = Character(id=new_id(), project_id=project.id, name=_checked_name(name),
                          description=_checked_description(description))
    view = _checked_view(view)
    image = uploads.decode_input(image_data, "image")
    with storage.staged() as staging:
        _store_image(staging, owner_id, character, image, view, position=0)
        db.session.add(character)
        db.session.commit()
    return character


def _store_image(staging: storage.Staging, owner_id: str, character: Character, image: Image.Image, view: str,
                 position: int) -> CharacterImage:
    row = CharacterImage(id=new_id(), position=position, view=view, use_cutout=False)
    row.image_path = storage.character_image(owner_id, row.id)
    row.thumbnail_path = uploads.store_with_thumbnail(staging, row.image_path, image)
    character.images.append(row)
    return row


def update_character(user_id: str, character_id: str, *, name: str | None = None,
                     description: str | None = None) -> Character:
    """Rename the character or change its description; what is not given stays."""
    character = get_character(user_id, character_id, Permission.EDIT)
    if name is not None:
        character.name = _checked_name(name)
    if description is not None:
        character.description = _checked_description(description)
    db.session.commit()
    return character


def add_image(user_id: str, character_id: str, image_data: bytes | None, view: str | None) -> Character:
    """Add a reference image to the sheet, after the others; a full sheet is a conflict, not a field error."""
    character = get_character(user_id, character_id, Permission.EDIT)
    view = _checked_view(view)
    if len(character.images) >= CHARACTER_IMAGES_MAX:
        raise Conflict(N_("A character has at most 5 pictures. Remove one before adding another."))
    image = uploads.decode_input(image_data, "image")
    last = db.session.scalar(select(func.max(CharacterImage.position)).where(
        CharacterImage.character_id == character.id))
    with storage.staged() as staging:
        _store_image(staging, user_id, character, image, view, position=(last or 0) + 1)
        db.session.commit()
    return character


def delete_image(user_id: str, character_id: str, image_id: str) -> None:
    """Remove one reference image and its files; the last one stays (a character needs a picture)."""
    character = get_character(user_id, character_id, Permission.EDIT)
    row = _image_of(character, image_id)
    if len(character.images) == 1:
        raise Conflict(N_("This is the character's only picture. Add another before removing it."))
    doomed = files_of_character_image(row)
    character.images.remove(row)
    db.session.commit()
    storage.remove(*doomed)


def _image_of(character: Character, image_id: str) -> CharacterImage:
    for row in character.images:
        if row.id == image_id:
            return row
    raise NotFound(N_("This picture of the character does not exist."))


def delete_character(user_id: str, character_id: str) -> None:
    character = get_character(user_id, character_id, Permission.EDIT)
    doomed = files_of_character(character)
    db.session.delete(character)
    db.session.commit()
    storage.remove(*doomed)


# The two pictures a character's first image can have: the upload as it was sent, and its cut-out.
ORIGINAL, CUTOUT = "original", "cutout"


def picture_file(user_id: str, character_id: str, version: str | None = None, *, thumbnail: bool = False) -> str:
    """The stored file of one version of the character's first picture (None: the one generations use),
    or its JPEG thumbnail."""
    first = get_character(user_id, character_id).first_image
    paths = {None: first.picture_path, ORIGINAL: first.image_path, CUTOUT: first.cutout_path}
    if version not in paths:
        raise NotFound()
    rel = paths[version]
    if rel is None:
        raise NotFound(N_("This character has no picture with its background removed."))
    return storage.thumbnail(rel) if thumbnail else rel


def image_file(user_id: str, character_id: str, character_image_id: str, *, thumbnail: bool = False) -> str:
    """One reference image as generations use it (its cut-out when chosen), or its JPEG thumbnail."""
    rel = _image_of(get_character(user_id, character_id), character_image_id).picture_path
    return storage.thumbnail(rel) if thumbnail else rel


def remove_background(user_id: str, character_id: str) -> Character:
    """Cut the character's first picture out of a plain background into a second file beside the upload,
    keeping what its outline encloses, and use it from now on. The upload itself is never touched, so
    this can be undone."""
    character = get_character(user_id, character_id, Permission.EDIT)
    first = character.first_image
    if first.cutout_path:
        raise Conflict(N_("The background of this character is already removed."))
    with Image.open(storage.resolve(first.image_path)) as stored:
        if has_meaningful_alpha(stored):
            raise Conflict(N_("This character already has a transparent background."))
        cut = cut_out_character(stored.copy())
    with storage.staged() as staging:
        first.cutout_path = storage.character_cutout(first.image_path)
        uploads.store_with_thumbnail(staging, first.cutout_path, cut)
        first.use_cutout = True
        db.session.commit()
    return character


def use_picture(user_id: str, character_id: str, version: str) -> Character:
    """Choose which first picture generations use: the original upload or its cut-out."""
    character = get_character(user_id, character_id, Permission.EDIT)
    if version not in (ORIGINAL, CUTOUT):
        raise Invalid(N_("Choose the original picture or the one with its background removed."))
    if version == CUTOUT and not character.first_image.cutout_path:
        raise Conflict(N_("This character has no picture with its background removed."))
    character.first_image.use_cutout = version == CUTOUT
    db.session.commit()
    return character


def undo_background_removal(user_id: str, character_id: str) -> Character:
    """Go back to the original upload: forget the cut-out and remove its files."""
    character = get_character(user_id, character_id, Permission.EDIT)
    first = character.first_image
    if not first.cutout_path:
        raise Conflict(N_("This character has no picture with its background removed."))
    doomed = storage.with_thumbnails(first.cutout_path)
    first.cutout_path, first.use_cutout = None, False
    db.session.commit()
    storage.remove(*doomed)
    return character
