"""ELMO transcripts: the reader on the official examples and on bad input, the record checks
(plain Python and marshmallow alike), and imports into the registry (idempotent, nothing lost,
all or nothing when asked, each institution importing only what it received)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import gzip
import io
from decimal import Decimal

import pytest
from marshmallow import ValidationError
from sqlalchemy import delete, func, select, text

import importers.transcripts
from importers import elmo
from importers.runner import FileError, Rejected, messages
from importers.transcripts import import_transcripts
from registry.catalogue.models import Transcript, TranscriptResult
from registry.catalogue.transcripts import (
    PACKED_FIELDS,
    RESULT_FIELDS,
    RecordChecker,
    TranscriptResultRecordSchema,
    pack,
    source_key,
    unpack,
    upsert_results,
)
from registry.core.errors import InvalidData, PermissionDenied, Unauthenticated
from registry.core.permissions import OPERATOR, Actor
from registry.institutions.models import Institution, InstitutionIdentifier

ELMO = elmo.ELMO
ELMO_V2 = elmo.ELMO_V2
EWP = elmo.EWP_TORS


def document(*reports: str, learner: str | None = None, root: str | None = None) -> bytes:
    learner = learner or (
        '<learner><identifier type="esi">urn:schac:personalUniqueCode:int:'
        "esi:example.org:1</identifier><givenNames>Ada</givenNames>"
        "<familyName>Byron</familyName><dateOfBirth>2000-01-02</dateOfBirth>"
        "</learner>"
    )
    body = f"<generatedDate>2024-07-01T12:00:00Z</generatedDate>{learner}{''.join(reports)}"
    return (root or f'<elmo xmlns="{ELMO}">{{}}</elmo>').format(body).encode()


def report(*opportunities: str, issuer: str | None = None, tail: str = "") -> str:
    issuer = issuer or (
        '<issuer><country>PL</country><identifier type="erasmus">PL WARSZAW01'
        '</identifier><identifier type="schac">uw.edu.pl</identifier>'
        '<title xml:lang="en">University of Warsaw</title>'
        "<url>https://uw.edu.pl</url></issuer>"
    )
    return (
        f"<report>{issuer}{''.join(opportunities)}<issueDate>2024-07-01T10:00:00+02:00"
        f"</issueDate>{tail}</report>"
    )


def course(
    local: str, *, title: str = "Course", instance: str = "", parts: str = "", before: str = ""
) -> str:
    return (
        f'<learningOpportunitySpecification><identifier type="local">{local}</identifier>'
        f'<title xml:lang="en">{title}</title><type>Course</type>{before}<specifies>'
        f"<learningOpportunityInstance><status>passed</status>{instance}"
        f"</learningOpportunityInstance></specifies>{parts}</learningOpportunitySpecification>"
    )


def read(data: bytes):
    return list(elmo.read(io.BytesIO(data)))


def results(data: bytes) -> dict[str, dict]:
    return {record["result"]["local_id"]: record["result"] for _, record in read(data)}


def adds_up(report) -> bool:
    return report.read == report.inserted + report.updated + report.unchanged + report.rejected


# --- the official examples -------------------------------------------------------------------


def test_every_learning_opportunity_of_the_elmo_example(shared):
    items = list(elmo.read(shared / "formats" / "emrex-elmo" / "example.xml"))
    assert all(isinstance(record, dict) for _, record in items)
    by_id = {record["result"]["local_id"]: (position, record) for position, record in items}
    # Each result is keyed by where it stands: the opportunity identifiers from the report down,
    # then its instance's identifier or dates.
    programme, course = "MNM2-BIO@2009-01-15..2009-06-15", "1000-217bMRJ@2014-10-01..2015-03-17"
    assert list(by_id) == [
        "MNM2-BIO/EKSTERN@2010-01-15..2010-07-02",
        programme,
        "1000-217bMRJ/2829051",
        "1000-217bMRJ/2829515",
        course,
        "#3",
    ]
    assert [record["result"]["parent_local_id"] for _, record in items] == [
        programme, None, course, course, None, None
    ]
    transcript = items[0][1]["transcript"]
    assert all(record["transcript"] is transcript for _, record in items)  # one per report
    assert transcript == {
        "format": "elmo",
        "document_id": None,
        "issued_on": "2015-10-31",
        "issuer": {
            "name": "University of Warsaw",
            "country": "PL",
            "identifiers": {"pic": "999572294", "erasmus": "PL WARSZAW01", "schac": "uw.edu.pl"},
            "titles": {"pl": "Uniwersytet Warszawski", "en": "University of Warsaw"},
        },
        "learner": {
            "identifiers": {
                "nationalIdentifier": "83041200000",
                "someOtherCustomIdentifierType": "ABC000000",
            },
            "name": "Wojciech Łukasz Rygielski",
            "birth_date": "1983-04-12",
        },
    }
    position, programme = by_id[programme]
    assert position == "line 45 (elmo/report[1]/learningOpportunitySpecification[1])"
    assert programme["result"] == {
        "local_id": "MNM2-BIO@2009-01-15..2009-06-15",
        "parent_local_id": None,
        "kind": "Degree Programme",
        "code": "MNM2-BIO",
        "title": "Master of Science in Biology",
        "language": "en",
        "credits": "120",
        "credit_system": "ECTS",
        "grade": None,
        "grading_scheme": None,
        "grade_distribution": None,
        "eqf_level": None,
        "level": None,
        "isced_f": "0511",
        "status": "passed",
        "started_on": "2009-01-15",
        "ended_on": "2009-06-15",
    }
    position, part = by_id["MNM2-BIO/EKSTERN@2010-01-15..2010-07-02"]
    assert position == (
        "line 145 (elmo/report[1]/learningOpportunitySpecification[1]/hasPart[1]"
        "/learningOpportunitySpecification)"
    )
    assert (
        part["result"]["parent_local_id"],
        part["result"]["grade"],
        part["result"]["credits"],
        part["result"]["started_on"],
        part["result"]["ended_on"],
    ) == (programme["result"]["local_id"], "Innpasset", "15", "2010-01-15", "2010-07-02")
    compiler = by_id[course][1]["result"]
    assert (compiler["credits"], compiler["credit_system"]) == ("6", "ECTS")  # "ects" spelt out
    assert (compiler["grade"], compiler["eqf_level"], compiler["isced_f"]) == ("45.1", 5, "0612")
    assert compiler["grading_scheme"] == (
        "A number of the scale from 0.0 to 100.0 (one digit of precision)"
    )
    assert compiler["grade_distribution"] == [
        {"grade": "Less than 20", "percent": "9.03"},
        {"grade": "20-39.9", "percent": "40.55"},
        {"grade": "40-59.9", "percent": "41.6"},
        {"grade": "60-79.9", "percent": "7.35"},
        {"grade": "80-100", "percent": "1.47"},
    ]
    # Its NQF level is described as Norwegian while the issuer is Polish: ambiguous.
    assert compiler["level"] is None
    pass_fail = by_id["1000-217bMRJ/2829515"][1]["result"]
    assert pass_fail["grading_scheme"] == "Pass/Fail (non-graded pass)"
    untitled = by_id["#3"][1]["result"]
    assert untitled["title"] == "The importance of <br> in HTML" and untitled["language"] is None
    assert untitled["grading_scheme"] == "American grading scale"
    assert [share["percent"] for share in untitled["grade_distribution"]] == [
        "0.81",
        "24.73",
        "26.34",
        "36.29",
        "9.95",
        "1.88",
    ]


def test_every_record_of_the_example_passes_the_checks(shared):
    checker, schema = RecordChecker(), TranscriptResultRecordSchema()
    for _, record in elmo.read(shared / "formats" / "emrex-elmo" / "example.xml"):
        assert checker.load(record) == schema.load(record)
    packed_checker = RecordChecker()
    for _, record in elmo.read(shared / "formats" / "emrex-elmo" / "example.xml", packed=True):
        assert packed_checker.load(record) == pack(schema.load(unpack(record)))


def test_the_ewp_get_response_example(shared):
    path = shared / "formats" / "ewp-imobility-tors" / "endpoints" / "get-response-example.xml"
    [(position, record)] = list(elmo.read(path))
    assert position == (
        "line 32 (imobility-tors-get-response/tor[1]/elmo[1]/report[1]/"
        "learningOpportunitySpecification[1])"
    )
    assert record["transcript"]["document_id"] == "b1ab0888-a5ce-45e8-8c51-e3c6f677b58f"
    assert record["transcript"]["learner"]["name"] == "Jan Łukasz Kowalski"
    assert record["result"]["local_id"] == "ewp-los-id:CR/19560ed8-5183-4842-9bb0-2b7e23f56522"
    assert (
        record["result"]["code"],
        record["result"]["isced_f"],
        record["result"]["grade"],
        record["result"]["status"],
    ) == (None, "0612", "C", "passed")
    assert RecordChecker().load(record) == TranscriptResultRecordSchema().load(record)


def tors(*elmos: bytes) -> bytes:
    """A get-response of the EWP XSD (endpoints/get-response.xsd): tor = omobility-id, elmo."""
    body = "".join(
        f"<tor><omobility-id>mobility-{n}</omobility-id>{doc.decode()}</tor>"
        for n, doc in enumerate(elmos, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><imobility-tors-get-response xmlns="{EWP}">'
        f"{body}</imobility-tors-get-response>"
    ).encode()


def test_elmo_2_1_and_every_ewp_tor_version_read_alike():
    plain = document(report(course("A"), course("B", instance="<date>2024-01-31</date>")))
    # ELMO 2.1 moved to the tree/v2 namespace and renamed bday to dateOfBirth (both read).
    assert read(plain.replace(ELMO.encode(), ELMO_V2.encode())) == read(plain)
    wrapped = tors(plain[plain.index(b"<elmo") :])
    for version in ("stable-v1", "stable-v3"):
        assert read(wrapped.replace(b"stable-v2", version.encode())) == read(wrapped)
    assert len(read(wrapped)) == 2


def test_the_elmo_example_wrapped_in_tors(shared):
    example = (shared / "formats" / "emrex-elmo" / "example.xml").read_bytes()
    example = example[example.index(b"<elmo") :]
    wrong = example.replace(ELMO.encode(), b"urn:not-elmo", 1)
    items = read(tors(example, example, wrong))
    records = [record for _, record in items if isinstance(record, dict)]
    assert len(records) == 12
    assert {record["transcript"]["document_id"] for record in records} == {
        "mobility-1",
        "mobility-2",
    }
    position, rejected = items[-1]
    assert position.endswith("(imobility-tors-get-response/tor[3])")
    assert rejected == Rejected(
        f"this tor's elmo is in urn:not-elmo; supported: {elmo.ELMO_VERSIONS}"
    )


# --- choices ---------------------------------------------------------------------------------


def test_levels():
    def level(xml: str, country: str = "PL") -> tuple:
        issuer = (
            f'<issuer><country>{country}</country><identifier type="schac">x.example'
            "</identifier><title>X</title><url>https://x.example</url></issuer>"
        )
        result = results(document(report(course("C", instance=xml), issuer=issuer)))["C"]
        return result["eqf_level"], result["level"]

    nqf = "<level><type>NQF</type>{}<value>6</value></level>"
    assert level("<level><type>EQF</type><value>6</value></level>") == (6, None)
    assert level(nqf.format("")) == (None, "PL-PQF:6")
    assert level(nqf.format("<description>Polish Qualifications Framework</description>")) == (
        None,
        "PL-PQF:6",
    )
    assert level(nqf.format("<description>Norwegian NQF</description>")) == (None, None)
    assert level(nqf.format(""), country="GB") == (None, None)  # three frameworks in the UK
    assert level(nqf.format(""), country="NO") == (None, None)  # none bundled
    assert level("<level><type>IE-NFQ</type><value>8</value></level>") == (None, "IE-NFQ:8")
    assert level("<level><type>IE-NFQ</type><value>8</value></level>" + nqf.format("")) == (
        None,
        None,
    )  # two national levels
    assert level("<level><type>EQF</type><value>six</value></level>") == ("six", None)


def test_credits_status_and_identifiers():
    items = results(
        document(
            report(
                course(
                    "A",
                    instance="<credit><scheme>hours</scheme><value>30</value></credit>"
                    "<credit><scheme>ects</scheme><value>7.5</value></credit>",
                ),
                course("B", instance="<credit><scheme>us-sem</scheme><value>3</value></credit>"),
                course("C", instance="<credit><scheme>ects</scheme></credit>"),
                course("D").replace("<status>passed</status>", "<status>in-progress</status>"),
                course("E").replace("<status>passed</status>", ""),
                course("F").replace("<status>passed</status>", "<status>maybe</status>"),
                course("G").replace('type="local">G', 'type="ewp-los-id">G-1'),
                course("H").replace('<identifier type="local">H</identifier>', ""),
            )
        )
    )
    assert (items["A"]["credits"], items["A"]["credit_system"]) == ("7.5", "ECTS")
    assert (items["B"]["credits"], items["B"]["credit_system"]) == ("3", "US-SEM")
    assert (items["C"]["credits"], items["C"]["credit_system"]) == (None, None)
    assert [items[key]["status"] for key in "DEF"] == ["in_progress", "passed", "maybe"]
    assert (items["ewp-los-id:G-1"]["code"], items["#8"]["code"]) == (None, None)


def test_a_learning_opportunity_without_a_result_is_rejected_not_dropped():
    no_result = (
        '<learningOpportunitySpecification><identifier type="local">X</identifier>'
        "<title>X</title></learningOpportunitySpecification>"
    )
    items = read(document(report(course("A"), no_result)))
    assert [type(item).__name__ for _, item in items] == ["dict", "Rejected"]
    assert items[1][0] == "line 1 (elmo/report[1]/learningOpportunitySpecification[2])"
    assert "no specifies" in items[1][1].reason


def test_opportunities_out_of_place_are_rejected_and_spoil_nothing_around_them():
    stray = course("STRAY")
    issuer = (
        '<issuer><country>PL</country><title xml:lang="en">University of Warsaw</title>'
        f"{stray}</issuer>"
    )
    learner = (
        f"<learner><givenNames>Ada</givenNames>{stray}<familyName>Byron</familyName></learner>"
    )
    data = document(report(course("A"), issuer=issuer) + stray, learner=learner)
    items = read(data)
    assert read(data.replace(ELMO.encode(), ELMO_V2.encode())) == items  # ELMO 2.1 alike
    rejected = {position: item.reason for position, item in items if isinstance(item, Rejected)}
    assert rejected == {
        "line 1 (elmo/learner[1]/learningOpportunitySpecification[1])": (
            "a learningOpportunitySpecification inside learner is outside any report's tree"
        ),
        "line 1 (elmo/report[1]/issuer[1]/learningOpportunitySpecification[1])": (
            "a learningOpportunitySpecification inside issuer is outside any report's tree"
        ),
        "line 1 (elmo/learningOpportunitySpecification[1])": (
            "a learningOpportunitySpecification inside elmo is outside any report's tree"
        ),
    }
    (record,) = [item for _, item in items if isinstance(item, dict)]
    # The issuer and the learner around them are read whole.
    assert record["transcript"]["issuer"]["name"] == "University of Warsaw"
    assert record["transcript"]["learner"]["name"] == "Ada Byron"
    assert record["result"]["local_id"] == "A"


def test_attachments_are_skipped_unread():
    # 5 MB of base64, over the 1 MB text limit: dropped unread, so no error and no memory kept.
    attachment = (
        "<attachment><title>ToR</title><content>data:application/pdf;base64,"
        + "QUJD" * (5 << 18)
        + "</content></attachment>"
    )
    data = document(report(course("A"), tail=attachment))
    assert list(results(data)) == ["A"]


def test_recognition_results_are_not_read_as_results():
    recognition = (
        "<resultOfRecognition><status>Positive</status><recognitionResult>"
        + course("FOREIGN")
        + "</recognitionResult></resultOfRecognition>"
    )
    assert list(results(document(report(course("A"), recognition)))) == ["A"]


def test_a_report_too_large_for_the_reader():
    data = document(report(*(course(f"C{n}") for n in range(11))))
    with pytest.raises(FileError, match="more than 10 learning opportunities"):
        list(elmo.read(io.BytesIO(data), max_results=10))


def test_gzip_input():
    data = document(report(course("A"), course("B")))
    assert results(gzip.compress(data)) == results(data)


# --- bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "root, words",
    [
        (
            "<transcript>{}</transcript>",
            "the root element is transcript in no namespace (not an ELMO document); supported: ",
        ),
        (
            '<elmo xmlns="http://purl.org/net/elmo">{}</elmo>',
            "the root element is elmo in namespace http://purl.org/net/elmo (a pre-1.0 ELMO "
            f"draft, superseded by ELMO 1.0); supported: ELMO 1.x and 2.0 (namespace {ELMO})",
        ),
        (
            '<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v3">{}</elmo>',
            "the root element is elmo in namespace https://github.com/emrex-eu/elmo-schemas/tree/v3;"
            f" supported: ELMO 1.x and 2.0 (namespace {ELMO}) or ELMO 2.1 (namespace {ELMO_V2})",
        ),
        ("<elmo>{}</elmo>", "the root element is elmo in no namespace (not an ELMO document)"),
        (
            '<imobility-tors-get-response xmlns="urn:x">{}</imobility-tors-get-response>',
            "in namespace urn:x; supported: ",
        ),
    ],
)
def test_wrong_root_or_namespace(root, words):
    with pytest.raises(FileError) as caught:
        read(document(report(course("A")), root=root))
    name = root[1:].split(">")[0].split(" ")[0]
    assert caught.value.position == f"line 1 ({name})"
    assert words in caught.value.reason


def test_xxe_in_an_elmo_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE elmo [<!ENTITY x SYSTEM "file://{secret}">]>'
    ).encode() + document(report(course("A", title="&x;")))
    with pytest.raises(FileError) as caught:
        read(data)
    assert "entities" in caught.value.reason and "TOP-SECRET" not in str(caught.value)


def test_wrong_encoding_declaration():
    data = document(report(course("A", title="Żółć"))).replace(
        b"<elmo", b'<?xml version="1.0" encoding="UTF-16"?><elmo', 1
    )
    with pytest.raises(FileError, match="UTF-16"):
        read(data)
    with pytest.raises(FileError, match="line 1: Invalid bytes"):
        read(document(report(course("A", title="Żółć"))).replace("Ż".encode(), b"\xff"))


def test_truncated_file():
    data = document(report(course("A"), course("B")), report(course("C")))
    with pytest.raises(FileError, match="Premature end of data"):
        read(data[: data.index(b'<identifier type="local">C<')])


# --- the record checks -----------------------------------------------------------------------


def good_record() -> dict:
    return {
        "transcript": {
            "format": "elmo",
            "document_id": None,
            "issued_on": "2024-07-01",
            "issuer": {
                "name": "University of Warsaw",
                "country": "pl",
                "identifiers": {
                    "erasmus": "pl  warszaw01",
                    "schac": "UW.edu.pl",
                    "pic": "99957229",
                },
                "titles": {"en": "University of Warsaw"},
            },
            "learner": {"identifiers": {"esi": "urn:x:1"}, "name": "Ada", "birth_date": None},
        },
        "result": {
            "local_id": "C1",
            "parent_local_id": "P1",
            "kind": "Course",
            "code": "C1",
            "title": "Compilers",
            "language": "en",
            "credits": "7.50",
            "credit_system": "ECTS",
            "grade": "B",
            "grading_scheme": "A-F",
            "eqf_level": 6,
            "level": "PL-PQF:6",
            "grade_distribution": [
                {"grade": "A", "percent": "10.0"},
                {"grade": "B", "percent": "1E+1"},
            ],
            "isced_f": "0613",
            "status": "passed",
            "started_on": "2023-10-01",
            "ended_on": "2024-02-15",
        },
    }


def changed(path: str, value) -> dict:
    record = copy.deepcopy(good_record())
    *parents, last = path.split(".")
    target = record
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return record


BAD = [
    ("result.status", "done"),
    ("result.status", None),
    ("result.status", KeyError),
    ("result.title", ""),
    ("result.title", "x" * 501),
    ("result.title", None),
    ("result.title", "tab\there"),
    ("result.local_id", KeyError),
    ("result.local_id", 7),
    ("result.credits", "-1"),
    ("result.credits", "lots"),
    ("result.credits", "NaN"),
    ("result.credits", True),
    ("result.credits", "10001"),
    ("result.credit_system", None),
    ("result.credit_system", "X" * 21),
    ("result.eqf_level", 9),
    ("result.eqf_level", 0),
    ("result.eqf_level", "6"),
    ("result.eqf_level", "six"),
    ("result.level", "PQF 6"),
    ("result.isced_f", "6"),
    ("result.isced_f", "06131"),
    ("result.isced_f", "ab"),
    ("result.language", "english"),
    ("result.language", "xx"),
    ("result.started_on", "2024-13-01"),
    ("result.ended_on", "yesterday"),
    ("result.grade_distribution", []),
    ("result.grade_distribution", "A:10"),
    ("result.grade_distribution.0.percent", None),
    ("result.grade_distribution.0.percent", "101"),
    ("result.grade_distribution.1.grade", ""),
    ("result.grade_distribution.1.extra", 1),
    ("result.kind", "k" * 61),
    ("result.code", ""),
    ("result.grade", "g" * 61),
    ("result.grading_scheme", "s" * 201),
    ("result.extra", 1),
    ("result", None),
    ("result", "text"),
    ("transcript", None),
    ("transcript", KeyError),
    ("transcript.format", "ELMO"),
    ("transcript.format", None),
    ("transcript.issued_on", "2024"),
    ("transcript.document_id", ""),
    ("transcript.issuer", None),
    ("transcript.issuer", KeyError),
    ("transcript.issuer.name", None),
    ("transcript.issuer.name", KeyError),
    ("transcript.issuer.country", "XX"),
    ("transcript.issuer.country", "POL"),
    ("transcript.issuer.identifiers", {"bad key!": "x"}),
    ("transcript.issuer.identifiers", {"pic": ""}),
    ("transcript.issuer.identifiers", None),
    ("transcript.issuer.titles", {"en": None}),
    ("transcript.issuer.extra", 1),
    ("transcript.learner", "Ada"),
    ("transcript.learner.identifiers", {"esi": "x" * 301}),
    ("transcript.learner.name", "\x00"),
    ("transcript.learner.birth_date", "02/01/2000"),
    ("transcript.learner.extra", 1),
    ("transcript.extra", 1),
    ("extra", 1),
]


def rejection(load, record) -> set[str]:
    """The fields a load refuses ("result.status", ...)."""
    with pytest.raises(ValidationError) as caught:
        load(record)
    return {part.split(":")[0] for part in messages(caught.value).split("; ")}


def packed(record) -> tuple | None:
    """The record packed as a reader packs it, None when it has not the shape to be."""
    if not isinstance(record, dict) or record.keys() != {"transcript", "result"}:
        return None
    result = record["result"]
    if not isinstance(result, dict) or result.keys() != set(PACKED_FIELDS):
        return None
    return pack(record)


def warmed(record: dict) -> RecordChecker:
    """A checker that has checked a good record of `record`'s transcript object, as an import's
    has: it remembers the transcript's verdict and the verdicts of the values it has seen."""
    checker = RecordChecker()
    if isinstance(record, dict) and isinstance(record.get("transcript"), dict):
        with contextlib.suppress(ValidationError):
            checker.load({"transcript": record["transcript"], "result": good_record()["result"]})
    return checker


