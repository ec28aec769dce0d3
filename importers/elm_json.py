"""ELM v3: the Europass JSON-LD credential (EDC, W3C Verifiable Credentials based).

A document is an ELM credential by what it states, not by how its @context is spelt: the
published EDC context (http://data.europa.eu/snb/model/context/edc-ap), the EBSI and DC4EU
schemas, the EDC developer copies (dev.everisdx.io) and inline contexts all map the same ELM
terms. So a credential is read when it is typed `EuropeanDigitalCredential` (the ELM v3 class of
a credential, elm:EuropeanDigitalCredential), or when it is a verifiable credential
(VerifiableCredential, or EBSI's VerifiableAttestation) whose subject states claims through the
ELM property `hasClaim`. Types are compared by their term, so `elm:LearningAchievement` and the
full IRI count as `LearningAchievement`.

Forms read: the credential itself; the EDC issuer's upload form `{"credential": ...}`; the
JAdES/JWS JSON serialisation `{"payload": ..., "signatures": [...]}` (general or flattened),
whose payload is the JSON text itself (unencoded, RFC 7797) or its base64url (RFC 7515); a
VC-JWT's `vc` claim; a
presentation (VerifiablePresentation / EuropeanDigitalPresentation) or a JSON-LD `@graph`, each
credential it holds read as its own transcript. SIGNATURES ARE NOT VERIFIED: the payload is read
as it stands, and the registry does not claim the credential is authentic. A presentation or
graph holding no credential, and any other document, is refused naming what it is.

References by id (`"awardingBody": "urn:epass:org:1"`, or an object holding only an id) are
resolved against the objects the document states in full.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

import pycountry

from importers.elm import (
    INSTITUTION_SCHEMES,
    LANGUAGE_URI,
    Credential,
    Results,
    as_list,
    country,
    credit_system,
    day,
    domain,
    eqf_level,
    isced_code,
    key,
    pick,
    result,
    transcript_context,
)
from importers.runner import FileError, Rejected

CREDENTIAL_TYPES = {"EuropeanDigitalCredential"}
VC_TYPES = {"VerifiableCredential", "VerifiableAttestation"}
PRESENTATION_TYPES = {"VerifiablePresentation", "EuropeanDigitalPresentation"}
SUPPORTED = (
    "supported: an ELM v3 credential (typed EuropeanDigitalCredential, or a verifiable "
    "credential whose subject states ELM claims in hasClaim), plain, in the EDC upload form "
    "{credential}, JAdES-signed {payload, signatures}, or held by a presentation"
)
# Forms wrapped in forms (a signed presentation of signed credentials) are unwrapped this deep.
MAX_WRAPPING = 4
Index = dict[str, dict[str, Any]]


def credentials(document: Any) -> list[Credential]:
    """Each credential of an ELM v3 document (one, or those a presentation or graph holds). A
    credential of another kind held beside ELM ones is one rejected record; a document holding
    none is refused."""
    held = _held(document, 0)
    if not any(_is_elm(found) for found in held):
        found = "; ".join(_describe(one) for one in held[:3])
        raise FileError(
            "file", f"not an ELM v3 credential: holds only other credentials ({found}); {SUPPORTED}"
        )
    shared = _index(document)
    return [_read(found, shared) if _is_elm(found) else _other(found) for found in held]


def _held(document: Any, depth: int, inside: bool = False) -> list[dict[str, Any]]:
    """The credentials of a document, unwrapped; FileError when it holds none. `inside` a
    presentation, a credential of another kind is returned too, to be reported."""
    if depth > MAX_WRAPPING:
        raise FileError("file", f"credentials wrapped in more than {MAX_WRAPPING} envelopes")
    if isinstance(document, dict) and isinstance(document.get("credential"), dict):
        return _held(document["credential"], depth + 1, inside)
    if isinstance(document, dict) and "payload" in document and (
        "signatures" in document or "signature" in document  # general or flattened JWS JSON
    ):
        return _held(_payload(document["payload"]), depth + 1, inside)
    if isinstance(document, dict) and isinstance(document.get("vc"), dict) and not _types(document):
        return _held(document["vc"], depth + 1, inside)  # the `vc` claim of a VC-JWT
    if not isinstance(document, dict):
        raise FileError(
            "file",
            f"not an ELM v3 credential: the JSON is a {type(document).__name__}"
            ", not a credential object",
        )
    types = _types(document)
    if "@graph" in document and not types:
        nodes = [node for node in as_list(document["@graph"]) if isinstance(node, dict)]
        found = [node for node in nodes if _is_credential(node)]
        if not found:
            kinds = sorted({kind for node in nodes for kind in _stated_types(node)})
            raise FileError(
                "file",
                f"not an ELM v3 credential: a JSON-LD graph of {len(nodes)} nodes "
                f"({', '.join(kinds[:8]) or 'untyped'}{', ...' if len(kinds) > 8 else ''}) "
                f"holding no credential; {SUPPORTED}",
            )
        return found
    if set(types) & PRESENTATION_TYPES:
        found = []
        for item in as_list(document.get("verifiableCredential")):
            if isinstance(item, str):
                item = _payload(item)
            found.extend(_held(item, depth + 1, inside=True))
        if not found:
            raise FileError(
                "file",
                f"not an ELM v3 credential: a presentation ({_describe(document)}) holding no "
                f"credential (verifiableCredential is empty), nothing to import; {SUPPORTED}",
            )
        return found
    if not _is_elm(document) and not (inside and _is_credential(document)):
        raise FileError("file", f"not an ELM v3 credential: {_describe(document)}; {SUPPORTED}")
    return [document]


def _payload(text: Any) -> Any:
    """The JSON a JWS carries: JSON text (unencoded payload), base64url, or a compact JWS."""
    if not isinstance(text, str):
        raise FileError("payload", "the signed payload is not a string")
    text = text.strip()
    if not text.startswith(("{", "[")):
        part = text.split(".")[1] if text.count(".") == 2 else text
        try:
            text = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8")
        except (binascii.Error, ValueError) as error:
            raise FileError(
                "payload", "the signed payload is neither JSON nor base64url JSON"
            ) from error
    try:
        return json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as error:
        raise FileError("payload", f"the signed payload is not JSON: {error}") from error


def _term(value: str) -> str:
    """A type's term: `elm:LearningAchievement` and its full IRI both give LearningAchievement."""
    for separator in ("#", "/", ":"):
        value = value.rsplit(separator, 1)[-1]
    return value


