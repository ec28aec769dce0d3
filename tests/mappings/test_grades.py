"""Grade conversion: the worked examples of the reference notes (section 4) and bad input."""

from decimal import Decimal, localcontext

import pytest

from mappings.grades import (
    METHODS,
    Band,
    ConversionTable,
    Distribution,
    GradeConversion,
    ScaleSpec,
    convert_grade,
)
from registry.core.errors import InvalidData

D = Decimal

DE = ScaleSpec(
    "DE-1-5",
    "numeric",
    best=D("1.0"),
    worst=D("5.0"),
    pass_mark=D("4.0"),
    decimals=1,
    rounding="truncate",
)
FR = ScaleSpec("FR-0-20", "numeric", best=D(20), worst=D(0), pass_mark=D(10))
US = ScaleSpec("US-GPA-4", "numeric", best=D("4.0"), worst=D("0.0"), pass_mark=D("1.0"))
IT = ScaleSpec(
    "IT-30",
    "numeric",
    best=D(30),
    worst=D(0),
    pass_mark=D(18),
    decimals=0,
    special_values={"30L": "30"},
)
GB_PCT = ScaleSpec("GB-PCT", "numeric", best=D(100), worst=D(0), pass_mark=D(40), decimals=0)
GB_HONS = ScaleSpec(
    "GB-HONS",
    "ordinal",
    bands=(
        Band("First", True, low=D(70), equivalent_scale="GB-PCT"),
        Band("2:1", True, low=D(60), equivalent_scale="GB-PCT"),
        Band("2:2", True, low=D(50), equivalent_scale="GB-PCT"),
        Band("Third", True, low=D(40), equivalent_scale="GB-PCT"),
        Band("Fail", False, low=D(0), equivalent_scale="GB-PCT"),
    ),
)
# Lower is better on the equivalent scale: a band's worse end is its `high`.
DE_WORDS = ScaleSpec(
    "DE-WORDS",
    "ordinal",
    bands=(
        Band("sehr gut", True, low=D("1.0"), high=D("1.5"), equivalent_scale="DE-1-5"),
        Band("gut", True, low=D("1.5"), high=D("2.5"), equivalent_scale="DE-1-5"),
        Band("befriedigend", True, low=D("2.5"), high=D("3.5"), equivalent_scale="DE-1-5"),
        Band("ausreichend", True, low=D("3.5"), high=D("4.0"), equivalent_scale="DE-1-5"),
        Band("nicht ausreichend", False, low=D("4.0"), high=D("5.0"), equivalent_scale="DE-1-5"),
    ),
)
ECTS_AF = ScaleSpec(
    "ECTS-A-F",
    "ordinal",
    bands=tuple(Band(code, True) for code in "ABCDE") + (Band("FX", False), Band("F", False)),
)
PASS_ONLY = ScaleSpec("PASS-ONLY", "ordinal", bands=(Band("P", True), Band("M", True)))
SCALES = {"GB-PCT": GB_PCT, "DE-1-5": DE}

# Invented data of the reference notes (section 4.2); "28" stands for 29-28 and so on.
IT_TABLE = Distribution(
    "IT-30",
    (("30L", D(5)), ("30", D(15)), ("28", D(20)), ("26", D(25)), ("22", D(20)), ("18", D(15))),
)
DE_TABLE = Distribution(
    "DE-1-5",
    (
        ("1.0", D(10)),
        ("1.3", D(10)),
        ("1.7", D(15)),
        ("2.0", D(15)),
        ("2.3", D(15)),
        ("2.7", D(35)),
    ),
)
ECTS_TABLE = Distribution(
    "ECTS-A-F", (("A", D(10)), ("B", D(25)), ("C", D(30)), ("D", D(25)), ("E", D(10)))
)
ECTS_TO_DE = ConversionTable(
    "UNI-T",
    "ECTS-A-F",
    "DE-1-5",
    (("A", "1.0"), ("B", "1.7"), ("C", "2.3"), ("D", "3.0"), ("E", "4.0"), ("FX", "5.0")),
)


def field_of(excinfo):
    (name,) = excinfo.value.errors
    return name


def message_of(excinfo):
    (messages,) = excinfo.value.errors.values()
    return messages[0]


def test_methods():
    assert METHODS == ("linear", "distribution")


# --- linear ------------------------------------------------------------------------------


