"""The queue page under /queue: your jobs with their place in the queue; its list is a fragment that
fetches itself again (static/app.js) while any job waits or runs."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from ..extensions import limiter
from ..services import paging, queue
from .common import owner_id

bp = Blueprint("queue", __name__, url_prefix="/queue")


@bp.get("")
@login_required
def index():
    """Your jobs with their place in the queue (an admin sees everyone's, and the totals)."""
    return render_template("queue/index.html", **_jobs())


@bp.get("/status")
@login_required
@limiter.exempt  # polled every few seconds while a job waits or runs
def status():
    """The list alone, for the page's polling (the same page of it: the cursor comes along)."""
    return render_template("queue/_jobs.html", **_jobs())


def _jobs() -> dict:
    """A page of the jobs, newest first, and the totals for admins."""
    return {"entries": queue.queue_for(owner_id(), paging.from_args(request.args)),
            "totals": queue.totals_for(owner_id()), "cursor": request.args.get("cursor")}
