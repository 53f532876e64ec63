"""Generated images: looking at them, choosing one, downloading, deleting."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from PIL import Image
from sqlalchemy import update

from .. import storage
from ..errors import N_, Invalid, NotFound
from ..extensions import db
from ..imaging.formats import encode
from ..models import CharacterImage, Generation, Image as ImageRow, Project
from . import access, deleted_images
from .access import Permission

_NOT_ALNUM = re.compile(r"[^\w]|_")
DOWNLOAD_FORMATS = {"png": ("png", "image/png"), "jpeg": ("jpg", "image/jpeg"), "webp": ("webp", "image/webp")}


@dataclass(frozen=True)
class Download:
    path: str
    filename: str
    mimetype: str


def get_image(user_id: str, image_id: str, needs: Permission = Permission.VIEW) -> ImageRow:
    """An image of a project the user is in, if their role there allows `needs`."""
    image = db.session.get(ImageRow, image_id)
    access.check(user_id, image.generation.project if image else None, needs, N_("This image does not exist."))
    return image


def get_candidate(user_id: str, generation_id: str, image_id: str,
                  needs: Permission = Permission.EDIT) -> ImageRow:
    """An image that must be a candidate of the given generation (to select it or edit it)."""
    image = get_image(user_id, image_id, needs)
    if image.generation_id != generation_id:
        raise NotFound(N_("This image does not belong to this generation."),
                       fields={"image_id": N_("Not in this generation.")})
    return image


def slug(text: str, fallback: str, length: int = 40) -> str:
    """A file-name-safe piece of a name: letters and digits of any script (Korean stays Korean, NFKC
    folds full-width forms), runs of anything else one hyphen, at most `length` characters."""
    words = _NOT_ALNUM.split(unicodedata.normalize("NFKC", text).lower())
    return "-".join(word for word in words if word)[:length].strip("-") or fallback


def download_name(image: ImageRow, ext: str, suffix: str = "") -> str:
    """A descriptive, filesystem-safe name: project, mode, generation and candidate."""
    generation = image.generation
    project = db.session.get(Project, generation.project_id)
    return f"{slug(project.name, 'project')}_{generation.mode}_{generation.id[:8]}_candidate-{image.index + 1}{suffix}.{ext}"


def checked_format(fmt: str | None) -> str:
    fmt = (fmt or "png").lower()
    if fmt not in DOWNLOAD_FORMATS:
        raise Invalid(N_("Choose png, jpeg or webp."), fields={"format": N_("Choose png, jpeg or webp.")})
    return fmt


def converted(image: ImageRow, source: str, fmt: str | None, suffix: str = "") -> Download:
    """`source` (the image's PNG, its 2K or its cut-out) in the asked format, converted once and kept
    beside it; JPEG flattens transparency on white."""
    fmt = checked_format(fmt)
    ext, mimetype = DOWNLOAD_FORMATS[fmt]
    return Download(converted_path(source, fmt, image.id), download_name(image, ext, suffix), mimetype)


def converted_path(source: str, fmt: str, image_id: str) -> str:
    """Where `source` (a file of image `image_id`) in the checked format `fmt` is kept, made the first
    time it is asked for."""
    rel = source if fmt == "png" else storage.variant(source, fmt, DOWNLOAD_FORMATS[fmt][0])
    if not storage.exists(rel):
        with Image.open(storage.resolve(source)) as original:
            storage.write_atomic(rel, encode(original, fmt))
        # Kept beside the image, so it counts as the image's.
        db.session.execute(update(ImageRow).where(ImageRow.id == image_id)
                           .values(stored_bytes=ImageRow.stored_bytes + storage.size(rel)))
        db.session.commit()
    return rel


def download(owner_id: str, image_id: str, fmt: str | None = "png") -> Download:
    """The image as generated, in the asked format."""
    image = get_image(owner_id, image_id)
    return converted(image, image.path, fmt)


def files_of_image(image: ImageRow) -> list[str]:
    """The image's files, each once (a native 2K image's 2K file is the image itself)."""
    rels = [image.path, image.thumbnail_path, image.upscaled_path, image.cutout_path]
    for source in filter(None, (image.path, image.upscaled_path, image.cutout_path)):
        rels += [storage.variant(source, fmt, ext) for fmt, (ext, _) in DOWNLOAD_FORMATS.items() if fmt != "png"]
    return list(dict.fromkeys(rel for rel in rels if rel))


def files_of_generation(generation: Generation) -> list[str]:
    """A generation's own inputs (its outputs are its images'): the source and the thumbnail lists may
    make of it, the copies of the character's sheet (the first is `character_path`), the texture, an
    edit's mask."""
    mask = (generation.edit_region or {}).get("mask")
    views = [view["path"] for view in generation.character_views or []]
    return list(dict.fromkeys(rel for rel in (*storage.with_thumbnails(generation.source_path), generation.character_path,
                                              *views, generation.texture_path, mask) if rel))


def files_of_character_image(picture: CharacterImage) -> list[str]:
    """One picture of a character's sheet: the upload, its cut-out and their thumbnails."""
    return storage.with_thumbnails(picture.image_path, picture.cutout_path)


def delete_image(user_id: str, image_id: str) -> None:
    image = get_image(user_id, image_id, Permission.EDIT)
    doomed = files_of_image(image)
    deleted_images.remember(image)
    # Edits made from it keep going without their parent. Said here rather than left to the foreign
    # key's ON DELETE SET NULL, which SQLite applies only on connections that enabled foreign keys.
    db.session.execute(update(Generation).where(Generation.parent_image_id == image.id).values(parent_image_id=None))
    db.session.delete(image)
    db.session.commit()
    storage.remove(*doomed)
