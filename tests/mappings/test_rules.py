"""Recognition rules as data: validation, evaluation traces, decisions, and the default policy."""

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest

from mappings.rules import (
    DECISIONS,
    DEFAULT_POLICY,
    ELEMENTS,
    FACTS,
    ConditionTrace,
    Evaluation,
    RuleTrace,
    evaluate,
    load_default_policy,
    rule_to_json,
    validate_rule,
)
from registry.core.errors import InvalidData

D = Decimal
ON = dt.date(2020, 6, 30)
DE = ("DE", "DE-DQR")


def rule(rule_id="r", *, when=None, priority=100, jurisdiction="DE", **then):
    data = {
        "id": rule_id,
        "title": f"Rule {rule_id}",
        "authority": {"kind": "ministry", "country": "DE"},
        "jurisdiction": jurisdiction,
        "priority": priority,
        "then": then or {"decision": "recognised"},
    }
    if when is not None:
        data["when"] = when
    return data


def cmp(fact, op, value):
    return {"fact": fact, "op": op, "value": value}


def errors_of(data):
    with pytest.raises(InvalidData) as excinfo:
        validate_rule(data)
    return excinfo.value.errors


def run(rules, facts=None, *, jurisdiction=DE, on=ON):
    return evaluate(rules, facts or {}, jurisdiction=jurisdiction, on=on)


def only(rules_or_rule, facts=None, **kwargs):
    """The single rule's trace."""
    rules = rules_or_rule if isinstance(rules_or_rule, list) else [rules_or_rule]
    return run(rules, facts, **kwargs).trace[0]


# --- constants ------------------------------------------------------------------------------


def test_constants():
    assert DECISIONS == ("recognised", "partially_recognised", "not_recognised", "needs_review")
    assert ELEMENTS == (
        "level",
        "workload",
        "quality",
        "profile",
        "learning_outcomes",
        "authenticity",
    )
    assert FACTS["credits.ects"] == "decimal"
    assert FACTS["award_date"] == "date"
    assert FACTS["level.found"] == "bool"
    assert FACTS["level.eqf_gap"] == "int"
    assert set(FACTS.values()) == {"str", "int", "decimal", "date", "bool"}
    with pytest.raises(TypeError):
        FACTS["new.fact"] = "str"


# --- validation: what a valid rule becomes --------------------------------------------------


def full_rule():
    return {
        "id": "de-kmk-uk-honours",
        "title": "UK honours bachelor as DQR 6",
        "authority": {"kind": "ministry", "country": "DE"},
        "jurisdiction": "DE",
        "priority": 100,
        "valid_from": "2020-01-01",
        "valid_to": None,
        "when": {
            "all": [
                cmp("source.country", "==", "GB"),
                {"any": [cmp("credits.ects", ">=", "179.99"), cmp("credits.hours", ">", 4500)]},
                {"not": cmp("institution.status", "in", ["not_recognised", "unknown"])},
                cmp("award_date", "<", "2030-01-01"),
                cmp("level.found", "exists", True),
                cmp("grade.normalised", ">=", 0.1),
            ]
        },
        "then": {
            "decision": "recognised",
            "target_level": "DE-DQR:6",
            "target_qualification_type": "bachelor",
            "credits_granted": "180",
            "conditions": ["None."],
            "notes": "KMK agreement.",
            "substantial_difference": {"element": "level", "detail": "None at all."},
        },
    }


def test_valid_rule_is_converted_to_fact_types():
    checked = validate_rule(full_rule())
    assert checked["valid_from"] == dt.date(2020, 1, 1)
    assert checked["valid_to"] is None
    conditions = checked["when"]["all"]
    assert conditions[1]["any"][0]["value"] == D("179.99")
    assert isinstance(conditions[1]["any"][0]["value"], Decimal)
    assert conditions[1]["any"][1]["value"] == D(4500)
    assert conditions[3]["value"] == dt.date(2030, 1, 1)
    # A JSON number read as a float is taken as written, never through its binary value.
    assert conditions[5]["value"] == D("0.1")
    assert checked["then"]["credits_granted"] == D("180")


def test_absent_optional_fields_are_none():
    checked = validate_rule(rule())
    assert checked["when"] is None
    assert checked["valid_from"] is None and checked["valid_to"] is None


def test_validation_does_not_change_its_input_and_is_idempotent():
    data = full_rule()
    before = copy.deepcopy(data)
    checked = validate_rule(data)
    assert data == before
    assert validate_rule(checked) == checked


def test_rule_to_json_round_trips():
    checked = validate_rule(full_rule())
    dumped = rule_to_json(checked)
    assert json.loads(json.dumps(dumped)) == dumped
    assert dumped["valid_from"] == "2020-01-01"
    assert dumped["then"]["credits_granted"] == "180"
    assert dumped["when"]["all"][1]["any"][0]["value"] == "179.99"
    assert "valid_to" not in dumped
    assert validate_rule(dumped) == checked


