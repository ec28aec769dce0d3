"""An assessment whose level path rests on a secondary source says so (issue 18, item 8).

The institution is test data; the frameworks and links are the bundled reference data, where
AU-AQF -> EQF rests on a third party's summary of the 2016 AU-EU joint report.
"""

from mappings import recognition
from registry.core.permissions import OPERATOR
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many


def test_an_assessment_through_a_secondary_source_names_it(session):
    record = InstitutionRecordSchema().load(
        {
            "name": "University of Melbourne",
            "country": "AU",
            "status": "recognised",
            "status_source": "Test list of recognised institutions (test data)",
            "identifiers": [{"scheme": "domain", "value": "unimelb.edu.au"}],
        }
    )
    upsert_many(session, [record])
    credential = {
        "title": "Bachelor of Science",
        "institution": {"name": "University of Melbourne", "country": "AU"},
        "awarded_on": "2019-06-30",
        "level": "AU-AQF:7",
        "credits": {"value": "180", "system": "ECTS"},
    }
    answer = recognition.assess(session, OPERATOR, credential, "DE", "bachelor")
    assert answer["target"]["levels"][0]["level"] == "DE-DQR:6"
    assert answer["target"]["levels"][0]["confidence"] == 0.72
    assert "atmc.social" in answer["path"][0]["secondary_source"]
    level_sentence = next(text for text in answer["explanation"] if "AU-AQF:7" in text)
    assert "AU-AQF:7 -> EQF:6 rests on a secondary source, not the cited report" in level_sentence
    assert any("secondary source" in gap for gap in answer["gaps"])
