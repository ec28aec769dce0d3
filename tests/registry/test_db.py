"""registry.core.db.insert_rows: the driver's bulk path stores exactly what Core's insert would."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

from sqlalchemy import insert, text

from registry.catalogue.models import Transcript, TranscriptResult
from registry.core.db import insert_rows

COLUMNS = (
    "transcript_id",
    "local_id",
    "title",
    "credits",
    "credit_system",
    "grade_distribution",
    "eqf_level",
    "status",
    "started_on",
    "ended_on",
)
SIX = Decimal("6.0")  # one object in two rows, as a record checker hands it out
VALUES = [
    # Nothing optional: JSON's None has a stored form of its own, which must be the same.
    ("Only the required", None, None, None, None, "passed", None, None),
    (
        "Six",
        Decimal("6"),
        "ECTS",
        [{"grade": "A", "percent": "10"}],
        6,
        "passed",
        dt.date(2023, 9, 1),
        dt.date(2024, 1, 31),
    ),
    # Equal decimals written differently keep their own text; a repeated date stays the same.
    ("Six again", SIX, "ECTS", None, None, "failed", None, dt.date(2024, 1, 31)),
    ("Six once more", Decimal("6.00"), "ECTS", [], 8, "in_progress", dt.date(2023, 9, 1), None),
    ("Six the same", SIX, "ECTS", None, None, "passed", None, None),
]


def _stored(session, transcript_id: int) -> list[tuple]:
    # The driver's own values (text, JSON as stored), not the ORM's conversions back.
    names = ", ".join(COLUMNS[2:])
    return [
        tuple(row)
        for row in session.execute(
            text(
                f"SELECT {names} FROM transcript_result WHERE transcript_id = :t ORDER BY local_id"
            ),
            {"t": transcript_id},
        )
    ]


def test_insert_rows_stores_what_core_stores(session):
    transcripts = [Transcript(source_format="elmo", source_key=f"k{n}") for n in range(2)]
    session.add_all(transcripts)
    session.flush()
    by_core, by_driver = (t.id for t in transcripts)
    rows = [
        {"transcript_id": by_core, "local_id": f"r{n}", **dict(zip(COLUMNS[2:], v, strict=True))}
        for n, v in enumerate(VALUES)
    ]
    session.execute(insert(TranscriptResult.__table__), rows)
    insert_rows(
        session.connection(),
        TranscriptResult.__table__,
        COLUMNS,
        [[by_driver, f"r{n}", *values] for n, values in enumerate(VALUES)],
    )
    stored = _stored(session, by_driver)
    assert stored == _stored(session, by_core)
    assert [row[1] for row in stored] == [None, "6", "6.0", "6.00", "6.0"]


def test_sqlite3_still_binds_none_as_null():
    # registry.core.db gives sqlite3 an adapter for None (a faster way to the same NULL).
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (a)")
    connection.executemany("INSERT INTO t VALUES (?)", [(None,), (0,), ("",)])
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    assert connection.execute("SELECT a IS NULL, typeof(a) FROM t").fetchall() == [
        (1, "null"),
        (0, "integer"),
        (0, "text"),
    ]
