"""The Europass Qualification Dataset Register upload (ELM "LOQ" XML profile, xsdVersion 3.x).

A national database's qualifications become national register entries in the shape of
`registry.catalogue.schemas.QualificationRecordSchema` (no institution), one per `qualification`
element:

    code              the qualification's first identifier (skos:notation), else its @id URI
    identifiers       {"qdr": @id}: the URI the Europass register knows it by
    title, language   the first title and its language; the others go to other_titles
    level             "EQF:n" from the EQF level URI (http://data.europa.eu/snb/eqf/n). NQF levels
                      are QDR concept URIs whose vocabulary (cv/nqf.xsd) carries labels only, with
                      no link to a registry framework code, so they are left out, not guessed
    isced_f           the first ISCED-F URI's code
    credits           the first credit point in a known system (ECTS preferred, ECVET)
    learning_outcomes the titles of the learning outcomes it references (in the title's
                      language where given), else its learning outcome summary
    country           the country of its awarding body (its registration's jurisdiction, else
                      its contact address), else of the providers of the learning opportunities
                      that lead to it: the dataset states its country only through these

Plain learning achievement specifications (the same profile without a level) describe learning
opportunities, not qualifications; they are rejected with that reason rather than dropped.

The profile puts qualifications before the learning outcomes and organisations they reference
(the XSD fixes that order), so the file is read twice: first to collect the small maps of those
references (ids to outcome titles, countries, providers), then to yield the qualifications one by
one. Memory stays flat in the number of qualifications; the stream must be seekable (an uploaded
or opened file is).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from importers.elm import country, credit_system, eqf_level, isced_code
from importers.runner import FileError, Rejected
from importers.xmlsafe import Events

LOQ = "{http://data.europa.eu/snb/model/ap/loq-constraints/}"
SKOS = "{http://www.w3.org/2004/02/skos/core#}"
ROOT = LOQ + "Courses"
SPECIFICATIONS = LOQ + "learningAchievementSpecificationReferences"
# Every record element of the profile, asked for so that each is released as it ends and memory
# stays flat. xmlsafe clears a wanted element, and deletes its earlier siblings, as soon as the
# next event is asked for, so an element is only read whole if no wanted name occurs inside it;
# the LOQ reuses record names for idref leaves (learningOutcome, location, accreditation...
# inside qualifications and organisations). Each pass therefore asks for the names it can.
RECORDS = {
    LOQ + name
    for name in (
        "learningOpportunity",
        "qualification",
        "learningAchievementSpecification",
        "learningActivitySpecification",
        "learningAssessmentSpecification",
        "learningEntitlementSpecification",
        "learningOutcome",
        "organisation",
        "agent",
        "group",
        "accreditation",
        "gradingScheme",
        "location",
    )
}
# Pass 1 reads learning outcomes whole and the rest from leaves: which agents provide a learning
# opportunity and which specification it leads to, who awards a qualification, and an agent's
# registration and address (an organisation holds location and accreditation idrefs, so it is
# not read whole).
FIRST_PASS = RECORDS | {
    LOQ + name for name in ("providedBy", "awardingBody", "registration", "address")
}
# Pass 2 reads qualifications whole: none of these names occurs inside one except as the
# awarding opportunity's learningAchievementSpecification idref, whose loss costs nothing here.
SECOND_PASS = {
    LOQ + "learningOpportunity",
    LOQ + "qualification",
    LOQ + "learningAchievementSpecification",
    SPECIFICATIONS,
}


def qdr_records(stream: IO[bytes]) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    """(position, raw qualification record) for each qualification of a QDR/LOQ document.

    Raises FileError for a document whose root is not the LOQ `Courses`, for anything xmlsafe
    refuses (malformed, entities, limits), and for a stream that cannot be read twice.
    """
    if not stream.seekable():
        raise FileError("file", "the QDR reader reads the file twice; give it a file, not a pipe")
    references = _References()
    for event, element in _events(stream, FIRST_PASS):
        if event == "end":
            references.add(element)
    stream.seek(0)
    for event, element in _events(stream, SECOND_PASS):
        if event != "end":
            continue
        if element.tag == SPECIFICATIONS:
            return  # nothing after this section is a qualification
        if element.getparent().tag != SPECIFICATIONS:
            continue  # a learning opportunity, or a specification idref
        if element.tag == LOQ + "qualification":
            yield f"qualification {element.get('id')}", references.record(element)
        else:
            yield (
                f"specification {element.get('id')}",
                Rejected(
                    "a learning achievement specification without a qualification's level is not "
                    "a qualification; only qualifications are imported"
                ),
            )


def _events(stream: IO[bytes], tags: set[str]) -> Iterator[tuple[str, Any]]:
    """The events of `tags` below the root, once the root is known to be the LOQ's."""
    for event, element in Events(stream, tags):
        if element.getparent() is not None:
            yield event, element
        elif element.tag != ROOT:
            raise FileError(
                "file",
                f"not a Europass QDR/LOQ document: the root element is {element.tag}, not {ROOT}",
            )


