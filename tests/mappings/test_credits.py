"""Credit conversion: the worked examples of the reference notes (section 3) and bad input."""

from decimal import Decimal, localcontext

import pytest

from mappings.credits import (
    METHODS,
    CreditConversion,
    CreditRule,
    CreditSystemSpec,
    convert_credits,
)
from registry.core.errors import InvalidData

D = Decimal

ECTS = CreditSystemSpec("ECTS", D(25), D(30), D(60))
ECTS_MT = CreditSystemSpec("ECTS-MT", D(25), D(25), D(60))
GB_CATS = CreditSystemSpec("GB-CATS", D(10), D(10), D(120))
SCQF = CreditSystemSpec("GB-SCQF-CP", D(10), D(10), D(120))
HK = CreditSystemSpec("HK-CR", D(10), D(10), None)
US_SEM = CreditSystemSpec("US-SEM", D(45), D(45), D(30))
US_QTR = CreditSystemSpec("US-QTR", D(30), D(36), D(45))
AU = CreditSystemSpec("AU-EFTSL", None, None, D("1.0"))
ECVET = CreditSystemSpec("ECVET", None, None, D(60), "ECVET points measure no workload")

US_RULE = CreditRule(
    "UNI-X-2024", "US-SEM", "ECTS", D("1.5"), "University X learning agreement 2024"
)


def errors_of(excinfo):
    return excinfo.value.errors


def test_methods():
    assert METHODS == ("annual_load", "notional_hours")


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (D(240), GB_CATS, ECTS, D(120)),
        (D(30), US_SEM, ECTS, D(60)),
        (D(45), US_QTR, ECTS, D(60)),
        (D(480), SCQF, ECTS, D(240)),
        (D(180), ECTS, GB_CATS, D(360)),
        (D(1), AU, ECTS, D(60)),
    ],
)
def test_annual_load_examples(value, source, target, expected):
    result = convert_credits(value, source, target)
    assert isinstance(result.value, Decimal)
    assert result.value == expected
    assert result.method == "annual_load"
    assert result.unit == target.code
    assert result.low is None and result.high is None


def test_annual_load_as_dict():
    result = convert_credits(D(240), GB_CATS, ECTS)
    assert result.as_dict() == {
        "value": "120",
        "unit": "ECTS",
        "method": "annual_load",
        "basis": "annual load: 120 GB-CATS = 60 ECTS (a full-time year each)",
    }
    assert convert_credits(D(180), ECTS, GB_CATS).basis == (
        "annual load: 60 ECTS = 120 GB-CATS (a full-time year each)"
    )


def test_ecvet_by_annual_load_says_it_is_this_registrys_convention():
    """Issue 18, item 6: 60 ECVET points stand for the learning outcomes of a year of formal
    full-time VET (Recommendation 2009/C 155/02, Annex II), 60 ECTS credits for a year of
    higher-education workload (ECTS Users' Guide 2015); no published text equates the two, so
    equating the years is this registry's convention, and the basis says so, either way."""
    into_ects = convert_credits(D(120), ECVET, ECTS)
    assert into_ects.value == D(120) and into_ects.method == "annual_load"
    assert into_ects.basis == (
        "annual load: 60 ECVET = 60 ECTS (a full-time year each); a convention of this"
        " registry, not a published equivalence (ECVET: ECVET points measure no workload)"
    )
    assert into_ects.as_dict()["basis"] == into_ects.basis
    assert "a convention of this registry" in convert_credits(D(60), ECTS, ECVET).basis
    # A published equivalence (two UK credits are one ECTS credit) keeps its plain basis.
    assert "convention" not in convert_credits(D(240), GB_CATS, ECTS).basis
    # An explicit rule is its authority's decision, not the registry's convention.
    rule = CreditRule("VET-AGREEMENT", "ECVET", "ECTS", D("0.5"), "Agreement 2024")
    assert "convention" not in convert_credits(D(60), ECVET, ECTS, rule=rule).basis


def test_repeating_quotient_stays_exact():
    result = convert_credits(D(5), US_QTR, ECTS)
    assert result.value == D("6.666666666666666666666666667")
    assert result.as_dict()["value"] == "6.67"


def test_exact_whatever_the_callers_context():
    with localcontext() as ctx:
        ctx.prec = 3
        result = convert_credits(D(5), US_QTR, ECTS)
    assert result.value == D("6.666666666666666666666666667")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (D(15), "7.5"),  # trailing zero dropped
        (D("0.25"), "0.13"),  # 0.125: half up, not half even
        (D(0), "0"),
        (D("0.01"), "0.01"),  # 0.005 -> 0.01
    ],
)
def test_value_display(value, shown):
    assert convert_credits(value, GB_CATS, ECTS).as_dict()["value"] == shown


def test_huge_values_still_display():
    assert convert_credits(D("1E+40"), GB_CATS, ECTS).as_dict()["value"] == "5" + "0" * 39


def test_notional_hours_uk_year():
    result = convert_credits(D(120), GB_CATS, ECTS, "notional_hours")
    assert (result.low, result.high, result.value) == (D(40), D(48), D(44))
    assert result.method == "notional_hours"
    data = result.as_dict()
    assert data["range"] == {"low": "40.00", "high": "48.00"}
    assert data["value"] == "44"
    assert data["basis"] == (
        "notional hours: 120 GB-CATS at 10 h each = 1200 h; at 25-30 h per ECTS credit"
        " that is 40.00-48.00 ECTS (midpoint 44)"
    )


