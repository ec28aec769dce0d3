"""Articulation imports from CSV files (`articulations-csv`).

Long format: one row per source course / target course pair; the rows sharing a rule_id form one
articulation, so a bundle (two source courses for one target course, or one for two) is written
as several rows. Read by `importers.csv.read_csv` (UTF-8, comma or semicolon, a header line,
unknown columns refused). Columns, in any order:

    rule_id             required; the receiving institution's own reference for the rule: with
                        the target institution, the natural key (re-importing updates the rule)
    source_scheme       how source_institution is given: id (the registry's id, the default),
                        schac, erasmus, ror, pic or domain
    source_institution  required; the sending institution, in source_scheme
    source_course       required; the course's code in the source institution's catalogue
    target_scheme       as source_scheme, for target_institution
    target_institution  required; the receiving institution, whose rule it is
    target_course       required; the course's code in the target institution's catalogue
    credits_granted     required; a number >= 0 ("7.5", or "7,5")
    credit_system       required; a credit system the registry knows (ECTS, GB-CATS, US-SEM...)
    valid_from          the first day the rule holds (YYYY-MM-DD); empty: since ever
    valid_to            the first day it no longer holds; empty: open-ended
    status              proposed (the default), approved or rejected

Every row of a rule must state the same institutions, credits, credit system, dates and status;
the rule's source and target courses are the distinct courses of its rows. A rule is applied
whole or not at all: when any of its rows is invalid, every row of the rule is rejected, each
naming the rows at fault (a row whose cells cannot be told apart names no rule: it is rejected
on its own). A rule stored already is updated to what the file states (its course
sets included), or left unchanged; so read = inserted + updated + unchanged + rejected counts
rows, and each row counts what became of its rule.

Who may import: the target institution's account (or an admin) for its rules; a row of another
institution's rule is rejected with the reason. Since the rows of a rule may stand anywhere in
the file, the file is read whole before anything is applied (articulation lists are short); a
file that breaks off applies nothing, as any rule could continue past the break.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from typing import IO, Any

from marshmallow import Schema, fields, pre_load, validate
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from importers.csv import read_csv
from importers.runner import FileError, ImportReport, Rejected, run
from registry.catalogue.articulations import services as articulations
from registry.catalogue.articulations.models import STATUSES
from registry.catalogue.models import Course
from registry.catalogue.schemas import CREDIT_SYSTEM, MAX_CREDITS, cell_text
from registry.core.normalise import whole_number
from registry.core.permissions import Actor, authorize_role
from registry.institutions.models import Institution
from registry.institutions.schemas import normalise_identifier
from registry.institutions.services import find_by_identifier

FORMAT = "articulations-csv"
COLUMNS = (
    "rule_id",
    "source_scheme",
    "source_institution",
    "source_course",
    "target_scheme",
    "target_institution",
    "target_course",
    "credits_granted",
    "credit_system",
    "valid_from",
    "valid_to",
    "status",
)
REQUIRED = (
    "rule_id",
    "source_institution",
    "source_course",
    "target_institution",
    "target_course",
    "credits_granted",
    "credit_system",
)
SCHEMES = ("id", "schac", "erasmus", "ror", "pic", "domain")
# What every row of one rule must agree on.
RULE_FIELDS = (
    "source_scheme",
    "source_institution",
    "target_scheme",
    "target_institution",
    "credits_granted",
    "credit_system",
    "valid_from",
    "valid_to",
    "status",
)
DECIMAL_COMMA = re.compile(r"^\d+,\d+$")


class ArticulationRowSchema(Schema):
    """One CSV row; what needs the registry (institutions, courses, overlaps) is checked when
    its rule is applied."""

    rule_id = cell_text(100, required=True)
    source_scheme = fields.String(load_default="id", validate=validate.OneOf(SCHEMES))
    source_institution = cell_text(300, required=True)
    source_course = cell_text(100, required=True)
    target_scheme = fields.String(load_default="id", validate=validate.OneOf(SCHEMES))
    target_institution = cell_text(300, required=True)
    target_course = cell_text(100, required=True)
    credits_granted = fields.Decimal(required=True, validate=validate.Range(min=0, max=MAX_CREDITS))
    credit_system = fields.String(
        required=True,
        validate=validate.Regexp(
            CREDIT_SYSTEM, error="Expected a credit system code, e.g. ECTS or GB-CATS."
        ),
    )
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    status = fields.String(load_default="proposed", validate=validate.OneOf(STATUSES))

    @pre_load
    def _cells(self, data, **_):
        if not isinstance(data, dict):
            return data
        # An empty optional cell means its default, not "clear it": a rule is stated whole.
        data = {key: value for key, value in data.items() if value is not None or key in REQUIRED}
        for key in ("source_scheme", "target_scheme", "status"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().lower()
        if isinstance(data.get("credit_system"), str):
            data["credit_system"] = data["credit_system"].strip().upper()
        if isinstance(data.get("credits_granted"), str) and DECIMAL_COMMA.match(
            data["credits_granted"]
        ):
            data["credits_granted"] = data["credits_granted"].replace(",", ".")
        return data


def whole_file(
    stream: IO[bytes], columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[list[tuple[str, Any]], Iterator[tuple[str, Any]]]:
    """A long-format CSV read whole first (a rule's rows may be anywhere in it): its rows, and
    the records to run. Where the file breaks off, every row read is refused naming where (a
    rule is applied whole, and what the cut took is unknown), then the break is raised."""
    rows: list[tuple[str, Any]] = []
    broken: FileError | None = None
    try:
        rows.extend(read_csv(stream, columns, required))
    except FileError as error:
        broken = error

    def records() -> Iterator[tuple[str, Any]]:
        for position, row in rows:
            cut = broken and not isinstance(row, Rejected)
            yield (
                position,
                (
                    Rejected(f"not applied: the file breaks off at {broken.position}")
                    if cut
                    else row
                ),
            )
        if broken:
            raise broken

    return rows, records()


class RuleRows:
    """The positions of each rule's rows as a long-format file has them (a rule is applied whole,
    so a batch must know which of its rows are still to come), and the institutions named in
    the file, each looked up once (by the registry's id or an identifier scheme). Shared by the
    long-format CSV imports (articulations, pathways)."""

    def __init__(self, rows: list[tuple[str, Any]]):
        self.positions: dict[str, list[str]] = defaultdict(list)
        for position, row in rows:
            if isinstance(row, dict) and row.get("rule_id"):
                self.positions[row["rule_id"]].append(position)
        self.institutions: dict[tuple[str, str], Institution | None] = {}

    def institution(self, session: Session, scheme: str, value: str) -> Institution | None:
        key = (scheme, value)
        if key not in self.institutions:
            if scheme == "id":
                number = whole_number(value)
                found = None if number is None else session.get(Institution, number)
            else:
                try:
                    found = find_by_identifier(session, scheme, normalise_identifier(scheme, value))
                except ValueError:
                    found = None
            self.institutions[key] = found
        return self.institutions[key]

    def inconsistent(
        self,
        noun: str,
        rule_id: str,
        members: list[tuple[int, str, dict[str, Any]]],
        columns: tuple[str, ...],
    ) -> str | None:
        """Why a rule cannot be applied from its valid rows `members`, or None: one of its rows
        is invalid (a rule is applied whole or not at all), or its rows disagree on a column
        every row of the rule repeats."""
        arrived = {position for _, position, _ in members}
        missing = [position for position in self.positions[rule_id] if position not in arrived]
        if missing:
            return (
                f"{noun} {rule_id!r} is applied whole or not at all, and its "
                f"{', '.join(missing)} is invalid"
            )
        first_position, first = members[0][1], members[0][2]
        for _, position, row in members[1:]:
            for name in columns:
                if row[name] != first[name]:
                    return (
                        f"{noun} {rule_id!r}: {position} states {name} {row[name]}, "
                        f"but {first_position} states {first[name]}"
                    )
        return None


class _Rules(RuleRows):
    """An articulation import's rows and look-ups: the institutions', and its courses'."""

    def __init__(self, rows: list[tuple[str, Any]]):
        super().__init__(rows)
        self.courses: dict[tuple[int, str], Course | None] = {}

    def course(self, session: Session, institution_id: int, code: str) -> Course | None:
        key = (institution_id, code)
        if key not in self.courses:
            self.courses[key] = session.scalar(
                select(Course).where(Course.institution_id == institution_id, Course.code == code)
            )
        return self.courses[key]


def _apply(actor: Actor, rules: _Rules):
    def apply(session: Session, batch: list[tuple[str, dict[str, Any]]]):
        grouped: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
        for number, (position, row) in enumerate(batch):
            grouped[row["rule_id"]].append((number, position, row))
        outcomes: list[tuple[str, str | None]] = [("rejected", None)] * len(batch)
        for rule_id, members in grouped.items():
            outcome, reason = _rule(session, actor, rules, rule_id, members)
            for number, _, _ in members:
                outcomes[number] = (outcome, reason)
        return outcomes

    return apply


def _rule(
    session: Session,
    actor: Actor,
    rules: _Rules,
    rule_id: str,
    members: list[tuple[int, str, dict[str, Any]]],
) -> tuple[str, str | None]:
    """What becomes of one rule, given its valid rows: (outcome, reason)."""
    problem = rules.inconsistent("rule", rule_id, members, RULE_FIELDS)
    if problem:
        return "rejected", problem
    first = members[0][2]
    sides = {}
    for side in ("source", "target"):
        scheme, value = first[f"{side}_scheme"], first[f"{side}_institution"]
        institution = rules.institution(session, scheme, value)
        if institution is None:
            return "rejected", f"rule {rule_id!r}: no {side} institution with {scheme} {value!r}"
        ids = []
        for _, position, row in members:
            course = rules.course(session, institution.id, row[f"{side}_course"])
            if course is None:
                return "rejected", (
                    f"rule {rule_id!r}, {position}: no course "
                    f"{row[f'{side}_course']!r} at {institution.name} "
                    f"(institution {institution.id})"
                )
            ids.append(course.id)
        sides[side] = (institution.id, sorted(set(ids)))
    record = {
        "rule_id": rule_id,
        "source_institution_id": sides["source"][0],
        "target_institution_id": sides["target"][0],
        "source_course_ids": sides["source"][1],
        "target_course_ids": sides["target"][1],
        "credits_granted": first["credits_granted"],
        "credit_system": first["credit_system"],
        "valid_from": first["valid_from"],
        "valid_to": first["valid_to"],
        "status": first["status"],
        "reason": None,
    }
    result = articulations.upsert_articulation(session, actor, record)
    return result.outcome, (f"rule {rule_id!r}: {result.reason}" if result.reason else None)


def import_articulations(
    sessions: sessionmaker[Session],
    actor: Actor,
    stream: IO[bytes],
    source: str,
    *,
    atomic: bool = False,
    progress=None,
) -> ImportReport:
    """Import articulations from an `articulations-csv` file. Raises PermissionDenied before
    reading when the actor's role may not edit catalogues at all."""
    authorize_role(actor, articulations.ACTION)
    rows, records = whole_file(stream, COLUMNS, REQUIRED)
    rules = _Rules(rows)
    report = ImportReport(FORMAT, source, atomic=atomic)
    # One batch: the rows of a rule may be anywhere in the file, and a rule is applied whole.
    return run(
        sessions,
        actor,
        report,
        records,
        ArticulationRowSchema(),
        _apply(actor, rules),
        batch_size=len(rows) + 1,
        progress=progress,
    )
