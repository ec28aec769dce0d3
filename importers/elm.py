"""Europass credentials (European Learning Model): ELM v2 XML and ELM v3 JSON-LD.

`elm_records` yields one record per result the credential states, each carrying the transcript
context (document, awarding body, learner) so the records of one credential land on one
transcript. The variant is told by the file itself: an XML root `europassCredential` in the
`http://data.europa.eu/snb` namespace (ELM v2, EDC "xsdVersion 0.10"), or a JSON-LD document whose
@context names the EDC application profile (ELM v3; also as the EDC issuer's upload form
`{"credential": {...}}` and as the JAdES-signed form `{"payload": "<json>", "signatures": [...]}`,
whose signature is not checked here). XML is read through `importers.xmlsafe` (gzip accepted);
JSON whole, up to MAX_JSON_BYTES. Anything else stops the import with FileError naming what was
found.

What becomes a result: every learning achievement (nested ones through `hasPart`, keeping their
parent's id) and every learning activity that no achievement was influenced by (a certificate of
participation claims an activity alone). Activities behind an achievement are how it was earned,
not results of their own. Assessment or entitlement claims standing alone are rejected with the
reason: the registry has no place for them yet. A credential stating no result at all is one
rejected record, so the import report never reads "nothing" for a file that held something.

The transcript's issuer is the awarding body of the first top-level result, falling back to the
credential's issuer: an issuing service may sign on the body's behalf (the MyNextID sample is
issued by Velocert for NETIS), and recognition is about who awarded the learning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

import pycountry

from importers.runner import FileError, Rejected
from importers.xmlsafe import GZIP_MAGIC, Events
from registry.institutions.schemas import normalise_identifier

FORMAT = "elm"
# A credential is one document; the largest real ones are a few hundred KB, mostly base64 logos.
MAX_JSON_BYTES = 50 * 1024 * 1024

SNB = "{http://data.europa.eu/snb}"
CRED = "{http://data.europa.eu/europass/model/credentials/w3c#}"
V2_ROOT = SNB + "europassCredential"
V3_CONTEXT = re.compile(r"^https?://data\.europa\.eu/snb/model/context/")

EQF_URI = re.compile(r"^https?://data\.europa\.eu/snb/eqf/(?P<level>[1-8])$")
ISCED_URI = re.compile(r"^https?://data\.europa\.eu/snb/isced-f/(?P<code>\d{2,4})$")
AUTHORITY = r"^https?://publications\.europa\.eu/resource/authority/"
COUNTRY_URI = re.compile(AUTHORITY + r"country/(?P<code>[A-Z0-9]{3})$")
LANGUAGE_URI = re.compile(AUTHORITY + r"language/(?P<code>[A-Z]{3})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# What the record schema allows in an identifier key.
IDENTIFIER_KEY = re.compile(r"[^A-Za-z0-9:._-]+")

# Credit systems by the URIs the models name them with (ELM v3 / QDR concept, ELM v2 scheme);
# an unknown URI leaves the credits out rather than guessing their unit.
CREDIT_SYSTEMS = {
    "http://data.europa.eu/snb/education-credit/6fcec5c5af": "ECTS",
    "http://data.europa.eu/snb/education-credit/60b314e826": "ECVET",
    "http://data.europa.eu/europass/educationalCreditPointSystem/ects": "ECTS",
    "http://data.europa.eu/europass/educationalCreditPointSystem/ecvet": "ECVET",
}
# Identifier scheme names (ELM `schemeName` / `schemeID`) the registry matches institutions on.
INSTITUTION_SCHEMES = {
    "erasmus": "erasmus",
    "erasmus code": "erasmus",
    "schac": "schac",
    "schac code": "schac",
    "pic": "pic",
}


# --- shared by the JSON readers (ELM v3, Open Badges) -----------------------------------------


def read_json(stream: IO[bytes], what: str) -> Any:
    """The whole JSON document, decimals kept exact; FileError beyond MAX_JSON_BYTES or when it
    is not JSON. A credential is a single document, so it is read whole, but never unbounded."""
    data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise FileError(
            "file", f"larger than {MAX_JSON_BYTES} bytes; {what} is a single document, far smaller"
        )
    try:
        return json.loads(data, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as error:
        raise FileError("file", f"not well-formed JSON: {error}") from error
    except RecursionError as error:
        raise FileError("file", "JSON nested too deeply for a credential") from error


def as_list(value: Any) -> list[Any]:
    """JSON-LD writes a single value bare and several as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def day(value: Any) -> str | None:
    """The date of an ISO 8601 date or timestamp, as written (its own offset, not UTC)."""
    return value[:10] if isinstance(value, str) and DATE.match(value) else None