def test_german_to_french():
    result = convert_grade("1.7", DE, FR)
    assert result.raw == D("17.66666666666666666666666667")
    assert result.as_dict() == {
        "value": "17.67",
        "raw": "17.6667",
        "scale": "FR-0-20",
        "passed": True,
        "method": "linear",
        "basis": "the two-anchor linear form of the modified Bavarian formula (the best and"
        " pass marks of each scale as anchors)",
        "table": None,
        "steps": [
            "1.7 passes on DE-1-5 (pass mark 4.0).",
            "Linear formula (modified Bavarian, two anchors):"
            " y = T_pass + (T_best − T_pass) × (x − S_pass) / (S_best − S_pass)"
            " = 10 + (20 − 10) × (1.7 − 4.0) / (1.0 − 4.0) = 17.6667 on FR-0-20.",
            "Shown with 2 decimal places, rounded half up: 17.67.",
        ],
    }


def test_exact_whatever_the_callers_context():
    with localcontext() as ctx:
        ctx.prec = 3
        result = convert_grade("1.7", DE, FR)
    assert result.raw == D("17.66666666666666666666666667")


@pytest.mark.parametrize(
    ("value", "source", "target", "shown", "raw", "passed"),
    [
        ("14", FR, DE, "2.8", D("2.8"), True),
        ("3.3", US, DE, "1.7", D("1.7"), True),
        ("27", IT, DE, "1.7", D("1.75"), True),  # truncated, not rounded to 1.8
        ("30L", IT, DE, "1.0", D("1.0"), True),
        ("30", IT, DE, "1.0", D("1.0"), True),
        ("18", IT, DE, "4.0", D("4.0"), True),
        ("4.3", DE, FR, "9.00", D(9), False),
        ("4.0", DE, FR, "10.00", D(10), True),
        ("1,7", DE, FR, "17.67", D("17.66666666666666666666666667"), True),
        (" 14 ", FR, DE, "2.8", D("2.8"), True),
    ],
)
def test_linear_examples(value, source, target, shown, raw, passed):
    result = convert_grade(value, source, target)
    assert (result.value, result.raw, result.passed) == (shown, raw, passed)
    assert (result.scale, result.method) == (target.code, "linear")


def test_special_value_is_explained():
    result = convert_grade("30L", IT, DE)
    assert result.steps[0] == "30L counts as 30 on IT-30."


def test_pass_mark_override_and_truncation():
    result = convert_grade("3.3", US, DE, pass_mark=D("2.0"))
    assert result.raw == D("2.05")
    assert result.value == "2.0"  # truncated, not rounded to 2.1
    assert result.as_dict()["raw"] == "2.0500"
    assert result.passed
    assert "Pass mark 2.0 used instead of US-GPA-4's 1.0." in result.steps
    assert "Shown with 1 decimal place, truncated: 2.0." in result.steps
    # The override decides `passed`: 1.5 passes at 1.0 but not at 2.0.
    assert convert_grade("1.5", US, DE).passed
    assert not convert_grade("1.5", US, DE, pass_mark=D("2.0")).passed


def test_one_division_keeps_terminating_results_exact():
    # 3 × 1.5 / 4.5 is exactly 1; 3 × (1.5 / 4.5) would be 0.999… and truncate to 0.9.
    nl = ScaleSpec("NL-10", "numeric", best=D(10), worst=D(1), pass_mark=D("5.5"), decimals=1)
    zero_pass = ScaleSpec(
        "Z-0-3", "numeric", best=D(3), worst=D(0), pass_mark=D(0), decimals=1, rounding="truncate"
    )
    result = convert_grade("7", nl, zero_pass)
    assert (result.raw, result.value) == (D(1), "1.0")


def test_failing_grade_is_clamped():
    result = convert_grade("5", FR, DE)
    assert (result.value, result.raw, result.passed) == ("5.0", D("5.0"), False)
    assert "Clamped to 5.0, the worst grade on DE-1-5." in result.steps


def test_ordinal_source_through_equivalent_scale():
    result = convert_grade("2:1", GB_HONS, DE, scales=SCALES)
    assert (result.value, result.raw, result.passed) == ("3.0", D(3), True)
    assert result.steps[1] == (
        "GB-HONS 2:1 is read as 60 on GB-PCT, the worse end of the band:"
        " the holder reached at least that mark."
    )
    assert "(60 − 40) / (100 − 40) = 3 on DE-1-5" in result.steps[2]
    # Issue 18, item 9: the answer says which mark of the band the default took, and why.
    assert result.basis == (
        "GB-HONS 2:1 read at the lower limit of its band on GB-PCT (60), the mark the holder"
        " reached at least, then the two-anchor linear form of the modified Bavarian formula"
        " (the best and pass marks of each scale as anchors)"
    )
    assert result.table is None and result.as_dict()["table"] is None
    assert convert_grade("First", GB_HONS, DE, scales=SCALES).value == "2.5"
    failed = convert_grade("Fail", GB_HONS, DE, scales=SCALES)
    assert (failed.value, failed.passed) == ("5.0", False)


