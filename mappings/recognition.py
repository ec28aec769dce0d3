"""Recognition assessment: from a credential and a target to a decision a registrar can defend.

Small steps run in order, each adding what it found to the trace: the institution (matcher), the
qualification (registry entry, else the credential's own statements), the level path on the
award date, credits and grade in the target's units, then the rules (the bundled default policy
in the spirit of the Lisbon Recognition Convention, and the authorities' own rules). The same
inputs on the same registry give the same decision and the same digest.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from frameworks import services as frameworks
from frameworks.models import Framework
from frameworks.schemas import FRAMEWORK_CODE
from mappings import alternatives, authenticity, rulebook
from mappings import rules as rule_engine
from mappings import services as conversions
from mappings.grades import ScaleSpec, convert_grade, read_grade
from mappings.graph import Equivalents, LevelGraph
from mappings.institutions import match_institution
from mappings.matching import best_title
from mappings.models import Assessment
from mappings.schemas import AssessQuerySchema, CredentialSchema, EquivalentsSchema
from registry.catalogue import isced
from registry.catalogue import services as catalogue
from registry.core import audit
from registry.core.errors import DomainError, InvalidData, NotFound, Unauthenticated
from registry.core.permissions import Actor, Target, authorize, owner_of
from registry.institutions import services as institutions
from registry.institutions.private import readable
from registry.match_reviews.services import Sightings
from registry.verifications import services as verifications

DATA = Path(__file__).resolve().parent / "data" / "recognition.json"
# A qualification title matched within the institution's catalogue at this score or better
# stands for the credential; below it the credential's own statements are used.
TITLE_THRESHOLD = 85.0
# The normalised grade: the two-anchor linear form onto pass = 0, best = 1.
NORMALISED = ScaleSpec(
    code="NORMALISED",
    kind="numeric",
    best=Decimal(1),
    worst=Decimal(-1),
    pass_mark=Decimal(0),
    decimals=4,
)


@functools.cache
def reference() -> dict[str, Any]:
    return json.loads(DATA.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class TargetSpec:
    country: str | None
    framework: str
    qualification_type: str | None
    eqf_level: int | None
    minimum_ects: Decimal | None
    credit_system: str | None
    grading_scale: str | None


def resolve_target(session: Session, target: str, target_type: str | None) -> TargetSpec:
    """A framework code, or a country with exactly one framework in force."""
    text = (target or "").strip()
    framework = None
    if FRAMEWORK_CODE.match(text):
        framework = session.scalar(select(Framework).where(Framework.code == text))
    if framework is None and len(text) == 2 and text.isalpha():
        national = [
            f
            for f in session.scalars(
                select(Framework).where(
                    Framework.country == text.upper(), Framework.is_meta.is_(False)
                )
            )
            if frameworks.version_on(f, dt.date.today()) is not None
        ]
        if len(national) > 1:
            codes = ", ".join(sorted(f.code for f in national))
            raise InvalidData(
                f"{text.upper()} has several frameworks ({codes}); name one as the target.",
                errors={"target": [f"One of {codes}."]},
            )
        framework = national[0] if national else None
    if framework is None:
        raise InvalidData(
            f"No framework or country {target!r} in the registry.",
            errors={"target": ["A country code or a framework code."]},
        )
    units = reference()["frameworks"].get(framework.code, {})
    kind = reference()["qualification_types"].get(target_type or "", {})
    minimum = kind.get("minimum_ects")
    return TargetSpec(
        framework.country,
        framework.code,
        target_type,
        kind.get("eqf_level"),
        Decimal(minimum) if minimum else None,
        units.get("credit_system"),
        units.get("grading_scale"),
    )


def digest(
    credential: dict[str, Any],
    target: str,
    target_type: str | None,
    verification: dict[str, Any] | None = None,
) -> str:
    """sha256 of the canonical inputs. The verification (its id and verdict) counts only when
    one was named, so that the digest of a typed-in credential is what it always was."""
    inputs = {
        "credential": credential,
        "target": target.strip().upper(),
        "target_qualification_type": target_type,
    }
    if verification is not None:
        inputs["verification"] = {"id": verification["id"], "verdict": verification["verdict"]}
    canonical = json.dumps(
        inputs,
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class Case:
    """What the steps found, with the trace and explanation they leave behind."""

    def __init__(self, credential: dict[str, Any], target: TargetSpec):
        self.credential = credential
        self.target = target
        self.facts: dict[str, Any] = {
            "source.country": credential["institution"]["country"],
            "award_date": credential["awarded_on"],
            "delivery_mode": credential["delivery_mode"],
            "target.country": target.country,
            "target.framework": target.framework,
            "target.qualification_type": target.qualification_type,
            "target.eqf_level": target.eqf_level,
            "learning_outcomes.present": bool(credential["learning_outcomes"]),
            "micro_credential": credential["micro_credential"] is not None,
        }
        self.steps: list[dict[str, Any]] = []
        self.explanation: list[str] = []
        self.gaps: list[str] = []
        self.confidence = Decimal(1)
        self.versions: dict[str, str] = {}
        self.source: dict[str, Any] = {}
        self.result_target: dict[str, Any] = {
            "country": target.country,
            "framework": target.framework,
            "qualification_type": target.qualification_type,
        }
        self.path: list[dict[str, Any]] = []

    def step(self, name: str, outcome: str, sentence: str, **detail: Any) -> None:
        self.steps.append({"step": name, "outcome": outcome, "detail": audit.plain(detail)})
        self.explanation.append(sentence)

    def weaken(self, factor: str, why: str) -> None:
        self.confidence *= Decimal(factor)
        self.gaps.append(why)


# --- input -----------------------------------------------------------------------------------


def check_target(target: Any, target_type: Any) -> None:
    """The target and qualification type, checked with the schema the API's query uses: the
    same refusal whether they come from a query string, a CLI option or a batch."""
    query = {"target": target}
    if target_type is not None:
        query["target_qualification_type"] = target_type
    try:
        AssessQuerySchema().load(query)
    except ValidationError as error:
        raise InvalidData(
            "The target cannot be used as given.", errors=dict(error.messages)
        ) from None


def validate(
    session: Session, raw: Any, target: str, target_type: str | None
) -> tuple[dict[str, Any], TargetSpec]:
    """The credential and the target, checked against the schema and the registry: every
    problem is reported at once, by field."""
    errors: dict[str, Any] = {}
    try:
        credential = CredentialSchema().load(raw if raw is not None else {})
    except ValidationError as error:
        credential, errors = None, dict(error.messages)
    try:
        check_target(target, target_type)
        spec = resolve_target(session, target, target_type)
    except InvalidData as error:
        spec = None
        errors.update(error.errors)
    if credential is not None:
        on = credential["awarded_on"]
        if credential["level"]:
            try:
                frameworks.resolve_level(session, credential["level"], on)
            except DomainError as error:
                errors["level"] = [error.detail]
        if credential["credits"]:
            try:
                frameworks.get_credit_system(session, credential["credits"]["system"], "system")
            except InvalidData as error:
                errors["credits"] = {"system": [error.detail]}
        if credential["grade"]:
            grade = credential["grade"]
            try:
                scale = frameworks.get_grading_scale(session, grade["scale"], "scale")
                read_grade(grade["value"], conversions.scale_spec(scale))
            except InvalidData as error:
                errors["grade"] = {next(iter(error.errors)): [error.detail]}
        if credential["qualification_id"] is not None:
            try:
                catalogue.get_qualification(session, credential["qualification_id"])
            except NotFound as error:
                errors["qualification_id"] = [error.detail]
    if errors:
        raise InvalidData("The credential cannot be assessed as given.", errors=errors)
    return credential, spec


# --- the steps --------------------------------------------------------------------------------


def resolve_institution(session: Session, case: Case) -> None:
    stated = case.credential["institution"]
    result = match_institution(
        session, stated["name"], stated["country"], 3, stated["identifiers"] or None
    )
    candidates = [asdict(c) for c in result.candidates]
    case.facts["institution.match"] = result.verdict
    case.source["institution"] = {"verdict": result.verdict, "candidates": candidates}
    if result.verdict != "matched":
        case.weaken("0.5", "the awarding institution could not be identified with certainty")
        case.step(
            "institution",
            result.verdict,
            f"The institution {stated['name']!r} ({stated['country']}) was not identified "
            f"with certainty ({result.verdict.replace('_', ' ')}); "
            f"{len(candidates)} candidate(s) found.",
            candidates=candidates,
        )
        return
    best = result.candidates[0]
    institution = institutions.get_institution(session, best.id)
    case.facts.update(
        {
            "institution.id": institution.id,
            "institution.status": institution.status,
            "institution.match_score": Decimal(str(best.score)),
        }
    )
    case.source["institution"].update(
        {
            "id": institution.id,
            "name": institution.name,
            "country": institution.country,
            "score": best.score,
            "matched_on": best.matched_on,
            "status": institution.status,
            "status_source": institution.status_source,
        }
    )
    if best.matched_on not in ("identifier", "domain"):
        case.confidence *= Decimal(str(best.score)) / 100
    if institution.status == "unknown":
        case.weaken("0.9", "the institution's recognition status is unknown to the registry")
    status = {
        "recognised": "recognised",
        "not_recognised": "NOT recognised",
        "unknown": "of unknown recognition status",
    }[institution.status]
    source = f" (source: {institution.status_source})" if institution.status_source else ""
    case.step(
        "institution",
        "matched",
        f"The institution is {institution.name} ({institution.country}), matched on its "
        f"{best.matched_on} with score {best.score:g}; it is {status}{source}.",
        institution_id=institution.id,
        score=best.score,
        matched_on=best.matched_on,
        status=institution.status,
    )


def resolve_qualification(session: Session, case: Case) -> dict[str, Any]:
    """The registry entry for the credential, when there is one; its facts take precedence."""
    credential = case.credential
    entry = None
    how = None
    if credential["qualification_id"] is not None:
        entry, how, score = (
            catalogue.get_qualification(session, credential["qualification_id"]),
            "id",
            100.0,
        )
    elif case.facts.get("institution.id"):
        offered = catalogue.find_qualifications(
            session, institution_id=case.facts["institution.id"]
        )
        if offered:
            index, score = best_title(credential["title"], [q.title for q in offered])
            if index is not None and score >= TITLE_THRESHOLD:
                entry, how = offered[index], "title"
    stated = {
        "level": credential["level"],
        "qualification_type": credential["qualification_type"],
        "credits": credential["credits"],
        "field": credential["field"],
    }
    if entry is None:
        case.source["qualification"] = {"resolved": False, **audit.plain(stated)}
        case.weaken(
            "0.9", "no registry entry describes the qualification: its own statements are used"
        )
        case.step(
            "qualification",
            "stated",
            "No registry entry was found for the qualification; the credential's own "
            "statements (level, credits, field) are used.",
        )
        return stated
    registry = {
        "level": entry.level,
        "qualification_type": entry.qualification_type,
        "credits": {"value": entry.credits, "system": entry.credit_system}
        if entry.credits is not None
        else None,
        "field": entry.isced_f,
    }
    differing = [
        name
        for name in ("level", "qualification_type", "field")
        if stated[name] and registry[name] and stated[name] != registry[name]
    ]
    resolved = {name: registry[name] or stated[name] for name in registry}
    case.source["qualification"] = {
        "resolved": True,
        "id": entry.id,
        "title": entry.title,
        "matched_by": how,
        "score": score,
        **audit.plain(resolved),
    }
    note = (
        f" The credential states a different {', '.join(differing)}; the registry entry is used."
        if differing
        else ""
    )
    case.step(
        "qualification",
        "registry",
        f"The qualification is registry entry #{entry.id} {entry.title!r} "
        f"(found by {'its id' if how == 'id' else f'title, score {score:g}'}).{note}",
        qualification_id=entry.id,
        differing=differing,
    )
    return resolved


def _eqf_level(graph: LevelGraph, ref: str, on: dt.date) -> int | None:
    if ref.startswith("EQF:"):
        return int(ref.split(":")[1])
    answer = graph.equivalents(ref, "EQF", on)
    levels = [int(match.level.split(":")[1]) for match in answer.matches]
    # A level placed at two EQF levels counts at the lower one: the conservative reading.
    return min(levels) if levels else None


def _type_at(eqf: int | None) -> str | None:
    """The QF-EHEA qualification type whose cycle sits at this EQF level (5 short cycle ...)."""
    kinds = reference()["qualification_types"].items()
    return next((name for name, kind in kinds if eqf and kind["eqf_level"] == eqf), None)


def resolve_level(session: Session, case: Case, graph: LevelGraph, stated: dict[str, Any]) -> None:
    on = case.credential["awarded_on"]
    target = case.target
    if not stated["level"]:
        case.facts["level.found"] = False
        case.step(
            "level",
            "unknown",
            "No level is known for the qualification: no level path can be followed.",
        )
        return
    resolved = frameworks.resolve_level(session, stated["level"], on)
    source_framework = resolved.level.version.framework
    case.facts.update({"source.level": resolved.ref, "source.framework": source_framework.code})
    case.versions[source_framework.code] = resolved.level.version.version
    answer: Equivalents = (
        graph.equivalents(resolved.ref, target.framework, on)
        if resolved.in_force
        else Equivalents(resolved.ref, target.framework, on, (), "not_in_force")
    )
    source_eqf = _eqf_level(graph, resolved.ref, on) if resolved.in_force else None
    case.facts["source.eqf_level"] = source_eqf
    target_eqf = target.eqf_level or (
        reference()["qualification_types"]
        .get(stated["qualification_type"] or "", {})
        .get("eqf_level")
    )
    if source_eqf is not None and target_eqf is not None:
        case.facts["level.eqf_gap"] = target_eqf - source_eqf
    case.facts["level.found"] = bool(answer.matches)
    case.result_target["levels"] = [
        {"level": m.level, "relation": m.relation, "confidence": float(m.confidence)}
        for m in answer.matches
    ]
    if not answer.matches:
        case.weaken("0.5", f"no level path from {resolved.ref} to {target.framework}")
        case.step(
            "level",
            answer.reason or "no_counterpart",
            f"{resolved.ref} has no counterpart in {target.framework} on {on} ({answer.reason}).",
            reason=answer.reason,
        )
        return
    best = answer.matches[0]
    case.facts.update(
        {
            "level.relation": best.relation,
            "level.confidence": best.confidence,
            "level.reached": best.level,
            "level.reached_type": _type_at(source_eqf),
        }
    )
    case.confidence *= best.confidence
    case.path = EquivalentsSchema().dump(answer)["matches"][0]["path"]
    for step in best.path:
        for ref in (step.source, step.target):
            code = ref.rsplit(":", 1)[0]
            framework = frameworks.get_framework(session, code)
            version = frameworks.version_on(framework, on)
            if version is not None:
                case.versions[code] = version.version
    levels = " and ".join(m.level for m in answer.matches)
    via = " -> ".join([best.path[0].source, *(s.target for s in best.path)])
    # A link read only in a secondary source says so (its weight is in best.confidence already).
    secondary = [
        f"{s.source} -> {s.target} rests on a secondary source, not the cited report: "
        f"{s.secondary_source}"
        for s in best.path
        if s.secondary_source
    ]
    case.gaps.extend(secondary)
    gap = case.facts.get("level.eqf_gap")
    gap_text = (
        f" The target qualification type sits at EQF {target_eqf}, "
        f"{'above' if gap > 0 else 'at or below'} the source's EQF {source_eqf}."
        if gap is not None
        else ""
    )
    case.step(
        "level",
        "found",
        f"On the award date {on}, {resolved.ref} corresponds to {levels} "
        f"({best.relation}, confidence {float(best.confidence):g}), via {via}, "
        f"citing {'; '.join(dict.fromkeys(s.citation for s in best.path))}.{gap_text}"
        + "".join(f" {text}." for text in secondary),
        matches=[m.level for m in answer.matches],
        source_eqf=source_eqf,
        target_eqf=target_eqf,
    )


def convert_units(
    session: Session,
    case: Case,
    stated: dict[str, Any],
    institutions: frozenset[str] = frozenset(),
) -> None:
    credits = stated["credits"]
    if credits:
        value, system = Decimal(str(credits["value"])), credits["system"]
        ects = conversions.credits(session, value, system, "ECTS")
        case.facts["credits.ects"] = ects.value
        spec = frameworks.get_credit_system(session, system, "system")
        if spec.hours_low is not None:
            case.facts["credits.hours"] = value * spec.hours_low
        in_target = (
            conversions.credits(session, value, system, case.target.credit_system)
            if case.target.credit_system
            else None
        )
        case.result_target["credits"] = in_target.as_dict() if in_target else ects.as_dict()
        kinds = reference()["qualification_types"]
        kind = kinds.get(case.target.qualification_type or "", {})
        if not kind.get("minimum_ects"):
            kind = kinds.get(stated["qualification_type"] or "", {})
        minimum = Decimal(kind["minimum_ects"]) if kind.get("minimum_ects") else None
        ratio_text = ""
        if minimum:
            case.facts["workload.ratio"] = ects.value / minimum
            case.facts["workload.shortfall_ects"] = max(minimum - ects.value, Decimal(0))
            ratio_text = (
                f", against a minimum of {minimum:g} ECTS for the qualification type "
                f"({kind['basis']}; "
                f"{'met' if ects.value >= minimum else f'short by {minimum - ects.value:.2f}'})"
            )
        case.step(
            "credits",
            "converted",
            # The basis names its method ("annual load: ...", "rule CODE: ...").
            f"{value:g} {system} = {ects.as_dict()['value']} ECTS ({ects.basis}){ratio_text}.",
            ects=ects.as_dict()["value"],
        )
    else:
        case.weaken("0.9", "no workload is stated or registered")
        case.step("credits", "unknown", "No workload is known: the workload cannot be compared.")
    grade = case.credential["grade"]
    if grade:
        convert_grade_units(session, case, grade, institutions)
    if stated["field"]:
        case.facts["field.isced_f"] = stated["field"]
    if stated["qualification_type"]:
        case.facts["qualification.type"] = stated["qualification_type"]


def convert_grade_units(
    session: Session,
    case: Case,
    grade: dict[str, Any],
    institutions: frozenset[str] = frozenset(),
) -> None:
    """The grade normalised (0 = pass mark, 1 = best) and on the target's scale: by the
    conversion table of the deciding institution, else of the target country's ministry, else
    by default, the basis saying which and why. A grade that cannot be converted (an ordinal
    scale with no published equivalent and no table) is a gap named in the decision, not a
    reason to refuse the credential."""
    scales = {s.code: conversions.scale_spec(s) for s in frameworks.list_grading_scales(session)}
    source = scales[grade["scale"]]
    try:
        case.facts["grade.normalised"] = convert_grade(
            grade["value"], source, NORMALISED, scales=scales
        ).raw
    except InvalidData as error:
        case.gaps.append(f"the grade cannot be normalised: {error.detail}")
    target = scales.get(case.target.grading_scale or "")
    if target is None:
        case.step(
            "grade",
            "kept",
            f"The grade {grade['value']} ({grade['scale']}) is kept as given: the target has "
            "no bundled grading scale.",
        )
        return
    try:
        choice = conversions.choose_table(
            session, source, target, institutions=institutions, country=case.target.country
        )
        converted = conversions.explain(
            convert_grade(grade["value"], source, target, scales=scales, table=choice.table),
            choice,
        )
    except InvalidData as error:
        case.step(
            "grade",
            "kept",
            f"The grade {grade['value']} ({grade['scale']}) is kept as given: {error.detail}",
        )
        return
    case.result_target["grade"] = converted.as_dict()
    case.step(
        "grade",
        "converted",
        f"The grade {grade['value']} ({grade['scale']}) is {converted.value} on "
        f"{converted.scale} ({converted.method}; {converted.basis}).",
        value=converted.value,
        table=converted.table.code if converted.table else None,
    )


def stored_rules(
    session: Session, jurisdictions: list[str], institutions: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Rules in force for these jurisdictions; an institution's only for its own decisions."""
    return rulebook.in_force(session, jurisdictions, institutions)


