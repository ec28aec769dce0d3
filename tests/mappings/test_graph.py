"""Path search and relation composition over plain edges: no database."""

import datetime as dt
from decimal import Decimal

import pytest

from mappings.graph import BASIS_WEIGHT, SECONDARY_WEIGHT, Edge, LevelGraph, compose
from mappings.schemas import EquivalentsSchema

TODAY = dt.date(2026, 11, 24)
REF = "referencing"


def edge(source, target, relation="exactMatch", basis=REF, citation=None, **validity):
    return Edge(source, target, relation, basis, citation or f"{source}->{target}", **validity)


@pytest.fixture
def graph():
    edges = [
        edge("IE-NFQ:7", "EQF:6"),
        edge("IE-NFQ:8", "EQF:6"),
        edge("IE-NFQ:9", "EQF:7"),
        edge("GB-SCQF:9", "EQF:6"),
        edge("GB-SCQF:10", "EQF:6"),
        edge("GB-SCQF:11", "EQF:7"),
        edge("DE-DQR:6", "EQF:6"),
        edge("FR-CNCP-1969:I", "EQF:7", "narrowMatch"),
        edge("FR-CNCP-1969:I", "EQF:8", "narrowMatch"),
        edge("DE-DQR:7", "EQF:7"),
        edge("DE-DQR:8", "EQF:8"),
        edge("QF-EHEA:1", "EQF:6", "broadMatch"),
        edge("NZ-NZQCF:7", "EQF:6", basis="comparison"),
        edge("AU-AQF:7", "NZ-NZQCF:7", basis="comparison"),
        edge("AU-AQF:8", "NZ-NZQCF:8", basis="comparison"),
        edge("AU-AQF:7", "EQF:6", basis="comparison"),
        edge("XX-OLD:1", "EQF:6", valid_to=dt.date(2019, 1, 9)),
        edge("XX-NEW:6", "EQF:6", valid_from=dt.date(2019, 1, 9)),
    ]
    return LevelGraph(
        edges,
        meta_frameworks=frozenset({"EQF", "QF-EHEA"}),
        no_eqf_reasons={"GB-SCQF:1": "below_eqf_1", "NZ-NZQCF:8": "unlevelled"},
        ordinals={"GB-SCQF:9": 9, "GB-SCQF:10": 10, "DE-DQR:7": 7, "DE-DQR:8": 8},
    )


def levels(answer):
    return [match.level for match in answer.matches]


def test_one_to_many_through_eqf_lists_every_level_with_both_citations(graph):
    answer = graph.equivalents("IE-NFQ:8", "GB-SCQF", TODAY)
    assert levels(answer) == ["GB-SCQF:9", "GB-SCQF:10"]
    for match in answer.matches:
        assert match.relation == "exactMatch" and match.confidence == Decimal("1")
        steps = [(s.source, s.target, s.inverse, s.citation) for s in match.path]
        assert steps == [
            ("IE-NFQ:8", "EQF:6", False, "IE-NFQ:8->EQF:6"),
            ("EQF:6", match.level, True, f"{match.level}->EQF:6"),
        ]
    assert answer.reason is None


def test_contract_shape(graph):
    answer = EquivalentsSchema().dump(graph.equivalents("IE-NFQ:8", "DE-DQR", TODAY))
    assert answer["source"] == "IE-NFQ:8" and answer["on"] == "2026-11-24"
    assert answer["matches"][0]["level"] == "DE-DQR:6"
    assert answer["matches"][0]["confidence"] == 1.0
    assert answer["matches"][0]["path"][1] == {
        "from": "EQF:6",
        "to": "DE-DQR:6",
        "relation": "exactMatch",
        "basis": "referencing",
        "citation": "DE-DQR:6->EQF:6",
        "inverse": True,
    }
    assert "reason" not in answer


def test_inverse_of_narrow_is_broad_and_weakens_confidence(graph):
    answer = graph.equivalents("DE-DQR:7", "FR-CNCP-1969", TODAY)
    assert levels(answer) == ["FR-CNCP-1969:I"]
    match = answer.matches[0]
    assert match.path[1].relation == "broadMatch" and match.path[1].inverse
    assert match.relation == "broadMatch" and match.confidence == Decimal("0.8")