def _types(node: dict[str, Any]) -> list[str]:
    """The node's types (`type`, or `@type` where the context does not alias it), as terms."""
    return [
        _term(value)
        for value in as_list(node.get("type")) + as_list(node.get("@type"))
        if isinstance(value, str)
    ]


def _stated_types(node: dict[str, Any]) -> list[str]:
    """The node's types as written, for messages."""
    types = as_list(node.get("type")) + as_list(node.get("@type"))
    return [value for value in types if isinstance(value, str) and value]


def _subjects(document: dict[str, Any]) -> list[dict[str, Any]]:
    subjects = as_list(document.get("credentialSubject"))
    return [subject for subject in subjects if isinstance(subject, dict)]


def _is_credential(node: dict[str, Any]) -> bool:
    types = set(_types(node))
    return bool(types & (CREDENTIAL_TYPES | VC_TYPES))


def _is_elm(node: dict[str, Any]) -> bool:
    """Typed EuropeanDigitalCredential, or a verifiable credential stating ELM claims."""
    types = set(_types(node))
    if types & CREDENTIAL_TYPES:
        return True
    return bool(types & VC_TYPES) and any("hasClaim" in subject for subject in _subjects(node))


def _describe(document: dict[str, Any]) -> str:
    """`@context is A, B; type is C, D`: what a document says it is."""
    contexts = [
        value if isinstance(value, str) else "an inline context"
        for value in as_list(document.get("@context"))
    ]
    return (
        f"@context is {', '.join(contexts) or 'absent'}; "
        f"type is {', '.join(_stated_types(document)) or 'absent'}"
    )


def _other(document: dict[str, Any]) -> Credential:
    """A credential of another kind held beside ELM ones: one rejected record, with the reason."""
    name = document.get("id") if isinstance(document.get("id"), str) else ""
    reason = f"not an ELM credential ({_describe(document)}); {SUPPORTED}"
    position = f"credential {name}".strip()
    return transcript_context(name, None, {}, {}), [(position, Rejected(reason))]


ID_KEYS = ("id", "@id")
BARE = {"id", "@id", "type", "@type"}


def _id(value: dict[str, Any]) -> str | None:
    found = next((value[name] for name in ID_KEYS if isinstance(value.get(name), str)), None)
    return found


