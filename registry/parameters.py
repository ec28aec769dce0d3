"""What a URL and a form can carry, checked once for every route (API and web pages alike):
path parameter types, and the text of query and form fields.

- `<int:...>` is a database id: a number no id column can hold names nothing (404), instead of
  overflowing the driver (a 500).
- A path segment (`<code>`, the default converter) never holds a control character: no code,
  label or level does, and PostgreSQL cannot even compare text holding NUL (404).
- A query or form field holding NUL is a 400 naming the field, whatever the endpoint.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.routing import IntegerConverter, UnicodeConverter

from registry.core.db import MAX_ID
from registry.core.errors import InvalidData
from registry.core.inputs import UNSTORABLE_MESSAGE, has_unstorable_text


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: 0 to MAX_ID."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class PathText(UnicodeConverter):
    """`<name>` and `<string:...>` in every route: one path segment without control characters."""

    EXCLUDED = r"[^/\x00-\x1f\x7f]"

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", self.EXCLUDED, 1)


def refuse_unstorable_fields() -> None:
    """A query or form field with NUL (or, from a form, an unpaired surrogate) is refused before
    any view reads it."""
    for location, values in (("query", request.args), ("form", request.form)):
        for name, value in values.items(multi=True):
            if _unstorable(value) or _unstorable(name):
                key = location if _unstorable(name) or not name else name
                raise InvalidData(f"Invalid {key}.", errors={key: [UNSTORABLE_MESSAGE]})


def _unstorable(text: str | None) -> bool:
    return isinstance(text, str) and has_unstorable_text(text)


def path_text_schema(converter: PathText) -> dict:
    """The OpenAPI schema of a PathText parameter."""
    return {"type": "string", "minLength": 1, "pattern": r"^[^/\x00-\x1f\x7f]+$"}


def init_app(app: Flask) -> None:
    """Before any route is added."""
    app.url_map.converters.update(int=DatabaseId, default=PathText, string=PathText)
    app.before_request(refuse_unstorable_fields)
