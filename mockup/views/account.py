"""The account page under /account: language, password, what your files take, deleting the account."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth_session import sign_in, sign_out
from ..forms import DeleteAccountForm, LanguageForm, PasswordForm
from ..services import accounts, storage_usage
from .common import owner_id, run_form

bp = Blueprint("account", __name__, url_prefix="/account")


def _account_page(**failed):
    """The account page; `failed` holds the one form that was just refused, with its errors."""
    forms = {
        "language_form": LanguageForm(locale=current_user.locale or "", formdata=None),
        "password_form": PasswordForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
    }
    forms.update(failed)
    storage = storage_usage.storage_of(owner_id())
    return render_template("account/index.html", storage=storage, **forms), max(form.status for form in forms.values())


@bp.get("")
@login_required
def index():
    return _account_page()


@bp.post("/language")
@login_required
def language():
    form = LanguageForm()
    if run_form(form, lambda: accounts.set_locale(owner_id(), form.locale.data or None)):
        flash(_("Language saved."), "success")
        return redirect(url_for("account.index"), 303)
    return _account_page(language_form=form)


@bp.post("/password")
@login_required
def password():
    form = PasswordForm()
    user = current_user.user
    if run_form(form, lambda: accounts.change_password(user.id, form.current_password.data, form.new_password.data)):
        # Changing the password ended every sign-in, this one too; continue in a fresh one.
        sign_in(user)
        flash(_("Password changed. Every other sign-in of your account has been ended."), "success")
        return redirect(url_for("account.index"), 303)
    return _account_page(password_form=form)


@bp.post("/delete")
@login_required
def delete():
    form = DeleteAccountForm()
    if run_form(form, lambda: accounts.delete_account(owner_id(), form.password.data)):
        sign_out(current_user._get_current_object())
        flash(_("Your account and all its projects have been deleted."), "success")
        return redirect(url_for("auth.login"), 303)
    return _account_page(delete_form=form)