def _texts(element, name: str) -> list[tuple[str, str | None]]:
    """(text, language) of every `name` child, in document order."""
    return [
        (value, child.get("language"))
        for child in element.findall(LOQ + name)
        if (value := " ".join((child.text or "").split()))
    ]


def _in(texts: list[tuple[str, str | None]], language: str | None) -> str | None:
    return next(
        (value for value, lang in texts if lang == language), texts[0][0] if texts else None
    )


def _owner(element, tag: str, container: str):
    """The record `element` sits in directly, if it is a `tag` record of `container`."""
    owner = element.getparent()
    if owner.tag == tag and owner.getparent() is not None and owner.getparent().tag == container:
        return owner
    return None


class _References:
    """The small maps the qualifications need, collected on the first pass."""

    def __init__(self):
        self.outcomes: dict[str, list[tuple[str, str | None]]] = {}
        self.registered: dict[str, str | None] = {}
        self.addresses: dict[str, str | None] = {}
        self.providers: dict[str, list[str]] = {}  # learning opportunity -> agents
        self.leads_to: dict[str, list[str]] = {}  # qualification -> learning opportunities
        self.awarded_by: dict[str, list[str]] = {}  # qualification -> agents

    def add(self, element) -> None:
        tag = element.tag
        if (
            tag == LOQ + "learningOutcome"
            and element.getparent().tag == LOQ + "learningOutcomeReferences"
        ):
            self.outcomes[element.get("id")] = _texts(element, "title")
        elif (
            tag == LOQ + "providedBy"
            and (
                opportunity := _owner(
                    element, LOQ + "learningOpportunity", LOQ + "learningOpportunityReferences"
                )
            )
            is not None
        ):
            self.providers.setdefault(opportunity.get("id"), []).append(element.get("idref"))
        elif (
            tag == LOQ + "learningAchievementSpecification"
            and (
                opportunity := _owner(
                    element, LOQ + "learningOpportunity", LOQ + "learningOpportunityReferences"
                )
            )
            is not None
        ):
            self.leads_to.setdefault(element.get("idref"), []).append(opportunity.get("id"))
        elif (
            tag == LOQ + "awardingBody"
            and (
                qualification := _owner(element.getparent(), LOQ + "qualification", SPECIFICATIONS)
            )
            is not None
        ):
            self.awarded_by.setdefault(qualification.get("id"), []).append(element.get("idref"))
        elif tag == LOQ + "registration" and (agent := self._agent(element)) is not None:
            spatial = element.find(LOQ + "spatial")
            self.registered.setdefault(agent, _country_of(spatial))
        elif (
            tag == LOQ + "address"
            and element.getparent().tag == LOQ + "contactPoint"
            and (agent := self._agent(element.getparent())) is not None
        ):
            self.addresses.setdefault(agent, _country_of(element.find(LOQ + "countryCode")))

    @staticmethod
    def _agent(element) -> str | None:
        owner = element.getparent()
        if (
            owner.tag in (LOQ + "organisation", LOQ + "agent")
            and owner.getparent().tag == LOQ + "agentReferences"
        ):
            return owner.get("id")
        return None

    def country_of(self, agent: str) -> str | None:
        return self.registered.get(agent) or self.addresses.get(agent)

    def record(self, element) -> dict[str, Any]:
        key = element.get("id")
        titles = _texts(element, "title")
        title, language = titles[0] if titles else (None, None)
        notation = element.find(f"{LOQ}identifier/{SKOS}notation")
        code = (notation.text or "").strip() if notation is not None else ""
        eqf = element.find(LOQ + "EQFLevel")
        level = eqf_level(eqf.get("uri")) if eqf is not None else None
        points = [
            (point, system)
            for credit in element.findall(LOQ + "creditPoint")
            if (system := credit_system(_uri(credit.find(LOQ + "framework"))))
            and (point := (credit.findtext(LOQ + "point") or "").strip())
        ]
        points.sort(key=lambda item: item[1] != "ECTS")
        credits, system = points[0] if points else (None, None)
        outcomes = [
            text
            for ref in element.findall(LOQ + "learningOutcome")
            if (text := _in(self.outcomes.get(ref.get("idref"), []), language))
        ]
        if not outcomes:
            summary = element.find(LOQ + "learningOutcomeSummary")
            outcomes = (
                [text]
                if summary is not None and (text := _in(_texts(summary, "noteLiteral"), language))
                else []
            )
        agents = self.awarded_by.get(key, []) + [
            agent
            for opportunity in self.leads_to.get(key, [])
            for agent in self.providers.get(opportunity, [])
        ]
        return {
            "institution_id": None,
            "country": next(filter(None, map(self.country_of, agents)), None),
            "code": code or key,
            "identifiers": {"qdr": key},
            "title": title,
            "language": language,
            "other_titles": [{"value": value, "lang": lang} for value, lang in titles[1:]],
            "level": f"EQF:{level}" if level else None,
            "isced_f": isced_code(_uri(element.find(LOQ + "ISCEDFCode"))),
            "credits": credits,
            "credit_system": system,
            "learning_outcomes": outcomes,
        }


def _uri(element) -> str | None:
    return element.get("uri") if element is not None else None


def _country_of(element) -> str | None:
    return country(element.get("uri")) if element is not None else None
