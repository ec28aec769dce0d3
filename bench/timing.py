"""Shared by the benchmarks: timing loops, the side-by-side table, a database to measure on."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from frameworks.reference import load_reference
from registry.core.db import make_engine
from registry.core.permissions import OPERATOR
from registry.migrations import upgrade


def timed(call: Callable[[int], object], seconds: float) -> list[float]:
    """Call repeatedly for `seconds`; the duration of each call."""
    samples, index = [], 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - started)
        index += 1
    return samples


def table(results: dict[str, list[float]], baseline: str) -> None:
    """Calls per second, median and p95 of each path, and its cost against the baseline."""
    base = statistics.median(results[baseline])
    print(f"{'path':11} {'calls/s':>9} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        print(
            f"{name:11} {len(samples) / sum(samples):9.0f} {median * 1000:10.3f} "
            f"{p95 * 1000:8.3f} {median / base:11.1f}"
        )


def reference_database(directory: str) -> tuple[str, Engine]:
    """A fresh SQLite database at head with the bundled reference data."""
    url = f"sqlite:///{directory}/bench.sqlite3"
    return url, load_reference_data(url)


def load_reference_data(url: str) -> Engine:
    """Migrate the (empty) database at `url` to head and load the bundled reference data, as
    `registry db upgrade` and `registry load-reference` do."""
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_reference(session, OPERATOR)
        session.commit()
    return engine
