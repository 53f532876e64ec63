"""Projects: the list, one project's overview, editing and deleting."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..forms import ButtonForm, MemberForm, ProjectForm, RoleForm
from ..models import REVIEW_STATES
from ..services import access, characters, generations, members, paging, projects, review
from ..services.access import Permission
from .common import apply_service_error, owner_id, perform, render_form, run_form

bp = Blueprint("projects", __name__)

# The project page shows the first characters (all of them are on the characters page) and its mockups
# a page at a time, with "load more".
CHARACTER_STRIP, MOCKUPS_PER_PAGE = 12, 24


@bp.get("/")
def home():
    return redirect(url_for("projects.index" if current_user.is_authenticated else "auth.login"))


@bp.route("/projects", methods=["GET", "POST"])
@login_required
def index():
    form = ProjectForm()
    done = run_form(form, lambda: projects.create_project(owner_id(), form.name.data, form.description.data))
    if done:
        flash(_("Project created."), "success")
        return redirect(url_for("projects.detail", project_id=done.value.id), 303)
    found = projects.list_projects(owner_id(), paging.from_args(request.args))
    counts = projects.image_counts([project.id for project in found.items])
    return render_form("projects/index.html", form, projects=found, image_counts=counts,
                       roles=access.roles_in(owner_id(), found.items))


def _detail_page(project_id: str, member_form: MemberForm | None = None):
    """The project's page: its characters, its mockups (or, with `?review=<state>`, its images in that
    review state) and its members, with what the caller's role allows them to do."""
    project, role = access.project_for(owner_id(), project_id)
    state = request.args.get("review")
    context = {
        "project": project, "role": role, "allowed": access.allowed_actions(role),
        "characters": characters.list_characters(owner_id(), project_id, paging.PageRequest(CHARACTER_STRIP)),
        "members": members.list_members(owner_id(), project_id,
                                        paging.PageRequest(cursor=request.args.get("members_cursor"))),
        "review_states": REVIEW_STATES, "review_filter": state if state in REVIEW_STATES else None,
        "member_form": member_form or MemberForm(formdata=None), "role_form": RoleForm(formdata=None),
    }
    page = paging.from_args(request.args, MOCKUPS_PER_PAGE)
    if context["review_filter"]:
        context["reviewed"] = review.images_in_state(owner_id(), project_id, state, page)
    else:
        context["generations"] = found = generations.recent_generations(owner_id(), project_id, page)
        context["thumbnails"] = generations.first_images([generation.id for generation in found.items])
    status = member_form.status if member_form else 200
    return render_template("projects/detail.html", **context), status


@bp.get("/projects/<project_id>")
@login_required
def detail(project_id: str):
    return _detail_page(project_id)


@bp.post("/projects/<project_id>/members")
@login_required
def add_member(project_id: str):
    """The owner adds a colleague; a mistyped address is a form error, not a missing page."""
    access.project_for(owner_id(), project_id, Permission.MANAGE)  # the role is checked before the form
    form = MemberForm()
    try:
        done = run_form(form, lambda: members.add_member(owner_id(), project_id, form.email.data, form.role.data))
    except members.UnknownUser as unknown:
        apply_service_error(form, unknown)
        form.status, done = 422, None  # the page exists; only the address in the form is wrong
    if done:
        flash(_("%(name)s was added to the project.", name=done.value.user.name), "success")
        return redirect(url_for("projects.detail", project_id=project_id) + "#members", 303)
    return _detail_page(project_id, form)


@bp.post("/projects/<project_id>/members/<user_id>/role")
@login_required
def change_member(project_id: str, user_id: str):
    access.project_for(owner_id(), project_id, Permission.MANAGE)  # the role is checked before the form
    form = RoleForm()
    return perform(form, lambda: members.change_role(owner_id(), project_id, user_id, form.role.data),
                   _("The role was changed."), url_for("projects.detail", project_id=project_id) + "#members")


@bp.post("/projects/<project_id>/members/<user_id>/remove")
@login_required
def remove_member(project_id: str, user_id: str):
    """The owner removes a member, or a member leaves (then the project is no longer theirs to see)."""
    leaving = user_id == owner_id()
    after = url_for("projects.index") if leaving else url_for("projects.detail", project_id=project_id) + "#members"
    return perform(ButtonForm(), lambda: members.remove_member(owner_id(), project_id, user_id),
                   _("You left the project.") if leaving else _("The member was removed."), after)


@bp.route("/projects/<project_id>/edit", methods=["GET", "POST"])
@login_required
def edit(project_id: str):
    project = projects.get_project(owner_id(), project_id, Permission.EDIT)
    form = ProjectForm(obj=project)
    done = run_form(form, lambda: projects.update_project(
        owner_id(), project_id, form.name.data, form.description.data))
    if done:
        flash(_("Project saved."), "success")
        return redirect(url_for("projects.detail", project_id=project_id), 303)
    return render_form("projects/edit.html", form, project=project)


@bp.route("/projects/<project_id>/delete", methods=["GET", "POST"])
@login_required
def delete(project_id: str):
    """GET asks for confirmation; POST deletes the project with its characters, images and files."""
    project = projects.get_project(owner_id(), project_id, Permission.MANAGE)
    name, form = project.name, ButtonForm()
    if run_form(form, lambda: projects.delete_project(owner_id(), project_id)):
        flash(_("The project “%(name)s” has been deleted.", name=name), "success")
        return redirect(url_for("projects.index"), 303)
    return render_form("projects/delete.html", form, project=project)
