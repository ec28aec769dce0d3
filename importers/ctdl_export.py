"""Pathways written as CTDL Transfer Value Profiles: the JSON-LD graph `export_ctdl` answers.

The mapping, its sources and the reading back are in `importers.ctdl`; this module writes what
that one reads, with the same vocabulary and the same words for the conditions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from importers.ctdl import (
    CONTEXT,
    CREDENTIAL_CLASS,
    CREDIT_UNIT_SCHEME,
    CTID,
    DEGREE_CREDIT,
    LEARNING_METHODS,
    LIFE_CYCLE,
    LIFE_CYCLE_SCHEME,
    NAMESPACE,
    PREFIX,
    PROFILE,
    SCHEME_NAMES,
    SEMESTER_HOUR,
    assessment_text,
    conditions_text,
)

# The CTIDs this registry gives the profiles it writes: uuid5 of the pathway's natural key.
CTID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE + "pathway")


def profile_ctid(institution_id: int, rule_id: str) -> str:
    """The CTID of a pathway's profile: its rule_id when that is one (a profile read from the
    Credential Registry keeps its CTID), else derived from its natural key, so that each export
    gives the same."""
    if CTID.match(rule_id):
        return rule_id.lower()
    return f"ce-{uuid.uuid5(CTID_NAMESPACE, f'{institution_id}/{rule_id}')}"


def _json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a JSON number, as CTDL's schema:value is one. Exact: credits have a few
    digits, and a float's repr is the shortest text that reads back as the same number."""
    if value is None:
        return None
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def _langmap(value: str | None, language: str = "und") -> dict[str, str] | None:
    """A CTDL language map. The registry does not know the language of its titles and names:
    "und" (BCP 47: undetermined) says so; the words it writes itself are English."""
    return None if value is None else {language: value}


def _institution_node(institution: dict[str, Any]) -> dict[str, Any]:
    identifiers = [
        {
            "@type": "ceterms:IdentifierValue",
            "ceterms:identifierTypeName": {"en": SCHEME_NAMES[scheme]},
            "ceterms:identifierValueCode": value,
        }
        for scheme, value in institution["identifiers"]
        if scheme in SCHEME_NAMES
    ]
    domains = [value for scheme, value in institution["identifiers"] if scheme == "domain"]
    return _compact(
        {
            "@id": f"_:institution-{institution['id']}",
            "@type": "ceterms:CredentialOrganization",
            "ceterms:name": _langmap(institution["name"]),
            "ceterms:identifier": identifiers or None,
            "ceterms:subjectWebpage": f"https://{domains[0]}" if domains else None,
            "ceterms:address": [
                {"@type": "ceterms:Place", "ceterms:addressCountry": institution["country"]}
            ],
        }
    )


def _value_profile(amount: Decimal, system: str) -> dict[str, Any]:
    unit = SEMESTER_HOUR if system == "US-SEM" else DEGREE_CREDIT
    return {
        "@type": "ceterms:ValueProfile",
        "schema:value": _json_number(amount),
        "ceterms:creditUnitType": [
            {
                "@type": "ceterms:CredentialAlignmentObject",
                "ceterms:framework": CREDIT_UNIT_SCHEME,
                "ceterms:targetNode": unit,
            }
        ],
        "schema:unitText": system,
    }


def _entry_node(entry: dict[str, Any], kind: str, ctids: dict[int, str]) -> dict[str, Any]:
    if kind == "course":
        type_ = "ceterms:Course"
    else:
        type_ = CREDENTIAL_CLASS.get(entry.get("qualification_type"), "ceterms:Credential")
    return _compact(
        {
            "@id": f"_:{kind}-{entry['id']}",
            "@type": type_,
            "ceterms:ctid": ctids.get(entry["id"]) if kind == "qualification" else None,
            "ceterms:name": _langmap(entry["title"]),
            "ceterms:codedNotation": entry["code"],
            "ceterms:ownedBy": (
                [f"_:institution-{entry['institution']['id']}"]
                if entry.get("institution")
                else None
            ),
            "ceterms:creditValue": (
                [_value_profile(Decimal(entry["credits"]), entry["credit_system"])]
                if entry.get("credits") is not None and entry.get("credit_system")
                else None
            ),
        }
    )


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if value is not None}


