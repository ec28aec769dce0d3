"""Articulations read, written, imported and decided on; the checks every write passes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from frameworks.services import get_credit_system
from registry.catalogue.articulations.models import SIDES, Articulation, ArticulationCourse
from registry.catalogue.articulations.schemas import (
    ArticulationChangeSchema,
    ArticulationRecordSchema,
    DecisionSchema,
)
from registry.catalogue.models import Course
from registry.core import audit
from registry.core.errors import Conflict, DomainError, InvalidData, NotFound
from registry.core.permissions import Actor, Target, authorize
from registry.institutions.models import Institution

ACTION = "catalogue.edit"


UPDATE_FIELDS = (
    "source_institution_id",
    "source_course_ids",
    "target_course_ids",
    "credits_granted",
    "credit_system",
    "valid_from",
    "valid_to",
    "status",
    "reason",
)


def _load(schema: Schema, raw: Any, **kwargs) -> dict[str, Any]:
    try:
        return schema.load(raw if raw is not None else {}, **kwargs)
    except ValidationError as error:
        raise InvalidData(
            "The articulation is invalid; nothing was written.", errors=error.messages
        ) from error


# --- reads ------------------------------------------------------------------------------------


def target_of(target_institution_id: int, rule_id: str = "") -> Target:
    """Whose articulation it is: the receiving institution's."""
    return Target("articulation", rule_id, institution=str(target_institution_id))


def get_articulation(session: Session, articulation_id: int) -> Articulation:
    articulation = session.get(Articulation, articulation_id)
    if articulation is None:
        raise NotFound(f"No articulation {articulation_id}.", id=articulation_id)
    return articulation


def find_articulation(
    session: Session, target_institution_id: int, rule_id: str
) -> Articulation | None:
    return session.scalar(
        select(Articulation).where(
            Articulation.target_institution_id == target_institution_id,
            Articulation.rule_id == rule_id,
        )
    )


def list_articulations(
    session: Session,
    *,
    institution_id: int | None = None,
    course_id: int | None = None,
    status: str | None = None,
) -> list[Articulation]:
    """Articulations by id; each filter only when given. `institution_id` matches either side,
    `course_id` a course on either side."""
    query = (
        select(Articulation).options(selectinload(Articulation.courses)).order_by(Articulation.id)
    )
    if institution_id is not None:
        query = query.where(
            or_(
                Articulation.source_institution_id == institution_id,
                Articulation.target_institution_id == institution_id,
            )
        )
    if course_id is not None:
        query = query.where(
            Articulation.id.in_(
                select(ArticulationCourse.articulation_id).where(
                    ArticulationCourse.course_id == course_id
                )
            )
        )
    if status is not None:
        query = query.where(Articulation.status == status)
    return list(session.scalars(query))


def articulations_for_course(session: Session, course_id: int) -> list[Articulation]:
    """Every articulation the course is part of, on either side, whatever its status."""
    return list_articulations(session, course_id=course_id)


def approved_for(
    session: Session,
    source_course_ids: set[int],
    on: dt.date,
    target_institution_id: int | None = None,
) -> list[Articulation]:
    """The approved articulations valid on `on` whose source courses all lie within
    `source_course_ids` (at `target_institution_id` when given): larger bundles first, then by
    id, so a caller taking them in order prefers the rule that covers most. [] when none."""
    if not source_course_ids:
        return []
    holding = select(ArticulationCourse.articulation_id).where(
        ArticulationCourse.side == "source",
        ArticulationCourse.course_id.in_(sorted(source_course_ids)),
    )
    query = (
        select(Articulation)
        .options(selectinload(Articulation.courses))
        .where(
            Articulation.status == "approved",
            Articulation.id.in_(holding),
            or_(Articulation.valid_from.is_(None), Articulation.valid_from <= on),
            or_(Articulation.valid_to.is_(None), Articulation.valid_to > on),
        )
    )
    if target_institution_id is not None:
        query = query.where(Articulation.target_institution_id == target_institution_id)
    found = [
        articulation
        for articulation in session.scalars(query)
        if set(articulation.source_course_ids) <= source_course_ids
    ]
    return sorted(found, key=lambda a: (-len(a.source_course_ids), a.id))


def snapshot(articulation: Articulation) -> dict[str, Any]:
    """The articulation as its audit events and the API show it."""
    return {
        "id": articulation.id,
        "rule_id": articulation.rule_id,
        "source_institution_id": articulation.source_institution_id,
        "target_institution_id": articulation.target_institution_id,
        "source_course_ids": articulation.source_course_ids,
        "target_course_ids": articulation.target_course_ids,
        "credits_granted": articulation.credits_granted,
        "credit_system": articulation.credit_system,
        "valid_from": articulation.valid_from,
        "valid_to": articulation.valid_to,
        "status": articulation.status,
        "decided_by": articulation.decided_by,
        "reason": articulation.reason,
    }


