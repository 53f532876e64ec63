"""The queue page under /queue: your jobs with their place in the queue; its list is a fragment that
fetches itself again (static/app.js) while any job waits or runs."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from ..extensions import limiter
from ..services import queue
from .common import owner_id

bp = Blueprint("queue", __name__, url_prefix="/queue")


@bp.get("")
@login_required
def index():
    """Your jobs with their place in the queue (an admin sees everyone's, and the totals)."""
    return render_template("queue/index.html", entries=queue.queue_for(owner_id()), totals=queue.totals_for(owner_id()))


@bp.get("/status")
@login_required
@limiter.exempt  # polled every few seconds while a job waits or runs
def status():
    """The list alone, for the page's polling."""
    return render_template("queue/_jobs.html", entries=queue.queue_for(owner_id()), totals=queue.totals_for(owner_id()))
