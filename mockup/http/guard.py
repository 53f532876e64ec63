"""Input no route can store, refused once for every route (pages and API) before any view runs.

PostgreSQL cannot store a NUL character in text, and a lone surrogate (`"\\ud800"` in JSON) cannot be
encoded as UTF-8 at all; both used to surface as 500s from deep inside a query. JSON nested deeper than
any of our bodies only costs recursion. Ids have one shape (models.new_id: 32 lowercase hex digits), so a
path id of another shape names nothing and is a 404 before any query."""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from flask import g, request
from werkzeug.exceptions import NotFound

from ..errors import N_, Invalid, ServiceError

MAX_JSON_DEPTH = 32
ID_SHAPE = re.compile(r"[0-9a-f]{32}")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_TEXT = N_("Text may not contain NUL characters or unpaired surrogates.")
_PARSED = "_json_body"


class BadJson(ServiceError):
    """A body sent as JSON that is not JSON we read (400 BAD_REQUEST)."""


def json_body() -> Any:
    """The request's JSON body, parsed once per request, with its nesting limited; None when empty."""
    if _PARSED not in g:
        setattr(g, _PARSED, _parse(request.get_data(cache=True)))
    return getattr(g, _PARSED)


def _parse(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        body = json.loads(raw)
    except RecursionError:
        raise BadJson(N_("The JSON body is nested too deeply.")) from None
    except ValueError:  # UnicodeDecodeError included: the body is not UTF-8
        raise BadJson(N_("The body is not valid JSON.")) from None
    if _depth(body) > MAX_JSON_DEPTH:
        raise BadJson(N_("The JSON body is nested too deeply."))
    return body


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _json_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, text) for every key and string value of a parsed JSON body; `where` is a dotted path."""
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            yield where, key
            yield from _json_strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{path}.{index}" if path else str(index))


def _sent_strings() -> Iterator[tuple[str, str]]:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            yield name, value
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            yield key, key
            yield key, value
    if request.is_json:
        yield from _json_strings(json_body())


def refuse_unstorable_input() -> None:
    """before_request: a path id of the wrong shape is a 404; a NUL or lone surrogate anywhere in the
    path, the query, the form fields or the JSON body a 422 naming the field (an upload's file name is
    never stored, so it is not judged here). A request no route matched is left to its
    404 or 405."""
    if request.routing_exception is not None:
        return
    for name, value in (request.view_args or {}).items():
        if name.endswith("_id") and not ID_SHAPE.fullmatch(value):
            raise NotFound()
    for where, text in _sent_strings():
        if UNSTORABLE.search(text):
            raise Invalid(UNSTORABLE_TEXT, fields={_printable(where): UNSTORABLE_TEXT})


def _printable(name: str) -> str:
    """A field name fit to send back: the characters that could not be stored replaced."""
    return UNSTORABLE.sub("\ufffd", name)
