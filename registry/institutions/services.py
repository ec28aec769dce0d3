"""Institutions: look-ups, batch upserts for imports, and permission-checked edits.

An institution is found again by any identifier it holds (ROR id, domain, Erasmus code...), else
by its country and normalised name, so re-importing a list changes nothing and a second list
enriches the records the first one made instead of duplicating them. The primary name of an
existing institution never changes on import (two lists would flip it back and forth); other
spellings are kept as aliases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from registry.core import audit, changes
from registry.core.errors import Conflict, DomainError, InvalidData, NotFound, PermissionDenied
from registry.core.normalise import fold, name_key
from registry.core.permissions import Actor, Target, authorize
from registry.institutions.models import (
    IDENTIFYING,
    SINGLE_VALUED,
    Institution,
    InstitutionIdentifier,
    InstitutionName,
    InstitutionRelationship,
)
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


def write_target(institution: Institution | None, record: dict[str, Any]) -> Target:
    """What writing `record` really touches: the institution it resolved to (an existing one, or
    one an earlier record of the batch created), else a new institution of the record's
    country. Authorisation is decided on this, never on what the record claims."""
    if institution is None:
        return Target("institution", record["name"], country=record["country"])
    if institution.id is None:
        return Target("institution", institution.name, country=institution.country)
    return target_of(institution)


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


def held_abroad(session: Session, record: dict[str, Any]) -> tuple[Institution, str] | None:
    """An institution of another country than the record's that holds one of the record's
    identifiers (a web domain included), and the identifier; None when there is none. Whose it
    is, is for an admin or that country's ministry to settle, not for the first list that
    claims it."""
    pairs = [(item["scheme"], item["value"]) for item in record["identifiers"]]
    if not pairs:
        return None
    held = session.execute(
        select(InstitutionIdentifier.scheme, InstitutionIdentifier.value, Institution)
        .join(Institution)
        .where(
            tuple_(InstitutionIdentifier.scheme, InstitutionIdentifier.value).in_(pairs),
            Institution.country != record["country"],
        )
        .limit(1)
    ).first()
    return None if held is None else (held[2], f"{held[0]} {held[1]}")


def find_by_identifier(session: Session, scheme: str, value: str) -> Institution | None:
    """The institution holding this identifier (its matching form); None when none does, or
    when several share it (a web domain or funder id is evidence, and does not choose)."""
    found = session.scalars(
        select(Institution)
        .join(InstitutionIdentifier)
        .where(InstitutionIdentifier.scheme == scheme, InstitutionIdentifier.value == value)
        .distinct()
        .limit(2)
    ).all()
    return found[0] if len(found) == 1 else None


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


# Called with the institution a record resolved to (None: a new one) and the record, before
# anything is written; raises a DomainError to refuse the record (its detail is the reason).
Check = Callable[[Institution | None, dict[str, Any]], None]


def _identifiers_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = {(item["scheme"], item["value"]) for item in record["identifiers"]}
    return sorted(pairs, key=lambda pair: (SCHEME_ORDER.index(pair[0]), pair[1]))


def _identifying(record: dict[str, Any]) -> list[tuple[str, str]]:
    return [pair for pair in _identifiers_of(record) if pair[0] in IDENTIFYING]


def _record_names(record: dict[str, Any]) -> list[str]:
    """The names a record may be recognised by: its name and its other names but acronyms."""
    return [record["name"]] + [n["value"] for n in record["names"] if n["kind"] != "acronym"]


def _names_of(institution: Institution) -> set[str]:
    return {fold(institution.name)} | {
        fold(name.value) for name in institution.names if name.kind != "acronym"
    }


def _by_scheme(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for scheme, value in pairs:
        out.setdefault(scheme, set()).add(value)
    return out


def _describe(institution: Institution) -> str:
    ror = next((i.value for i in institution.identifiers if i.scheme == "ror"), None)
    number = f"institution {institution.id}" if institution.id else "an earlier record of this file"
    return f"{number} ({institution.name!r}{f', ror:{ror}' if ror else ''})"


def _contradiction(institution: Institution, record: dict[str, Any]) -> str | None:
    """Why the institution matched by an identifier cannot be the record's organisation: it
    holds another value of a scheme an organisation has one value of (two ROR ids...)."""
    held = _by_scheme((i.scheme, i.value) for i in institution.identifiers)
    mine = _by_scheme(_identifiers_of(record))
    for scheme in SINGLE_VALUED:
        if held.get(scheme) and mine.get(scheme) and not held[scheme] & mine[scheme]:
            return (
                f"{scheme}:{', '.join(sorted(mine[scheme]))} differs from the "
                f"{scheme}:{', '.join(sorted(held[scheme]))} of {_describe(institution)}"
            )
    return None


def _same_by_evidence(institution: Institution, record: dict[str, Any]) -> bool:
    """Whether a record without a shared identifier states the same organisation as the
    institution: the same country and a name in common (exactly, up to case, accents and
    punctuation: a bracketed qualifier counts), and nothing that tells them apart (different
    identifiers of one scheme, web domains none in common, different cities)."""
    if institution.country != record["country"]:
        return False
    if not {fold(name) for name in _record_names(record)} & _names_of(institution):
        return False
    held = _by_scheme((i.scheme, i.value) for i in institution.identifiers)
    mine = _by_scheme(_identifiers_of(record))
    for scheme in (*IDENTIFYING, "domain"):
        if held.get(scheme) and mine.get(scheme) and not held[scheme] & mine[scheme]:
            return False
    return not (
        record["city"] and institution.city and fold(record["city"]) != fold(institution.city)
    )


# The advisory lock (PostgreSQL) that writers of institutions take in turn; any fixed number.
INSTITUTION_WRITES = 1_700_017


def take_turn(session: Session) -> None:
    """Wait until no other transaction writes institutions (see upsert_many); held until this
    transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(INSTITUTION_WRITES)))


