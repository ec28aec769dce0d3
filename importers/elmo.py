"""EMREX ELMO transcripts, bare (`elmo` root) or inside an EWP ToR response (`tor` wrappers).

One record per learning opportunity result: every `learningOpportunitySpecification` of a report,
nested ones (programme > module > course > class, through `hasPart`) included, with its
`learningOpportunityInstance`. The record shape (shared by every transcript reader) is that of
`registry.catalogue.transcripts.TranscriptResultRecordSchema`; the transcript context (issuer,
learner, issue date) is the same dict object for every result of one report.

Read in a stream (`importers.xmlsafe`), one report at a time: a report is read when it ends,
whole (issuer, the tree of opportunities, `issueDate`, the `gradingScheme` descriptions that
`gradingSchemeLocalId` refers to, all of which a result needs and some of which come after it in
the schema's order), then released. Records come parts first (an opportunity after the parts
it holds), in document order otherwise. A report holds at most `max_results` opportunities (far
above any real transcript), which bounds the tree held: the learner and the few report-level
elements are all the reader keeps besides it. Attachments, diploma supplements, recognition
results, groups, extensions and signatures are dropped unread as they end.

Choices where ELMO leaves room:
- local_id, a result's identity within its transcript, is where it stands in the document: the
  chain of opportunity identifiers from the report down ("PROG/C1/TEOR"; each the `local`
  identifier, else the first as "type:value", else the opportunity's place in the report,
  "#3.1"), then its instance's identifier or its dates ("C1@2023-09-01..2024-01-31"). So the
  same course taken twice, module parts that share a local code under different courses and a
  course listed both in a programme and on its own are each their own result; parent_local_id
  is the key of the opportunity holding it. A key stated twice in a report is rejected, naming
  the first, never merged.
- title: the English title when there is one, else the first; `language` is its xml:lang.
- credits: the ECTS credit when there is one, else the first; "ects" is spelt "ECTS", any other
  scheme is kept as given, upper-cased (checked against the registry's credit systems later).
- status: passed, failed, in-progress -> passed, failed, in_progress; none means passed (the
  schema tells clients to assume so).
- dates: `start`/`date`, else the academic term's start/end; dateTimes keep their date.
- grade_distribution: `resultDistribution` counts as percentages of all students.
- level: an EQF `level` gives eqf_level; a national one gives `level` ("PL-PQF:6") only when
  unambiguous: its type is a framework code, or it is "NQF" of an issuer whose country has a
  single national framework among the registry's bundled ones, and its description (if any)
  names nothing but that framework.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

from lxml import etree

from frameworks.services import DATA_DIR
from importers.runner import FileError, Rejected
from importers.xmlsafe import Events, relative_path
from registry.catalogue.transcripts import pack
from registry.core.normalise import fold, whole_number

# ELMO 1.x and 2.0 keep the tree/v1 namespace; ELMO 2.1 moved to tree/v2 (what a reader needs
# is the same in both: 2.x renames bday to dateOfBirth, makes identifiers mandatory and adds
# resultOfRecognition).
ELMO = "https://github.com/emrex-eu/elmo-schemas/tree/v1"
ELMO_V2 = "https://github.com/emrex-eu/elmo-schemas/tree/v2"
ELMOS = (ELMO, ELMO_V2)
# EWP IMobility ToR get-responses: stable-v1 and v2 differ only by the namespace's name (EWP ToR
# CHANGELOG 2.0.0), v3 embeds ELMO 2.x.
EWP_TORS = (
    "https://github.com/erasmus-without-paper/ewp-specs-api-imobility-tors/blob/"
    "stable-v2/endpoints/get-response.xsd"
)
EWP_TORS_ALL = tuple(EWP_TORS.replace("stable-v2", f"stable-v{n}") for n in (1, 2, 3))
DSIG = "http://www.w3.org/2000/09/xmldsig#"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FORMAT = "elmo"
# Far above a real transcript (a few hundred results); bounds what one report holds in memory.
MAX_RESULTS = 10_000
# Tags a report may hold before it ends (a report is read whole): about 40 per opportunity,
# where the bench's have 22.
MAX_HELD = 40 * MAX_RESULTS


def _e(name: str) -> frozenset[str]:
    """The element's tags in every ELMO namespace (a tag is tested with `in`)."""
    return frozenset(f"{{{namespace}}}{name}" for namespace in ELMOS)