@pytest.mark.parametrize(
    ("value", "band"),
    [
        ("65", "2:1"),
        ("60", "2:1"),
        ("69.99", "2:1"),
        ("70", "First"),
        ("100", "First"),
        ("40", "Third"),
        ("39.9", "Fail"),
        ("0", "Fail"),
    ],
)
def test_numeric_to_ordinal(value, band):
    result = convert_grade(value, GB_PCT, GB_HONS, scales=SCALES)
    assert result.value == band
    assert result.raw == D(value)  # the mark on the equivalent scale
    assert "falls in GB-HONS band " + band in result.steps[-1]


def test_numeric_to_ordinal_with_both_limits():
    # As bundled: each band also has its upper limit, exclusive except for the top band.
    bounded = ScaleSpec(
        "GB-HONS",
        "ordinal",
        bands=tuple(
            Band(band.code, band.passing, band.low, high, "GB-PCT")
            for band, high in zip(GB_HONS.bands, (D(100), D(70), D(60), D(50), D(40)), strict=True)
        ),
    )
    for value, band in (
        ("100", "First"),
        ("70", "First"),
        ("69.99", "2:1"),
        ("40", "Third"),
        ("39.99", "Fail"),
        ("0", "Fail"),
    ):
        assert convert_grade(value, GB_PCT, bounded, scales=SCALES).value == band


def test_numeric_to_ordinal_through_another_scale():
    result = convert_grade("14", FR, GB_HONS, scales=SCALES)
    assert (result.value, result.raw) == ("2:1", D(64))


@pytest.mark.parametrize(
    ("value", "band"),
    [
        ("15", "gut"),
        ("16", "gut"),
        ("18.4", "sehr gut"),
        ("20", "sehr gut"),
        ("13", "befriedigend"),
        ("10", "ausreichend"),
        ("0", "nicht ausreichend"),
    ],
)
def test_lower_is_better_equivalent_scale(value, band):
    assert convert_grade(value, FR, DE_WORDS, scales=SCALES).value == band


def test_lower_is_better_source_band_takes_its_worse_end():
    result = convert_grade("gut", DE_WORDS, FR, scales=SCALES)
    assert (result.value, result.raw) == ("15.00", D(15))
    assert result.basis.startswith("DE-WORDS gut read at the upper limit of its band on DE-1-5")


def test_ordinal_to_ordinal():
    result = convert_grade("2:1", GB_HONS, DE_WORDS, scales=SCALES)
    assert (result.value, result.raw) == ("befriedigend", D(3))


# --- distribution --------------------------------------------------------------------------


def by_distribution(value, source, target, source_table, target_table, **kwargs):
    return convert_grade(
        value,
        source,
        target,
        method="distribution",
        source_distribution=source_table,
        target_distribution=target_table,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("26", "2.3"),
        ("30", "1.3"),
        ("30L", "1.0"),
        ("28", "1.7"),
        ("22", "2.7"),
        ("18", "2.7"),
        ("26,0", "2.3"),
    ],
)
def test_distribution_italian_to_german(value, expected):
    result = by_distribution(value, IT, DE, IT_TABLE, DE_TABLE)
    assert (result.value, result.raw, result.passed) == (expected, D(expected), True)
    assert (result.method, result.scale) == ("distribution", "DE-1-5")


def test_distribution_steps():
    result = by_distribution("26", IT, DE, IT_TABLE, DE_TABLE)
    assert result.steps[-2] == (
        "IT-30 26 covers 40-65 % of passing grades in its grading table (default); midpoint 52.5 %."
    )
    assert result.steps[-1] == (
        "DE-1-5 2.3 covers 50-65 % in its grading table (default), which holds the midpoint."
    )
    assert result.basis == (
        "the percentile method on the grading tables of IT-30 and DE-1-5 (reference group default)"
    )


@pytest.mark.parametrize(
    ("value", "expected"), [("A", "1.0"), ("B", "1.7"), ("C", "2.0"), ("E", "2.7")]
)
def test_distribution_ects_letters_to_german(value, expected):
    result = by_distribution(value, ECTS_AF, DE, ECTS_TABLE, DE_TABLE)
    assert (result.value, result.passed) == (expected, True)