def test_authorities():
    for authority in ({"kind": "institution", "id": 12}, {"kind": "registry"}):
        assert validate_rule({**rule(), "authority": authority})["authority"] == authority


def test_advisory_rule_without_decision():
    checked = validate_rule(rule(substantial_difference={"element": "profile", "detail": "x"}))
    assert "decision" not in checked["then"]


# --- validation: every kind of error, all at once -------------------------------------------


def test_every_error_is_reported_at_once():
    data = {
        "id": "bad rule!",
        "title": "",
        "authority": {"kind": "ministry", "country": "Germany"},
        "jurisdiction": "de",
        "priority": True,
        "valid_from": "2020-13-01",
        "valid_to": "soon",
        "colour": "red",
        "when": {
            "all": [
                cmp("source.colour", "==", "GB"),
                cmp("credits.ects", "<", "abc"),
                cmp("source.country", "==", 3),
                cmp("credits.ects", "~", 1),
                cmp("level.found", "<", True),
                cmp("level.eqf_gap", "contains", 6),
                cmp("source.country", "in", "GB"),
                {"any": []},
                {"all": []},
                {"not": [cmp("level.found", "==", True)]},
                {"fact": "level.found", "op": "==", "value": True, "weight": 2},
                {"all": [cmp("level.found", "==", True)], "any": [cmp("level.found", "==", True)]},
                cmp("level.found", "exists", "yes"),
                {"fact": "level.found", "op": "=="},
                cmp("award_date", ">", "30/06/2019"),
                cmp("source.country", "not_in", ["GB", 4]),
            ]
        },
        "then": {
            "decision": "maybe",
            "target_level": "DQR 6",
            "credits_granted": "-5",
            "conditions": [],
            "notes": "Shortfall {workload.missing_ects}.",
            "substantial_difference": {"element": "colour", "detail": "x", "size": 1},
            "verdict": "yes",
        },
    }
    errors = errors_of(data)
    expected = {
        "id",
        "title",
        "authority.country",
        "jurisdiction",
        "priority",
        "valid_from",
        "valid_to",
        "colour",
        "when.all.0.fact",  # unknown fact
        "when.all.1.value",  # "abc" for a decimal
        "when.all.2.value",  # 3 for a string
        "when.all.3.op",  # unknown operator
        "when.all.4.op",  # < on bool
        "when.all.5.op",  # contains on int
        "when.all.6.value",  # in without a list
        "when.all.7.any",  # empty any
        "when.all.8.all",  # empty all
        "when.all.9.not",  # not with a list
        "when.all.10.weight",  # unknown key in a comparison
        "when.all.11",  # two groups in one node
        "when.all.12.value",  # exists takes a bool
        "when.all.13.value",  # missing value
        "when.all.14.value",  # not an ISO date
        "when.all.15.value.1",  # wrong type inside a list
        "then.decision",
        "then.target_level",
        "then.credits_granted",
        "then.conditions",
        "then.notes",
        "then.substantial_difference.element",
        "then.substantial_difference.size",
        "then.verdict",
    }
    assert set(errors) == expected
    assert all(isinstance(messages, list) and messages for messages in errors.values())
    assert "source.colour" in errors["when.all.0.fact"][0]
    assert "credits.ects" in errors["when.all.1.value"][0]
    assert "< does not apply to level.found, a bool" in errors["when.all.4.op"][0]
    assert "workload.missing_ects" in errors["then.notes"][0]


