"""Pathways: written by the receiving institution, read by everyone once approved.

A pathway is found again by its natural key, the receiving institution and its `rule_id`, so
re-importing a list updates it. Only that institution's accounts (or an admin) write it: it is
part of its catalogue (`catalogue.edit` on the institution, as articulations are). A proposed or
rejected pathway is the institution's draft: to anyone else it answers exactly as an unknown id
(NotFound, and a write on it is refused as one: Hidden, audited). Authorisation is decided on the
stored record, never on what a request says about it.

Two approved pathways that state the same thing (the same institution, programme, credentials
and number to choose) may not be valid on the same day, so that an evaluation never has to
choose between them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session, selectinload

from registry.catalogue.models import Course, Qualification
from registry.catalogue.pathways import checks
from registry.catalogue.pathways.checks import resolve_credentials
from registry.catalogue.pathways.models import Pathway, PathwayCredential
from registry.catalogue.pathways.schemas import (
    PathwayChangeSchema,
    PathwayDecisionSchema,
    PathwayRecordSchema,
)
from registry.core import audit
from registry.core.errors import (
    Conflict,
    DomainError,
    Hidden,
    InvalidData,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from registry.core.normalise import whole_number
from registry.core.permissions import Actor, Target, authorize
from registry.institutions.models import Institution

# The services, resolve_credentials among them (it lives with the checks that use it).
__all__ = [
    "Outcome",
    "approved_on",
    "create_pathway",
    "decide",
    "find_pathway",
    "get_pathway",
    "list_pathways",
    "may_see_drafts",
    "present",
    "resolve_credentials",
    "snapshot",
    "target_of",
    "update_pathway",
    "upsert_pathway",
    "visible",
]

ACTION = "catalogue.edit"
# What an update may change, as `snapshot` names it: not the key (institution, rule_id).
UPDATE_FIELDS = (
    "title",
    "description",
    "programme_id",
    "credentials",
    "choose",
    "credits",
    "credit_system",
    "min_grade",
    "min_grade_scale",
    "supervision",
    "quality_assured",
    "max_age_months",
    "max_total_credits",
    "valid_from",
    "valid_to",
    "status",
    "reason",
    "source",
)


@dataclass(frozen=True)
class Outcome:
    outcome: str  # inserted | updated | unchanged | rejected
    pathway: Pathway | None = None
    reason: str | None = None


def _load(schema: Schema, raw: Any, **kwargs) -> dict[str, Any]:
    try:
        return schema.load(raw if raw is not None else {}, **kwargs)
    except ValidationError as error:
        raise InvalidData(
            "The pathway is invalid; nothing was written.", errors=error.messages
        ) from error


# --- who may see and write --------------------------------------------------------------------


def target_of(institution_id: int, rule_id: str = "", pathway_id: int | None = None) -> Target:
    """Whose pathway it is: the receiving institution's. A stored one is named by its id, as
    its audit events are; a new one by institution and rule_id (a rule_id alone is unique only
    within one institution), so a refusal is recorded against the right record."""
    if pathway_id is not None:
        key = str(pathway_id)
    else:
        key = f"{institution_id}/{rule_id}" if rule_id else ""
    return Target("pathway", key, institution=str(institution_id))


def may_see_drafts(actor: Actor, institution_id: int) -> bool:
    """Whether the actor may see the institution's proposed and rejected pathways: those who
    may write them (its accounts, admins)."""
    try:
        authorize(actor, ACTION, target_of(institution_id))
    except (Unauthenticated, PermissionDenied):
        return False
    return True


def visible(actor: Actor, pathway: Pathway) -> bool:
    return pathway.status == "approved" or may_see_drafts(actor, pathway.institution_id)


def _find(session: Session, actor: Actor, pathway_id: int, operation: str | None) -> Pathway:
    pathway = session.get(Pathway, pathway_id)
    detail = f"No pathway {pathway_id}."
    if pathway is None:
        raise NotFound(detail, id=pathway_id)
    if not visible(actor, pathway):
        if operation is None:
            raise NotFound(detail, id=pathway_id)
        raise Hidden(detail, action=operation, target=f"pathway:{pathway_id}", id=pathway_id)
    return pathway


# --- reads ------------------------------------------------------------------------------------


def _with_parts(query):
    return query.options(
        selectinload(Pathway.institution),
        selectinload(Pathway.programme),
        selectinload(Pathway.credentials).selectinload(PathwayCredential.qualification),
        selectinload(Pathway.credentials).selectinload(PathwayCredential.course),
    )


def get_pathway(session: Session, actor: Actor, pathway_id: int) -> Pathway:
    """One pathway; NotFound when there is none, or when it is a draft of an institution whose
    drafts the actor may not see."""
    return _find(session, actor, pathway_id, None)


def find_pathway(session: Session, institution_id: int, rule_id: str) -> Pathway | None:
    return session.scalar(
        select(Pathway).where(Pathway.institution_id == institution_id, Pathway.rule_id == rule_id)
    )


def list_pathways(
    session: Session,
    actor: Actor,
    *,
    institution_id: int | None = None,
    programme_id: int | None = None,
    status: str | None = None,
) -> list[Pathway]:
    """The pathways the actor may see, by id, each filter only when given: approved ones, and
    the drafts of the institutions whose drafts it may see. [] when none."""
    query = _with_parts(select(Pathway)).order_by(Pathway.id)
    if institution_id is not None:
        query = query.where(Pathway.institution_id == institution_id)
    if programme_id is not None:
        query = query.where(Pathway.programme_id == programme_id)
    if status is not None:
        query = query.where(Pathway.status == status)
    # The query narrows to what may be visible; the permission rule decides, row by row.
    if actor.role != "admin":
        own = [whole_number(scope, 9) for scope in actor.scopes] if actor.role else []
        query = query.where(
            or_(
                Pathway.status == "approved",
                Pathway.institution_id.in_([i for i in own if i is not None]),
            )
        )
    return [pathway for pathway in session.scalars(query) if visible(actor, pathway)]


def approved_on(
    session: Session,
    day: dt.date,
    *,
    qualification_ids: Iterable[int] = (),
    course_ids: Iterable[int] = (),
    programme_id: int | None = None,
) -> list[Pathway]:
    """The approved pathways valid on `day`, by id: those that accept any of the given
    qualifications or courses (when some are given), toward `programme_id` (when given); every
    approved one valid that day when neither is. [] when none."""
    query = _with_parts(
        select(Pathway).where(
            Pathway.status == "approved",
            or_(Pathway.valid_from.is_(None), Pathway.valid_from <= day),
            or_(Pathway.valid_to.is_(None), Pathway.valid_to > day),
        )
    ).order_by(Pathway.id)
    held = [
        column.in_(ids)
        for column, ids in (
            (PathwayCredential.qualification_id, sorted(set(qualification_ids))),
            (PathwayCredential.course_id, sorted(set(course_ids))),
        )
        if ids
    ]
    if held:
        query = query.where(Pathway.id.in_(select(PathwayCredential.pathway_id).where(or_(*held))))
    if programme_id is not None:
        query = query.where(Pathway.programme_id == programme_id)
    return list(session.scalars(query))


def snapshot(pathway: Pathway) -> dict[str, Any]:
    """The pathway as its audit events store it (ids, not names)."""
    return {
        "id": pathway.id,
        "rule_id": pathway.rule_id,
        "institution_id": pathway.institution_id,
        "title": pathway.title,
        "description": pathway.description,
        "programme_id": pathway.programme_id,
        "credentials": pathway.accepted,
        "choose": pathway.choose,
        "credits": pathway.credits,
        "credit_system": pathway.credit_system,
        "min_grade": pathway.min_grade,
        "min_grade_scale": pathway.min_grade_scale,
        "supervision": pathway.supervision,
        "quality_assured": pathway.quality_assured,
        "max_age_months": pathway.max_age_months,
        "max_total_credits": pathway.max_total_credits,
        "valid_from": pathway.valid_from,
        "valid_to": pathway.valid_to,
        "status": pathway.status,
        "decided_by": pathway.decided_by,
        "reason": pathway.reason,
        "source": pathway.source,
    }


def _institution(institution: Institution | None) -> dict[str, Any] | None:
    if institution is None:
        return None
    return {"id": institution.id, "name": institution.name, "country": institution.country}


def _entry(item: Qualification | Course) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "title": item.title,
        "level": item.level,
        "credits": audit.plain(item.credits),
        "credit_system": item.credit_system,
    }


def present(pathway: Pathway) -> dict[str, Any]:
    """The pathway as the API and the CLI show it (PathwaySchema): institutions, programme and
    credentials with their names, decimals as strings, dates in ISO form."""
    session = object_session(pathway)
    credentials = []
    for link in pathway.credentials:
        item = link.qualification if link.qualification_id is not None else link.course
        issuer = (
            session.get(Institution, item.institution_id)
            if session is not None and item.institution_id is not None
            else None
        )
        entry = {"kind": link.kind, **_entry(item), "institution": _institution(issuer)}
        if isinstance(item, Qualification):
            entry["qualification_type"] = item.qualification_type
        credentials.append(entry)
    return {
        "id": pathway.id,
        "rule_id": pathway.rule_id,
        "institution": _institution(pathway.institution),
        "title": pathway.title,
        "description": pathway.description,
        "programme": {
            **_entry(pathway.programme),
            "qualification_type": pathway.programme.qualification_type,
        },
        "credentials": credentials,
        "choose": pathway.choose,
        "credits": audit.plain(pathway.credits),
        "credit_system": pathway.credit_system,
        "conditions": {
            "min_grade": pathway.min_grade,
            "min_grade_scale": pathway.min_grade_scale,
            "supervision": pathway.supervision,
            "quality_assured": pathway.quality_assured,
            "max_age_months": pathway.max_age_months,
            "max_total_credits": audit.plain(pathway.max_total_credits),
        },
        "valid_from": audit.plain(pathway.valid_from),
        "valid_to": audit.plain(pathway.valid_to),
        "status": pathway.status,
        "decided_by": pathway.decided_by,
        "reason": pathway.reason,
        "source": pathway.source,
        "created_at": audit.plain(pathway.created_at),
        "updated_at": audit.plain(pathway.updated_at),
    }


# --- writes -----------------------------------------------------------------------------------


def create_pathway(session: Session, actor: Actor, raw: Any) -> Pathway:
    """A new pathway of the receiving institution (its account, or an admin).

    InvalidData for bad input (every problem, per field); Conflict when the institution already
    has this rule_id, or when it would be approved while an approved pathway stating the same
    is valid on some of the same days.
    """
    data = _load(PathwayRecordSchema(), raw)
    authorize(actor, ACTION, target_of(data["institution_id"], data["rule_id"]), "pathway.create")
    existing = find_pathway(session, data["institution_id"], data["rule_id"])
    if existing is not None:
        raise Conflict(
            f"Institution {existing.institution_id} already has pathway {existing.rule_id!r} "
            f"(pathway {existing.id}).",
            action="pathway.create",
            target=f"pathway:{data['institution_id']}/{data['rule_id']}",
            existing={"id": existing.id, "rule_id": existing.rule_id},
        )
    return _insert(session, actor, data)


def update_pathway(session: Session, actor: Actor, pathway_id: int, raw: Any) -> Pathway:
    """Change a pathway (partly); a change of status is a decision (`pathway.decide`).

    The institution and the rule_id cannot change (they are its key); a new programme must be
    in the same institution's catalogue. NotFound for an unknown id or another's draft;
    PermissionDenied for another's approved pathway; else raises as `create_pathway` does.
    """
    action = "pathway.decide" if isinstance(raw, dict) and "status" in raw else "pathway.update"
    pathway = _find(session, actor, pathway_id, action)
    authorize(actor, ACTION, target_of(pathway.institution_id, pathway_id=pathway.id), action)
    data = _load(PathwayChangeSchema(), raw, partial=True)
    return _change(session, actor, pathway, data, action)


def decide(session: Session, actor: Actor, pathway_id: int, raw: Any) -> Pathway:
    """Approve, reject or re-open a pathway: {"status": ..., "reason": ...}."""
    pathway = _find(session, actor, pathway_id, "pathway.decide")
    authorize(
        actor, ACTION, target_of(pathway.institution_id, pathway_id=pathway.id), "pathway.decide"
    )
    return _change(session, actor, pathway, _load(PathwayDecisionSchema(), raw), "pathway.decide")


def upsert_pathway(session: Session, actor: Actor, record: Any) -> Outcome:
    """Insert or update by natural key (institution, rule_id), for imports: a record in the
    PathwayRecordSchema shape, validated here as any write is. A record that cannot be stored
    (invalid, not permitted, unresolved references, overlap) is `rejected` with the reason and
    changes nothing; nothing else raises. A record without a reason leaves the stored reason."""
    try:
        data = _load(PathwayRecordSchema(), record)
        authorize(actor, ACTION, target_of(data["institution_id"], data["rule_id"]))
        existing = find_pathway(session, data["institution_id"], data["rule_id"])
        if existing is None:
            return Outcome("inserted", _insert(session, actor, data))
        changes, errors = checks.prepared(session, existing.institution_id, data)
        if errors:
            raise InvalidData("The pathway cannot be stored as given.", errors=errors)
        changes = {
            name: changes[name]
            for name in UPDATE_FIELDS
            if name != "reason" or changes[name] is not None
        }
        current = snapshot(existing)
        if all(current[name] == value for name, value in changes.items()):
            return Outcome("unchanged", existing)
        action = "pathway.decide" if changes["status"] != existing.status else "pathway.update"
        return Outcome("updated", _change(session, actor, existing, changes, action, resolved=True))
    except DomainError as error:
        return Outcome("rejected", reason=_reason(error))


def _reason(error: DomainError) -> str:
    def said(messages: Any) -> str:
        if isinstance(messages, dict):
            return "; ".join(f"{key}: {said(value)}" for key, value in messages.items())
        if isinstance(messages, list):
            return " ".join(map(str, messages))
        return str(messages)

    details = said(error.errors)
    return f"{error.detail} ({details})" if details else error.detail


def _insert(session: Session, actor: Actor, data: dict[str, Any]) -> Pathway:
    values, errors = checks.prepared(session, data["institution_id"], data)
    values["decided_by"] = actor.name if values["status"] != "proposed" else None
    checks.check(session, None, values, "pathway.create", errors)
    pathway = Pathway(institution_id=values["institution_id"], rule_id=values["rule_id"])
    _apply(pathway, values)
    session.add(pathway)
    session.flush()
    audit.record(session, actor, "pathway.create", f"pathway:{pathway.id}", after=snapshot(pathway))
    return pathway


def _change(
    session: Session,
    actor: Actor,
    pathway: Pathway,
    data: dict[str, Any],
    action: str,
    resolved: bool = False,
) -> Pathway:
    """Check the changed pathway as plain values first, so that a refused change leaves the
    stored one untouched (an import goes on with the next record)."""
    before = snapshot(pathway)
    changes, errors = (
        (data, {}) if resolved else checks.prepared(session, pathway.institution_id, data)
    )
    values = {**before, **changes}
    if values["status"] != pathway.status:
        values["decided_by"] = actor.name if values["status"] != "proposed" else None
    with session.no_autoflush:
        checks.check(session, pathway.id, values, action, errors)
    _apply(pathway, values)
    session.flush()
    # The programme as loaded before would outlive a change of programme_id.
    session.expire(pathway, ["programme"])
    audit.record(
        session, actor, action, f"pathway:{pathway.id}", before=before, after=snapshot(pathway)
    )
    return pathway


def _apply(pathway: Pathway, values: dict[str, Any]) -> None:
    for name in UPDATE_FIELDS + ("decided_by",):
        if name != "credentials":
            setattr(pathway, name, values[name])
    wanted = [(entry["kind"], entry["id"]) for entry in values["credentials"]]
    if wanted != [(entry["kind"], entry["id"]) for entry in pathway.accepted]:
        pathway.credentials.clear()
        for position, (kind, item_id) in enumerate(wanted):
            pathway.credentials.append(
                PathwayCredential(position=position, **{f"{kind}_id": item_id})
            )
