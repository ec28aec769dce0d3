"""The evaluation core that transfer credit (mappings.transfer) and pathways share.

A `Case` is one evaluation under way for a receiving institution: the registry facts it needs
(credit systems, conversions, EQF levels, grading scales and tables) are looked up once each.
Beside it, the steps every evaluation of courses takes the same way: the issuing institution,
the receiving institution's credit system and course grading scale, a result's credits in that
system and its grade on that scale, and the digest of the canonical inputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameworks import services as frameworks
from mappings import services as conversions
from mappings.credits import CreditConversion
from mappings.grades import Band, Distribution, ScaleSpec, convert_grade
from mappings.institutions import match_institution
from registry.catalogue.models import Course
from registry.core.errors import DomainError, InvalidData
from registry.core.normalise import whole_number
from registry.institutions.models import Institution

# The scale a course grade is given on in each country, where the registry bundles one. Not the
# degree classification (GB-HONS): a UK module is marked in percent.
COURSE_SCALES = {
    "DE": "DE-1-5",
    "FR": "FR-0-20",
    "IT": "IT-30",
    "NL": "NL-10",
    "ES": "ES-10",
    "US": "US-GPA-4",
    "GB": "GB-PCT",
}
# The Bologna cycles' places on the EQF (QF-EHEA referencing), so course levels compare.
CYCLES = {"QF-EHEA:SC": 5, "QF-EHEA:1": 6, "QF-EHEA:2": 7, "QF-EHEA:3": 8}


def digest(inputs: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the inputs: the same case, the same digest."""
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_CENT = Decimal("0.01")


def show(number: Decimal) -> str:
    """Two places, half up, without trailing zeros: "6", "7.5", "6.67"."""
    return format(number.quantize(_CENT, rounding=ROUND_HALF_UP).normalize(), "f")


class Case:
    """One evaluation under way: the registry facts it needs, looked up once each."""

    def __init__(self, session: Session, on: dt.date, receiving: Institution):
        self.session = session
        self.receiving = receiving
        self.on = on
        self.flags: list[str] = []
        self._systems: dict[str, bool] = {}
        self._conversions: dict[tuple[Decimal, str, str], Any] = {}
        self._eqf: dict[str, int | None] = {}
        self._tables: dict[tuple[str, str], conversions.Choice] = {}
        self.scales = {
            scale.code: conversions.scale_spec(scale)
            for scale in frameworks.list_grading_scales(session)
        }

    def grade_table(self, source: ScaleSpec, target: str) -> conversions.Choice:
        """The conversion table the receiving institution set for the two scales, if any."""
        key = (source.code, target)
        if key not in self._tables:
            self._tables[key] = conversions.choose_table(
                self.session, source, self.scales[target], institutions=(str(self.receiving.id),)
            )
        return self._tables[key]

    def known_system(self, code: str | None) -> bool:
        if code is None:
            return False
        if code not in self._systems:
            try:
                frameworks.get_credit_system(self.session, code, "credit_system")
                self._systems[code] = True
            except InvalidData:
                self._systems[code] = False
        return self._systems[code]

    def convert(self, value: Decimal, source: str, target: str | None) -> CreditConversion | None:
        """A CreditConversion into `target`, or None when there is no target or no way."""
        if target is None:
            return None
        key = (value, source, target)
        if key not in self._conversions:
            try:
                self._conversions[key] = conversions.credits(self.session, value, source, target)
            except InvalidData:
                self._conversions[key] = None
        return self._conversions[key]

    def eqf(self, ref: str | None) -> int | None:
        """The EQF level a FRAMEWORK:LEVEL reference stands at (the lower one when two)."""
        if not ref:
            return None
        if ref not in self._eqf:
            level = None
            if ref.startswith("EQF:"):
                level = whole_number(ref[4:])
            elif ref in CYCLES:
                level = CYCLES[ref]
            else:
                try:
                    answer = conversions.level_graph(self.session).equivalents(ref, "EQF", self.on)
                    levels = [int(match.level.split(":")[1]) for match in answer.matches]
                    level = min(levels) if levels else None
                except (DomainError, ValueError):
                    level = None
            self._eqf[ref] = level
        return self._eqf[ref]