@pytest.mark.parametrize("path, value", BAD, ids=[f"{p}={v!r}"[:40] for p, v in BAD])
def test_both_checks_refuse_the_same_bad_record_for_the_same_field(path, value):
    record = changed(path, value)
    fast = rejection(RecordChecker().load, record)
    assert fast == rejection(TranscriptResultRecordSchema().load, record)
    assert any(field.startswith(path.split(".")[0]) for field in fast)
    assert rejection(warmed(record).load, record) == fast
    if packed(record) is not None:
        assert rejection(RecordChecker().load, packed(record)) == fast
        assert rejection(warmed(record).load, packed(record)) == fast


ODD = [
    ("result.title", "delete\x7f"),
    ("result.title", "\U0001f600" * 501),
    ("result.title", "\U0001f600" * 500),  # the longest title, in characters not bytes
    ("result.grade", "é" * 60),
    ("result.grade", "é" * 61),
    ("result.status", ["passed"]),
    ("result.eqf_level", True),
    ("result.credits", None),
    ("result.credits", 6),
    ("result.credits", Decimal("6.0")),
    ("result.started_on", dt.date(2024, 1, 1)),
    ("result.language", 7),
    ("result.grade_distribution", [{"grade": "A", "percent": 50}]),
    ("result.grade_distribution", [["A", "50"]]),
    ("result.grade_distribution", [{"grade": "A"}]),
    ("result.grade_distribution.0.grade", None),
    ("result.grade_distribution.0.grade", "\n"),
]