def domain(url: Any) -> str | None:
    """The host of a web address, as the registry stores domains; None for anything else."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    try:
        return normalise_identifier("domain", url)
    except ValueError:
        return None


def country(uri: Any) -> str | None:
    """ISO alpha-2 from an EU authority country URI (alpha-3 codes; EU-only codes give None)."""
    match = COUNTRY_URI.match(uri.strip()) if isinstance(uri, str) else None
    found = pycountry.countries.get(alpha_3=match["code"]) if match else None
    return found.alpha_2 if found else None


def eqf_level(uri: Any) -> int | None:
    match = EQF_URI.match(uri.strip()) if isinstance(uri, str) else None
    return int(match["level"]) if match else None


def isced_code(uri: Any) -> str | None:
    match = ISCED_URI.match(uri.strip()) if isinstance(uri, str) else None
    return match["code"] if match else None


def credit_system(uri: Any) -> str | None:
    return CREDIT_SYSTEMS.get(uri.strip()) if isinstance(uri, str) else None


def key(scheme: str) -> str:
    """An identifier scheme name as a record key ("Student Card" -> "Student-Card")."""
    return IDENTIFIER_KEY.sub("-", scheme).strip("-:._")[:100] or "id"


def result(local_id: str, title: str | None, **values: Any) -> dict[str, Any]:
    """A result in the transcript record shape; fields not given are None, the status unknown.

    `level` stays None: it is for a national FRAMEWORK:LEVEL (as the ELMO reader fills it), and
    these formats name national levels only by vocabulary URIs with no registry framework code;
    the EQF level is `eqf_level`.
    """
    return {
        "local_id": local_id,
        "parent_local_id": None,
        "kind": None,
        "code": None,
        "title": title,
        "language": None,
        "credits": None,
        "credit_system": None,
        "grade": None,
        "grading_scheme": None,
        "grade_distribution": None,
        "eqf_level": None,
        "level": None,
        "isced_f": None,
        "status": "unknown",
        "started_on": None,
        "ended_on": None,
    } | values


# --- the reader -------------------------------------------------------------------------------


def elm_records(stream: IO[bytes]) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    """(position, record) for each result of one Europass credential, XML (v2) or JSON-LD (v3).

    The position names the result (`achievement urn:epass:learningAchievement:1`). Raises
    FileError for a file that is not such a credential, is not well-formed, or is too large.
    """
    head = stream.read(64)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    stream = _Replayed(head, stream)
    if start == b"<" or head.startswith(GZIP_MAGIC):
        context, results = _v2(stream)
    elif start in (b"{", b"["):
        context, results = _v3(read_json(stream, "a credential"))
    else:
        raise FileError(
            "file",
            "neither XML nor JSON: an ELM credential is a Europass XML "
            "(ELM v2) or JSON-LD (ELM v3) document",
        )
    yielded = False
    for position, value in results:
        yielded = True
        yield (
            position,
            value if isinstance(value, Rejected) else {"transcript": context, "result": value},
        )
    if not yielded:
        yield (
            f"credential {context['document_id'] or ''}".strip(),
            Rejected("the credential states no learning achievement or activity"),
        )


class _Replayed:
    """The stream with the bytes read to tell XML from JSON put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._stream.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data + self._stream.read(size - len(data)) if len(data) < size else data


Results = Iterable[tuple[str, dict[str, Any] | Rejected]]


def _context(
    document_id: Any, issued: Any, issuer: dict[str, Any], learner: dict[str, Any]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "document_id": document_id if isinstance(document_id, str) else None,
        "issued_on": day(issued),
        "issuer": issuer,
        "learner": learner,
    }


# --- ELM v2: Europass XML ---------------------------------------------------------------------


def _texts(element) -> dict[str, str]:
    """A TextType/NoteType's texts by language, in document order."""
    if element is None:
        return {}
    return {
        text.get("lang") or "": value
        for text in element.findall(SNB + "text")
        if (value := " ".join((text.text or "").split()))
    }


def _pick(texts: dict[str, str], language: str | None) -> tuple[str | None, str | None]:
    """(text, language): the text in the credential's primary language, else the first."""
    if not texts:
        return None, None
    lang = language if language in texts else next(iter(texts))
    return texts[lang], lang or None