def profile_node(pathway: dict[str, Any]) -> dict[str, Any]:
    """A pathway (the `present` shape) as a TransferValueProfile node. Its references are blank
    nodes `to_graph` describes."""
    conditions = pathway["conditions"]
    values = {**conditions, "choose": pathway["choose"], "credit_system": pathway["credit_system"]}
    words = conditions_text(values, count=len(pathway["credentials"]))
    source = pathway.get("source")
    is_url = isinstance(source, str) and source.startswith(("http://", "https://"))
    end = pathway["valid_to"]
    if isinstance(end, str):
        end = dt.date.fromisoformat(end)
    registry = {
        "ruleId": pathway["rule_id"],
        "creditSystem": pathway["credit_system"],
        "choose": pathway["choose"],
        "minGrade": conditions["min_grade"],
        "minGradeScale": conditions["min_grade_scale"],
        "supervision": conditions["supervision"],
        "qualityAssured": bool(conditions["quality_assured"]),
        "maxAgeMonths": conditions["max_age_months"],
        "maxTotalCredits": _json_number(conditions["max_total_credits"]),
        "status": pathway["status"],
        "reason": pathway.get("reason"),
        "source": None if is_url else source,
    }
    life_cycle = LIFE_CYCLE[pathway["status"]]
    return _compact(
        {
            "@id": f"_:{profile_ctid(pathway['institution']['id'], pathway['rule_id'])}",
            "@type": PROFILE,
            "ceterms:ctid": profile_ctid(pathway["institution"]["id"], pathway["rule_id"]),
            "ceterms:name": _langmap(pathway["title"]),
            "ceterms:description": _langmap(
                " ".join(part for part in (pathway.get("description"), words) if part)
            ),
            "ceterms:assessmentMethodDescription": _langmap(assessment_text(values), "en"),
            "ceterms:learningMethodDescription": _langmap(LEARNING_METHODS, "en"),
            "ceterms:ownedBy": [f"_:institution-{pathway['institution']['id']}"],
            "ceterms:subjectWebpage": source if is_url else None,
            "ceterms:lifeCycleStatusType": {
                "@type": "ceterms:CredentialAlignmentObject",
                "ceterms:framework": LIFE_CYCLE_SCHEME,
                "ceterms:targetNode": f"lifeCycle:{life_cycle}",
                "ceterms:targetNodeName": {"en": life_cycle},
            },
            "ceterms:startDate": _iso(pathway["valid_from"]),
            "ceterms:endDate": None if end is None else (end - dt.timedelta(days=1)).isoformat(),
            "ceterms:transferValue": [
                _value_profile(Decimal(pathway["credits"]), pathway["credit_system"])
            ],
            "ceterms:transferValueFrom": [
                f"_:{entry['kind']}-{entry['id']}" for entry in pathway["credentials"]
            ],
            "ceterms:transferValueFor": [f"_:qualification-{pathway['programme']['id']}"],
            **{f"{PREFIX}:{name}": value for name, value in registry.items() if value is not None},
        }
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def to_graph(
    pathways: list[dict[str, Any]],
    institutions: dict[int, dict[str, Any]],
    ctids: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Pathways (the `present` shape) as one CTDL graph: a profile each, and a node for every
    credential, programme and institution they refer to. `institutions` holds each referred
    institution's {"id", "name", "country", "identifiers": [(scheme, value)]}; `ctids` the
    CTIDs the catalogue holds for qualifications, by id."""
    ctids = ctids or {}
    nodes: dict[str, dict[str, Any]] = {}
    profiles = []
    for pathway in pathways:
        profiles.append(profile_node(pathway))
        programme = {**pathway["programme"], "institution": pathway["institution"]}
        for entry, kind in [(programme, "qualification")] + [
            (entry, entry["kind"]) for entry in pathway["credentials"]
        ]:
            node = _entry_node(entry, kind, ctids)
            nodes.setdefault(node["@id"], node)
    used = {
        reference for node in nodes.values() for reference in node.get("ceterms:ownedBy", [])
    } | {f"_:institution-{pathway['institution']['id']}" for pathway in pathways}
    organisations = [
        _institution_node(institution)
        for institution_id, institution in sorted(institutions.items())
        if f"_:institution-{institution_id}" in used
    ]
    return {
        "@context": [CONTEXT, {PREFIX: NAMESPACE}],
        "@graph": profiles + sorted(nodes.values(), key=lambda n: n["@id"]) + organisations,
    }
