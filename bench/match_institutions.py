"""Benchmark: the institution matcher against naive exhaustive rapidfuzz WRatio, in one run.

    .venv/bin/python bench/match_institutions.py [--queries 10000] [--naive 200] [--seed 1]

Builds a registry of 200,000 institutions: the real ROR records of ../shared/corpus/ror (less a
tenth held out), the shared list of 10,251 real institutions (less 500 held out, and less those
sharing a web domain with a ROR record, which would be the same institution twice), padded
with synthetic near-duplicates (mappings.matching_eval). Times the index build and measures its
memory (tracemalloc, in a second build), then answers two labelled sets with and without their
country:

- ROR-derived (mappings.matching_ror): the records' names, labels, aliases and acronyms and
  rule-made variants (place added, word order, "of" dropped, abbreviations, plain spelling);
  queries for the held-out records should not come back "matched";
- synthetic noise (mappings.matching_eval): typos, abbreviations, brackets, departments, on the
  real list and on synthetic names; queries for the 500 held-out names.

The baseline, on a sample of each set without country: rapidfuzz `process.extractOne(query,
names, scorer=WRatio, processor=default_process)` over every name the index holds (performance.md
section 2, row a1). Prints queries/s of both and their ratio, accuracy@1 of both, the
confident-wrong rate, build time and memory. Targets: ROR-derived acc@1 >= 0.97 with country,
>= 0.95 without; confident errors <= 0.2%; held-out queries matched <= 0.5%; >= 100x the
baseline's throughput; build < 30 s, index < 500 MB.

The baseline calls rapidfuzz directly, as it is the thing measured against; the matcher is used
only through its API.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz, process, utils  # noqa: E402

from mappings.matching import InstitutionIndex  # noqa: E402
from mappings.matching_eval import evaluate, variants  # noqa: E402
from mappings.matching_ror import benchmark_registry, ror_queries  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
WORLD = SHARED / "data" / "institutions" / "world_universities_and_domains.json"
ROR = sorted((SHARED / "corpus" / "ror").glob("ror-records__*.json"), reverse=True)
REGISTRY_SIZE = 200_000
HEADER = f"{'':36}{'q/s':>8}{'acc@1':>8}{'matched':>9}{'wrong':>8}{'ambig.':>8}{'none':>7}"


def row(label: str, result: dict, rate: float | None = None) -> str:
    speed = f"{rate:8.0f}" if rate is not None else f"{'':8}"
    accuracy = f"{result['accuracy_at_1']:8.3f}" if rate is not None else f"{'':8}"
    return (
        f"{label:36}{speed}{accuracy}{result['matched']:9.3f}{result['confident_wrong']:8.4f}"
        f"{result['ambiguous']:8.3f}{result['no_match']:7.3f}"
    )


def naive(sample: list, names: list[str], owners: list[int]) -> tuple[float, float]:
    """Queries/s and acc@1 of extractOne(WRatio) over every name."""
    started = time.perf_counter()
    found = [
        process.extractOne(query, names, scorer=fuzz.WRatio, processor=utils.default_process)[2]
        for query, _, _ in sample
    ]
    rate = len(sample) / (time.perf_counter() - started)
    right = sum(owners[at] == true for at, (_, _, true) in zip(found, sample, strict=True))
    return rate, right / len(sample)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=200, help="queries for the baseline")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not WORLD.exists() or not ROR:
        print(f"skipped: the shared institution list or ROR records are not under {SHARED}")
        return 0

    rng = random.Random(args.seed)
    built = benchmark_registry(ROR, WORLD, REGISTRY_SIZE, args.seed)
    registry_entries, indexed_ror, real, synthetic = (
        built.entries,
        built.indexed_ror,
        built.real,
        built.synthetic,
    )
    held = built.held

    started = time.perf_counter()
    index = InstitutionIndex(registry_entries)
    build = time.perf_counter() - started
    del index
    tracemalloc.start()
    index = InstitutionIndex(registry_entries)
    size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"registry: {len(index):,} institutions ({len(indexed_ror):,} ROR records, "
        f"{len(real):,} from the shared list, {len(synthetic):,} synthetic), "
        f"{len(registry_entries):,} names, cities and domains"
    )
    print(
        f"build: {build:.1f} s; index {size / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB "
        f"while building (targets < 30 s, < 500 MB)"
    )

    labelled = ror_queries(indexed_ror, args.seed)
    ror_set = [(q.query, q.country, q.true_id) for q in labelled]
    ror_missing = [
        (q.query, q.country, q.true_id) for q in ror_queries(built.absent_ror, args.seed + 3)
    ]
    half = args.queries // 2
    synthetic_set = variants(real, half, args.seed) + variants(
        synthetic, args.queries - half, args.seed + 1
    )
    rng.shuffle(synthetic_set)
    synthetic_missing = variants(held, min(args.queries, 2_000), args.seed + 2)

    rates: dict[str, float] = {}
    for title, found, missing in (
        (f"ROR-derived set ({len(ror_set):,} queries)", ror_set, ror_missing),
        (f"synthetic noise ({len(synthetic_set):,} queries)", synthetic_set, synthetic_missing),
    ):
        print(f"\n{title}\n{HEADER}")
        for with_country in (True, False):
            started = time.perf_counter()
            result = evaluate(index, found, with_country)
            rate = len(found) / (time.perf_counter() - started)
            rates[f"{title[:3]} {with_country}"] = rate
            print(row(f"matcher, {'with' if with_country else 'without'} country", result, rate))
        for with_country in (True, False):
            result = evaluate(index, missing, with_country)
            label = f"not in registry ({len(missing):,}), {'with' if with_country else 'no'} ctry"
            print(row(label, result))

    print("\nROR-derived set by kind of query (acc@1 with / without country, wrong, matched)")
    by_kind = defaultdict(list)
    for query in labelled:
        by_kind[query.kind].append((query.query, query.country, query.true_id))
    for kind, queries in by_kind.items():
        with_country = evaluate(index, queries, True)
        without = evaluate(index, queries, False)
        print(
            f"  {kind:14}{len(queries):6}  {with_country['accuracy_at_1']:.3f} / "
            f"{without['accuracy_at_1']:.3f}  wrong {with_country['confident_wrong']:.4f} / "
            f"{without['confident_wrong']:.4f}  matched {with_country['matched']:.3f}"
        )

    latencies = []
    for query, _, _ in synthetic_set[:2_000]:
        started = time.perf_counter()
        index.search(query)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    print(
        f"\n{'latency without country':36}p50 {latencies[len(latencies) // 2] * 1e3:.2f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1e3:.2f} ms, "
        f"max {latencies[-1] * 1e3:.1f} ms (one thread)"
    )

    names = [e.name for e in registry_entries if e.kind in ("name", "alias", "acronym")]
    owners = [e.institution_id for e in registry_entries if e.kind in ("name", "alias", "acronym")]
    for title, found in (("ROR-derived", ror_set), ("synthetic", synthetic_set)):
        sample = rng.sample(found, args.naive)
        naive_rate, naive_right = naive(sample, names, owners)
        ours = evaluate(index, sample, with_country=False)
        ratio = rates[f"{title[:3]} False"] / naive_rate
        print(
            f"{title}, same {len(sample)} queries, no country: naive WRatio {naive_rate:.1f} q/s, "
            f"acc@1 {naive_right:.3f}; matcher acc@1 {ours['accuracy_at_1']:.3f}; throughput "
            f"{ratio:.0f}x without country (target >= 100x), "
            f"{rates[f'{title[:3]} True'] / naive_rate:.0f}x with"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