def test_error_detail_names_the_rule_and_counts_problems():
    with pytest.raises(InvalidData) as excinfo:
        validate_rule({**rule("my-rule"), "then": {"decision": "maybe"}, "priority": "high"})
    assert excinfo.value.detail == "The rule my-rule is invalid (2 problems)."


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"valid_from": "2021-01-01", "valid_to": "2021-01-01"}, "valid_to", "after valid_from"),
        ({"valid_from": "2022-01-01", "valid_to": "2021-01-01"}, "valid_to", "after valid_from"),
        ({"valid_from": "20200101"}, "valid_from", "YYYY-MM-DD"),
        ({"valid_from": dt.datetime(2020, 1, 1)}, "valid_from", "YYYY-MM-DD"),
        ({"then": {}}, "then", "Give a decision"),
        ({"then": ["recognised"]}, "then", "An object"),
        (
            {"then": {"substantial_difference": {"element": "level"}}},
            "then.substantial_difference.detail",
            "Missing",
        ),
        ({"then": {"conditions": ["ok", ""]}}, "then.conditions.1", "non-empty"),
        ({"authority": {"kind": "king"}}, "authority.kind", "ministry, institution"),
        ({"authority": {"kind": "institution", "id": "12"}}, "authority.id", "positive integer"),
        ({"authority": {"kind": "registry", "country": "DE"}}, "authority.country", "Unknown"),
        ({"jurisdiction": None}, "jurisdiction", "framework code"),
        ({"when": []}, "when", "comparison"),
        ({"when": {}}, "when", "comparison"),
        ({"when": {"not": "x"}}, "when.not", "One condition"),
        ({"when": cmp("credits.ects", "<", True)}, "when.value", "credits.ects takes a number"),
        ({"when": cmp("credits.ects", "<", "NaN")}, "when.value", "credits.ects takes a number"),
        ({"when": cmp("credits.ects", "<", "1e999")}, "when.value", "credits.ects"),
        ({"when": cmp("level.eqf_gap", ">=", 1.0)}, "when.value", "an integer"),
        ({"when": cmp("level.eqf_gap", ">=", 2**70)}, "when.value", "an integer"),
        ({"when": cmp("level.found", "==", 1)}, "when.value", "true or false"),
        ({"when": cmp("institution.status", "<", "a")}, "when.op", "does not apply"),
        ({"when": cmp("source.country", "in", [])}, "when.value", "a list of 1"),
        ({"when": cmp("nope", "in", "GB")}, "when.value", "a list"),
        ({"when": cmp("level.eqf_gap", ">=", 10**5000)}, "when.value", "too large to print"),
        ({"authority": "ministry"}, "authority", "An object"),
        ({"title": "x" * 301}, "title", "At most 300"),
        ({"then": {"notes": "x" * 2001}}, "then.notes", "At most 2000"),
        (
            {"then": {"substantial_difference": "level"}},
            "then.substantial_difference",
            "element and detail",
        ),
    ],
)
def test_single_errors(change, path, fragment):
    errors = errors_of({**rule(), **change})
    assert path in errors, errors
    assert any(fragment in message for message in errors[path]), errors[path]


def test_missing_required_fields():
    errors = errors_of({})
    assert set(errors) == {"id", "title", "authority", "jurisdiction", "priority", "then"}
    assert errors["id"] == ["Missing."]


def test_a_rule_is_an_object():
    assert errors_of(["not", "a", "rule"]) == {"_schema": ["Expected an object."]}


def nested(depth):
    node = cmp("level.found", "==", True)
    for _ in range(depth - 1):
        node = {"not": node}
    return node


def test_depth_limit():
    validate_rule(rule(when=nested(8)))
    errors = errors_of(rule(when=nested(9)))
    assert list(errors) == ["when" + ".not" * 8]
    assert "8 levels" in errors["when" + ".not" * 8][0]


def test_a_very_deep_tree_is_refused_without_recursing_through_it():
    errors = errors_of(rule(when=nested(5000)))
    assert len(errors) == 1


def test_node_limit():
    validate_rule(rule(when={"all": [cmp("level.found", "==", True)] * 99}))  # 100 nodes
    errors = errors_of(rule(when={"all": [cmp("level.found", "==", True)] * 100}))
    assert errors == {"when": ["At most 100 conditions (groups count too)."]}


# --- evaluation: operators, types, missing facts ---------------------------------------------


@pytest.mark.parametrize(
    ("fact", "op", "value", "actual", "held"),
    [
        ("source.country", "==", "GB", "GB", True),
        ("source.country", "==", "GB", "IE", False),
        ("source.country", "!=", "GB", "IE", True),
        ("source.country", "!=", "GB", "GB", False),
        ("source.country", "in", ["GB", "IE"], "IE", True),
        ("source.country", "in", ["GB", "IE"], "FR", False),
        ("source.country", "not_in", ["GB", "IE"], "FR", True),
        ("source.country", "not_in", ["GB", "IE"], "GB", False),
        ("qualification.type", "contains", "bachelor", "honours_bachelor", True),
        ("qualification.type", "contains", "master", "honours_bachelor", False),
        ("source.eqf_level", "==", 6, 6, True),
        ("source.eqf_level", "<", 6, 5, True),
        ("source.eqf_level", "<", 6, 6, False),
        ("source.eqf_level", "<=", 6, 6, True),
        ("source.eqf_level", ">", 6, 6, False),
        ("source.eqf_level", ">=", 6, 7, True),
        ("source.eqf_level", "in", [6, 7], 7, True),
        ("source.eqf_level", "not_in", [6, 7], 5, True),
        ("level.eqf_gap", ">=", 1, -1, False),
        ("credits.ects", "<", "240", D(180), True),
        ("credits.ects", "==", "180", D("180.00"), True),
        ("credits.ects", "!=", "180", D("180.01"), True),
        ("credits.ects", ">", "180", D(180), False),
        ("credits.ects", "in", ["180", "240"], D("240.0"), True),
        ("award_date", "<", "2020-01-01", dt.date(2019, 12, 31), True),
        ("award_date", ">=", "2020-01-01", dt.date(2019, 12, 31), False),
        ("award_date", "==", "2020-01-01", dt.date(2020, 1, 1), True),
        ("award_date", "in", ["2020-01-01"], dt.date(2020, 1, 1), True),
        ("level.found", "==", True, True, True),
        ("level.found", "==", True, False, False),
        ("level.found", "!=", True, False, True),
        ("level.found", "exists", True, False, True),
        ("level.found", "exists", False, False, False),
    ],
)
def test_operators(fact, op, value, actual, held):
    trace = only(rule(when=cmp(fact, op, value)), {fact: actual})
    assert trace.matched is held
    (condition,) = trace.conditions
    assert condition.held is held
    assert (condition.path, condition.fact, condition.op) == ("when", fact, op)
    assert condition.actual == actual


