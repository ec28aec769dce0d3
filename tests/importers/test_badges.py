"""The Open Badges 3.0 reader on the shared micro-credential example, on badges written here for
what the example lacks, and on files it refuses. No database."""

import copy
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from importers import elm
from importers.badges import UNSTATED, badge_records
from importers.runner import FileError, Rejected
from importers.transcripts import import_transcripts
from registry.catalogue.models import TranscriptResult
from registry.catalogue.transcripts import RecordChecker, TranscriptResultRecordSchema
from registry.core.errors import InvalidData
from registry.core.permissions import OPERATOR

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXAMPLE = SHARED / "formats" / "open-badges-3" / "ob3-microcredential-example.json"
needs_samples = pytest.mark.skipif(
    not EXAMPLE.is_file(), reason=f"the shared Open Badges example is not at {EXAMPLE}"
)

BADGE = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "id": "https://badges.example.edu/assertions/1",
    "issuer": {
        "id": "https://badges.example.edu/issuers/7",
        "type": ["Profile"],
        "name": "Example University",
        "address": {"addressCountryCode": "NL"},
    },
    "validFrom": "2024-07-01T10:00:00Z",
    "credentialSubject": {
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://badges.example.edu/achievements/42",
            "type": ["Achievement"],
            "name": "Research Data Management",
            "criteria": {"narrative": "Pass the final assignment."},
        },
    },
}


# When the tests judge validity (expired, not yet valid): a fixed moment, not the clock.
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def read(document, **options) -> list:
    options.setdefault("credit_system", None)
    options.setdefault("now", NOW)
    return list(badge_records(io.BytesIO(json.dumps(document).encode()), **options))


def badge(**achievement) -> dict:
    document = copy.deepcopy(BADGE)
    document["credentialSubject"]["achievement"].update(achievement)
    return document


@needs_samples
def test_example_with_its_credit_system():
    with EXAMPLE.open("rb") as stream:
        [(position, record)] = badge_records(stream, credit_system="ECTS", now=NOW)
    assert position == "credential 1"
    assert record["transcript"] == {
        "format": "open-badges",
        "document_id": "urn:uuid:00a0d11e-3749-4ee3-9b44-230c1774d387",
        "issued_on": "2026-01-12",
        "issuer": {
            "name": "NETIS d.o.o.",
            "country": None,
            "identifiers": {
                "eidas": "urn:epass:legalIdentifier:df1eceb0-c36a-4613-b3d7-992c9ee66f5b",
                "domain": "netis.si",
            },
        },
        "learner": {
            "name": None,
            "identifiers": {
                "id": "urn:uuid:754208fc-d60e-4977-897f-54f58ed54707",
                "emailAddress": "sha256$ba91252f3fdc7162f4b7389bc63b828c7e1f9eff8a9fd43d290551bee"
                "49b56ae",
            },
        },
    }
    assert record["result"] == {
        "local_id": "urn:uuid:5300c688-6bfc-498a-a976-230af55b5ca6",
        "parent_local_id": None,
        "kind": "MicroCredential",
        "code": "DS-101-2024",
        "title": "Data Science Fundamentals",
        "language": "en",
        "credits": "5",
        "credit_system": "ECTS",
        "grade": None,
        "grading_scheme": None,
        "grade_distribution": None,
        # Its alignments are ESCO skills: no EQF level, no ISCED field.
        "eqf_level": None,
        "level": None,
        "isced_f": None,
        "status": "passed",
        "started_on": None,
        "ended_on": "2026-01-12",
    }


@needs_samples
def test_example_record_is_valid():
    with EXAMPLE.open("rb") as stream:
        [(_, record)] = badge_records(stream, credit_system="ECTS", now=NOW)
    assert TranscriptResultRecordSchema().load(record) == RecordChecker().load(record)


@needs_samples
def test_example_states_credits_without_a_unit():
    # OB 3.0 credits are a bare number: kept, under a credit system that says no unit is known.
    with EXAMPLE.open("rb") as stream:
        [(_, record)] = badge_records(stream, credit_system=None, now=NOW)
    assert (record["result"]["credits"], record["result"]["credit_system"]) == ("5", UNSTATED)
    assert TranscriptResultRecordSchema().load(record) == RecordChecker().load(record)


def test_a_badge_without_credits_gets_none_unless_the_import_says_per_badge():
    [(_, record)] = read(BADGE)
    assert (record["result"]["credits"], record["result"]["credit_system"]) == (None, None)
    [(_, record)] = read(BADGE, credit_system="ECTS")
    assert (record["result"]["credits"], record["result"]["credit_system"]) == (None, None)
    [(_, record)] = read(BADGE, credit_system="ECTS", credits_per_badge="1.5")
    assert (record["result"]["credits"], record["result"]["credit_system"]) == ("1.5", "ECTS")


def test_stated_credits_win_over_the_per_badge_figure_and_stay_exact():
    [(_, record)] = read(badge(creditsAvailable=2.5), credit_system="ECTS", credits_per_badge="1")
    assert record["result"]["credits"] == "2.5"