def resolve_issuer(session: Session, inputs: dict[str, Any]) -> dict[str, Any]:
    """The issuing institution: by the stored transcript's own link, else the matcher."""
    if inputs["issuer_institution_id"] is not None:
        institution = session.get(Institution, inputs["issuer_institution_id"])
        if institution is not None:
            return {
                "verdict": "matched",
                "id": institution.id,
                "name": institution.name,
                "country": institution.country,
                "identifiers": identifiers(institution),
                "matched_on": "transcript",
                "candidates": [],
            }
    issuer = inputs["issuer"]
    try:
        found = match_institution(
            session, issuer["name"] or "", issuer["country"], 3, issuer["identifiers"] or None
        )
    except InvalidData:
        # Only identifiers were given and none is known: nothing to search by name.
        return {"verdict": "no_match", "candidates": []}
    candidates = [asdict(c) for c in found.candidates]
    if found.verdict != "matched":
        return {"verdict": found.verdict, "candidates": candidates}
    best = found.candidates[0]
    return {
        "verdict": "matched",
        "id": best.id,
        "name": best.name,
        "country": best.country,
        "identifiers": identifiers(session.get(Institution, best.id)),
        "matched_on": best.matched_on,
        "candidates": candidates,
    }


def receiving_credit_system(session: Session, institution_id: int) -> str | None:
    """The credit system most of the institution's courses are counted in; None without any."""
    row = session.execute(
        select(Course.credit_system, func.count().label("n"))
        .where(Course.institution_id == institution_id, Course.credit_system.is_not(None))
        .group_by(Course.credit_system)
        .order_by(func.count().desc(), Course.credit_system)
    ).first()
    return row.credit_system if row else None


def receiving_scale(case: Case) -> str | None:
    code = COURSE_SCALES.get(case.receiving.country)
    return code if code in case.scales else None


def volume(
    case: Case, value: Decimal | str | None, unit: str | None, system: str | None
) -> Decimal | None:
    """`value` credits of `unit` in `system` (as they are without a system, or in it already);
    None without a value and a unit the registry knows, or when it does not convert."""
    if value is None or unit is None or not case.known_system(unit):
        return None
    value = Decimal(value)
    if system is None or unit == system:
        return value
    converted = case.convert(value, unit, system)
    return converted.value if converted else None


def grade_of(case: Case, result: dict[str, Any], target: str | None) -> dict[str, Any] | None:
    """The result's grade on the receiving scale: by the conversion table the receiving
    institution set for the two scales, else by grading tables when both sides have one (the
    result's own table counts for its side), else linear; kept as given, with the reason, when
    it cannot be converted. The converted grade's basis says which."""
    if not result["grade"]:
        return None
    shown = {"value": result["grade"], "scheme": result["grading_scheme"], "converted": None}
    if target is None:
        return {
            **shown,
            "reason": "The receiving institution has no grading scale in the "
            "registry: the grade is kept as given.",
        }
    table = result["grade_distribution"]
    scheme = (result["grading_scheme"] or "").strip()
    source = case.scales.get(scheme) or case.scales.get(scheme.upper())
    if source is None and table and any(row["grade"] == result["grade"] for row in table):
        # An unknown local scheme with its grading table: the table's grades are the scale.
        source = ScaleSpec(
            code=scheme or "RESULT-TABLE",
            kind="ordinal",
            bands=tuple(Band(row["grade"], True) for row in table),
        )
    if source is None:
        return {
            **shown,
            "reason": f"The grading scheme {scheme or '(none stated)'} is not in "
            "the registry: the grade is kept as given.",
        }
    groups = [group for group in (result["isced_f"], "default") if group]
    source_table = (
        Distribution(source.code, tuple((row["grade"], Decimal(row["percent"])) for row in table))
        if table
        else _distribution(case, source.code, groups)
    )
    target_table = _distribution(case, target, groups)
    attempts = ["distribution", "linear"] if source_table and target_table else ["linear"]
    choice = case.grade_table(source, target)
    reason = None
    for method in attempts:
        try:
            converted = convert_grade(
                result["grade"],
                source,
                case.scales[target],
                method=method,
                scales=case.scales,
                table=choice.table,
                source_distribution=source_table,
                target_distribution=target_table,
            )
            return {**shown, "converted": conversions.explain(converted, choice).as_dict()}
        except InvalidData as error:
            reason = error.detail
    return {**shown, "reason": f"Not converted: {reason}"}


def _distribution(case: Case, scale: str, groups: list[str]) -> Distribution | None:
    for group in groups:
        row = frameworks.get_distribution(case.session, scale, group)
        if row is not None:
            return Distribution(
                row.scale_code,
                tuple((item["grade"], Decimal(item["percent"])) for item in row.rows),
                row.reference_group,
            )
    return None


def identifiers(institution: Institution) -> list[list[str]]:
    """The institution's identifiers as sorted [scheme, value] pairs, as an answer shows them."""
    return sorted([identifier.scheme, identifier.value] for identifier in institution.identifiers)
