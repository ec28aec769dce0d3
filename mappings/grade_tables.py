"""Grade conversion tables, set and withdrawn by their authorities (which one a conversion
uses is chosen by mappings.services.choose_table).

The default converts a named class (GB-HONS 2:1) through the worse end of its band (60 %), then
the two-anchor formula: a 2:1 becomes 3.0 in Germany, which many admissions offices find harsh.
An authority may set a table of its own instead (README, "Grade conversion tables"):

- an institution, for its own conversions: it applies when that institution converts
  (`institution=ID`, the assessments its own office makes);
- a ministry, for its country: it applies to conversions for that country (`country=CC`, an
  assessment for that target country), after an institution's own;
- the registry (admins): a table used only where it is named (`table=CODE`).

A table maps every class of an ordinal scale, once, onto a grade of the target scale; a numeric
scale converts by the formula. A table is never edited: it is withdrawn (kept, with who, when
and why), and another set in its place (`replaces`); a code is never reused. Every write is
authorised on the table's own authority, audited, and renews the `units` change token that
cached conversions depend on.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from frameworks import services as frameworks
from frameworks.models import GradeConversionTable
from mappings.grades import Band, ScaleSpec, authority_name, read_grade
from mappings.schemas import TABLE_CODE, GradeTableSchema, WithdrawalSchema
from mappings.services import active_table, authority_of, scale_spec
from registry.core import audit, changes
from registry.core.errors import Conflict, InvalidData, NotFound
from registry.core.permissions import Actor, Target, authorize
from registry.institutions import services as institutions

# --- setting and withdrawing tables -----------------------------------------------------------


def target_of(code: str, authority: dict[str, Any]) -> Target:
    """The table as permissions see it: its authority's, whatever the caller's scope."""
    if authority["kind"] == "ministry":
        return Target("grade_table", code, country=authority["country"])
    if authority["kind"] == "institution":
        return Target("grade_table", code, institution=str(authority["id"]))
    return Target("grade_table", code)  # the registry's own: admins only


def _ref(authority: dict[str, Any]) -> str | None:
    value = authority.get("country") or authority.get("id")
    return None if value is None else str(value)


def create_table(session: Session, actor: Actor, raw: Any) -> GradeConversionTable:
    """Set a table. Refused whole, every error listed (400), when a scale is unknown or numeric
    at the source, a class is missing, repeated or unknown, a grade is not on the target scale,
    a pass would become a fail (or the reverse) or a better class a worse grade; 403 when its
    authority is not the caller's; 409 when the code is taken, or when the authority has an
    active table for the two scales that the new one does not `replaces`."""
    try:
        data = GradeTableSchema().load(raw if raw is not None else {})
    except ValidationError as error:
        raise InvalidData("The conversion table is invalid.", errors=error.messages) from error
    code = data["code"]
    authority = data["authority"] = {k: v for k, v in data["authority"].items() if v is not None}
    authorize(actor, "grade_table.edit", target_of(code, authority), "grade_table.create")
    errors = _problems(session, data)
    replaced = _replaced(session, actor, data, errors)
    if errors:
        raise InvalidData(
            f"The conversion table {code} cannot be set as given; nothing was written.",
            errors=errors,
        )
    if session.scalar(select(GradeConversionTable.id).where(GradeConversionTable.code == code)):
        raise Conflict(
            f"A conversion table {code} exists (codes are never reused).",
            action="grade_table.create",
            target=f"grade_table:{code}",
            existing={"code": code},
        )
    ref = _ref(authority)
    current = None
    if authority["kind"] != "registry":
        current = active_table(session, authority["kind"], ref, data["source"], data["target"])
    if current is not None and current is not replaced:
        raise Conflict(
            f"{authority_name(authority).capitalize()} has an active table {current.code} for"
            f" {data['source']} -> {data['target']}: name it in `replaces`, or withdraw it.",
            action="grade_table.create",
            target=f"grade_table:{code}",
            existing={"code": current.code},
        )
    if replaced is not None:
        _withdraw(session, actor, replaced, f"Replaced by {code}.")
    row = GradeConversionTable(
        code=code,
        source_scale=data["source"],
        target_scale=data["target"],
        rows=[{"from": r["source"].strip(), "to": r["target"].strip()} for r in data["rows"]],
        citation=data["citation"],
        authority_kind=authority["kind"],
        authority_ref=ref,
        created_by=actor.name,
        created_at=dt.datetime.now(dt.UTC),
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "grade_table.create", f"grade_table:{code}", after=shown(row))
    changes.renew(session, frameworks.UNITS)
    return row


def withdraw_table(session: Session, actor: Actor, code: str, raw: Any) -> GradeConversionTable:
    """Withdraw a table, as its own authority (or an admin) may: kept, marked with who, when
    and why, and used no more. Unknown code: NotFound; withdrawn already: Conflict."""
    try:
        data = WithdrawalSchema().load(raw if raw is not None else {})
    except ValidationError as error:
        raise InvalidData("The withdrawal is invalid.", errors=error.messages) from error
    row = get_table(session, code, lock=True)
    authorize(actor, "grade_table.withdraw", target_of(row.code, authority_of(row)))
    if row.withdrawn_at is not None:
        raise Conflict(
            f"The conversion table {code} was withdrawn already.",
            action="grade_table.withdraw",
            target=f"grade_table:{code}",
            existing={"code": code, "withdrawn_at": row.withdrawn_at.isoformat()},
        )
    _withdraw(session, actor, row, data["reason"])
    changes.renew(session, frameworks.UNITS)
    return row


def _withdraw(session: Session, actor: Actor, row: GradeConversionTable, reason: str) -> None:
    before = shown(row)
    row.withdrawn_at = dt.datetime.now(dt.UTC)
    row.withdrawn_by = actor.name
    row.withdrawn_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        "grade_table.withdraw",
        f"grade_table:{row.code}",
        before=before,
        after=shown(row),
    )


def _replaced(
    session: Session, actor: Actor, data: dict[str, Any], errors: dict[str, list[str]]
) -> GradeConversionTable | None:
    """The active table of the same authority and scales that the new one replaces."""
    if not data["replaces"]:
        return None
    row = session.scalar(
        select(GradeConversionTable)
        .where(GradeConversionTable.code == data["replaces"])
        .with_for_update()
    )
    if row is None:
        errors["replaces"] = [f"No conversion table {data['replaces']}."]
        return None
    authorize(actor, "grade_table.withdraw", target_of(row.code, authority_of(row)))
    same = authority_of(row) == data["authority"] and (row.source_scale, row.target_scale) == (
        data["source"],
        data["target"],
    )
    if row.withdrawn_at is not None or not same:
        errors["replaces"] = [
            f"{row.code} is not an active table of the same authority and scales."
        ]
        return None
    return row


def _problems(session: Session, data: dict[str, Any]) -> dict[str, list[str]]:
    """Every reason the table cannot be set, by field."""
    errors: dict[str, list[str]] = {}
    authority = data["authority"]
    if authority["kind"] == "institution":
        try:
            institutions.get_institution(session, authority["id"])
        except NotFound:
            errors["authority.id"] = [f"No institution {authority['id']}."]
    scales = {}
    for field, code in (("from", data["source"]), ("to", data["target"])):
        try:
            scales[field] = scale_spec(frameworks.get_grading_scale(session, code, field))
        except InvalidData as error:
            errors[field] = [error.detail]
    if errors.keys() & {"from", "to"}:
        return errors
    source, target = scales["from"], scales["to"]
    if source.code == target.code:
        errors["to"] = ["A table converts between two different scales."]
    if source.kind != "ordinal":
        errors["from"] = [
            f"{source.code} is numeric: its grades convert by the formula (set another pass"
            " mark with `pass`); a table maps the classes of an ordinal scale (GB-HONS)."
        ]
        return errors
    _check_rows(data["rows"], source, target, errors)
    return errors


def _check_rows(
    rows: list[dict[str, str]], source: ScaleSpec, target: ScaleSpec, errors: dict
) -> None:
    """Every class once; each onto a grade of the target that passes as the class does, and
    no better class onto a worse grade than a lesser one."""
    order = {band.code: index for index, band in enumerate(source.bands)}
    seen: dict[str, int] = {}
    placed: list[tuple[int, Decimal, int]] = []
    for index, row in enumerate(rows):
        given, onto = row["source"].strip(), row["target"].strip()
        if given not in order:
            codes = ", ".join(order)
            errors[f"rows.{index}.from"] = [f"{given!r} is not a class of {source.code} ({codes})."]
            continue
        if given in seen:
            errors[f"rows.{index}.from"] = [f"{given} is listed already (rows.{seen[given]})."]
            continue
        seen[given] = index
        try:
            grade = read_grade(onto, target)
        except InvalidData as error:
            errors[f"rows.{index}.to"] = [error.detail]
            continue
        band = source.bands[order[given]]
        if _passes(grade, target) != band.passing:
            verdict = "passes" if band.passing else "fails"
            errors[f"rows.{index}.to"] = [
                f"{source.code} {given} {verdict}, so its grade on {target.code} must too."
            ]
            continue
        placed.append((order[given], _goodness(grade, target), index))
    missing = [code for code in order if code not in seen]
    if missing:
        errors["rows"] = [f"Every class of {source.code} once: {', '.join(missing)} missing."]
    placed.sort()
    for (_, better, _), (_, worse, index) in zip(placed, placed[1:], strict=False):
        if worse > better:
            errors[f"rows.{index}.to"] = [
                "A lesser class cannot convert to a better grade than a better class."
            ]


def _passes(grade: Decimal | Band, scale: ScaleSpec) -> bool:
    if isinstance(grade, Band):
        return grade.passing
    ascending = scale.best > scale.worst
    return grade >= scale.pass_mark if ascending else grade <= scale.pass_mark


def _goodness(grade: Decimal | Band, scale: ScaleSpec) -> Decimal:
    """Larger is better, whatever the scale's direction."""
    if isinstance(grade, Band):
        return Decimal(-scale.bands.index(grade))
    return grade if scale.best > scale.worst else -grade


