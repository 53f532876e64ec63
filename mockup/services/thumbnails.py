"""A generation's picture in lists (the queue page): its first candidate's thumbnail once it has one,
else a thumbnail of what it was made from, made the first time it is asked for and kept beside it (a
batch's contact sheet shows that one for each of its rows)."""
from __future__ import annotations

from PIL import Image

from .. import storage
from ..extensions import db
from ..imaging.formats import thumbnail
from ..models import Generation
from .generations import get_generation


def generation_thumbnail(owner_id: str, generation_id: str) -> str:
    """The stored path of the generation's thumbnail (a JPEG)."""
    generation = get_generation(owner_id, generation_id)
    if generation.images:
        return generation.images[0].thumbnail_path
    return _of_source(generation)


def source_thumbnail(owner_id: str, generation_id: str) -> str:
    """The stored path of the thumbnail of the generation's source (a JPEG); the generations of a batch
    share their source file, so they share this too."""
    return _of_source(get_generation(owner_id, generation_id))


def _of_source(generation: Generation) -> str:
    rel = storage.thumbnail(generation.source_path)
    if not storage.exists(rel):
        with Image.open(storage.resolve(generation.source_path)) as source:
            storage.write_atomic(rel, thumbnail(source))
        generation.stored_bytes += storage.size(rel)
        db.session.commit()
    return rel
