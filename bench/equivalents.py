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
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.timing import reference_database, table, timed  # noqa: E402
from frameworks.models import Framework, FrameworkVersion, Level  # noqa: E402
from mappings import services  # noqa: E402
from registry.app import create_app  # noqa: E402

QUERIES = [
    ("IE-NFQ:8", "GB-SCQF"),
    ("GB-SCQF:10", "DE-DQR"),
    ("AT-NQR:VI", "IT-QNQ"),
    ("FR-CNCP-1969:I", "PL-PQF"),
    ("NZ-NZQCF:7", "MT-MQF"),
    ("NL-NLQF:4+", "GB-RQF"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as directory:
        url, engine = reference_database(directory)
        session = Session(engine)
        today = dt.date.today()

        def baseline(index):
            framework, code = QUERIES[index % len(QUERIES)][0].split(":")
            session.scalar(
                select(Level)
                .join(FrameworkVersion)
                .join(Framework)
                .where(Framework.code == framework, Level.code == code)
            )

        def service(index):
            level, target = QUERIES[index % len(QUERIES)]
            services.equivalents(session, level, target, today)

        # No rate limit and no import worker: this measures the look-up path alone.
        app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "IMPORTS_INLINE": True})
        client = app.test_client()

        def api(index):
            level, target = QUERIES[index % len(QUERIES)]
            response = client.get(
                "/api/v1/equivalents", query_string={"level": level, "target": target}
            )
            assert response.status_code == 200

        def cold(index):
            services._graph_cache.clear()
            service(index)

        results = {
            name: timed(call, seconds)
            for name, call in (
                ("baseline", baseline),
                ("service", service),
                ("api", api),
                ("cold", cold),
            )
        }
        session.close()
        engine.dispose()

    table(results, "baseline")


if __name__ == "__main__":
    main()