def _ewp(name: str) -> frozenset[str]:
    return frozenset(f"{{{namespace}}}{name}" for namespace in EWP_TORS_ALL)


ROOT_ELMO, GET_RESPONSE = _e("elmo"), _ewp("imobility-tors-get-response")
TOR, OMOBILITY_ID = _ewp("tor"), _ewp("omobility-id")
GENERATED, LEARNER, REPORT, ISSUER = (
    _e("generatedDate"),
    _e("learner"),
    _e("report"),
    _e("issuer"),
)
LOS, HAS_PART, LOI = (
    _e("learningOpportunitySpecification"),
    _e("hasPart"),
    _e("learningOpportunityInstance"),
)
ISSUE_DATE, GRADING_SCHEME = _e("issueDate"), _e("gradingScheme")
IDENTIFIER, TITLE, TYPE, DESCRIPTION = _e("identifier"), _e("title"), _e("type"), _e("description")
SCHEME, VALUE, START, END, CATEGORY = (
    _e("scheme"),
    _e("value"),
    _e("start"),
    _e("end"),
    _e("category"),
)
TAGS = ROOT_ELMO | GENERATED | LEARNER | REPORT | TOR | OMOBILITY_ID
SKIP = frozenset(
    {f"{{{DSIG}}}Signature"}.union(
        _ewp("gradeConversionTable"),
        *map(
            _e,
            (
                "attachment",
                "diplomaSupplement",
                "resultOfRecognition",
                "groups",
                "extension",
                "descriptionHtml",
            ),
        ),
    )
)
SPECIFIES, ISCED_CODE = _e("specifies"), _e("iscedCode")
# What a child of these elements is, by tag (one dictionary look-up per child).
LOI_FIELDS = {
    tag: name
    for name in (
        "start",
        "date",
        "academicTerm",
        "status",
        "gradingSchemeLocalId",
        "gradingSchemeExternalId",
        "resultLabel",
        "resultDistribution",
        "credit",
        "level",
        "identifier",
    )
    for tag in _e(name)
}
LEARNER_FIELDS = {
    tag: field
    for name, field in (
        ("identifier", "identifier"),
        ("givenNames", "given"),
        ("familyName", "family"),
        ("dateOfBirth", "birth"),
        ("bday", "birth"),
    )
    for tag in _e(name)
}
ISSUER_FIELDS = {
    tag: name for name in ("identifier", "title", "country") for tag in _e(name)
}
STATUSES = {"passed": "passed", "failed": "failed", "in-progress": "in_progress"}
NATIONAL_FRAMEWORK = re.compile(r"^[A-Z]{2}-[A-Z0-9]+(?:-[A-Z0-9]+)*$")
# Words a level description may hold besides the framework's own name.
GENERIC_WORDS = frozenset(
    "national qualification qualifications framework frameworks nqf level "
    "levels of the for and in lifelong learning".split()
)
SCHEME_LENGTH = 200  # transcript_result.grading_scheme
LOCAL_ID_LENGTH = 200  # transcript_result.local_id