def test_distribution_boundary_takes_the_better_grade():
    result = by_distribution("C", ECTS_AF, DE, ECTS_TABLE, DE_TABLE)
    assert result.value == "2.0"
    assert result.steps[-1].endswith("on a boundary, so the better grade is taken.")


def test_distribution_grade_nobody_got_at_the_top():
    # A 0 % row spans 0-0: its midpoint 0 still lands in the best target grade.
    table = Distribution("ECTS-A-F", (("A", D(0)), ("B", D(35)), ("C", D(65))))
    assert by_distribution("A", ECTS_AF, DE, table, DE_TABLE).value == "1.0"


def test_distribution_shares_are_relative_to_the_total():
    doubled = Distribution("DE-1-5", tuple((grade, share * 2) for grade, share in DE_TABLE.rows))
    assert by_distribution("C", ECTS_AF, DE, ECTS_TABLE, doubled).value == "2.0"
    assert by_distribution("26", IT, DE, IT_TABLE, doubled).value == "2.3"


def test_distribution_onto_ordinal_scale_ranks_the_band():
    result = by_distribution("1.0", DE, ECTS_AF, DE_TABLE, ECTS_TABLE)
    assert (result.value, result.raw) == ("A", D(1))
    result = by_distribution("2.0", DE, ECTS_AF, DE_TABLE, ECTS_TABLE)
    assert (result.value, result.raw) == ("C", D(3))


def test_distribution_failing_grades():
    result = by_distribution("17", IT, DE, IT_TABLE, DE_TABLE)
    assert (result.value, result.raw, result.passed) == ("5.0", D("5.0"), False)
    assert result.method == "distribution"
    assert result.basis == "a fail stays a fail: grading tables cover passing grades only"
    assert "passing grades only" in result.steps[-1]
    result = by_distribution("FX", ECTS_AF, DE, ECTS_TABLE, DE_TABLE)
    assert (result.value, result.passed) == ("5.0", False)
    result = by_distribution("4.5", DE, ECTS_AF, DE_TABLE, ECTS_TABLE)
    assert (result.value, result.raw, result.passed) == ("FX", D(6), False)
    # A stricter pass mark turns a listed grade into a fail.
    result = by_distribution("26", IT, DE, IT_TABLE, DE_TABLE, pass_mark=D(27))
    assert (result.value, result.passed) == ("5.0", False)


def test_distribution_grade_not_listed():
    with pytest.raises(InvalidData) as excinfo:
        by_distribution("27", IT, DE, IT_TABLE, DE_TABLE)
    assert field_of(excinfo) == "value"
    assert "30L, 30, 28, 26, 22, 18" in message_of(excinfo)


def test_distribution_fail_without_failing_band():
    with pytest.raises(InvalidData) as excinfo:
        by_distribution(
            "4.5", DE, PASS_ONLY, DE_TABLE, Distribution("PASS-ONLY", (("P", D(50)), ("M", D(50))))
        )
    assert field_of(excinfo) == "to"


@pytest.mark.parametrize(
    ("source_table", "target_table", "named"),
    [
        (None, DE_TABLE, ["source scale IT-30"]),
        (IT_TABLE, None, ["target scale DE-1-5"]),
        (None, None, ["source scale IT-30", "target scale DE-1-5"]),
    ],
)
def test_distribution_needs_both_tables(source_table, target_table, named):
    with pytest.raises(InvalidData) as excinfo:
        by_distribution("26", IT, DE, source_table, target_table)
    assert field_of(excinfo) == "method"
    assert all(name in message_of(excinfo) for name in named)


@pytest.mark.parametrize(
    ("source_table", "target_table", "field"),
    [
        (DE_TABLE, DE_TABLE, "from"),  # belongs to another scale
        (IT_TABLE, IT_TABLE, "to"),
        (Distribution("IT-30", (("31", D(100)),)), DE_TABLE, "from"),  # not a grade
        (Distribution("IT-30", (("30", D(-5)), ("28", D(105)))), DE_TABLE, "from"),
        (Distribution("IT-30", (("30", 50.0), ("28", D(50)))), DE_TABLE, "from"),
        (IT_TABLE, Distribution("DE-1-5", (("0.7", D(100)),)), "to"),
        (IT_TABLE, Distribution("DE-1-5", ()), "to"),
        (IT_TABLE, Distribution("DE-1-5", (("1.0", D(0)),)), "to"),
    ],
)
def test_bad_distribution(source_table, target_table, field):
    with pytest.raises(InvalidData) as excinfo:
        by_distribution("30", IT, DE, source_table, target_table)
    assert field_of(excinfo) == field