@pytest.mark.parametrize("path, value", ODD, ids=[f"{p}={v!r}"[:40] for p, v in ODD])
def test_both_checks_decide_odd_values_alike(path, value):
    record = changed(path, value)
    try:
        expected = TranscriptResultRecordSchema().load(record)
    except ValidationError:
        refused = rejection(TranscriptResultRecordSchema().load, record)
        assert rejection(RecordChecker().load, record) == refused
        assert rejection(warmed(record).load, record) == refused
        assert rejection(warmed(record).load, packed(record)) == refused
    else:
        assert RecordChecker().load(record) == expected
        assert warmed(record).load(record) == expected
        assert warmed(record).load(packed(record)) == pack(expected)


def test_remembered_verdicts_refuse_the_second_time_too():
    # Faults in values whose verdicts are remembered: the second record meets the verdict.
    for path, value in (
        ("result.ended_on", "yesterday"),
        ("result.credits", "lots"),
        ("result.language", "xx"),
        ("result.level", "PQF 6"),
        ("result.grade_distribution.0.percent", "101"),
    ):
        record = changed(path, value)
        refused = rejection(TranscriptResultRecordSchema().load, record)
        checker = warmed(record)
        assert rejection(checker.load, record) == rejection(checker.load, record) == refused
        checker = warmed(record)
        assert rejection(checker.load, pack(record)) == refused
        assert rejection(checker.load, pack(record)) == refused