def read(
    stream: str | Path | IO[bytes], *, max_results: int = MAX_RESULTS, packed: bool = False
) -> Iterator[tuple[str, Any]]:
    """(position, record) for every learning opportunity of the document, or (position,
    Rejected) for one that cannot be read (no `specifies`, out of place); each record packed
    (registry.catalogue.transcripts.pack) when `packed`. Raises FileError when the document is
    not ELMO (root or namespace), is not well-formed, or breaks a limit."""
    events = Events(stream, TAGS, skip=SKIP, max_held=max(MAX_HELD, 40 * max_results))
    document: dict[str, Any] = {"document_id": None, "generated": None, "learner": None}
    tor: dict[str, Any] | None = None
    for event, element in events:
        tag = element.tag
        if event == "start":
            if tag in ROOT_ELMO:
                if element.getparent() is None:
                    tor = None
                elif tor is not None:
                    tor["elmo"] = True
                document = {
                    "document_id": tor["id"] if tor else None,
                    "generated": None,
                    "learner": None,
                }
            elif tag in TOR:
                tor = {"id": None, "elmo": False}
            elif element.getparent() is None:
                _check_root(element, events)
            continue
        # Opportunities no report holds are found when the element after them or around them
        # ends, before it is released.
        report = tag in REPORT and element.getparent().tag in ROOT_ELMO
        for stray in (_STRAY_BEFORE if report else _STRAY)(element):
            where = etree.QName(stray.getparent()).localname
            yield events.position(stray), Rejected(_outside(where))
        if report:
            yield from _report(element, events, document, max_results, packed)
        elif tag in LEARNER:
            document["learner"] = _learner(element)
        elif tag in GENERATED:
            document["generated"] = _date(element.text)
        elif tag in OMOBILITY_ID and tor is not None:
            tor["id"] = _token(element.text)
        elif tag in TOR and tor is not None:
            if not tor["elmo"]:
                yield events.position(element), Rejected(_missing_elmo(element))
            tor = None


LOS_NAME = "learningOpportunitySpecification"
_NS = {"e1": ELMO, "e2": ELMO_V2}

def _in_either(steps: str) -> str:
    """An XPath union of `steps` (with {los} where the opportunity's name goes) for both ELMO
    namespaces: name tests, which libxml2 matches far faster than a predicate on every node."""
    return " | ".join(steps.format(los=f"{prefix}:{LOS_NAME}") for prefix in _NS)


_COUNT = etree.XPath(f"count({_in_either('.//{los}')})", namespaces=_NS)
# Opportunities before an element (in its preceding siblings), and also inside it.
_STRAY_BEFORE = etree.XPath(
    _in_either("preceding-sibling::{los} | preceding-sibling::*//{los}"), namespaces=_NS
)
_STRAY = etree.XPath(
    _in_either("preceding-sibling::{los} | preceding-sibling::*//{los} | .//{los}"),
    namespaces=_NS,
)
ELMO_VERSIONS = f"ELMO 1.x and 2.0 (namespace {ELMO}) or ELMO 2.1 (namespace {ELMO_V2})"
SUPPORTED = f"{ELMO_VERSIONS}, or an EWP imobility-tors-get-response stable-v1, v2 or v3"
# Namespaces a reader may meet that are not ELMO as published: what they are.
KNOWN_OTHERS = {
    "http://purl.org/net/elmo": "a pre-1.0 ELMO draft, superseded by ELMO 1.0",
    None: "not an ELMO document",
}


def _outside(where: str) -> str:
    return f"a {LOS_NAME} inside {where} is outside any report's tree"


def _check_root(root: Any, events: Events) -> None:
    if root.tag in ROOT_ELMO or root.tag in GET_RESPONSE:
        return
    name = etree.QName(root)
    found = f"the root element is {name.localname} in " + (
        f"namespace {name.namespace}" if name.namespace else "no namespace"
    )
    if name.namespace in KNOWN_OTHERS:
        found += f" ({KNOWN_OTHERS[name.namespace]})"
    raise FileError(events.position(root), f"{found}; supported: {SUPPORTED}")


def _missing_elmo(tor: Any) -> str:
    for child in tor:
        if isinstance(child.tag, str) and etree.QName(child).localname == "elmo":
            where = etree.QName(child).namespace or "no namespace"
            return f"this tor's elmo is in {where}; supported: {ELMO_VERSIONS}"
    return "this tor holds no elmo document"


