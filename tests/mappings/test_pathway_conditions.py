"""The pure core of pathway evaluation: each condition with its evidence, "all" or "any k of n",
and the allocation that never counts a credential twice. No database."""

import datetime as dt
from decimal import Decimal

import pytest

from mappings.grades import Band, ScaleSpec
from mappings.pathways.decide import (
    MAX_SEARCH,
    Candidate,
    Held,
    Terms,
    allocate,
    assign,
    at_least,
    check_age,
    check_grade,
    check_quality,
    check_supervision,
    check_validity,
    conditions,
    fit,
    months_before,
    still_needed,
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
SCALES = {"DE-1-5": DE, "FR-0-20": FR, "GB-HONS": GB_HONS}
ON = dt.date(2026, 5, 15)
# The five courses of an online supply chain programme, as catalogue course ids.
SC = [("course", course_id) for course_id in (101, 102, 103, 104, 105)]


def terms(**given) -> Terms:
    return Terms(**{"id": 1, "rule_id": "MM-SCM", "members": tuple(SC), **given})


def held(index: int, course_id: int | None = None, **given) -> Held:
    return Held(
        index,
        f"Course {course_id}",
        kind="course" if course_id else None,
        id=course_id,
        awarded_on=dt.date(2025, 6, 30),
        **given,
    )


# --- the grade --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grade", "minimum", "scale", "expected"),
    [
        ("2.3", "2.5", DE, True),  # lower is better on the German scale
        ("2.5", "2.5", DE, True),
        ("2.7", "2.5", DE, False),
        ("14", "12", FR, True),
        ("11.5", "12", FR, False),
        ("First", "2:1", GB_HONS, True),
        ("2:1", "2:1", GB_HONS, True),
        ("2:2", "2:1", GB_HONS, False),
    ],
)
def test_at_least_follows_the_direction_of_the_scale(grade, minimum, scale, expected):
    assert at_least(grade, minimum, scale) is expected


def test_at_least_refuses_what_is_not_a_grade_of_the_scale():
    with pytest.raises(InvalidData):
        at_least("Merit", "2:1", GB_HONS)


def test_a_converted_grade_at_least_the_minimum_meets_it():
    pathway = terms(min_grade="2.5", min_grade_scale="DE-1-5")
    credential = held(
        0,
        101,
        grade=("15", "FR-0-20"),
        grades={"DE-1-5": {"value": "2.2", "basis": "linear"}},
    )
    check = check_grade(credential, pathway, DE)
    assert check.met
    assert check.evidence["given"] == {"value": "15", "scale": "FR-0-20"}
    assert check.evidence["converted"] == "2.2"
    assert check.sentence == (
        "The grade 15 (FR-0-20) converts to 2.2 on DE-1-5, at least the minimum 2.5: met."
    )


def test_a_grade_below_the_minimum_fails():
    pathway = terms(min_grade="2.5", min_grade_scale="DE-1-5")
    credential = held(
        0, 101, grade=("11", "FR-0-20"), grades={"DE-1-5": {"value": "3.7", "basis": "linear"}}
    )
    check = check_grade(credential, pathway, DE)
    assert not check.met
    assert "3.7 on DE-1-5, below the minimum 2.5: not met" in check.sentence


def test_no_grade_or_an_unconvertible_one_does_not_meet_the_minimum():
    pathway = terms(min_grade="2:1", min_grade_scale="GB-HONS")
    none = check_grade(held(0, 101), pathway, GB_HONS)
    assert not none.met
    assert none.sentence.startswith("No grade is stated")
    stuck = check_grade(
        held(
            0,
            101,
            grade=("B", "LOCAL-AF"),
            grades={
                "GB-HONS": {"value": None, "reason": "The grading scheme LOCAL-AF is unknown."}
            },
        ),
        pathway,
        GB_HONS,
    )
    assert not stuck.met
    assert "The grading scheme LOCAL-AF is unknown; not met." in stuck.sentence


# --- supervision, quality, age, validity ------------------------------------------------------