def test_both_checks_load_a_good_record_alike():
    fast = RecordChecker().load(good_record())
    assert fast == TranscriptResultRecordSchema().load(good_record())
    assert fast["result"]["credits"] == Decimal("7.50")
    assert fast["result"]["grade_distribution"] == [
        {"grade": "A", "percent": "10.0"},
        {"grade": "B", "percent": "10"},
    ]
    assert fast["result"]["ended_on"] == dt.date(2024, 2, 15)
    issuer = fast["transcript"]["issuer"]
    assert issuer["country"] == "pl" or issuer["country"] == "PL"
    # Known schemes normalised; one that does not parse (an 8-digit PIC) kept as sent.
    assert issuer["identifiers"] == {
        "erasmus": "PL WARSZAW01",
        "schac": "uw.edu.pl",
        "pic": "99957229",
    }


def test_a_packed_record_is_loaded_as_the_record():
    record = good_record()
    assert unpack(pack(record)) == record
    expected = TranscriptResultRecordSchema().load(record)
    # Loaded packed: the validated record, packed.
    assert RecordChecker().load(pack(record)) == pack(expected)
    assert warmed(record).load(pack(record)) == pack(expected)
    # Packed is a flat tuple of the transcript and the result's fields; other tuples are not.
    assert pack(record)[1:3] == ("C1", "P1") and len(pack(record)) == 1 + len(PACKED_FIELDS)
    for other in (pack(record)[:-1], (*pack(record), None), ()):
        assert rejection(warmed(record).load, other) == {"_schema"}