# --- explicit table ------------------------------------------------------------------------


@pytest.mark.parametrize("method", [*METHODS, "table"])
def test_table_overrides_methods(method):
    result = convert_grade("B", ECTS_AF, DE, method=method, table=ECTS_TO_DE)
    assert result == GradeConversion(
        "1.7",
        D("1.7"),
        "DE-1-5",
        True,
        "table",
        (
            "B is a passing grade on ECTS-A-F.",
            "Conversion table UNI-T maps ECTS-A-F B to DE-1-5 1.7.",
        ),
        "conversion table UNI-T of the registry",
        ECTS_TO_DE,
    )


def test_table_answer_names_the_table_its_authority_and_citation():
    """Issue 18, item 9: the answer says which table was used and what it rests on."""
    table = ConversionTable(
        "TUM-HONS",
        "GB-HONS",
        "DE-1-5",
        (("First", "1.0"), ("2:1", "2.0"), ("2:2", "3.0"), ("Third", "4.0"), ("Fail", "5.0")),
        citation="Admission regulations 2025, annex 2",
        authority={"kind": "institution", "id": 42},
    )
    result = convert_grade("2:1", GB_HONS, DE, scales=SCALES, table=table)
    assert (result.value, result.method) == ("2.0", "table")
    assert result.basis == (
        "conversion table TUM-HONS of institution 42 (Admission regulations 2025, annex 2)"
    )
    assert result.as_dict()["table"] == {
        "code": "TUM-HONS",
        "authority": {"kind": "institution", "id": 42},
        "citation": "Admission regulations 2025, annex 2",
    }


def test_table_failing_grade():
    result = convert_grade("FX", ECTS_AF, DE, table=ECTS_TO_DE)
    assert (result.value, result.raw, result.passed) == ("5.0", D("5.0"), False)


def test_table_matches_text_first_then_number():
    table = ConversionTable("UNI-IT", "IT-30", "DE-1-5", (("30L", "1.0"), ("30", "1.3")))
    assert convert_grade("30L", IT, DE, table=table).value == "1.0"
    assert convert_grade("30", IT, DE, table=table).value == "1.3"
    assert convert_grade("30,0", IT, DE, table=table).value == "1.3"
    only_plain = ConversionTable("UNI-IT", "IT-30", "DE-1-5", (("30", "1.3"),))
    assert convert_grade("30L", IT, DE, table=only_plain).value == "1.3"


def test_table_onto_ordinal_scale_ranks_the_band():
    table = ConversionTable("UNI-D", "DE-1-5", "ECTS-A-F", (("1.0", "A"), ("2.0", "C")))
    result = convert_grade("2,0", DE, ECTS_AF, table=table)
    assert (result.value, result.raw) == ("C", D(3))


def test_table_errors():
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("F", ECTS_AF, DE, table=ECTS_TO_DE)
    assert field_of(excinfo) == "value"
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("B", ECTS_AF, FR, table=ECTS_TO_DE)
    assert field_of(excinfo) == "table"
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("14", FR, DE, table=ECTS_TO_DE)
    assert field_of(excinfo) == "table"
    wrong = ConversionTable("UNI-W", "ECTS-A-F", "DE-1-5", (("A", "0.7"),))
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("A", ECTS_AF, DE, table=wrong)
    assert field_of(excinfo) == "table"


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "scale", "named"),
    [
        ("abc", FR, "0 to 20"),
        ("", FR, "0 to 20"),
        ("1.2.3", FR, "0 to 20"),
        ("1e1", FR, "0 to 20"),
        ("NaN", FR, "0 to 20"),
        ("25", FR, "0 to 20"),
        ("-1", FR, "0 to 20"),
        ("0.9", DE, "1.0 to 5.0"),
        ("5.1", DE, "1.0 to 5.0"),
        ("31", IT, "0 to 30 or one of 30L"),
        ("2:3", GB_HONS, "First, 2:1, 2:2, Third, Fail"),
        ("first", GB_HONS, "First, 2:1, 2:2, Third, Fail"),
        (D("14"), FR, "as text"),
    ],
)
def test_bad_value(value, scale, named):
    with pytest.raises(InvalidData) as excinfo:
        convert_grade(value, scale, DE if scale is not DE else FR, scales=SCALES)
    assert field_of(excinfo) == "value"
    assert named in message_of(excinfo)


