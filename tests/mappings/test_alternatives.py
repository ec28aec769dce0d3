"""What a refusal or a partial recognition offers instead (issue 18, item 10), without a database.

The source of the policy: the EAR manual, ch. 11 "Alternative recognition and the right to
appeal", Recommendation (ear.enic-naric.net/emanual/Chapter11/Recommendation.aspx): where
substantial differences prevent the recognition asked for, consider alternative recognition
(another relevant qualification, with a bridging course where offered), partial recognition
(some credits accepted, as exemptions) or conditional recognition (the activity started on
condition of credits); "only when the competent recognition authority cannot find any
alternative form of recognition (alternative, partial, and conditional) should recognition be
denied".
"""

import datetime as dt
from decimal import Decimal

import pytest

from mappings import alternatives
from mappings.rules import ALTERNATIVE_FORMS, evaluate, load_default_policy, validate_rule
from registry.core.errors import InvalidData

D = Decimal
ON = dt.date(2020, 6, 30)
DE = ("DE", "DE-DQR")

# A bachelor's-level case against a German bachelor, all well.
CASE = {
    "source.eqf_level": 6,
    "target.eqf_level": 6,
    "credits.ects": D(240),
    "workload.ratio": D(1),
    "workload.shortfall_ects": D(0),
    "institution.status": "recognised",
    "institution.match": "matched",
    "level.found": True,
    "level.relation": "exactMatch",
    "level.eqf_gap": 0,
    "level.reached": "DE-DQR:6",
    "level.reached_type": "bachelor",
    "field.same_broad": True,
    "learning_outcomes.present": True,
}


def ministry(rule_id, priority=100, when=None, **then):
    rule = {
        "id": rule_id,
        "title": f"Rule {rule_id}",
        "authority": {"kind": "ministry", "country": "DE"},
        "jurisdiction": "DE",
        "priority": priority,
        "then": then,
    }
    if when is not None:
        rule["when"] = when
    return rule


@pytest.fixture(scope="module")
def policy():
    return load_default_policy()


def decide(rules, **changes):
    facts = {**CASE, **changes}
    evaluation = evaluate(rules, facts, jurisdiction=DE, on=ON)
    return evaluation, alternatives.offered(evaluation, facts)


# --- the rule format ------------------------------------------------------------------------


def test_an_alternative_is_validated_with_the_rule():
    rule = ministry(
        "r",
        decision="not_recognised",
        alternative={
            "form": "alternative",
            "detail": "As {level.reached}.",
            "basis": "EAR manual ch. 11",
        },
    )
    assert validate_rule(rule)["then"]["alternative"] == rule["then"]["alternative"]
    assert ALTERNATIVE_FORMS == ("conditional", "partial", "alternative", "none")


@pytest.mark.parametrize(
    "then, path, fragment",
    [
        ({"decision": "not_recognised", "alternative": "partial"}, "then.alternative", "object"),
        (
            {"decision": "not_recognised", "alternative": {"form": "maybe", "detail": "x"}},
            "then.alternative.form",
            "One of conditional",
        ),
        (
            {"decision": "not_recognised", "alternative": {"form": "none"}},
            "then.alternative.detail",
            "why nothing is",
        ),
        (
            {"decision": "not_recognised", "alternative": {"form": "none", "detail": "{x.y}"}},
            "then.alternative.detail",
            "names no known fact",
        ),
        (
            {"decision": "not_recognised", "alternative": {"form": "none", "detail": "x", "y": 1}},
            "then.alternative.y",
            "Unknown field",
        ),
        (
            {"decision": "recognised", "alternative": {"form": "partial", "detail": "x"}},
            "then.alternative",
            "goes with a refusal",
        ),
    ],
)
def test_a_malformed_alternative_is_refused(then, path, fragment):
    with pytest.raises(InvalidData) as caught:
        validate_rule(ministry("r", **then))
    assert any(fragment in message for message in caught.value.errors[path]), caught.value.errors


# --- what a decision offers -----------------------------------------------------------------


def test_a_recognition_and_a_review_offer_nothing(policy):
    assert decide(policy)[1] is None
    evaluation, offered = decide(policy, **{"level.found": False})
    assert evaluation.decision == "needs_review" and offered is None


def test_right_level_short_by_up_to_a_quarter_is_conditional_with_the_bridging(policy):
    evaluation, offered = decide(
        policy,
        **{"credits.ects": D(150), "workload.ratio": D("0.8333"), "workload.shortfall_ects": D(30)},
    )
    assert (evaluation.decision, evaluation.decided_by) == (
        "partially_recognised",
        "default-workload-short",
    )
    assert offered == {
        "form": "conditional",
        "rule": "default-workload-short",
        "detail": "Conditional recognition: the 150 ECTS earned count, and recognition as the "
        "qualification asked for follows bridging studies of 30 ECTS.",
        "basis": "EAR manual ch. 11, Recommendation, 'Conditional recognition': starting the "
        "desired activity on condition of obtaining a number of credits",
        "recognised_as": None,
        "ects_counted": "150",
        "bridging_ects": "30",
    }


