"""Reading API request bodies: JSON objects and multipart forms, with errors that name the field.
Only shapes and types are checked here, by the operation's schema in the OpenAPI document
(contract.py); what the values mean is the services' business."""
from __future__ import annotations

from typing import Any, Mapping

from flask import request
from werkzeug.exceptions import BadRequest

from ..errors import Invalid, UnsupportedMedia
from ..http.guard import json_body
from ..services.paging import PageRequest, page_request
from . import contract

JSON = "application/json"
MULTIPART = "multipart/form-data"
TRUE, FALSE = "true", "false"


def json_object(*, optional: bool = False) -> dict[str, Any]:
    """The JSON object sent as the body; an empty body reads as {} where the whole body is optional."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    if not request.is_json:
        raise UnsupportedMedia("Send the body as JSON with 'Content-Type: application/json'.")
    body = json_body()
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object.")
    contract.check_body(body, JSON)
    return body


def text(data: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string field; None when it is absent and optional. An empty required field counts as absent."""
    value = data.get(name)
    if value is None or (required and value == ""):
        if required:
            raise Invalid(f"The field '{name}' is required.", fields={name: "Required."})
        return None
    if not isinstance(value, str):
        raise Invalid(f"The field '{name}' must be a string.", fields={name: "Must be a string."})
    return value


def require_multipart() -> None:
    """A multipart body whose fields match the operation's schema (a file field stands as its name)."""
    if request.mimetype != MULTIPART:
        raise UnsupportedMedia("Send this request as multipart/form-data.")
    fields = {**request.form.to_dict(), **{name: file.filename or "" for name, file in request.files.items()}}
    contract.check_body(fields, MULTIPART)


def flag(name: str, default: bool) -> bool:
    """A multipart true/false field (shared/API.md spells them `true` and `false`)."""
    value = request.form.get(name)
    if value is None or value == "":
        return default
    if value.lower() not in (TRUE, FALSE):
        raise Invalid(f"The field '{name}' must be true or false.", fields={name: "Use true or false."})
    return value.lower() == TRUE


def upload(name: str) -> bytes | None:
    """The bytes of a multipart file field, or None when it was not sent (or sent the way a browser sends
    "no file chosen": no file name and no bytes); the services judge the content."""
    file = request.files.get(name)
    if file is None:
        return None
    data = file.read()
    return data if data or file.filename else None


def boolean(data: Mapping[str, Any], name: str) -> bool | None:
    """An optional JSON true/false field; None when absent."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise Invalid(f"The field '{name}' must be true or false.", fields={name: "Use true or false."})
    return value


def number_or_null(data: Mapping[str, Any], name: str, absent: Any) -> Any:
    """An optional JSON number field that may be null; `absent` when the field is not sent at all."""
    if name not in data:
        return absent
    value = data[name]
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise Invalid(f"The field '{name}' must be a number or null.", fields={name: "Use a number or null."})
    return value


def page() -> PageRequest:
    """The `limit` and `cursor` of a list operation (shared/API.md "Lists are paged"), checked against
    the operation's query parameters in the document; the cursor itself is checked where it is used."""
    return page_request(contract.query("limit"), contract.query("cursor"))
