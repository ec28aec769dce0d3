"""Benchmark: equivalence look-ups against a bare indexed level look-up, in one run.

    .venv/bin/python bench/equivalents.py [--seconds 3]

Builds a fresh SQLite database with the bundled reference data, then times, side by side:
  baseline  one indexed SELECT of a level row by framework and code (the least any answer costs)
  service   mappings.services.equivalents (resolve the level, check the graph token, path search)
  api       GET /api/v1/equivalents through the Flask app (routing, schemas, JSON)
  cold      the CLI's situation: a new process-wide cache, so the graph is rebuilt from the database
and prints calls per second, the median latency and each one's cost as a multiple of the baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from frameworks.models import Framework, FrameworkVersion, Level  # noqa: E402
from frameworks.services import load_reference  # noqa: E402
from registry.core.permissions import OPERATOR  # noqa: E402
from mappings import services  # noqa: E402
from registry.app import create_app  # noqa: E402
from registry.core.db import make_engine  # noqa: E402
from registry.migrations import upgrade  # noqa: E402

QUERIES = [
    ("IE-NFQ:8", "GB-SCQF"), ("GB-SCQF:10", "DE-DQR"), ("AT-NQR:VI", "IT-QNQ"),
    ("FR-CNCP-1969:I", "PL-PQF"), ("NZ-NZQCF:7", "MT-MQF"), ("NL-NLQF:4+", "GB-RQF"),
]


def timed(call, seconds: float) -> list[float]:
    samples = []
    deadline = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - started)
        index += 1
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite:///{directory}/bench.sqlite3"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            load_reference(session, OPERATOR)
            session.commit()
        session = Session(engine)
        today = dt.date.today()

        def baseline(index):
            framework, code = QUERIES[index % len(QUERIES)][0].split(":")
            session.scalar(
                select(Level).join(FrameworkVersion).join(Framework)
                .where(Framework.code == framework, Level.code == code)
            )

        def service(index):
            level, target = QUERIES[index % len(QUERIES)]
            services.equivalents(session, level, target, today)

        app = create_app({"DATABASE_URL": url})
        client = app.test_client()

        def api(index):
            level, target = QUERIES[index % len(QUERIES)]
            response = client.get("/api/v1/equivalents", query_string={"level": level, "target": target})
            assert response.status_code == 200

        def cold(index):
            services._graph_cache.clear()
            service(index)

        results = {name: timed(call, seconds) for name, call in
                   (("baseline", baseline), ("service", service), ("api", api), ("cold", cold))}
        session.close()
        engine.dispose()

    base = statistics.median(results["baseline"])
    print(f"{'path':10} {'calls/s':>10} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        print(f"{name:10} {len(samples) / sum(samples):10.0f} {median * 1000:10.3f} "
              f"{p95 * 1000:8.3f} {median / base:11.1f}")


if __name__ == "__main__":
    main()
