"""The Europass QDR/LOQ reader: the shared sample documents (schema-valid, random strings), a small
realistic document written in the profile's structure, and what it refuses."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from marshmallow import ValidationError

from importers.qdr import qdr_records
from importers.runner import FileError, Rejected
from registry.catalogue.schemas import QualificationRecordSchema
from registry.catalogue.services import upsert_qualifications

SHARED = Path(__file__).resolve().parents[3] / "shared"
LOQ = SHARED / "formats" / "europass-qdr-loq" / "xsd"
needs_samples = pytest.mark.skipif(
    not LOQ.is_dir(), reason=f"the shared Europass QDR samples are not at {LOQ}"
)

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<Courses xmlns="http://data.europa.eu/snb/model/ap/loq-constraints/" '
    b'xmlns:skos="http://www.w3.org/2004/02/skos/core#" xsdVersion="3.1.0">'
)
EQF = "http://data.europa.eu/snb/eqf/"
ISCED = "http://data.europa.eu/snb/isced-f/"
COUNTRY = "http://publications.europa.eu/resource/authority/country/"
ECTS = "http://data.europa.eu/snb/education-credit/6fcec5c5af"
ECVET = "http://data.europa.eu/snb/education-credit/60b314e826"

# Three qualifications of an Irish register: the first awarded by an organisation registered in
# Ireland, the second reached only through a learning opportunity whose provider's address is in
# Ireland, the third with a learning outcome summary and no credits. Learning outcomes and
# organisations come after the qualifications, as the XSD orders them.
REGISTER = (
    HEAD
    + f"""
  <learningOpportunityReferences>
    <learningOpportunity id="http://example.ie/lo/1">
      <title language="en">Higher Certificate in Computing, part-time</title>
      <providedBy idref="http://example.ie/org/2"/>
      <learningAchievementSpecification idref="http://example.ie/q/2"/>
    </learningOpportunity>
  </learningOpportunityReferences>
  <learningAchievementSpecificationReferences>
    <qualification id="http://example.ie/q/1">
      <identifier><skos:notation>IE-NFQ-8-0613-01</skos:notation></identifier>
      <title language="en">Bachelor of Science (Honours) in Computing</title>
      <title language="ga">Baitsiléir Eolaíochta (Onóracha) sa Ríomhaireacht</title>
      <ISCEDFCode uri="{ISCED}0613"/>
      <volumeOfLearning>P4Y</volumeOfLearning>
      <creditPoint><framework uri="{ECVET}"/><point>120</point></creditPoint>
      <creditPoint><framework uri="{ECTS}"/><point>240</point></creditPoint>
      <language uri="http://publications.europa.eu/resource/authority/language/ENG"/>
      <learningOutcome idref="http://example.ie/outcome/1"/>
      <learningOutcome idref="http://example.ie/outcome/2"/>
      <awardingOpportunity>
        <awardingBody idref="http://example.ie/org/1"/>
      </awardingOpportunity>
      <isPartialQualification>false</isPartialQualification>
      <EQFLevel uri="{EQF}6"/>
      <NQFLevel uri="http://data.europa.eu/snb/qdr/c_a1b2c3d4"/>
    </qualification>
    <qualification id="http://example.ie/q/2">
      <title language="en">Higher Certificate in Computing</title>
      <ISCEDFCode uri="{ISCED}061"/>
      <creditPoint><framework uri="{ECTS}"/><point>7.5</point></creditPoint>
      <language uri="http://publications.europa.eu/resource/authority/language/ENG"/>
      <EQFLevel uri="{EQF}5"/>
    </qualification>
    <qualification id="http://example.ie/q/3">
      <identifier><skos:notation>IE-NFQ-5-0413</skos:notation></identifier>
      <title language="en">Certificate in Business</title>
      <learningOutcomeSummary><noteLiteral language="en">Apply basic business
        principles.</noteLiteral></learningOutcomeSummary>
      <ISCEDFCode uri="{ISCED}0413"/>
      <language uri="http://publications.europa.eu/resource/authority/language/ENG"/>
      <awardingOpportunity><awardingBody idref="http://example.ie/org/1"/></awardingOpportunity>
      <EQFLevel uri="{EQF}4"/>
    </qualification>
  </learningAchievementSpecificationReferences>
  <learningOutcomeReferences>
    <learningOutcome id="http://example.ie/outcome/1">
      <title language="ga">Bogearraí a dhearadh</title>
      <title language="en">Design software systems</title>
    </learningOutcome>
    <learningOutcome id="http://example.ie/outcome/2">
      <title language="en">Work in a development team</title>
    </learningOutcome>
  </learningOutcomeReferences>
  <agentReferences>
    <organisation id="http://example.ie/org/1">
      <legalName language="en">Example University</legalName>
      <registration><skos:notation>123456</skos:notation>
        <spatial uri="{COUNTRY}IRL"/></registration>
    </organisation>
    <organisation id="http://example.ie/org/2">
      <legalName language="en">Example Institute of Technology</legalName>
      <contactPoint><address><countryCode uri="{COUNTRY}IRL"/></address></contactPoint>
    </organisation>
  </agentReferences>