@pytest.mark.parametrize(
    ("op", "value", "actual", "why"),
    [
        ("<", "240", D(180), "credits.ects is 180, which is < 240"),
        ("<", "240", D(240), "credits.ects is 240, which is not < 240"),
        ("==", "180", D("180.5"), "credits.ects is 180.5, which differs from 180"),
        ("in", ["60", "90"], D(60), "credits.ects is 60, which is one of 60, 90"),
        ("exists", True, D(60), "credits.ects is present (60)"),
        ("exists", True, None, "credits.ects is missing"),
        ("exists", False, None, "credits.ects is missing"),
        ("<", "240", None, "credits.ects is missing"),
    ],
)
def test_why_is_a_plain_sentence(op, value, actual, why):
    condition = only(rule(when=cmp("credits.ects", op, value)), {"credits.ects": actual})
    assert condition.conditions[0].why == why


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">=", "in", "not_in"])
def test_a_comparison_on_a_missing_fact_does_not_hold(op):
    value = ["1"] if op in ("in", "not_in") else "1"
    for facts in ({}, {"credits.ects": None}):
        trace = only(rule(when=cmp("credits.ects", op, value)), facts)
        assert not trace.matched
        assert trace.conditions[0].why == "credits.ects is missing"
        assert trace.conditions[0].actual is None
        assert trace.reason == "Did not match: credits.ects is missing."


def test_contains_on_a_missing_fact_does_not_hold():
    assert not only(rule(when=cmp("qualification.type", "contains", "x"))).matched


def test_exists_false_holds_on_a_missing_fact_only():
    when = cmp("institution.status", "exists", False)
    assert only(rule(when=when)).matched
    assert not only(rule(when=when), {"institution.status": "unknown"}).matched


def test_not_over_a_missing_fact_holds():
    trace = only(rule(when={"not": cmp("institution.status", "==", "recognised")}))
    assert trace.matched
    assert trace.conditions[0].why == (
        "the negated condition did not hold (institution.status is missing)"
    )


def test_case_values_are_read_as_their_fact_type():
    when = {
        "all": [
            cmp("credits.ects", "==", "180"),
            cmp("award_date", "==", "2019-06-30"),
            cmp("level.eqf_gap", "==", 1),
            cmp("grade.normalised", "==", "0.1"),
        ]
    }
    facts = {
        "credits.ects": 180,
        "award_date": dt.datetime(2019, 6, 30, 12),
        "level.eqf_gap": D(1),
        "grade.normalised": 0.1,
    }
    trace = only(rule(when=when), facts)
    assert trace.matched
    assert [condition.actual for condition in trace.conditions[1:]] == [
        D(180),
        dt.date(2019, 6, 30),
        1,
        D("0.1"),
    ]
    assert only(
        rule(when=cmp("award_date", "==", "2019-06-30")), {"award_date": "2019-06-30"}
    ).matched


@pytest.mark.parametrize(
    ("fact", "value"),
    [
        ("credits.ects", "a lot"),
        ("credits.ects", True),
        ("credits.ects", D("NaN")),
        ("credits.ects", float("inf")),
        ("source.country", 3),
        ("level.found", 1),
        ("level.eqf_gap", D("1.5")),
        ("level.eqf_gap", "1"),
        ("award_date", "yesterday"),
        ("award_date", 20190630),
    ],
)
def test_a_fact_of_the_wrong_type_holds_nothing_and_never_raises(fact, value):
    kind = FACTS[fact]
    comparison_value = {"str": "x", "int": 1, "decimal": "1", "date": "2020-01-01", "bool": True}[
        kind
    ]
    trace = only(
        rule(
            when={
                "any": [
                    cmp(fact, "==", comparison_value),
                    {"not": cmp(fact, "!=", comparison_value)},
                ]
            }
        ),
        {fact: value},
    )
    assert not trace.conditions[1].held
    assert f"not a {kind}" in trace.conditions[1].why
    assert only(rule(when=cmp(fact, "exists", True)), {fact: value}).matched