def test_right_level_far_short_is_partial_recognition_of_the_credits_earned(policy):
    evaluation, offered = decide(
        policy,
        **{"credits.ects": D("90.0"), "workload.ratio": D("0.5"), "workload.shortfall_ects": D(90)},
    )
    assert evaluation.decision == "partially_recognised"
    assert (offered["form"], offered["ects_counted"], offered["bridging_ects"]) == (
        "partial",
        "90",
        "90",
    )
    assert "'Partial recognition'" in offered["basis"]


def test_a_lower_level_names_the_level_it_reaches(policy):
    evaluation, offered = decide(
        policy,
        **{
            "source.eqf_level": 5,
            "level.eqf_gap": 1,
            "level.reached": "DE-DQR:5",
            "level.reached_type": "short_cycle",
            "credits.ects": D(120),
            "workload.ratio": D("0.6667"),
            "workload.shortfall_ects": D(60),
        },
    )
    assert evaluation.decision == "not_recognised"
    assert offered["form"] == "alternative" and offered["rule"] == "default-level-below-target"
    assert offered["recognised_as"] == {
        "level": "DE-DQR:5",
        "eqf_level": 5,
        "qualification_type": "short_cycle",
    }
    assert offered["ects_counted"] is None and offered["bridging_ects"] is None
    assert alternatives.sentence(offered).startswith(
        "Offered instead, alternative recognition (default-level-below-target) (the level of a "
        "short cycle qualification): Alternative recognition at the level the qualification "
        "reaches: DE-DQR:5 (EQF level 5)"
    )


def test_a_refusal_with_no_alternative_says_why(policy):
    evaluation, offered = decide(policy, **{"institution.status": "not_recognised"})
    assert evaluation.decision == "not_recognised"
    assert offered["form"] == "none"
    assert offered["rule"] == "default-quality-institution-not-recognised"
    assert "not recognised in its own higher education system" in offered["detail"]
    assert "'Refusing recognition'" in offered["basis"]
    assert alternatives.sentence(offered).startswith(
        "No alternative is offered (default-quality-institution-not-recognised): No alternative,"
    )


def test_an_authoritys_refusal_keeps_the_policys_alternative_in_view(policy):
    refuse = ministry(
        "de-refuse",
        when={"fact": "level.eqf_gap", "op": ">=", "value": 1},
        decision="not_recognised",
        notes="Refused.",
    )
    evaluation, offered = decide(
        [*policy, refuse],
        **{"source.eqf_level": 5, "level.eqf_gap": 1, "level.reached": "DE-DQR:5"},
    )
    assert evaluation.decided_by == "de-refuse"
    assert (offered["form"], offered["rule"]) == ("alternative", "default-level-below-target")


def test_an_authoritys_own_alternative_comes_first(policy):
    refuse = ministry(
        "de-refuse",
        decision="not_recognised",
        alternative={"form": "partial", "detail": "Up to {credits.ects} ECTS as exemptions."},
    )
    _, offered = decide([*policy, refuse], **{"institution.status": "not_recognised"})
    assert (offered["form"], offered["rule"], offered["detail"]) == (
        "partial",
        "de-refuse",
        "Up to 240 ECTS as exemptions.",
    )
    assert offered["basis"] is None and offered["bridging_ects"] is None


def test_a_refusal_no_rule_offers_anything_for_says_so(policy):
    refuse = ministry("de-refuse", decision="not_recognised", notes="Refused.")
    _, offered = decide([*policy, refuse])
    assert offered == {
        "form": "none",
        "rule": None,
        "detail": alternatives.NO_RULE_NAMES_ONE,
        "basis": None,
        "recognised_as": None,
        "ects_counted": None,
        "bridging_ects": None,
    }


def test_a_partial_recognition_without_a_named_form(policy):
    partial = ministry("de-partial", decision="partially_recognised", conditions=["An exam."])
    _, offered = decide(
        [*policy, partial], **{"workload.ratio": D("0.9"), "workload.shortfall_ects": D(24)}
    )
    # The default's conditional recognition matched too, and is what is offered.
    assert (offered["form"], offered["rule"]) == ("conditional", "default-workload-short")
    _, offered = decide([*policy, partial])
    assert (offered["form"], offered["rule"], offered["detail"]) == (
        "partial",
        "de-partial",
        alternatives.PARTIAL_UNNAMED,
    )
    # Which credits count is the authority's to say: no figures are made up.
    assert (offered["ects_counted"], offered["bridging_ects"]) == (None, None)


# --- the default policy's sources -----------------------------------------------------------


def test_every_default_refusal_or_partial_recognition_names_its_alternative_and_source(policy):
    sections = {
        "conditional": "'Conditional recognition'",
        "partial": "'Partial recognition'",
        "alternative": "'Alternative recognition'",
        "none": "'Refusing recognition'",
    }
    deciding = [
        rule
        for rule in policy
        if rule["then"].get("decision") in ("not_recognised", "partially_recognised")
    ]
    assert {rule["id"] for rule in deciding} == {
        "default-quality-institution-not-recognised",
        "default-level-below-target",
        "default-workload-far-short",
        "default-workload-short",
        "default-authenticity-signature-invalid",
    }
    for rule in deciding:
        alternative = rule["then"]["alternative"]
        assert alternative["basis"].startswith("EAR manual ch. 11, Recommendation, "), rule["id"]
        assert sections[alternative["form"]] in alternative["basis"], rule["id"]