def _report(
    report: Any, events: Events, document: dict[str, Any], max_results: int, packed: bool
) -> list[tuple[str, Any]]:
    """The records of a whole report: its opportunities' tree walked parts first, then any
    opportunity elsewhere in it, rejected as out of place."""
    held = int(_COUNT(report))
    if held > max_results:
        raise FileError(
            events.position(report),
            f"a report holds more than {max_results} learning opportunities (a limit of the "
            "reader)",
        )
    issuer = issued_on = None
    schemes: dict[str, str] = {}
    opportunities = []
    for child in report:
        tag = child.tag
        if tag in LOS:
            opportunities.append(child)
        elif tag in ISSUER:
            issuer = _issuer(child)
        elif tag in ISSUE_DATE:
            issued_on = _date(child.text)
        elif tag in GRADING_SCHEME:
            _add_scheme(child, schemes)
    walk = _Walk(
        {
            "format": FORMAT,
            "document_id": document["document_id"],
            "issued_on": issued_on or document["generated"],
            "issuer": issuer,
            "learner": document["learner"],
        },
        schemes,
        packed,
    )
    path = f"{events.path(report)}/{LOS_NAME}"
    for index, opportunity in enumerate(opportunities, 1):
        walk.opportunity(opportunity, None, None, str(index), f"{path}[{index}]")
    if walk.seen != held:
        walk.out_of_place(report, path)
    return walk.items


class _Walk:
    """Reads the opportunities of one report into `items`."""

    __slots__ = ("transcript", "schemes", "packed", "items", "seen", "keys")

    def __init__(self, transcript: dict[str, Any], schemes: dict[str, str], packed: bool):
        self.transcript = transcript
        self.schemes = schemes
        self.packed = packed
        self.items: list[tuple[str, Any]] = []
        self.seen = 0
        self.keys: dict[str, str] = {}  # result key -> the position that stated it first

    def opportunity(
        self,
        element: Any,
        parent_chain: str | None,
        parent_key: str | None,
        ordinal: str,
        path: str,
    ) -> None:
        """Reads one opportunity and, before it, its parts. Its result's key is where it stands:
        the chain of opportunity identifiers from the report down, then its instance's
        identifier or dates, so a course taken twice, parts sharing a local code under two
        courses and a course both in a programme and on its own are each their own result."""
        self.seen += 1
        titles: list[tuple[str | None, str | None]] = []
        kind = isced = first = local = None
        identifying = True  # identifiers come first; later ones are not read
        instances, parts = [], []
        for child in element:
            tag = child.tag
            if tag in IDENTIFIER:
                if identifying and local is None:
                    value = _token(child.text)
                    if value:
                        scheme = _token(child.get("type"))
                        if scheme == "local":
                            local = value
                        elif first is None:
                            first = f"{scheme}:{value}"
                continue
            identifying = False
            if tag in TITLE:
                titles.append((child.get(LANG), _text(child)))
            elif tag in TYPE:
                kind = _token(child.text)
            elif tag in ISCED_CODE:
                isced = _token(child.text)
            elif tag in SPECIFIES:
                found = None
                for part in child:
                    if part.tag in LOI:
                        found = part
                        break
                instances.append(found)
            elif tag in HAS_PART:
                parts.append(child)
        own = local or first or f"#{ordinal}"
        chain = own if parent_chain is None else f"{parent_chain}/{own}"
        readable = len(instances) == 1 and instances[0] is not None
        result = key = None
        if readable:
            result, instance_id = _instance(instances[0], self.transcript["issuer"], self.schemes)
            key = _result_key(chain, instance_id, result["started_on"], result["ended_on"])
        number = 0
        for part in parts:
            for child in part:
                if child.tag in LOS:
                    number += 1
                    self.opportunity(
                        child,
                        chain,
                        key,
                        f"{ordinal}.{number}",
                        f"{path}/hasPart[{number}]/{LOS_NAME}",
                    )
        position = f"line {element.sourceline} ({path})"
        if result is None:
            self.items.append((position, _unreadable(instances)))
            return
        first_stated = self.keys.setdefault(key, position)
        if first_stated is not position:
            self.items.append((position, Rejected(_stated_twice(first_stated))))
            return
        title = _preferred(titles) or (None, None)
        result["local_id"] = key
        result["parent_local_id"] = parent_key
        result["kind"] = kind
        result["code"] = local
        result["title"], result["language"] = title
        result["isced_f"] = isced
        record = {"transcript": self.transcript, "result": result}
        self.items.append((position, pack(record) if self.packed else record))

    def out_of_place(self, report: Any, path: str) -> None:
        """Rejects the opportunities of the report that are not in its tree (inside its issuer,
        say), each naming the element it is in; rare, so only looked for when counts differ."""
        in_tree, pending = set(), [child for child in report if child.tag in LOS]
        while pending:
            element = pending.pop()
            in_tree.add(element)
            pending.extend(
                child
                for part in element
                if part.tag in HAS_PART
                for child in part
                if child.tag in LOS
            )
        report_path = path.rsplit("/", 1)[0]
        for element in report.iter(*LOS):
            if element in in_tree:
                continue
            outer = element
            for ancestor in element.iterancestors(*LOS):
                if ancestor in in_tree:
                    break
                outer = ancestor
            where = etree.QName(outer.getparent()).localname
            self.items.append(
                (
                    f"line {element.sourceline} ({report_path}/{relative_path(element, report)})",
                    Rejected(_outside(where)),
                )
            )


