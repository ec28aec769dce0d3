"""The Europass credential reader on the real ELM v2 XML and v3 JSON-LD samples, and on files it
must refuse. No database."""

import gzip
import io
import json
from pathlib import Path

import pytest

from importers import elm
from importers.elm import elm_records
from importers.runner import FileError, Rejected
from importers.transcripts import import_transcripts
from registry.catalogue.transcripts import RecordChecker, TranscriptResultRecordSchema
from registry.core.permissions import OPERATOR

SHARED = Path(__file__).resolve().parents[3] / "shared"
ELM = SHARED / "formats" / "europass-elm-edc"
needs_samples = pytest.mark.skipif(
    not ELM.is_dir(), reason=f"the shared Europass samples are not at {ELM}"
)


def read(path: Path) -> list:
    with path.open("rb") as stream:
        return list(elm_records(stream))


def results(path: Path) -> dict:
    return {record["result"]["local_id"]: record["result"] for _, record in read(path)}


def refused(data: bytes) -> str:
    with pytest.raises(FileError) as error:
        list(elm_records(io.BytesIO(data)))
    return error.value.reason


@needs_samples
@pytest.mark.parametrize(
    "name",
    [
        "elm-v2-xml/EDC_SampleDegree_AA.xml",
        "elm-v2-xml/EDC_SampleACT_AA.xml",
        "elm-v3-jsonld/Sample-MC-Annex1-unsigned.jsonld",
        "elm-v3-jsonld/Sample-MC-Annex1-signed.jsonld",
        "elm-v3-jsonld/Sample-CertOfPart-unsigned.jsonld",
        "elm-v3-jsonld/Sample-CertOfPart-unsigned-uploadable.json",
        "mynextid/edc-degree-certificate-example.json",
        "rdf/credential-sample.jsonld",
    ],
)
def test_every_sample_record_is_valid(name):
    records = read(ELM / name)
    assert records
    for _, record in records:
        assert TranscriptResultRecordSchema().load(record) == RecordChecker().load(record)


# --- ELM v2 XML ---------------------------------------------------------------------------------


@needs_samples
def test_v2_degree_gives_the_programme_and_its_courses_with_the_awarding_faculty():
    records = read(ELM / "elm-v2-xml" / "EDC_SampleDegree_AA.xml")
    assert [position for position, _ in records] == [
        f"achievement urn:epass:learningAchievement:{n}" for n in (6, 1, 2, 3, 4, 5)
    ]
    transcript = records[0][1]["transcript"]
    # The same context on every record: they form one transcript.
    assert all(record["transcript"] == transcript for _, record in records)
    assert transcript == {
        "format": "elm",
        "document_id": "urn:credential:ab962d58-9ffd-4197-be23-f9448df9c953",
        "issued_on": "2022-02-02",
        # awardingProcess:6 names org:2, the faculty; the credential's issuer is org:1.
        "issuer": {
            "name": "Faculty of Civil Engineering, Architecture and Geodesy",
            "country": "HR",
            "identifiers": {"legal": "HR-12345098765", "vat": "29845096215"},
            "titles": {"en": "Faculty of Civil Engineering, Architecture and Geodesy"},
        },
        "learner": {
            "name": "Ana Andromeda",
            "birth_date": "1992-10-02",
            "identifiers": {
                "Student-Card": "12345678",
                "EU-Health-Card": "18118654",
                "national": "12345LA",
            },
        },
    }
    master = records[0][1]["result"]
    assert master == {
        "local_id": "urn:epass:learningAchievement:6",
        "parent_local_id": None,
        "kind": "Educational programme",
        "code": "AchSpecID-72",
        "title": "Master of Science in Civil Engineering",
        "language": "en",
        "credits": "120",
        "credit_system": "ECTS",
        "grade": "excellent (5)",
        "grading_scheme": "General grading scheme in Croatia",
        "grade_distribution": None,
        "eqf_level": 5,
        "level": None,
        "isced_f": "071",
        "status": "passed",
        "started_on": None,
        "ended_on": "2019-09-20",
    }


