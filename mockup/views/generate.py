"""Making mockups: the generate form, a generation's page with its self-refreshing status fragment, and
the generated images (view, select, download, delete, edit a region)."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from ..errors import Processing, Unavailable
from ..extensions import limiter
from ..forms import ButtonForm, EditForm, GenerateForm, NoteForm, SelectImageForm
from ..imaging.formats import MIME_TYPES
from ..models import JOB_CUTOUT, JOB_UPSCALE, utcnow
from ..services import edits, generations, history, image_jobs, images, projects
from ..services import queue as queue_service
from .common import owner_id, perform, render_form, run_form, send_stored, stored_type, uploaded
from .messages import engine_error, translate

bp = Blueprint("generate", __name__)

INPUT_PATHS = {"source": "source_path", "character": "character_path", "texture": "texture_path"}


@bp.route("/projects/<project_id>/generate", methods=["GET", "POST"])
@login_required
def new(project_id: str):
    project = projects.get_project(owner_id(), project_id)
    form = GenerateForm().offer_characters(project.characters)
    done = run_form(form, lambda: generations.submit_generation(
        owner_id(), project_id, mode=form.mode.data, source_image=uploaded(form.source_image),
        character_id=form.character_id.data or None, character_image=uploaded(form.character_image),
        texture_image=uploaded(form.texture_image), prompt=form.prompt.data,
        preserve_structure=form.preserve_structure.data,
        transparent_background=form.transparent_background.data,
    ))
    if done:
        return redirect(url_for("generate.generation", generation_id=done.value.id), 303)
    return render_form("generate/new.html", form, project=project)


def _status_context(generation_id: str) -> dict:
    """Everything the status fragment shows; the page and the fragment route render the same thing."""
    generation = generations.get_generation(owner_id(), generation_id)
    elapsed = utcnow() - generation.started_at if generation.status == "running" and generation.started_at else None
    return {
        "generation": generation,
        "queue_position": generations.queue_position(generation),
        "elapsed": elapsed,
        "saved": history.saved_image_ids(owner_id(), [image.id for image in generation.images]),
        "note_form": NoteForm(formdata=None),
        "failure": engine_error(generation.error_code) if generation.status == "failed" else None,
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
    return send_stored(rel, stored_type(rel))


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


def _image_context(image_id: str) -> dict:
    """What an image's page shows: the image, the chain of edits that led to it, the edits made from it."""
    chain = edits.lineage(owner_id(), image_id)
    shown = chain[-1]
    return {
        "image": shown, "generation": shown.generation, "project": shown.generation.project,
        "chain": chain, "edits": edits.edits_of(owner_id(), shown.id),
        "saved": history.saved_image_ids(owner_id(), [shown.id]), "note_form": NoteForm(formdata=None),
    }


@bp.get("/images/<image_id>")
@login_required
def image(image_id: str):
    return render_template("generate/image.html", form=EditForm(formdata=None), **_image_context(image_id))


@bp.post("/images/<image_id>/edit")
@login_required
def edit(image_id: str):
    """The region editor's form: the instruction and the painted mask; on success the new edit's page."""
    shown = images.get_image(owner_id(), image_id)
    form = EditForm()
    done = run_form(form, lambda: edits.submit_edit(
        owner_id(), shown.generation_id, shown.id, form.prompt.data, mask_png=uploaded(form.mask)))
    if done:
        return redirect(url_for("generate.generation", generation_id=done.value.id), 303)
    return render_form("generate/image.html", form, **_image_context(image_id))


@bp.get("/images/<image_id>/file")
@login_required
@limiter.exempt
def image_file(image_id: str):
    return send_stored(images.get_image(owner_id(), image_id).path, MIME_TYPES["png"])


@bp.get("/images/<image_id>/thumbnail")
@login_required
@limiter.exempt
def image_thumbnail(image_id: str):
    return send_stored(images.get_image(owner_id(), image_id).thumbnail_path, MIME_TYPES["jpeg"])


@bp.get("/images/<image_id>/download")
@login_required
def download(image_id: str):
    """`?format=png|jpeg|webp`, sent as an attachment named after project, mode, generation and candidate."""
    file = images.download(owner_id(), image_id, request.args.get("format", "png"))
    return send_stored(file.path, file.mimetype, download_name=file.filename)


@bp.get("/queue")
@login_required
def queue():
    """Your jobs with their place in the queue (an admin sees everyone's, and the totals)."""
    return render_template("generate/queue.html", entries=queue_service.queue_for(owner_id()),
                           totals=queue_service.totals_for(owner_id()))


# The prepared versions of an image: each made by a background job the first time it is asked for.
VARIANTS = {"2k": JOB_UPSCALE, "transparent": JOB_CUTOUT}


@bp.get("/images/<image_id>/download/<variant>")
@login_required
def download_variant(image_id: str, variant: str):
    """The 2K or transparent file. Until it exists: a page that refreshes itself (no script needed), or
    with `?check=1` a JSON status that static/app.js polls to show progress on the button."""
    if variant not in VARIANTS:
        abort(404)
    checking = request.args.get("check") == "1"
    try:
        file = image_jobs.download_result(owner_id(), image_id, VARIANTS[variant], request.args.get("format", "png"))
    except Processing as pending:
        if checking:
            return jsonify(status="processing"), 202, {"Retry-After": str(pending.retry_after)}
        image = images.get_image(owner_id(), image_id)
        return render_template("generate/preparing.html", image=image, variant=variant), 202
    except Unavailable as failure:
        if checking:
            return jsonify(status="failed", message=translate(failure.message)), 503
        raise
    if checking:
        return jsonify(status="ready")
    return send_stored(file.path, file.mimetype, download_name=file.filename)


@bp.post("/images/<image_id>/delete")
@login_required
def delete_image(image_id: str):
    # The image's own page is gone afterwards, so the way back is always its generation's page.
    generation_id = images.get_image(owner_id(), image_id).generation_id
    return perform(ButtonForm(), lambda: images.delete_image(owner_id(), image_id),
                   _("Image deleted."), _back_to(generation_id))
