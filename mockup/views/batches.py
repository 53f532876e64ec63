"""Batches: the "New batch" form of a project, and a batch's page, a contact sheet of sources (rows) x
characters (columns) whose fragment refreshes itself until every cell has finished, with cancel."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..extensions import limiter
from ..forms import BatchForm, ButtonForm
from ..models import utcnow
from ..services import access, batches, generations, projects
from ..services.access import Permission
from .common import owner_id, perform, render_form, run_form

bp = Blueprint("batches", __name__)


@bp.route("/projects/<project_id>/batches/new", methods=["GET", "POST"])
@login_required
def new(project_id: str):
    project = projects.get_project(owner_id(), project_id, Permission.EDIT)
    form = BatchForm().offer_characters(project.characters)
    done = run_form(form, lambda: batches.create_batch(
        owner_id(), project_id, mode=form.mode.data, sources=_files(form),
        character_ids=form.character_id.data or [], options=batches.Options(
            prompt=form.prompt.data or "", preserve_structure=form.preserve_structure.data,
            transparent_background=form.transparent_background.data, candidates=form.candidates.data,
            image_size=form.image_size.data)))
    if done:
        return redirect(url_for("batches.detail", batch_id=done.value.id), 303)
    return render_form("batches/new.html", form, project=project, max_sources=batches.MAX_SOURCES,
                       max_characters=batches.MAX_CHARACTERS, max_generations=batches.MAX_GENERATIONS)


def _files(form: BatchForm) -> list[bytes]:
    """The chosen files' bytes, leaving out what a browser sends when none is chosen."""
    return [data for file in form.source_image.data or [] if (data := file.read()) or file.filename]


def _sheet_context(batch_id: str) -> dict:
    """Everything the contact sheet shows; the page and its polled fragment render the same thing."""
    batch = batches.get_batch(owner_id(), batch_id)
    positions = generations.queue_positions(batch.generations)
    now = utcnow()
    return {
        "batch": batch, "progress": batches.progress(batch), "grid": batches.grid(batch), "now": now,
        "estimate": batches.expected_finish(batch, now), "positions": positions,
        "characters": {character.id: character for character in batch.project.characters},
        "allowed": access.allowed_actions(access.role_of(owner_id(), batch.project)),
    }


@bp.get("/batches/<batch_id>")
@login_required
def detail(batch_id: str):
    context = _sheet_context(batch_id)
    return render_template("batches/detail.html", project=context["batch"].project, **context)


@bp.get("/batches/<batch_id>/sheet")
@login_required
@limiter.exempt  # polled every few seconds while the batch runs
def sheet(batch_id: str):
    return render_template("batches/_sheet.html", **_sheet_context(batch_id))


@bp.post("/batches/<batch_id>/cancel")
@login_required
def cancel(batch_id: str):
    return perform(ButtonForm(), lambda: batches.cancel_batch(owner_id(), batch_id),
                   _("The batch's waiting mockups were canceled."), url_for("batches.detail", batch_id=batch_id))
