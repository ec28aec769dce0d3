"""What the registry states, as a W3C Verifiable Credential (Data Model 2.0).

Each projection is a pure function of the stored answer (as the API's GET presents it): the
same stored record gives the same credential, key for key, so a statement signed twice is the
same statement. `credentialSubject` holds what the printed statement says.

The VC 2.0 context, as the Recommendation publishes it, has no @vocab: our own terms get one
inline, the IRI W3C names for issuer-dependent terms. Without it a Data Integrity proof would
not cover them (JSON-LD drops undefined terms; the canonicaliser refuses such data loss). Null
members are left out (JSON-LD drops them, and the JWT and the Data Integrity form must say the
same); nested names are camelCase.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"},
]
TYPES = {
    "assessment": "StatementOfComparability",
    "transfer": "TransferCreditEvaluation",
    "pathway": "PathwayEvaluation",
}
_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")


def credential(kind: str, record: dict[str, Any], issuer: str, check_url: str) -> dict[str, Any]:
    """The unsigned credential for one stored record of `kind` (a key of TYPES)."""
    subject = {"assessment": _assessment, "transfer": _transfer, "pathway": _pathway}[kind]
    return {
        "@context": [CONTEXT[0], dict(CONTEXT[1])],
        "id": check_url,
        "type": ["VerifiableCredential", TYPES[kind]],
        "issuer": issuer,
        "validFrom": timestamp(record["created_at"]),
        "credentialSubject": {"type": TYPES[kind], **compact(subject(record))},
    }


def moment(stored: str) -> dt.datetime:
    """A stored time in UTC: SQLite gives it back without an offset (it keeps UTC), PostgreSQL
    with the session's; to the second, as the statement states it."""
    value = dt.datetime.fromisoformat(stored)
    value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value.replace(microsecond=0)


def timestamp(stored: str) -> str:
    """A stored time as an xsd:dateTimeStamp in UTC."""
    return moment(stored).strftime("%Y-%m-%dT%H:%M:%SZ")


def citations(assessment: dict[str, Any]) -> list[str]:
    """The sources an assessment cites, each once, in the statement's order: each step of the
    path, the alternative's basis, the institution's status source."""
    institution = (assessment.get("source") or {}).get("institution") or {}
    found = [step.get("citation") for step in assessment.get("path") or []]
    found.append((assessment.get("alternative") or {}).get("basis"))
    found.append(institution.get("status_source"))
    return [c for c in dict.fromkeys(found) if c]


def compact(value: Any) -> Any:
    """Nulls left out, snake_case names camelCased, and a record's `id` named `recordId`,
    recursively: in JSON-LD `id` is the node's IRI, which a registry's number is not."""
    if isinstance(value, dict):
        return {
            "recordId" if key == "id" else _camel(key): compact(item)
            for key, item in value.items()
            if item is not None
        }
    if isinstance(value, list):
        return [compact(item) for item in value if item is not None]
    return value


def _camel(name: str) -> str:
    if not _SNAKE.fullmatch(name):
        return name
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _assessment(found: dict[str, Any]) -> dict[str, Any]:
    inputs = found.get("inputs") or {}
    institution = (found.get("source") or {}).get("institution") or {}
    return {
        "assessment": found["id"],
        "credential": [_credential_summary(item) for item in inputs.get("stack") or [inputs]],
        "institution": (
            {key: institution.get(key) for key in ("name", "country", "status")}
            if institution.get("verdict") == "matched"
            else None
        ),
        "target": found.get("target"),
        "decision": found["decision"],
        "confidence": found.get("confidence"),
        "substantial_differences": found.get("substantial_differences") or [],
        "conditions": found.get("conditions") or [],
        "alternative": found.get("alternative"),
        "basis": found.get("explanation") or [],
        "citations": citations(found),
        "notes": found.get("notes") or [],
        "inputs_digest": found["inputs_digest"],
        "framework_versions": _versions(found.get("framework_versions")),
    }


def _credential_summary(inputs: dict[str, Any]) -> dict[str, Any]:
    institution = inputs.get("institution") or {}
    return {
        "title": inputs.get("title"),
        "institution": {"name": institution.get("name"), "country": institution.get("country")},
        "level": inputs.get("level"),
        "qualification_type": inputs.get("qualification_type"),
        "credits": inputs.get("credits"),
        "grade": inputs.get("grade"),
        "awarded_on": inputs.get("awarded_on"),
    }


def _versions(versions: dict[str, str] | None) -> list[dict[str, str]]:
    # A list, not a map keyed by framework code: a code is no JSON-LD term.
    return [{"framework": code, "version": v} for code, v in sorted((versions or {}).items())]


def _transfer(found: dict[str, Any]) -> dict[str, Any]:
    receiving = found.get("receiving_institution") or {}
    source = found.get("source_institution") or {}
    return {
        "evaluation": found["id"],
        "evaluated_on": found.get("on"),
        "receiving_institution": {
            "name": receiving.get("name"),
            "country": receiving.get("country"),
        },
        "source_institution": {
            key: source.get(key) for key in ("verdict", "name", "country") if key in source
        },
        "results": [
            {
                key: result.get(key)
                for key in (
                    "index",
                    "code",
                    "title",
                    "result_status",
                    "status",
                    "reason",
                    "credits",
                    "grade",
                    "credits_granted",
                )
            }
            for result in found.get("results") or []
        ],
        "summary": found.get("summary"),
        "decisions": found.get("decisions") or [],
        "flags": found.get("flags") or [],
        "inputs_digest": found["inputs_digest"],
    }


def _pathway(found: dict[str, Any]) -> dict[str, Any]:
    programme = found.get("programme") or {}
    owner = programme.get("institution") or {}
    return {
        "evaluation": found["id"],
        "evaluated_on": found.get("on"),
        "programme": {
            "code": programme.get("code"),
            "title": programme.get("title"),
            "institution": {"name": owner.get("name"), "country": owner.get("country")},
            "credit_system": programme.get("credit_system"),
        },
        "credentials": [
            {
                "index": held.get("index"),
                "title": held.get("title"),
                "code": held.get("code"),
                "issuer": {
                    key: (held.get("issuer") or {}).get(key)
                    for key in ("verdict", "name", "country")
                },
                "awarded_on": held.get("awarded_on"),
                "grade": held.get("grade"),
            }
            for held in found.get("credentials") or []
        ],
        "pathways": found.get("pathways") or [],
        "summary": found.get("summary"),
        "basis": found.get("explanation") or [],
        "inputs_digest": found["inputs_digest"],
    }