def test_one_to_many_forward_narrow(graph):
    answer = graph.equivalents("FR-CNCP-1969:I", "DE-DQR", TODAY)
    assert levels(answer) == ["DE-DQR:7", "DE-DQR:8"]
    assert {m.relation for m in answer.matches} == {"narrowMatch"}


def test_through_two_meta_frameworks(graph):
    answer = graph.equivalents("IE-NFQ:8", "QF-EHEA", TODAY)
    assert levels(answer) == ["QF-EHEA:1"]
    assert answer.matches[0].relation == "narrowMatch"


def test_direct_comparison_answers_alone(graph):
    answer = graph.equivalents("AU-AQF:7", "NZ-NZQCF", TODAY)
    assert levels(answer) == ["NZ-NZQCF:7"]
    assert len(answer.matches[0].path) == 1
    assert answer.matches[0].confidence == Decimal("0.9")


def test_comparison_through_eqf_composes_basis_weights(graph):
    answer = graph.equivalents("AU-AQF:7", "DE-DQR", TODAY)
    assert levels(answer) == ["DE-DQR:6"]
    assert answer.matches[0].confidence == Decimal("0.9")


def test_no_path_through_another_national_framework(graph):
    # AU-AQF:8 -> NZ-NZQCF:8 exists, but a path may not pass through a national framework.
    answer = graph.equivalents("AU-AQF:8", "DE-DQR", TODAY)
    assert answer.matches == () and answer.reason == "no_counterpart"


@pytest.mark.parametrize(
    "source, reason", [("GB-SCQF:1", "below_eqf_1"), ("NZ-NZQCF:8", "unlevelled")]
)
def test_levels_without_eqf_level_say_why(graph, source, reason):
    answer = graph.equivalents(source, "DE-DQR", TODAY)
    assert answer.matches == () and answer.reason == reason
    assert EquivalentsSchema().dump(answer)["reason"] == reason


def test_validity_interval_is_half_open(graph):
    assert levels(graph.equivalents("XX-OLD:1", "DE-DQR", dt.date(2019, 1, 8))) == ["DE-DQR:6"]
    assert graph.equivalents("XX-OLD:1", "DE-DQR", dt.date(2019, 1, 9)).matches == ()
    assert graph.equivalents("XX-NEW:6", "DE-DQR", dt.date(2019, 1, 8)).matches == ()
    assert levels(graph.equivalents("XX-NEW:6", "DE-DQR", dt.date(2019, 1, 9))) == ["DE-DQR:6"]


def test_same_framework_answers_itself(graph):
    answer = graph.equivalents("IE-NFQ:8", "IE-NFQ", TODAY)
    assert levels(answer) == ["IE-NFQ:8"] and answer.matches[0].path == ()


@pytest.mark.parametrize(
    "first, second, expected",
    [
        ("exactMatch", "exactMatch", "exactMatch"),
        ("exactMatch", "broadMatch", "broadMatch"),
        ("narrowMatch", "exactMatch", "narrowMatch"),
        ("broadMatch", "broadMatch", "broadMatch"),
        ("narrowMatch", "narrowMatch", "narrowMatch"),
        ("broadMatch", "narrowMatch", "relatedMatch"),
        ("narrowMatch", "broadMatch", "relatedMatch"),
        ("closeMatch", "broadMatch", "broadMatch"),
        ("broadMatch", "closeMatch", "broadMatch"),
        ("closeMatch", "closeMatch", "closeMatch"),
        ("relatedMatch", "exactMatch", "relatedMatch"),
        ("closeMatch", "relatedMatch", "relatedMatch"),
    ],
)
def test_compose(first, second, expected):
    assert compose(first, second) == expected