def decide(
    session: Session, case: Case, institutions: frozenset[str] = frozenset()
) -> rule_engine.Evaluation:
    """Evaluate the default policy and the stored rules in force; `institutions` are the ids
    (as text) of the institution deciding, whose own rules then apply too."""
    jurisdictions = [code for code in (case.target.country, case.target.framework) if code]
    policy = rule_engine.load_default_policy()
    if authenticity.FACT not in case.facts:
        # No file was verified: the default policy's rules on the signature are not evaluated,
        # so that the answer (its trace included) is what it was before verifications were
        # stored. An authority's own rule on the signature is evaluated as written (it may
        # mean to catch a credential no verification vouches for).
        policy = [rule for rule in policy if not authenticity.about_signature(rule)]
    rules = [*policy, *stored_rules(session, jurisdictions, institutions)]
    evaluation = rule_engine.evaluate(
        rules, case.facts, jurisdiction=jurisdictions, on=case.credential["awarded_on"]
    )
    matched = [trace for trace in evaluation.trace if trace.matched]
    decided = next((t for t in evaluation.trace if t.rule_id == evaluation.decided_by), None)
    differences = "; ".join(
        f"{d['element']}: {d['detail'].rstrip('.')}" for d in evaluation.differences
    )
    case.step(
        "rules",
        evaluation.decision or "none",
        f"{len(evaluation.trace)} rules were evaluated and {len(matched)} held; the decision "
        f"'{evaluation.decision}' comes from {decided.title if decided else 'no rule'} "
        f"({evaluation.decided_by})."
        + (
            f" Substantial differences: {differences}."
            if differences
            else " No substantial difference was found."
        ),
        decided_by=evaluation.decided_by,
    )
    return evaluation


