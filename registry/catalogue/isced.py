"""The ISCED-F 2013 fields of education and training, bundled as data (data/isced_f_2013.json).

Codes are strings, leading zero included: broad fields have 2 digits, narrow 3, detailed 4. The
list holds the classification's own "not further defined" (ending in 0), "not elsewhere
classified" (9), inter-disciplinary (8) and "field unknown" (99..) codes as well, so any code a
published record may carry validates.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "isced_f_2013.json"


@cache
def fields() -> dict[str, dict[str, Any]]:
    """Every code of the list, in the list's order: code -> {code, name, level, kind}."""
    with DATA.open(encoding="utf-8") as file:
        return {field["code"]: field for field in json.load(file)["fields"]}


def is_valid(code: str) -> bool:
    return code in fields()


def name(code: str) -> str | None:
    """The field's English name; None for a code not in the list."""
    field = fields().get(code)
    return field["name"] if field else None


def broad(code: str) -> str:
    """The broad field a code belongs to: its first two digits."""
    return code[:2]
