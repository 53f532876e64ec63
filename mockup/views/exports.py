"""Exports as zips (services/exports.py): a project's history, selected or approved images from the
history and project pages (`/projects/<id>/export`, a GET form), and an explicit selection of images
(`/exports/selection`, a POSTed list of image_id, for the gallery). A 2K export first shows a page with
its progress that checks again by itself and downloads when every file is ready."""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required

from ..api import serializers
from ..errors import Forbidden, NotFound, ServiceError
from ..http.files import send_stream
from ..http.retry import retry_after
from ..services import exports
from .common import owner_id, safe_next

bp = Blueprint("exports", __name__)

ZIP = "application/zip"


@bp.get("/projects/<project_id>/export")
@login_required
def project_export(project_id: str):
    """`?scope=history|selected|approved&format=png|jpeg|webp&size=1k|2k`; a refusal (nothing in the
    scope, a wrong choice) goes back to the page the form was on with its sentence."""
    back = safe_next(request.args.get("next")) or url_for("projects.detail", project_id=project_id)
    args = request.args
    return _answer(lambda: exports.export_project(owner_id(), project_id, args.get("scope"), args.get("format"),
                                                  args.get("size")), back)


@bp.post("/exports/selection")
@login_required
def selection():
    """The images named by the repeated `image_id` fields, each one the user may view (else 404)."""
    form = request.form
    back = safe_next(form.get("next")) or url_for("projects.index")
    return _answer(lambda: exports.export_images(owner_id(), form.getlist("image_id"), form.get("format"),
                                                 form.get("size")), back, resend=form)


def _answer(make: Callable[[], exports.Export | exports.Preparing], back: str, resend=None):
    """The zip, the preparing page (202) while 2K files are made, or back to `back` with the refusal.
    `resend` is a POSTed form the preparing page sends again (a GET export simply reloads)."""
    try:
        result = make()
    except (NotFound, Forbidden):
        raise
    except ServiceError as error:
        flash(gettext(error.message), "error")
        return redirect(back, 303)
    if isinstance(result, exports.Preparing):
        page = render_template("exports/preparing.html", preparing=result, back=back, resend=resend)
        return page, 202, retry_after(result.retry_after)
    project = serializers.project(result.project, role=result.role) if result.project else None
    return send_stream(exports.stream(result, project), ZIP, result.filename)
