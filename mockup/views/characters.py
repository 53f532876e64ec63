"""IP characters of a project: the list with each character's sheet, registering one, adding and removing
views, editing the name and description, deleting one, and their pictures."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..extensions import limiter
from ..forms import ButtonForm, CharacterEditForm, CharacterForm, CharacterImageForm
from ..models import CHARACTER_IMAGES_MAX
from ..http.files import send_stored
from ..imaging.formats import MIME_TYPES
from ..services import access, characters, paging, projects
from ..services.access import Permission
from .common import owner_id, perform, render_form, run_form, uploaded
from .kept import KeptUploads

bp = Blueprint("characters", __name__)


@bp.route("/projects/<project_id>/characters", methods=["GET", "POST"])
@login_required
def index(project_id: str):
    # Every member sees the characters; registering one is an editor's (checked before the form).
    needs = Permission.EDIT if request.method == "POST" else Permission.VIEW
    project = projects.get_project(owner_id(), project_id, needs)
    form = CharacterForm()
    kept = KeptUploads(form)
    done = run_form(form, lambda: characters.create_character(
        owner_id(), project_id, form.name.data, uploaded(form.image), description=form.description.data or "",
        view=form.view.data))
    kept.settle(done)
    if done:
        flash(_("Character “%(name)s” registered.", name=done.value.name), "success")
        return redirect(url_for("characters.index", project_id=project_id), 303)
    return render_form("characters/index.html", form, project=project, kept=kept.shown,
                       characters=characters.list_characters(owner_id(), project_id, paging.from_args(request.args)),
                       views_max=CHARACTER_IMAGES_MAX,
                       allowed=access.allowed_actions(access.role_of(owner_id(), project)))


def _sheet_of(character_id: str) -> str:
    """Back to the character's sheet on its project's characters page."""
    project_id = characters.get_character(owner_id(), character_id).project_id
    return url_for("characters.index", project_id=project_id, _anchor=f"character-{character_id}")


@bp.post("/characters/<character_id>/images")
@login_required
def add_image(character_id: str):
    back = _sheet_of(character_id)
    form = CharacterImageForm()
    return perform(form, lambda: characters.add_image(owner_id(), character_id, uploaded(form.image), form.view.data),
                   _("View added to the character sheet."), back)


@bp.post("/characters/<character_id>/images/<character_image_id>/delete")
@login_required
def delete_image(character_id: str, character_image_id: str):
    back = _sheet_of(character_id)
    return perform(ButtonForm(), lambda: characters.delete_image(owner_id(), character_id, character_image_id),
                   _("View removed from the character sheet."), back)


@bp.post("/characters/<character_id>/edit")
@login_required
def edit(character_id: str):
    back = _sheet_of(character_id)
    form = CharacterEditForm()
    return perform(form, lambda: characters.update_character(
        owner_id(), character_id, name=form.name.data, description=form.description.data or ""),
        _("Character saved."), back)


@bp.post("/characters/<character_id>/delete")
@login_required
def delete(character_id: str):
    return perform(ButtonForm(), lambda: characters.delete_character(owner_id(), character_id),
                   _("Character deleted."), url_for("projects.index"))


@bp.post("/characters/<character_id>/cutout")
@login_required
def cutout(character_id: str):
    return perform(ButtonForm(), lambda: characters.remove_background(owner_id(), character_id),
                   _("Background removed. The original picture is kept."), url_for("projects.index"))


@bp.post("/characters/<character_id>/cutout/undo")
@login_required
def undo_cutout(character_id: str):
    return perform(ButtonForm(), lambda: characters.undo_background_removal(owner_id(), character_id),
                   _("Back to the original picture."), url_for("projects.index"))


@bp.post("/characters/<character_id>/use/<version>")
@login_required
def use(character_id: str, version: str):
    return perform(ButtonForm(), lambda: characters.use_picture(owner_id(), character_id, version),
                   _("Mockups of this character now use the picture you chose."), url_for("projects.index"))


@bp.get("/characters/<character_id>/image", defaults={"version": None})
@bp.get("/characters/<character_id>/image/<version>")
@login_required
@limiter.exempt
def image(character_id: str, version: str | None):
    # Revalidated (an ETag answers 304), never immutable: the cut-out can be chosen or undone, and the first
    # picture removed from the sheet, so the same URL may name another file.
    return send_stored(characters.picture_file(owner_id(), character_id, version), MIME_TYPES["png"])


@bp.get("/characters/<character_id>/images/<character_image_id>/image")
@login_required
@limiter.exempt
def sheet_image(character_id: str, character_image_id: str):
    return send_stored(characters.image_file(owner_id(), character_id, character_image_id), MIME_TYPES["png"])


@bp.get("/characters/<character_id>/images/<character_image_id>/thumbnail")
@login_required
@limiter.exempt
def sheet_thumbnail(character_id: str, character_image_id: str):
    return send_stored(characters.image_file(owner_id(), character_id, character_image_id, thumbnail=True),
                       MIME_TYPES["jpeg"])


@bp.get("/characters/<character_id>/thumbnail", defaults={"version": None})
@bp.get("/characters/<character_id>/thumbnail/<version>")
@login_required
@limiter.exempt
def thumbnail(character_id: str, version: str | None):
    return send_stored(characters.picture_file(owner_id(), character_id, version, thumbnail=True), MIME_TYPES["jpeg"])
