"""The import loop shared by every format: read, validate, apply in batches, count, report.

Nothing is lost silently: every record read is inserted, updated, unchanged or rejected with
its position and reason, so read = inserted + updated + unchanged + rejected always holds. Valid
records are committed batch by batch; `atomic` makes the whole file one transaction that is
rolled back if any record is rejected or the file breaks off.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from registry.core import audit
from registry.core.db import unique_violation
from registry.core.inputs import storable
from registry.core.permissions import Actor

OUTCOMES = ("inserted", "updated", "unchanged", "rejected")


class FileError(Exception):
    """The file itself cannot be read on (bad syntax, truncated): the import stops there."""

    def __init__(self, position: str, reason: str):
        super().__init__(f"{position}: {reason}")
        self.position = position
        self.reason = reason


class Stopped(Exception):
    """Raised by a progress callback to stop an import between two batches (its worker is
    stopping): the open batch is undone, those committed before it stay, and nothing is
    reported or audited, since the import is not over (it runs again, from the start)."""


@dataclass(frozen=True)
class Rejected:
    """What a reader yields for a record it can already tell is unusable, with the reason."""

    reason: str


@dataclass(frozen=True)
class RecordError:
    position: str
    reason: str


REFUSAL_SAMPLES = 20


@dataclass
class ImportReport:
    format: str
    source: str
    atomic: bool = False
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RecordError] = field(default_factory=list)
    state: str = "running"  # running | completed | failed | rolled_back
    failure: str | None = None
    # Records refused because they lie outside the actor's scope: one audit event says how many
    # (with the first few reasons), however many there are.
    refused_out_of_scope: int = 0
    refusal_samples: list[str] = field(default_factory=list)

    def refuse(self, reason: str) -> None:
        self.refused_out_of_scope += 1
        if len(self.refusal_samples) < REFUSAL_SAMPLES:
            self.refusal_samples.append(reason)

    def count(self, outcome: str, position: str | None = None, reason: str | None = None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome == "rejected":
            # Reasons quote the file, which may hold what no database text column can (NUL).
            position, reason = storable(position or "?"), storable(reason or "rejected")
            self.errors.append(RecordError(position, reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source": self.source,
            "atomic": self.atomic,
            "state": self.state,
            "failure": self.failure,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [{"position": e.position, "reason": e.reason} for e in self.errors],
        }


def messages(error: ValidationError) -> str:
    """A marshmallow error as one line: `field: message; other.field: message`."""

    def walk(value: Any, prefix: str) -> Iterator[str]:
        if isinstance(value, dict):
            for key, item in value.items():
                yield from walk(item, f"{prefix}{key}.")
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            yield f"{prefix.rstrip('.')}: {' '.join(value)}"
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, f"{prefix}{index}.")
        else:
            yield f"{prefix.rstrip('.')}: {value}"

    return "; ".join(walk(error.messages, ""))


def checked(records: Iterable[tuple[str, Any]], schema: Schema) -> Iterator[tuple[str, Any]]:
    """The records validated by `schema`: (position, loaded record), or (position, Rejected)
    with the validation messages as its reason."""
    load = schema.load
    for position, raw in records:
        if type(raw) is not Rejected:
            try:
                raw = load(raw)
            except ValidationError as error:
                raw = Rejected(messages(error))
        yield position, raw


# Applies one batch of (position, validated record) in the session; returns one outcome each:
# (outcome, reason) with outcome in OUTCOMES.
Apply = Callable[[Session, list[tuple[str, dict[str, Any]]]], list[tuple[str, str | None]]]


def run(
    sessions: sessionmaker[Session],
    actor: Actor,
    report: ImportReport,
    records: Iterable[tuple[str, Any]],
    schema: Schema | None,
    apply: Apply,
    *,
    batch_size: int = 500,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Run an import to its end; the report says how it ended and what each record became.
    Each record is validated by `schema`, or was already when `schema` is None (as
    `importers.parallel.read` does, sharing the checks with its reader process)."""
    if schema is not None:
        records = checked(records, schema)
    with _collector_on_new_objects():
        return _run(sessions, actor, report, records, apply, batch_size, progress)


