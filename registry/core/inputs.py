"""The bounds every input shares, whichever way it arrives (the API, the command line, an import
file): ids a database column holds, decimals of plain size, JSON documents of sane depth whose
text a database can store. Each is checked here once, so that bad input is a 400 (InvalidData)
at the door instead of an overflow, a recursion error or a driver error deep inside.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import fields, validate

from registry.core.db import MAX_ID
from registry.core.errors import InvalidData

# --- ids -----------------------------------------------------------------------------------------


def id_field(**kwargs: Any) -> fields.Integer:
    """The id of a stored record: 1 to MAX_ID. A larger number names nothing, and the database
    driver would overflow on it (a 500) instead of finding nothing."""
    given = kwargs.pop("validate", None)
    extra = [] if given is None else list(given) if isinstance(given, list | tuple) else [given]
    return fields.Integer(validate=[validate.Range(1, MAX_ID), *extra], **kwargs)


# --- decimals ------------------------------------------------------------------------------------

# Credits, hours, grades and percentages: far below 10^15, never more precise than 20 places.
# Within these bounds every conversion stays inside the decimal context (1e999999999 overflows
# it), plain notation is short (1e-999999999 written out is a gigabyte), and the text fits the
# 40 characters of an ExactDecimal column.
MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_PLACES = 20
DECIMAL_PATTERN = rf"^-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_DECIMAL_PLACES}}})?$"


def decimal_problem(number: Decimal) -> str | None:
    """Why a decimal is not one the registry takes, or None."""
    if not number.is_finite():
        return "Special numeric values (nan or infinity) are not permitted."
    if number.adjusted() >= MAX_INTEGER_DIGITS:  # 1e999999999, and 0E+999999999 too
        return f"At most {MAX_INTEGER_DIGITS} digits before the decimal point."
    if number.as_tuple().exponent < -MAX_DECIMAL_PLACES:
        return f"At most {MAX_DECIMAL_PLACES} decimal places."
    return None


def parse_decimal(value: Any) -> Decimal:
    """A decimal the registry takes, from its text (or a number).

    :raise ValueError: saying why it is not one.
    """
    if isinstance(value, bool):
        raise ValueError("Not a valid number.")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError("Not a valid number.") from None
    problem = decimal_problem(number)
    if problem:
        raise ValueError(problem)
    return number


class DecimalField(fields.Decimal):
    """fields.Decimal within the registry's bounds (see decimal_problem); the OpenAPI document
    gives it as a string of DECIMAL_PATTERN (numbers travel as decimal strings)."""

    default_error_messages = {"bounds": "{problem}"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": DECIMAL_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)

    def _format_num(self, value: Any) -> Decimal:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return super()._format_num(value)  # its own "invalid" message
        problem = decimal_problem(number) if number.is_finite() else None
        if problem:
            raise self.make_error("bounds", problem=problem)
        return super()._format_num(value)


# --- JSON documents ------------------------------------------------------------------------------

# Deeper than any document the registry defines (a rule with conditions nested to its limit is
# about 20); the JSON parser itself recurses and fails at about a thousand.
MAX_JSON_DEPTH = 64
# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be encoded as UTF-8 at all.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "Text may not contain NUL characters or unpaired surrogates (\\ud800-\\udfff)."


class NotJSON(InvalidData):
    """The text cannot be parsed as JSON at all."""


def load_json(data: str | bytes, name: str = "body") -> Any:
    """Parse a JSON document and check it (check_document).

    :raise InvalidData: when it is not JSON (NotJSON), is nested too deeply or holds text that
        cannot be stored; `errors` names `name`, or the path inside the document.
    """
    try:
        document = json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise _too_deep(name) from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise NotJSON(
            f"The {name} is not JSON: {error}", errors={name: [f"Not JSON: {error}"]}
        ) from error
    check_document(document, name)
    return document


def check_document(document: Any, name: str = "body") -> None:
    """Refuse a parsed JSON document nested deeper than MAX_JSON_DEPTH, or with a NUL or an
    unpaired surrogate in a key or a string. Iterative: a deep document cannot exhaust the stack.

    :raise InvalidData: the first problem found, by its dotted path.
    """
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                raise _unstorable(path or name)
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep(name)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and UNSTORABLE.search(key):
                    raise _unstorable(path or name)
                stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))


def _not_json(constant: str) -> None:
    # Python reads NaN, Infinity and -Infinity; JSON (RFC 8259) has no such numbers.
    raise ValueError(f"{constant} is not a JSON number")


def has_unstorable_text(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def storable(text: str) -> str:
    """Text quoted from a file (a reason, a position, a file name) made storable: NUL and
    unpaired surrogates written as their escapes (\\x00, \\ud800)."""
    if not UNSTORABLE.search(text):
        return text
    return UNSTORABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def _too_deep(name: str) -> InvalidData:
    message = f"Nested more than {MAX_JSON_DEPTH} levels deep."
    return InvalidData(f"The {name} is nested too deeply.", errors={name: [message]})


def _unstorable(path: str) -> InvalidData:
    return InvalidData(f"Invalid {path}.", errors={path: [UNSTORABLE_MESSAGE]})

