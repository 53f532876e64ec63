"""The `api` blueprint under /api (shared/API.md). Route modules attach their views to it; the package
__init__ imports them all."""
from __future__ import annotations

from flask import Blueprint

from ..extensions import csrf
from . import errors

bp = Blueprint("api", __name__, url_prefix="/api")
# Bearer requests carry no ambient credential, so they need no CSRF token; cookie requests are checked
# by security.login_required instead. The rate limit is the app-wide one (extensions.limiter).
csrf.exempt(bp)
errors.register(bp)
