"""The evaluation of a transcript's results for a receiving institution; the answer, not yet stored.

Steps, each adding to the answer: the issuing institution (the institution matcher), the
receiving institution's credit system (what its courses use) and grading scale (its country's
course scale), duplicates, source courses (by code in the issuer's catalogue), articulations,
then per result its credits, grade, status and suggestions, and the summary. The same inputs on
the same registry give the same result and digest; each evaluation is stored.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mappings.case import (
    Case,
    grade_of,
    identifiers,
    receiving_credit_system,
    receiving_scale,
    resolve_issuer,
    show,
)
from mappings.case import volume as receiving_volume
from mappings.transfer.similarity import CourseFacts, TitleIndex, rank
from registry.catalogue.articulations.models import Articulation
from registry.catalogue.articulations.services import approved_for
from registry.catalogue.models import Course
from registry.core import audit
from registry.core.normalise import fold, name_key
from registry.institutions.models import Institution

STATUSES = ("granted", "pending", "refused", "not_applicable")


def duplicates(results: list[dict[str, Any]]) -> dict[int, int]:
    """{index of a repeated result: index of the one evaluated instead}. A course is the same by
    its code, else by its folded title; of the repeats, a passed one is kept first, then the
    latest, then the first listed (a retake that passed is what counts)."""
    preference = {"passed": 0, "unknown": 1, "in_progress": 2, "failed": 3, "withdrawn": 4}
    groups: dict[tuple[str, str], list[int]] = {}
    for index, result in enumerate(results):
        key = ("code", fold(result["code"])) if result["code"] else ("title", fold(result["title"]))
        groups.setdefault(key, []).append(index)
    repeated = {}
    for indices in groups.values():
        if len(indices) < 2:
            continue
        keep = min(
            indices,
            key=lambda i: (
                preference[results[i]["status"]],
                -(
                    dt.date.fromisoformat(results[i]["ended_on"]).toordinal()
                    if results[i]["ended_on"]
                    else 0
                ),
                i,
            ),
        )
        repeated.update({index: keep for index in indices if index != keep})
    return repeated


def source_courses(
    session: Session, issuer_id: int | None, results: list[dict[str, Any]]
) -> dict[int, Course]:
    """{result index: the issuer's course}: by code (case and accents aside), and for a result
    without a code by its exact normalised title."""
    if issuer_id is None:
        return {}
    courses = list(
        session.scalars(
            select(Course).where(Course.institution_id == issuer_id).order_by(Course.id)
        )
    )
    by_code: dict[str, Course] = {}
    by_title: dict[str, Course] = {}
    for course in courses:
        by_code.setdefault(fold(course.code), course)
        by_title.setdefault(course.title_key, course)
    found = {}
    for index, result in enumerate(results):
        course = (
            by_code.get(fold(result["code"]))
            if result["code"]
            else by_title.get(name_key(result["title"]))
        )
        if course is not None:
            found[index] = course
    return found


def _day(result: dict[str, Any], case: Case) -> dt.date:
    return dt.date.fromisoformat(result["ended_on"]) if result["ended_on"] else case.on


def articulations(
    case: Case, results: list[dict[str, Any]], matched: dict[int, Course], candidates: set[int]
) -> dict[int, tuple[Articulation, list[int]]]:
    """{result index: (the approved articulation that applies, the indices of its bundle)} for
    the results in `candidates`. A bundle applies when every one of its source courses is among
    them and it is valid on the day the last of them was completed; larger bundles first, each
    result used once."""
    by_course = {matched[i].id: i for i in candidates}
    if not by_course:
        return {}
    found: dict[int, Articulation] = {}
    for day in sorted({_day(results[i], case) for i in candidates}):
        for articulation in approved_for(case.session, set(by_course), day, case.receiving.id):
            found[articulation.id] = articulation
    applied: dict[int, tuple[Articulation, list[int]]] = {}
    for articulation in sorted(found.values(), key=lambda a: (-len(a.source_course_ids), a.id)):
        bundle = sorted(by_course[course_id] for course_id in articulation.source_course_ids)
        if any(i in applied for i in bundle):
            continue
        if articulation.valid_on(max(_day(results[i], case) for i in bundle)):
            applied.update({i: (articulation, bundle) for i in bundle})
    return applied


def course_entry(course: Course) -> dict[str, Any]:
    """A course as an evaluation's answer and its decisions name it."""
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "language": course.language,
        "isced_f": course.isced_f,
    }