@needs_samples
def test_v2_degree_courses_keep_their_parent_credits_and_grades():
    courses = results(ELM / "elm-v2-xml" / "EDC_SampleDegree_AA.xml")
    del courses["urn:epass:learningAchievement:6"]
    assert {course["parent_local_id"] for course in courses.values()} == {
        "urn:epass:learningAchievement:6"
    }
    assert {(c["code"], c["title"], c["credits"], c["grade"]) for c in courses.values()} == {
        ("GAB701", "Applied mathematics", "5", "very good (4)"),
        ("GAE701", "Concrete structures I", "5", "very good (4)"),
        ("GAO701", "Dynamics of structures and earthquake engineering", "4", "excellent (5)"),
        ("GAG703", "Geotechnical engineering", "5", "80%"),
        ("GAO702", "Stability of structures", "5", "excellent (5)"),
    }
    # hasCreditPoints (10) states no credit system: only the ECTS figure is taken.
    assert {(c["credit_system"], c["kind"], c["eqf_level"]) for c in courses.values()} == {
        ("ECTS", "Course", 5)
    }


@needs_samples
def test_v2_activities_behind_an_achievement_are_not_results_of_their_own():
    kinds = {
        position.split()[0] for position, _ in read(ELM / "elm-v2-xml" / "EDC_SampleDegree_AA.xml")
    }
    assert kinds == {"achievement"}


@needs_samples
def test_v2_certificate_of_participation_gives_its_activity():
    [(position, record)] = read(ELM / "elm-v2-xml" / "EDC_SampleACT_AA.xml")
    assert position == "activity urn:epass:activity:1"
    assert record["transcript"]["issuer"] == {
        "name": "Spanish Training Provider",
        "country": "ES",
        "identifiers": {"legal": "ES-5166142G", "vat": "5166142G", "domain": "stp.es"},
        "titles": {"en": "Spanish Training Provider"},
    }
    activity = record["result"]
    assert (activity["title"], activity["kind"], activity["status"]) == (
        "InfoDay 2021",
        "workshop, seminar or conference",
        "unknown",
    )
    assert (activity["started_on"], activity["ended_on"]) == ("2021-12-21", "2021-12-22")
    assert activity["credits"] is None and activity["eqf_level"] is None


@needs_samples
def test_v2_credential_without_results_is_one_rejected_record():
    assert read(ELM / "elm-v2-xml" / "EDC_WileECoyote_Simple.xml") == [
        (
            "credential urn:credential:a302d79e-34ac-4f68-b0c0-4042a93dfd5c",
            Rejected("the credential states no learning achievement or activity"),
        )
    ]


# --- ELM v3 JSON-LD -----------------------------------------------------------------------------


@needs_samples
def test_v3_micro_credential():
    [(position, record)] = read(ELM / "elm-v3-jsonld" / "Sample-MC-Annex1-unsigned.jsonld")
    assert position == "achievement urn:epass:learningAchievement:1"
    assert record["transcript"] == {
        "format": "elm",
        "document_id": "urn:credential:3ef0ac26-9a1f-41c6-871b-2b82e670907b",
        "issued_on": None,  # the unsigned sample states only validFrom
        "issuer": {
            "name": "University of Zed",
            "country": "IE",
            "identifiers": {"legal": "0000", "vat": "654321", "domain": "uniz.edu"},
            "titles": {"en": "University of Zed"},
        },
        # A timestamp, as EDC writes dates of birth: its date as written.
        "learner": {
            "name": "Ana Andromeda",
            "birth_date": "1999-10-01",
            "identifiers": {"national": "LA-234218"},
        },
    }
    assert record["result"] == {
        "local_id": "urn:epass:learningAchievement:1",
        "parent_local_id": None,
        "kind": "Short learning programme",
        "code": None,
        "title": "Digital micro-credential creation",
        "language": "en",
        "credits": "2",
        "credit_system": "ECTS",
        "grade": "Pass",
        "grading_scheme": "Standard grading",
        "grade_distribution": None,
        # thematicArea lists 003 then 0688: the first is taken.
        "eqf_level": 6,
        "level": None,
        "isced_f": "003",
        "status": "passed",
        "started_on": None,
        "ended_on": None,
    }


@needs_samples
def test_v3_signed_form_reads_its_payload():
    [(_, record)] = read(ELM / "elm-v3-jsonld" / "Sample-MC-Annex1-signed.jsonld")
    assert record["transcript"]["document_id"] == (
        "urn:credential:1018d05f-21d5-4555-b7f0-8fabfd22ca75"
    )
    assert record["transcript"]["issued_on"] == "2023-09-27"
    assert (
        record["result"]["title"],
        record["result"]["eqf_level"],
        record["result"]["credits"],
    ) == ("Digital micro-credential creation", 6, "2")


