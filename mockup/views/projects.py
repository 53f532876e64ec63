"""Projects: the list, one project's overview, editing and deleting."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..forms import ButtonForm, ProjectForm
from ..services import generations, projects
from ..services.access import Permission
from .common import owner_id, render_form, run_form

bp = Blueprint("projects", __name__)


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
    items = projects.list_projects(owner_id())
    counts = projects.image_counts([project.id for project in items])
    return render_form("projects/index.html", form, projects=items, image_counts=counts)


@bp.get("/projects/<project_id>")
@login_required
def detail(project_id: str):
    project = projects.get_project(owner_id(), project_id)
    recent = generations.recent_generations(owner_id(), project_id, limit=12)
    return render_template("projects/detail.html", project=project, generations=recent)


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