def run(session: Session, inputs: dict[str, Any], receiving: Institution) -> dict[str, Any]:
    """Every step on validated inputs; the answer, not yet stored."""
    case = Case(session, dt.date.fromisoformat(inputs["on"]), receiving)
    results = inputs["results"]
    issuer = resolve_issuer(session, inputs)
    if issuer["verdict"] != "matched":
        case.flags.append(
            "institution_unknown" if issuer["verdict"] == "no_match" else "institution_ambiguous"
        )
    system = receiving_credit_system(session, receiving.id)
    if system is None:
        case.flags.append("receiving_credit_system_unknown")
    scale = receiving_scale(case)
    repeated = duplicates(results)
    matched = source_courses(session, issuer.get("id"), results)
    countable = {
        i
        for i, r in enumerate(results)
        if i not in repeated
        and r["status"] == "passed"
        and r["credits"] is not None
        and case.known_system(r["credit_system"])
    }
    applied = articulations(case, results, matched, {i for i in countable if i in matched})
    # Approved rules a result would meet but for its own gaps (no credits, status not stated).
    blocked = articulations(
        case,
        results,
        matched,
        {
            i
            for i, r in enumerate(results)
            if i in matched
            and i not in repeated
            and i not in countable
            and r["status"] in ("passed", "unknown")
        },
    )

    catalogue = list(
        session.scalars(
            select(Course).where(Course.institution_id == receiving.id).order_by(Course.id)
        )
    )
    index = TitleIndex([course.title for course in catalogue])
    facts = [
        CourseFacts(
            c.title,
            receiving_volume(case, c.credits, c.credit_system, system),
            case.eqf(c.level),
            c.level,
            c.isced_f,
        )
        for c in catalogue
    ]
    courses = {course.id: course for course in catalogue}

    answers = []
    for i, result in enumerate(results):
        answers.append(
            _evaluate(
                case,
                i,
                result,
                system=system,
                scale=scale,
                repeated=repeated,
                matched=matched,
                applied=applied,
                blocked=blocked,
                catalogue=catalogue,
                facts=facts,
                index=index,
                courses=courses,
                issuer_known=issuer["verdict"] == "matched",
            )
        )
    return {
        "receiving_institution": {
            "id": receiving.id,
            "name": receiving.name,
            "country": receiving.country,
            "identifiers": identifiers(receiving),
            "credit_system": system,
            "grading_scale": scale,
        },
        "source_institution": issuer,
        "on": inputs["on"],
        "flags": case.flags,
        "results": [answer for answer, _ in answers],
        "summary": _summary(system, answers),
    }


