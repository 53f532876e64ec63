"""The gallery under /gallery: every image of the projects you can see, filtered and paged, with a
selection of images to act on together (the selection page lists what was ticked)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from ..models import REVIEW_STATES
from ..services import gallery, paging
from ..services.generations import MODES
from .common import owner_id

bp = Blueprint("gallery", __name__, url_prefix="/gallery")


@bp.get("")
@login_required
def index():
    """A page of images newest first; `?project=&character=&mode=&review=&from=&to=` filter it and
    `?cursor=` (the "More images" link) reads the next page."""
    wanted = gallery.filter_from(request.args)
    found = gallery.gallery(owner_id(), wanted, paging.from_args(request.args))
    return render_template("gallery/index.html", page=found, wanted=wanted, choices=gallery.choices(owner_id()),
                           modes=MODES, review_states=REVIEW_STATES)


@bp.post("/selection")
@login_required
def selection():
    """The ticked images (a form of `image_id` values, posted: a long selection does not fit a URL)."""
    return render_template("gallery/selection.html",
                           images=gallery.selected_images(owner_id(), request.form.getlist("image_id")))