def _add_scheme(element: Any, schemes: dict[str, str]) -> None:
    local_id = _token(element.get("localId"))
    if not local_id:
        return
    descriptions = [
        (child.get(LANG), _token(child.text)) for child in element if child.tag in DESCRIPTION
    ]
    text = _preferred([(lang, text) for lang, text in descriptions if text])
    if text is None:
        return
    text = text[0]
    schemes[local_id] = text if len(text) <= SCHEME_LENGTH else text[: SCHEME_LENGTH - 1] + "…"


def _instance(
    instance: Any, issuer: dict[str, Any] | None, schemes: dict[str, str]
) -> tuple[dict[str, Any], str | None]:
    """The result fields of a learningOpportunityInstance, and its identifier (the local one,
    else the first, as "type:value"). (Branches in the order of how often the elements occur:
    this runs once per record.)"""
    start = end = status = local_scheme = external_scheme = grade = distribution = None
    identifier, local = None, False
    term_start = term_end = credit = None
    levels: list[tuple[str, str | None, str | None]] = []
    for child in instance:
        field = LOI_FIELDS.get(child.tag)
        if field is None:
            continue
        if field == "date":
            end = _date(child.text)
        elif field == "status":
            status = _token(child.text)
        elif field == "resultLabel":
            grade = _token(child.text)
        elif field == "credit":
            scheme = value = None
            for part in child:
                if part.tag in SCHEME:
                    scheme = _token(part.text)
                elif part.tag in VALUE:
                    value = _token(part.text)
            if scheme and value is not None:
                scheme = scheme.upper()
                # The ECTS credit when there is one, else the first.
                if credit is None or (scheme == "ECTS" and credit[0] != "ECTS"):
                    credit = (scheme, value)
        elif field == "gradingSchemeLocalId":
            local_scheme = _token(child.text)
        elif field == "start":
            start = _date(child.text)
        elif field == "level":
            kind = value = description = None
            for part in child:
                if part.tag in TYPE:
                    kind = _token(part.text)
                elif part.tag in VALUE:
                    value = _token(part.text)
                elif part.tag in DESCRIPTION:
                    description = _token(part.text)
            if kind:
                levels.append((kind, value, description))
        elif field == "academicTerm":
            for part in child:
                if part.tag in START:
                    term_start = _date(part.text)
                elif part.tag in END:
                    term_end = _date(part.text)
        elif field == "resultDistribution":
            distribution = _distribution(child)
        elif field == "gradingSchemeExternalId":
            external_scheme = _token(child.text)
        elif field == "identifier":
            value = _token(child.text)
            if value and not local:
                scheme = _token(child.get("type"))
                if scheme == "local":
                    identifier, local = value, True
                elif identifier is None:
                    identifier = f"{scheme}:{value}"
    eqf, level = _levels(levels, issuer) if levels else (None, None)
    scheme = local_scheme or external_scheme
    return {
        "credits": credit[1] if credit else None,
        "credit_system": credit[0] if credit else None,
        "grade": grade,
        "grading_scheme": schemes.get(scheme, scheme) if scheme is not None else None,
        "grade_distribution": distribution,
        "eqf_level": eqf,
        "level": level,
        "status": STATUSES.get(status, status) if status is not None else "passed",
        "started_on": start or term_start,
        "ended_on": end or term_end,
    }, identifier