def _evaluate(
    case: Case,
    i: int,
    result: dict[str, Any],
    *,
    system,
    scale,
    repeated,
    matched,
    applied,
    blocked,
    catalogue,
    facts,
    index,
    courses,
    issuer_known: bool,
) -> tuple[dict[str, Any], Decimal | None]:
    """One result's answer, and the credits it adds to its status in the summary (None: it has
    some that cannot be expressed in the receiving system)."""
    answer: dict[str, Any] = {
        "index": i,
        "code": result["code"],
        "title": result["title"],
        "result_status": result["status"],
        "status": "pending",
        "reason": "",
        "flags": [],
        "duplicate_of": None,
        "source_course": None,
        "credits": None,
        "grade": None,
        "articulation": None,
        "credits_granted": None,
        "suggestions": [],
    }
    if i in matched:
        answer["source_course"] = {
            **course_entry(matched[i]),
            "matched_on": "code" if result["code"] else "title",
        }
    elif issuer_known:
        answer["flags"].append("source_course_unknown")
    if result["credits"] is None:
        answer["flags"].append("no_credits")
    elif not case.known_system(result["credit_system"]):
        answer["flags"].append("unknown_credit_system")
    volume = None
    if "no_credits" not in answer["flags"] and "unknown_credit_system" not in answer["flags"]:
        value = Decimal(result["credits"])
        converted = case.convert(value, result["credit_system"], system)
        answer["credits"] = {
            "value": result["credits"],
            "system": result["credit_system"],
            "converted": converted.as_dict() if converted else None,
        }
        volume = converted.value if converted else None
    elif result["credits"] is not None:
        answer["credits"] = {
            "value": result["credits"],
            "system": result["credit_system"],
            "converted": None,
        }

    if i in repeated:
        keep = repeated[i]
        answer.update(
            status="not_applicable",
            duplicate_of=keep,
            reason=f"The same course is result #{keep}, which is evaluated instead.",
        )
        answer["flags"].append("duplicate")
        return answer, None
    status = result["status"]
    if status == "failed":
        answer.update(
            status="refused",
            reason="The result is failed: a failed result is never granted credit.",
        )
        return answer, volume
    if status in ("in_progress", "withdrawn"):
        answer["status"] = "not_applicable"
        answer["reason"] = (
            "The course is still in progress: only a completed, passed result earns credit."
            if status == "in_progress"
            else "The learner withdrew from the course: there is no result to credit."
        )
        return answer, None

    answer["grade"] = grade_of(case, result, scale)
    if i in applied:
        articulation, bundle = applied[i]
        answer.update(status="granted", articulation=_articulation(articulation, bundle, courses))
        codes = ", ".join(c["code"] for c in answer["articulation"]["target_courses"])
        if i == bundle[0]:
            granted = case.convert(
                articulation.credits_granted,
                articulation.credit_system,
                system or articulation.credit_system,
            )
            answer["credits_granted"] = granted.as_dict() if granted else None
            answer["reason"] = (
                f"Approved articulation {articulation.rule_id!r} counts it as {codes}."
            )
            # Without a receiving system the grant stays in the rule's, outside the sums.
            return answer, granted.value if granted and system else None
        answer["reason"] = (
            f"Approved articulation {articulation.rule_id!r} counts it, with "
            f"result #{bundle[0]}, as {codes}; the credits are on result "
            f"#{bundle[0]}."
        )
        return answer, Decimal(0)

    if status == "unknown":
        answer["flags"].append("status_unknown")
    ranked = rank(
        CourseFacts(
            result["title"], volume, case.eqf(result["level"]), result["level"], result["isced_f"]
        ),
        facts,
        index,
    )
    answer["suggestions"] = [
        {
            **course_entry(catalogue[position]),
            "credits": plain_number(catalogue[position].credits),
            "credit_system": catalogue[position].credit_system,
            "score": score,
            "evidence": evidence,
        }
        for position, evidence, score in ranked
    ]
    gaps = {
        "no_credits": "the result states no credits",
        "unknown_credit_system": f"its credit system {result['credit_system']!r} is unknown "
        "to the registry",
        "status_unknown": "the transcript does not say whether it was passed",
        "source_course_unknown": "the course is not in the issuer's catalogue in the registry",
    }
    stated = [text for flag, text in gaps.items() if flag in answer["flags"]]
    if not issuer_known:
        stated.append("the issuing institution is not identified")
    if i in blocked:
        articulation, bundle = blocked[i]
        answer["articulation"] = _articulation(articulation, bundle, courses)
        why = f"Approved articulation {articulation.rule_id!r} would apply, but {'; '.join(stated)}"
    else:
        why = "; ".join(
            stated or [f"no approved articulation applies on {_day(result, case).isoformat()}"]
        )
        why = why[0].upper() + why[1:]
    answer["reason"] = (
        f"{why}. {len(ranked)} suggestion(s) from the receiving catalogue: a person decides."
    )
    return answer, volume


def plain_number(value: Decimal | None) -> str | None:
    """A Decimal as a plain decimal string (no exponent); None stays None."""
    return None if value is None else format(value, "f")


def _articulation(
    articulation: Articulation, bundle: list[int], courses: dict[int, Course]
) -> dict[str, Any]:
    return {
        "id": articulation.id,
        "rule_id": articulation.rule_id,
        "source_course_ids": articulation.source_course_ids,
        "target_courses": [
            course_entry(courses[course_id])
            for course_id in articulation.target_course_ids
            if course_id in courses
        ],
        "credits_granted": plain_number(articulation.credits_granted),
        "credit_system": articulation.credit_system,
        "valid_from": audit.plain(articulation.valid_from),
        "valid_to": audit.plain(articulation.valid_to),
        "bundle": bundle,
    }


def _summary(
    system: str | None, answers: list[tuple[dict[str, Any], Decimal | None]]
) -> dict[str, Any]:
    """Credits by status in the receiving credit system; a result whose credits cannot be
    expressed in it is counted in `uncounted`, not in the sums."""
    totals = {status: Decimal(0) for status in ("granted", "pending", "refused")}
    counts = Counter(answer["status"] for answer, _ in answers)
    uncounted = 0
    for answer, volume in answers:
        status = answer["status"]
        if status not in totals:
            continue
        if volume is None:
            uncounted += 1
        else:
            totals[status] += volume
    return {
        "credit_system": system,
        **{status: show(total) for status, total in totals.items()},
        "uncounted": uncounted,
        "results": {status: counts.get(status, 0) for status in STATUSES},
    }
