"""The queue page under /queue: your jobs with their place in the queue."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from ..services import queue
from .common import owner_id

bp = Blueprint("queue", __name__, url_prefix="/queue")


@bp.get("")
@login_required
def index():
    """Your jobs with their place in the queue (an admin sees everyone's, and the totals)."""
    return render_template("queue/index.html", entries=queue.queue_for(owner_id()), totals=queue.totals_for(owner_id()))