def _index(document: Any) -> Index:
    """Every object the document states with an id and more than its id and type, by id."""
    index: Index = {}
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if (name := _id(value)) and set(value) - BARE:
                index.setdefault(name, value)
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return index


def _node(value: Any, index: Index) -> dict[str, Any]:
    """An object, or the object a reference by id (a string, or an object with only an id)
    names; {} for anything else."""
    if isinstance(value, str):
        return index.get(value, {})
    if isinstance(value, dict) and (name := _id(value)) and not set(value) - BARE:
        return index.get(name, value)
    return _dict(value)


def _first_value(value: Any) -> Any:
    return next(iter(as_list(value)), None)


def _read(document: dict[str, Any], shared: Index) -> Credential:
    """One ELM credential; references resolve within it first, then within the whole file."""
    index = shared | _index(document)
    language = _primary_language(document)
    subjects = _subjects(document)
    subject = subjects[0] if subjects else {}
    claims = [claim for one in subjects for claim in as_list(one.get("hasClaim"))]
    typed = [_node(claim, index) for claim in claims]
    first = next(
        (claim for claim in typed if _claim_type(claim) == "LearningAchievement"),
        next((claim for claim in typed if claim), {}),
    )
    awarding = _node(_first_value(first.get("awardedBy")), index)
    bodies = [
        _node(_first_value(awarding.get("awardingBody")), index),
        _node(document.get("issuer"), index),
    ]
    found = [_organisation(body, language) for body in bodies if body]
    issuer = next(
        (organisation for organisation in found if organisation["name"]),
        found[0] if found else _organisation({}, language),
    )
    learner = {
        "identifiers": _identifiers(subject),
        "name": _lang(subject.get("fullName"), language)[0],
        "birth_date": day(subject.get("dateOfBirth")),
    }
    issued = document.get("issued") or document.get("issuanceDate")
    context = transcript_context(document.get("id"), issued, issuer, learner)
    return context, list(_v3_results(claims, None, language, index))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _primary_language(document: dict[str, Any]) -> str | None:
    display = _first(document.get("displayParameter"))
    uri = _first(display.get("primaryLanguage")).get("id")
    match = LANGUAGE_URI.match(uri) if isinstance(uri, str) else None
    found = pycountry.languages.get(alpha_3=match["code"].lower()) if match else None
    return getattr(found, "alpha_2", None)


def _texts(value: Any) -> dict[str, str]:
    """The texts of a JSON-LD string value by language ("" for none), in document order.

    A term with `"@container": "@language"` (title, legalName, prefLabel...) is a language map
    whose values are a string or an array of strings; without that container, or in expanded
    form, the same texts come as a plain string, a value object (`{"@value", "@language"}`) or an
    array of these (JSON-LD 1.1, "String Internationalization" and "Language Maps"). The first
    text of each language is kept.
    """
    texts: dict[str, str] = {}

    def add(lang: Any, text: Any) -> None:
        if isinstance(text, str) and text.strip() and isinstance(lang, str):
            texts.setdefault(lang, " ".join(text.split()))

    for item in as_list(value):
        if isinstance(item, str):
            add("", item)
        elif isinstance(item, dict) and "@value" in item:
            add(item.get("@language") or "", item["@value"])
        elif isinstance(item, dict):
            for lang, text in item.items():
                for one in as_list(text):
                    add(lang if not lang.startswith("@") else "", one)
    return texts


def _lang(value: Any, language: str | None) -> tuple[str | None, str | None]:
    """(text, language) of a JSON-LD string value, as `pick` does for XML."""
    return pick(_texts(value), language)


def _identifiers(subject: dict[str, Any]) -> dict[str, str]:
    identifiers = {}
    for item in as_list(subject.get("identifier")):
        if isinstance(item, dict) and isinstance(item.get("notation"), str):
            identifiers[key(item.get("schemeName") or "id")] = item["notation"]
    national = _dict(subject.get("nationalID")).get("notation")
    if isinstance(national, str):
        identifiers["national"] = national
    return identifiers


