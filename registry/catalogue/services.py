"""Qualifications and courses: look-ups and batch upserts for imports.

A qualification is found again by its natural key (institution, country, code), a course by
(institution, code), so re-importing a catalogue changes nothing and a changed row updates its
record in place. What a record leaves out stays as stored; what it states replaces the stored
value. Checks that need the database (the level exists in a framework, the credit system and the
institution are known) reject the one record with the reason; the rest of the batch goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true, tuple_
from sqlalchemy.orm import Session

from frameworks.services import get_credit_system, resolve_level
from registry.catalogue.models import Course, Qualification
from registry.core.errors import DomainError, NotFound
from registry.core.normalise import name_key
from registry.institutions.models import Institution

# What each kind of entry takes from a record; the natural key's fields are not among them.
QUALIFICATION_FIELDS = {
    "title": None,
    "language": None,
    "other_titles": list,
    "level": None,
    "credits": None,
    "credit_system": None,
    "isced_f": None,
    "qualification_type": None,
    "learning_outcomes": list,
    "identifiers": dict,
}
COURSE_FIELDS = {
    "title": None,
    "language": None,
    "credits": None,
    "credit_system": None,
    "level": None,
    "isced_f": None,
    "learning_outcomes": list,
}


@dataclass(frozen=True)
class Outcome:
    outcome: str  # inserted | updated | unchanged | rejected
    item: Qualification | Course | None = None
    reason: str | None = None


def get_qualification(session: Session, qualification_id: int) -> Qualification:
    qualification = session.get(Qualification, qualification_id)
    if qualification is None:
        raise NotFound(f"No qualification {qualification_id}.", id=qualification_id)
    return qualification


def find_qualifications(
    session: Session, institution_id: int | None = None, country: str | None = None
) -> list[Qualification]:
    """Qualifications of one institution and/or country (each filter only when given), by code."""
    query = select(Qualification).order_by(
        Qualification.country, Qualification.code, Qualification.id
    )
    if institution_id is not None:
        query = query.where(Qualification.institution_id == institution_id)
    if country is not None:
        query = query.where(Qualification.country == country)
    return list(session.scalars(query))


def search_catalogue(
    session: Session,
    institution_id: int | None,
    kind: str,
    text: str | None = None,
    limit: int = 25,
    offset: int = 0,
) -> tuple[list[Qualification] | list[Course], int]:
    """One page of an institution's qualifications or courses (`kind`), by code, and how many
    there are: those whose code or title contains `text` (matched on the normalised title, as
    look-ups are), all of them without it. An institution's catalogue is public. Without an
    institution, every catalogue is searched (and the national registers' qualifications)."""
    model = {"qualifications": Qualification, "courses": Course}[kind]
    condition = model.institution_id == institution_id if institution_id is not None else true()
    if text and text.strip():
        key = name_key(text)
        condition = condition & (
            model.code.icontains(text.strip(), autoescape=True)
            | (model.title_key.contains(key, autoescape=True) if key else false())
        )
    total = session.scalar(select(func.count()).select_from(model).where(condition)) or 0
    items = session.scalars(
        select(model).where(condition).order_by(model.code, model.id).limit(limit).offset(offset)
    )
    return list(items), total


def issuers_of(
    session: Session, entries: Iterable[Qualification | Course | None]
) -> dict[int, Institution]:
    """The institutions whose catalogues hold the entries, by id, for showing who issues what;
    a national register's entries (no institution) and None add nothing."""
    ids = {e.institution_id for e in entries if e is not None and e.institution_id is not None}
    if not ids:
        return {}
    found = session.scalars(select(Institution).where(Institution.id.in_(sorted(ids))))
    return {institution.id: institution for institution in found}


def get_course(session: Session, course_id: int) -> Course:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"No course {course_id}.", id=course_id)
    return course


