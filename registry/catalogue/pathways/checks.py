"""What a pathway must be to be stored: its references resolved (the programme by code in the
owner's catalogue, each credential by id, code or title in its issuer's), the programme in the
owner's own catalogue, the conditions consistent with each other and with the registry's credit
systems and grading scales, and no approved pathway stating the same on the same days.

Each check works on plain values (the pathway as it would be stored), so that a refused change
leaves the stored pathway untouched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from frameworks.models import GradingScale
from frameworks.services import get_credit_system, get_grading_scale
from registry.catalogue.models import Course, Qualification
from registry.catalogue.pathways.models import Pathway
from registry.core import audit
from registry.core.errors import Conflict, InvalidData
from registry.core.normalise import name_key
from registry.institutions.models import Institution

MODELS = {"qualification": Qualification, "course": Course}


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
        condition = model.title_key == name_key(reference["title"])
        said = f"titled {reference['title']!r}"
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


def prepared(
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


# --- checks ----------------------------------------------------------------------------------


def check(
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
    if programme_id is None and "programme_code" not in errors:
        add("programme_id", "Required (or programme_code).")
    elif programme_id is not None:
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
        held = {(entry["kind"], entry["id"]) for entry in other.accepted}
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
