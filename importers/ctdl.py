"""Pathways as CTDL Transfer Value Profiles (JSON-LD): the pure mapping, both ways.

What CTDL says (sources below). A `ceterms:TransferValueProfile` (TVP) states "a suggested or
articulated credit- or point-related transfer value" that its owner (`ceterms:ownedBy`, the
receiving organisation) grants:

- `ceterms:transferValue`: ValueProfiles (`schema:value`, or a range `schema:minValue` ..
  `schema:maxValue`, or `qdata:percentage`; `ceterms:creditUnitType` a concept of the CreditUnit
  scheme such as `creditUnit:SemesterHour` or `creditUnit:DegreeCredit`, as a
  CredentialAlignmentObject; `schema:unitText`, `schema:description`). The older registry
  schema names it `ceterms:creditValue` (a QuantitativeValue); both are read.
- `ceterms:transferValueFrom`: what earns the value (credentials of any class, learning
  opportunities such as `ceterms:Course`, assessments), and `ceterms:transferValueFor`: what it
  counts toward. Both are references: registry resource URIs, or blank nodes (`_:...`) described
  in the same `@graph`, with `ceterms:name`, `ceterms:codedNotation`, `ceterms:ctid` and
  `ceterms:ownedBy` / `ceterms:offeredBy` naming their organisation.
- `ceterms:ctid` (`ce-<uuid>`), `ceterms:name`, `ceterms:description`, `ceterms:subjectWebpage`,
  `ceterms:identifier` (IdentifierValues), `ceterms:startDate` / `ceterms:endDate`, and
  `ceterms:lifeCycleStatusType`, a concept of LifeCycleStatus: `lifeCycle:Developing`,
  `lifeCycle:Active`, `lifeCycle:Suspended`, `lifeCycle:Ceased`.
- The registry's validation schema of a TVP (../shared/formats/credential-engine-ctdl/json-schemas/
  transfer_value_profile.json, an older one) requires `@type`, `@id`, `ceterms:ctid`,
  `ceterms:assessmentMethodDescription` and `ceterms:learningMethodDescription`, and allows
  additional properties; its `@context` is "https://credreg.net/ctdl/schema/context/json".

Sources: the CTDL terms at https://credreg.net/ctdl/terms (TransferValueProfile, ValueProfile,
CreditUnit, LifeCycleStatus); Credential Engine's Registry Assistant models
(github.com/CredentialEngine/Registry_Assistant: src/RA.Models/Input/TransferValueProfileRequest.cs,
src/RA.Models/JsonV2/TransferValueProfile.cs, ValueProfile.cs, BlankNode.cs, IdentifierValue.cs);
the Credential Registry's schemas and stored graphs (github.com/CredentialEngine/CredentialRegistry,
copied to ../shared/formats/credential-engine-ctdl/). docs/pathways-ctdl.md says it for users.

How a pathway maps (`importers.ctdl_export.to_graph`, and `read_profiles` back):

- title -> `ceterms:name`; rule_id -> `registry:ruleId` (a profile without one is keyed by its
  CTID, so that a re-import updates it); source -> the
  `ceterms:subjectWebpage` when it is a web address; valid_from -> `ceterms:startDate`; valid_to
  (exclusive) -> `ceterms:endDate`, the last day it holds (so endDate + 1 day on the way back);
  status -> lifeCycleStatusType (approved: Active, proposed: Developing, rejected: Ceased; read
  back Suspended as proposed, and a profile stating none as proposed: nothing the file does not
  say is active is applied).
- credits -> one ValueProfile; its unit is `creditUnit:SemesterHour` for US-SEM, else
  `creditUnit:DegreeCredit` with the registry's credit system in `schema:unitText`. Read back
  from `registry:creditSystem`, else SemesterHour, else a `schema:unitText` or
  `ceterms:creditUnitTypeDescription` that is a credit-system code.
- programme -> `ceterms:transferValueFor`, credentials -> `ceterms:transferValueFrom`, each a
  blank node in the graph with its class (CREDENTIAL_CLASS), `ceterms:codedNotation` (its code),
  `ceterms:ctid` when the catalogue holds one (identifiers "ctid"), name, and `ceterms:ownedBy`
  its institution, itself a node with `ceterms:identifier`s (ROR, SCHAC, Erasmus...) and
  `ceterms:subjectWebpage` (its web domain).
- What CTDL has no term for (the rule id, choose k of n, minimum grade and its scale,
  supervision, quality assurance, maximum age, maximum total credits), and the exact status,
  reason, credit system and a source that is not a URL, are registry terms under the prefix
  `registry` (NAMESPACE, declared in the graph's @context). They are said in words too, in
  `ceterms:description` after the pathway's own description and (supervision) in
  `ceterms:assessmentMethodDescription`: a CTDL reader sees the conditions in words. This
  reader takes the terms and drops the words it would itself write for them, so a round trip
  gives the same pathway; words it would not write (a profile written elsewhere) are kept in
  the pathway's description for evaluators. The registry's texts are one line: CTDL texts are
  read with their white space collapsed.

Reading gives a `Draft` per profile (references unresolved: the registry resolves them,
importers.pathways), or Rejected with the reason; a file that is no CTDL stops with FileError.
Writing is `importers.ctdl_export`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from importers.elm import as_list
from importers.runner import FileError, Rejected
from registry.catalogue.schemas import CREDIT_SYSTEM

CONTEXT = "https://credreg.net/ctdl/schema/context/json"
# The registry's own terms. A URN: they name the registry's conditions, nothing to fetch.
NAMESPACE = "urn:credential-registry:terms:"
PREFIX = "registry"
PROFILE = "ceterms:TransferValueProfile"
CTID = re.compile(
    r"^ce-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)

CREDIT_UNIT_SCHEME = "https://credreg.net/ctdl/terms/CreditUnit"
LIFE_CYCLE_SCHEME = "https://credreg.net/ctdl/terms/LifeCycleStatus"
SEMESTER_HOUR = "creditUnit:SemesterHour"
DEGREE_CREDIT = "creditUnit:DegreeCredit"
LIFE_CYCLE = {"approved": "Active", "proposed": "Developing", "rejected": "Ceased"}
STATUS_OF_LIFE_CYCLE = {
    "active": "approved",
    "developing": "proposed",
    "suspended": "proposed",
    "ceased": "rejected",
}

# The registry's qualification types as CTDL credential classes, and back: every credential
# class of the registry's credential schema is a qualification, as is a learning programme.
CREDENTIAL_CLASS = {
    "secondary": "ceterms:SecondarySchoolDiploma",
    "vocational": "ceterms:Certificate",
    "short_cycle": "ceterms:AssociateDegree",
    "bachelor": "ceterms:BachelorDegree",
    "master": "ceterms:MasterDegree",
    "doctorate": "ceterms:DoctoralDegree",
    "micro_credential": "ceterms:MicroCredential",
}
QUALIFICATION_CLASSES = frozenset(
    {
        "ceterms:Credential",
        "ceterms:LearningProgram",
        *(
            f"ceterms:{name}"
            for name in (
                "ApprenticeshipCertificate AssociateDegree BachelorDegree Badge Certificate "
                "CertificateOfCompletion Certification Degree DigitalBadge Diploma DoctoralDegree "
                "GeneralEducationDevelopment JourneymanCertificate License MasterCertificate "
                "MasterDegree MicroCredential OpenBadge ProfessionalDoctorate "
                "QualityAssuranceCredential ResearchDoctorate SecondarySchoolDiploma"
            ).split()
        ),
    }
)
COURSE_CLASSES = frozenset({"ceterms:Course", "ceterms:LearningOpportunityProfile"})
# Institution identifier schemes as IdentifierValue type names (read case-insensitively).
SCHEME_NAMES = {
    "ror": "ROR",
    "schac": "SCHAC",
    "erasmus": "Erasmus",
    "pic": "PIC",
    "national": "national",
    "grid": "GRID",
    "isni": "ISNI",
    "wikidata": "Wikidata",
    "fundref": "FundRef",
}
SUPERVISION_WORDS = {
    "supervised_no_identity_check": "supervised, without a check of the learner's identity",
    "supervised_identity_verified": "supervised, with the learner's identity verified",
}
NO_ASSESSMENT_CONDITION = "No condition on how the credentials were assessed."
LEARNING_METHODS = "No condition on how or where the learning took place."


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Organisation:
    """An organisation a profile names: how the registry may find it."""

    label: str  # its @id, or its name, for reasons
    name: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()  # (scheme, value) as stated
    domain: str | None = None  # from ceterms:subjectWebpage


@dataclass(frozen=True)
class Reference:
    """A credential, course or programme a profile names."""

    label: str
    kind: str | None  # qualification | course | None (a bare CTID reference)
    ctid: str | None = None
    code: str | None = None
    name: str | None = None
    issuer: Organisation | None = None


@dataclass
class Draft:
    """A profile read: the pathway record's values, its references still unresolved."""

    ctid: str | None
    rule_id: str
    values: dict[str, Any]  # PathwayRecordSchema fields but institution, programme, credentials
    owner: Organisation | None
    programme: Reference
    credentials: list[Reference] = field(default_factory=list)