@contextmanager
def _collector_on_new_objects():
    """An import allocates millions of short-lived objects, and each of the garbage collector's
    full passes would walk every object of the process too (modules, mappers, caches): about a
    quarter of an import's time. Objects that exist when the import starts are set aside from
    collection until it ends (gc.freeze), and the young generation is collected every 50,000
    allocations rather than 700; what the import creates is collected all the same."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def database_failure(error: SQLAlchemyError, report: ImportReport) -> str:
    """A database error as the one line a failed import's report gives."""
    reason = " ".join(str(getattr(error, "orig", None) or error).split())
    return storable(
        f"record {report.read + 1} and on: not stored, the database refused them "
        f"({type(getattr(error, 'orig', None) or error).__name__}: {reason[:300]})"
    )


def _run(sessions, actor, report, records, apply, batch_size, progress) -> ImportReport:
    session = sessions()
    batch: list[tuple[str, dict[str, Any]]] = []

    def flush_batch() -> None:
        try:
            outcomes = apply(session, batch)
        except IntegrityError as error:
            # Another import stored some of these rows meanwhile (two imports of one file at
            # once): this batch is undone and applied again, now finding them stored. Not in an
            # atomic import, whose rollback would undo every batch before it too.
            if report.atomic or not unique_violation(error):
                raise
            session.rollback()
            outcomes = apply(session, batch)
        # Counted per batch (Counter counts in C), not per record: this runs for every record
        # of a large file.
        if len(outcomes) != len(batch):
            raise ValueError(f"{len(outcomes)} outcomes for a batch of {len(batch)} records")
        tally = Counter(map(itemgetter(0), outcomes))
        report.read += len(batch)
        for outcome in ("inserted", "updated", "unchanged"):
            setattr(report, outcome, getattr(report, outcome) + tally[outcome])
        if tally["rejected"]:
            for (position, _), (outcome, reason) in zip(batch, outcomes, strict=True):
                if outcome == "rejected":
                    report.count(outcome, position, reason)
        batch.clear()
        if not report.atomic:
            session.commit()
        if progress:
            progress(report)

    try:
        return _apply_all(session, actor, report, records, batch, flush_batch, batch_size, progress)
    except Stopped:
        session.rollback()
        close = getattr(records, "close", None)  # a reader's process ends with the import
        if close is not None:
            close()
        raise
    finally:
        session.close()


def _apply_all(session, actor, report, records, batch, flush_batch, batch_size, progress):
    try:
        append = batch.append
        for item in records:  # (position, record), kept as it came
            if type(item[1]) is Rejected:
                report.read += 1
                report.count("rejected", item[0], item[1].reason)
                continue
            append(item)
            if len(batch) >= batch_size:
                flush_batch()
        if batch:
            flush_batch()
    except FileError as error:
        # What was read before the break is valid and kept (unless atomic, below).
        report.failure = storable(f"{error.position}: {error.reason}")
        if batch:
            try:
                flush_batch()
            except SQLAlchemyError as failed:
                session.rollback()
                report.failure += "; " + database_failure(failed, report)
    except SQLAlchemyError as error:
        # The database refused a batch (busy past its timeout, a conflict no upsert absorbs,
        # a lost connection): that batch is undone, the batches committed before it are kept
        # (unless atomic, below), and the report says where it stopped, in one line.
        session.rollback()
        report.failure = database_failure(error, report)
    if report.atomic and (report.failure or report.rejected):
        session.rollback()
        report.state = "rolled_back"
        # All or nothing: what was applied is undone, so it is counted as rejected too.
        report.rejected += report.inserted + report.updated + report.unchanged
        report.inserted = report.updated = report.unchanged = 0
    else:
        report.state = "failed" if report.failure else "completed"
    audit.record(
        session,
        actor,
        f"import.{report.format}",
        f"import:{report.format}:{report.source}",
        after={key: value for key, value in report.as_dict().items() if key != "errors"},
        outcome="allowed" if report.state == "completed" else "refused",
        detail=report.failure,
    )
    if report.refused_out_of_scope:
        audit.record(
            session,
            actor,
            f"import.{report.format}",
            f"import:{report.format}:{report.source}",
            after={
                "refused_out_of_scope": report.refused_out_of_scope,
                "first": report.refusal_samples,
            },
            outcome="refused",
            detail=f"{report.refused_out_of_scope} records outside the importer's scope.",
        )
    session.commit()
    if progress:
        progress(report)
    return report
