"""Concurrent writers on PostgreSQL: two framework imports, two publishes of one draft and
readers asking for equivalences, all at once. Counts must add up and no update may be lost.

These commit for real (no savepoint), so the test works on frameworks of its own and removes
them afterwards.
"""

import datetime as dt
import secrets
import string
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameworks import editing, services
from frameworks.models import Framework, FrameworkVersion, Level, LevelLink
from mappings import services as mappings
from registry.core.audit import AuditEvent
from registry.core.errors import Conflict
from registry.core.permissions import OPERATOR


def code(prefix: str) -> str:
    return f"LU-{prefix}{''.join(secrets.choice(string.ascii_uppercase) for _ in range(5))}"


def definition(framework: str, levels: int, eqf_offset: int = 3) -> dict:
    return {
        "code": framework,
        "name": f"Concurrency test {framework}",
        "country": "LU",
        "version": {"version": "1", "citation": "Test"},
        "levels": [
            {"code": str(n), "ordinal": n, "title": f"Level {n}"} for n in range(1, levels + 1)
        ],
        "links": [
            {
                "from": f"{framework}:{n}",
                "to": f"EQF:{n + eqf_offset}",
                "relation": "exactMatch",
                "basis": "decision",
                "citation": "Test",
            }
            for n in range(1, levels + 1)
            if n + eqf_offset <= 8
        ],
    }


def run_all(jobs) -> list:
    """Start every job at once; return what each raised (None when it finished)."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def runner(index, job):
        barrier.wait()
        try:
            job()
        except Exception as error:  # collected and asserted on below
            outcomes[index] = error

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.fixture
def pg(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test runs on PostgreSQL only (set TEST_DATABASE_URL)")
    created: list[str] = []
    yield engine, created
    with Session(engine) as session:
        for framework in session.scalars(select(Framework).where(Framework.code.in_(created))):
            session.delete(framework)
        session.commit()
        services.bump_graph_generation(session)
        session.commit()


def test_imports_publishes_and_reads_at_once(pg):
    engine, created = pg
    moving = code("C")
    created.append(moving)
    with Session(engine) as session:
        services.import_definition(session, OPERATOR, definition(moving, 3))
        draft = editing.new_draft(session, OPERATOR, moving, {"version": "2"}).version
        editing.replace_level_links(
            session,
            OPERATOR,
            moving,
            "1",
            [{"to": "EQF:5", "relation": "exactMatch", "basis": "decision", "citation": "Moved"}],
        )
        session.commit()

    imports = {prefix: [code(prefix) for _ in range(3)] for prefix in ("A", "B")}
    created += [framework for codes in imports.values() for framework in codes]
    answers: list[list[str]] = []
    today = dt.date.today()

    def importer(codes):
        def job():
            for framework in codes:
                with Session(engine) as session:
                    services.import_definition(session, OPERATOR, definition(framework, 8, 0))
                    session.commit()

        return job

    def publisher():
        with Session(engine) as session:
            editing.publish(session, OPERATOR, moving, draft, {"valid_from": today.isoformat()})
            session.commit()

    def reader():
        for _ in range(40):
            with Session(engine) as session:
                answer = mappings.equivalents(session, f"{moving}:1", "DE-DQR", today)
                answers.append([match.level for match in answer.matches])

    outcomes = run_all(
        [importer(imports["A"]), importer(imports["B"]), publisher, publisher, reader, reader]
    )

    # The two importers and the readers finished; of the two publishes exactly one won.
    assert outcomes[0] is None and outcomes[1] is None and outcomes[4:] == [None, None]
    assert sorted(type(outcome).__name__ for outcome in outcomes[2:4]) == ["Conflict", "NoneType"]
    assert isinstance(next(o for o in outcomes[2:4] if o is not None), Conflict)
    # Every reader saw either the old answer or the new one, never a broken graph.
    assert answers and all(answer in (["DE-DQR:4"], ["DE-DQR:5"]) for answer in answers)

    with Session(engine) as session:
        for framework in imports["A"] + imports["B"]:
            levels = session.scalar(
                select(func.count())
                .select_from(Level)
                .join(FrameworkVersion)
                .join(Framework)
                .where(Framework.code == framework)
            )
            links = session.scalar(
                select(func.count())
                .select_from(LevelLink)
                .join(FrameworkVersion)
                .join(Framework)
                .where(Framework.code == framework)
            )
            assert (levels, links) == (8, 8)
        versions = session.execute(
            select(FrameworkVersion.version, FrameworkVersion.status, FrameworkVersion.valid_to)
            .join(Framework)
            .where(Framework.code == moving)
            .order_by(FrameworkVersion.id)
        ).all()
        assert [tuple(row) for row in versions] == [
            ("1", "superseded", today),
            ("2", "published", None),
        ]
        answer = mappings.equivalents(session, f"{moving}:1", "DE-DQR", today)
        assert [match.level for match in answer.matches] == ["DE-DQR:5"]
        published = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == f"framework:{moving}/{draft}",
                AuditEvent.action == "framework.publish",
            )
        )
        assert [event.outcome for event in published] == ["allowed"]