def _label(element, language: str | None) -> str | None:
    """The name of a code (`<type uri=...><targetName>`)."""
    if element is None:
        return None
    return _pick(_texts(element.find(SNB + "targetName")), language)[0]


def _value(element, name: str) -> str | None:
    found = element.find(SNB + name)
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _ref(element, name: str) -> str | None:
    """The id a child element refers to (`<issuer idref="urn:epass:org:1"/>`)."""
    found = element.find(SNB + name)
    return found.get("idref") if found is not None else None


class _V2:
    """What an ELM v2 credential says, gathered while streaming through it.

    The claims come before the references they point to (organisations, specifications,
    grading schemes), so claims are kept as small dicts and resolved at the end; logos and
    display images are dropped with their element as soon as it ends.
    """

    def __init__(self):
        self.document_id = None
        self.issued = None
        self.issuer_ref = None
        self.language = None
        self.learner = {"identifiers": {}, "name": None, "birth_date": None}
        self.claims: list[dict[str, Any]] = []
        self.influencing: set[str] = set()
        self.organisations: dict[str, dict[str, Any]] = {}
        self.awarding: dict[str, dict[str, Any]] = {}
        self.specifications: dict[str, dict[str, Any]] = {}
        self.assessment_schemes: dict[str, str] = {}
        self.schemes: dict[str, str] = {}

    def top(self, element) -> None:
        tag = element.tag
        if tag == SNB + "primaryLanguage":
            self.language = (element.text or "").strip() or None
        elif tag == CRED + "issued":
            self.issued = (element.text or "").strip()
        elif tag == CRED + "issuer":
            self.issuer_ref = element.get("idref")
        elif tag == SNB + "credentialSubject":
            self.subject(element)

    def reference(self, element) -> None:
        tag, key = element.tag, element.get("id")
        if tag == SNB + "organization":
            self.organisations[key] = self.organisation(element)
        elif tag == SNB + "awardingProcess":
            self.awarding[key] = {
                "body": _ref(element, "awardingBody"),
                "date": _value(element, "date"),
            }
        elif tag in (
            SNB + "qualification",
            SNB + "learningSpecification",
            SNB + "learningActivitySpecification",
        ):
            self.specifications[key] = self.specification(element)
        elif tag == SNB + "assessmentSpecification":
            self.assessment_schemes[key] = _ref(element, "gradingScheme")
        elif tag == SNB + "scoringScheme":
            self.schemes[key] = _pick(_texts(element.find(SNB + "title")), self.language)[0]

    def subject(self, element) -> None:
        name = _pick(_texts(element.find(SNB + "fullName")), self.language)[0]
        identifiers = {
            key(item.get("schemeID") or "id"): (item.text or "").strip()
            for item in element.findall(SNB + "identifier")
            if (item.text or "").strip()
        }
        if (national := _value(element, "nationalId")) is not None:
            identifiers["national"] = national
        self.learner = {
            "identifiers": identifiers,
            "name": name,
            "birth_date": day(_value(element, "dateOfBirth")),
        }
        achievements = element.find(SNB + "achievements")
        if achievements is not None:
            for child in achievements:
                self.achievement(child, None)
        activities = element.find(SNB + "activities")
        for activity in activities if activities is not None else ():
            self.claims.append(
                {
                    "class": "activity",
                    "id": activity.get("id"),
                    "parent": None,
                    "identifier": _value(activity, "identifier"),
                    "title": _texts(activity.find(SNB + "title")),
                    "specification": _ref(activity, "specifiedBy"),
                    "started": _value(activity, "startedAtTime"),
                    "ended": _value(activity, "endedAtTime"),
                }
            )

    def achievement(self, element, parent: str | None) -> None:
        """A learningAchievement or qualificationAward, then its parts, parent first."""
        assessment = element.find(SNB + "wasDerivedFrom")
        self.influencing.update(
            activity.get("id") for activity in element.findall(SNB + "wasInfluencedBy")
        )
        self.claims.append(
            {
                "class": "achievement",
                "id": element.get("id"),
                "parent": parent,
                "identifier": _value(element, "identifier"),
                "title": _texts(element.find(SNB + "title")),
                "specification": _ref(element, "specifiedBy"),
                "awarded_by": _ref(element, "wasAwardedBy"),
                "grade": _value(assessment, "grade") if assessment is not None else None,
                "assessment_specification": (
                    _ref(assessment, "specifiedBy") if assessment is not None else None
                ),
            }
        )
        for part in element.findall(SNB + "hasPart"):
            for child in part:
                self.achievement(child, element.get("id"))

    def organisation(self, element) -> dict[str, Any]:
        identifiers = {}
        for item in element.findall(SNB + "identifier"):
            scheme = INSTITUTION_SCHEMES.get((item.get("schemeID") or "").strip().lower())
            if scheme and (item.text or "").strip():
                identifiers[scheme] = item.text.strip()
        for name, scheme in (
            ("registration", "legal"),
            ("eidasLegalIdentifier", "eidas"),
            ("vatIdentifier", "vat"),
        ):
            if (value := _value(element, name)) is not None:
                identifiers[scheme] = value
        homepage = element.find(SNB + "homepage")
        if homepage is not None and (host := domain(homepage.get("uri"))):
            identifiers["domain"] = host
        address = element.find(f"{SNB}hasLocation/{SNB}hasAddress/{SNB}country")
        names = _texts(element.find(SNB + "prefLabel"))
        return {
            "name": _pick(names, self.language)[0],
            "country": country(address.get("uri")) if address is not None else None,
            "identifiers": identifiers,
            "titles": names,
        }

    def specification(self, element) -> dict[str, Any]:
        isced = element.find(SNB + "hasISCED-FCode")
        eqf = element.find(SNB + "eqfLevel")
        credits, system = _value(element, "hasECTSCreditPoints"), "ECTS"
        if credits is None:
            other = next(
                (
                    item
                    for item in element.findall(SNB + "hasCreditPoints")
                    if credit_system(item.get("schemeID"))
                ),
                None,
            )
            credits = (other.text or "").strip() or None if other is not None else None
            system = credit_system(other.get("schemeID")) if other is not None else None
        return {
            "title": _texts(element.find(SNB + "title")),
            "identifier": _value(element, "identifier"),
            "kind": _label(element.find(SNB + "type"), self.language),
            "isced_f": isced_code(isced.get("uri")) if isced is not None else None,
            "eqf_level": eqf_level(eqf.get("uri")) if eqf is not None else None,
            "credits": credits,
            "credit_system": system if credits else None,
        }

    def results(self) -> Results:
        for claim in self.claims:
            if claim["class"] == "activity" and claim["id"] in self.influencing:
                continue
            specification = self.specifications.get(claim["specification"], {})
            title, lang = _pick(claim["title"] or specification.get("title", {}), self.language)
            values = {
                "kind": specification.get("kind"),
                "code": claim["identifier"] or specification.get("identifier"),
                "language": lang,
                "parent_local_id": claim["parent"],
            }
            if claim["class"] == "achievement":
                awarding = self.awarding.get(claim["awarded_by"], {})
                scheme = self.assessment_schemes.get(claim["assessment_specification"])
                values |= {
                    name: specification.get(name)
                    for name in ("credits", "credit_system", "eqf_level", "isced_f")
                }
                values |= {
                    "grade": claim["grade"],
                    "grading_scheme": self.schemes.get(scheme),
                    "status": "passed",
                    "ended_on": day(awarding.get("date")),
                }
            else:
                values |= {"started_on": day(claim["started"]), "ended_on": day(claim["ended"])}
            yield f"{claim['class']} {claim['id']}", result(claim["id"], title, **values)

    def issuer(self) -> dict[str, Any]:
        first = next(
            (
                claim
                for claim in self.claims
                if claim["class"] == "achievement" and claim["parent"] is None
            ),
            None,
        )
        body = self.awarding.get(first["awarded_by"], {}).get("body") if first else None
        found = self.organisations.get(body) or self.organisations.get(self.issuer_ref)
        return found or {"name": None, "country": None, "identifiers": {}, "titles": {}}


