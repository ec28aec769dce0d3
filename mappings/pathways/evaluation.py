"""The steps of a pathway evaluation on validated inputs, with a session: each held credential
identified in the catalogue, its evidence gathered (issuer, grade on each scale a pathway asks
for), every approved pathway toward the programme fitted, the allocation, and the sentences
that explain it. Nothing is stored here (mappings.pathways.services stores)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mappings.case import Case, grade_of, receiving_credit_system, resolve_issuer, show
from mappings.grades import read_grade
from mappings.pathways.decide import (
    Allocation,
    Candidate,
    Fit,
    Held,
    Terms,
    allocate,
    assign,
    fit,
)
from registry.catalogue.models import Course, Qualification
from registry.catalogue.pathways import services as pathways_store
from registry.catalogue.pathways.models import Pathway
from registry.core.errors import InvalidData
from registry.core.normalise import fold, name_key
from registry.institutions.models import Institution


def terms_of(pathway: Pathway) -> Terms:
    return Terms(
        id=pathway.id,
        rule_id=pathway.rule_id,
        members=tuple(
            (item.kind, item.qualification_id or item.course_id) for item in pathway.credentials
        ),
        choose=pathway.choose,
        min_grade=pathway.min_grade,
        min_grade_scale=pathway.min_grade_scale,
        supervision=pathway.supervision,
        quality_assured=pathway.quality_assured,
        max_age_months=pathway.max_age_months,
        valid_from=pathway.valid_from,
        valid_to=pathway.valid_to,
    )


def unit_of(session: Session, programme: Qualification, pathways: list[Pathway]) -> str | None:
    """The credit system credits toward the programme are counted in: the programme's own, else
    the one most of its institution's courses use, else the first pathway's."""
    return (
        programme.credit_system
        or receiving_credit_system(session, programme.institution_id)
        or (pathways[0].credit_system if pathways else None)
    )


# --- the held credentials ---------------------------------------------------------------------


class Catalogue:
    """An issuer's qualifications and courses, each kind by folded code and by title key, read
    once."""

    def __init__(self, session: Session, institution_id: int):
        self.codes: dict[str, dict[str, Qualification | Course]] = {}
        self.titles: dict[str, dict[str, Qualification | Course]] = {}
        for kind, model in (("qualification", Qualification), ("course", Course)):
            codes, titles = self.codes.setdefault(kind, {}), self.titles.setdefault(kind, {})
            rows = session.scalars(
                select(model).where(model.institution_id == institution_id).order_by(model.id)
            )
            for row in rows:
                codes.setdefault(fold(row.code), row)
                titles.setdefault(row.title_key, row)


def held_credentials(session: Session, case: Case, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """Every credential the learner holds, in order (those given, then each stored transcript's
    passed results), with its issuer and its place in the catalogue; the facts the conditions
    read, as plain values."""
    issuers: dict[str, dict[str, Any]] = {}
    catalogues: dict[int, Catalogue] = {}

    def issuer_of(stated: dict[str, Any], known: int | None) -> dict[str, Any]:
        key = repr((known, sorted(stated.items(), key=str)))
        if key not in issuers:
            found = resolve_issuer(session, {"issuer_institution_id": known, "issuer": stated})
            institution = session.get(Institution, found["id"]) if found.get("id") else None
            issuers[key] = {
                "verdict": found["verdict"],
                "id": found.get("id"),
                "name": institution.name if institution else stated.get("name"),
                "country": institution.country if institution else stated.get("country"),
                "status": institution.status if institution else None,
                # The matcher's candidates when it could not choose: shown, and queued for a
                # person to settle (registry.match_reviews).
                "candidates": found["candidates"] if found["verdict"] == "ambiguous" else [],
            }
        return issuers[key]

    def catalogue(institution_id: int) -> Catalogue:
        if institution_id not in catalogues:
            catalogues[institution_id] = Catalogue(session, institution_id)
        return catalogues[institution_id]

    held = []
    for position, given in enumerate(inputs["credentials"]):
        record, kind, matched_on = None, None, None
        if given["qualification_id"] is not None:
            kind, matched_on = "qualification", "id"
            record = session.get(Qualification, given["qualification_id"])
        elif given["course_id"] is not None:
            kind, matched_on = "course", "id"
            record = session.get(Course, given["course_id"])
        issuer_known = record.institution_id if record is not None else None
        issuer = issuer_of(given["institution"], issuer_known)
        if matched_on is None and issuer["id"] is not None:
            kind, record, matched_on = _in_catalogue(
                catalogue(issuer["id"]), given["code"], given["title"]
            )
        micro = given["micro_credential"] or {}
        grade = given["grade"]
        held.append(
            {
                "index": len(held),
                "from": {"credential": position},
                "title": given["title"],
                "code": given["code"],
                "issuer": issuer,
                "identified": _identified(kind, record, matched_on),
                "awarded_on": given["awarded_on"],
                "grade": grade,
                "grades": {},
                "field": given["field"],
                "supervision": micro.get("assessment_supervision"),
                "quality_assurance": micro.get("quality_assurance"),
            }
        )
    for transcript in inputs["transcripts"]:
        issuer = issuer_of(transcript["issuer"], transcript["issuer_institution_id"])
        for position, result in enumerate(transcript["results"]):
            if result["status"] != "passed":
                continue
            kind, record, matched_on = (
                _in_catalogue(
                    catalogue(issuer["id"]), result["code"], result["title"], courses=True
                )
                if issuer["id"] is not None
                else (None, None, None)
            )
            held.append(
                {
                    "index": len(held),
                    "from": {"transcript": transcript["transcript_id"], "result": position},
                    "title": result["title"],
                    "code": result["code"],
                    "issuer": issuer,
                    "identified": _identified(kind, record, matched_on),
                    "awarded_on": result["ended_on"],
                    "grade": {"value": result["grade"], "scale": result["grading_scheme"]}
                    if result["grade"]
                    else None,
                    "grades": {},
                    "field": result["isced_f"],
                    "grade_distribution": result["grade_distribution"],
                    "supervision": None,
                    "quality_assurance": None,
                }
            )
    return held


def _in_catalogue(
    catalogue: Catalogue, code: str | None, title: str, *, courses: bool = False
) -> tuple[str | None, Any, str | None]:
    """(kind, record, matched on): by code (case and accents aside), else by exact normalised
    title; a given credential is looked for among qualifications, then courses; a transcript's
    result among courses only."""
    kinds = ("course",) if courses else ("qualification", "course")
    for by, key in (("code", fold(code) if code else None), ("title", name_key(title))):
        if key is None:
            continue
        for kind in kinds:
            found = (catalogue.codes if by == "code" else catalogue.titles)[kind].get(key)
            if found is not None:
                return kind, found, by
    return None, None, None


def _identified(kind: str | None, record: Any, matched_on: str | None) -> dict[str, Any] | None:
    if record is None:
        return None if matched_on is None else {"kind": kind, "id": None, "missing": True}
    return {
        "kind": kind,
        "id": record.id,
        "code": record.code,
        "title": record.title,
        "institution_id": record.institution_id,
        "matched_on": matched_on,
    }


def convert_grades(case: Case, held: list[dict[str, Any]], scales: set[str]) -> None:
    """Each held grade onto each scale a pathway asks for: as given on the same scale (once it
    reads as a grade of it), else by the shared core's conversion (the programme institution's
    table, grading tables, or linear); the reason when it cannot be."""
    for credential in held:
        grade = credential["grade"]
        if grade is None:
            continue
        for target in sorted(scales):
            if target not in case.scales:
                continue
            if not grade["scale"]:
                entry = {"value": None, "reason": "The grade's scale is not stated."}
            elif grade["scale"] == target:
                try:
                    read_grade(grade["value"], case.scales[target])
                    entry = {"value": grade["value"], "basis": "as given"}
                except InvalidData as error:
                    entry = {"value": None, "reason": error.detail}
            else:
                answer = grade_of(
                    case,
                    {
                        "grade": grade["value"],
                        "grading_scheme": grade["scale"],
                        "grade_distribution": credential.get("grade_distribution"),
                        "isced_f": credential["field"],
                    },
                    target,
                )
                converted = answer["converted"]
                entry = (
                    {
                        "value": converted["value"],
                        "method": converted["method"],
                        "basis": converted["basis"],
                    }
                    if converted
                    else {"value": None, "reason": answer["reason"]}
                )
            credential["grades"][target] = entry


def as_held(credential: dict[str, Any]) -> Held:
    identified = credential["identified"] or {}
    grade = credential["grade"]
    return Held(
        index=credential["index"],
        title=credential["title"],
        kind=identified.get("kind") if identified.get("id") else None,
        id=identified.get("id"),
        awarded_on=dt.date.fromisoformat(credential["awarded_on"])
        if credential["awarded_on"]
        else None,
        grade=(grade["value"], grade["scale"]) if grade else None,
        grades=credential["grades"],
        supervision=credential["supervision"],
        quality_assurance=credential["quality_assurance"],
        issuer=credential["issuer"]["name"],
        issuer_status=credential["issuer"]["status"],
    )


# --- the pathways and the allocation ----------------------------------------------------------


def _credits(case: Case, value: Decimal | None, system: str, unit: str | None) -> dict | None:
    """A pathway's credits (or cap) in the programme's unit: {value, unit, method, basis}."""
    if value is None:
        return None
    converted = case.convert(value, system, unit)
    return converted.as_dict() if converted else None


def run(
    session: Session,
    inputs: dict[str, Any],
    programme: Qualification,
    pathways: list[Pathway],
) -> dict[str, Any]:
    """Every step on validated inputs, for the approved pathways toward the programme (valid on
    the day or not: validity is a condition explained like the others); the answer, not yet
    stored."""
    on = dt.date.fromisoformat(inputs["on"])
    institution = session.get(Institution, programme.institution_id)
    case = Case(session, on, institution)
    unit = unit_of(session, programme, pathways)
    held = held_credentials(session, case, inputs)
    convert_grades(case, held, {p.min_grade_scale for p in pathways if p.min_grade})
    evidence = [as_held(credential) for credential in held]
    fits = [fit(terms_of(pathway), evidence, on, case.scales) for pathway in pathways]
    candidates, counted = [], {}
    for pathway, result in zip(pathways, fits, strict=True):
        credits = _credits(case, pathway.credits, pathway.credit_system, unit)
        cap = _credits(case, pathway.max_total_credits, pathway.credit_system, unit)
        counted[pathway.id] = (credits, cap)
        if (
            result.met
            and credits is not None
            and (cap is not None or not pathway.max_total_credits)
        ):
            candidates.append(
                Candidate(
                    pathway.id,
                    Decimal(credits["value"]),
                    Decimal(cap["value"]) if cap else None,
                    result.terms.needed,
                    result.qualifying,
                )
            )
    allocation = allocate(candidates)
    answers = [
        _pathway(pathway, result, counted[pathway.id], allocation, candidates, held)
        for pathway, result in zip(pathways, fits, strict=True)
    ]
    summary = {
        "credit_system": unit,
        "total": show(allocation.total),
        "cap": None if allocation.cap is None else show(allocation.cap),
        "granted": show(allocation.granted),
        "pathways_applied": len(allocation.used),
        "credentials_used": sum(len(slots) for slots in allocation.used.values()),
        "bounded": allocation.bounded,
    }
    answer = {
        "programme": {
            "id": programme.id,
            "code": programme.code,
            "title": programme.title,
            "institution": {
                "id": institution.id,
                "name": institution.name,
                "country": institution.country,
            },
            "credit_system": unit,
        },
        "on": inputs["on"],
        "credentials": [_public(credential) for credential in held],
        "pathways": answers,
        "summary": summary,
    }
    answer["explanation"] = explain(answer, held, allocation)
    return answer


def _public(credential: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in credential.items() if k not in ("field", "grade_distribution")}


def _pathway(
    pathway: Pathway,
    result: Fit,
    counted: tuple[dict | None, dict | None],
    allocation: Allocation,
    candidates: list[Candidate],
    held: list[dict[str, Any]],
) -> dict[str, Any]:
    credits, cap = counted
    used = allocation.used.get(pathway.id)
    members = []
    for position, (kind, member_id) in enumerate(result.terms.members):
        members.append(
            {
                "position": position,
                "kind": kind,
                "id": member_id,
                "held": [
                    {
                        "credential": credential["index"],
                        "met": all(check.met for check in result.checks[credential["index"]]),
                        "checks": [check.as_dict() for check in result.checks[credential["index"]]],
                    }
                    for credential in held
                    if credential["index"] in result.checks
                    and (as_kind(credential), as_id(credential)) == (kind, member_id)
                ],
                "qualifying": list(result.qualifying[position]),
                "used": used.get(position) if used else None,
            }
        )
    status = "applied" if used is not None else "met" if result.met else "not_met"
    reason = result.sentence()
    if result.met and used is None:
        reason = _why_not_applied(pathway, credits, cap, allocation, candidates)
        status = "not_applied"
    return {
        "pathway": pathways_store.present(pathway),
        "validity": result.validity.as_dict(),
        "needed": result.terms.needed,
        "covered": result.covered,
        "members": members,
        "credits_converted": credits,
        "cap_converted": cap,
        "status": status,
        "reason": reason,
    }


def as_kind(credential: dict[str, Any]) -> str | None:
    identified = credential["identified"] or {}
    return identified.get("kind") if identified.get("id") else None


def as_id(credential: dict[str, Any]) -> int | None:
    return (credential["identified"] or {}).get("id")


def _why_not_applied(
    pathway: Pathway,
    credits: dict | None,
    cap: dict | None,
    allocation: Allocation,
    candidates: list[Candidate],
) -> str:
    if credits is None or (pathway.max_total_credits is not None and cap is None):
        return (
            f"Pathway {pathway.rule_id!r} is met, but its credits in {pathway.credit_system} "
            "cannot be expressed in the programme's credit system: not counted."
        )
    by_id = {candidate.id: candidate for candidate in candidates}
    chosen = [by_id[pathway_id] for pathway_id in allocation.used]
    if assign([*chosen, by_id[pathway.id]]) is None:
        return (
            f"Pathway {pathway.rule_id!r} is met, but the credentials it needs count already "
            "toward the pathways applied: a credential counts once."
        )
    return (
        f"Pathway {pathway.rule_id!r} is met, but applying it as well would grant no more "
        "credits under the cap."
    )


# --- the explanation --------------------------------------------------------------------------


def explain(
    answer: dict[str, Any], held: list[dict[str, Any]], allocation: Allocation
) -> list[str]:
    """The evaluation step by step, in sentences."""
    programme, unit = answer["programme"], answer["programme"]["credit_system"]
    lines = [
        f"Programme {programme['code']} {programme['title']!r} of "
        f"{programme['institution']['name']}, evaluated on {answer['on']}; credits are counted "
        f"in {unit or 'no credit system'}."
    ]
    for credential in held:
        lines.append(_credential_sentence(credential))
    if not answer["pathways"]:
        lines.append("No approved pathway leads toward the programme.")
    for item in answer["pathways"]:
        rule = item["pathway"]["rule_id"]
        for member in item["members"]:
            for entry in member["held"]:
                for check in entry["checks"]:
                    lines.append(f"#{entry['credential']} for {rule!r}: {check['sentence']}")
        lines.append(item["reason"] if item["status"] != "applied" else _applied(item, unit))
    if allocation.bounded:
        lines.append(
            "More pathways were met than are searched exactly; those granting the most were "
            "searched, and the others added one by one where they still fit."
        )
    summary = answer["summary"]
    total = f"{summary['total']} {unit}"
    if summary["cap"] is not None and allocation.total > allocation.cap:
        lines.append(
            f"In all {total}, capped at {summary['cap']} (the smallest maximum among the "
            f"pathways applied): {summary['granted']} {unit} granted."
        )
    else:
        lines.append(f"In all {summary['granted']} {unit} granted toward the programme.")
    return lines


def _credential_sentence(credential: dict[str, Any]) -> str:
    name = f"#{credential['index']} {credential['title']!r}"
    issuer = credential["issuer"]
    identified = credential["identified"]
    if identified and identified.get("id"):
        how = {"id": "by its id", "code": "by its code", "title": "by its title"}[
            identified["matched_on"]
        ]
        return (
            f"{name} is {identified['kind']} {identified['code']} {identified['title']!r} of "
            f"the registry's catalogue ({how})."
        )
    if identified:
        return f"{name}: the {identified['kind']} named is not in the registry."
    if issuer["id"] is None:
        return (
            f"{name}: its issuer {issuer['name']!r} is {issuer['verdict'].replace('_', ' ')} in "
            "the registry, so no pathway can name it."
        )
    return f"{name} is not in {issuer['name']}'s catalogue in the registry: no pathway names it."


def _applied(item: dict[str, Any], unit: str | None) -> str:
    used = ", ".join(
        f"#{member['used']}" for member in item["members"] if member["used"] is not None
    )
    converted = item["credits_converted"]
    pathway = item["pathway"]
    same = pathway["credit_system"] == converted["unit"]
    credits = f"{pathway['credits']} {pathway['credit_system']}" + (
        "" if same else f" ({converted['value']} {converted['unit']}, {converted['method']})"
    )
    return f"Pathway {pathway['rule_id']!r} applied with {used}: {credits}."