@pytest.mark.parametrize(
    ("scale", "pass_mark"),
    [(US, D("4.5")), (US, D("-1")), (US, D("4.0")), (US, 2.0), (US, D("NaN")), (GB_HONS, D(50))],
)
def test_bad_pass_mark(scale, pass_mark):
    value = "2:1" if scale is GB_HONS else "3.3"
    with pytest.raises(InvalidData) as excinfo:
        convert_grade(value, scale, DE, pass_mark=pass_mark, scales=SCALES)
    assert field_of(excinfo) == "pass"


@pytest.mark.parametrize("method", ["bavarian", "table", "", "rule"])
def test_unknown_method(method):
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("14", FR, DE, method=method)
    assert field_of(excinfo) == "method"


def test_ordinal_source_without_equivalent_needs_a_table():
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("A", ECTS_AF, DE)
    assert field_of(excinfo) == "method"
    assert "distribution" in message_of(excinfo) and "table" in message_of(excinfo)


def test_ordinal_target_without_common_equivalent_needs_a_table():
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("14", FR, ECTS_AF)
    assert field_of(excinfo) == "method"
    mixed = ScaleSpec(
        "MIXED",
        "ordinal",
        bands=(
            Band("X", True, low=D(50), equivalent_scale="GB-PCT"),
            Band("Y", False, low=D(1), equivalent_scale="DE-1-5"),
        ),
    )
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("14", FR, mixed, scales=SCALES)
    assert field_of(excinfo) == "method"


def test_missing_equivalent_scale():
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("2:1", GB_HONS, DE)
    assert field_of(excinfo) == "from"
    assert "GB-PCT" in message_of(excinfo)
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("14", FR, GB_HONS)
    assert field_of(excinfo) == "to"
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("2:1", GB_HONS, DE, scales={"GB-PCT": ECTS_AF})
    assert field_of(excinfo) == "from"


def test_band_without_its_worse_end():
    top_only = ScaleSpec(
        "TOP", "ordinal", bands=(Band("T", True, high=D(100), equivalent_scale="GB-PCT"),)
    )
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("T", top_only, DE, scales=SCALES)
    assert field_of(excinfo) == "from"
    assert "no lower limit" in message_of(excinfo)


def test_no_band_covers_the_mark():
    gappy = ScaleSpec(
        "GAPPY", "ordinal", bands=(Band("Top", True, low=D(70), equivalent_scale="GB-PCT"),)
    )
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("65", GB_PCT, gappy, scales=SCALES)
    assert field_of(excinfo) == "to"


@pytest.mark.parametrize(
    "scale",
    [
        ScaleSpec("X", "interval", best=D(1), worst=D(5), pass_mark=D(4)),
        ScaleSpec("X", "numeric", best=D(1), worst=D(1), pass_mark=D(1)),
        ScaleSpec("X", "numeric", best=D(1), worst=D(5), pass_mark=D(6)),
        ScaleSpec("X", "numeric", best=D(1), worst=D(5), pass_mark=D(1)),
        ScaleSpec("X", "numeric", best=D(1), worst=D(5)),
        ScaleSpec("X", "numeric", best=1.0, worst=D(5), pass_mark=D(4)),
        ScaleSpec("X", "numeric", best=D(1), worst=D(5), pass_mark=D(4), rounding="floor"),
        ScaleSpec("X", "numeric", best=D(1), worst=D(5), pass_mark=D(4), decimals=-1),
        ScaleSpec("X", "ordinal"),
        ScaleSpec("X", "ordinal", bands=(Band("A", True), Band("A", False))),
    ],
)
def test_malformed_scale(scale):
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("3", scale, FR)
    assert field_of(excinfo) == "from"
    with pytest.raises(InvalidData) as excinfo:
        convert_grade("14", FR, scale)
    assert field_of(excinfo) == "to"


def test_scale_special_values_are_frozen():
    specials = {"30L": "30"}
    scale = ScaleSpec(
        "IT-30", "numeric", best=D(30), worst=D(0), pass_mark=D(18), special_values=specials
    )
    specials["31"] = "30"
    assert dict(scale.special_values) == {"30L": "30"}
    with pytest.raises(TypeError):
        scale.special_values["31"] = "30"
    twin = ScaleSpec(
        "IT-30", "numeric", best=D(30), worst=D(0), pass_mark=D(18), special_values={"30L": "30"}
    )
    assert scale == twin and hash(scale) == hash(twin)
