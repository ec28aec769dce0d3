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
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session, selectinload

from frameworks.models import GradingScale
from frameworks.services import get_credit_system, get_grading_scale
from registry.catalogue.models import Course, Qualification
from registry.catalogue.pathways.models import Pathway, PathwayCredential
from registry.catalogue.pathways.schemas import (
    PathwayDecisionSchema,
    PathwayChangeSchema,
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
from registry.core.normalise import name_key, whole_number
from registry.core.permissions import Actor, Target, authorize
from registry.institutions.models import Institution

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
MODELS = {"qualification": Qualification, "course": Course}


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


def target_of(institution_id: int, rule_id: str = "") -> Target:
    """Whose pathway it is: the receiving institution's."""
    return Target("pathway", rule_id, institution=str(institution_id))


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


def credentials_of(pathway: Pathway) -> list[dict[str, Any]]:
    """The accepted credentials in order, as snapshots and resolved references write them."""
    return [
        {"kind": link.kind, "id": link.qualification_id or link.course_id}
        for link in pathway.credentials
    ]


def snapshot(pathway: Pathway) -> dict[str, Any]:
    """The pathway as its audit events store it (ids, not names)."""
    return {
        "id": pathway.id,
        "rule_id": pathway.rule_id,
        "institution_id": pathway.institution_id,
        "title": pathway.title,
        "description": pathway.description,
        "programme_id": pathway.programme_id,
        "credentials": credentials_of(pathway),
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


# --- references -------------------------------------------------------------------------------


def resolve_credentials(session: Session, references: list[dict[str, Any]]) -> list[dict]:
    """Credential references (PathwayReferenceSchema) as [{"kind", "id"}], in order.

    InvalidData naming each reference that names nothing, names several entries, or repeats an
    earlier one: errors={"credentials": {"<index>": [why]}}, indexes from 0 as marshmallow's.
    """
    resolved, problems = [], {}
    seen: dict[tuple[str, int], int] = {}
    for index, reference in enumerate(references):
        found, problem = _resolve(session, reference)
        if problem is not None:
            problems[str(index)] = [problem]
            continue
        key = (found["kind"], found["id"])
        if key in seen:
            problems[str(index)] = [
                f"Repeats credential {seen[key]} ({found['kind']} {found['id']})."
            ]
            continue
        seen[key] = index
        resolved.append(found)
    if problems:
        raise InvalidData(
            "Some credentials are not in the registry's catalogue as given.",
            errors={"credentials": problems},
        )
    return resolved


def _resolve(session: Session, reference: dict[str, Any]) -> tuple[dict | None, str | None]:
    for kind in MODELS:
        if reference.get(f"{kind}_id") is not None:
            item_id = reference[f"{kind}_id"]
            if session.get(MODELS[kind], item_id) is None:
                return None, f"No {kind} {item_id}."
            return {"kind": kind, "id": item_id}, None
    kind, institution_id = reference["kind"], reference["institution_id"]
    if session.get(Institution, institution_id) is None:
        return None, f"No institution {institution_id}."
    model = MODELS[kind]
    if reference.get("code") is not None:
        condition, said = model.code == reference["code"], repr(reference["code"])
    else:
        condition, said = (
            model.title_key == name_key(reference["title"]),
            (f"titled {reference['title']!r}"),
        )
    found = list(
        session.scalars(
            select(model)
            .where(model.institution_id == institution_id, condition)
            .order_by(model.id)
        )
    )
    if not found:
        return None, f"No {kind} {said} in institution {institution_id}'s catalogue."
    if len(found) > 1:
        ids = ", ".join(f"{item.id} ({item.code})" for item in found)
        return None, (
            f"Several {kind}s {said} in institution {institution_id}'s catalogue: {ids}; "
            f"give {kind}_id."
        )
    return {"kind": kind, "id": found[0].id}, None


def _prepared(
    session: Session, institution_id: int, data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`data` with the programme's code and the credential references resolved, and what could
    not be resolved (errors per field)."""
    values, errors = dict(data), {}
    code = values.pop("programme_code", None)
    if code is not None:
        found = list(
            session.scalars(
                select(Qualification.id).where(
                    Qualification.institution_id == institution_id, Qualification.code == code
                )
            )
        )
        if len(found) == 1:
            values["programme_id"] = found[0]
        else:
            values["programme_id"] = None
            errors["programme_code"] = [
                f"No qualification {code!r} in institution {institution_id}'s catalogue."
                if not found
                else f"Several qualifications {code!r} in institution {institution_id}'s "
                "catalogue: give programme_id."
            ]
    if "credentials" in values:
        try:
            values["credentials"] = resolve_credentials(session, values["credentials"])
        except InvalidData as error:
            values["credentials"] = None
            errors.update(error.errors)
    return values, errors


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
    authorize(actor, ACTION, target_of(pathway.institution_id, pathway.rule_id), action)
    data = _load(PathwayChangeSchema(), raw, partial=True)
    return _change(session, actor, pathway, data, action)


def decide(session: Session, actor: Actor, pathway_id: int, raw: Any) -> Pathway:
    """Approve, reject or re-open a pathway: {"status": ..., "reason": ...}."""
    pathway = _find(session, actor, pathway_id, "pathway.decide")
    authorize(actor, ACTION, target_of(pathway.institution_id, pathway.rule_id), "pathway.decide")
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
        changes, errors = _prepared(session, existing.institution_id, data)
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
        return Outcome("updated", _change(session, actor, existing, changes, action, True))
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
    values, errors = _prepared(session, data["institution_id"], data)
    values["decided_by"] = actor.name if values["status"] != "proposed" else None
    _check(session, None, values, "pathway.create", errors)
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
    prepared: bool = False,
) -> Pathway:
    """Check the changed pathway as plain values first, so that a refused change leaves the
    stored one untouched (an import goes on with the next record)."""
    before = snapshot(pathway)
    changes, errors = (data, {}) if prepared else _prepared(session, pathway.institution_id, data)
    values = {**before, **changes}
    if values["status"] != pathway.status:
        values["decided_by"] = actor.name if values["status"] != "proposed" else None
    with session.no_autoflush:
        _check(session, pathway.id, values, action, errors)
    _apply(pathway, values)
    session.flush()
    audit.record(
        session, actor, action, f"pathway:{pathway.id}", before=before, after=snapshot(pathway)
    )
    return pathway


def _apply(pathway: Pathway, values: dict[str, Any]) -> None:
    for name in UPDATE_FIELDS + ("decided_by",):
        if name != "credentials":
            setattr(pathway, name, values[name])
    wanted = [(entry["kind"], entry["id"]) for entry in values["credentials"]]
    if wanted != [(entry["kind"], entry["id"]) for entry in credentials_of(pathway)]:
        pathway.credentials.clear()
        for position, (kind, item_id) in enumerate(wanted):
            pathway.credentials.append(
                PathwayCredential(position=position, **{f"{kind}_id": item_id})
            )


def _check(
    session: Session,
    pathway_id: int | None,
    values: dict[str, Any],
    action: str,
    errors: dict[str, Any],
) -> None:
    """The checks that need the database or several fields, on the pathway as it would be
    stored; InvalidData listing every problem (with `errors` already found), or Conflict."""
    errors = dict(errors)

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    owner = values["institution_id"]
    if session.get(Institution, owner) is None:
        add("institution_id", f"No institution {owner}.")
    programme_id = values["programme_id"]
    if programme_id is not None:
        programme = session.get(Qualification, programme_id)
        if programme is None:
            add("programme_id", f"No qualification {programme_id}.")
        elif programme.institution_id != owner:
            add(
                "programme_id",
                f"Qualification {programme_id} ({programme.code}) is not in institution "
                f"{owner}'s catalogue: a pathway leads to a programme of the institution that "
                "states it.",
            )
    credentials = values["credentials"]
    if credentials is not None:
        if {"kind": "qualification", "id": programme_id} in credentials:
            add("credentials", "The programme cannot be a credential toward itself.")
        if values["choose"] is not None and values["choose"] > len(credentials):
            add(
                "choose",
                f"At most the number of credentials ({len(credentials)}): any k of these n.",
            )
    _check_grade(session, values, add)
    if values["valid_from"] and values["valid_to"] and values["valid_to"] <= values["valid_from"]:
        add("valid_to", "Must be later than valid_from: the interval is [valid_from, valid_to).")
    try:
        get_credit_system(session, values["credit_system"], "credit_system")
    except InvalidData as error:
        errors.update(error.errors)
    if errors:
        raise InvalidData("The pathway cannot be stored as given.", errors=errors)
    if values["status"] == "approved":
        other = _overlapping(session, pathway_id, values)
        if other is not None:
            window = f"[{other.valid_from or '…'}, {other.valid_to or '…'})"
            raise Conflict(
                f"Approved pathway {other.id} ({other.rule_id!r}) already states the same "
                f"credentials toward this programme for {window}; validity periods of approved "
                "pathways that state the same may not overlap.",
                action=action,
                target=f"pathway:{pathway_id or values['rule_id']}",
                existing={
                    "id": other.id,
                    "rule_id": other.rule_id,
                    "valid_from": audit.plain(other.valid_from),
                    "valid_to": audit.plain(other.valid_to),
                },
            )


def _check_grade(session: Session, values: dict[str, Any], add) -> None:
    grade, code = values["min_grade"], values["min_grade_scale"]
    if (grade is None) != (code is None):
        missing = "min_grade_scale" if code is None else "min_grade"
        add(missing, "min_grade and min_grade_scale go together: give both or neither.")
        return
    if grade is None:
        return
    try:
        scale = get_grading_scale(session, code, "min_grade_scale")
    except InvalidData as error:
        add("min_grade_scale", error.errors["min_grade_scale"][0])
        return
    problem = grade_problem(scale, grade)
    if problem:
        add("min_grade", problem)


def grade_problem(scale: GradingScale, text: str) -> str | None:
    """Why `text` is not a grade of `scale` (as mappings.grades reads one), or None."""
    token = (scale.special_values or {}).get(text, text)
    if scale.kind == "ordinal":
        codes = [band["code"] for band in scale.bands]
        if token in codes:
            return None
        return f"{text!r} is not a grade on {scale.code}; use one of {', '.join(codes)}."
    low, high = sorted((scale.best, scale.worst))
    try:
        number = Decimal(token.strip())
    except InvalidOperation:
        number = None
    if number is not None and number.is_finite() and low <= number <= high:
        return None
    return f"{text!r} is not a grade on {scale.code}: give a number from {low} to {high}."


def _overlapping(
    session: Session, pathway_id: int | None, values: dict[str, Any]
) -> Pathway | None:
    """An approved pathway of the same institution stating the same (programme, credentials,
    number to choose) whose validity shares a day with `values`'."""
    wanted = {(entry["kind"], entry["id"]) for entry in values["credentials"]}
    count = values["choose"] or len(wanted)
    query = (
        select(Pathway)
        .options(selectinload(Pathway.credentials))
        .where(
            Pathway.status == "approved",
            Pathway.institution_id == values["institution_id"],
            Pathway.programme_id == values["programme_id"],
        )
        .order_by(Pathway.id)
    )
    if pathway_id is not None:
        query = query.where(Pathway.id != pathway_id)
    for other in session.scalars(query):
        held = {(entry["kind"], entry["id"]) for entry in credentials_of(other)}
        if (
            held == wanted
            and (other.choose or len(held)) == count
            and _overlap(
                (values["valid_from"], values["valid_to"]), (other.valid_from, other.valid_to)
            )
        ):
            return other
    return None


def _overlap(
    first: tuple[dt.date | None, dt.date | None], second: tuple[dt.date | None, dt.date | None]
) -> bool:
    """Whether two half-open intervals share a day; None is an open end."""
    (start1, end1), (start2, end2) = first, second
    return (start1 is None or end2 is None or start1 < end2) and (
        start2 is None or end1 is None or start2 < end1
    )
