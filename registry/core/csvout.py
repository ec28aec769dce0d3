"""Every CSV the registry writes goes through here, so that no cell is a spreadsheet formula.

A title such as `=cmd|' /C calc'!A0` in an import file or a credential would otherwise reach a
registrar's spreadsheet as a formula (CSV injection). As OWASP advises, a cell that begins with
`=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`, which spreadsheets
show but do not evaluate; the csv module quotes what needs quoting. A plain number (-1.5) is a
number, not a formula, and is left as it is.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def cell(value: Any) -> Any:
    """The value as it is safe to write into a CSV cell."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class Writer:
    """csv.writer whose cells are escaped (see `cell`)."""

    def __init__(self, stream, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class DictWriter(csv.DictWriter):
    """csv.DictWriter whose cells are escaped (see `cell`); the header is the caller's own."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({key: cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for rowdict in rowdicts:
            self.writerow(rowdict)
