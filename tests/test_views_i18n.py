"""The Korean catalog is complete and compiled, and the sentences services send back are in it: they are
marked with N_() where they are written and translated where the HTML side shows them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from flask_babel import gettext

from mockup.errors import ServiceError
from mockup.security import FAILED_LOGIN_MESSAGE

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "mockup" / "translations" / "ko" / "LC_MESSAGES"
# The services the HTML pages call, image intake and mask decoding; the API-only tokens service is not
# shown here.
HTML_SOURCES = [
    *(ROOT / "mockup" / "services" / f"{name}.py"
      for name in ("accounts", "projects", "characters", "generations", "images", "history", "uploads", "edits",
                                "image_jobs", "exports", "batches")),
    ROOT / "mockup" / "imaging" / "intake.py",
    ROOT / "mockup" / "imaging" / "regions.py",
]
ERRORS = {cls.__name__ for cls in (ServiceError, *ServiceError.__subclasses__())}


def _plain(value):
    """Plural ids and strings come as lists or tuples depending on the reader."""
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _korean_po():
    with open(CATALOG / "messages.po", "rb") as handle:
        return read_po(handle, locale="ko")


def _korean_translated() -> set[str]:
    """The message ids the Korean catalog translates (not fuzzy, every plural form filled in)."""
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in _korean_po()
        if message.id and all(message.string if isinstance(message.string, tuple) else [message.string])
        and "fuzzy" not in message.flags
    }


def test_every_ui_string_has_a_korean_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "--quiet", "extract", "-F", str(ROOT / "babel.cfg"), "-o", str(pot), str(ROOT)])
    with open(pot, "rb") as handle:
        wanted = {message.id if isinstance(message.id, str) else message.id[0] for message in read_po(handle) if message.id}
    assert sorted(wanted - _korean_translated()) == [], "run pybabel update and translate the new strings"


def test_compiled_catalog_matches_the_po_file():
    def entries(catalog) -> dict:
        return {_plain(message.id): _plain(message.string) for message in catalog if message.id}

    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = entries(read_mo(handle))
    source = entries(_korean_po())
    assert compiled == source, "run pybabel compile -d mockup/translations"


def _literal_messages(path: Path) -> set[str]:
    """Literal sentences a service raises: first arguments of its exceptions, `fields` values and
    module constants ending in _MESSAGE (f-strings are checked by the forms instead)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERRORS:
            found |= {arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant)}
            for keyword in node.keywords:
                if keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
                    found |= {v.value for v in keyword.value.values if isinstance(v, ast.Constant)}
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            target = node.targets[0]
            is_constant = getattr(target, "id", "").endswith("_MESSAGE")
            is_field = isinstance(target, ast.Subscript) and getattr(target.value, "id", None) == "fields"
            if is_constant or is_field:
                found.add(node.value.value)
    return found


@pytest.mark.parametrize("path", HTML_SOURCES, ids=lambda path: path.name)
def test_service_messages_have_a_korean_translation(path):
    missing = _literal_messages(path) - _korean_translated()
    assert sorted(missing) == [], f"mark these with N_() where they are written and translate them: {missing}"


def _marked_messages() -> set[str]:
    """The literal first arguments of every N_() call in the package."""
    found: set[str] = set()
    for path in (ROOT / "mockup").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "N_":
                found |= {arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant)}
    return found


def test_every_marked_message_has_a_korean_translation():
    marked = _marked_messages()
    assert FAILED_LOGIN_MESSAGE in marked  # the scan finds the marks
    assert sorted(marked - _korean_translated()) == [], "run pybabel extract and update, and translate them"


def test_password_rule_messages_are_translated(app):
    from mockup.services.accounts import password_problem

    with app.test_request_context(headers={"Accept-Language": "ko"}):
        for password in ("short", "x" * 65, "가" * 25):
            problem = password_problem(password)
            assert gettext(problem) != problem