def test_unknown_facts_in_the_case_are_ignored():
    assert only(
        rule(when=cmp("level.found", "==", True)), {"level.found": True, "something.else": object()}
    ).matched


# --- Decimal exactness ----------------------------------------------------------------------


def test_decimal_exactness():
    below = rule(when=cmp("credits.ects", "<", 180))
    assert only(below, {"credits.ects": D("179.99")}).matched
    assert only(
        validate_rule(rule(when=cmp("credits.ects", ">=", "179.99"))), {"credits.ects": D("179.99")}
    ).matched
    assert not only(below, {"credits.ects": D("180.000")}).matched
    # 0.1 + 0.2 is 0.3 in decimals; a float path would say 0.30000000000000004.
    third = rule(when=cmp("workload.ratio", "==", "0.3"))
    assert only(third, {"workload.ratio": D("0.1") + D("0.2")}).matched
    # A rule parsed with parse_float=Decimal keeps every digit.
    parsed = json.loads(
        json.dumps(rule(when={"fact": "credits.ects", "op": "<", "value": 0})), parse_float=Decimal
    )
    parsed["when"]["value"] = json.loads("179.99999999999999999", parse_float=Decimal)
    assert validate_rule(parsed)["when"]["value"] == D("179.99999999999999999")
    assert only(parsed, {"credits.ects": D("179.99999999999999998")}).matched


# --- traces ---------------------------------------------------------------------------------


def test_trace_lists_every_node_in_order_without_short_circuit():
    when = {
        "all": [
            cmp("source.country", "==", "GB"),
            {"any": [cmp("credits.ects", ">=", "180"), cmp("credits.hours", ">=", "4500")]},
            {"not": cmp("institution.status", "==", "not_recognised")},
        ]
    }
    trace = only(rule(when=when), {"source.country": "IE", "credits.ects": D(240)})
    assert [(c.path, c.op, c.held) for c in trace.conditions] == [
        ("when", "all", False),
        ("when.all.0", "==", False),
        ("when.all.1", "any", True),
        ("when.all.1.any.0", ">=", True),
        ("when.all.1.any.1", ">=", False),  # evaluated although any already held
        ("when.all.2", "not", True),
        ("when.all.2.not", "==", False),
    ]
    group = trace.conditions[0]
    assert isinstance(group, ConditionTrace)
    assert (group.fact, group.expected, group.actual) == (None, None, None)
    assert group.why == "1 of 3 conditions failed: source.country is IE, which differs from GB"
    assert trace.conditions[2].why == (
        "1 of 2 conditions held: credits.ects is 240, which is >= 180"
    )
    assert trace.conditions[4].why == "credits.hours is missing"
    assert not trace.matched and trace.applicable
    assert trace.then is None
    assert trace.reason == (
        "Did not match: 1 of 3 conditions failed: source.country is IE, which differs from GB."
    )


def test_every_rule_is_in_the_trace_sorted_by_priority_then_id():
    rules = [
        rule("b", priority=10),
        rule("a", priority=10, when=cmp("level.found", "==", True)),
        rule("z", priority=99, jurisdiction="FR"),
        rule("c", priority=50, notes="advisory"),
        rule("d", priority=-5),
    ]
    result = run(rules, {"level.found": False})
    assert isinstance(result, Evaluation)
    assert all(isinstance(trace, RuleTrace) for trace in result.trace)
    assert [(t.rule_id, t.priority, t.applicable, t.matched) for t in result.trace] == [
        ("z", 99, False, False),
        ("c", 50, True, True),
        ("a", 10, True, False),
        ("b", 10, True, True),
        ("d", -5, True, True),
    ]
    assert result.trace[0].title == "Rule z"
    assert result.trace[0].conditions == ()
    assert run(list(reversed(rules)), {"level.found": False}) == result


def test_a_group_of_one_explains_itself_by_its_condition():
    trace = only(rule(when={"all": [cmp("credits.ects", "<", "90")]}), {"credits.ects": D(180)})
    assert trace.conditions[0].why == "credits.ects is 180, which is not < 90"
    assert trace.reason == "Did not match: credits.ects is 180, which is not < 90."


def test_rule_without_conditions_matches():
    trace = only(rule())
    assert trace.matched and trace.conditions == ()
    assert trace.reason == "Matched (it has no conditions); its decision, recognised, stands."


# --- decisions: priority and ties -----------------------------------------------------------


def test_the_highest_priority_matched_rule_decides():
    rules = [
        rule("base", priority=0),
        rule("refuse", priority=40, decision="not_recognised"),
        rule("review", priority=90, decision="needs_review", when=cmp("level.found", "==", False)),
    ]
    result = run(rules, {"level.found": True})
    assert (result.decision, result.decided_by) == ("not_recognised", "refuse")
    reasons = {trace.rule_id: trace.reason for trace in result.trace}
    assert reasons["base"] == (
        "Matched (it has no conditions), but refuse has a higher "
        "priority (40), so its decision, not_recognised, stands."
    )
    assert reasons["refuse"].endswith("its decision, not_recognised, stands.")