# The root's children read: the subject and the containers of what its claims refer to. None of
# these names occurs deeper, so each arrives whole; a credential is small enough for that.
V2_REFERENCES = {
    SNB + name
    for name in (
        "agentReferences",
        "awardingProcessReferences",
        "learningSpecificationReferences",
        "learningActivitySpecificationReferences",
        "assessmentSpecificationReferences",
        "scoringSchemeReferences",
    )
}
V2_TOP = {SNB + "primaryLanguage", CRED + "issued", CRED + "issuer", SNB + "credentialSubject"}
# Base64 images and signatures: dropped unread.
V2_SKIP = {SNB + "logo", SNB + "displayParameters", SNB + "proof"}


def _v2(stream: IO[bytes]) -> tuple[dict[str, Any], Results]:
    credential = _V2()
    for event, element in Events(stream, V2_TOP | V2_REFERENCES, skip=V2_SKIP):
        if element.getparent() is None:
            if element.tag != V2_ROOT:
                raise FileError(
                    "file",
                    f"not a Europass ELM v2 credential: the root "
                    f"element is {element.tag}, not {V2_ROOT}",
                )
            credential.document_id = element.get(CRED + "id")
        elif event == "end" and element.tag in V2_REFERENCES:
            for child in element:
                credential.reference(child)
        elif event == "end":
            credential.top(element)
    context = _context(
        credential.document_id, credential.issued, credential.issuer(), credential.learner
    )
    return context, list(credential.results())


