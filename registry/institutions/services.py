"""Institutions: look-ups, batch upserts for imports, and permission-checked edits.

An institution is found again by any identifier it holds (ROR id, domain, Erasmus code...), else
by its country and normalised name, so re-importing a list changes nothing and a second list
enriches the records the first one made instead of duplicating them. The primary name of an
existing institution never changes on import (two lists would flip it back and forth); other
spellings are kept as aliases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from registry.core import audit, changes
from registry.core.errors import Conflict, InvalidData, NotFound
from registry.core.normalise import name_key
from registry.core.permissions import Actor, Target, authorize
from registry.institutions.models import Institution, InstitutionIdentifier, InstitutionName
from registry.institutions.schemas import (
    IdentifierSchema,
    InstitutionRecordSchema,
    NameSchema,
    StatusSchema,
)

CHANGES = "institutions"
# The identifier that best says "the same institution", tried first.
SCHEME_ORDER = (
    "ror",
    "erasmus",
    "pic",
    "schac",
    "national",
    "grid",
    "isni",
    "wikidata",
    "fundref",
    "domain",
)


def target_of(institution: Institution) -> Target:
    return Target(
        "institution",
        str(institution.id),
        country=institution.country,
        institution=str(institution.id),
    )


def get_institution(session: Session, institution_id: int) -> Institution:
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"No institution {institution_id}.", id=institution_id)
    return institution


def find_by_identifier(session: Session, scheme: str, value: str) -> Institution | None:
    return session.scalar(
        select(Institution)
        .join(InstitutionIdentifier)
        .where(InstitutionIdentifier.scheme == scheme, InstitutionIdentifier.value == value)
    )


def name_entries(session: Session, since: dt.datetime | None = None):
    """(institution id, name, country, kind) for every name of every institution (changed since
    `since`), for the in-memory name index; primary names come first."""
    query = select(Institution.id, Institution.name, Institution.country).order_by(Institution.id)
    alias_query = (
        select(
            InstitutionName.institution_id,
            InstitutionName.value,
            Institution.country,
            InstitutionName.kind,
        )
        .join(Institution)
        .order_by(InstitutionName.institution_id)
    )
    if since is not None:
        query = query.where(Institution.updated_at >= since)
        alias_query = alias_query.where(Institution.updated_at >= since)
    for row in session.execute(query):
        yield row.id, row.name, row.country, "name"
    for row in session.execute(alias_query):
        yield row.institution_id, row.value, row.country, row.kind


def database_now(session: Session) -> dt.datetime:
    now = session.scalar(select(func.now()))
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Outcome:
    outcome: str  # inserted | updated | unchanged | rejected
    institution: Institution | None = None
    reason: str | None = None


def _identifiers_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = {(item["scheme"], item["value"]) for item in record["identifiers"]}
    return sorted(pairs, key=lambda pair: (SCHEME_ORDER.index(pair[0]), pair[1]))


def upsert_many(session: Session, records: list[dict[str, Any]]) -> list[Outcome]:
    """Insert or enrich a batch of validated records (InstitutionRecordSchema) in a few queries.

    A record whose identifier already belongs to another institution than the one it matches
    is rejected with the reason; the rest of the batch goes on.
    """
    keys = [name_key(record["name"]) for record in records]
    wanted = {pair for record in records for pair in _identifiers_of(record)}
    owners: dict[tuple[str, str], int] = {}
    for chunk in _chunks(sorted(wanted), 400):
        owners.update(
            {
                (row.scheme, row.value): row.institution_id
                for row in session.execute(
                    select(
                        InstitutionIdentifier.scheme,
                        InstitutionIdentifier.value,
                        InstitutionIdentifier.institution_id,
                    ).where(
                        tuple_(InstitutionIdentifier.scheme, InstitutionIdentifier.value).in_(chunk)
                    )
                )
            }
        )
    by_name: dict[tuple[str, str], int] = {}
    pairs = sorted({(record["country"], key) for record, key in zip(records, keys, strict=True)})
    for chunk in _chunks(pairs, 400):
        for row in session.execute(
            select(Institution.id, Institution.country, Institution.name_key)
            .where(tuple_(Institution.country, Institution.name_key).in_(chunk))
            .order_by(Institution.id)
        ):
            by_name.setdefault((row.country, row.name_key), row.id)
    ids = set(owners.values()) | set(by_name.values())
    loaded = {
        institution.id: institution
        for chunk in _chunks(sorted(ids), 400)
        for institution in session.scalars(
            select(Institution)
            .where(Institution.id.in_(chunk))
            .options(selectinload(Institution.names), selectinload(Institution.identifiers))
        )
    }
    results = []
    # What this batch has placed so far, new (unflushed) institutions included.
    placed: dict[tuple[str, str], Institution] = {}
    placed_names: dict[tuple[str, str], Institution] = {}

    def holder(pair: tuple[str, str]) -> Institution | None:
        return placed.get(pair) or loaded.get(owners.get(pair))

    for record, key in zip(records, keys, strict=True):
        identifiers = _identifiers_of(record)
        natural = (record["country"], key)
        institution = next((holder(pair) for pair in identifiers if holder(pair)), None)
        if institution is None:
            institution = placed_names.get(natural) or loaded.get(by_name.get(natural))
        clashes = [
            f"{scheme}:{value}"
            for scheme, value in identifiers
            if holder((scheme, value)) not in (None, institution)
        ]
        if clashes:
            results.append(
                Outcome("rejected", reason=f"{', '.join(clashes)} belongs to another institution")
            )
            continue
        if institution is None:
            institution = Institution(
                name=record["name"],
                name_key=key,
                country=record["country"],
                city=record["city"],
                status=record["status"] or "unknown",
                status_source=record["status_source"],
                status_date=record["status_date"],
            )
            session.add(institution)
            _merge(institution, record)
            outcome = "inserted"
        else:
            outcome = "updated" if _merge(institution, record) else "unchanged"
        for pair in identifiers:
            placed[pair] = institution
        placed_names[natural] = institution
        results.append(Outcome(outcome, institution))
    session.flush()
    if any(result.outcome in ("inserted", "updated") for result in results):
        changes.renew(session, CHANGES)
    return results


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _merge(institution: Institution, record: dict[str, Any]) -> bool:
    """Add what the record knows and the institution lacks; True when anything changed."""
    changed = False
    names = {(name.kind, name.value) for name in institution.names}
    if record["name"] != institution.name and ("alias", record["name"]) not in names:
        institution.names.append(
            InstitutionName(value=record["name"], key=name_key(record["name"]), kind="alias")
        )
        names.add(("alias", record["name"]))
        changed = True
    for name in record["names"]:
        if name["value"] == institution.name or (name["kind"], name["value"]) in names:
            continue
        institution.names.append(
            InstitutionName(
                value=name["value"],
                key=name_key(name["value"]),
                lang=name["lang"],
                kind=name["kind"],
            )
        )
        names.add((name["kind"], name["value"]))
        changed = True
    held = {(identifier.scheme, identifier.value) for identifier in institution.identifiers}
    for scheme, value in _identifiers_of(record):
        if (scheme, value) not in held:
            institution.identifiers.append(InstitutionIdentifier(scheme=scheme, value=value))
            held.add((scheme, value))
            changed = True
    if record["city"] and not institution.city:
        institution.city = record["city"]
        changed = True
    if record["status"] and (record["status"], record["status_source"]) != (
        institution.status,
        institution.status_source,
    ):
        institution.status = record["status"]
        institution.status_source = record["status_source"]
        institution.status_date = record["status_date"]
        changed = True
    if changed and institution.id is not None:
        institution.updated_at = func.now()  # names and identifiers live in other tables
    return changed


# --- edits by an authority --------------------------------------------------------------------


class InstitutionEditSchema(Schema):
    """What an institution (or an admin) may add to its record."""

    city = fields.String(validate=validate.Length(1, 200))
    names = fields.List(fields.Nested(NameSchema))
    identifiers = fields.List(fields.Nested(IdentifierSchema))


def _validated(schema: Schema, raw: Any) -> dict[str, Any]:
    try:
        return schema.load(raw if raw is not None else {})
    except ValidationError as error:
        raise InvalidData(
            "The institution data is invalid; nothing was written.", errors=error.messages
        ) from error


def create_institution(session: Session, actor: Actor, raw: Any) -> Institution:
    """A new institution; an admin, or the ministry of its country, may create one."""
    record = _validated(InstitutionRecordSchema(), raw)
    authorize(
        actor,
        "institution.create",
        Target("institution", record["name"], country=record["country"]),
    )
    outcome = upsert_many(session, [record])[0]
    if outcome.outcome != "inserted":
        existing = outcome.institution
        raise Conflict(
            outcome.reason or f"This institution exists already (id {existing.id}).",
            action="institution.create",
            target=f"institution:{record['name']}",
            existing={"id": existing.id, "name": existing.name} if existing else None,
        )
    audit.record(
        session,
        actor,
        "institution.create",
        f"institution:{outcome.institution.id}",
        after=snapshot(outcome.institution),
    )
    return outcome.institution


def edit_institution(session: Session, actor: Actor, institution_id: int, raw: Any) -> Institution:
    """Add names and identifiers to an institution's record (the institution itself, or an admin)."""
    data = _validated(InstitutionEditSchema(), raw)
    institution = get_institution(session, institution_id)
    authorize(actor, "institution.edit", target_of(institution), "institution.edit")
    before = snapshot(institution)
    for scheme, value in [(i["scheme"], i["value"]) for i in data.get("identifiers", [])]:
        holder = find_by_identifier(session, scheme, value)
        if holder is not None and holder.id != institution.id:
            raise Conflict(
                f"{scheme} {value} belongs to institution {holder.id}.",
                action="institution.edit",
                target=f"institution:{institution.id}",
                existing={"id": holder.id, "name": holder.name},
            )
    record = {
        "name": institution.name,
        "city": data.get("city"),
        "status": None,
        "status_source": None,
        "status_date": None,
        "names": data.get("names", []),
        "identifiers": data.get("identifiers", []),
    }
    if data.get("city"):
        institution.city = data["city"]
    if _merge(institution, record) or data.get("city"):
        institution.updated_at = func.now()
        session.flush()
        changes.renew(session, CHANGES)
    session.refresh(institution)
    audit.record(
        session,
        actor,
        "institution.edit",
        f"institution:{institution.id}",
        before=before,
        after=snapshot(institution),
    )
    return institution


def set_status(session: Session, actor: Actor, institution_id: int, raw: Any) -> Institution:
    """Record an institution's recognition status, with its source (an admin, or the ministry of
    the institution's country)."""
    data = _validated(StatusSchema(), raw)
    institution = get_institution(session, institution_id)
    authorize(actor, "institution.status", target_of(institution))
    before = snapshot(institution)
    institution.status = data["status"]
    institution.status_source = data["status_source"]
    institution.status_date = data["status_date"] or dt.date.today()
    institution.updated_at = func.now()
    session.flush()
    session.refresh(institution)
    audit.record(
        session,
        actor,
        "institution.status",
        f"institution:{institution.id}",
        before=before,
        after=snapshot(institution),
    )
    return institution


def snapshot(institution: Institution) -> dict[str, Any]:
    return {
        "name": institution.name,
        "country": institution.country,
        "city": institution.city,
        "status": institution.status,
        "status_source": institution.status_source,
        "status_date": institution.status_date,
        "names": sorted(f"{n.kind}:{n.value}" for n in institution.names),
        "identifiers": sorted(f"{i.scheme}:{i.value}" for i in institution.identifiers),
    }