# --- reading ------------------------------------------------------------------------------------


def get_table(session: Session, code: str, lock: bool = False) -> GradeConversionTable:
    """A table by its code; NotFound when there is none (or the code is one no table can have)."""
    if not TABLE_CODE.match(code or ""):
        raise NotFound(f"No conversion table {code!r}.", code=code)
    query = select(GradeConversionTable).where(GradeConversionTable.code == code)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"No conversion table {code!r}.", code=code)
    return row


def list_tables(
    session: Session, source: str | None = None, target: str | None = None
) -> list[dict[str, Any]]:
    """Every table, withdrawn ones too (marked), optionally for one source or target scale."""
    query = select(GradeConversionTable).order_by(GradeConversionTable.code)
    if source:
        query = query.where(GradeConversionTable.source_scale == source)
    if target:
        query = query.where(GradeConversionTable.target_scale == target)
    return [shown(row) for row in session.scalars(query)]


def shown(row: GradeConversionTable) -> dict[str, Any]:
    """A table as listed: its content, whose it is, and whether (and why) it was withdrawn."""
    out = {
        "code": row.code,
        "source": row.source_scale,
        "target": row.target_scale,
        "authority": authority_of(row),
        "rows": [dict(item) for item in row.rows],
        "citation": row.citation,
        "status": "active" if row.withdrawn_at is None else "withdrawn",
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
    if row.withdrawn_at is not None:
        out |= {
            "withdrawn_at": row.withdrawn_at.isoformat(),
            "withdrawn_by": row.withdrawn_by,
            "withdrawn_reason": row.withdrawn_reason,
        }
    return out
