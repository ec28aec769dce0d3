"""Benchmark: the institution matcher against naive exhaustive rapidfuzz WRatio, in one run.

    .venv/bin/python bench/match_institutions.py [--queries 10000] [--naive 200] [--seed 1]

Builds a registry of 200,000 names: the shared list of 10,251 real institutions (less 500 held
out) padded with synthetic near-duplicates (mappings.matching_eval). Times the index build and
measures its memory (tracemalloc, in a second build), then answers noisy queries (half from
real names, half from synthetic ones) with and without their country, times single queries,
and answers queries for the 500 held-out institutions, which should not be "matched". The
baseline, on a sample of the same queries without country: rapidfuzz `process.extractOne(query,
names, scorer=WRatio, processor=default_process)` over every raw name (performance.md section
2, row a1). Prints
queries/s of both and their ratio, accuracy@1 of both, confident-wrong rate, build time and
memory. Targets (performance.md section 7, B1/B2): >= 100x the baseline's throughput without a
country, better accuracy, build < 30 s, index < 500 MB.

The baseline calls rapidfuzz directly, as it is the thing measured against; the matcher is used
only through its API.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz, process, utils  # noqa: E402

from mappings.matching import InstitutionIndex, NameEntry  # noqa: E402
from mappings.matching_eval import (  # noqa: E402
    evaluate,
    load_world_list,
    synthetic_records,
    variants,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
WORLD = SHARED / "data" / "institutions" / "world_universities_and_domains.json"
REGISTRY_SIZE = 200_000
HELD_OUT = 500


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--naive", type=int, default=200, help="queries for the baseline")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not WORLD.exists():
        print(f"skipped: the shared institution list is not at {WORLD}")
        return 0

    rng = random.Random(args.seed)
    world = load_world_list(WORLD)
    held_out = rng.sample(world, HELD_OUT)
    absent_ids = {record.id for record in held_out}
    real = [record for record in world if record.id not in absent_ids]
    synthetic = synthetic_records(
        REGISTRY_SIZE - len(real), args.seed, start_id=len(world) + 1, taken=(r.name for r in world)
    )
    registry = real + synthetic
    entries = [NameEntry(record.id, record.name, record.country) for record in registry]

    started = time.perf_counter()
    index = InstitutionIndex(entries)
    build = time.perf_counter() - started
    del index
    tracemalloc.start()
    index = InstitutionIndex(entries)
    size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"registry: {len(entries):,} names ({len(real):,} real, {len(synthetic):,} synthetic), "
        f"{len(index):,} institutions"
    )
    print(
        f"build: {build:.1f} s; index {size / 2**20:.0f} MB, peak {peak / 2**20:.0f} MB "
        f"while building (targets < 30 s, < 500 MB)"
    )

    half = args.queries // 2
    queries = variants(real, half, args.seed) + variants(
        synthetic, args.queries - half, args.seed + 1
    )
    rng.shuffle(queries)
    absent = variants(held_out, min(args.queries, 2_000), args.seed + 2)

    print(f"\n{'':34}{'q/s':>8}{'acc@1':>8}{'matched':>9}{'wrong':>8}{'ambig.':>8}{'none':>7}")
    answers = {}
    for with_country in (True, False):
        started = time.perf_counter()
        result = evaluate(index, queries, with_country)
        rate = len(queries) / (time.perf_counter() - started)
        answers[with_country] = rate
        label = f"matcher, {'with' if with_country else 'without'} country"
        print(
            f"{label:34}{rate:8.0f}{result['accuracy_at_1']:8.3f}{result['matched']:9.3f}"
            f"{result['confident_wrong']:8.4f}{result['ambiguous']:8.3f}"
            f"{result['no_match']:7.3f}"
        )
    latencies = []
    for query, _, _ in queries[:2_000]:
        started = time.perf_counter()
        index.search(query)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    print(
        f"{'latency without country':34}p50 {latencies[len(latencies) // 2] * 1e3:.2f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1e3:.2f} ms, "
        f"max {latencies[-1] * 1e3:.1f} ms (one thread)"
    )
    for with_country in (True, False):
        result = evaluate(index, absent, with_country)
        label = f"absent ones, {'with' if with_country else 'without'} country"
        print(
            f"{label:34}{'':16}{result['matched']:9.3f}{result['confident_wrong']:8.4f}"
            f"{result['ambiguous']:8.3f}{result['no_match']:7.3f}"
        )

    sample = rng.sample(queries, args.naive)
    names = [record.name for record in registry]
    started = time.perf_counter()
    found = [
        process.extractOne(query, names, scorer=fuzz.WRatio, processor=utils.default_process)[2]
        for query, _, _ in sample
    ]
    naive_rate = len(sample) / (time.perf_counter() - started)
    naive_right = sum(
        registry[position].id == true for position, (_, _, true) in zip(found, sample, strict=True)
    ) / len(sample)
    ours = evaluate(index, sample, with_country=False)
    print(
        f"\nsame {len(sample)} queries, no country: naive WRatio {naive_rate:.1f} q/s, "
        f"acc@1 {naive_right:.3f}; matcher acc@1 {ours['accuracy_at_1']:.3f}"
    )
    print(
        f"throughput ratio without country: {answers[False] / naive_rate:.0f}x "
        f"(target >= 100x); with country: {answers[True] / naive_rate:.0f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
