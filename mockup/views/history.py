"""The project history: saving an image to it, the list, removing an entry."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..forms import ButtonForm, NoteForm
from ..services import history, images, projects
from .common import owner_id, perform

bp = Blueprint("history", __name__)


@bp.post("/images/<image_id>/history")
@login_required
def save(image_id: str):
    form = NoteForm()
    # Looked up first so that someone else's image is a 404 before the note is even validated,
    # and so that the generation page is known as the place to go back to.
    generation_id = images.get_image(owner_id(), image_id).generation_id
    return perform(form, lambda: history.save_to_history(owner_id(), image_id, form.note.data or ""),
                   lambda saved: _("Saved to the project history.") if saved[1]
                   else _("This image is already in the project history."),
                   url_for("generate.generation", generation_id=generation_id))


@bp.get("/projects/<project_id>/history")
@login_required
def index(project_id: str):
    project = projects.get_project(owner_id(), project_id)
    return render_template("history/index.html", project=project, entries=history.list_history(owner_id(), project_id))


@bp.post("/history/<entry_id>/delete")
@login_required
def delete(entry_id: str):
    return perform(ButtonForm(), lambda: history.delete_entry(owner_id(), entry_id),
                   _("Removed from the history. The image itself is kept."), url_for("projects.index"))
