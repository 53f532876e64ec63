"""Flask-Login wiring. The session cookie carries a LoginSession id rather than the user id, so that
logging out or changing the password ends the sign-in on the server, not only in the browser."""
from __future__ import annotations

from flask import Flask, session
from flask_login import LoginManager, login_user, logout_user
from flask_babel import lazy_gettext as _l

from .models import User
from .services import accounts


class SignedInUser:
    """The user of one sign-in, as Flask-Login sees it."""

    def __init__(self, user: User, session_id: str) -> None:
        self.user = user
        self.session_id = session_id

    def __getattr__(self, name):
        return getattr(self.user, name)

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_id


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.login_view = "auth.login"
    manager.login_message = _l("Please log in to continue.")
    manager.session_protection = "basic"

    @manager.user_loader
    def load_user(session_id: str) -> SignedInUser | None:
        user = accounts.user_for_session(session_id)
        return SignedInUser(user, session_id) if user else None


def sign_in(user: User, remember: bool = False) -> None:
    """Start a fresh session: nothing from before the login survives (no session fixation)."""
    session.clear()
    login_user(SignedInUser(user, accounts.start_session(user.id)), remember=remember)


def sign_out(current) -> None:
    accounts.end_session(current.session_id)
    logout_user()
    session.clear()