</Courses>""".encode()
)


def read(data: bytes) -> list:
    return list(qdr_records(io.BytesIO(data)))


def test_qualifications_of_a_register_with_their_references_resolved():
    records = dict(read(REGISTER))
    assert list(records) == [f"qualification http://example.ie/q/{n}" for n in (1, 2, 3)]
    assert records["qualification http://example.ie/q/1"] == {
        "institution_id": None,
        "country": "IE",
        "code": "IE-NFQ-8-0613-01",
        "identifiers": {"qdr": "http://example.ie/q/1"},
        "title": "Bachelor of Science (Honours) in Computing",
        "language": "en",
        "other_titles": [
            {"value": "Baitsiléir Eolaíochta (Onóracha) sa Ríomhaireacht", "lang": "ga"}
        ],
        # The NQF level URI has no registry framework code: only the EQF level is stated.
        "level": "EQF:6",
        "isced_f": "0613",
        "credits": "240",
        "credit_system": "ECTS",
        "learning_outcomes": ["Design software systems", "Work in a development team"],
    }
    second = records["qualification http://example.ie/q/2"]
    # No identifier: the code is its URI; no awarding body: its country is its provider's.
    assert (second["code"], second["country"], second["credits"], second["level"]) == (
        "http://example.ie/q/2",
        "IE",
        "7.5",
        "EQF:5",
    )
    assert second["learning_outcomes"] == []
    third = records["qualification http://example.ie/q/3"]
    assert third["learning_outcomes"] == ["Apply basic business principles."]
    assert (third["credits"], third["credit_system"]) == (None, None)


def test_register_records_are_valid_and_a_reimport_changes_nothing(session):
    schema = QualificationRecordSchema()
    loaded = [schema.load(raw) for _, raw in read(REGISTER)]
    assert loaded[1]["credits"] == Decimal("7.5")
    assert [o.outcome for o in upsert_qualifications(session, loaded)] == ["inserted"] * 3
    again = [schema.load(raw) for _, raw in read(REGISTER)]
    assert [o.outcome for o in upsert_qualifications(session, again)] == ["unchanged"] * 3


@needs_samples
def test_shared_sample_values_as_the_file_states_them():
    records = dict(read((LOQ / "loq" / "loq.xml").read_bytes()))
    assert list(records) == ["qualification http://Q-01", "qualification http://Q-02"]
    first = records["qualification http://Q-01"]
    assert first == {
        # ORG-01 awards it; its registration's jurisdiction is .../country/UZB.
        "institution_id": None,
        "country": "UZ",
        "code": "wuxkpTmuXmnDwhNntmaBCJnN",
        "identifiers": {"qdr": "http://Q-01"},
        "title": "r6Z7KzQdvNjTBUzF1z",
        "language": "en",
        "other_titles": [{"value": "zUL49ME", "lang": "nl"}],
        "level": "EQF:2",
        "isced_f": "1022",
        "credits": "S91ZbAwnQrf",
        "credit_system": "ECTS",
        "learning_outcomes": ["xDJUMG", "LBU7"],
    }
    assert (
        records["qualification http://Q-02"]["level"],
        records["qualification http://Q-02"]["isced_f"],
    ) == ("EQF:3", "0099")
    # The sample's credit points are random strings: the record schema refuses them.
    with pytest.raises(ValidationError) as error:
        QualificationRecordSchema().load(first)
    assert error.value.messages == {"credits": ["Not a valid number."]}


@needs_samples
def test_learning_achievement_specifications_are_rejected_with_the_reason():
    records = read((LOQ / "loq" / "loq_withLearningAchievementSpecification.xml").read_bytes())
    assert [position for position, _ in records] == [
        "specification http://LAchievementS-01",
        "specification http://LAchievementS-02",
    ]
    assert all(
        isinstance(record, Rejected) and "not a qualification" in record.reason
        for _, record in records
    )


@needs_samples
def test_other_profiles_are_refused_by_their_root():
    with pytest.raises(FileError) as error:
        read((LOQ / "ams" / "ams.xml").read_bytes())
    assert error.value.reason == (
        "not a Europass QDR/LOQ document: the root element is "
        "{http://data.europa.eu/snb/model/ap/ams-constraints/}Accreditations, not "
        "{http://data.europa.eu/snb/model/ap/loq-constraints/}Courses"
    )


def test_malformed_xml_is_refused_where_it_breaks():
    with pytest.raises(FileError) as error:
        read(HEAD + b"\n<learningAchievementSpecificationReferences><qualification id='q'>")
    assert error.value.position == "line 3"


def test_a_large_register_streams_through():
    outcomes = b"".join(
        b'<learningOutcome id="o%d"><title language="en">Outcome %d</title></learningOutcome>'
        % (n, n)
        for n in range(5_000)
    )
    qualifications = b"".join(
        b'<qualification id="q%d"><identifier><skos:notation>Q%d</skos:notation></identifier>'
        b'<title language="en">Qualification %d</title><ISCEDFCode uri="%s0613"/>'
        b'<learningOutcome idref="o%d"/><EQFLevel uri="%s6"/></qualification>'
        % (n, n, n, ISCED.encode(), n, EQF.encode())
        for n in range(5_000)
    )
    locations = b"".join(
        b'<location id="l%d"><address><countryCode uri="%sIRL"/></address></location>'
        % (n, COUNTRY.encode())
        for n in range(50_000)
    )
    records = read(
        HEAD
        + b"<learningAchievementSpecificationReferences>"
        + qualifications
        + b"</learningAchievementSpecificationReferences><learningOutcomeReferences>"
        + outcomes
        + b"</learningOutcomeReferences><locationReferences>"
        + locations
        + b"</locationReferences></Courses>"
    )
    assert len(records) == 5_000
    assert records[-1] == (
        "qualification q4999",
        {
            "institution_id": None,
            "country": None,
            "code": "Q4999",
            "identifiers": {"qdr": "q4999"},
            "title": "Qualification 4999",
            "language": "en",
            "other_titles": [],
            "level": "EQF:6",
            "isced_f": "0613",
            "credits": None,
            "credit_system": None,
            "learning_outcomes": ["Outcome 4999"],
        },
    )


def test_a_stream_that_cannot_be_read_twice_is_refused():
    class Pipe(io.BytesIO):
        def seekable(self):
            return False

    with pytest.raises(FileError) as error:
        list(qdr_records(Pipe(REGISTER)))
    assert "reads the file twice" in error.value.reason
