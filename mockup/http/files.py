"""Sending a stored file, the same way to pages and the API."""
from __future__ import annotations

import mimetypes

from flask import Response, abort, send_file

from .. import storage

IMMUTABLE_MAX_AGE = 365 * 24 * 3600  # seconds: a year, the longest max-age caches honour


def send_stored(rel: str | None, mimetype: str, download_name: str | None = None, *,
                immutable: bool = False) -> Response:
    """Send a file from DATA_DIR; a download when download_name is given. Only services hand us `rel`,
    after they checked the owner, so this never sees a path a user typed.

    Every answer has an ETag and answers a conditional request with 304. Caching is private: these are
    one team's designs, behind a sign-in, which a shared cache (a proxy, a CDN) must never keep or hand
    to someone else; the user's own browser may. `immutable` is for the URLs whose file never changes
    (an image's file and thumbnail, a generation's inputs, a character's original upload: a new picture
    is a new row with a new id): the browser keeps them a year without asking again, so a long list
    scrolls without a request per thumbnail. Anything else is revalidated every time (a cheap 304),
    because its file can change under the same URL (a character's picture in use, a queue thumbnail)."""
    if not storage.exists(rel):
        abort(404)
    response = send_file(
        storage.resolve(rel), mimetype=mimetype, as_attachment=download_name is not None,
        download_name=download_name, conditional=True,
    )
    response.cache_control.public = False
    response.cache_control.private = True
    if immutable:
        response.cache_control.max_age = IMMUTABLE_MAX_AGE
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    # nosniff and the sandboxing Content-Security-Policy of every non-HTML response come from
    # mockup/security.py, so a stored file opened directly can never run as a page.
    return response


def stored_type(rel: str | None) -> str:
    """The Content-Type of a stored file whose format varies (inputs are kept as JPEG or PNG, see
    services/uploads.store_source), read from the extension storage gave it when it encoded the file."""
    return mimetypes.guess_type(rel or "")[0] or "application/octet-stream"