def test_a_shared_transcript_is_checked_once_per_object():
    checker, record = RecordChecker(), good_record()
    first = checker.load(record)
    second = checker.load({**record, "result": {**record["result"], "local_id": "C2"}})
    assert second["transcript"] is first["transcript"]


# --- imports ---------------------------------------------------------------------------------


def run_import(session, data: bytes, actor=OPERATOR, **options):
    return import_transcripts(
        lambda: session, actor, "elmo", io.BytesIO(data), "test.xml", **options
    )


def stored(session) -> dict[str, TranscriptResult]:
    session.expire_all()
    return {row.local_id: row for row in session.scalars(select(TranscriptResult))}


def by_code(session) -> dict[str, TranscriptResult]:
    """The stored results by their opportunity's local code (each stated once here)."""
    return {row.code: row for row in stored(session).values()}


@pytest.fixture
def warsaw(session) -> int:
    institution = Institution(
        name="University of Warsaw", name_key="university of warsaw", country="PL"
    )
    session.add(institution)
    session.flush()
    session.add(
        InstitutionIdentifier(institution_id=institution.id, scheme="erasmus", value="PL WARSZAW01")
    )
    session.flush()
    return institution.id


def test_import_the_example_and_again(session, shared, warsaw):
    data = (shared / "formats" / "emrex-elmo" / "example.xml").read_bytes()
    first = run_import(session, data)
    assert (first.read, first.inserted, first.rejected, first.state) == (6, 6, 0, "completed")
    transcript = session.scalar(select(Transcript))
    assert (
        transcript.issuer_institution_id,
        transcript.issuer_name,
        transcript.issuer_country,
        transcript.issued_on,
        transcript.learner_name,
        transcript.source_format,
        transcript.import_source,
    ) == (
        warsaw,
        "University of Warsaw",
        "PL",
        dt.date(2015, 10, 31),
        "Wojciech Łukasz Rygielski",
        "elmo",
        "test.xml",
    )
    rows = by_code(session)
    assert (
        rows["1000-217bMRJ"].credits,
        rows["1000-217bMRJ"].eqf_level,
        rows["EKSTERN"].parent_local_id,
    ) == (Decimal("6"), 5, rows["MNM2-BIO"].local_id)
    again = run_import(session, data)
    assert (again.read, again.inserted, again.updated, again.unchanged) == (6, 0, 0, 6)
    assert session.scalar(select(func.count()).select_from(TranscriptResult)) == 6
    assert session.scalar(select(func.count()).select_from(Transcript)) == 1
    assert adds_up(first) and adds_up(again)