class Unusable(Exception):
    """A profile this reader cannot take as a pathway; the message is the reason."""


def read_profiles(document: Any) -> list[tuple[str, Draft | Rejected]]:
    """Each TransferValueProfile of a CTDL document, by where it stands, as a Draft or Rejected.

    A document is one profile, a list of nodes, or a graph {"@graph": [...]} (as the Credential
    Registry stores them); the other nodes are what the profiles refer to. FileError for a
    document holding no profile."""
    if isinstance(document, dict) and "@graph" in document:
        nodes, where = as_list(document["@graph"]), "@graph"
    elif isinstance(document, list):
        nodes, where = document, ""
    elif isinstance(document, dict):
        nodes, where = [document], None
    else:
        raise FileError("file", "not a CTDL JSON-LD document (an object, a list or a @graph)")
    prefixes = _prefixes(document)
    for node in nodes:
        if isinstance(node, dict):
            prefixes |= _prefixes(node)
    index = {node["@id"]: node for node in nodes if isinstance(node, dict) and _id(node)}
    found = []
    for number, node in enumerate(nodes):
        if not isinstance(node, dict) or PROFILE not in as_list(node.get("@type")):
            continue
        ctid = node.get("ceterms:ctid") if isinstance(node.get("ceterms:ctid"), str) else None
        position = "profile" if where is None else f"{where}[{number}]"
        position += f" {ctid}" if ctid else ""
        try:
            found.append((position, _draft(node, index, prefixes)))
        except Unusable as reason:
            found.append((position, Rejected(str(reason))))
    if not found:
        types = sorted(
            {str(t) for n in nodes if isinstance(n, dict) for t in as_list(n.get("@type"))}
        )
        raise FileError(
            "file",
            f"holds no {PROFILE} (types found: {', '.join(types[:8]) or 'none'}); this format "
            "reads Transfer Value Profiles as CTDL JSON-LD",
        )
    return found


