"""Recognition assessments of realistic credentials from many countries, end to end.

The institutions and registry entries below are test data written for these cases (names of
real universities, identifiers and statuses chosen for the test); the frameworks, links, credit
systems and scales are the bundled reference data.
"""

import copy
import datetime as dt

import pytest
from sqlalchemy import func, select

from mappings import recognition, rulebook
from mappings.models import Assessment
from registry.catalogue.services import upsert_qualifications
from registry.core.errors import InvalidData
from registry.core.permissions import OPERATOR, Actor
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many

INSTITUTIONS = [
    (
        "University of Glasgow",
        "GB",
        "recognised",
        [("schac", "gla.ac.uk"), ("erasmus", "UK GLASGOW01")],
    ),
    ("Trinity College Dublin", "IE", "recognised", [("domain", "tcd.ie")]),
    ("Université Paris-Saclay", "FR", "recognised", [("domain", "universite-paris-saclay.fr")]),
    ("Alma Mater Studiorum Università di Bologna", "IT", "recognised", [("domain", "unibo.it")]),
    ("Universidad de Salamanca", "ES", "recognised", [("domain", "usal.es")]),
    ("Universiteit Leiden", "NL", "recognised", [("domain", "leidenuniv.nl")]),
    ("Uniwersytet Warszawski", "PL", "recognised", [("domain", "uw.edu.pl")]),
    ("Universidade de Lisboa", "PT", "recognised", [("domain", "ulisboa.pt")]),
    ("University of Malta", "MT", "recognised", [("domain", "um.edu.mt")]),
    ("University of Auckland", "NZ", "recognised", [("domain", "auckland.ac.nz")]),
    ("Universität Wien", "AT", "unknown", [("domain", "univie.ac.at")]),
    ("Technische Universität München", "DE", "recognised", [("domain", "tum.de")]),
    ("Westbridge Open University", "GB", "not_recognised", [("domain", "westbridge-open.example")]),
    ("Universidad Europea de Madrid", "ES", "recognised", [("domain", "universidadeuropea.es")]),
    ("Universidad Europea de Valencia", "ES", "recognised", [("domain", "uev.example")]),
]


# As ROR lists them: the short names registrars actually write.
ALIASES = {
    "Alma Mater Studiorum Università di Bologna": ["Università di Bologna", "University of Bologna"]
}


@pytest.fixture
def registry(session):
    records = [
        InstitutionRecordSchema().load(
            {
                "name": name,
                "country": country,
                "status": status,
                "status_source": "Test list of recognised institutions (test data)",
                "identifiers": [{"scheme": scheme, "value": value} for scheme, value in ids],
                "names": [{"value": alias, "kind": "alias"} for alias in ALIASES.get(name, ())],
            }
        )
        for name, country, status, ids in INSTITUTIONS
    ]
    ids = {r.institution.name: r.institution.id for r in upsert_many(session, records)}
    glasgow = ids["University of Glasgow"]
    outcomes = upsert_qualifications(
        session,
        [
            {
                "code": "G400",
                "title": "BSc (Hons) Computing Science",
                "language": "en",
                "country": "GB",
                "institution_id": glasgow,
                "level": "GB-SCQF:10",
                "credits": "480",
                "credit_system": "GB-SCQF-CP",
                "isced_f": "0613",
                "qualification_type": "bachelor",
                "learning_outcomes": ["Design and build software systems"],
                "other_titles": [],
                "identifiers": {},
            },
        ],
    )
    assert outcomes[0].outcome == "inserted"
    session.commit()
    return ids


def credential(title, institution, country, awarded_on="2019-06-30", **extra):
    return {
        "title": title,
        "institution": {"name": institution, "country": country},
        "awarded_on": awarded_on,
        **extra,
    }


def assess(session, data, target="DE", target_type="bachelor", actor=OPERATOR):
    return recognition.assess(session, actor, data, target, target_type)


def ects(value):
    return {"value": str(value), "system": "ECTS"}


