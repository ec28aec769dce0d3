"""Assessments end to end that offer the alternative (issue 18, items 1 and 10).

Item 10: the EAR manual, ch. 11, Recommendation: a substantial difference calls for
alternative, partial or conditional recognition before any refusal, and a refusal says why no
form of recognition is possible. Item 1: the QF-EHEA short cycle is "typically 90-120 ECTS
credits" (ehea.info, "Qualification frameworks", the framework as revised in Paris, 2018), so
a 90-ECTS short-cycle qualification meets the short cycle's workload.
"""

import copy

import pytest

from mappings import recognition
from registry.core.permissions import OPERATOR
from tests.mappings.test_assessment import assess, credential, ects, registry  # noqa: F401

# The institutions and the registry entry of the assessment tests.
pytestmark = pytest.mark.usefixtures("registry")


def steps(answer):
    return [step["step"] for step in answer["steps"]]


def test_right_level_with_a_workload_shortfall_is_partial_with_the_credits(session):
    laurea = credential(
        "Laurea (incomplete credits)",
        "Università di Bologna",
        "IT",
        level="IT-QNQ:6",
        credits=ects(120),
    )
    answer = assess(session, laurea, "DE", "bachelor")
    assert answer["decision"] == "partially_recognised", answer["explanation"]
    assert [d["element"] for d in answer["substantial_differences"]] == ["workload"]
    alternative = answer["alternative"]
    assert (alternative["form"], alternative["rule"]) == ("partial", "default-workload-far-short")
    assert (alternative["ects_counted"], alternative["bridging_ects"]) == ("120", "60")
    assert answer["conditions"] == [
        "Complete the remaining 60 ECTS in a programme leading to the qualification asked for; "
        "the 120 ECTS earned count as exemptions."
    ]
    # Explained as its own step, after the rules and before the decision.
    assert steps(answer)[-2:] == ["rules", "alternative"]
    assert answer["explanation"][-2].startswith(
        "Offered instead, partial recognition (default-workload-far-short) "
        "(120 ECTS count; 60 ECTS to bridge): Partial recognition: the 120 ECTS earned count"
    )
    assert answer["explanation"][-1].startswith("Decision: partially recognised")


def test_a_short_bachelor_is_conditionally_recognised(session):
    short = credential(
        "Licencjat (short programme)",
        "Uniwersytet Warszawski",
        "PL",
        level="PL-PQF:6",
        credits=ects(150),
    )
    answer = assess(session, short, "DE", "bachelor")
    assert answer["decision"] == "partially_recognised"
    assert (
        answer["alternative"]["form"],
        answer["alternative"]["ects_counted"],
        answer["alternative"]["bridging_ects"],
    ) == ("conditional", "150", "30")


def test_a_lower_level_names_what_it_is_recognised_as(session):
    higher_certificate = credential(
        "Higher Certificate in Computing",
        "Trinity College Dublin",
        "IE",
        level="IE-NFQ:6",
        credits=ects(120),
    )
    answer = assess(session, higher_certificate, "DE", "bachelor")
    assert answer["decision"] == "not_recognised"
    # The workload is compared with a bachelor's only at a bachelor's level.
    assert [d["element"] for d in answer["substantial_differences"]] == ["level"]
    alternative = answer["alternative"]
    assert alternative["form"] == "alternative"
    assert alternative["rule"] == "default-level-below-target"
    assert alternative["recognised_as"] == {
        "level": "DE-DQR:5",
        "eqf_level": 5,
        "qualification_type": "short_cycle",
    }
    assert "DE-DQR:5 (EQF level 5)" in alternative["detail"]
    assert "'Alternative recognition'" in alternative["basis"]
    text = " ".join(answer["explanation"])
    assert "the level of a short cycle qualification" in text
    # What it reaches is a recognition of its own: asked as a short cycle, it is recognised.
    as_short_cycle = assess(session, higher_certificate, "DE", "short_cycle")
    assert as_short_cycle["decision"] == "recognised" and as_short_cycle["alternative"] is None


def test_a_refusal_with_no_alternative_says_why(session):
    unrecognised = credential(
        "BA (Hons) Business",
        "Westbridge Open University",
        "GB",
        level="GB-RQF:6",
        credits={"value": "360", "system": "GB-CATS"},
    )
    answer = assess(session, unrecognised, "DE", "bachelor")
    assert answer["decision"] == "not_recognised"
    alternative = answer["alternative"]
    assert alternative["form"] == "none"
    assert alternative["rule"] == "default-quality-institution-not-recognised"
    assert "neither the level nor the credits" in alternative["detail"]
    assert alternative["recognised_as"] is None and alternative["ects_counted"] is None
    assert any(line.startswith("No alternative is offered") for line in answer["explanation"])


def test_recognition_and_review_offer_no_alternative(session):
    glasgow = credential("BSc (Hons) Computing Science", "University of Glasgow", "GB")
    recognised = assess(session, glasgow)
    assert recognised["decision"] == "recognised" and recognised["alternative"] is None
    assert "alternative" not in steps(recognised)
    review = assess(
        session, credential("Diploma", "Zxq Polytechnic of Nowhere", "DE", credits=ects(180))
    )
    assert review["decision"] == "needs_review" and review["alternative"] is None


def test_the_alternative_is_reproducible_and_stored(session):
    data = credential(
        "Laurea (incomplete credits)",
        "Università di Bologna",
        "IT",
        level="IT-QNQ:6",
        credits=ects(120),
    )
    first = assess(session, data)
    second = assess(session, copy.deepcopy(data))
    assert first["inputs_digest"] == second["inputs_digest"]
    assert first["alternative"] == second["alternative"] and first["steps"] == second["steps"]
    stored = recognition.get_assessment(session, OPERATOR, first["id"])
    assert stored["alternative"] == first["alternative"]


def test_a_90_ects_short_cycle_qualification_meets_the_short_cycle(session):
    # Malta's Undergraduate Higher Diploma (MQF 5, 90-120 ECTS: MT-MQF file) at 90 ECTS.
    diploma = credential(
        "Undergraduate Higher Diploma in Computing",
        "University of Malta",
        "MT",
        level="MT-MQF:5",
        credits={"value": "90", "system": "ECTS-MT"},
    )
    answer = assess(session, diploma, "DE", "short_cycle")
    assert answer["decision"] == "recognised", answer["explanation"]
    assert answer["facts"]["workload.shortfall_ects"] == "0"
    credits = next(step for step in answer["steps"] if step["step"] == "credits")
    sentence = answer["explanation"][steps(answer).index("credits")]
    assert credits["outcome"] == "converted"
    assert "against a minimum of 90 ECTS" in sentence
    assert "typically 90-120 ECTS credits" in sentence
    # An Undergraduate Diploma (60 ECTS) at the same level: 60 of 90 count, 30 to bridge.
    smaller = {**diploma, "credits": {"value": "60", "system": "ECTS-MT"}}
    partial = assess(session, smaller, "DE", "short_cycle")
    assert partial["decision"] == "partially_recognised"
    assert (partial["alternative"]["ects_counted"], partial["alternative"]["bridging_ects"]) == (
        "60",
        "30",
    )