@pytest.mark.parametrize(
    ("value", "source", "target", "low", "high", "range_"),
    [
        (D(60), ECTS_MT, ECTS, D(50), D(60), {"low": "50.00", "high": "60.00"}),
        (D(1), US_SEM, ECTS, D("1.5"), D("1.8"), {"low": "1.50", "high": "1.80"}),
        # Source with a range: low from its low hours, high from its high hours.
        (D(60), ECTS, GB_CATS, D(150), D(180), {"low": "150.00", "high": "180.00"}),
        (D(1), US_QTR, ECTS, D(1), D("1.44"), {"low": "1.00", "high": "1.44"}),
        (D(30), HK, ECTS, D(10), D(12), {"low": "10.00", "high": "12.00"}),
    ],
)
def test_notional_hours_ranges(value, source, target, low, high, range_):
    result = convert_credits(value, source, target, "notional_hours")
    assert (result.low, result.high) == (low, high)
    assert result.value == (low + high) / 2
    assert result.as_dict()["range"] == range_


def test_notional_hours_range_rounds_half_up():
    # 0.075 UK credits = 0.75 h = 0.025 ECTS at 30 h; half even would give 0.02.
    result = convert_credits(D("0.075"), GB_CATS, ECTS, "notional_hours")
    assert result.low == D("0.025")
    assert result.as_dict()["range"] == {"low": "0.03", "high": "0.03"}


def test_rule_overrides_both_methods():
    for method in (*METHODS, "rule"):
        result = convert_credits(D(30), US_SEM, ECTS, method, rule=US_RULE)
        assert result.value == D(45)
        assert result.method == "rule"
        assert result.low is None
        assert result.as_dict() == {
            "value": "45",
            "unit": "ECTS",
            "method": "rule",
            "basis": "rule UNI-X-2024: 1 US-SEM = 1.5 ECTS (University X learning agreement 2024)",
        }


def test_rule_applies_even_within_one_system():
    # An explicit decision is honoured as written, even between equal codes.
    rule = CreditRule("UNI-Y", "ECTS", "ECTS", D("0.5"), "University Y: half credit for audits")
    result = convert_credits(D(10), ECTS, ECTS, rule=rule)
    assert (result.value, result.method) == (D(5), "rule")


def test_same_system_keeps_value():
    result = convert_credits(D("42.5"), ECTS, ECTS)
    assert result == CreditConversion(D("42.5"), "ECTS", "annual_load", "same credit system")
    notional = convert_credits(D("42.5"), ECTS, ECTS, "notional_hours")
    assert (notional.value, notional.low, notional.high) == (D("42.5"),) * 3
    assert notional.method == "notional_hours"
    assert notional.as_dict()["range"] == {"low": "42.50", "high": "42.50"}
    # Needs neither a year nor hours.
    assert convert_credits(D(7), HK, HK).value == D(7)
    assert convert_credits(D(7), AU, AU, "notional_hours").value == D(7)


@pytest.mark.parametrize("value", [D(-1), D("-0"), D("NaN"), D("Infinity"), 1.5, 3, "10"])
def test_bad_value(value):
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(value, GB_CATS, ECTS)
    assert list(errors_of(excinfo)) == ["value"]


@pytest.mark.parametrize("method", ["bogus", "rule", "", "ANNUAL_LOAD"])
def test_unknown_method(method):
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(D(1), GB_CATS, ECTS, method)
    assert list(errors_of(excinfo)) == ["method"]


def test_annual_load_without_a_year_suggests_notional_hours():
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(D(120), HK, ECTS)
    (message,) = errors_of(excinfo)["method"]
    assert "HK-CR" in message and "notional_hours" in message
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(D(60), ECTS, HK, "annual_load")
    assert "HK-CR" in errors_of(excinfo)["method"][0]


def test_notional_hours_without_hours():
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(D(1), AU, ECTS, "notional_hours")
    (message,) = errors_of(excinfo)["method"]
    assert "AU-EFTSL" in message


@pytest.mark.parametrize(
    "rule",
    [
        CreditRule("R", "US-QTR", "ECTS", D("1.5"), "wrong source"),
        CreditRule("R", "US-SEM", "GB-CATS", D("1.5"), "wrong target"),
        CreditRule("R", "ECTS", "US-SEM", D("1.5"), "reversed"),
        CreditRule("R", "US-SEM", "ECTS", D(0), "zero"),
        CreditRule("R", "US-SEM", "ECTS", D(-2), "negative"),
        CreditRule("R", "US-SEM", "ECTS", 1.5, "float"),
    ],
)
def test_bad_rule(rule):
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(D(30), US_SEM, ECTS, rule=rule)
    assert list(errors_of(excinfo)) == ["rule"]


@pytest.mark.parametrize(
    "spec",
    [
        CreditSystemSpec("X", D(30), D(25), D(60)),  # bounds reversed
        CreditSystemSpec("X", D(10), None, D(60)),  # one bound only
        CreditSystemSpec("X", D(10), D(10), D(0)),  # empty year
        CreditSystemSpec("X", D(0), D(10), D(60)),
        CreditSystemSpec("X", 10.0, 10.0, D(60)),  # binary floats
    ],
)
def test_malformed_system(spec):
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(D(1), spec, ECTS)
    assert list(errors_of(excinfo)) == ["from"]
    with pytest.raises(InvalidData) as excinfo:
        convert_credits(D(1), ECTS, spec)
    assert list(errors_of(excinfo)) == ["to"]
