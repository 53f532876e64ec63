"""The `api` blueprint under /api (shared/API.md). Route modules attach their views to it; the package
__init__ imports them all."""
from __future__ import annotations

from flask import Blueprint

from ..extensions import csrf, limiter
from . import errors, security

# shared/API.md: 60 requests per minute per user (per address before login), counted over the whole API.
RATE_LIMIT = "60 per minute"

bp = Blueprint("api", __name__, url_prefix="/api")
# Bearer requests carry no ambient credential, so they need no CSRF token; cookie requests are checked
# by security.login_required instead.
csrf.exempt(bp)
limiter.shared_limit(RATE_LIMIT, scope="api", key_func=security.rate_limit_key)(bp)
errors.register(bp)
