"""A deleted image asked for by an old page (another tab, a bookmark): instead of a bare 404, its page
says it was deleted and leads to its generation, and a button sent for it (save to the history, select,
delete, edit) says what happened and goes back there. Bound to the blueprints whose routes name an image
(views/images.py, the candidate select of views/generate.py)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import NotFound
from ..services import deleted_images
from .errors import service_error


def _answer_for_post(endpoint: str | None) -> str:
    sentences = {
        "images.save_to_history": _("This image was deleted, so it was not saved to the project history."),
        "images.delete": _("This image was already deleted."),
        "generate.select": _("This candidate was deleted, so it was not selected."),
    }
    return sentences.get(endpoint or "", _("This image was deleted, so nothing was done."))


def image_gone(error: NotFound):
    image_id = (request.view_args or {}).get("image_id") or request.form.get("image_id")
    generation = (deleted_images.generation_of(current_user.id, image_id)
                  if image_id and current_user.is_authenticated else None)
    if generation is None:
        return service_error(error)
    back = url_for("generate.generation", generation_id=generation.id)
    if request.method == "POST":
        flash(_answer_for_post(request.endpoint), "error")
        return redirect(back, 303)
    page = render_template("error.html", status=404, message=_("This image was deleted."),
                           back=back, back_label=_("Open the mockup it came from"))
    return page, 404


def watch(bp: Blueprint) -> None:
    bp.register_error_handler(NotFound, image_gone)
