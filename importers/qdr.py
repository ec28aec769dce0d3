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
    country           the country of its awarding body (registration jurisdiction, else address,
                      else location), else of the providers of the learning opportunities that
                      lead to it: the dataset states its country only through these

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

from importers.elm import country, credit_system, eqf_level, isced_code, iterparse
from importers.runner import FileError, Rejected

LOQ = "{http://data.europa.eu/snb/model/ap/loq-constraints/}"
SKOS = "{http://www.w3.org/2004/02/skos/core#}"
ROOT = LOQ + "Courses"
SPECIFICATIONS = LOQ + "learningAchievementSpecificationReferences"


def qdr_records(stream: IO[bytes]) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    """(position, raw qualification record) for each qualification of a QDR/LOQ document.

    Raises FileError for a document whose root is not the LOQ `Courses`, for malformed XML, and
    for a stream that cannot be read twice.
    """
    if not stream.seekable():
        raise FileError("file", "the QDR reader reads the file twice; give it a file, not a pipe")
    references = _References()
    for element in _children(stream, references.container):
        references.add(element)
    stream.seek(0)
    for element in _children(stream, {SPECIFICATIONS}):
        if element.tag == LOQ + "qualification":
            yield f"qualification {element.get('id')}", references.record(element)
        else:
            yield f"specification {element.get('id')}", Rejected(
                "a learning achievement specification without a qualification's level is not "
                "a qualification; only qualifications are imported")


def _children(stream: IO[bytes], containers: set[str]) -> Iterator[Any]:
    """The complete children of the root's `containers`, each cleared once used."""
    depth = 0
    for event, element in iterparse(stream, events=("start", "end")):
        if event == "start":
            if depth == 0 and element.tag != ROOT:
                raise FileError("file", f"not a Europass QDR/LOQ document: the root element is "
                                        f"{element.tag}, not {ROOT}")
            depth += 1
            continue
        depth -= 1
        if depth == 2 and element.getparent().tag in containers:
            yield element
        if depth <= 2:
            element.clear()


def _texts(element, name: str) -> list[tuple[str, str | None]]:
    """(text, language) of every `name` child, in document order."""
    return [(value, child.get("language"))
            for child in element.findall(LOQ + name)
            if (value := " ".join((child.text or "").split()))]


def _in(texts: list[tuple[str, str | None]], language: str | None) -> str | None:
    return next((value for value, lang in texts if lang == language),
                texts[0][0] if texts else None)


class _References:
    """The small maps the qualifications need, collected on the first pass."""

    container = {LOQ + name for name in ("learningOpportunityReferences",
                                         "learningOutcomeReferences", "agentReferences",
                                         "locationReferences")}

    def __init__(self):
        self.outcomes: dict[str, list[tuple[str, str | None]]] = {}
        self.agents: dict[str, tuple[str | None, list[str]]] = {}
        self.locations: dict[str, str | None] = {}
        self.providers: dict[str, list[str]] = {}

    def add(self, element) -> None:
        tag, key = element.tag, element.get("id")
        if tag == LOQ + "learningOutcome":
            self.outcomes[key] = _texts(element, "title")
        elif tag in (LOQ + "organisation", LOQ + "agent"):
            registered = element.find(f"{LOQ}registration/{LOQ}spatial")
            address = element.find(f"{LOQ}contactPoint/{LOQ}address/{LOQ}countryCode")
            found = ((country(registered.get("uri")) if registered is not None else None)
                     or (country(address.get("uri")) if address is not None else None))
            self.agents[key] = (found, [location.get("idref")
                                        for location in element.findall(LOQ + "location")])
        elif tag == LOQ + "location":
            address = element.find(f"{LOQ}address/{LOQ}countryCode")
            self.locations[key] = country(address.get("uri")) if address is not None else None
        elif tag == LOQ + "learningOpportunity":
            providers = [agent.get("idref") for agent in element.findall(LOQ + "providedBy")]
            for specification in element.findall(LOQ + "learningAchievementSpecification"):
                self.providers.setdefault(specification.get("idref"), []).extend(providers)

    def country_of(self, agent: str | None) -> str | None:
        found, locations = self.agents.get(agent, (None, []))
        return found or next(filter(None, (self.locations.get(ref) for ref in locations)), None)

    def record(self, element) -> dict[str, Any]:
        key = element.get("id")
        titles = _texts(element, "title")
        title, language = titles[0] if titles else (None, None)
        notation = element.find(f"{LOQ}identifier/{SKOS}notation")
        code = (notation.text or "").strip() if notation is not None else ""
        eqf = element.find(LOQ + "EQFLevel")
        level = eqf_level(eqf.get("uri")) if eqf is not None else None
        isced = element.find(LOQ + "ISCEDFCode")
        points = [(point, system) for credit in element.findall(LOQ + "creditPoint")
                  if (system := credit_system(_uri(credit.find(LOQ + "framework"))))
                  and (point := (credit.findtext(LOQ + "point") or "").strip())]
        points.sort(key=lambda item: item[1] != "ECTS")
        credits, system = points[0] if points else (None, None)
        outcomes = [text for ref in element.findall(LOQ + "learningOutcome")
                    if (text := _in(self.outcomes.get(ref.get("idref"), []), language))]
        if not outcomes:
            summary = element.find(LOQ + "learningOutcomeSummary")
            outcomes = [text] if summary is not None and (
                text := _in(_texts(summary, "noteLiteral"), language)) else []
        bodies = [body.get("idref") for body in
                  element.findall(f"{LOQ}awardingOpportunity/{LOQ}awardingBody")]
        found = next(filter(None, map(self.country_of, bodies + self.providers.get(key, []))),
                     None)
        return {
            "institution_id": None, "country": found, "code": code or key,
            "identifiers": {"qdr": key}, "title": title, "language": language,
            "other_titles": [{"value": value, "lang": lang} for value, lang in titles[1:]],
            "level": f"EQF:{level}" if level else None,
            "isced_f": isced_code(_uri(isced)), "credits": credits, "credit_system": system,
            "learning_outcomes": outcomes,
        }


def _uri(element) -> str | None:
    return element.get("uri") if element is not None else None