def _trace_json(evaluation: rule_engine.Evaluation) -> list[dict[str, Any]]:
    return audit.plain(
        [
            {
                "rule": t.rule_id,
                "title": t.title,
                "priority": t.priority,
                "applicable": t.applicable,
                "matched": t.matched,
                "reason": t.reason,
                "conditions": [
                    {
                        "path": c.path,
                        "fact": c.fact,
                        "op": c.op,
                        "expected": c.expected,
                        "actual": c.actual,
                        "held": c.held,
                        "why": c.why,
                    }
                    for c in t.conditions
                ],
            }
            for t in evaluation.trace
        ]
    )


def run(
    session: Session,
    credential: dict[str, Any],
    spec: TargetSpec,
    graph: LevelGraph,
    institutions: frozenset[str] = frozenset(),
    verification: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every step on a validated credential; the answer, not yet stored. `institutions`: the
    institution deciding (its own rules apply), none for a registrar or a ministry.
    `verification`: the stored verification of the credential's file, as
    registry.verifications.services.carried gives it (mappings.authenticity)."""
    case = Case(credential, spec)
    resolve_institution(session, case)
    stated = resolve_qualification(session, case)
    resolve_level(session, case, graph, stated)
    convert_units(session, case, stated, institutions)
    if verification is not None:
        authenticity.apply(case, verification)
    evaluation = decide(session, case, institutions)
    decision = evaluation.decision or "needs_review"
    alternative = alternatives.offered(evaluation, case.facts)
    if alternative is not None:
        case.step(
            "alternative",
            alternative["form"],
            alternatives.sentence(alternative),
            rule=alternative["rule"],
        )
    confidence = case.confidence.quantize(Decimal("0.01"))
    case.explanation.append(
        f"Decision: {decision.replace('_', ' ')} (confidence {confidence})."
        + (f" Gaps: {'; '.join(case.gaps)}." if case.gaps else "")
    )
    named = {} if verification is None else {"verification": audit.plain(verification)}
    return {
        "decision": decision,
        "confidence": str(confidence),
        "source": case.source,
        "target": {
            **case.result_target,
            "level": evaluation.outcome.get("target_level"),
            "credits_granted": audit.plain(evaluation.outcome.get("credits_granted")),
        },
        "path": case.path,
        "rules": _trace_json(evaluation),
        "substantial_differences": audit.plain(list(evaluation.differences)),
        "conditions": list(evaluation.outcome.get("conditions") or []),
        "alternative": audit.plain(alternative),
        "notes": list(evaluation.outcome.get("notes") or []),
        "gaps": case.gaps,
        "steps": case.steps,
        "explanation": case.explanation,
        "framework_versions": dict(sorted(case.versions.items())),
        "facts": audit.plain(case.facts),
        **named,
    }


def assess(
    session: Session,
    actor: Actor,
    raw: Any,
    target: str,
    target_type: str | None = None,
    sightings: Sightings | None = None,
    verification_id: int | None = None,
) -> dict[str, Any]:
    """Assess and store. Bad input: InvalidData listing every field.

    The verification of the credential's file is named by `verification_id` (or the body's
    field of that name): one the actor's office stored (POST /verifications, the desk's
    upload, an import); another's, or none: NotFound. Its verdict counts as far as the
    credential is one the file yielded (registry.verifications.services.carried).

    An institution found only ambiguously is queued for review (registry.match_reviews): at
    once, or with the other `sightings` of a batch when its caller writes them."""
    authorize(actor, "assessment.create", Target("assessment", target or ""))
    raw, verification_id = authenticity.named(raw, verification_id)
    credential, spec = validate(session, raw, target, target_type)
    inputs = audit.plain(credential)
    verification = None
    if verification_id is not None:
        stored = verifications.usable(session, actor, verification_id)
        verification = verifications.carried(stored, inputs)
    answer = run(
        session,
        credential,
        spec,
        conversions.level_graph(session),
        rulebook.deciding_institutions(actor),
        verification,
    )
    answer["inputs_digest"] = digest(inputs, target, target_type, verification)
    row = Assessment(
        actor=actor.name,
        owner=owner_of(actor),
        inputs=inputs,
        target=target.strip(),
        target_type=target_type,
        inputs_digest=answer["inputs_digest"],
        source_framework=answer["facts"].get("source.framework"),
        target_framework=spec.framework,
        decision=answer["decision"],
        confidence=Decimal(answer["confidence"]),
        result=answer,
        framework_versions=answer["framework_versions"],
        verification_id=verification_id,
    )
    session.add(row)
    session.flush()
    answer["id"] = row.id
    row.result = {**answer}
    audit.record(
        session,
        actor,
        "assessment.create",
        f"assessment:{row.id}",
        after={"decision": answer["decision"], "inputs_digest": answer["inputs_digest"]},
    )
    noted = Sightings() if sightings is None else sightings
    stated = credential["institution"]
    noted.met(
        stated["name"],
        stated["country"],
        answer["source"]["institution"],
        "assessment",
        row.id,
        row.owner,
    )
    if sightings is None:
        noted.write(session)
    return {"id": row.id, **{key: value for key, value in answer.items() if key != "id"}}


def get_assessment(session: Session, actor: Actor, assessment_id: int) -> dict[str, Any]:
    """A stored assessment with its inputs, for its owner (the office that made it) and admins;
    to anyone else, anonymous included, it does not exist (NotFound, as for an unknown id)."""
    row = session.get(Assessment, assessment_id)
    if row is None or not readable(session, actor, row.owner):
        raise NotFound(f"No assessment {assessment_id}.", id=assessment_id)
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat(),
        "inputs": row.inputs,
        **{key: value for key, value in row.result.items() if key != "id"},
    }


def list_assessments(
    session: Session,
    actor: Actor,
    text: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The actor's own decisions, latest first: those its account made (an office's other
    accounts keep theirs), filtered by words over the title, the institution, the target and
    the decision, and by the day made (both ends included). A summary each, not the trace.

    The rows are narrowed by maker in the database; the words are matched here, over the
    inputs as stored (JSON, whose text form differs between databases). Anonymous:
    Unauthenticated."""
    if actor.anonymous:
        raise Unauthenticated("Sign in to list your assessments.")
    rows = session.execute(
        select(
            Assessment.id,
            Assessment.created_at,
            Assessment.owner,
            Assessment.inputs,
            Assessment.target,
            Assessment.target_type,
            Assessment.decision,
            Assessment.confidence,
            Assessment.inputs_digest,
        )
        .where(Assessment.actor == actor.name)
        .order_by(Assessment.id.desc())
    )
    words = (text or "").casefold().split()
    found = []
    for row in rows:
        made = row.created_at.date()
        if (row.owner or {}).get("account_id") != actor.account_id:
            continue
        if (since and made < since) or (until and made > until):
            continue
        inputs = row.inputs
        credentials = inputs.get("stack") or [inputs]
        summary = {
            "id": row.id,
            "created_at": row.created_at,
            "title": "; ".join(c.get("title", "") for c in credentials),
            "institution": "; ".join(
                dict.fromkeys((c.get("institution") or {}).get("name", "") for c in credentials)
            ),
            "target": row.target,
            "target_type": row.target_type,
            "decision": row.decision,
            "confidence": str(row.confidence),
            "inputs_digest": row.inputs_digest,
        }
        haystack = (
            " ".join(
                str(summary[key] or "") for key in ("title", "institution", "target", "target_type")
            ).casefold()
            + " "
            + row.decision.replace("_", " ")
        )
        if all(word in haystack for word in words):
            found.append(summary)
    return found


