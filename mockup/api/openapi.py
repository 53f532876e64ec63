"""/api/openapi.json: the OpenAPI 3.1 description of this API, a static file read once per process."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import jsonify
from flask.typing import ResponseReturnValue

from .blueprint import bp

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def document() -> dict:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(document())
