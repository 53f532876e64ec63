"""Uploads that survive a form's error (services/staging.py): a form's file fields are filled from the
uploads kept for it before it is validated, the uploads that passed are kept when it comes back with an
error, and /kept/<id>/thumbnail shows a kept upload on the form ("kept: photo.jpg")."""
from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import Blueprint, abort, request
from flask_login import login_required
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage

from ..extensions import limiter
from ..forms import AppForm
from ..http.files import send_stored
from ..imaging.formats import MIME_TYPES
from ..models import StagedUpload
from ..services import staging
from .common import Done, owner_id

bp = Blueprint("kept", __name__, url_prefix="/kept")

KEPT_SUFFIX = "_kept"  # the hidden input beside a file field naming the upload kept for it


@bp.get("/<staged_id>/thumbnail")
@login_required
@limiter.exempt
def thumbnail(staged_id: str):
    staged = staging.get_kept(owner_id(), staged_id)
    if staged is None:
        abort(404)
    return send_stored(staged.thumbnail_path, MIME_TYPES["jpeg"])


class KeptUploads:
    """The uploads of one form, across its re-renders. A file chosen now wins over the one kept; a
    field left empty gets the kept upload's bytes, as if it had been chosen again."""

    def __init__(self, form: AppForm) -> None:
        self.form = form
        self.shown: dict[str, StagedUpload] = {}  # what the re-rendered form says it keeps, by field
        self._sent: dict[str, bytes] = {}  # files chosen in this request
        if not form.is_submitted():
            return
        for field in self._file_fields():
            if field.data:
                self._sent[field.name] = field.data.read()
                field.data = FileStorage(BytesIO(self._sent[field.name]), field.data.filename)
            elif kept := staging.get_kept(owner_id(), request.form.get(field.name + KEPT_SUFFIX)):
                self.shown[field.name] = kept
                field.data = FileStorage(BytesIO(staging.read_kept(kept)), kept.filename)

    def _file_fields(self) -> list[Any]:
        return [field for field in self.form if isinstance(field, FileField)]

    def settle(self, done: Done | None) -> None:
        """After the form ran: once it went through, its kept uploads are used up; when it came back,
        keep every upload sent now that passed, and stop showing one its field refused."""
        if done is not None:
            staging.discard(owner_id(), [kept.id for kept in self.shown.values()])
            self.shown = {}
            return
        for field in self._file_fields():
            if field.errors:
                self.shown.pop(field.name, None)
            elif field.name in self._sent:
                kept = staging.keep(owner_id(), self._sent[field.name], field.data.filename)
                if kept is not None:
                    self.shown[field.name] = kept