def test_best_path_kept_per_level():
    graph = LevelGraph(
        [
            edge("AA-X:1", "EQF:5", "broadMatch"),
            edge("AA-X:1", "QF-EHEA:SC"),
            edge("QF-EHEA:SC", "EQF:5"),
            edge("BB-Y:5", "EQF:5"),
        ],
        meta_frameworks=frozenset({"EQF", "QF-EHEA"}),
    )
    answer = graph.equivalents("AA-X:1", "BB-Y", TODAY)
    # The two-step path is shorter and found first; the three-step exact one is not searched.
    assert levels(answer) == ["BB-Y:5"]
    assert answer.matches[0].relation == "broadMatch"


def test_legislation_weighs_between_referencing_and_comparison():
    """A country's own law (ES-MECES -> EQF by Real Decreto 22/2015) binds at home but was not
    reviewed by the EQF Advisory Group: 0.95, between referencing (1) and comparison (0.9)."""
    graph = LevelGraph(
        [edge("ES-MECES:2", "EQF:6", basis="legislation"), edge("DE-DQR:6", "EQF:6")],
        meta_frameworks=frozenset({"EQF"}),
    )
    match = graph.equivalents("ES-MECES:2", "DE-DQR", TODAY).matches[0]
    assert match.confidence == Decimal("0.95") and match.path[0].basis == "legislation"
    assert BASIS_WEIGHT["referencing"] > BASIS_WEIGHT["legislation"] > BASIS_WEIGHT["comparison"]


def test_a_secondary_source_lowers_confidence_and_shows_in_the_answer():
    summary = "atmc.social: a third party's summary of the report"
    graph = LevelGraph(
        [
            edge("AU-AQF:9", "EQF:7", basis="comparison", secondary_source=summary),
            edge("DE-DQR:7", "EQF:7"),
            edge("NZ-NZQCF:9", "EQF:7", basis="comparison"),
        ],
        meta_frameworks=frozenset({"EQF"}),
    )
    match = graph.equivalents("AU-AQF:9", "DE-DQR", TODAY).matches[0]
    assert match.confidence == Decimal("0.9") * SECONDARY_WEIGHT == Decimal("0.72")
    assert match.secondary and match.path[0].secondary_source == summary
    dumped = EquivalentsSchema().dump(graph.equivalents("AU-AQF:9", "DE-DQR", TODAY))
    assert dumped["matches"][0]["secondary"] is True
    assert dumped["matches"][0]["path"][0]["secondary_source"] == summary
    assert "secondary_source" not in dumped["matches"][0]["path"][1]
    # Travelled backwards, the link still says so.
    back = graph.equivalents("DE-DQR:7", "AU-AQF", TODAY).matches[0]
    assert back.secondary and back.path[1].inverse and back.path[1].secondary_source == summary
    primary = graph.equivalents("NZ-NZQCF:9", "DE-DQR", TODAY).matches[0]
    assert not primary.secondary and primary.confidence == Decimal("0.9")


SWITCH = dt.date(2019, 1, 10)
BEFORE, AFTER = dt.date(2015, 6, 30), dt.date(2026, 11, 24)
DECREE = "décret n° 2019-14"


@pytest.fixture
def french():
    """FR-OLD (1969 levels, in force until SWITCH) replaced by FR-NEW; the successor's decree
    maps the old levels onto the new ones (succession edges, from SWITCH)."""
    old, new = ((None, SWITCH),), ((SWITCH, None),)

    def succession(source, target, relation="exactMatch"):
        return edge(
            source, target, relation, "legislation", DECREE, valid_from=SWITCH, succession=True
        )

    return LevelGraph(
        [
            edge("FR-OLD:III", "EQF:5", valid_to=SWITCH),
            edge("FR-OLD:I", "EQF:7", "narrowMatch", valid_to=SWITCH),
            edge("FR-OLD:I", "EQF:8", "narrowMatch", valid_to=SWITCH),
            edge("FR-NEW:5", "EQF:5", valid_from=SWITCH),
            edge("FR-NEW:7", "EQF:7", valid_from=SWITCH),
            edge("FR-NEW:8", "EQF:8", valid_from=SWITCH),
            edge("XX-GONE:1", "EQF:5", valid_to=SWITCH),
            edge("DE-DQR:5", "EQF:5"),
            edge("DE-DQR:7", "EQF:7"),
            edge("DE-DQR:8", "EQF:8"),
            succession("FR-OLD:III", "FR-NEW:5"),
            succession("FR-OLD:I", "FR-NEW:7", "narrowMatch"),
            succession("FR-OLD:I", "FR-NEW:8", "narrowMatch"),
        ],
        meta_frameworks=frozenset({"EQF"}),
        ordinals={"DE-DQR:7": 7, "DE-DQR:8": 8},
        level_windows={
            "FR-OLD:III": old,
            "FR-OLD:I": old,
            "XX-GONE:1": old,
            "FR-NEW:5": new,
            "FR-NEW:7": new,
            "FR-NEW:8": new,
        },
    )


