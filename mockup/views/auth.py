"""Sign-up, sign-in and sign-out, under /auth."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth_session import sign_in, sign_out
from ..forms import LoginForm, RegisterForm, ResetPasswordForm
from ..security import limit_failed_logins
from ..services import accounts
from .common import redirect_to_next, render_form, run_form, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("projects.index"))
    form = RegisterForm(invite_code=request.args.get("invite", ""))
    done = run_form(form, lambda: accounts.register(form.email.data, form.password.data, form.name.data,
                                                    invite_code=form.invite_code.data or None))
    if done:
        sign_in(done.value)
        flash(_("Welcome, %(name)s! Start with a project.", name=done.value.name), "success")
        return redirect(url_for("projects.index"), 303)
    return render_form("auth/register.html", form, mode=current_app.config["REGISTRATION"],
                       first_account=accounts.installation_is_empty())


@bp.route("/reset/<code>", methods=["GET", "POST"])
def reset_password(code: str):
    """Set a new password with an admin's one-use link (it ends every sign-in of the account)."""
    accounts.check_reset_link(code)
    form = ResetPasswordForm()
    if run_form(form, lambda: accounts.reset_password(code, form.new_password.data)):
        flash(_("Your new password is set. Sign in with it."), "success")
        return redirect(url_for("auth.login"), 303)
    return render_form("auth/reset.html", form)


@bp.route("/login", methods=["GET", "POST"])
@limit_failed_logins
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and not form.is_submitted():
        return redirect_to_next("projects.index")
    done = run_form(form, lambda: accounts.authenticate(form.email.data, form.password.data))
    if done and done.value is not None:
        sign_in(done.value)
        return redirect(safe_next(form.next.data) or url_for("projects.index"), 303)
    if done:
        # One message for a wrong email and a wrong password, so the form does not reveal who has an account.
        form.form_errors.append(_("The email or password is not correct."))
        form.status = 422
    return render_form("auth/login.html", form)


@bp.post("/logout")
@login_required
def logout():
    sign_out(current_user._get_current_object())
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"), 303)

