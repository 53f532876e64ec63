"""Making mockups: the generate form, and under /generations a generation's page with its
self-refreshing status fragment, its input images, retrying, canceling and selecting a candidate."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import login_required

from ..extensions import limiter
from ..forms import ButtonForm, GenerateForm, NoteForm, SelectImageForm
from ..http.files import send_stored, stored_type
from ..models import utcnow
from ..imaging.formats import MIME_TYPES
from ..services import access, budgets, estimates, generations, history, image_jobs, projects, submissions, thumbnails
from ..services.access import Permission
from .common import owner_id, perform, render_form, run_form, uploaded
from .gone import watch
from .kept import KeptUploads

bp = Blueprint("generate", __name__)
watch(bp)  # selecting a candidate another tab deleted says so

INPUT_PATHS = {"source": "source_path", "character": "character_path", "texture": "texture_path"}

# A failed generation is explained by its error code, so the explanation is in the user's language
# whatever words the engine used (the engine's own sentence is shown beside it as a detail).
ENGINE_ERRORS = {
    "API_RATE_LIMIT": _l("The image service is busy right now. Please try again in a minute."),
    "INVALID_IMAGE": _l("The image service could not use one of the uploaded images. "
                        "Try a clearer photo or a different file."),
    "CONTENT_POLICY": _l("The image service refused this request under its content policy. "
                         "Try a different image or prompt."),
    "TIMEOUT": _l("The image service took too long to answer. Please try again."),
    "UNKNOWN": _l("Something went wrong while making the mockup. Please try again."),
}


def engine_error(code: str | None) -> str:
    return str(ENGINE_ERRORS.get(code or "UNKNOWN", ENGINE_ERRORS["UNKNOWN"]))


@bp.route("/projects/<project_id>/generate", methods=["GET", "POST"])
@login_required
def new(project_id: str):
    project = projects.get_project(owner_id(), project_id, Permission.EDIT)
    form = GenerateForm().offer_characters(project.characters)
    # The same form sent again opens what it made, whatever else it carries now (Back keeps no file).
    made = form.is_submitted() and submissions.made_by(owner_id(), form.submission.data)
    if made:
        return redirect(url_for("generate.generation", generation_id=made.id), 303)
    kept = KeptUploads(form)
    done = run_form(form, lambda: generations.submit_generation(
        owner_id(), project_id, mode=form.mode.data, source_image=uploaded(form.source_image),
        character_id=form.character_id.data or None, character_image=uploaded(form.character_image),
        texture_image=uploaded(form.texture_image), prompt=form.prompt.data,
        preserve_structure=form.preserve_structure.data,
        transparent_background=form.transparent_background.data, submission=form.submission.data,
        candidates=form.candidates.data, image_size=form.image_size.data,
    ))
    kept.settle(done)
    if done:
        return redirect(url_for("generate.generation", generation_id=done.value.id), 303)
    return render_form("generate/new.html", form, project=project, kept=kept.shown,
                       quote=budgets.quote(owner_id(), current_app.config["MOCKUP_ENGINE"]),
                       character_images={character.id: len(character.images) for character in project.characters})


def _status_context(generation_id: str) -> dict:
    """Everything the status fragment shows; the page and the fragment route render the same thing."""
    generation = generations.get_generation(owner_id(), generation_id)
    now, position = utcnow(), generations.queue_position(generation)
    elapsed = now - generation.started_at if generation.status == "running" and generation.started_at else None
    return {
        "generation": generation,
        "queue_position": position,
        "elapsed": elapsed,
        "now": now,
        "estimate": estimates.estimate(generation, position, now),
        "saved": history.saved_image_ids(owner_id(), [image.id for image in generation.images]),
        "note_form": NoteForm(formdata=None),
        "failure": engine_error(generation.error_code) if generation.status == "failed" else None,
        "allowed": access.allowed_actions(access.role_of(owner_id(), generation.project)),
    }


@bp.get("/generations/<generation_id>")
@login_required
def generation(generation_id: str):
    context = _status_context(generation_id)
    return render_template("generate/generation.html", project=context["generation"].project, **context)


@bp.get("/generations/<generation_id>/status")
@login_required
@limiter.exempt  # polled every few seconds while a job runs
def status(generation_id: str):
    return render_template("generate/_status.html", **_status_context(generation_id))


@bp.get("/generations/<generation_id>/<any(source, character, texture):kind>")
@login_required
@limiter.exempt
def input_image(generation_id: str, kind: str):
    """The images a generation was made from (the character is the copy taken for this run)."""
    rel = getattr(generations.get_generation(owner_id(), generation_id), INPUT_PATHS[kind])
    return send_stored(rel, stored_type(rel), immutable=True)


@bp.get("/generations/<generation_id>/views/<int:index>")
@login_required
@limiter.exempt
def character_view(generation_id: str, index: int):
    """One picture of the character sheet a generation sent (copied for this run), in the order sent."""
    views = generations.get_generation(owner_id(), generation_id).views
    if index >= len(views):
        abort(404)
    return send_stored(views[index]["path"], stored_type(views[index]["path"]))


@bp.get("/generations/<generation_id>/thumbnail")
@login_required
@limiter.exempt
def thumbnail(generation_id: str):
    """The generation's picture in lists: its first candidate, or what it was made from."""
    return send_stored(thumbnails.generation_thumbnail(owner_id(), generation_id), MIME_TYPES["jpeg"])


@bp.get("/generations/<generation_id>/source/thumbnail")
@login_required
@limiter.exempt
def source_thumbnail(generation_id: str):
    """What the generation was made from, small (a row of a batch's contact sheet)."""
    return send_stored(thumbnails.source_thumbnail(owner_id(), generation_id), MIME_TYPES["jpeg"])


def _back_to(generation_id: str) -> str:
    return url_for("generate.generation", generation_id=generation_id)


@bp.post("/generations/<generation_id>/retry")
@login_required
def retry(generation_id: str):
    return perform(ButtonForm(), lambda: generations.retry_generation(owner_id(), generation_id),
                   _("The mockup is queued again."), _back_to(generation_id))


@bp.post("/generations/<generation_id>/cancel")
@login_required
def cancel(generation_id: str):
    return perform(ButtonForm(), lambda: generations.cancel_generation(owner_id(), generation_id),
                   _("The mockup was canceled."), _back_to(generation_id))


@bp.post("/generations/<generation_id>/select")
@login_required
def select(generation_id: str):
    form = SelectImageForm()
    return perform(form, lambda: image_jobs.select_image(owner_id(), generation_id, form.image_id.data or ""),
                   _("Candidate selected."), _back_to(generation_id))
