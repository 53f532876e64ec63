"""The project history: the list and removing an entry (images are saved to it from /images)."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..forms import ButtonForm
from ..services import access, history, paging
from .common import owner_id, perform

bp = Blueprint("history", __name__)


@bp.get("/projects/<project_id>/history")
@login_required
def index(project_id: str):
    """`?review=approved` shows only the approved images (the team's decisions)."""
    project = access.project_for(owner_id(), project_id)[0]
    approved_only = request.args.get("review") == "approved"
    entries = history.list_history(owner_id(), project_id, "approved" if approved_only else None,
                                   paging.from_args(request.args))
    return render_template("history/index.html", project=project, entries=entries, approved_only=approved_only)


@bp.post("/history/<entry_id>/delete")
@login_required
def delete(entry_id: str):
    return perform(ButtonForm(), lambda: history.delete_entry(owner_id(), entry_id),
                   _("Removed from the history. The image itself is kept."), url_for("projects.index"))