def test_credits_per_badge_need_their_credit_system():
    with pytest.raises(InvalidData):
        badge_records(io.BytesIO(b"{}"), credit_system=None, credits_per_badge="1")


def test_issuer_domain_comes_from_its_url_else_its_id():
    [(_, record)] = read(BADGE)
    assert record["transcript"]["issuer"] == {
        "name": "Example University",
        "country": "NL",
        "identifiers": {"domain": "badges.example.edu"},
    }
    document = copy.deepcopy(BADGE)
    document["issuer"]["url"] = "https://www.example.edu/"
    [(_, record)] = read(document)
    assert record["transcript"]["issuer"]["identifiers"] == {"domain": "example.edu"}
    # VC 2.0: validFrom is the credential's issuance, and the award date without awardedDate.
    assert record["transcript"]["issued_on"] == "2024-07-01"
    assert record["result"]["ended_on"] == "2024-07-01"


def test_eqf_and_isced_alignments():
    europass = badge(
        alignment=[
            {
                "type": ["Alignment"],
                "targetName": "EQF level 6",
                "targetUrl": "http://data.europa.eu/snb/eqf/6",
            },
            {
                "type": ["Alignment"],
                "targetName": "Software and applications development",
                "targetUrl": "http://data.europa.eu/snb/isced-f/0613",
            },
        ]
    )
    [(_, record)] = read(europass)
    assert (record["result"]["eqf_level"], record["result"]["isced_f"]) == (6, "0613")
    edubadges = badge(
        alignment=[
            {
                "type": ["Alignment"],
                "targetName": "EQF",
                "targetType": "ext:EQF",
                "targetCode": "7",
                "targetUrl": "https://ec.europa.eu/ploteus/content/descriptors-page",
            },
            {
                "type": ["Alignment"],
                "targetName": "Health",
                "targetFramework": "ISCED-F",
                "targetCode": "0912",
                "targetUrl": "https://isced.uis.unesco.org/",
            },
            {
                "type": ["Alignment"],
                "targetName": "Not a level",
                "targetType": "ext:EQF",
                "targetCode": "9",
                "targetUrl": "https://example.org/",
            },
        ]
    )
    [(_, record)] = read(edubadges)
    assert (record["result"]["eqf_level"], record["result"]["isced_f"]) == (7, "0912")


def test_result_grade_and_status():
    document = badge(
        resultDescription=[
            {
                "id": "urn:rd:1",
                "type": ["ResultDescription"],
                "name": "Final grade",
                "resultType": "LetterGrade",
            }
        ]
    )
    document["credentialSubject"]["result"] = [
        {"type": ["Result"], "resultDescription": "urn:rd:1", "value": "B", "status": "Failed"}
    ]
    [(_, record)] = read(document)
    assert (
        record["result"]["grade"],
        record["result"]["grading_scheme"],
        record["result"]["status"],
    ) == ("B", "Final grade", "failed")


def test_a_list_of_credentials_rejects_what_is_not_a_badge():
    records = read([BADGE, {"type": ["VerifiableCredential", "EuropeanDigitalCredential"]}, 3])
    assert [position for position, _ in records] == ["credential 1", "credential 2", "credential 3"]
    assert records[0][1]["result"]["title"] == "Research Data Management"
    assert records[1][1] == Rejected(
        "a Verifiable Credential of type EuropeanDigitalCredential, not an Open Badges 3.0 "
        "achievement credential"
    )
    assert records[2][1] == Rejected("a JSON int, not a credential")


def refused(data: bytes) -> str:
    with pytest.raises(FileError) as error:
        list(badge_records(io.BytesIO(data), credit_system=None))
    return error.value.reason


def test_files_that_are_not_badges_are_refused():
    assert refused(
        json.dumps({"@context": ["https://w3id.org/openbadges/v2"], "type": "Assertion"}).encode()
    ).startswith("an Open Badges 2.0 Assertion (context https://w3id.org/openbadges/v2)")
    assert refused(b'"a string"').startswith("not an Open Badges credential: the JSON is a str")
    assert refused(b'{"type": ["OpenBadgeCredential"], ').startswith("not well-formed JSON")


def test_oversized_json_is_refused(monkeypatch):
    monkeypatch.setattr(elm, "MAX_JSON_BYTES", 512)
    assert "larger than" in refused(json.dumps([BADGE] * 5).encode())


def test_import_keeps_badges_with_and_without_unitless_credits(session):
    unitless = badge(creditsAvailable=5)
    unitless["id"] = "https://badges.example.edu/assertions/2"
    data = json.dumps([BADGE, unitless]).encode()
    report = import_transcripts(
        lambda: session, OPERATOR, "open-badges", io.BytesIO(data), "badges.json"
    )
    assert (report.state, report.inserted, report.rejected) == ("completed", 2, 0)
    rows = session.execute(
        select(TranscriptResult.credits, TranscriptResult.credit_system).order_by(
            TranscriptResult.id
        )
    )
    assert [tuple(row) for row in rows] == [(None, None), (Decimal("5"), UNSTATED)]