def test_supervision_must_reach_the_required_level():
    pathway = terms(supervision="supervised_identity_verified")
    verified = check_supervision(held(0, 101, supervision="supervised_identity_verified"), pathway)
    unsupervised = check_supervision(held(0, 101, supervision="unsupervised"), pathway)
    unstated = check_supervision(held(0, 101), pathway)
    assert verified.met
    assert not unsupervised.met
    assert "The assessment was unsupervised" in unsupervised.sentence
    assert not unstated.met
    assert "does not state how its assessment was supervised" in unstated.sentence
    lenient = terms(supervision="supervised_no_identity_check")
    assert check_supervision(held(0, 101, supervision="supervised_identity_verified"), lenient).met


def test_quality_assurance_from_the_registry_or_the_credential():
    pathway = terms(quality_assured=True)
    recognised = held(0, 101, issuer="MITx", issuer_status="recognised")
    stated = held(0, 101, issuer="MITx", issuer_status="unknown", quality_assurance="ABET")
    neither = held(0, 101, issuer="MITx", issuer_status="unknown")
    assert check_quality(recognised, pathway).sentence == "MITx is recognised in the registry: met."
    assert check_quality(stated, pathway).met
    check = check_quality(neither, pathway)
    assert not check.met
    assert check.evidence == {"issuer_status": "unknown", "statement": None}


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 5, 15), 36, dt.date(2023, 5, 15)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2024, 3, 31), 1, dt.date(2024, 2, 29)),
        (dt.date(2026, 1, 10), 13, dt.date(2024, 12, 10)),
        # An evaluation dated in year 1 looks back before the calendar: its first day.
        (dt.date(1, 1, 1), 60, dt.date.min),
        (dt.date(6, 6, 1), 60, dt.date(1, 6, 1)),
        (dt.date(5, 6, 1), 60, dt.date.min),
    ],
)
def test_months_before(day, months, expected):
    assert months_before(day, months) == expected


def test_a_credential_too_old_fails_the_age_condition():
    pathway = terms(max_age_months=36)
    fresh = check_age(held(0, 101), pathway, ON)
    old = Held(0, "Old", kind="course", id=101, awarded_on=dt.date(2023, 5, 14))
    edge = Held(0, "Edge", kind="course", id=101, awarded_on=dt.date(2023, 5, 15))
    assert fresh.met
    assert check_age(edge, pathway, ON).met
    stale = check_age(old, pathway, ON)
    assert not stale.met
    assert stale.evidence["earliest"] == "2023-05-15"
    assert "on or after 2023-05-15: not met" in stale.sentence


def test_a_credential_awarded_after_the_day_of_evaluation_was_not_held_then():
    """An evaluation dated in the past does not count what was awarded later, whatever the
    pathway's conditions (none here)."""
    later = Held(0, "Later", kind="course", id=101, awarded_on=dt.date(2026, 6, 30))
    [check] = conditions(later, terms(), ON, SCALES)
    assert (check.condition, check.met) == ("awarded", False)
    assert "after the day of evaluation 2026-05-15" in check.sentence
    assert conditions(held(0, 101), terms(), ON, SCALES) == []
    assert not fit(terms(members=(SC[0],)), [later], ON, SCALES).met


def test_validity_is_half_open():
    pathway = terms(valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2026, 5, 15))
    assert check_validity(pathway, dt.date(2025, 1, 1)).met
    assert not check_validity(pathway, ON).met
    assert check_validity(terms(), ON).sentence.endswith("valid on 2026-05-15.")


# --- one pathway ------------------------------------------------------------------------------


def test_all_of_a_pathway_credentials_are_needed():
    pathway = terms(members=tuple(SC[:2]))
    one = fit(pathway, [held(0, 101)], ON, SCALES)
    both = fit(pathway, [held(0, 101), held(1, 102), held(2, 999)], ON, SCALES)
    assert not one.met
    assert both.met
    assert both.qualifying == ((0,), (1,))
    assert 2 not in both.checks  # not one of the pathway's credentials
    assert (
        both.sentence()
        == "Pathway 'MM-SCM' needs all 2 of its credentials; 2 held meet its conditions: met."
    )