def test_an_old_level_answers_on_its_own_links_while_in_force(french):
    answer = french.equivalents("FR-OLD:III", "DE-DQR", BEFORE)
    assert levels(answer) == ["DE-DQR:5"] and answer.superseded is None
    assert [step.target for step in answer.matches[0].path] == ["EQF:5", "DE-DQR:5"]


def test_a_superseded_level_answers_today_through_the_decree(french):
    answer = french.equivalents("FR-OLD:III", "DE-DQR", AFTER)
    assert levels(answer) == ["DE-DQR:5"] and answer.reason is None
    match = answer.matches[0]
    first = match.path[0]
    assert (first.source, first.target, first.basis, first.succession) == (
        "FR-OLD:III",
        "FR-NEW:5",
        "legislation",
        True,
    )
    assert [step.target for step in match.path] == ["FR-NEW:5", "EQF:5", "DE-DQR:5"]
    assert match.relation == "exactMatch" and match.confidence == Decimal("0.95")
    assert answer.superseded.level == "FR-OLD:III"
    assert answer.superseded.successors == ("FR-NEW:5",)
    assert "superseded nomenclature" in answer.superseded.note
    assert "FR-NEW:5, as its successor's legal text maps it" in answer.superseded.note
    dumped = EquivalentsSchema().dump(answer)
    assert dumped["superseded"]["successors"] == ["FR-NEW:5"]
    assert dumped["matches"][0]["path"][0]["succession"] is True
    assert "succession" not in dumped["matches"][0]["path"][1]


def test_a_superseded_level_placed_at_two_levels_answers_both(french):
    answer = french.equivalents("FR-OLD:I", "DE-DQR", AFTER)
    assert levels(answer) == ["DE-DQR:7", "DE-DQR:8"]
    assert {m.relation for m in answer.matches} == {"narrowMatch"}
    assert {m.confidence for m in answer.matches} == {Decimal("0.76")}  # 0.8 x 0.95
    assert answer.superseded.successors == ("FR-NEW:7", "FR-NEW:8")
    assert "FR-NEW:7 or FR-NEW:8" in answer.superseded.note


def test_a_superseded_level_in_its_successor_framework_is_the_decree_step(french):
    answer = french.equivalents("FR-OLD:III", "FR-NEW", AFTER)
    assert levels(answer) == ["FR-NEW:5"] and len(answer.matches[0].path) == 1


def test_not_in_force_only_without_a_valid_path(french):
    gone = french.equivalents("XX-GONE:1", "DE-DQR", AFTER)
    assert gone.matches == () and gone.reason == "not_in_force" and gone.superseded is None
    dumped = EquivalentsSchema().dump(gone)
    assert dumped["reason"] == "not_in_force" and "superseded" not in dumped
    # Its own framework does not answer for it either, once it is out of force.
    own = french.equivalents("FR-OLD:III", "FR-OLD", AFTER)
    assert own.matches == () and own.reason == "not_in_force"


def test_succession_edges_are_never_part_of_an_ordinary_search(french):
    # Read backwards the decree would put FR-NEW:5 at FR-OLD:III: not a path the graph takes.
    answer = french.equivalents("FR-NEW:5", "FR-OLD", AFTER)
    assert answer.matches == () and answer.reason == "no_counterpart"
    assert french.steps_from("FR-OLD:III", AFTER) == []