def test_advisory_rules_never_decide():
    rules = [rule("base", priority=0), rule("note", priority=99, notes="Look closer.")]
    result = run(rules)
    assert (result.decision, result.decided_by) == ("recognised", "base")
    assert result.trace[0].reason == (
        "Matched (it has no conditions); advisory, with no decision of its own."
    )
    assert result.outcome["notes"] == ["Look closer."]


def test_no_decision_without_a_matching_rule_that_has_one():
    result = run([rule("note", notes="n"), rule("x", when=cmp("level.found", "==", True))])
    assert (result.decision, result.decided_by) == (None, None)
    assert result.outcome == {
        "target_level": None,
        "target_qualification_type": None,
        "credits_granted": None,
        "alternative": None,
        "conditions": [],
        "notes": ["n"],
    }
    assert run([]).trace == ()


@pytest.mark.parametrize(
    ("decisions", "winner"),
    [
        (("recognised", "partially_recognised"), "partially_recognised"),
        (("partially_recognised", "not_recognised"), "not_recognised"),
        (("recognised", "needs_review"), "needs_review"),
        (("needs_review", "not_recognised", "recognised"), "needs_review"),
    ],
)
def test_ties_on_priority_go_to_the_more_cautious_decision(decisions, winner):
    rules = [rule(f"r{index}", decision=decision) for index, decision in enumerate(decisions)]
    for ordering in (rules, list(reversed(rules))):
        assert run(ordering).decision == winner


def test_tie_reasons():
    rules = [
        rule("a-yes", decision="recognised"),
        rule("b-no", decision="not_recognised"),
        rule("c-no", decision="not_recognised"),
    ]
    result = run(rules)
    assert result.decided_by == "b-no"
    reasons = [trace.reason for trace in result.trace]
    assert reasons[0] == (
        "Matched (it has no conditions), but at the same priority the more "
        "cautious decision of b-no, not_recognised, stands."
    )
    assert reasons[2] == (
        "Matched (it has no conditions); b-no comes first by id with the same "
        "decision, not_recognised."
    )


def test_outcome_merges_matched_rules():
    rules = [
        rule(
            "decider",
            priority=50,
            decision="partially_recognised",
            target_level="DE-DQR:6",
            target_qualification_type="bachelor",
            credits_granted="150",
            conditions=["Bridging of {workload.shortfall_ects} ECTS."],
            notes="Partial.",
            substantial_difference={"element": "workload", "detail": "{credits.ects} ECTS."},
            alternative={"form": "partial", "detail": "{credits.ects} ECTS count."},
        ),
        rule(
            "advice",
            priority=60,
            conditions=["Bridging of {workload.shortfall_ects} ECTS.", "Language test."],
            notes="Advice.",
            substantial_difference={"element": "profile", "detail": "Other field."},
        ),
        rule("base", priority=0, decision="recognised", target_level="DE-DQR:7", notes="Base."),
        rule(
            "unmatched",
            priority=70,
            decision="needs_review",
            notes="Never.",
            when=cmp("level.found", "==", False),
        ),
    ]
    result = run(rules, {"credits.ects": D(180), "workload.shortfall_ects": D("60.0")})
    assert result.decided_by == "decider"
    assert result.outcome == {
        "target_level": "DE-DQR:6",
        "target_qualification_type": "bachelor",
        "credits_granted": D(150),
        "alternative": {"form": "partial", "detail": "180 ECTS count."},
        "conditions": ["Bridging of 60.0 ECTS.", "Language test."],
        "notes": ["Advice.", "Partial.", "Base."],
    }
    assert result.differences == (
        {"rule_id": "advice", "element": "profile", "detail": "Other field."},
        {"rule_id": "decider", "element": "workload", "detail": "180 ECTS."},
    )
    matched_then = result.trace[2].then
    assert matched_then["conditions"] == ["Bridging of 60.0 ECTS."]
    assert result.trace[0].then is None  # unmatched


def test_placeholders_of_missing_facts_say_unknown():
    result = run([rule(notes="Shortfall: {workload.shortfall_ects} ECTS; {not a fact}.")])
    assert result.outcome["notes"] == ["Shortfall: unknown ECTS; {not a fact}."]


# --- jurisdiction and validity --------------------------------------------------------------