# --- ELM v3: JSON-LD --------------------------------------------------------------------------


def _v3(document: Any) -> tuple[dict[str, Any], Results]:
    document = _unwrap(document)
    language = _primary_language(document)
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    claims = [claim for claim in as_list(subject.get("hasClaim")) if isinstance(claim, dict)]
    first = next(
        (claim for claim in claims if _claim_type(claim) == "LearningAchievement"),
        claims[0] if claims else {},
    )
    body = next(iter(as_list(_first(first.get("awardedBy")).get("awardingBody"))), None)
    issuer = _organisation(
        body if isinstance(body, dict) else _dict(document.get("issuer")), language
    )
    learner = {
        "identifiers": _identifiers(subject),
        "name": _lang(subject.get("fullName"), language)[0],
        "birth_date": day(subject.get("dateOfBirth")),
    }
    issued = document.get("issued") or document.get("issuanceDate")
    context = _context(document.get("id"), issued, issuer, learner)
    return context, list(_v3_results(claims, None, language))


def _unwrap(document: Any) -> dict[str, Any]:
    """The credential itself, from the plain, upload or JAdES-signed form; FileError otherwise."""
    if isinstance(document, dict) and isinstance(document.get("credential"), dict):
        document = document["credential"]
    elif (
        isinstance(document, dict)
        and isinstance(document.get("payload"), str)
        and "signatures" in document
    ):
        try:
            document = json.loads(document["payload"], parse_float=Decimal)
        except (ValueError, RecursionError) as error:
            raise FileError("payload", f"the signed payload is not JSON: {error}") from error
    if not isinstance(document, dict):
        raise FileError(
            "file",
            f"not an ELM v3 credential: the JSON is a {type(document).__name__}"
            ", not a credential object",
        )
    contexts = [value for value in as_list(document.get("@context")) if isinstance(value, str)]
    if not any(V3_CONTEXT.match(value) for value in contexts):
        found = ", ".join(contexts) or "no @context"
        raise FileError(
            "file",
            f"not an ELM v3 credential: @context is {found}; expected the "
            "EDC context http://data.europa.eu/snb/model/context/edc-ap",
        )
    return document


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _primary_language(document: dict[str, Any]) -> str | None:
    uri = _dict(_dict(document.get("displayParameter")).get("primaryLanguage")).get("id")
    match = LANGUAGE_URI.match(uri) if isinstance(uri, str) else None
    found = pycountry.languages.get(alpha_3=match["code"].lower()) if match else None
    return getattr(found, "alpha_2", None)


def _lang(value: Any, language: str | None) -> tuple[str | None, str | None]:
    """(text, language) of a JSON-LD language map (`{"en": "..."}`), as `_pick` does for XML."""
    if isinstance(value, str):
        return value, None
    texts = {
        lang: " ".join(text.split())
        for lang, text in _dict(value).items()
        if isinstance(text, str) and text.strip()
    }
    return _pick(texts, language)


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
    names = {
        lang: text
        for lang, text in _dict(body.get("legalName")).items()
        if isinstance(text, str) and text.strip()
    }
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
    types = [value for value in as_list(claim.get("type")) if isinstance(value, str)]
    return next((value for value in types if value in V3_CLAIMS), types[0] if types else None)


def _v3_results(
    claims: list[Any], parent: str | None, language: str | None, path: str = "#"
) -> Results:
    """Each claim, then its parts; a claim without an id is named by its place ("#2.1")."""
    for number, claim in enumerate(claims, start=1):
        if not isinstance(claim, dict):
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
        specification = _dict(claim.get("specifiedBy"))
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
        yield from _v3_results(as_list(claim.get("hasPart")), local_id, language, f"{place}.")
