"""Sign-up, sign-in, sign-out and the account page."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth_session import sign_in, sign_out
from ..forms import DeleteAccountForm, LanguageForm, LoginForm, PasswordForm, RegisterForm
from ..security import limit_failed_logins
from ..services import accounts
from .common import layout_context, owner_id, redirect_to_next, render_form, run_form, safe_next

bp = Blueprint("auth", __name__)
bp.app_context_processor(layout_context)


@bp.route("/auth/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("projects.index"))
    form = RegisterForm()
    done = run_form(form, lambda: accounts.register(form.email.data, form.password.data, form.name.data))
    if done:
        sign_in(done.value)
        flash(_("Welcome, %(name)s! Start with a project.", name=done.value.name), "success")
        return redirect(url_for("projects.index"), 303)
    return render_form("auth/register.html", form)


@bp.route("/auth/login", methods=["GET", "POST"])
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


@bp.post("/auth/logout")
@login_required
def logout():
    sign_out(current_user._get_current_object())
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"), 303)


def _account_page(**failed):
    """The account page; `failed` holds the one form that was just refused, with its errors."""
    forms = {
        "language_form": LanguageForm(locale=current_user.locale or "", formdata=None),
        "password_form": PasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
    }
    forms.update(failed)
    return render_template("auth/account.html", **forms), max(form.status for form in forms.values())


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/language")
@login_required
def language():
    form = LanguageForm()
    if run_form(form, lambda: accounts.set_locale(owner_id(), form.locale.data or None)):
        flash(_("Language saved."), "success")
        return redirect(url_for("auth.account"), 303)
    return _account_page(language_form=form)


@bp.post("/account/password")
@login_required
def password():
    form = PasswordForm()
    user = current_user.user
    if run_form(form, lambda: accounts.change_password(user.id, form.current_password.data, form.new_password.data)):
        # Changing the password ended every sign-in, this one too; continue in a fresh one.
        sign_in(user)
        flash(_("Password changed. Every other sign-in of your account has been ended."), "success")
        return redirect(url_for("auth.account"), 303)
    return _account_page(password_form=form)


@bp.post("/account/delete")
@login_required
def delete_account():
    form = DeleteAccountForm()
    if run_form(form, lambda: accounts.delete_account(owner_id(), form.password.data)):
        sign_out(current_user._get_current_object())
        flash(_("Your account and all its projects have been deleted."), "success")
        return redirect(url_for("auth.login"), 303)
    return _account_page(delete_form=form)