def test_numbers_in_other_scripts_are_refused_not_a_crash():
    # "²" passes str.isdigit but not int(); Arabic-Indic digits are numbers int() reads.
    superscript = course("A", instance="<level><type>EQF</type><value>²</value></level>")
    arabic = course("B", instance="<level><type>EQF</type><value>٦</value></level>")
    table = (
        '<resultDistribution><category count="²" label="A"/><category count="3" label="B"/>'
        "</resultDistribution>"
    )
    items = results(document(report(superscript, arabic, course("C", instance=table))))
    assert (items["A"]["eqf_level"], items["B"]["eqf_level"]) == ("²", 6)
    assert items["C"]["grade_distribution"] == [
        {"grade": "A", "percent": None},
        {"grade": "B", "percent": None},
    ]
    checker = RecordChecker()
    for local_id in "AC":
        record = {"transcript": read(document(report(course("X"))))[0][1]["transcript"]}
        with pytest.raises(ValidationError):
            checker.load({**record, "result": items[local_id]})


def test_credits_are_stored_as_written(session):
    # Equal numbers written differently in one batch keep their own text (6 == 6.0 as numbers).
    written = ("6", "6.0", "6.00", "7.5", "6")
    data = document(
        report(
            *(
                course(
                    f"C{n}",
                    instance=f"<credit><scheme>ects</scheme><value>{value}</value>"
                    "</credit><date>2024-06-30</date>",
                )
                for n, value in enumerate(written)
            )
        )
    )
    assert run_import(session, data).inserted == 5
    rows = by_code(session)
    assert [str(rows[f"C{n}"].credits) for n in range(5)] == list(written)
    assert {rows[f"C{n}"].ended_on for n in range(5)} == {dt.date(2024, 6, 30)}
    stored_text = session.execute(text("SELECT credits FROM transcript_result ORDER BY id"))
    assert list(stored_text.scalars()) == list(written)


def test_a_changed_result_is_updated_in_place(session):
    data = document(report(course("A", instance="<resultLabel>B</resultLabel>"), course("B")))
    run_import(session, data)
    before = stored(session)["A"].id
    report_ = run_import(session, data.replace(b"<resultLabel>B<", b"<resultLabel>A<"))
    assert (report_.updated, report_.unchanged) == (1, 1)
    after = stored(session)["A"]
    assert (after.id, after.grade) == (before, "A")