def _id(node: dict[str, Any]) -> str | None:
    value = node.get("@id")
    return value if isinstance(value, str) and value else None


def _prefixes(node: Any) -> set[str]:
    """The prefixes a node's @context binds to the registry's namespace."""
    found = set()
    for context in as_list(node.get("@context") if isinstance(node, dict) else None):
        if isinstance(context, dict):
            for name, value in context.items():
                iri = value.get("@id") if isinstance(value, dict) else value
                if iri == NAMESPACE:
                    found.add(name)
    return found


def _term(node: dict[str, Any], name: str, prefixes: set[str]) -> Any:
    """A registry term's value: by a declared prefix, or written as its full IRI."""
    for prefix in sorted(prefixes):
        if f"{prefix}:{name}" in node:
            return node[f"{prefix}:{name}"]
    return node.get(NAMESPACE + name)


def text(value: Any) -> str | None:
    """A plain string of a CTDL text: a string, a language map (English preferred), a JSON-LD
    value object, or the first of a list; its white space (line breaks included, which the
    registry's one-line texts refuse) collapsed to single spaces."""
    for item in as_list(value):
        if isinstance(item, str) and item.split():
            return " ".join(item.split())
        if isinstance(item, dict):
            if "@value" in item:
                return text(item["@value"])
            for language in ("en", "en-US", "en-GB", *sorted(item)):
                found = text(item.get(language))
                if found:
                    return found
    return None