# --- writes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    outcome: str  # inserted | updated | unchanged | rejected
    articulation: Articulation | None = None
    reason: str | None = None


def create_articulation(session: Session, actor: Actor, raw: Any) -> Articulation:
    """A new articulation of the receiving institution (its account, or an admin).

    InvalidData for bad input; Conflict when the institution already has this rule_id, or when
    it would be approved while another approved rule for the same source courses is valid on
    some of the same days.
    """
    data = _load(ArticulationRecordSchema(), raw)
    authorize(
        actor,
        ACTION,
        target_of(data["target_institution_id"], data["rule_id"]),
        "articulation.create",
    )
    existing = find_articulation(session, data["target_institution_id"], data["rule_id"])
    if existing is not None:
        raise Conflict(
            f"Institution {existing.target_institution_id} already has rule "
            f"{existing.rule_id!r} (articulation {existing.id}).",
            action="articulation.create",
            target=f"articulation:{data['target_institution_id']}/{data['rule_id']}",
            existing={"id": existing.id, "rule_id": existing.rule_id},
        )
    return _insert(session, actor, data)


def update_articulation(
    session: Session, actor: Actor, articulation_id: int, raw: Any
) -> Articulation:
    """Change an articulation; a change of status is a decision (`articulation.decide`).

    The receiving institution and the rule_id cannot change (they are its key). Raises as
    `create_articulation` does, and NotFound for an unknown id.
    """
    articulation = get_articulation(session, articulation_id)
    action = (
        "articulation.decide"
        if isinstance(raw, dict) and "status" in raw
        else "articulation.update"
    )
    authorize(
        actor, ACTION, target_of(articulation.target_institution_id, articulation.rule_id), action
    )
    return _change(
        session, actor, articulation, _load(ArticulationChangeSchema(), raw, partial=True), action
    )


def decide(session: Session, actor: Actor, articulation_id: int, raw: Any) -> Articulation:
    """Approve, reject or re-open an articulation: {"status": ..., "reason": ...}."""
    return update_articulation(session, actor, articulation_id, _load(DecisionSchema(), raw))


def upsert_articulation(session: Session, actor: Actor, record: dict[str, Any]) -> Outcome:
    """Insert or update by natural key, for imports: a validated ArticulationRecordSchema
    record. A record that cannot be stored (permission, bad references, overlap) is `rejected`
    with the reason and changes nothing; nothing else raises. A record without a reason leaves
    the stored reason as it is."""
    try:
        authorize(actor, ACTION, target_of(record["target_institution_id"], record["rule_id"]))
        existing = find_articulation(session, record["target_institution_id"], record["rule_id"])
        if existing is None:
            return Outcome("inserted", _insert(session, actor, record))
        changes = {
            name: record[name]
            for name in UPDATE_FIELDS
            if name != "reason" or record[name] is not None
        }
        current = snapshot(existing)
        if all(current[name] == value for name, value in changes.items()):
            return Outcome("unchanged", existing)
        action = (
            "articulation.decide" if changes["status"] != existing.status else "articulation.update"
        )
        return Outcome("updated", _change(session, actor, existing, changes, action))
    except DomainError as error:
        return Outcome("rejected", reason=_reason(error))


def _reason(error: DomainError) -> str:
    details = "; ".join(
        f"{name}: {' '.join(map(str, messages)) if isinstance(messages, list) else messages}"
        for name, messages in error.errors.items()
    )
    return f"{error.detail} ({details})" if details else error.detail


def _build(values: dict[str, Any], actor: Actor, decided_by: str | None = None) -> Articulation:
    """A transient articulation holding `values` (the fields of ArticulationRecordSchema)."""
    articulation = Articulation(
        id=values.get("id"),
        rule_id=values["rule_id"],
        source_institution_id=values["source_institution_id"],
        target_institution_id=values["target_institution_id"],
        credits_granted=values["credits_granted"],
        credit_system=values["credit_system"],
        valid_from=values["valid_from"],
        valid_to=values["valid_to"],
        status=values["status"],
        decided_by=decided_by,
        reason=values["reason"],
    )
    if values["status"] != "proposed" and decided_by is None:
        articulation.decided_by = actor.name
    _set_courses(articulation, values["source_course_ids"], values["target_course_ids"])
    return articulation


def _insert(session: Session, actor: Actor, data: dict[str, Any]) -> Articulation:
    articulation = _build({**data, "id": None}, actor)
    _check(session, articulation, "articulation.create")
    session.add(articulation)
    session.flush()
    audit.record(
        session,
        actor,
        "articulation.create",
        f"articulation:{articulation.id}",
        after=snapshot(articulation),
    )
    return articulation