def test_jurisdiction():
    rules = [
        rule("everywhere", jurisdiction="*"),
        rule("germany", jurisdiction="DE"),
        rule("dqr", jurisdiction="DE-DQR"),
        rule("france", jurisdiction="FR"),
    ]
    applicable = {t.rule_id: t.applicable for t in run(rules, jurisdiction=["DE", "DE-DQR"]).trace}
    assert applicable == {"everywhere": True, "germany": True, "dqr": True, "france": False}
    france = next(t for t in run(rules).trace if t.rule_id == "france")
    assert not france.matched and france.then is None
    assert france.reason == "Not applicable: it is for FR, and the case is for DE, DE-DQR."
    # A single code given as a string is one code, not its letters.
    assert [t.applicable for t in run([rule("g", jurisdiction="DE")], jurisdiction="DE").trace] == [
        True
    ]
    assert [t.applicable for t in run([rule("g", jurisdiction="D")], jurisdiction="DE").trace] == [
        False
    ]


@pytest.mark.parametrize(
    ("on", "applicable", "reason"),
    [
        (
            dt.date(2019, 12, 31),
            False,
            "Not applicable: it applies from 2020-01-01, after 2019-12-31.",
        ),
        (dt.date(2020, 1, 1), True, None),
        (dt.date(2020, 12, 31), True, None),
        (
            dt.date(2021, 1, 1),
            False,
            "Not applicable: it applies before 2021-01-01 only, not on 2021-01-01.",
        ),
        (dt.datetime(2020, 5, 1, 23, 59), True, None),
    ],
)
def test_validity_is_half_open(on, applicable, reason):
    dated = {**rule(), "valid_from": "2020-01-01", "valid_to": "2021-01-01"}
    trace = only(dated, on=on)
    assert trace.applicable is applicable and trace.matched is applicable
    if reason:
        assert trace.reason == reason


def test_a_rule_that_does_not_apply_is_not_evaluated():
    french = rule(when=cmp("level.found", "==", True), jurisdiction="FR")
    trace = only(french, {"level.found": True})
    assert trace.conditions == () and not trace.matched


def test_evaluate_refuses_an_invalid_rule():
    with pytest.raises(InvalidData):
        run([rule(when=cmp("credits.ects", "<", "abc"))])


# --- the default policy ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy():
    return load_default_policy()


def test_default_policy_file_validates_rule_by_rule():
    raw = json.loads(DEFAULT_POLICY.read_text(encoding="utf-8"), parse_float=Decimal)
    assert isinstance(raw, list) and raw
    ids = [validate_rule(item)["id"] for item in raw]
    assert len(set(ids)) == len(ids)
    # Also as plain json (floats), the way an API client would send them.
    for item in json.loads(DEFAULT_POLICY.read_text(encoding="utf-8")):
        validate_rule(item)


def test_default_policy_shape(policy):
    for item in policy:
        assert item["id"].startswith("default-")
        assert item["authority"] == {"kind": "registry"}
        assert item["jurisdiction"] == "*"
        assert 0 <= item["priority"] <= 50
        assert item["title"]
        notes = item["then"]["notes"]
        assert "EAR manual ch." in notes or "Lisbon Recognition Convention" in notes
    baseline = [item for item in policy if item["when"] is None]
    assert [(item["id"], item["priority"], item["then"]["decision"]) for item in baseline] == [
        ("default-baseline-recognise", 0, "recognised")
    ]
    elements = {
        item["then"]["substantial_difference"]["element"]
        for item in policy
        if "substantial_difference" in item["then"]
    }
    assert {"level", "workload", "quality", "profile"} <= elements
    facts = json.dumps(rule_to_json({"rules": policy}))
    assert "learning_outcomes.present" in facts


FULL_MATCH = {
    "source.country": "GB",
    "source.level": "GB-SCQF:10",
    "source.eqf_level": 6,
    "target.country": "DE",
    "target.framework": "DE-DQR",
    "target.eqf_level": 6,
    "qualification.type": "bachelor",
    "target.qualification_type": "bachelor",
    "credits.ects": D(240),
    "workload.ratio": D(1),
    "workload.shortfall_ects": D(0),
    "institution.status": "recognised",
    "institution.match": "matched",
    "institution.match_score": D("0.97"),
    "institution.id": 12,
    "level.found": True,
    "level.relation": "exactMatch",
    "level.confidence": D(1),
    "level.eqf_gap": 0,
    "field.isced_f": "0613",
    "field.same_broad": True,
    "learning_outcomes.present": True,
    "award_date": dt.date(2019, 6, 30),
    "micro_credential": False,
    "delivery_mode": "onsite",
    "grade.normalised": D("0.6"),
}


def assess(policy, **changes):
    return evaluate(
        policy, {**FULL_MATCH, **changes}, jurisdiction=["DE", "DE-DQR"], on=dt.date(2019, 6, 30)
    )


def test_default_policy_full_match_is_recognised(policy):
    result = assess(policy)
    assert (result.decision, result.decided_by) == ("recognised", "default-baseline-recognise")
    assert result.differences == ()
    assert result.outcome["conditions"] == []
    assert len(result.trace) == len(policy)
    assert [t.rule_id for t in result.trace if t.matched] == ["default-baseline-recognise"]


