"""Catalogue imports from CSV files: qualifications and courses.

Both formats are read by `importers.csv.read_csv` (UTF-8, comma or semicolon, a header line;
unknown columns refused) and go through the shared runner: every row is validated, checked
against the registry, and inserted, updated, left unchanged or rejected with its reason.
Re-importing a file changes nothing. A column left out of a file leaves that field as stored;
an empty cell clears it.

`qualifications-csv` (format QUALIFICATIONS_FORMAT), columns in any order; code and title required:

    code                the natural key: the institution's programme code, or the national
                        register's id of the qualification
    title               the title in its own language
    language            the title's language (ISO 639 tag: en, en-GB, ga)
    country             ISO 3166-1 alpha-2; required for a national register entry, otherwise
                        the institution's country when empty
    institution_id      the registry's institution id; empty for a national register entry
    level               FRAMEWORK:LEVEL (IE-NFQ:8), a level the registry knows
    credits             a number >= 0 ("7.5", or "7,5"); given together with credit_system
    credit_system       a credit system the registry knows (ECTS, GB-CATS, US-SEM...)
    isced_f             an ISCED-F 2013 field code, leading zero kept (0613)
    qualification_type  one of registry.catalogue.models.QUALIFICATION_TYPES
    learning_outcomes   outcomes separated by " | "
    other_titles        titles in other languages separated by " | ", each optionally ending in
                        its language tag in brackets: "Licence en informatique [fr] | Bachelor
                        Informatik [de]"

`courses-csv` (COURSES_FORMAT), code and title required; the courses belong to the import's
institution (the `institution_id` option):

    code, title, language, credits, credit_system, level, isced_f, learning_outcomes
    (as above; a course's level is FRAMEWORK:LEVEL too, e.g. QF-EHEA:1 for a first-cycle course)

Who may import: an admin anything; an institution account only its own institution's entries
(rows naming another institution, or none, are rejected with the reason); a ministry national
register entries (no institution) of its own countries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO, Any

from sqlalchemy.orm import Session, sessionmaker

from importers.csv import read_csv, split_cell
from importers.runner import Apply, ImportReport, Rejected, run
from registry.catalogue.schemas import CourseRecordSchema, QualificationRecordSchema
from registry.catalogue.services import Outcome, upsert_courses, upsert_qualifications
from registry.core.errors import DomainError, InvalidData, PermissionDenied
from registry.core.permissions import Actor, Target, authorize, authorize_role

QUALIFICATIONS_FORMAT = "qualifications-csv"
QUALIFICATION_COLUMNS = (
    "code",
    "title",
    "language",
    "country",
    "institution_id",
    "level",
    "credits",
    "credit_system",
    "isced_f",
    "qualification_type",
    "learning_outcomes",
    "other_titles",
)
COURSES_FORMAT = "courses-csv"
COURSE_COLUMNS = (
    "code",
    "title",
    "language",
    "credits",
    "credit_system",
    "level",
    "isced_f",
    "learning_outcomes",
)
REQUIRED = ("code", "title")
ACTION = "catalogue.edit"

DECIMAL_COMMA = re.compile(r"^\d+,\d+$")
# "Licence en informatique [fr]": a lower-case language tag in brackets ends the title.
TITLE_LANG = re.compile(r"^(?P<value>.*?)\s*\[(?P<lang>[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\]$")


def _record(row: dict[str, str | None]) -> dict[str, Any]:
    """A CSV row in the shape of the record schemas."""
    record: dict[str, Any] = dict(row)
    if record.get("credits") and DECIMAL_COMMA.match(record["credits"]):
        record["credits"] = record["credits"].replace(",", ".")
    if "learning_outcomes" in record:
        record["learning_outcomes"] = split_cell(record["learning_outcomes"])
    if "other_titles" in record:
        record["other_titles"] = [
            {"value": match["value"], "lang": match["lang"]}
            if (match := TITLE_LANG.match(title))
            else {"value": title, "lang": None}
            for title in split_cell(record["other_titles"])
        ]
    return record


def _apply(
    actor: Actor,
    upsert: Callable[[Session, list[dict[str, Any]]], list[Outcome]],
    target_of: Callable[[dict[str, Any]], Target],
    report: ImportReport,
) -> Apply:
    """Upsert the rows the actor may write; the others are rejected with the reason (and those
    outside the actor's scope counted for the audit trail)."""

    def apply(session: Session, batch):
        allowed, outcomes = [], {}
        for number, (_, record) in enumerate(batch):
            try:
                authorize(actor, ACTION, target_of(record))
                allowed.append((number, record))
            except DomainError as error:
                if isinstance(error, PermissionDenied):
                    report.refuse(error.detail)
                outcomes[number] = ("rejected", error.detail)
        results = upsert(session, [record for _, record in allowed])
        for (number, _), result in zip(allowed, results, strict=True):
            outcomes[number] = (result.outcome, result.reason)
        return [outcomes[number] for number in range(len(batch))]

    return apply


def _institution_target(institution_id: int) -> Target:
    return Target("institution", str(institution_id), institution=str(institution_id))


def _qualification_target(record: dict[str, Any]) -> Target:
    if record.get("institution_id") is not None:
        return Target("qualification", record["code"], institution=str(record["institution_id"]))
    # A national register entry belongs to its country's authority.
    return Target("qualification", record["code"], country=record["country"])


def import_qualifications(
    sessions: sessionmaker[Session],
    actor: Actor,
    stream: IO[bytes],
    source: str,
    *,
    institution_id: int | None = None,
    atomic: bool = False,
    progress=None,
) -> ImportReport:
    """Import qualifications from a `qualifications-csv` file.

    With `institution_id`, every row is that institution's: an empty institution_id cell takes
    it, a different one is rejected. Raises PermissionDenied before reading when the actor may
    not import into that institution at all.
    """
    authorize_role(actor, ACTION)
    if institution_id is not None:
        authorize(actor, ACTION, _institution_target(institution_id))

    def records():
        for position, row in read_csv(stream, QUALIFICATION_COLUMNS, REQUIRED):
            if isinstance(row, Rejected):
                yield position, row
                continue
            if institution_id is not None:
                stated = row.get("institution_id")
                if stated is not None and stated != str(institution_id):
                    yield (
                        position,
                        Rejected(
                            f"institution_id {stated} is not this import's "
                            f"institution {institution_id}"
                        ),
                    )
                    continue
                row = {**row, "institution_id": str(institution_id)}
            yield position, _record(row)

    report = ImportReport(QUALIFICATIONS_FORMAT, source, atomic=atomic)
    return run(
        sessions,
        actor,
        report,
        records(),
        QualificationRecordSchema(),
        _apply(actor, upsert_qualifications, _qualification_target, report),
        progress=progress,
    )


def import_courses(
    sessions: sessionmaker[Session],
    actor: Actor,
    stream: IO[bytes],
    source: str,
    *,
    institution_id: int | None = None,
    atomic: bool = False,
    progress=None,
) -> ImportReport:
    """Import one institution's courses from a `courses-csv` file.

    `institution_id` is required (InvalidData without it): a course file has no institution
    column. Raises PermissionDenied before reading when the actor may not edit that institution's
    catalogue.
    """
    authorize_role(actor, ACTION)
    if institution_id is None:
        raise InvalidData(
            "A course import needs the institution the courses belong to.",
            errors={"institution_id": ["Required for courses-csv."]},
        )
    authorize(actor, ACTION, _institution_target(institution_id))

    def records():
        for position, row in read_csv(stream, COURSE_COLUMNS, REQUIRED):
            if isinstance(row, Rejected):
                yield position, row
                continue
            yield position, _record({**row, "institution_id": str(institution_id)})

    report = ImportReport(COURSES_FORMAT, source, atomic=atomic)
    return run(
        sessions,
        actor,
        report,
        records(),
        CourseRecordSchema(),
        _apply(
            actor,
            upsert_courses,
            lambda record: Target(
                "course", record["code"], institution=str(record["institution_id"])
            ),
            report,
        ),
        progress=progress,
    )


def import_qdr(
    sessions: sessionmaker[Session],
    actor: Actor,
    stream: IO[bytes],
    source: str,
    *,
    atomic: bool = False,
    progress=None,
) -> ImportReport:
    """Import a Europass QDR upload (a national database's qualifications) as national register
    entries: the ministry of each entry's country, or an admin."""
    from importers.qdr import qdr_records

    authorize_role(actor, ACTION)
    report = ImportReport("qdr", source, atomic=atomic)
    return run(
        sessions,
        actor,
        report,
        qdr_records(stream),
        QualificationRecordSchema(),
        _apply(actor, upsert_qualifications, _qualification_target, report),
        progress=progress,
    )