# (case id, credential, target, target type, expected decision)
CASES = [
    (
        "gb-scqf-honours-by-registry-entry",
        credential("BSc (Hons) Computing Science", "University of Glasgow", "GB"),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "ie-honours-bachelor",
        credential(
            "Bachelor in Computer Science",
            "Trinity College Dublin",
            "IE",
            level="IE-NFQ:8",
            credits=ects(240),
            field="0613",
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "ie-ordinary-bachelor",
        credential(
            "Ordinary Bachelor of Arts",
            "Trinity College Dublin",
            "IE",
            level="IE-NFQ:7",
            credits=ects(180),
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "fr-licence-2021",
        credential(
            "Licence Informatique",
            "Université Paris-Saclay",
            "FR",
            "2021-07-01",
            level="FR-CNCP:6",
            credits=ects(180),
            grade={"value": "14", "scale": "FR-0-20"},
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "fr-legacy-level-ii-2005",
        credential(
            "Maîtrise de physique",
            "Université Paris-Saclay",
            "FR",
            "2005-06-30",
            level="FR-CNCP-1969:II",
            credits=ects(240),
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "it-laurea",
        credential(
            "Laurea in Ingegneria Informatica",
            "Università di Bologna",
            "IT",
            level="IT-QNQ:6",
            credits=ects(180),
            grade={"value": "27", "scale": "IT-30"},
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "it-laurea-magistrale",
        credential(
            "Laurea magistrale in Fisica",
            "Università di Bologna",
            "IT",
            level="IT-QNQ:7",
            credits=ects(120),
        ),
        "DE",
        "master",
        "recognised",
    ),
    (
        "es-grado",
        credential(
            "Grado en Derecho",
            "Universidad de Salamanca",
            "ES",
            level="ES-MECES:2",
            credits=ects(240),
            grade={"value": "8.5", "scale": "ES-10"},
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "nl-one-year-master",
        credential(
            "Master of Science in Biology",
            "Universiteit Leiden",
            "NL",
            level="NL-NLQF:7",
            credits=ects(60),
            grade={"value": "8", "scale": "NL-10"},
        ),
        "DE",
        "master",
        "recognised",
    ),
    (
        "pl-licencjat",
        credential(
            "Licencjat z ekonomii",
            "Uniwersytet Warszawski",
            "PL",
            level="PL-PQF:6",
            credits=ects(180),
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "pt-licenciatura",
        credential(
            "Licenciatura em Matemática",
            "Universidade de Lisboa",
            "PT",
            level="PT-QNQ:6",
            credits=ects(180),
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "mt-bachelor-maltese-ects",
        credential(
            "Bachelor of Science (Honours)",
            "University of Malta",
            "MT",
            level="MT-MQF:6",
            credits={"value": "240", "system": "ECTS-MT"},
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "at-unknown-status",
        credential(
            "Bachelor of Arts", "Universität Wien", "AT", level="AT-NQR:VI", credits=ects(180)
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "nz-bachelor-comparison",
        credential(
            "Bachelor of Science",
            "University of Auckland",
            "NZ",
            level="NZ-NZQCF:7",
            credits={"value": "360", "system": "NZ-CR"},
        ),
        "DE",
        "bachelor",
        "recognised",
    ),
    (
        "pl-workload-shortfall",
        credential(
            "Licencjat (short programme)",
            "Uniwersytet Warszawski",
            "PL",
            level="PL-PQF:6",
            credits=ects(150),
        ),
        "DE",
        "bachelor",
        "partially_recognised",
    ),
    (
        "it-workload-far-short",
        credential(
            "Laurea (incomplete credits)",
            "Università di Bologna",
            "IT",
            level="IT-QNQ:6",
            credits=ects(120),
        ),
        "DE",
        "bachelor",
        "partially_recognised",
    ),
    (
        "ie-higher-certificate-below-bachelor",
        credential(
            "Higher Certificate in Computing",
            "Trinity College Dublin",
            "IE",
            level="IE-NFQ:6",
            credits=ects(120),
        ),
        "DE",
        "bachelor",
        "not_recognised",
    ),
    (
        "gb-unrecognised-institution",
        credential(
            "BA (Hons) Business",
            "Westbridge Open University",
            "GB",
            level="GB-RQF:6",
            credits={"value": "360", "system": "GB-CATS"},
        ),
        "DE",
        "bachelor",
        "not_recognised",
    ),
    (
        "unknown-institution",
        credential(
            "Bachelor of Science",
            "Zxq Polytechnic of Nowhere",
            "DE",
            level="DE-DQR:6",
            credits=ects(180),
        ),
        "FR",
        "bachelor",
        "needs_review",
    ),
    (
        "nz-honours-unlevelled",
        credential(
            "Bachelor of Science (Honours)",
            "University of Auckland",
            "NZ",
            level="NZ-NZQCF:8",
            credits={"value": "480", "system": "NZ-CR"},
        ),
        "DE",
        "master",
        "needs_review",
    ),
    (
        "no-level-at-all",
        credential("Diploma", "Technische Universität München", "DE", credits=ects(180)),
        "FR",
        "bachelor",
        "needs_review",
    ),
    (
        "gb-honours-into-ireland",
        credential("BSc (Hons) Computing Science", "University of Glasgow", "GB"),
        "IE",
        "bachelor",
        "recognised",
    ),
    (
        "it-laurea-into-france",
        credential(
            "Laurea in Economia",
            "Università di Bologna",
            "IT",
            level="IT-QNQ:6",
            credits=ects(180),
            grade={"value": "30L", "scale": "IT-30"},
        ),
        "FR",
        "bachelor",
        "recognised",
    ),
    (
        "de-master-into-scotland",
        credential(
            "Master of Science Informatik",
            "Technische Universität München",
            "DE",
            level="DE-DQR:7",
            credits=ects(120),
            grade={"value": "1.7", "scale": "DE-1-5"},
        ),
        "GB-SCQF",
        "master",
        "recognised",
    ),
    (
        "mt-micro-credential",
        credential(
            "Data Protection Essentials",
            "University of Malta",
            "MT",
            level="MT-MQF:6",
            credits=ects(5),
            micro_credential={
                "assessment_type": "written exam",
                "participation_form": "online",
                "quality_assurance": "MFHEA accredited",
                "stackable": True,
            },
        ),
        "DE",
        None,
        "recognised",
    ),
    (
        "pt-master-identified-by-domain",
        credential(
            "Mestrado em Engenharia", "ulisboa.pt", "PT", level="PT-QNQ:7", credits=ects(120)
        ),
        "DE",
        "master",
        "recognised",
    ),
]


@pytest.mark.parametrize(
    "case, data, target, target_type, expected", CASES, ids=[case[0] for case in CASES]
)
def test_case(session, registry, case, data, target, target_type, expected):
    answer = assess(session, data, target, target_type)
    assert answer["decision"] == expected, answer["explanation"]
    assert answer["id"] and len(answer["inputs_digest"]) == 64
    assert answer["explanation"][-1].startswith("Decision:")
    assert {rule["rule"] for rule in answer["rules"]} >= {"default-baseline-recognise"}
    assert 0 <= float(answer["confidence"]) <= 1


def test_cases_span_at_least_eight_countries():
    countries = {data["institution"]["country"] for _, data, *_ in CASES}
    assert len(CASES) >= 25 and len(countries) >= 8


def test_registry_entry_fills_what_the_credential_leaves_out(session, registry):
    answer = assess(session, credential("BSc (Hons) Computing Science", "Univ. of Glasgow", "GB"))
    source = answer["source"]
    assert source["institution"]["id"] == registry["University of Glasgow"]
    assert source["qualification"]["resolved"] and source["qualification"]["level"] == "GB-SCQF:10"
    assert answer["target"]["levels"] == [
        {"level": "DE-DQR:6", "relation": "exactMatch", "confidence": 1.0}
    ]
    assert answer["target"]["credits"]["value"] == "240"
    assert [step["from"] for step in answer["path"]] == ["GB-SCQF:10", "EQF:6"]
    assert answer["framework_versions"] == {"DE-DQR": "2012", "EQF": "2017", "GB-SCQF": "2019"}


def test_workload_shortfall_is_partial_with_bridging(session, registry):
    data = dict(CASES[14][1])
    answer = assess(session, data)
    assert [d["element"] for d in answer["substantial_differences"]] == ["workload"]
    assert any("30" in condition for condition in answer["conditions"])


def test_unknown_status_is_a_gap_not_a_reason_to_review(session, registry):
    answer = assess(session, CASES[12][1])
    assert answer["decision"] == "recognised"
    assert any("recognition status is unknown" in gap for gap in answer["gaps"])
    known = assess(session, CASES[9][1])
    assert float(answer["confidence"]) < float(known["confidence"])


def test_grade_is_converted_onto_the_target_scale(session, registry):
    answer = assess(session, CASES[5][1])
    assert answer["target"]["grade"]["value"] == "1.7"  # IT 27/30 -> 1.75 -> truncated
    assert answer["facts"]["grade.normalised"] == "0.75"


def test_bilateral_rule_overrides_the_default(session, registry):
    data = CASES[19][1]
    assert assess(session, data, "DE", "master")["decision"] == "needs_review"
    rulebook.create_rule(
        session,
        Actor("kmk", "ministry", frozenset({"DE"})),
        {
            "id": "de-nz-honours-test",
            "title": "NZ Honours degrees as German bachelor (test rule)",
            "authority": {"kind": "ministry", "country": "DE"},
            "jurisdiction": "DE",
            "priority": 100,
            "when": {
                "all": [
                    {"fact": "source.level", "op": "==", "value": "NZ-NZQCF:8"},
                    {"fact": "institution.status", "op": "==", "value": "recognised"},
                ]
            },
            "then": {
                "decision": "recognised",
                "target_level": "DE-DQR:6",
                "notes": "Bilateral test agreement.",
            },
        },
    )
    answer = assess(session, data, "DE", "master")
    assert answer["decision"] == "recognised" and answer["target"]["level"] == "DE-DQR:6"
    decided = next(rule for rule in answer["rules"] if rule["rule"] == "de-nz-honours-test")
    assert decided["matched"] and all(c["held"] for c in decided["conditions"] if c["fact"])
    # The default rule that would have asked for review is in the trace too, matched, outranked.
    review = next(rule for rule in answer["rules"] if rule["rule"] == "default-level-no-path")
    assert review["matched"]


def test_same_input_same_decision_and_digest(session, registry):
    first = assess(session, CASES[1][1])
    second = assess(session, copy.deepcopy(CASES[1][1]))
    assert first["id"] != second["id"]
    for key in (
        "decision",
        "confidence",
        "inputs_digest",
        "rules",
        "explanation",
        "framework_versions",
    ):
        assert first[key] == second[key]
    stored = recognition.get_assessment(session, OPERATOR, first["id"])
    assert (
        stored["decision"] == first["decision"]
        and stored["inputs"]["title"] == CASES[1][1]["title"]
    )
    assert session.scalar(select(func.count()).select_from(Assessment)) >= 2


def test_explanation_names_each_step(session, registry):
    answer = assess(session, CASES[3][1])
    steps = [step["step"] for step in answer["steps"]]
    assert steps == ["institution", "qualification", "level", "credits", "grade", "rules"]
    text = " ".join(answer["explanation"])
    for words in (
        "Université Paris-Saclay",
        "FR-CNCP:6",
        "EQF:6",
        "DE-DQR:6",
        "ECTS",
        "on DE-1-5",
        "rules were evaluated",
        "Decision: recognised",
    ):
        assert words in text, words


@pytest.mark.parametrize(
    "change, fields",
    [
        ({"title": None}, ["title"]),
        ({"institution": {"name": "X"}}, ["institution"]),
        ({"awarded_on": None}, ["awarded_on"]),
        ({"awarded_on": (dt.date.today() + dt.timedelta(days=2)).isoformat()}, ["awarded_on"]),
        ({"level": "IE-NFQ:99"}, ["level"]),
        ({"level": "XX-NOPE:1"}, ["level"]),
        ({"institution": {"name": "X", "country": "ZZ"}}, ["institution"]),
        ({"credits": {"value": "180"}}, ["credits"]),
        ({"grade": {"value": "2:1"}}, ["grade"]),
        ({"grade": {"value": "25", "scale": "FR-0-20"}}, ["grade"]),
        ({"field": "9876"}, ["field"]),
        ({"surprise": True}, ["surprise"]),
        (
            {"level": "IE-NFQ", "credits": {"value": "-1", "system": "ECTS"}, "title": ""},
            ["level", "credits", "title"],
        ),
    ],
)
def test_bad_input_lists_every_field(session, registry, change, fields):
    data = {**credential("Bachelor", "Trinity College Dublin", "IE"), **change}
    data = {key: value for key, value in data.items() if value is not None}
    with pytest.raises(InvalidData) as caught:
        assess(session, data)
    assert set(fields) <= set(caught.value.errors), caught.value.errors


def test_target_must_be_one_framework(session, registry):
    with pytest.raises(InvalidData) as caught:
        assess(session, CASES[1][1], "GB")
    assert "GB-RQF" in str(caught.value.errors["target"])
    with pytest.raises(InvalidData):
        assess(session, CASES[1][1], "Mars")


def test_impact_report_lists_stored_decisions_a_draft_would_change(session, registry):
    from frameworks import editing
    from mappings.impact import impact

    data = credential(
        "Higher Certificate in Computing",
        "Trinity College Dublin",
        "IE",
        level="IE-NFQ:6",
        credits=ects(120),
    )
    kept = assess(session, CASES[1][1])  # IE-NFQ:8: the draft does not touch it
    stored = assess(session, data, "DE", "short_cycle")
    assert stored["decision"] == "recognised"
    editing.replace_level_links(
        session,
        OPERATOR,
        "IE-NFQ",
        "6",
        [
            {
                "to": "EQF:4",
                "relation": "exactMatch",
                "basis": "referencing",
                "citation": "Hypothetical revised referencing report",
            }
        ],
    )
    draft = dt.date.today().isoformat()
    # Taking effect today, the draft changes no award made before today.
    assert impact(session, OPERATOR, "IE-NFQ", draft)["assessments"] == []
    # As if it had taken effect before the award (a what-if: publication is never backdated).
    report = impact(session, OPERATOR, "IE-NFQ", draft, dt.date(2019, 1, 1))
    assert [(a["id"], a["old"], a["new"]) for a in report["assessments"]] == [
        (stored["id"], "recognised", "not_recognised")
    ]
    assert kept["id"] not in [a["id"] for a in report["assessments"]]
    # Nothing stored was changed by computing the report.
    assert recognition.get_assessment(session, OPERATOR, stored["id"])["decision"] == "recognised"


def micro(title, ects_value, level="MT-MQF:7", field="0613", institution="University of Malta"):
    return credential(
        title,
        institution,
        "MT",
        level=level,
        credits=ects(ects_value),
        field=field,
        learning_outcomes=["An outcome"],
        micro_credential={"participation_form": "online", "stackable": True},
    )


def test_micro_credential_stack(session, registry):
    stack = {
        "credentials": [
            micro("Machine Learning I", 20),
            micro("Machine Learning II", 20),
            micro("Machine Learning I", 20),  # the same one again: counted once
            micro("Intro to Law", 10, field="0421"),  # another field
            micro("Study Skills", 5, level="MT-MQF:5"),  # below the master's level
        ]
    }
    answer = recognition.assess_stack(session, OPERATOR, stack, "DE", "master")
    assert answer["total_ects"] == "40"
    assert [p["counted"] for p in answer["parts"]] == [True, True, False, False, False]
    assert "already counted" in answer["parts"][2]["reasons"][0]
    # 40 of the master's minimum 60 ECTS: two thirds, far short; the 40 count, 20 remain.
    assert answer["decision"] == "partially_recognised"
    assert answer["alternative"]["form"] == "partial"
    assert (answer["alternative"]["ects_counted"], answer["alternative"]["bridging_ects"]) == (
        "40",
        "20",
    )
    assert answer["explanation"][-2].startswith("Offered instead, partial recognition")
    more = {"credentials": [micro(f"Module {n}", 20) for n in range(3)]}
    assert (
        recognition.assess_stack(session, OPERATOR, more, "DE", "master")["decision"]
        == "recognised"
    )
    with pytest.raises(InvalidData) as caught:
        recognition.assess_stack(
            session, OPERATOR, {"credentials": [{"title": "x"}]}, "DE", "master"
        )
    assert "credentials.0" in caught.value.errors


def test_a_grade_that_cannot_be_converted_is_a_gap_not_bad_input(session, registry):
    data = credential(
        "Grado en Derecho",
        "Universidad de Salamanca",
        "ES",
        level="ES-MECES:2",
        credits=ects(240),
        grade={"value": "B", "scale": "ECTS-A-F"},
    )
    answer = assess(session, data)
    assert answer["decision"] == "recognised"
    grade_step = next(step for step in answer["steps"] if step["step"] == "grade")
    assert grade_step["outcome"] == "kept" and "grade" not in answer["target"]
    assert any("cannot be normalised" in gap for gap in answer["gaps"])
    with pytest.raises(InvalidData) as caught:
        assess(session, {**data, "grade": {"value": "Q", "scale": "ECTS-A-F"}})
    assert "value" in caught.value.errors["grade"]