def test_any_three_of_five_counts_only_credentials_that_pass_every_condition():
    pathway = terms(choose=3, supervision="supervised_identity_verified")
    verified = "supervised_identity_verified"
    learner = [
        held(0, 101, supervision=verified),
        held(1, 102, supervision=verified),
        held(2, 104, supervision="unsupervised"),
        held(3, 105, supervision=verified),
    ]
    result = fit(pathway, learner, ON, SCALES)
    assert result.met
    assert result.qualifying == ((0,), (1,), (), (), (3,))
    assert not result.checks[2][0].met
    short = fit(pathway, learner[:3], ON, SCALES)
    assert not short.met
    assert short.covered == 2


def test_a_pathway_not_valid_on_the_day_is_not_met():
    pathway = terms(members=(SC[0],), valid_to=dt.date(2026, 1, 1))
    result = fit(pathway, [held(0, 101)], ON, SCALES)
    assert result.qualifying == ((0,),)
    assert not result.met
    assert "not valid on 2026-05-15" in result.sentence()


def test_still_needed_names_the_rest():
    assert still_needed(terms(choose=3), {SC[1]}) == {"count": 2, "from": [0, 2, 3, 4]}
    assert still_needed(terms(), {SC[0]}) == {"count": 4, "from": [1, 2, 3, 4]}
    assert still_needed(terms(choose=1), {SC[4]}) == {"count": 0, "from": [0, 1, 2, 3]}


# --- the allocation ---------------------------------------------------------------------------


def candidate(pathway_id, credits, qualifying, needed=None, cap=None) -> Candidate:
    return Candidate(
        pathway_id,
        D(credits),
        None if cap is None else D(cap),
        len(qualifying) if needed is None else needed,
        tuple(tuple(options) for options in qualifying),
    )


def test_overlapping_pathways_never_count_a_credential_twice():
    # Both pathways need held credential 0: only one of them can have it.
    first = candidate(1, "10", [[0], [1]])
    second = candidate(2, "15", [[0]])
    result = allocate([first, second])
    assert dict(result.used) == {2: {0: 0}}
    assert result.granted == D(15)


def test_an_any_k_pathway_switches_credentials_to_let_another_apply():
    # Pathway 1 takes any 1 of two courses; pathway 2 needs the first one: both apply when
    # pathway 1 takes the second course.
    any_one = candidate(1, "5", [[0], [1]], needed=1)
    needs_first = candidate(2, "10", [[0]])
    assert assign([any_one, needs_first]) == {1: {1: 1}, 2: {0: 0}}
    result = allocate([any_one, needs_first])
    assert result.granted == D(15)
    assert not result.bounded


def test_the_cap_is_the_smallest_among_the_pathways_applied():
    big = candidate(1, "30", [[0]], cap="40")
    small = candidate(2, "20", [[1]], cap="25")
    other = candidate(3, "12", [[2]])
    result = allocate([big, small, other])
    # All three: 62 capped at 25; without the small cap: 42 capped at 40.
    assert sorted(result.used) == [1, 3]
    assert (result.total, result.granted, result.cap) == (D(42), D(40), D(40))


def test_ties_go_to_fewer_credentials_then_the_lower_id():
    two_courses = candidate(1, "10", [[0], [1]])
    one_course = candidate(2, "10", [[0]])
    assert sorted(allocate([two_courses, one_course]).used) == [2]
    assert sorted(allocate([candidate(7, "10", [[0]]), candidate(3, "10", [[0]])]).used) == [3]


def test_nothing_to_allocate():
    result = allocate([])
    assert (dict(result.used), result.granted, result.cap) == ({}, D(0), None)


def test_beyond_the_bound_pathways_are_added_one_by_one():
    many = [candidate(i, str(100 - i), [[i]]) for i in range(1, MAX_SEARCH + 3)]
    result = allocate(many)
    assert result.bounded
    assert sorted(result.used) == list(range(1, MAX_SEARCH + 3))
    assert result.granted == sum((D(100 - i) for i in range(1, MAX_SEARCH + 3)), D(0))


def test_the_allocation_is_deterministic():
    pool = [
        candidate(4, "10", [[0, 1], [2]], needed=1),
        candidate(2, "10", [[1], [0]], needed=1),
        candidate(9, "5", [[2, 0]]),
    ]
    first = allocate(pool)
    assert allocate(list(reversed(pool))) == first
    assert first.granted == D(25)
