"""The words the pages show for stored values (a generation's or batch's status, a mode, a review state,
a member's role, the view a character's picture shows): English, marked for the catalog. A template translates only the one label it shows
(templates/_macros.html), where a table written in the template translated every label of it on each
call, seven translations per row of a list; the forms offer the same words as choices."""
from __future__ import annotations

from .errors import N_

GENERATION_STATUSES = {
    "queued": N_("Queued"), "running": N_("Running"), "succeeded": N_("Done"), "failed": N_("Failed"),
    "canceled": N_("Canceled"),
}
# A batch's status (services/batches.py): a generation's, or "partial" (finished, some did not succeed).
BATCH_STATUSES = {**GENERATION_STATUSES, "partial": N_("Partly done")}
MODES = {"ip-change": N_("IP change"), "sketch-to-real": N_("Sketch to real")}
REVIEW_STATES = {
    "none": N_("Not reviewed"), "in_review": N_("In review"), "approved": N_("Approved"),
    "changes_requested": N_("Changes requested"),
}
ROLES = {"owner": N_("Owner"), "editor": N_("Editor"), "reviewer": N_("Reviewer"), "viewer": N_("Viewer")}
# models.CHARACTER_VIEWS, in that order
VIEWS = {"front": N_("Front"), "side": N_("Side"), "back": N_("Back view"), "expression": N_("Expression"),
         "other": N_("Other view")}