class _References:
    """The database checks of one batch, each distinct value looked up once."""

    def __init__(self, session: Session, records: Sequence[dict[str, Any]]):
        self.session = session
        ids = sorted({r["institution_id"] for r in records if r.get("institution_id") is not None})
        self.countries = {
            row.id: row.country
            for chunk in _chunks(ids, 400)
            for row in session.execute(
                select(Institution.id, Institution.country).where(Institution.id.in_(chunk))
            )
        }
        self.levels: dict[str, tuple[str | None, str | None]] = {}
        self.systems: dict[str, str | None] = {}

    def level(self, ref: str) -> tuple[str | None, str | None]:
        """(the reference as the registry spells it, None) or (None, why it is not known)."""
        if ref not in self.levels:
            try:
                # A level of a superseded version still exists: older awards keep their level.
                self.levels[ref] = (resolve_level(self.session, ref, dt.date.today()).ref, None)
            except DomainError as error:
                self.levels[ref] = (None, error.detail)
        return self.levels[ref]

    def credit_system(self, code: str) -> str | None:
        """Why the credit system is not known, or None."""
        if code not in self.systems:
            try:
                get_credit_system(self.session, code, "credit_system")
                self.systems[code] = None
            except DomainError as error:
                self.systems[code] = error.detail
        return self.systems[code]

    def prepare(
        self, record: dict[str, Any], key_names: tuple[str, ...]
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The record as stored (canonical level; a country in the key defaults to the
        institution's), or the reason it cannot be stored."""
        record = dict(record)
        institution_id = record.get("institution_id")
        if institution_id is not None:
            if institution_id not in self.countries:
                return None, f"institution_id: no institution {institution_id}."
            if "country" in key_names and not record.get("country"):
                record["country"] = self.countries[institution_id]
        if record.get("level") is not None:
            record["level"], reason = self.level(record["level"])
            if reason:
                return None, f"level: {reason}"
        if record.get("credit_system") is not None:
            reason = self.credit_system(record["credit_system"])
            if reason:
                return None, f"credit_system: {reason}"
        return record, None


def upsert_qualifications(session: Session, records: list[dict[str, Any]]) -> list[Outcome]:
    """Insert or update a batch of validated records (QualificationRecordSchema), one outcome
    each, in the records' order."""
    return _upsert(
        session, records, Qualification, QUALIFICATION_FIELDS, ("institution_id", "country", "code")
    )


def upsert_courses(session: Session, records: list[dict[str, Any]]) -> list[Outcome]:
    """Insert or update a batch of validated records (CourseRecordSchema), one outcome each."""
    return _upsert(session, records, Course, COURSE_FIELDS, ("institution_id", "code"))


def _upsert(
    session: Session,
    records: list[dict[str, Any]],
    model,
    fields: dict[str, Any],
    key_names: tuple[str, ...],
) -> list[Outcome]:
    references = _References(session, records)
    prepared = [references.prepare(record, key_names) for record in records]
    keys = {tuple(record.get(name) for name in key_names) for record, _ in prepared if record}
    # Placed so far, new (unflushed) entries included: a key twice in a batch is one entry.
    placed = _existing(session, model, key_names, keys)
    results = []
    for record, reason in prepared:
        if record is None:
            results.append(Outcome("rejected", reason=reason))
            continue
        key = tuple(record.get(name) for name in key_names)
        values = {name: record[name] for name in fields if name in record}
        if "title" in values:
            values["title_key"] = name_key(values["title"])
        item = placed.get(key)
        if item is None:
            defaults = {name: default() if default else None for name, default in fields.items()}
            item = model(**dict(zip(key_names, key, strict=True)), **{**defaults, **values})
            session.add(item)
            placed[key] = item
            results.append(Outcome("inserted", item))
            continue
        changed = False
        for name, value in values.items():
            if getattr(item, name) != value:
                setattr(item, name, value)
                changed = True
        results.append(Outcome("updated" if changed else "unchanged", item))
    session.flush()
    return results


def _existing(session: Session, model, key_names: tuple[str, ...], keys: set[tuple]) -> dict:
    """The stored entries with these natural keys, by key. A NULL never equals anything in SQL,
    so keys without an institution (national register entries) are looked up apart."""
    found = {}
    for without_institution in (False, True):
        wanted = sorted(
            (key for key in keys if (key[0] is None) == without_institution),
            key=lambda key: tuple(str(part) for part in key),
        )
        names = key_names[1:] if without_institution else key_names
        columns = [getattr(model, name) for name in names]
        for chunk in _chunks(wanted, 400):
            values = [key[1:] if without_institution else key for key in chunk]
            condition: ColumnElement[bool] = tuple_(*columns).in_(values)
            if without_institution:
                condition = condition & model.institution_id.is_(None)
            for item in session.scalars(select(model).where(condition)):
                found[tuple(getattr(item, name) for name in key_names)] = item
    return found


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
