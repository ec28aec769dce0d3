"""ELM v2: the Europass XML credential (EDC "xsdVersion 0.10", namespace http://data.europa.eu/snb).

A file is a `europassCredential` (genericschema 1.2, and the older 0.10.0 layout: issuer by idref,
`issuanceDate`, `organisationReferences/organisation/preferredName`, `identifierSchemeId`), or a
`verifiablePresentation` in `http://data.europa.eu/snb/vp` (the EDC wallet's export,
mandatedschema_dp 1.2) whose `europassCredential` children are each read as their own
credential; its own issuer (the presenting service) and proof are not the credential's. The
pre-release EDCI prototype (namespace http://data.europa.eu/europass/model/credentials#,
xsdVersion 0.4, superseded by ELM v2) and every other root are refused by name, as is a
presentation that holds no credential. Signatures are dropped unread (not verified).
"""

from __future__ import annotations

from typing import IO, Any

from importers.elm import (
    INSTITUTION_SCHEMES,
    Credential,
    Results,
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
from importers.runner import FileError
from importers.xmlsafe import Events

SNB = "{http://data.europa.eu/snb}"
CRED = "{http://data.europa.eu/europass/model/credentials/w3c#}"
VP = "{http://data.europa.eu/snb/vp}"
V2_ROOT = SNB + "europassCredential"
VP_ROOT = VP + "verifiablePresentation"
PRERELEASE = "{http://data.europa.eu/europass/model/credentials#}"
DSIG = "{http://www.w3.org/2000/09/xmldsig#}"
SUPPORTED = (
    "supported: europassCredential in the ELM v2 namespace http://data.europa.eu/snb, bare or "
    "inside a verifiablePresentation (http://data.europa.eu/snb/vp)"
)


def _texts(element) -> dict[str, str]:
    """A TextType/NoteType's texts by language, in document order."""
    if element is None:
        return {}
    return {
        text.get("lang") or "": value
        for text in element.findall(SNB + "text")
        if (value := " ".join((text.text or "").split()))
    }


def _label(element, language: str | None) -> str | None:
    """The name of a code (`<type uri=...><targetName>`)."""
    if element is None:
        return None
    return pick(_texts(element.find(SNB + "targetName")), language)[0]


def _value(element, name: str) -> str | None:
    found = element.find(SNB + name)
    text = (found.text or "").strip() if found is not None else ""
    return text or None


def _scheme(item) -> str | None:
    """An identifier's scheme: `schemeID` (genericschema 1.2) or `identifierSchemeId` (the
    older 0.10.0 layout)."""
    return item.get("schemeID") or item.get("identifierSchemeId")


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

    def __init__(self, document_id: str | None):
        self.document_id = document_id
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
        elif tag == CRED + "issued" or (tag == SNB + "issuanceDate" and self.issued is None):
            self.issued = (element.text or "").strip()
        elif tag in (CRED + "issuer", SNB + "issuer"):
            self.issuer_ref = element.get("idref")
        elif tag == SNB + "credentialSubject":
            self.subject(element)

    def reference(self, element) -> None:
        tag, key = element.tag, element.get("id")
        if tag in (SNB + "organization", SNB + "organisation"):
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
            self.schemes[key] = pick(_texts(element.find(SNB + "title")), self.language)[0]

    def subject(self, element) -> None:
        name = pick(_texts(element.find(SNB + "fullName")), self.language)[0]
        identifiers = {
            key(_scheme(item) or "id"): (item.text or "").strip()
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
            scheme = INSTITUTION_SCHEMES.get((_scheme(item) or "").strip().lower())
            if scheme and (item.text or "").strip():
                identifiers[scheme] = item.text.strip()
        for name, scheme in (
            ("registration", "legal"),
            ("legalIdentifier", "legal"),
            ("eidasLegalIdentifier", "eidas"),
            ("vatIdentifier", "vat"),
        ):
            if (value := _value(element, name)) is not None:
                identifiers[scheme] = value
        homepage = element.find(SNB + "homepage")
        if homepage is not None and (host := domain(homepage.get("uri") or homepage.get("id"))):
            identifiers["domain"] = host
        address = element.find(f"{SNB}hasLocation/{SNB}hasAddress/{SNB}country")
        # prefLabel (genericschema 1.2); preferredName in the older 0.10.0 layout.
        names = _texts(element.find(SNB + "prefLabel")) or _texts(
            element.find(SNB + "preferredName")
        )
        return {
            "name": pick(names, self.language)[0],
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
            title, lang = pick(claim["title"] or specification.get("title", {}), self.language)
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


# The credential's children read: the subject and the containers of what its claims refer to.
# None of these names occurs deeper, so each arrives whole; a credential is small enough for
# that. Only children of a europassCredential count (a presentation's own issuer is not one).
V2_REFERENCES = {
    SNB + name
    for name in (
        "agentReferences",
        "organisationReferences",
        "awardingProcessReferences",
        "learningSpecificationReferences",
        "learningActivitySpecificationReferences",
        "assessmentSpecificationReferences",
        "scoringSchemeReferences",
    )
}
V2_TOP = {
    SNB + "primaryLanguage",
    CRED + "issued",
    SNB + "issuanceDate",
    CRED + "issuer",
    SNB + "issuer",
    SNB + "credentialSubject",
}
# Base64 images and signatures: dropped unread.
V2_SKIP = {SNB + "logo", SNB + "displayParameters", SNB + "proof", VP + "proof", DSIG + "Signature"}


def credentials(stream: IO[bytes]) -> list[Credential]:
    """Each credential of an ELM v2 file: the bare credential, or those a presentation holds."""
    read: list[_V2] = []
    for event, element in Events(stream, {V2_ROOT} | V2_TOP | V2_REFERENCES, skip=V2_SKIP):
        parent = element.getparent()
        if parent is None and event == "start":
            _check_root(element.tag)
        if element.tag == V2_ROOT:
            if event == "start":
                read.append(_V2(element.get(CRED + "id")))
            continue
        if event != "end" or parent is None or parent.tag != V2_ROOT:
            continue
        if element.tag in V2_REFERENCES:
            for child in element:
                read[-1].reference(child)
        else:
            read[-1].top(element)
    if not read:
        raise FileError(
            "file",
            "not a Europass ELM v2 credential: a verifiablePresentation holding no "
            f"europassCredential, nothing to import; {SUPPORTED}",
        )
    return [
        (
            transcript_context(
                credential.document_id, credential.issued, credential.issuer(), credential.learner
            ),
            list(credential.results()),
        )
        for credential in read
    ]


def _check_root(tag: str) -> None:
    """FileError naming the root found, unless it is a credential or a presentation."""
    if tag in (V2_ROOT, VP_ROOT):
        return
    if tag.startswith(PRERELEASE):
        found = (
            f"{tag}, in the pre-release EDCI namespace {PRERELEASE[1:-1]} (the xsdVersion 0.4 "
            "prototype, superseded by ELM v2)"
        )
    elif not tag.startswith("{"):
        found = f"{tag} in no namespace"
    else:
        found = tag
    raise FileError(
        "file", f"not a Europass ELM v2 credential: the root element is {found}; {SUPPORTED}"
    )
