"""The matcher on the ROR-derived labelled set: the benchmark's targets, on a smaller sample of
the same registry (bench/match_institutions.py prints the whole). Reads ../shared."""

import random
import time

import pytest
from rapidfuzz import fuzz, process, utils

from mappings.matching import InstitutionIndex
from mappings.matching_eval import evaluate
from mappings.matching_ror import (
    RorRecord,
    benchmark_registry,
    entries,
    load_ror,
    ror_queries,
    twins,
)
from tests.conftest import SHARED


@pytest.fixture(scope="module")
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared formats and data sit beside the project in CI")
    return SHARED


@pytest.fixture(scope="module")
def bench(shared_dir):
    shared = shared_dir
    ror = sorted((shared / "corpus" / "ror").glob("ror-records__*.json"), reverse=True)
    world = shared / "data" / "institutions" / "world_universities_and_domains.json"
    built = benchmark_registry(ror, world, 200_000, seed=1)
    return built, InstitutionIndex(built.entries)


def test_the_ror_records_are_read_whole(shared_dir):
    ror = load_ror(sorted((shared_dir / "corpus" / "ror").glob("*.json"), reverse=True))
    # 2,431 records in the v2.9 dump less 11 withdrawn; the v1.30 sample adds those not in it.
    assert 2_420 < len(ror) < 2_420 + 200
    ucl = next(r for r in ror if r.name == "University College London")
    assert ucl.country == "GB" and ucl.city == "London" and "UCL" in ucl.acronyms
    assert [e.kind for e in entries(ucl)].count("acronym") == len(ucl.acronyms)


def test_queries_are_made_by_rules_and_labelled():
    record = RorRecord(
        7,
        "https://ror.org/x",
        "University of Glasgow",
        "GB",
        "Glasgow",
        "Scotland",
        (),
        (),
        (),
        ("gla.ac.uk",),
    )
    queries = ror_queries([record], seed=1)
    assert queries == ror_queries([record], seed=1)
    assert {q.true_id for q in queries} == {7} and {q.country for q in queries} == {"GB"}
    kinds = {q.kind: q.query for q in queries}
    assert kinds["name"] == "University of Glasgow"
    assert kinds["order"] == "Glasgow University"
    assert kinds["abbreviation"] == "Univ. of Glasgow"
    assert kinds["place"].startswith("University of Glasgow") and kinds["place"] != record.name


def test_twins_of_a_held_out_record_leave_with_it():
    absent = RorRecord(
        1, "r", "Conseil régional de la Guadeloupe", "GP", None, None, (), (), (), ()
    )
    others = [
        (2, "GP", ["Conseil Régional de Guadeloupe"], []),
        (3, "FR", ["Conseil Régional de Guadeloupe"], []),
        (4, "GP", ["Université des Antilles"], []),
    ]
    assert twins([absent], others) == {2}


def test_targets_on_the_ror_derived_set(bench):
    built, index = bench
    rng = random.Random(5)
    found = [(q.query, q.country, q.true_id) for q in ror_queries(built.indexed_ror, seed=1)]
    sample = rng.sample(found, 3_000)
    with_country = evaluate(index, sample, with_country=True)
    started = time.perf_counter()
    without = evaluate(index, sample, with_country=False)
    rate = len(sample) / (time.perf_counter() - started)
    assert with_country["accuracy_at_1"] >= 0.97, with_country
    assert without["accuracy_at_1"] >= 0.95, without
    assert with_country["confident_wrong"] <= 0.002, with_country
    assert without["confident_wrong"] <= 0.002, without

    missing = [(q.query, q.country, q.true_id) for q in ror_queries(built.absent_ror, seed=4)]
    for with_country in (True, False):
        absent = evaluate(index, missing, with_country)
        assert absent["matched"] <= 0.005, absent

    # At least 100 times the naive extractOne(WRatio) over the same names, without country.
    names = [e.name for e in built.entries if e.kind in ("name", "alias", "acronym")]
    naive = rng.sample(sample, 20)
    started = time.perf_counter()
    for query, _, _ in naive:
        process.extractOne(query, names, scorer=fuzz.WRatio, processor=utils.default_process)
    naive_rate = len(naive) / (time.perf_counter() - started)
    assert rate >= 100 * naive_rate, (rate, naive_rate)