def test_default_policy_short_workload_is_partially_recognised(policy):
    result = assess(
        policy,
        **{"credits.ects": D(180), "workload.ratio": D("0.75"), "workload.shortfall_ects": D(60)},
    )
    assert (result.decision, result.decided_by) == (
        "partially_recognised",
        "default-workload-short",
    )
    assert [(d["rule_id"], d["element"]) for d in result.differences] == [
        ("default-workload-short", "workload")
    ]
    assert "180 ECTS" in result.differences[0]["detail"]
    assert result.outcome["conditions"] == [
        "Complete bridging studies of 60 ECTS to make up the workload shortfall."
    ]


def test_default_policy_far_short_workload_is_partial_recognition_of_the_credits(policy):
    # EAR manual ch. 11, Recommendation, "Partial recognition": some of the credits earned are
    # accepted, as exemptions in the programme required. No longer a plain refusal.
    result = assess(
        policy,
        **{"credits.ects": D(120), "workload.ratio": D("0.5"), "workload.shortfall_ects": D(120)},
    )
    assert (result.decision, result.decided_by) == (
        "partially_recognised",
        "default-workload-far-short",
    )
    assert result.outcome["alternative"]["form"] == "partial"
    assert result.outcome["alternative"]["detail"] == (
        "Partial recognition: the 120 ECTS earned count as exemptions in a programme leading to "
        "the qualification asked for; 120 ECTS remain to be completed."
    )
    assert result.outcome["conditions"] == [
        "Complete the remaining 120 ECTS in a programme leading to the qualification asked for; "
        "the 120 ECTS earned count as exemptions."
    ]


def test_default_policy_no_level_path_needs_review(policy):
    result = assess(
        policy,
        **{
            "level.found": False,
            "level.relation": None,
            "level.eqf_gap": None,
            "level.confidence": None,
            "workload.ratio": D("0.8"),
        },
    )
    assert (result.decision, result.decided_by) == ("needs_review", "default-level-no-path")


def test_default_policy_unknown_status_is_recognised_with_a_quality_note(policy):
    for status in ({"institution.status": "unknown"}, {"institution.status": None}):
        result = assess(policy, **status)
        assert result.decision == "recognised"
        assert result.differences == ()
        assert any("lowers the confidence" in note for note in result.outcome["notes"])


def test_default_policy_unrecognised_institution_is_not_recognised(policy):
    result = assess(policy, **{"institution.status": "not_recognised"})
    assert (result.decision, result.decided_by) == (
        "not_recognised",
        "default-quality-institution-not-recognised",
    )
    assert [d["element"] for d in result.differences] == ["quality"]


def test_default_policy_unidentified_institution_needs_review(policy):
    for match in ("ambiguous", "no_match"):
        result = assess(
            policy, **{"institution.match": match, "institution.status": "not_recognised"}
        )
        assert (result.decision, result.decided_by) == (
            "needs_review",
            "default-institution-unidentified",
        )
        # The quality difference is still reported for the evaluator.
        assert [d["element"] for d in result.differences] == ["quality"]


def test_default_policy_lower_level_suggests_alternative_recognition(policy):
    result = assess(
        policy,
        **{
            "source.eqf_level": 5,
            "level.eqf_gap": 1,
            "level.reached": "DE-DQR:5",
            "workload.ratio": D("0.5"),
            "workload.shortfall_ects": D(120),
        },
    )
    assert (result.decision, result.decided_by) == ("not_recognised", "default-level-below-target")
    # The workload rules compare with the qualification asked for only at its level.
    assert [d["element"] for d in result.differences] == ["level"]
    assert result.differences[0]["detail"] == (
        "The qualification is at EQF level 5, 1 level(s) below the qualification asked for "
        "(EQF level 6)."
    )
    assert result.outcome["alternative"]["form"] == "alternative"
    assert result.outcome["alternative"]["detail"].startswith(
        "Alternative recognition at the level the qualification reaches: DE-DQR:5 (EQF level 5)"
    )
    assert result.outcome["conditions"] == []


def test_default_policy_advisory_elements(policy):
    result = assess(
        policy,
        **{
            "level.relation": "broadMatch",
            "field.same_broad": False,
            "learning_outcomes.present": False,
        },
    )
    assert result.decision == "recognised"
    assert [(d["rule_id"], d["element"]) for d in result.differences] == [
        ("default-profile-other-field", "profile")
    ]
    matched = [t.rule_id for t in result.trace if t.matched]
    assert matched == [
        "default-level-relation-inexact",
        "default-profile-other-field",
        "default-learning-outcomes-absent",
        "default-baseline-recognise",
    ]
    assert "broadMatch" in result.outcome["notes"][0]
