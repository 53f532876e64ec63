"""Where a deleted image came from. Deleting an image leaves a DeletedImage row naming its generation, so
an old page's link or button (another tab, a bookmark) can say "deleted" and lead to the generation
instead of a bare 404; someone else's image stays an unknown one."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import DeletedImage, Generation, Image as ImageRow


def remember(image: ImageRow) -> None:
    """Add the tombstone of an image about to be deleted (the caller's commit keeps it)."""
    db.session.add(DeletedImage(image_id=image.id, generation_id=image.generation_id))


def generation_of(owner_id: str, image_id: str | None) -> Generation | None:
    """The owner's generation a deleted image belonged to; None if the image was never the owner's."""
    if not image_id:
        return None
    return db.session.scalar(
        select(Generation).join(DeletedImage, DeletedImage.generation_id == Generation.id)
        .where(DeletedImage.image_id == image_id, Generation.owner_id == owner_id)
    )