def upsert_many(
    session: Session, records: list[dict[str, Any]], check: Check | None = None
) -> list[Outcome]:
    """Insert or enrich a batch of validated records (InstitutionRecordSchema) in a few queries.

    A record is the institution that holds one of its identifying identifiers (ROR, GRID, ISNI,
    Wikidata, Erasmus, PIC, SCHAC, national id). Without one, it is the institution of its
    country that has one of its names and nothing telling them apart (see _same_by_evidence): a
    shared web domain, funder id or normalised name is evidence, never identity. A record whose
    identifiers belong to two institutions, that contradicts the institution its identifier
    names, or that fits several institutions, is rejected with the reason: distinct
    organisations are never merged. `check` is asked about the institution really written.

    Writers of institutions take turns, to the end of their transaction: no one key names an
    institution (an ON CONFLICT could not tell that two imports of one list add the same
    one), so two batches looking at once would each find nothing and each add it. SQLite
    writers take turns already (BEGIN IMMEDIATE); on PostgreSQL a transaction-level advisory
    lock does it, taken before anything is looked up.
    """
    take_turn(session)
    record_keys = [
        sorted({key for key in map(name_key, _record_names(record)) if key}) for record in records
    ]
    wanted = {pair for record in records for pair in _identifying(record)}
    owners: dict[tuple[str, str], int] = {}
    identity = InstitutionIdentifier.identity
    for chunk in _chunks(sorted(wanted), 400):
        owners.update(
            {
                (row.scheme, row.identity): row.institution_id
                for row in session.execute(
                    select(
                        InstitutionIdentifier.scheme, identity, InstitutionIdentifier.institution_id
                    ).where(tuple_(InstitutionIdentifier.scheme, identity).in_(chunk))
                )
            }
        )
    by_name: dict[tuple[str, str], set[int]] = {}
    pairs = sorted(
        {
            (record["country"], key)
            for record, keys in zip(records, record_keys, strict=True)
            for key in keys
        }
    )
    for chunk in _chunks(pairs, 400):
        for row in session.execute(
            select(Institution.id, Institution.country, Institution.name_key).where(
                tuple_(Institution.country, Institution.name_key).in_(chunk)
            )
        ):
            by_name.setdefault((row.country, row.name_key), set()).add(row.id)
        for row in session.execute(
            select(InstitutionName.institution_id, Institution.country, InstitutionName.key)
            .join(Institution)
            .where(
                tuple_(Institution.country, InstitutionName.key).in_(chunk),
                InstitutionName.kind != "acronym",
            )
        ):
            by_name.setdefault((row.country, row.key), set()).add(row.institution_id)
    ids = set(owners.values()) | {i for found in by_name.values() for i in found}
    loaded = {
        institution.id: institution
        for chunk in _chunks(sorted(ids), 400)
        for institution in session.scalars(
            select(Institution)
            .where(Institution.id.in_(chunk))
            .options(
                selectinload(Institution.names),
                selectinload(Institution.identifiers),
                selectinload(Institution.relationships),
            )
        )
    }
    results = []
    # What this batch has placed so far, new (unflushed) institutions included.
    placed: dict[tuple[str, str], Institution] = {}
    placed_names: dict[tuple[str, str], list[Institution]] = {}

    def holder(pair: tuple[str, str]) -> Institution | None:
        return placed.get(pair) or loaded.get(owners.get(pair))

    def candidates(country: str, keys: list[str]) -> list[Institution]:
        found: dict[int, Institution] = {}
        for key in keys:
            for number in sorted(by_name.get((country, key), ())):
                found.setdefault(id(loaded[number]), loaded[number])
            for institution in placed_names.get((country, key), ()):
                found.setdefault(id(institution), institution)
        return list(found.values())

    for record, keys in zip(records, record_keys, strict=True):
        identifying = _identifying(record)
        holders: dict[int, tuple[Institution, str]] = {}
        for pair in identifying:
            if (found := holder(pair)) is not None:
                holders.setdefault(id(found), (found, f"{pair[0]}:{pair[1]}"))
        if len(holders) > 1:
            results.append(
                Outcome(
                    "rejected",
                    reason="; ".join(
                        f"{pair} belongs to {_describe(found)}" for found, pair in holders.values()
                    )
                    + ": one record cannot be several organisations",
                )
            )
            continue
        if holders:
            institution = next(iter(holders.values()))[0]
            if reason := _contradiction(institution, record):
                results.append(
                    Outcome("rejected", reason=f"{reason}: distinct organisations, not merged")
                )
                continue
        else:
            same = [
                found
                for found in candidates(record["country"], keys)
                if _same_by_evidence(found, record)
            ]
            if len(same) > 1:
                results.append(
                    Outcome(
                        "rejected",
                        reason=(
                            "no identifier, and the name and country fit several institutions: "
                            + ", ".join(_describe(found) for found in same)
                        ),
                    )
                )
                continue
            institution = same[0] if same else None
        if check is not None:
            try:
                check(institution, record)
            except DomainError as error:
                results.append(Outcome("rejected", reason=error.detail))
                continue
        if institution is None:
            institution = Institution(
                name=record["name"],
                name_key=name_key(record["name"]),
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
        for pair in identifying:
            placed[pair] = institution
        for key in keys:
            bucket = placed_names.setdefault((record["country"], key), [])
            if all(other is not institution for other in bucket):
                bucket.append(institution)
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
    for item in sorted(
        record["identifiers"], key=lambda i: (SCHEME_ORDER.index(i["scheme"]), i["value"])
    ):
        scheme, value = item["scheme"], item["value"]
        if (scheme, value) not in held:
            institution.identifiers.append(
                InstitutionIdentifier(
                    scheme=scheme,
                    value=value,
                    given=item.get("given") or value,
                    identity=value if scheme in IDENTIFYING else None,
                )
            )
            held.add((scheme, value))
            changed = True
    related = {(r.type, r.related_ror) for r in institution.relationships}
    for item in record.get("relationships") or []:
        if (item["type"], item["id"]) not in related:
            institution.relationships.append(
                InstitutionRelationship(
                    type=item["type"], related_ror=item["id"], label=item.get("label")
                )
            )
            related.add((item["type"], item["id"]))
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


def relationships_of(session: Session, institution: Institution) -> list[dict[str, Any]]:
    """The institution's ROR relationships, each with the registry's institution at the other
    end (`institution_id`), or None while that organisation is not imported."""
    rows = session.execute(
        select(InstitutionRelationship, InstitutionIdentifier.institution_id)
        .outerjoin(
            InstitutionIdentifier,
            (InstitutionIdentifier.scheme == "ror")
            & (InstitutionIdentifier.identity == InstitutionRelationship.related_ror),
        )
        .where(InstitutionRelationship.institution_id == institution.id)
        .order_by(InstitutionRelationship.id)
    )
    return [
        {
            "type": relation.type,
            "ror": relation.related_ror,
            "label": relation.label,
            "institution_id": other,
        }
        for relation, other in rows
    ]


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
    """Add names and identifiers to an institution's record (the institution itself, or an
    admin). An identifier that identifies an institution (Erasmus code, PIC, SCHAC, ROR...) makes
    it the matched issuer of every credential naming it, so it is not the institution's own to
    claim: an admin sets it, or the ministry of its country through its list."""
    data = _validated(InstitutionEditSchema(), raw)
    institution = get_institution(session, institution_id)
    target = target_of(institution)
    authorize(actor, "institution.edit", target, "institution.edit")
    claimed = sorted({i["scheme"] for i in data.get("identifiers", [])} & set(IDENTIFYING))
    if claimed and actor.role != "admin":
        raise PermissionDenied(
            f"{', '.join(claimed)} identifiers are set by an admin or by the ministry of "
            f"{institution.country} through its list, not claimed by the institution itself.",
            action="institution.edit",
            target=f"{target.kind}:{target.key}",
        )
    before = snapshot(institution)
    for scheme, value in [(i["scheme"], i["value"]) for i in data.get("identifiers", [])]:
        # An institution does not claim what another holds, evidence (a domain) included.
        holder = session.scalar(
            select(Institution)
            .join(InstitutionIdentifier)
            .where(
                InstitutionIdentifier.scheme == scheme,
                InstitutionIdentifier.value == value,
                Institution.id != institution.id,
            )
            .limit(1)
        )
        if holder is not None:
            raise Conflict(
                f"{scheme} {value} belongs to institution {holder.id}: a conflict for an admin "
                f"or the ministry of {holder.country} to settle.",
                action="institution.edit",
                target=f"institution:{institution.id}",
                existing={"id": holder.id, "name": holder.name},
            )
    for name in data.get("names", []):
        # Nor another institution's name as an alias of its own (its credentials would match).
        if name["kind"] == "acronym" or actor.role == "admin":
            continue
        named = _named_elsewhere(session, institution, name["value"])
        if named is not None:
            raise Conflict(
                f"{name['value']!r} is the name of institution {named.id}: a conflict for an "
                f"admin or the ministry of {named.country} to settle.",
                action="institution.edit",
                target=f"institution:{institution.id}",
                existing={"id": named.id, "name": named.name},
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


def _named_elsewhere(session: Session, institution: Institution, value: str) -> Institution | None:
    """Another institution whose name, or a name of which (acronyms aside), is `value`."""
    key = name_key(value)
    return session.scalar(
        select(Institution)
        .outerjoin(InstitutionName)
        .where(
            Institution.id != institution.id,
            (Institution.name_key == key)
            | ((InstitutionName.key == key) & (InstitutionName.kind != "acronym")),
        )
        .limit(1)
    )


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
    changes.renew(session, CHANGES)  # the record's public read shows its status
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