def assess_stack(
    session: Session, actor: Actor, raw: Any, target: str, target_type: str | None = None
) -> dict[str, Any]:
    """Assess several micro-credentials together toward one qualification type.

    Each is assessed on its own first; the stack then counts the ECTS of those that stand
    (institution identified and not unrecognised, at or above the target's EQF level, in the
    stack's ISCED-F broad field), each credential once, and the rules decide on the total.
    """
    authorize(actor, "assessment.create", Target("assessment", target or ""))
    items = raw.get("credentials") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= 100 or set(raw) - {"credentials"}:
        raise InvalidData(
            'A stack is {"credentials": [1 to 100 credentials]}.',
            errors={"credentials": ["A list of 1 to 100 credentials."]},
        )
    validated, errors = [], {}
    for index, item in enumerate(items):
        try:
            validated.append(validate(session, item, target, target_type)[0])
        except InvalidData as error:
            errors[f"credentials.{index}"] = error.errors
    if errors:
        raise InvalidData(
            "Some credentials of the stack cannot be assessed as given.", errors=errors
        )
    spec = resolve_target(session, target, target_type)
    graph = conversions.level_graph(session)
    answers = [run(session, credential, spec, graph) for credential in validated]
    fields_ = [c["field"] for c in validated if c["field"]]
    broad = (
        max(set(map(isced.broad, fields_)), key=[isced.broad(f) for f in fields_].count)
        if fields_
        else None
    )
    parts, seen, total = [], set(), Decimal(0)
    for credential, answer in zip(validated, answers, strict=True):
        facts = answer["facts"]
        key = digest(audit.plain(credential), target, target_type)
        reasons = []
        if key in seen:
            reasons.append("the same credential is already counted")
        if (
            facts.get("institution.match") != "matched"
            or facts.get("institution.status") == "not_recognised"
        ):
            reasons.append("its institution is not identified or not recognised")
        eqf = facts.get("source.eqf_level")
        if spec.eqf_level and (eqf is None or int(eqf) < spec.eqf_level):
            reasons.append(f"its level (EQF {eqf}) is below EQF {spec.eqf_level}")
        if broad and (not credential["field"] or isced.broad(credential["field"]) != broad):
            reasons.append(f"it is outside the stack's field {broad} ({isced.name(broad)})")
        ects = Decimal(facts["credits.ects"]) if facts.get("credits.ects") is not None else None
        if ects is None:
            reasons.append("it states no workload")
        counted = not reasons
        seen.add(key)
        total += ects if counted else 0
        parts.append(
            {
                "title": credential["title"],
                "ects": str(ects) if ects is not None else None,
                "counted": counted,
                "reasons": reasons,
                "decision": answer["decision"],
            }
        )
    stack_facts = {
        "micro_credential": True,
        "target.country": spec.country,
        "target.framework": spec.framework,
        "target.qualification_type": target_type,
        "target.eqf_level": spec.eqf_level,
        "credits.ects": total,
        "level.found": any(p["counted"] for p in parts),
        "institution.match": "matched",
        "learning_outcomes.present": all(c["learning_outcomes"] for c in validated),
    }
    if spec.minimum_ects:
        stack_facts["workload.ratio"] = total / spec.minimum_ects
        stack_facts["workload.shortfall_ects"] = max(spec.minimum_ects - total, Decimal(0))
    jurisdictions = [code for code in (spec.country, spec.framework) if code]
    evaluation = rule_engine.evaluate(
        [
            *rule_engine.load_default_policy(),
            *stored_rules(session, jurisdictions, rulebook.deciding_institutions(actor)),
        ],
        stack_facts,
        jurisdiction=jurisdictions,
        on=max(c["awarded_on"] for c in validated),
    )
    decision = evaluation.decision or "needs_review"
    alternative = alternatives.offered(evaluation, stack_facts)
    counted = sum(1 for p in parts if p["counted"])
    explanation = [
        f"{counted} of {len(parts)} micro-credentials count toward the stack, "
        f"{total:g} ECTS in all"
        + (f" against a minimum of {spec.minimum_ects:g} ECTS." if spec.minimum_ects else "."),
        *(
            f"{p['title']!r} is not counted: {'; '.join(p['reasons'])}."
            for p in parts
            if not p["counted"]
        ),
        *([alternatives.sentence(alternative)] if alternative else []),
        f"Decision: {decision.replace('_', ' ')}.",
    ]
    inputs = {"stack": [audit.plain(c) for c in validated]}
    answer = {
        "decision": decision,
        "confidence": str(min(Decimal(a["confidence"]) for a in answers)),
        "parts": parts,
        "total_ects": str(total),
        "rules": _trace_json(evaluation),
        "substantial_differences": audit.plain(list(evaluation.differences)),
        "conditions": list(evaluation.outcome.get("conditions") or []),
        "alternative": audit.plain(alternative),
        "explanation": explanation,
        "inputs_digest": hashlib.sha256(
            json.dumps(
                {"stack": sorted(digest(c, target, target_type) for c in inputs["stack"])},
                sort_keys=True,
            ).encode()
        ).hexdigest(),
    }
    row = Assessment(
        actor=actor.name,
        owner=owner_of(actor),
        inputs=inputs,
        target=target.strip(),
        target_type=target_type,
        inputs_digest=answer["inputs_digest"],
        source_framework=None,
        target_framework=spec.framework,
        decision=decision,
        confidence=Decimal(answer["confidence"]),
        result=answer,
        framework_versions={},
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "assessment.create",
        f"assessment:{row.id}",
        after={"decision": decision, "stack": len(parts)},
    )
    sightings = Sightings()
    for credential, part in zip(validated, answers, strict=True):
        stated = credential["institution"]
        sightings.met(
            stated["name"],
            stated["country"],
            part["source"]["institution"],
            "assessment",
            row.id,
            row.owner,
        )
    sightings.write(session)
    return {"id": row.id, **answer}