def _organisation(body: dict[str, Any], language: str | None) -> dict[str, Any]:
    identifiers = {}
    for item in as_list(body.get("identifier")):
        scheme = INSTITUTION_SCHEMES.get(str(_dict(item).get("schemeName", "")).strip().lower())
        if scheme and isinstance(item.get("notation"), str):
            identifiers[scheme] = item["notation"]
    for name, scheme in (
        ("registration", "legal"),
        ("eIDASIdentifier", "eidas"),
        ("vatIdentifier", "vat"),
    ):
        notation = _first(body.get(name)).get("notation")
        if isinstance(notation, str):
            identifiers[scheme] = notation
    homepage = next(
        (
            host
            for page in as_list(body.get("homepage"))
            if (host := domain(_dict(page).get("contentURL")))
        ),
        None,
    )
    if homepage:
        identifiers["domain"] = homepage
    location = _first(body.get("location"))
    registration = _first(body.get("registration"))
    found = country(_dict(_dict(location.get("address")).get("countryCode")).get("id")) or country(
        _dict(registration.get("spatial")).get("id")
    )
    names = _texts(body.get("legalName"))
    return {
        "name": _lang(names, language)[0],
        "country": found,
        "identifiers": identifiers,
        "titles": names,
    }


def _first(value: Any) -> dict[str, Any]:
    """The first object of a property that may hold one or several."""
    return _dict(next(iter(as_list(value)), None))


def _concept(value: Any) -> str | None:
    """The URI of a concept (`{"id": "http://data.europa.eu/snb/eqf/6", "type": "Concept"}`)."""
    first = next(iter(as_list(value)), None)
    return _dict(first).get("id") if isinstance(first, dict) else first


def _credits(specification: dict[str, Any]) -> tuple[str | None, str | None]:
    """(points, system) of the first credit point in a known system, ECTS preferred."""
    known = [
        (str(point["point"]), system)
        for point in as_list(specification.get("creditPoint"))
        if isinstance(point, dict)
        and point.get("point") is not None
        and (system := credit_system(_concept(point.get("framework"))))
    ]
    known.sort(key=lambda item: item[1] != "ECTS")
    return known[0] if known else (None, None)


V3_CLAIMS = {"LearningAchievement": "achievement", "LearningActivity": "activity"}


def _claim_type(claim: dict[str, Any]) -> str | None:
    """The claim's class: the one this reader imports if it names one, else the first."""
    types = _types(claim)
    return next((value for value in types if value in V3_CLAIMS), types[0] if types else None)


def _v3_results(
    claims: list[Any], parent: str | None, language: str | None, index: Index, path: str = "#"
) -> Results:
    """Each claim, then its parts; a claim without an id is named by its place ("#2.1")."""
    for number, claim in enumerate(claims, start=1):
        claim = _node(claim, index)
        if not claim:
            continue
        kind = _claim_type(claim)
        place = f"{path}{number}"
        local_id = claim["id"] if isinstance(claim.get("id"), str) else place
        position = f"{V3_CLAIMS.get(kind, 'claim')} {local_id}"
        if kind not in V3_CLAIMS:
            yield (
                position,
                Rejected(
                    f"a {kind or 'untyped'} claim on its own is not imported; "
                    "only learning achievements and activities are"
                ),
            )
            continue
        specification = _node(_first_value(claim.get("specifiedBy")), index)
        title, lang = _lang(claim.get("title"), language)
        if title is None:
            title, lang = _lang(specification.get("title"), language)
        code = _first(claim.get("identifier")).get("notation") or _first(
            specification.get("identifier")
        ).get("notation")
        values = {
            "parent_local_id": parent,
            "code": code,
            "language": lang,
            "kind": _lang(_first(specification.get("dcType")).get("prefLabel"), language)[0],
        }
        if kind == "LearningAchievement":
            credits, system = _credits(specification)
            assessment = _first(claim.get("provenBy"))
            grade = assessment.get("grade")
            scheme = _dict(_dict(assessment.get("specifiedBy")).get("gradingScheme"))
            values |= {
                "credits": credits,
                "credit_system": system,
                "eqf_level": eqf_level(_concept(specification.get("eqfLevel"))),
                "isced_f": isced_code(_concept(specification.get("thematicArea"))),
                "grade": _lang(
                    _dict(grade).get("noteLiteral") if isinstance(grade, dict) else grade, language
                )[0],
                "grading_scheme": _lang(scheme.get("title"), language)[0],
                "status": "passed",
                "ended_on": day(_first(claim.get("awardedBy")).get("awardingDate")),
            }
        else:
            period = _dict(claim.get("temporal"))
            values |= {
                "started_on": day(period.get("startDate")),
                "ended_on": day(period.get("endDate")),
            }
        yield position, result(local_id, title, **values)
        yield from _v3_results(
            as_list(claim.get("hasPart")), local_id, language, index, f"{place}."
        )
