"""A streaming reader for uploaded CSV files, shared by the CSV import formats.

The file is read line by line, so memory stays flat however long it is. What it accepts:

- UTF-8, with or without a byte-order mark. Anything else stops the import at the first line
  that does not decode (FileError naming the line): guessing an 8-bit encoding would store
  wrong letters without a word.
- A header line naming the columns; the delimiter is a comma or a semicolon (spreadsheets in
  decimal-comma locales write semicolons), whichever the header line has more of. Column names
  are matched case-insensitively, surrounding spaces ignored.
- Every required column present, and no column the format does not know: a misspelt optional
  column ("learning_outcome") would otherwise be dropped without a word, so it stops the import
  (FileError listing the known columns).
- Standard CSV quoting; a quoted cell may span lines. Broken quoting stops the import at its line.

Each data row comes out as (f"row {n}", {column: value}) with n the row's first line in the file
(the header is line 1), values stripped and empty cells as None. Blank lines, and rows whose
cells are all empty (spreadsheets leave them at the end), are skipped: they hold nothing to lose.
A row with the wrong number of cells comes out as `Rejected` with the reason, and reading goes on.

A multi-valued cell separates its values with " | " (space, bar, space); see `split_cell`.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator, Sequence
from typing import IO

from importers.runner import FileError, Rejected

MULTI_SEPARATOR = " | "
# A longer physical line is not a catalogue row; refusing it keeps memory bounded.
MAX_LINE_BYTES = 1 << 20


def _lines(stream: IO[bytes]) -> Iterator[str]:
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise FileError(f"line {number}", "the line is longer than 1 MiB; is this a CSV file?")
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise FileError(
                f"line {number}",
                f"not UTF-8 text (byte 0x{raw[error.start]:02x} at byte {error.start + 1} of the "
                "line); save the file as UTF-8 (in a spreadsheet: CSV UTF-8)",
            ) from error


def read_csv(
    stream: IO[bytes], columns: Sequence[str], required: Sequence[str]
) -> Iterator[tuple[str, dict[str, str | None] | Rejected]]:
    """Rows of a CSV file whose header names some of `columns`, all of `required`.

    Raises FileError (from the first `next`) for a missing or unusable header, and later at the
    line where the file stops being readable UTF-8 CSV.
    """
    lines = _lines(stream)
    first = next(lines, None)
    if first is None or not first.strip():
        raise FileError("line 1", "no header line: the first line must name the columns")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=True)

    def next_row() -> list[str] | None:
        try:
            return next(reader, None)
        except csv.Error as error:
            raise FileError(f"line {reader.line_num}", f"not valid CSV: {error}") from error

    names = _header(next_row() or [], columns, required)
    while True:
        start = reader.line_num + 1
        cells = next_row()
        if cells is None:
            return
        if not any(cell.strip() for cell in cells):
            continue
        position = f"row {start}"
        if len(cells) != len(names):
            yield position, Rejected(f"row has {len(cells)} cells, the header has {len(names)}")
            continue
        yield (
            position,
            {name: cell.strip() or None for name, cell in zip(names, cells, strict=True)},
        )


def _header(cells: list[str], columns: Sequence[str], required: Sequence[str]) -> list[str]:
    names = [cell.strip().lower() for cell in cells]
    for number, name in enumerate(names, start=1):
        if not name:
            raise FileError("line 1", f"column {number} of the header has no name")
        if names.count(name) > 1:
            raise FileError("line 1", f"column {name!r} appears more than once in the header")
    unknown = [name for name in names if name not in columns]
    if unknown:
        raise FileError(
            "line 1",
            f"unknown column(s) {', '.join(unknown)}; this format's "
            f"columns are {', '.join(columns)}",
        )
    missing = [name for name in required if name not in names]
    if missing:
        raise FileError("line 1", f"missing required column(s): {', '.join(missing)}")
    return names


def split_cell(value: str | None) -> list[str]:
    """The values of a multi-valued cell ("a | b" -> ["a", "b"]); an empty cell has none.

    Only " | " with its spaces separates, so a bar inside a value ("C|C++") stays in it.
    """
    if value is None:
        return []
    return [part.strip() for part in value.split(MULTI_SEPARATOR) if part.strip()]
