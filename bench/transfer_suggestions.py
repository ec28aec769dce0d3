"""Benchmark: transfer-credit suggestions on the labelled course pairs, against title matching.

    .venv/bin/python bench/transfer_suggestions.py [--misses]

A fresh SQLite database gets the bundled reference data and one receiving institution per
catalogue of mappings/data/course_pairs.json (German, English, French and Spanish titles). Each
catalogue receives one transcript holding every source course paired with one of its courses,
issued by an institution the registry does not know, evaluated by mappings.transfer. Printed:

  suggestion #1   share of source courses with a same-labelled course in the catalogue whose
                  top suggestion is one of them (target: at least 0.85)
  baseline        the same share for title matching alone (mappings.matching.best_title)
  auto-granted    results granted credit; with no approved articulation this must be 0, since
                  credit is never granted on a suggestion

The pairs and the glossary of mappings.transfer.similarity were written by the same hand: the
figure shows the method works as meant on realistic titles, not how it fares on an unseen
catalogue.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session  # noqa: E402

from frameworks.reference import load_reference  # noqa: E402
from mappings.matching import best_title  # noqa: E402
from mappings.transfer import services as transfer  # noqa: E402
from registry.catalogue.schemas import CourseRecordSchema  # noqa: E402
from registry.catalogue.services import upsert_courses  # noqa: E402
from registry.core.db import make_engine  # noqa: E402
from registry.core.permissions import OPERATOR, Actor  # noqa: E402
from registry.institutions.schemas import InstitutionRecordSchema  # noqa: E402
from registry.institutions.services import upsert_many  # noqa: E402
from registry.migrations import target_metadata  # noqa: E402

PAIRS = Path(__file__).resolve().parents[1] / "mappings" / "data" / "course_pairs.json"
TARGET = 0.85
COUNTRIES = {"de": "DE", "en": "GB", "fr": "FR", "es": "ES"}


def load_pairs() -> dict[str, Any]:
    return json.loads(PAIRS.read_text(encoding="utf-8"))


def measure(session: Session, actor: Actor = OPERATOR) -> dict[str, Any]:
    """Evaluate every source course against its catalogue; the figures and the misses."""
    data = load_pairs()
    institutions = upsert_many(
        session,
        [
            InstitutionRecordSchema().load(
                {
                    "name": f"Benchmark University ({language}, test data)",
                    "country": COUNTRIES[language],
                }
            )
            for language in data["catalogues"]
        ],
    )
    found = right = baseline = granted = 0
    misses = []
    for (language, catalogue), outcome in zip(
        data["catalogues"].items(), institutions, strict=True
    ):
        receiving = outcome.institution.id
        upsert_courses(
            session,
            [
                CourseRecordSchema().load({**course, "institution_id": receiving})
                for course in catalogue["courses"]
            ],
        )
        # Each source course once, with the codes it is labelled the same as.
        sources: dict[tuple, set[str]] = defaultdict(set)
        for pair in data["pairs"]:
            if pair["target"]["language"] == language:
                key = tuple(sorted(pair["source"].items()))
                sources[key] |= {pair["target"]["code"]} if pair["label"] == "same" else set()
        keys = list(sources)
        evaluation = transfer.evaluate_transcript(
            session,
            actor,
            {
                "issuer": {"name": "Hochschule für Benchmarks (test data)", "country": "AT"},
                "results": [
                    {**dict(key), "status": "passed", "ended_on": "2024-02-15"} for key in keys
                ],
            },
            receiving,
        )
        titles = [course["title"] for course in catalogue["courses"]]
        for key, result in zip(keys, evaluation["results"], strict=True):
            granted += result["status"] == "granted"
            expected = sources[key]
            if not expected:
                continue
            found += 1
            top = result["suggestions"][0]["code"] if result["suggestions"] else None
            right += top in expected
            index, _ = best_title(dict(key)["title"], titles)
            baseline += index is not None and catalogue["courses"][index]["code"] in expected
            if top not in expected:
                misses.append((dict(key)["title"], language, sorted(expected), top))
    return {
        "sources": found,
        "top1": right / found,
        "baseline": baseline / found,
        "granted": granted,
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="List the wrong suggestions.")
    show_misses = parser.parse_args().misses
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/bench.sqlite3")
        target_metadata().create_all(engine)
        with Session(engine) as session:
            load_reference(session, OPERATOR)
            figures = measure(session)
        engine.dispose()
    print(f"{figures['sources']} source courses with a same-labelled course in the catalogue")
    print(f"{'suggestion #1':14} {figures['top1']:.3f}   (target >= {TARGET})")
    print(f"{'baseline':14} {figures['baseline']:.3f}   (title matching alone)")
    print(f"{'auto-granted':14} {figures['granted']}       (must be 0: no approved articulation)")
    if show_misses:
        for title, language, expected, top in figures["misses"]:
            print(f"  {title!r} -> {language}: expected {', '.join(expected)}, got {top}")


if __name__ == "__main__":
    main()
