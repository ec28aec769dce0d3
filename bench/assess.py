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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session  # noqa: E402

from bench.timing import reference_database, table, timed  # noqa: E402
from mappings import recognition, services  # noqa: E402
from registry.catalogue.services import upsert_qualifications  # noqa: E402
from registry.core.permissions import OPERATOR  # noqa: E402
from registry.institutions.schemas import InstitutionRecordSchema  # noqa: E402
from registry.institutions.services import upsert_many  # noqa: E402

CREDENTIALS = [
    {
        "title": "BSc (Hons) Computing Science",
        "awarded_on": "2019-06-30",
        "institution": {"name": "Univ. of Glasgow", "country": "GB"},
        "grade": {"value": "2:1", "scale": "GB-HONS"},
    },
    {
        "title": "Laurea in Informatica",
        "awarded_on": "2020-07-15",
        "level": "IT-QNQ:6",
        "institution": {"name": "Universita di Bologna", "country": "IT"},
        "credits": {"value": "180", "system": "ECTS"},
        "grade": {"value": "27", "scale": "IT-30"},
    },
    {
        "title": "Bachelor in Computer Science",
        "awarded_on": "2018-06-30",
        "level": "IE-NFQ:8",
        "institution": {"name": "tcd.ie", "country": "IE"},
        "credits": {"value": "240", "system": "ECTS"},
    },
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as directory:
        _, engine = reference_database(directory)
        with Session(engine) as session:
            records = [
                InstitutionRecordSchema().load(record)
                for record in (
                    {
                        "name": "University of Glasgow",
                        "country": "GB",
                        "status": "recognised",
                        "status_source": "bench",
                        "domains": ["gla.ac.uk"],
                    },
                    {
                        "name": "Alma Mater Studiorum Università di Bologna",
                        "country": "IT",
                        "names": [{"value": "Università di Bologna"}],
                        "domains": ["unibo.it"],
                    },
                    {"name": "Trinity College Dublin", "country": "IE", "domains": ["tcd.ie"]},
                )
            ]
            glasgow = upsert_many(session, records)[0].institution.id
            upsert_qualifications(
                session,
                [
                    {
                        "code": "G400",
                        "title": "BSc (Hons) Computing Science",
                        "language": "en",
                        "country": "GB",
                        "institution_id": glasgow,
                        "level": "GB-SCQF:10",
                        "credits": "480",
                        "credit_system": "GB-SCQF-CP",
                        "isced_f": "0613",
                        "qualification_type": "bachelor",
                        "learning_outcomes": [],
                        "other_titles": [],
                        "identifiers": {},
                    }
                ],
            )
            session.commit()
        session = Session(engine)
        today = dt.date.today()

        def baseline(index):
            services.equivalents(
                session, ("GB-SCQF:10", "IT-QNQ:6", "IE-NFQ:8")[index % 3], "DE-DQR", today
            )

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
    table(results, "baseline")
    verdict = "met" if statistics.quantiles(results["assessment"], n=20)[-1] < 0.050 else "MISSED"
    print(f"target: an assessment under 50 ms at p95: {verdict}")


if __name__ == "__main__":
    main()