@needs_samples
def test_v3_certificate_of_participation_plain_and_upload_forms_agree():
    plain = read(ELM / "elm-v3-jsonld" / "Sample-CertOfPart-unsigned.jsonld")
    assert read(ELM / "elm-v3-jsonld" / "Sample-CertOfPart-unsigned-uploadable.json") == plain
    [(position, record)] = plain
    assert position == "activity urn:epass:activity:1"
    assert record["transcript"]["issuer"]["name"] == (
        "European Digital Credentials for Learning Support Team"
    )
    assert record["transcript"]["issuer"]["identifiers"]["domain"] == "europa.eu"
    assert record["transcript"]["learner"]["identifiers"] == {
        "Student-ID": "97168A",
        "national": "LA-234218",
    }
    activity = record["result"]
    assert (activity["title"], activity["kind"], activity["status"]) == (
        "EDC Updates Webinar",
        "workshop, seminar or conference",
        "unknown",
    )
    assert (activity["started_on"], activity["ended_on"]) == ("2023-06-28", "2023-06-28")


@needs_samples
def test_v3_issuer_is_the_awarding_body_not_the_issuing_service():
    [(_, record)] = read(ELM / "mynextid" / "edc-degree-certificate-example.json")
    # Issued by Velocert OÜ on behalf of NETIS, which awarded the activity.
    assert record["transcript"]["issuer"] == {
        "name": "NETIS d.o.o.",
        "country": "SI",
        "identifiers": {"legal": "1532332000", "domain": "netis.si"},
        "titles": {"de": "NETIS d.o.o.", "en": "NETIS d.o.o."},
    }
    assert record["transcript"]["issued_on"] == "2026-01-12"
    assert record["result"]["title"] == "Title of Activity"


@needs_samples
def test_v3_rdf_sample():
    [(_, record)] = read(ELM / "rdf" / "credential-sample.jsonld")
    assert record["transcript"]["issuer"]["name"] == "some legal name of the organistion"
    assert record["transcript"]["learner"]["name"] == "Max Power"
    assert (record["result"]["title"], record["result"]["status"]) == (
        "some kind of learning achievement",
        "passed",
    )


def v3(claims, **extra) -> bytes:
    return json.dumps(
        {
            "@context": [
                "https://www.w3.org/2018/credentials/v1",
                "http://data.europa.eu/snb/model/context/edc-ap",
            ],
            "id": "urn:credential:1",
            "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
            "issuer": {"id": "urn:org:1", "legalName": {"en": "Issuer"}},
            "credentialSubject": {"id": "urn:person:1", "hasClaim": claims},
            **extra,
        }
    ).encode()


def test_v3_nested_parts_keep_their_parent_and_other_claims_are_rejected():
    document = v3(
        [
            {
                "id": "urn:a:1",
                "type": "LearningAchievement",
                "title": {"en": "Programme"},
                "hasPart": [
                    {
                        "id": "urn:a:2",
                        "type": "LearningAchievement",
                        "title": {"en": "Module"},
                        "specifiedBy": {
                            "creditPoint": [
                                {
                                    "framework": {
                                        "id": "http://data.europa.eu/snb/education-credit/x"
                                    },
                                    "point": "3",
                                },
                                {
                                    "framework": {
                                        "id": "http://data.europa.eu/snb/education-credit/"
                                        "60b314e826"
                                    },
                                    "point": "4",
                                },
                            ]
                        },
                    }
                ],
            },
            {"id": "urn:s:1", "type": "LearningAssessment", "title": {"en": "Exam"}},
        ]
    )
    records = list(elm_records(io.BytesIO(document)))
    assert [position for position, _ in records] == [
        "achievement urn:a:1",
        "achievement urn:a:2",
        "claim urn:s:1",
    ]
    assert records[1][1]["result"]["parent_local_id"] == "urn:a:1"
    # The credit point in an unknown system is left out; ECVET is known.
    assert (records[1][1]["result"]["credits"], records[1][1]["result"]["credit_system"]) == (
        "4",
        "ECVET",
    )
    assert records[2][1] == Rejected(
        "a LearningAssessment claim on its own is not imported; "
        "only learning achievements and activities are"
    )