def test_validated_records_are_stored_alike_loaded_or_packed(session):
    # upsert_results takes records as loaded (the other formats) or packed (ELMO imports).
    instance = (
        "<resultLabel>B</resultLabel><credit><scheme>ects</scheme><value>5.0</value></credit>"
        "<date>2024-06-30</date>"
    )
    data = document(report(course("A", instance=instance), course("B")))
    checker = RecordChecker()
    loaded = [checker.load(record) for _, record in elmo.read(io.BytesIO(data))]
    changed = copy.deepcopy(loaded)
    changed[0]["result"]["grade"] = "A"
    found = []
    for form in (lambda record: record, pack):
        session.execute(delete(TranscriptResult))
        session.execute(delete(Transcript))
        outcomes = upsert_results(session, [form(record) for record in loaded])
        outcomes += upsert_results(session, [form(record) for record in changed])
        rows = sorted(
            tuple(getattr(row, name) for name in ("local_id", *RESULT_FIELDS))
            for row in stored(session).values()
        )
        found.append((outcomes, rows))
    assert found[0] == found[1]
    inserted, updated = (
        [("inserted", None)] * 2,
        [("updated", "changed: grade"), ("unchanged", None)],
    )
    assert found[1][0] == inserted + updated
    assert found[1][1][0][:10] == (
        "A@..2024-06-30",
        None,
        "Course",
        "A",
        "Course",
        "en",
        Decimal("5.0"),
        "ECTS",
        "A",
        None,
    )


def test_an_elmo_import_hands_its_records_packed_to_the_upsert(session, monkeypatch):
    # From the reader through the checks to upsert_results, with no dict built on the way.
    handed = []

    def upsert(session, records, **options):
        handed.extend(records)
        return upsert_results(session, records, **options)

    monkeypatch.setattr(importers.transcripts, "upsert_results", upsert)
    imported = run_import(session, document(report(course("A"), course("B"))))
    assert imported.inserted == 2
    assert [type(record) for record in handed] == [tuple, tuple]
    assert sorted(stored(session)) == ["A", "B"]


def test_half_the_records_invalid_counts_add_up(session):
    good = [
        course(f"G{n}", instance="<credit><scheme>ects</scheme><value>5</value></credit>")
        for n in range(5)
    ]
    bad = [
        course("B1", instance="<credit><scheme>ects</scheme><value>-5</value></credit>"),
        course("B2").replace("<status>passed</status>", "<status>maybe</status>"),
        course("B3", before="<iscedCode>6</iscedCode>"),
        course("B4", instance="<level><type>EQF</type><value>9</value></level>"),
        course("B5", title="x" * 600),
    ]
    mixed = [item for pair in zip(good, bad, strict=True) for item in pair]
    data = document(
        report(
            *mixed,
            '<learningOpportunitySpecification><identifier type="local">'
            "B6</identifier><title>no result</title>"
            "</learningOpportunitySpecification>",
        )
    )
    result = run_import(session, data)
    assert (result.read, result.inserted, result.rejected, result.state) == (11, 5, 6, "completed")
    assert adds_up(result) and sorted(stored(session)) == [f"G{n}" for n in range(5)]
    reasons = {error.position: error.reason for error in result.errors}
    prefix = "line 1 (elmo/report[1]/learningOpportunitySpecification"
    assert reasons[f"{prefix}[2])"].startswith("result.credits: Must be greater than or equal")
    assert reasons[f"{prefix}[4])"].startswith("result.status: Must be one of")
    assert reasons[f"{prefix}[6])"].startswith("result.isced_f:")
    assert reasons[f"{prefix}[8])"].startswith("result.eqf_level:")
    assert reasons[f"{prefix}[10])"].startswith("result.title: Length")
    assert reasons[f"{prefix}[11])"].startswith("no specifies")


def test_a_broken_file_keeps_the_reports_before_it(session):
    data = document(report(course("A")), report(course("B")))
    result = run_import(session, data[:-30])
    assert result.state == "failed" and "Premature end of data" in result.failure
    assert (result.read, result.inserted) == (1, 1) and list(stored(session)) == ["A"]


def test_atomic_import_is_all_or_nothing(session):
    data = document(report(course("A"), course("B", before="<iscedCode>x</iscedCode>")))
    result = run_import(session, data, atomic=True)
    assert result.state == "rolled_back" and (result.rejected, result.inserted) == (2, 0)
    assert adds_up(result) and stored(session) == {}
    broken = run_import(
        session, document(report(course("A")), report(course("B")))[:-30], atomic=True
    )
    assert broken.state == "rolled_back" and stored(session) == {}


def test_an_institution_imports_only_what_it_received(session, warsaw):
    other = Institution(name="Other", name_key="other", country="IE")
    session.add(other)
    session.flush()
    other_id = other.id
    actor = Actor("uw", "institution", frozenset({str(warsaw)}))
    data = document(report(course("A")))
    with pytest.raises(PermissionDenied):
        run_import(session, data, actor=actor, received_by=other_id)
    assert stored(session) == {}
    mine = run_import(session, data, actor=actor, received_by=warsaw)
    assert mine.inserted == 1
    # Naming none, an institution receives them itself: the same transcript again.
    again = run_import(session, data, actor=actor)
    assert (again.inserted, again.unchanged) == (0, 1)
    # The same document received by another institution is another transcript.
    theirs = run_import(session, data, received_by=other_id)
    assert theirs.inserted == 1
    receivers = session.scalars(select(Transcript.received_by_institution_id)).all()
    assert sorted(receivers) == sorted([warsaw, other_id])


