"""One generated image under /images: its page, its files and downloads (the 2K and transparent ones
made by a background job the first time), editing a region, saving it to the history, reviewing it and
commenting on it, deleting it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, gettext as _
from flask_login import login_required

from ..errors import Unavailable
from ..extensions import limiter
from ..forms import ButtonForm, CommentForm, EditForm, NoteForm, ReviewForm
from ..http.files import send_stored
from ..http.retry import retry_after
from ..imaging.formats import MIME_TYPES
from ..models import JOB_CUTOUT, JOB_UPSCALE
from ..services import access, edits, history, image_jobs, images, paging, review, submissions
from ..services.access import Permission
from .common import owner_id, perform, render_form, run_form, uploaded
from .gone import watch

bp = Blueprint("images", __name__, url_prefix="/images")
watch(bp)  # a deleted image's old links and buttons lead back to its generation

# The prepared versions of an image: each made by a background job the first time it is asked for.
VARIANTS = {"2k": JOB_UPSCALE, "transparent": JOB_CUTOUT}


def _generation_page(generation_id: str) -> str:
    return url_for("generate.generation", generation_id=generation_id)


def _image_context(image_id: str, comment_form: CommentForm | None = None) -> dict:
    """What an image's page shows: the image, the chain of edits that led to it, the edits made from it,
    its review and comments, and what the caller's role lets them do."""
    chain = edits.lineage(owner_id(), image_id)
    shown = chain[-1]
    project = shown.generation.project
    role = access.role_of(owner_id(), project)
    return {
        "image": shown, "generation": shown.generation, "project": project,
        "chain": chain, "edits": edits.edits_of(owner_id(), shown.id),
        "saved": history.saved_image_ids(owner_id(), [shown.id]), "note_form": NoteForm(formdata=None),
        "role": role, "allowed": access.allowed_actions(role),
        "comments": review.list_comments(owner_id(), shown.id,
                                         paging.PageRequest(cursor=request.args.get("comments_cursor"))),
        "review_form": ReviewForm(formdata=None, state=shown.review_state),
        "comment_form": comment_form or CommentForm(formdata=None),
    }


@bp.get("/<image_id>")
@login_required
def detail(image_id: str):
    return render_template("images/detail.html", form=EditForm(formdata=None), **_image_context(image_id))


@bp.post("/<image_id>/review")
@login_required
def set_review(image_id: str):
    images.get_image(owner_id(), image_id, Permission.REVIEW)  # the role is checked before the form
    form = ReviewForm()
    return perform(form, lambda: review.set_review(owner_id(), image_id, form.state.data, form.comment.data),
                   _("Review saved."), url_for("images.detail", image_id=image_id))


@bp.post("/<image_id>/comments")
@login_required
def add_comment(image_id: str):
    """A comment, pinned to the box drawn on the image if there is one; on a refusal the page again."""
    images.get_image(owner_id(), image_id, Permission.COMMENT)  # the role is checked before the form
    form = CommentForm()
    if run_form(form, lambda: review.add_comment(owner_id(), image_id, form.body.data, form.region())):
        flash(_("Comment added."), "success")
        return redirect(url_for("images.detail", image_id=image_id) + "#comments", 303)
    page = render_template("images/detail.html", form=EditForm(formdata=None), **_image_context(image_id, form))
    return page, form.status, form.headers


@bp.post("/<image_id>/comments/<comment_id>/delete")
@login_required
def delete_comment(image_id: str, comment_id: str):
    return perform(ButtonForm(), lambda: review.delete_comment(owner_id(), comment_id, image_id),
                   _("Comment deleted."), url_for("images.detail", image_id=image_id) + "#comments")


@bp.post("/<image_id>/edit")
@login_required
def edit(image_id: str):
    """The region editor's form: the instruction and the painted mask; on success the new edit's page."""
    shown = images.get_image(owner_id(), image_id, Permission.EDIT)
    form = EditForm()
    made = form.is_submitted() and submissions.made_by(owner_id(), form.submission.data)
    if made:  # the same form sent again opens the edit it made
        return redirect(_generation_page(made.id), 303)
    done = run_form(form, lambda: edits.submit_edit(
        owner_id(), shown.generation_id, shown.id, form.prompt.data, mask_png=uploaded(form.mask),
        submission=form.submission.data))
    if done:
        return redirect(_generation_page(done.value.id), 303)
    return render_form("images/detail.html", form, **_image_context(image_id))


@bp.get("/<image_id>/file")
@login_required
@limiter.exempt
def file(image_id: str):
    return send_stored(images.get_image(owner_id(), image_id).path, MIME_TYPES["png"], immutable=True)


@bp.get("/<image_id>/thumbnail")
@login_required
@limiter.exempt
def thumbnail(image_id: str):
    return send_stored(images.get_image(owner_id(), image_id).thumbnail_path, MIME_TYPES["jpeg"], immutable=True)


@bp.get("/<image_id>/download")
@login_required
def download(image_id: str):
    """`?format=png|jpeg|webp`, sent as an attachment named after project, mode, generation and candidate."""
    file = images.download(owner_id(), image_id, request.args.get("format", "png"))
    return send_stored(file.path, file.mimetype, download_name=file.filename)


@bp.get("/<image_id>/download/<variant>")
@login_required
def download_variant(image_id: str, variant: str):
    """The 2K or transparent file. Until it exists: a page that refreshes itself (no script needed), or
    with `?check=1` the status fragment static/app.js polls to show progress on the button."""
    if variant not in VARIANTS:
        abort(404)
    checking = request.args.get("check") == "1"
    try:
        result = image_jobs.download_result(owner_id(), image_id, VARIANTS[variant], request.args.get("format", "png"))
    except Unavailable as failure:
        if checking:
            return _download_status("failed", 503, message=gettext(failure.message))
        raise
    if isinstance(result, image_jobs.Pending):
        if checking:
            return _download_status("processing", 202, retry_after(result.retry_after))
        page = render_template("images/preparing.html", image=images.get_image(owner_id(), image_id), variant=variant)
        return page, 202, retry_after(result.retry_after)
    if checking:
        return _download_status("ready", 200)
    return send_stored(result.path, result.mimetype, download_name=result.filename)


def _download_status(status: str, code: int, headers: dict[str, str] | None = None, message: str = ""):
    return render_template("images/_download_status.html", status=status, message=message), code, headers or {}


@bp.post("/<image_id>/history")
@login_required
def save_to_history(image_id: str):
    form = NoteForm()
    # Looked up first so that someone else's image is a 404 (and a viewer's request a 403) before the
    # note is even validated, and so that the generation page is known as the place to go back to.
    generation_id = images.get_image(owner_id(), image_id, Permission.EDIT).generation_id
    return perform(form, lambda: history.save_to_history(owner_id(), image_id, form.note.data or ""),
                   lambda saved: _("Saved to the project history.") if saved[1]
                   else _("This image is already in the project history."),
                   _generation_page(generation_id))


@bp.post("/<image_id>/delete")
@login_required
def delete(image_id: str):
    # The image's own page is gone afterwards, so the way back is always its generation's page.
    generation_id = images.get_image(owner_id(), image_id, Permission.EDIT).generation_id
    return perform(ButtonForm(), lambda: images.delete_image(owner_id(), image_id),
                   _("Image deleted."), _generation_page(generation_id))