def _levels(
    levels: list[tuple[str, str | None, str | None]], issuer: dict[str, Any] | None
) -> tuple[int | str | None, str | None]:
    """(eqf_level, level) of a result's (type, value, description) levels: the EQF value, a
    number when it is one (any other text is left for validation to refuse), and the national
    level when unambiguous."""
    eqf = next((value for kind, value, _ in levels if kind.upper() == "EQF"), None)
    number = whole_number(eqf)
    return (eqf if number is None else number), _national_level(levels, issuer)


def _distribution(element: Any) -> list[dict[str, str | None]] | None:
    labels, counts = [], []
    for child in element:
        if child.tag in CATEGORY:
            labels.append(_token(child.get("label")))
            counts.append(_count(child.get("count")))
    return _shares(labels, counts)


def _result_key(
    chain: str, instance: str | None, started_on: str | None, ended_on: str | None
) -> str:
    """`PROG/COURSE@2024-01-31`: the chain, then the instance's identifier, else its dates
    (`start..end`, either may be empty), else nothing. A key longer than the column is
    replaced by a digest of it, which is as stable."""
    if instance is not None:
        key = f"{chain}@{instance}"
    elif started_on or ended_on:
        key = f"{chain}@{started_on or ''}..{ended_on or ''}"
    else:
        key = chain
    if len(key) <= LOCAL_ID_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _stated_twice(first: str) -> str:
    return (
        f"the same result as {first} (the same opportunity identifiers, the same instance "
        "identifier or dates): a file states each result once"
    )


def _unreadable(instances: list) -> Rejected:
    """An opportunity without exactly one instance (None for an empty `specifies`)."""
    return Rejected(
        "no specifies/learningOpportunityInstance: there is no result to read"
        if all(instance is None for instance in instances)
        else "more than one specifies"
    )


def _count(text: str | None) -> int | None:
    return whole_number((text or "").strip())


def _shares(labels: list[str | None], counts: list[int | None]) -> list[dict] | None:
    """Category counts as percentages of the total (two decimals, trailing zeros dropped); a
    count that is not a whole number leaves every percent None, for validation to refuse."""
    if not labels:
        return None
    if None in counts:
        return [{"grade": label, "percent": None} for label in labels]
    total = sum(counts)  # type: ignore[arg-type]
    return [
        {"grade": label, "percent": _percent(count, total) if total else "0"}
        for label, count in zip(labels, counts, strict=True)
    ]


def _percent(count: int, total: int) -> str:
    """count / total in percent, rounded half to even at two decimals, trailing zeros dropped;
    in whole numbers, because Decimal arithmetic made this a tenth of an import's time."""
    hundredths, rest = divmod(count * 10_000, total)
    if 2 * rest > total or (2 * rest == total and hundredths & 1):
        hundredths += 1
    whole, cents = divmod(hundredths, 100)
    if not cents:
        return str(whole)
    return f"{whole}.{cents // 10}" if cents % 10 == 0 else f"{whole}.{cents:02d}"