def test_who_may_import(session):
    data = document(report(course("A")))
    with pytest.raises(Unauthenticated):
        run_import(session, data, actor=Actor("anonymous", None))
    for role in ("registrar", "ministry"):
        with pytest.raises(PermissionDenied):
            run_import(session, data, actor=Actor("x", role, frozenset({"PL"})))
    nobody = run_import(session, data, received_by=999_999)
    assert (nobody.read, nobody.rejected) == (1, 1)
    assert nobody.errors[0].reason == "received_by: no institution 999999."
    with pytest.raises(InvalidData):
        import_transcripts(lambda: session, OPERATOR, "pdf", io.BytesIO(data), "x.pdf")


def test_a_transcript_always_has_an_owner(session):
    """Issue 16: a transcript imported without a receiving institution was anyone's. An
    institution's account owns what it imports; one with several institutions names which."""
    data = document(report(course("A")))
    with pytest.raises(InvalidData) as refused:
        run_import(session, data, actor=Actor("two", "institution", frozenset({"1", "2"})))
    assert "received_by" in refused.value.errors
    assert stored(session) == {}


def test_xxe_import_fails_cleanly(session, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE elmo [<!ENTITY x SYSTEM "file://{secret}">]>'
    ).encode() + document(report(course("A", title="&x;")))
    result = run_import(session, data)
    assert result.state == "failed" and result.read == 0
    assert "TOP-SECRET" not in str(result.as_dict()) and stored(session) == {}


def test_transcripts_are_told_apart():
    checker = RecordChecker()
    base = checker.load(good_record())["transcript"]
    keys = {source_key(base, None), source_key(base, 1)}
    for path, value in (
        ("document_id", "D-1"),
        ("issued_on", "2024-07-02"),
        ("learner.identifiers", {"esi": "urn:x:2"}),
        ("issuer.identifiers", {"schac": "uj.edu.pl"}),
    ):
        record = changed(f"transcript.{path}", value)
        keys.add(source_key(RecordChecker().load(record)["transcript"], None))
    assert len(keys) == 6
    same = changed("transcript.issuer.name", "Warsaw University")  # a name is not identity
    assert source_key(RecordChecker().load(same)["transcript"], None) == source_key(base, None)


# --- a result's identity: where it stands in the document --------------------------------------


def part_of(*opportunities: str) -> str:
    return "".join(f"<hasPart>{opportunity}</hasPart>" for opportunity in opportunities)


def test_a_result_is_identified_by_where_it_stands(session):
    term = "<date>2023-01-31</date>"
    data = document(
        report(
            # A programme whose courses have a module each with the same local code.
            course(
                "PROG",
                instance=term,
                parts=part_of(
                    course("C1", parts=part_of(course("TEOR", title="Theory"))),
                    course("C2", parts=part_of(course("TEOR", title="Theory"))),
                ),
            ),
            # C1 on its own too, taken twice: in 2023 and again in 2024.
            course("C1", instance=term),
            course("C1", instance="<date>2024-01-31</date>"),
            # An instance's own identifier comes before its dates.
            course("C3", instance=f'<identifier type="local">C3-2023W</identifier>{term}'),
        )
    )
    keys = {key: result["parent_local_id"] for key, result in results(data).items()}
    assert keys == {
        "PROG/C1/TEOR": "PROG/C1",
        "PROG/C1": "PROG@..2023-01-31",
        "PROG/C2/TEOR": "PROG/C2",
        "PROG/C2": "PROG@..2023-01-31",
        "PROG@..2023-01-31": None,
        "C1@..2023-01-31": None,
        "C1@..2024-01-31": None,
        "C3@C3-2023W": None,
    }
    first = run_import(session, data)
    assert (first.inserted, first.rejected) == (8, 0) and len(stored(session)) == 8
    again = run_import(session, data)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 8)


def test_a_result_stated_twice_is_rejected_not_merged(session):
    twice = course("C1", instance="<date>2024-01-31</date><resultLabel>5</resultLabel>")
    data = document(report(twice, twice.replace("<resultLabel>5", "<resultLabel>3")))
    result = run_import(session, data)
    assert (result.read, result.inserted, result.updated, result.rejected) == (2, 1, 0, 1)
    assert [row.grade for row in stored(session).values()] == ["5"]  # the first, never updated
    (error,) = result.errors
    assert error.position.endswith("(elmo/report[1]/learningOpportunitySpecification[2])")
    assert error.reason.startswith(
        "the same result as line 1 (elmo/report[1]/learningOpportunitySpecification[1])"
    )


def test_a_key_longer_than_the_column_is_a_digest():
    deep = course("D" * 150, parts=part_of(course("E" * 150)))
    items = results(document(report(deep)))
    part = next(result for result in items.values() if result["parent_local_id"])
    assert part["local_id"].startswith("sha256:") and len(part["local_id"]) == 71
    assert part["parent_local_id"] == "D" * 150 and part["code"] == "E" * 150


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_result_stated_again_in_another_report_of_its_transcript_is_rejected(
    session, batch_size
):
    # Two reports of one issuer in one document are one transcript: the course in the second
    # is the first's result stated again, in the same batch or the next.
    twice = course("C1", instance="<date>2024-01-31</date>")
    data = document(report(twice, course("C2")), report(twice))
    result = run_import(session, data, batch_size=batch_size)
    assert (result.read, result.inserted, result.rejected) == (3, 2, 1)
    assert result.errors[0].reason.startswith("the same result (transcript and local_id)")
    again = run_import(session, data, batch_size=batch_size)
    assert (again.unchanged, again.updated, again.rejected) == (2, 0, 1)