def _change(
    session: Session, actor: Actor, articulation: Articulation, data: dict[str, Any], action: str
) -> Articulation:
    """Check the changed articulation as a transient copy first, so that a refused change
    leaves the stored one untouched (an import goes on with the next record)."""
    before = snapshot(articulation)
    values = {**before, **data}
    same_status = values["status"] == articulation.status
    candidate = _build(values, actor, articulation.decided_by if same_status else None)
    with session.no_autoflush:
        _check(session, candidate, action)
    for name in (
        "source_institution_id",
        "credits_granted",
        "credit_system",
        "valid_from",
        "valid_to",
        "status",
        "decided_by",
        "reason",
    ):
        setattr(articulation, name, getattr(candidate, name))
    _set_courses(articulation, values["source_course_ids"], values["target_course_ids"])
    session.flush()
    audit.record(
        session,
        actor,
        action,
        f"articulation:{articulation.id}",
        before=before,
        after=snapshot(articulation),
    )
    return articulation


def _set_courses(articulation: Articulation, source_ids: list[int], target_ids: list[int]) -> None:
    wanted = {
        (side, course_id)
        for side, ids in (("source", source_ids), ("target", target_ids))
        for course_id in ids
    }
    for link in list(articulation.courses):
        if (link.side, link.course_id) not in wanted:
            articulation.courses.remove(link)
    held = {(link.side, link.course_id) for link in articulation.courses}
    for side, course_id in sorted(wanted - held):
        articulation.courses.append(ArticulationCourse(side=side, course_id=course_id))


def _check(session: Session, articulation: Articulation, action: str) -> None:
    """The checks that need the database; InvalidData listing every problem, or Conflict."""
    errors: dict[str, list[str]] = {}
    institutions = {}
    for side in SIDES:
        institution_id = getattr(articulation, f"{side}_institution_id")
        institutions[side] = session.get(Institution, institution_id)
        if institutions[side] is None:
            errors.setdefault(f"{side}_institution_id", []).append(
                f"No institution {institution_id}."
            )
    if articulation.source_institution_id == articulation.target_institution_id:
        errors.setdefault("target_institution_id", []).append(
            "An articulation maps one institution's courses onto another's: the source and "
            "target institutions are the same."
        )
    for side in SIDES:
        institution_id = getattr(articulation, f"{side}_institution_id")
        for course_id in articulation.course_ids(side):
            course = session.get(Course, course_id)
            if course is None:
                errors.setdefault(f"{side}_course_ids", []).append(f"No course {course_id}.")
            elif course.institution_id != institution_id:
                errors.setdefault(f"{side}_course_ids", []).append(
                    f"Course {course_id} ({course.code}) belongs to institution "
                    f"{course.institution_id}, not to the {side} institution {institution_id}."
                )
    if (
        articulation.valid_from
        and articulation.valid_to
        and articulation.valid_to <= articulation.valid_from
    ):
        errors.setdefault("valid_to", []).append(
            "Must be later than valid_from: the interval is [valid_from, valid_to)."
        )
    try:
        get_credit_system(session, articulation.credit_system, "credit_system")
    except InvalidData as error:
        errors.update(error.errors)
    if errors:
        raise InvalidData("The articulation cannot be stored as given.", errors=errors)
    if articulation.status == "approved":
        other = _overlapping(session, articulation)
        if other is not None:
            window = f"[{other.valid_from or '…'}, {other.valid_to or '…'})"
            raise Conflict(
                f"Approved articulation {other.id} ({other.rule_id!r}) already maps the same "
                f"source courses at this institution for {window}; validity periods of approved "
                "rules for one set of source courses may not overlap.",
                action=action,
                target=f"articulation:{articulation.id or articulation.rule_id}",
                existing={
                    "id": other.id,
                    "rule_id": other.rule_id,
                    "valid_from": audit.plain(other.valid_from),
                    "valid_to": audit.plain(other.valid_to),
                },
            )


def _overlapping(session: Session, articulation: Articulation) -> Articulation | None:
    sources = set(articulation.source_course_ids)
    query = (
        select(Articulation)
        .options(selectinload(Articulation.courses))
        .where(
            Articulation.status == "approved",
            Articulation.target_institution_id == articulation.target_institution_id,
            Articulation.id.in_(
                select(ArticulationCourse.articulation_id).where(
                    ArticulationCourse.side == "source",
                    ArticulationCourse.course_id.in_(sorted(sources)),
                )
            ),
        )
        .order_by(Articulation.id)
    )
    if articulation.id is not None:
        query = query.where(Articulation.id != articulation.id)
    for other in session.scalars(query):
        if set(other.source_course_ids) == sources and _overlap(
            (articulation.valid_from, articulation.valid_to), (other.valid_from, other.valid_to)
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