def _national_level(
    levels: list[tuple[str, str | None, str | None]], issuer: dict[str, Any] | None
) -> str | None:
    found = set()
    for kind, value, description in levels:
        if value is None or kind.upper() == "EQF":
            continue
        if NATIONAL_FRAMEWORK.match(kind):
            found.add(f"{kind}:{value}")
        elif kind.upper() == "NQF":
            framework = _framework_of(issuer.get("country") if issuer else None, description)
            found.add(f"{framework}:{value}" if framework else None)
    return found.pop() if len(found) == 1 else None


def _framework_of(country: str | None, description: str | None) -> str | None:
    """The country's national framework when the bundled reference data has exactly one and
    the level's description names nothing else."""
    candidates = _national_frameworks().get((country or "").upper(), [])
    if len(candidates) != 1:
        return None
    code, words = candidates[0]
    if description and not set(fold(description).split()) - GENERIC_WORDS <= words:
        return None
    return code


@cache
def _national_frameworks() -> dict[str, list[tuple[str, frozenset[str]]]]:
    """country -> [(framework code, the words of its code and name)], from the bundled files."""
    found: dict[str, list[tuple[str, frozenset[str]]]] = {}
    for path in sorted((DATA_DIR / "frameworks").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("country") and not data.get("meta"):
            words = frozenset(fold(f"{data['code']} {data.get('name', '')}").split())
            found.setdefault(data["country"], []).append((data["code"], words))
    return found


def _issuer(element: Any) -> dict[str, Any]:
    identifiers: dict[str, str] = {}
    titles: list[tuple[str | None, str]] = []
    country = None
    for child in element:
        field = ISSUER_FIELDS.get(child.tag)
        if field == "identifier":
            value = _token(child.text)
            if value:
                identifiers.setdefault(_token(child.get("type")) or "", value)
        elif field == "title":
            titles.append((child.get(LANG), _text(child)))
        elif field == "country":
            country = _token(child.text)
    name = _preferred(titles)
    return {
        "name": name[0] if name else None,
        "country": country,
        "identifiers": identifiers,
        "titles": {lang or "": title for lang, title in titles},
    }


def _learner(element: Any) -> dict[str, Any]:
    identifiers: dict[str, str] = {}
    given = family = birth = None
    for child in element:
        field = LEARNER_FIELDS.get(child.tag)
        if field == "identifier":
            value = _token(child.text)
            if value:
                identifiers.setdefault(_token(child.get("type")) or "", value)
        elif field == "given":
            given = _token(child.text)
        elif field == "family":
            family = _token(child.text)
        elif field == "birth":
            birth = _date(child.text)
    name = " ".join(part for part in (given, family) if part) or None
    return {"identifiers": identifiers, "name": name, "birth_date": birth}


def _preferred(texts: list[tuple[str | None, str]]) -> tuple[str, str | None] | None:
    """(text, lang): the English one if any, else the first non-empty; None when none."""
    if len(texts) == 1:
        lang, text = texts[0]
        return (text, lang) if text else None
    texts = [(lang, text) for lang, text in texts if text]
    english = next(((t, lang) for lang, t in texts if lang and lang.lower().startswith("en")), None)
    if english:
        return english
    return (texts[0][1], texts[0][0]) if texts else None


def _token(text: str | None) -> str | None:
    """xs:token: whitespace collapsed; None when empty."""
    if text is None:
        return None
    return " ".join(text.split()) or None


def _text(element: Any) -> str | None:
    return _token(element.text if len(element) == 0 else "".join(element.itertext()))


def _date(text: str | None) -> str | None:
    """The date of an xs:date or xs:dateTime (a time zone dropped); other text as given, for
    validation to refuse."""
    text = _token(text)
    if text and len(text) > 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    return text
