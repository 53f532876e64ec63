"""The admins' pages under /admin: accounts (create, invite, admin or not, disable, budget, password
links) and the month's usage. Everyone else gets 403."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import login_manager
from ..forms import AccountFlagsForm, BudgetForm, ButtonForm, CreateUserForm, InviteForm
from ..services import accounts, paging, storage_usage, usage, users
from .common import owner_id, perform, run_form

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    accounts.require_admin(owner_id())  # Forbidden: the 403 page
    return None


def _users_page(status: int = 200, **context):
    forms = {"create_form": CreateUserForm(formdata=None), "invite_form": InviteForm(formdata=None)}
    forms.update(context)
    found = users.list_users(owner_id(), paging.from_args(request.args))
    return render_template("admin/users.html", users=found, **forms), status


@bp.get("/users")
def index():
    return _users_page()


@bp.post("/users")
def create_user():
    form = CreateUserForm()
    done = run_form(form, lambda: users.create_user(owner_id(), form.email.data, form.name.data,
                                                    form.password.data, is_admin=form.is_admin.data))
    if done:
        flash(_("Account created for %(email)s.", email=done.value.email), "success")
        return redirect(url_for("admin.index"), 303)
    return _users_page(form.status, create_form=form)


@bp.post("/invites")
def invite():
    """The link is shown once, on this page: only its hash is kept."""
    form = InviteForm()
    done = run_form(form, lambda: users.invite(owner_id(), form.email.data or None))
    if done:
        link = url_for("auth.register", invite=done.value.code, _external=True)
        return _users_page(issued={"kind": "invite", "url": link, "issued": done.value})
    return _users_page(form.status, invite_form=form)


@bp.post("/users/<user_id>")
def update_user(user_id: str):
    form = AccountFlagsForm()
    return perform(form, lambda: users.update_user(owner_id(), user_id, **form.flags()),
                   _("Account updated."), url_for("admin.index"))


@bp.post("/users/<user_id>/budget")
def set_budget(user_id: str):
    form = BudgetForm()
    return perform(form, lambda: users.update_user(owner_id(), user_id, monthly_budget_usd=form.budget()),
                   _("Budget saved."), url_for("admin.index"))


@bp.post("/users/<user_id>/reset")
def reset_link(user_id: str):
    form = ButtonForm()
    done = run_form(form, lambda: users.issue_password_reset(owner_id(), user_id))
    if done is None:
        return redirect(url_for("admin.index"), 303)
    link = url_for("auth.reset_password", code=done.value.code, _external=True)
    return _users_page(issued={"kind": "reset", "url": link, "issued": done.value})


@bp.get("/usage")
def month_usage():
    found = usage.month_usage(owner_id(), request.args.get("month"), page=paging.from_args(request.args))
    return render_template("admin/usage.html", usage=found, storage=storage_usage.storage_of(owner_id()))
