"""Keyset paging of every list (shared/API.md "Lists are paged"): `limit` (1..200, default 100) and an
opaque `cursor`, answered with `next_cursor` (None on the last page).

Why keyset and not OFFSET: a page starts right after the last row the client saw, found by its sort key
(the list's order columns ending with the unique id), so a row added or deleted between two calls
neither repeats nor skips one, and a page deep in a list of 50,000 rows costs what the first one does:
the database walks its index from the key instead of counting rows to skip.

The cursor is the urlsafe base64 of the JSON list of the last row's sort key values (datetimes in ISO
8601). It is opaque to clients but not secret: it only ever narrows the caller's own query, whose
permission filters stay as they are."""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Mapping, Sequence, TypeVar

from sqlalchemy import Select, TypeDecorator, tuple_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from ..errors import N_, Invalid
from ..extensions import db

DEFAULT_LIMIT, MAX_LIMIT = 100, 200
# The rows of an HTML page's list when the address names no `limit`, less than the API's 100: the page
# renders each row's markup (half a millisecond each, bench/scale_bench.py), and 48 thumbnails fill the
# screen twice over in whole rows of the 2, 3, 4 or 6 grid columns; "load more" appends the next 48.
PAGE_ROWS = 48
CURSOR_MAX = 1000  # characters: a sort key of a few columns is far shorter
BAD_LIMIT = N_("The limit must be a whole number from 1 to 200.")
BAD_CURSOR = N_("This cursor is not one this list gave out: start again from the first page.")

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list to read: at most `limit` rows after the row `cursor` names (None: the first)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, in its order; `next_cursor` reads the next page, None when this is the last."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class _Key:
    """One column of a list's order and its direction."""

    column: ColumnElement
    descending: bool


def page_request(limit: Any = None, cursor: Any = None) -> PageRequest:
    """A PageRequest from the raw `limit` and `cursor` of a query string (str, int or None); a limit that
    is not a whole number from 1 to 200 is a 422 naming the field (the cursor is checked when used)."""
    if limit is None or limit == "":
        number = DEFAULT_LIMIT
    else:
        text = str(limit).strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
            raise Invalid(BAD_LIMIT, fields={"limit": N_("Use a whole number from 1 to 200.")})
        number = int(text)
    return PageRequest(number, cursor or None)


def from_args(args: Mapping[str, str], default: int = PAGE_ROWS) -> PageRequest:
    """A PageRequest from a query string's `limit` (else the page's `default`) and `cursor`: the main
    list of an HTML page and its "load more" links. A page's other lists read only their own cursor
    (PageRequest(limit, args.get("members_cursor"))), so `limit` is the main list's alone."""
    return page_request(args.get("limit") or default, args.get("cursor"))


def paginate(query: Select, order: Sequence[ColumnElement], page: PageRequest) -> Page:
    """One page of `query` in `order` (columns, or all their .asc() or all their .desc(); the last must be
    unique, the id).

    Runs one query: the select with the keyset predicate, the order and limit + 1 (the extra row only
    says whether there is a next page). A query of one entity or column pages its scalars; a query of
    several pages its rows as tuples. Eager loading options on `query` apply as usual."""
    keys = [_key(expression) for expression in order]
    if len({key.descending for key in keys}) != 1:
        raise ValueError("a paged list orders every column the same way")  # one row-value comparison
    if page.cursor is not None:
        query = query.where(_after(keys, _decode(page.cursor, keys)))
    width = len(query.column_descriptions)
    query = query.add_columns(*(key.column for key in keys))
    rows = db.session.execute(query.order_by(*order).limit(page.limit + 1)).all()
    items = [row[0] if width == 1 else tuple(row[:width]) for row in rows[:page.limit]]
    more = len(rows) > page.limit
    return Page(items, _encode(rows[page.limit - 1][width:]) if more else None)


def _key(expression: ColumnElement) -> _Key:
    """The column and direction of one order expression (`col`, `col.asc()` or `col.desc()`)."""
    if isinstance(expression, UnaryExpression) and expression.modifier in (operators.asc_op, operators.desc_op):
        return _Key(expression.element, expression.modifier is operators.desc_op)
    return _Key(expression, False)


def _after(keys: list[_Key], values: list[Any]) -> ColumnElement:
    """The rows that come after the sort key `values`: a row-value comparison, which PostgreSQL uses as
    an index condition (the walk along the list's index starts at the key)."""
    columns = tuple_(*(key.column for key in keys))
    return columns < tuple(values) if keys[0].descending else columns > tuple(values)


def _encode(values: Sequence[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, keys: list[_Key]) -> list[Any]:
    """The sort key values a cursor carries, each of its column's type; anything else is a 422."""
    try:
        if len(cursor) > CURSOR_MAX:
            raise ValueError(cursor)
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError(cursor)
        return [_value(key, value) for key, value in zip(keys, values)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid(BAD_CURSOR, fields={"cursor": N_("Not a cursor of this list.")}) from None


def _value(key: _Key, value: Any) -> Any:
    """One decoded value checked against its column's Python type (a datetime from its ISO text)."""
    column_type = key.column.type
    expected = (column_type.impl if isinstance(column_type, TypeDecorator) else column_type).python_type
    if expected is datetime:
        if not isinstance(value, str):
            raise TypeError(value)
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError(value)
        return parsed
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, expected) or isinstance(value, bool) is not (expected is bool):
        raise TypeError(value)
    return value
