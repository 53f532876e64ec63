"""The sentences services and image intake raise for people are marked N_ where they are written, so
`pybabel extract -F babel.cfg` puts them in the catalog (tests/test_views_i18n.py then checks that each
has its Korean translation)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mockup.errors import ServiceError

ROOT = Path(__file__).resolve().parents[1]
# What the HTML pages show; the API-only tokens service and the engines' details stay English.
SOURCES = [
    *(ROOT / "mockup" / "services" / f"{name}.py"
      for name in ("accounts", "projects", "characters", "generations", "images", "history", "uploads", "edits",
                   "users", "usage", "budgets")),
    *(ROOT / "mockup" / "imaging" / f"{name}.py" for name in ("intake", "regions", "formats", "upscale")),
]


def error_classes(root: type) -> set[str]:
    return {root.__name__} | {name for sub in root.__subclasses__() for name in error_classes(sub)}


ERRORS = error_classes(ServiceError)


def unmarked(path: Path) -> list[str]:
    """Plain string literals given to the project's exceptions: messages, and the values of `fields`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERRORS:
            values = node.args[:1] + [value for keyword in node.keywords if keyword.arg == "fields"
                                      and isinstance(keyword.value, ast.Dict) for value in keyword.value.values]
            found += [f"line {value.lineno}: {value.value}" for value in values
                      if isinstance(value, ast.Constant) and isinstance(value.value, str)]
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.name)
def test_messages_for_people_are_marked_where_written(path):
    assert unmarked(path) == []


def test_the_check_sees_an_unmarked_message(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('raise Invalid("Plain.", fields={"name": N_("Marked.")})\n')
    assert unmarked(sample) == ["line 1: Plain."]