def test_v3_claims_without_ids_are_named_by_their_place():
    document = v3(
        [
            {
                "type": ["LearningAchievement"],
                "title": {"en": "Programme"},
                "hasPart": [
                    {"type": "LearningActivity", "title": {"en": "Lab"}},
                    {"type": "LearningAchievement", "title": {"en": "Module"}},
                ],
            }
        ]
    )
    records = list(elm_records(io.BytesIO(document)))
    assert [(position, record["result"]["parent_local_id"]) for position, record in records] == [
        ("achievement #1", None),
        ("activity #1.1", "#1"),
        ("achievement #1.2", "#1"),
    ]


def test_v3_titles_follow_the_primary_language():
    document = v3(
        [
            {
                "id": "urn:a:1",
                "type": "LearningAchievement",
                "title": {"de": "Mathematik", "fr": "Mathématiques"},
            }
        ],
        displayParameter={
            "primaryLanguage": {
                "id": "http://publications.europa.eu/resource/authority/language/FRA"
            }
        },
    )
    [(_, record)] = elm_records(io.BytesIO(document))
    assert (record["result"]["title"], record["result"]["language"]) == ("Mathématiques", "fr")


# --- files it refuses ---------------------------------------------------------------------------


def test_other_xml_roots_are_refused_by_name():
    reason = refused(
        b'<?xml version="1.0"?>\n<elmo xmlns="https://github.com/emrex-eu/'
        b'elmo-schemas/tree/v1"><report/></elmo>'
    )
    assert reason == (
        "not a Europass ELM v2 credential: the root element is "
        "{https://github.com/emrex-eu/elmo-schemas/tree/v1}elmo; supported: europassCredential "
        "in the ELM v2 namespace http://data.europa.eu/snb, bare or inside a "
        "verifiablePresentation (http://data.europa.eu/snb/vp)"
    )


def test_other_json_ld_is_refused_naming_its_context():
    badge = json.dumps(
        {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
        }
    ).encode()
    assert refused(badge).startswith(
        "not an ELM v3 credential: @context is https://www.w3.org/ns/credentials/v2, "
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json;"
    )
    assert refused(b"[1, 2]") == (
        "not an ELM v3 credential: the JSON is a list, not a credential object"
    )


def test_malformed_files_are_refused():
    assert refused(b'{"@context": ["http://data.europa.eu/snb/model/context/edc-ap"], ').startswith(
        "not well-formed JSON:"
    )
    assert refused(b'{"a": ' + b"[" * 100_000) == "JSON nested too deeply for a credential"
    assert refused(b"%PDF-1.7").startswith("neither XML nor JSON")
    assert refused(b"").startswith("neither XML nor JSON")


def test_broken_or_unsafe_xml_is_refused_where_it_breaks():
    with pytest.raises(FileError) as error:
        list(
            elm_records(
                io.BytesIO(b"<europassCredential xmlns='http://data.europa.eu/snb'>\n<title>")
            )
        )
    assert error.value.position == "line 2"
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<europassCredential xmlns="http://data.europa.eu/snb">&lol2;</europassCredential>'
    )
    assert "entities are not accepted" in refused(laughs)


@needs_samples
def test_v2_gzipped_credential_reads_as_the_plain_one():
    path = ELM / "elm-v2-xml" / "EDC_SampleDegree_AA.xml"
    assert list(elm_records(io.BytesIO(gzip.compress(path.read_bytes())))) == read(path)


def test_oversized_json_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(elm, "MAX_JSON_BYTES", 1024)
    document = v3([{"id": "urn:a:1", "type": "LearningAchievement", "title": {"en": "x" * 2000}}])
    assert "larger than" in refused(document)
    monkeypatch.setattr(elm, "MAX_JSON_BYTES", len(document))
    assert len(list(elm_records(io.BytesIO(document)))) == 1


@needs_samples
def test_importing_a_credential_twice_stores_it_once(session):
    data = (ELM / "elm-v2-xml" / "EDC_SampleDegree_AA.xml").read_bytes()
    first = import_transcripts(lambda: session, OPERATOR, "elm", io.BytesIO(data), "degree.xml")
    assert (first.state, first.inserted, first.rejected) == ("completed", 6, 0)
    again = import_transcripts(lambda: session, OPERATOR, "elm", io.BytesIO(data), "degree.xml")
    assert (again.state, again.unchanged) == ("completed", 6)
