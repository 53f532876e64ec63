"""The helpers that keep a long list's page fast (issue 14) give what the slow ones gave: `link` the
address url_for builds, the templates' _() and datetimeformat the words and dates of Flask-Babel, in the
reader's language, and the badges of mockup/labels.py translated."""
from __future__ import annotations

from datetime import datetime, timezone

import flask_babel
import pytest
from flask import Flask, url_for
from werkzeug.routing import AnyConverter, BaseConverter, IntegerConverter

from mockup import i18n, labels
from mockup.http.links import link
from mockup.models import CHARACTER_VIEWS, GENERATION_STATUSES, MEMBER_ROLES, REVIEW_STATES
from mockup.services.batches import BATCH_STATUSES
from mockup.services.generations import MODES

from .factories import create_character, create_project, finished_generation

PLAIN_ID = "0f3a9c2b7d5e4f61a8b9c0d1e2f3a4b5"
# Values that need escaping, or that a pattern's text replacement could get wrong.
AWKWARD = ["a b", "über", "x/y", "50%", "a?b=c&d", "", "zq90qz", "zq91qz"]  # the last two: the marks


def _value(converter: BaseConverter, text: str):
    """A value the converter takes: a number for int:, one of the words of any:, else the text."""
    if isinstance(converter, IntegerConverter):
        return 7
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[-1]
    return text


def _endpoints(app: Flask) -> list[tuple[str, dict[str, BaseConverter]]]:
    """Every endpoint with a variable part, and each variable's converter."""
    return [(rule.endpoint, dict(rule._converters)) for rule in app.url_map.iter_rules() if rule.arguments]


def test_link_gives_url_for_s_address_for_every_endpoint_with_values(app):
    endpoints = _endpoints(app)
    assert len(endpoints) > 40
    for prefix in ("", "/studio"):
        with app.test_request_context(base_url=f"http://lan.example{prefix}"):
            for endpoint, converters in endpoints:
                values = {name: _value(converter, PLAIN_ID) for name, converter in converters.items()}
                assert link(endpoint, **values) == url_for(endpoint, **values), endpoint
                # Each row gets its own values out of the pattern the first one made.
                other = {name: _value(converter, f"{PLAIN_ID[:-1]}9") for name, converter in converters.items()}
                assert link(endpoint, **other) == url_for(endpoint, **other), endpoint


@pytest.mark.parametrize("awkward", AWKWARD)
def test_link_escapes_as_url_for_does_values_that_need_it(app, awkward):
    with app.test_request_context():
        link("images.download", image_id=PLAIN_ID, format="png")  # the pattern exists before the odd value
        for values in ({"image_id": PLAIN_ID, "format": awkward}, {"image_id": awkward, "format": "png"}):
            if values["image_id"] == "":
                continue  # url_for refuses an empty path part; link is never given one
            assert link("images.download", **values) == url_for("images.download", **values)


def test_link_fills_several_values_of_one_address_in_their_places(app):
    with app.test_request_context():
        first = link("api.character_sheet_image", character_id="c1", character_image_id="i1")
        second = link("api.character_sheet_image", character_id="c2", character_image_id="i2")
        assert first == url_for("api.character_sheet_image", character_id="c1", character_image_id="i1")
        assert second == url_for("api.character_sheet_image", character_id="c2", character_image_id="i2")


def test_link_falls_back_where_a_converter_refuses_the_marker():
    app = Flask(__name__)
    app.add_url_rule("/pages/<int:number>", "page", lambda number: "")
    with app.test_request_context():
        assert link("page", number=12) == url_for("page", number=12) == "/pages/12"


MOMENTS = [datetime(2026, 3, 9, 18, 5, 7, tzinfo=timezone.utc), datetime(2026, 12, 31, 23, 59, 59)]  # aware, naive


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize("format", ["short", "medium", "long"])
def test_datetimeformat_writes_dates_as_flask_babel_does(app, language, format):
    with app.test_request_context(headers={"Accept-Language": language}):
        for moment in MOMENTS:
            assert i18n.format_datetime(moment, format) == flask_babel.format_datetime(moment, format)
        assert app.jinja_env.filters["datetimeformat"] is i18n.format_datetime


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_templates_translate_in_the_request_s_language(app, language):
    with app.test_request_context(headers={"Accept-Language": language}):
        rendered = app.jinja_env.from_string(
            '{{ _("Load more") }}|{{ ngettext("%(num)d image", "%(num)d images", 3) }}').render()
        wanted = flask_babel.gettext("Load more"), flask_babel.ngettext("%(num)d image", "%(num)d images", 3)
        assert rendered == "|".join(wanted)


def test_each_request_reads_its_own_language(app):
    """The translations are kept for one request only: the next one, in another language, gets its own."""
    template = app.jinja_env.from_string('{{ _("Load more") }}')
    seen = []
    for language in ("ko", "en", "ko"):
        with app.test_request_context(headers={"Accept-Language": language}):
            seen.append((template.render(), flask_babel.gettext("Load more")))
    assert [shown for shown, _ in seen] == [wanted for _, wanted in seen]
    assert seen[0][0] != seen[1][0]


def test_the_badges_of_a_korean_page_are_translated(app, client, auth):
    """A generation's status, its mode and the review filter chips, on the project page in Korean."""
    auth.register()
    project_id = create_project(client)
    finished_generation(app, client, project_id, create_character(client, project_id))
    page = client.get(f"/projects/{project_id}", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    with app.test_request_context(headers={"Accept-Language": "ko"}):
        wanted = [flask_babel.gettext(labels.GENERATION_STATUSES["succeeded"]),
                  flask_babel.gettext(labels.MODES["ip-change"]),
                  *(flask_babel.gettext(label) for label in labels.REVIEW_STATES.values())]
    tables = labels.BATCH_STATUSES, labels.MODES, labels.REVIEW_STATES
    english = {label for table in tables for label in table.values()}
    for word in wanted:
        assert word in page and word not in english  # really Korean, not the English fallback


def test_every_stored_value_has_its_label():
    """The label tables name exactly the values the rows can hold, in their order where a form offers them."""
    assert list(labels.GENERATION_STATUSES) == list(GENERATION_STATUSES)
    assert set(labels.BATCH_STATUSES) == set(BATCH_STATUSES)
    assert list(labels.MODES) == list(MODES)
    assert list(labels.REVIEW_STATES) == list(REVIEW_STATES)
    assert set(labels.ROLES) == {"owner", *MEMBER_ROLES}
    assert list(labels.VIEWS) == list(CHARACTER_VIEWS)
