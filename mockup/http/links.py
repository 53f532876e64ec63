"""Links to the rows of a list. url_for walks the URL map for every link, and a list of a hundred images
builds four hundred of them: a third of an API history page's time (bench/scale_bench.py). `link` builds
an endpoint's address once per request with markers in place of its values, then puts each row's values
into the marked places. Values that would need escaping (anything but letters, digits, `-` and `_`), and
endpoints whose converters refuse a marker (`int:`), still go through url_for, so every link is the one
url_for gives."""
from __future__ import annotations

import re

from flask import g, url_for
from werkzeug.routing import BuildError

_PLAIN = re.compile(r"[A-Za-z0-9_-]+\Z")
# Letters and digits: left alone by the string and path converters and in the query string.
_MARK, _MARKS = "zq9{}9qz", re.compile(r"zq9(\d+)9qz")


def link(endpoint: str, **values: object) -> str:
    pieces = _pieces(endpoint, tuple(values))
    texts = [str(value) for value in values.values()]
    if pieces is None or not all(_PLAIN.match(text) for text in texts):
        return url_for(endpoint, **values)
    # pieces: the address's text between the marks, and between them the number of the value marked there
    return "".join(piece if index % 2 == 0 else texts[int(piece)] for index, piece in enumerate(pieces))


def _pieces(endpoint: str, names: tuple[str, ...]) -> list[str] | None:
    """The endpoint's address cut at the marks of `names`, once per request; None when it takes no marks."""
    cut: dict[tuple, list[str] | None] = g.setdefault("_link_pieces", {})
    key = (endpoint, *names)
    if key not in cut:
        try:
            marked = url_for(endpoint, **{name: _MARK.format(number) for number, name in enumerate(names)})
        except (BuildError, ValueError):
            cut[key] = None
        else:
            cut[key] = _MARKS.split(marked)
    return cut[key]
