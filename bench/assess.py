"""Benchmark: one recognition assessment against a bare equivalents look-up, in one run.

    .venv/bin/python bench/assess.py [--seconds 3]

A fresh SQLite database gets the bundled reference data, a few institutions and one registry
entry. Then, side by side:
  baseline    mappings.services.equivalents (the level path alone, warm graph)
  assessment  mappings.recognition.assess: validate, match the institution, find the registry
              entry, level path, credits and grade, every rule, store the decision (flushed)
Target: an assessment in under 50 ms.
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

from sqlalchemy.orm import Session  # noqa: E402

from frameworks.services import load_reference  # noqa: E402
from mappings import recognition, services  # noqa: E402
from registry.catalogue.services import upsert_qualifications  # noqa: E402
from registry.core.db import make_engine  # noqa: E402
from registry.core.permissions import OPERATOR  # noqa: E402
from registry.institutions.schemas import InstitutionRecordSchema  # noqa: E402
from registry.institutions.services import upsert_many  # noqa: E402
from registry.migrations import upgrade  # noqa: E402

CREDENTIALS = [
    {"title": "BSc (Hons) Computing Science", "awarded_on": "2019-06-30",
     "institution": {"name": "Univ. of Glasgow", "country": "GB"},
     "grade": {"value": "2:1", "scale": "GB-HONS"}},
    {"title": "Laurea in Informatica", "awarded_on": "2020-07-15", "level": "IT-QNQ:6",
     "institution": {"name": "Universita di Bologna", "country": "IT"},
     "credits": {"value": "180", "system": "ECTS"}, "grade": {"value": "27", "scale": "IT-30"}},
    {"title": "Bachelor in Computer Science", "awarded_on": "2018-06-30", "level": "IE-NFQ:8",
     "institution": {"name": "tcd.ie", "country": "IE"}, "credits": {"value": "240", "system": "ECTS"}},
]


def timed(call, seconds: float) -> list[float]:
    samples, index = [], 0
    deadline = time.perf_counter() + seconds
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
            records = [InstitutionRecordSchema().load(record) for record in (
                {"name": "University of Glasgow", "country": "GB", "status": "recognised",
                 "status_source": "bench", "domains": ["gla.ac.uk"]},
                {"name": "Alma Mater Studiorum Università di Bologna", "country": "IT",
                 "names": [{"value": "Università di Bologna"}], "domains": ["unibo.it"]},
                {"name": "Trinity College Dublin", "country": "IE", "domains": ["tcd.ie"]},
            )]
            glasgow = upsert_many(session, records)[0].institution.id
            upsert_qualifications(session, [{
                "code": "G400", "title": "BSc (Hons) Computing Science", "language": "en",
                "country": "GB", "institution_id": glasgow, "level": "GB-SCQF:10",
                "credits": "480", "credit_system": "GB-SCQF-CP", "isced_f": "0613",
                "qualification_type": "bachelor", "learning_outcomes": [], "other_titles": [],
                "identifiers": {}}])
            session.commit()
        session = Session(engine)
        today = dt.date.today()

        def baseline(index):
            services.equivalents(session, ("GB-SCQF:10", "IT-QNQ:6", "IE-NFQ:8")[index % 3],
                                 "DE-DQR", today)

        def assessment(index):
            answer = recognition.assess(session, OPERATOR, CREDENTIALS[index % 3], "DE", "bachelor")
            assert answer["decision"] == "recognised", answer["explanation"]
            if index % 50 == 49:
                session.rollback()

        assessment(0)  # warm the graph and the name index, as a running server has them
        results = {"baseline": timed(baseline, seconds), "assessment": timed(assessment, seconds)}
        session.rollback()
        session.close()
        engine.dispose()
    base = statistics.median(results["baseline"])
    print(f"{'path':11} {'calls/s':>9} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
    for name, samples in results.items():
        median = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[-1]
        print(f"{name:11} {len(samples) / sum(samples):9.0f} {median * 1000:10.2f} "
              f"{p95 * 1000:8.2f} {median / base:11.1f}")
    verdict = "met" if statistics.quantiles(results["assessment"], n=20)[-1] < 0.050 else "MISSED"
    print(f"target: an assessment under 50 ms at p95: {verdict}")


if __name__ == "__main__":
    main()
