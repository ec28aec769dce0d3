"""Batch assessment: every credential in a file of transcripts or credentials, assessed.

A transcript's credential is its top-level achievement (an ELMO degree programme, an ELM
qualification, a badge): the result no other result contains. Its title, issuer, level, credits
and field become the credential an assessment takes; what the file does not state is a gap the
decision names. Lines come out one per credential, then one summary line.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from importers.badges import UNSTATED
from importers.runner import FileError, Rejected
from mappings.recognition import assess, check_target, resolve_target
from registry.catalogue import isced
from registry.core.errors import DomainError
from registry.core.permissions import Actor
from registry.match_reviews.services import Sightings


def credentials(records: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, dict[str, Any] | str]]:
    """(position, credential) for each top-level result; (position, reason) when one cannot
    become a credential."""
    for position, record in records:
        if isinstance(record, Rejected):
            yield position, record.reason
            continue
        if record["result"].get("parent_local_id"):
            continue
        yield position, _credential(record["result"], record["transcript"])


def held_credentials(
    records: Iterable[tuple[str, Any]],
) -> Iterator[tuple[str, dict[str, Any] | str]]:
    """(position, credential) for each passed result, top-level or contained (a pathway may
    accept a programme or a course within it), as a pathway evaluation takes it
    (mappings.pathways.schemas.HeldCredentialSchema): with the result's code, and its grade on
    the scheme the file names (one the registry does not know stays unconverted, which the
    evaluation reports); (position, reason) for one that is not held or cannot be read. A result
    whose status is not stated as passed is not held: an expired or revoked badge reads as
    "unknown"."""
    for position, record in records:
        if isinstance(record, Rejected):
            yield position, record.reason
            continue
        result = record["result"]
        if result.get("status") != "passed":
            yield position, f"the result is {result.get('status') or 'unknown'}, not passed"
            continue
        credential = _credential(result, record["transcript"])
        if isinstance(credential, str):
            yield position, credential
            continue
        credential.pop("credits_stated", None)
        stated = credential.pop("grade_stated", None)
        if stated is not None:
            credential["grade"] = {"value": stated["value"], "scale": stated["scheme"]}
        yield position, {**credential, "code": result.get("code")}


def _credential(result: dict[str, Any], transcript: dict[str, Any]) -> dict[str, Any] | str:
    """A result of a file as the credential an assessment takes, or why it cannot be one."""
    issuer = transcript.get("issuer") or {}
    awarded = result.get("ended_on") or transcript.get("issued_on")
    if not awarded:
        return "no award date: neither the result nor the document gives one"
    missing = [what for what in ("name", "country") if not issuer.get(what)]
    if missing:
        return f"the file states no {' and no '.join(missing)} for the issuer"
    level = result.get("level") or (
        f"EQF:{result['eqf_level']}" if result.get("eqf_level") else None
    )
    credential = {
        "title": result["title"],
        "institution": {
            "name": issuer["name"],
            "country": issuer["country"],
            "identifiers": {
                k: v
                for k, v in (issuer.get("identifiers") or {}).items()
                if k in ("schac", "erasmus", "pic", "ror", "domain")
            },
        },
        "awarded_on": awarded[:10],
        "level": level,
        "field": result.get("isced_f")
        if result.get("isced_f") and isced.is_valid(result["isced_f"])
        else None,
    }
    if result.get("credits") is not None and result.get("credit_system") == UNSTATED:
        # Open Badges state credits without a unit: a gap of the decision, not a refusal.
        credential["credits_stated"] = {"value": result["credits"], "system": None}
    elif result.get("credits") is not None and result.get("credit_system"):
        credential["credits"] = {"value": result["credits"], "system": result["credit_system"]}
    if result.get("grade"):
        # Files name a grading scheme in words, not a scale of the registry: the grade is
        # reported beside the decision, never silently dropped.
        credential["grade_stated"] = {
            "value": result["grade"],
            "scheme": result.get("grading_scheme"),
        }
    return credential


def check_batch_target(session: Session, target: str, target_type: str | None) -> None:
    """A target or type the API would refuse, or one the registry does not hold, refused
    before any line is read (or any header written): one error, not the same one on every
    line."""
    check_target(target, target_type)
    resolve_target(session, target, target_type)


def assess_records(
    session: Session,
    actor: Actor,
    records: Iterable[tuple[str, Any]],
    target: str,
    target_type: str | None = None,
    verification: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """One line per credential (assessed and stored, or why not), then the summary line; a file
    that breaks off ends with the summary naming where (`failure`).

    `verification`: the file's, verified once ({"id", "verdict", "reason"}, or {"error"} when
    it could not be); each assessment names it, and the summary repeats it."""
    check_batch_target(session, target, target_type)
    counts: Counter[str] = Counter()
    failure = None
    # Issuers found only ambiguously are queued for review once for the whole file.
    sightings = Sightings()
    verification_id = (verification or {}).get("id")
    try:
        yield from _assessed(
            session,
            actor,
            credentials(records),
            target,
            target_type,
            counts,
            sightings,
            verification_id,
        )
    except FileError as error:
        # The lines before the break stand; the summary says where the file broke off.
        failure = f"{error.position}: {error.reason}"
    sightings.write(session)
    summary: dict[str, Any] = {**counts, "failure": failure} if failure else dict(counts)
    if verification is not None:
        summary["verification"] = verification
    yield {"summary": summary}


def _assessed(
    session: Session,
    actor: Actor,
    items: Iterable[tuple[str, dict[str, Any] | str]],
    target: str,
    target_type: str | None,
    counts: Counter[str],
    sightings: Sightings,
    verification_id: int | None = None,
) -> Iterator[dict[str, Any]]:
    for position, credential in items:
        counts["read"] += 1
        if isinstance(credential, str):
            counts["not_assessed"] += 1
            yield {"position": position, "assessed": False, "reason": credential}
            continue
        grade = credential.pop("grade_stated", None)
        unplaced_credits = credential.pop("credits_stated", None)
        try:
            answer = assess(
                session, actor, credential, target, target_type, sightings, verification_id
            )
        except DomainError as error:
            counts["not_assessed"] += 1
            yield {
                "position": position,
                "title": credential["title"],
                "assessed": False,
                "reason": error.detail,
                "errors": error.errors,
            }
            continue
        counts["assessed"] += 1
        counts[answer["decision"]] += 1
        line = {
            "position": position,
            "title": credential["title"],
            "institution": credential["institution"]["name"],
            "assessed": True,
            "assessment_id": answer["id"],
            "decision": answer["decision"],
            "confidence": answer["confidence"],
            "levels": [level["level"] for level in answer["target"].get("levels", [])],
            "why": _why(answer),
        }
        if "verification" in answer:
            line["signature"] = answer["facts"]["credential.signature"]
        if unplaced_credits is not None:
            line["credits"] = {
                **unplaced_credits,
                "converted": False,
                "reason": "the file states no credit unit",
            }
        if grade is not None:
            line["grade"] = {
                **grade,
                "converted": False,
                "reason": "the file names no grading scale of the registry, only "
                + (f"the scheme {grade['scheme']!r}" if grade["scheme"] else "no scheme at all"),
            }
        yield line


def _why(answer: dict[str, Any]) -> list[str]:
    """What stands between the credential and recognition: the gaps the decision names and each
    substantial difference."""
    return [
        *answer["gaps"],
        *(d.get("detail") or d.get("kind", "") for d in answer["substantial_differences"]),
    ]


# The CSV form of the lines (`registry assess-batch --output csv` and the web page's download).
CSV_COLUMNS = (
    "position",
    "title",
    "institution",
    "assessed",
    "assessment_id",
    "decision",
    "confidence",
    "levels",
    "why",
    "grade",
    "reason",
)


def csv_row(line: dict[str, Any]) -> dict[str, Any]:
    """One line of `assess_records` as a CSV row of CSV_COLUMNS (extra keys to be ignored);
    the summary line puts its counts, as JSON, under `reason`."""
    if "summary" in line:
        return {"position": "summary", "reason": json.dumps(line["summary"])}
    grade = line.get("grade")
    return {
        **line,
        "levels": " ".join(line.get("levels", [])),
        "why": "; ".join(line.get("why", [])),
        "grade": f"{grade['value']} (not converted: {grade['reason']})" if grade else "",
    }