def _concepts(value: Any) -> list[str]:
    """The concept names a concept-valued property states: strings, or the targetNode and
    targetNodeName of CredentialAlignmentObjects."""
    names = []
    for item in as_list(value):
        if isinstance(item, str):
            names.append(item.strip())
        elif isinstance(item, dict):
            names.extend(
                found
                for found in (
                    item.get("ceterms:targetNode")
                    if isinstance(item.get("ceterms:targetNode"), str)
                    else None,
                    text(item.get("ceterms:targetNodeName")),
                )
                if found
            )
    return names


def _resolve(reference: Any, index: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    """(label, node) of a reference: an embedded node, or an @id described in the document."""
    if isinstance(reference, dict):
        label = _id(reference) or text(reference.get("ceterms:name")) or "an embedded node"
        if set(reference) - {"@id"}:
            return label, reference
        return label, index.get(label)
    if isinstance(reference, str):
        return reference, index.get(reference)
    return repr(reference), None


def _organisation(references: Any, index: dict[str, dict[str, Any]]) -> Organisation | None:
    for reference in as_list(references):
        label, node = _resolve(reference, index)
        if node is None:
            return Organisation(label)
        identifiers = []
        for item in as_list(node.get("ceterms:identifier")):
            if isinstance(item, dict):
                scheme = (text(item.get("ceterms:identifierTypeName")) or "").lower()
                scheme = scheme.removesuffix(" code").strip()
                value = item.get("ceterms:identifierValueCode")
                if scheme in SCHEME_NAMES and isinstance(value, str) and value.strip():
                    identifiers.append((scheme, value.strip()))
        webpage = node.get("ceterms:subjectWebpage")
        return Organisation(
            label,
            text(node.get("ceterms:name")),
            tuple(identifiers),
            webpage if isinstance(webpage, str) else None,
        )
    return None


def _reference(reference: Any, index: dict[str, dict[str, Any]], role: str) -> Reference:
    label, node = _resolve(reference, index)
    if node is None:
        ctid = label.rsplit("/", 1)[-1]
        if CTID.match(ctid):
            return Reference(label, None, ctid=ctid)
        raise Unusable(f"{role} {label} is not described in the file and is no CTID")
    types = set(as_list(node.get("@type")))
    if types & QUALIFICATION_CLASSES:
        kind = "qualification"
    elif types & COURSE_CLASSES:
        kind = "course"
    else:
        raise Unusable(
            f"{role} {label} is a {', '.join(sorted(map(str, types))) or 'node without @type'}; "
            "the registry's catalogue holds qualifications (credentials) and courses"
        )
    ctid, code = node.get("ceterms:ctid"), node.get("ceterms:codedNotation")
    return Reference(
        label,
        kind,
        ctid=ctid if isinstance(ctid, str) and ctid else None,
        code=code.strip() if isinstance(code, str) and code.strip() else None,
        name=text(node.get("ceterms:name")),
        issuer=_organisation(node.get("ceterms:ownedBy") or node.get("ceterms:offeredBy"), index),
    )


def _number(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise Unusable(f"{what} {value!r} is not a number")
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise Unusable(f"{what} {value!r} is not a number") from None


def _flag(value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Unusable(f"registry:qualityAssured {value!r} is not true or false")
    return value


def _day(value: Any, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Unusable(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _credits(node: dict[str, Any], stated_system: Any) -> tuple[Decimal, str]:
    values = as_list(node.get("ceterms:transferValue")) or as_list(node.get("ceterms:creditValue"))
    values = [value for value in values if isinstance(value, dict)]
    if len(values) != 1:
        raise Unusable(
            f"states {len(values)} transfer values (ceterms:transferValue); a pathway grants one"
        )
    value = values[0]
    amount = _number(value.get("schema:value", value.get("qdata:value")), "transfer value")
    if amount is None:
        raise Unusable(
            "its transfer value states no single value (schema:value): a range or a percentage "
            "is not a number of credits"
        )
    if isinstance(stated_system, str) and stated_system.strip():
        return amount, stated_system.strip().upper()
    units = _concepts(value.get("ceterms:creditUnitType"))
    if SEMESTER_HOUR in units:
        return amount, "US-SEM"
    for candidate in (
        *_concepts(value.get("schema:unitText")),
        text(value.get("ceterms:creditUnitTypeDescription")),
    ):
        if candidate and CREDIT_SYSTEM.match(candidate.strip().upper()):
            return amount, candidate.strip().upper()
    raise Unusable(
        f"its transfer value's unit ({', '.join(units) or 'none stated'}) names no credit system; "
        "state the registry's code (ECTS, GB-CATS, US-SEM...) in schema:unitText"
    )


def _status(node: dict[str, Any], stated: Any) -> str:
    if stated is not None:
        return stated
    concepts = _concepts(node.get("ceterms:lifeCycleStatusType"))
    if not concepts:
        return "proposed"
    name = re.split(r"[:/]", concepts[0])[-1].lower()
    if name not in STATUS_OF_LIFE_CYCLE:
        raise Unusable(f"life cycle status {concepts[0]!r} is none of LifeCycleStatus's concepts")
    return STATUS_OF_LIFE_CYCLE[name]


def _rule_id(stated: Any, ctid: str | None) -> str:
    if isinstance(stated, str) and stated.strip():
        return stated.strip()
    if ctid is None:
        raise Unusable("states no ceterms:ctid, the key a re-import finds the pathway by")
    return ctid


def _draft(node: dict[str, Any], index: dict[str, dict[str, Any]], prefixes: set[str]) -> Draft:
    def term(name: str) -> Any:
        return _term(node, name, prefixes)

    ctid = node.get("ceterms:ctid") if isinstance(node.get("ceterms:ctid"), str) else None
    title = text(node.get("ceterms:name"))
    if title is None:
        raise Unusable("states no ceterms:name, the pathway's title")
    credits, system = _credits(node, term("creditSystem"))
    fors = as_list(node.get("ceterms:transferValueFor"))
    if len(fors) != 1:
        raise Unusable(
            f"counts toward {len(fors)} resources (ceterms:transferValueFor); a pathway counts "
            "toward one programme"
        )
    programme = _reference(fors[0], index, "transferValueFor")
    if programme.kind == "course":
        raise Unusable(
            f"transferValueFor {programme.label} is a course; a pathway counts toward a programme"
        )
    froms = as_list(node.get("ceterms:transferValueFrom"))
    if not froms:
        raise Unusable("names nothing that earns the value (ceterms:transferValueFrom)")
    credentials = [
        _reference(item, index, f"transferValueFrom {number}")
        for number, item in enumerate(froms, start=1)
    ]
    end = _day(node.get("ceterms:endDate"), "endDate")
    webpage = node.get("ceterms:subjectWebpage")
    values = {
        "title": title,
        "choose": term("choose"),
        "credits": str(credits),
        "credit_system": system,
        "min_grade": term("minGrade"),
        "min_grade_scale": term("minGradeScale"),
        "supervision": term("supervision"),
        "quality_assured": _flag(term("qualityAssured")),
        "max_age_months": term("maxAgeMonths"),
        "max_total_credits": (
            None
            if term("maxTotalCredits") is None
            else str(_number(term("maxTotalCredits"), "maxTotalCredits"))
        ),
        "valid_from": _day(node.get("ceterms:startDate"), "startDate"),
        "valid_to": None if end is None else end + dt.timedelta(days=1),
        "status": _status(node, term("status")),
        "reason": term("reason"),
        "source": term("source") or (webpage if isinstance(webpage, str) else None),
    }
    values["description"] = _description(node, values, written_here=bool(term("creditSystem")))
    return Draft(
        ctid,
        _rule_id(term("ruleId"), ctid),
        values,
        _organisation(node.get("ceterms:ownedBy"), index),
        programme,
        credentials,
    )


def _description(node: dict[str, Any], values: dict[str, Any], *, written_here: bool) -> str | None:
    """The pathway's description: the profile's, less the words this registry writes for the
    conditions it read (when the profile was written by one), with any other assessment or
    learning method text kept after it."""
    description = text(node.get("ceterms:description"))
    words = conditions_text(values, count=len(as_list(node.get("ceterms:transferValueFrom"))))
    if written_here and description is not None:
        if description == words:
            description = None
        elif description.endswith(" " + words):
            description = description[: -len(words) - 1]
    parts = [description] if description else []
    for label, key, ours in (
        ("Assessment", "ceterms:assessmentMethodDescription", assessment_text(values)),
        ("Learning", "ceterms:learningMethodDescription", LEARNING_METHODS),
    ):
        stated = text(node.get(key))
        if stated and not (written_here and stated == ours):
            parts.append(f"{label}: {stated}")
    return " ".join(parts) or None


# --- words ------------------------------------------------------------------------------------


def conditions_text(values: dict[str, Any], *, count: int) -> str:
    """The pathway's conditions in plain English: what a CTDL reader sees of them."""
    choose = values.get("choose")
    if choose is not None:
        sentences = [f"Any {choose} of the {count} credentials named earn the transfer value."]
    elif count == 1:
        sentences = ["The credential named earns the transfer value."]
    else:
        sentences = [f"All {count} credentials named are needed for the transfer value."]
    if values.get("min_grade") is not None:
        sentences.append(
            f"Each must have been passed with at least {values['min_grade']} on the "
            f"{values['min_grade_scale']} grading scale (other scales are converted)."
        )
    if values.get("supervision") is not None:
        sentences.append(f"Each must have been assessed {_supervision(values['supervision'])}.")
    if values.get("quality_assured"):
        sentences.append(
            "Each issuer must be quality assured: recognised in the registry, or stating a "
            "quality assurance on the credential."
        )
    if values.get("max_age_months") is not None:
        sentences.append(
            f"Each must have been awarded at most {values['max_age_months']} months before "
            "the evaluation."
        )
    if values.get("max_total_credits") is not None:
        sentences.append(
            f"Pathways give at most {_plain(values['max_total_credits'])} "
            f"{values['credit_system']} credits toward the programme in all."
        )
    return "Conditions: " + " ".join(sentences)


def _plain(value: Any) -> str:
    """A number as the words write it, however it was stored (30.0 and 30 read alike)."""
    return format(Decimal(str(value)).normalize(), "f")


def _supervision(value: str) -> str:
    words = SUPERVISION_WORDS.get(value, value)
    return f"{words} or more strictly (EU micro-credential assessment_supervision: {value})"


def assessment_text(values: dict[str, Any]) -> str:
    if values.get("supervision") is None:
        return NO_ASSESSMENT_CONDITION
    return f"Assessment {_supervision(values['supervision'])}."
