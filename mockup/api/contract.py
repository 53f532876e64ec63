"""Requests checked against the OpenAPI document the API publishes (api/openapi.json), so the document
and the server cannot drift: the operation is looked up from the matched route and method, its
requestBody schema validates the body (unknown fields, nulls, empty strings, types, formats, enums) and
its query parameters' schemas the query. A new operation in the document is covered without code."""
from __future__ import annotations

import re
from functools import cache
from typing import Any, Mapping

from flask import request
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from ..errors import Invalid, UnsupportedMedia
from .openapi import document

MISMATCH = "The request does not match the API description (/api/openapi.json)."
_FLASK_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_INTEGER = re.compile(r"-?[0-9]{1,12}")


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _operation_path() -> tuple[str, str]:
    """The document's path template and method of the route that matched this request."""
    return _FLASK_PARAM.sub(r"{\1}", request.url_rule.rule), request.method.lower()


@cache
def _validator(pointer: str) -> Draft202012Validator:
    """A validator for one schema of the document, read in place so its $refs resolve."""
    return Draft202012Validator({**document(), "$ref": pointer}, format_checker=FormatChecker())


def check_body(body: Mapping[str, Any], media_type: str) -> None:
    """Validate a parsed body against its operation's requestBody schema for `media_type`; a media type
    the operation does not document is a 415."""
    path, method = _operation_path()
    if media_type not in document()["paths"][path][method].get("requestBody", {}).get("content", {}):
        raise UnsupportedMedia(f"This operation does not take {media_type} (see /api/openapi.json).")
    _raise_if_invalid(_validator(_pointer("paths", path, method, "requestBody", "content", media_type, "schema")), body)


def query(name: str) -> Any:
    """One query parameter of the operation, checked against its schema; its default when not sent."""
    path, method = _operation_path()
    index, spec = next((index, spec) for index, spec in enumerate(document()["paths"][path][method]["parameters"])
                       if spec["name"] == name and spec["in"] == "query")
    if name not in request.args:
        return spec["schema"].get("default")
    value = _typed(request.args[name], spec["schema"], name)
    _raise_if_invalid(_validator(_pointer("paths", path, method, "parameters", str(index), "schema")), value, name)
    return value


def _typed(value: str, schema: Mapping[str, Any], name: str) -> Any:
    """A query string's text as the type its schema names: an integer parameter (`?limit=20`) is
    validated, and handed on, as a number."""
    if schema.get("type") != "integer":
        return value
    if not _INTEGER.fullmatch(value):
        raise Invalid(MISMATCH, fields={name: "Must be an integer."})
    return int(value)


def _raise_if_invalid(validator: Draft202012Validator, instance: Any, name: str | None = None) -> None:
    """Invalid naming every wrong field (`name` is the query parameter the instance is the value of)."""
    fields: dict[str, str] = {}
    for error in validator.iter_errors(instance):
        field, problem = _field(error, name)
        fields.setdefault(field, problem)  # the first problem of a field says the most (type before length)
    if fields:
        raise Invalid(MISMATCH, fields=fields)


def _field(error: ValidationError, name: str | None) -> tuple[str, str]:
    """(the field's dotted name, what is wrong with it) for one error."""
    where = [str(part) for part in error.absolute_path]
    if name:
        where.insert(0, name)
    if error.validator == "required":
        missing = next(field for field in error.validator_value if field not in error.instance)
        return ".".join([*where, missing]), "Required."
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return ".".join([*where, extra[0]]) if extra else ".".join(where) or "body", "Unknown field."
    return ".".join(where) or "body", _sentence(error)


def _sentence(error: ValidationError) -> str:
    rule, value = error.validator, error.validator_value
    if rule == "type":
        return f"Must be {'an' if value in ('object', 'integer', 'array') else 'a'} {value}."
    if rule == "minLength":
        return "Must not be empty." if value == 1 else f"Must be at least {value} characters."
    if rule == "maxLength":
        return f"Must be at most {value} characters."
    if rule == "enum":
        return "Must be one of: " + ", ".join(str(item) for item in value) + "."
    if rule == "pattern":
        blank = isinstance(error.instance, str) and not error.instance.strip()
        return "Must not be blank." if blank else "Does not have the expected form."
    if rule == "format":
        return f"Must be a valid {value}."
    return error.message
