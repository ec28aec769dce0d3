"""Concurrent writers. On PostgreSQL: two framework imports, two publishes of one draft and
readers asking for equivalences, all at once; counts must add up and no update may be lost. On
SQLite (the embedded default): 40 assessments while an import runs, all answered 201, and a
write that waits past the busy timeout answered 503 with Retry-After.

These commit for real (no savepoint), so the tests work on data of their own: frameworks they
remove afterwards, a SQLite database of their own, transcripts of a learner of their own.
"""

import datetime as dt
import json
import secrets
import sqlite3
import string
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameworks import editing, services
from frameworks.models import Framework, FrameworkVersion, Level, LevelLink
from mappings import services as mappings
from bench.import_elmo import generate
from registry.app import create_app
from registry.catalogue.models import TranscriptResult
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.db import make_engine, make_session_factory
from registry.core.errors import Conflict
from registry.core.permissions import OPERATOR
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many
from registry.migrations import upgrade

ROOT = Path(__file__).resolve().parents[1]
CREDENTIAL = json.loads((ROOT / "examples" / "credential.json").read_text())


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


def elmo_file(path: Path, records: int) -> Path:
    """A generated ELMO file (bench/import_elmo.py) of a learner no other test imports."""
    generate(path, records)
    learner = secrets.token_hex(8)
    path.write_text(path.read_text().replace("example.org:4711", f"example.org:{learner}"))
    return path


@pytest.fixture
def embedded(tmp_path):
    """A SQLite database of its own (migrated, reference data loaded), as `make run` uses."""
    url = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        services.load_reference(session, OPERATOR)
        upsert_many(
            session,
            [
                InstitutionRecordSchema().load(
                    {
                        "name": "University of Glasgow",
                        "country": "GB",
                        "status": "recognised",
                        "status_source": "Test list (test data)",
                        "identifiers": [{"scheme": "schac", "value": "gla.ac.uk"}],
                    }
                )
            ],
        )
        account = accounts.get_or_create_account(session, "concurrent", "registrar", [])
        token = accounts.create_token(session, account)[1]
        session.commit()
    yield url, engine, {"Authorization": f"Bearer {token}"}
    engine.dispose()


def embedded_app(url: str, tmp_path: Path, **config):
    return create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "IMPORTS_INLINE": True,
            "IMPORTS_DIR": tmp_path / "uploads",
            "RATELIMIT_AUTHENTICATED": "100000 per minute",
            **config,
        }
    )


def assess(app, headers) -> tuple[int, str]:
    response = app.test_client().post(
        "/api/v1/assessments?target=DE&target_qualification_type=bachelor",
        json=CREDENTIAL,
        headers=headers,
    )
    return response.status_code, response.get_data(as_text=True)[:300]


def test_assessments_while_an_import_runs_on_sqlite(embedded, tmp_path):
    """Issue 17, item 4: 31 of 40 concurrent assessments answered 500 "database is locked"
    while an import ran. Writes now wait their turn (BEGIN IMMEDIATE and a busy timeout)."""
    url, engine, headers = embedded
    app = embedded_app(url, tmp_path)
    path = elmo_file(tmp_path / "transcripts.xml", 30_000)
    started, report = threading.Event(), []

    def importer():
        from importers.transcripts import import_transcripts

        with path.open("rb") as stream:
            report.append(
                import_transcripts(
                    make_session_factory(engine),
                    OPERATOR,
                    "elmo",
                    stream,
                    path.name,
                    parallel=False,
                    progress=lambda _report: started.set(),
                )
            )
        started.set()

    answers: list = [None] * 40

    def assessor(index):
        def job():
            answers[index] = assess(app, headers)

        return job

    thread = threading.Thread(target=importer)
    thread.start()
    assert started.wait(60)
    running = thread.is_alive()
    outcomes = run_all([assessor(index) for index in range(40)])
    import_ran_along = thread.is_alive()
    thread.join(120)

    assert running, "the import ended before the assessments started"
    assert outcomes == [None] * 40
    assert [status for status, _ in answers] == [201] * 40, [a for a in answers if a[0] != 201]
    assert report and report[0].state == "completed"
    assert (report[0].read, report[0].inserted) == (30_000, 30_000)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(TranscriptResult))
        assert stored == 30_000
    print(f"the import still ran when the 40 assessments were answered: {import_ran_along}")


def test_a_write_that_waits_past_the_busy_timeout_is_503_with_retry_after(embedded, tmp_path):
    url, engine, headers = embedded
    app = embedded_app(url, tmp_path, DATABASE_BUSY_TIMEOUT=0.2)
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer that does not let go
    try:
        status, body = assess(app, headers)
        client = app.test_client()
        response = client.post(
            "/api/v1/assessments?target=DE&target_qualification_type=bachelor",
            json=CREDENTIAL,
            headers=headers,
        )
        # Reads go on beside the writer.
        read = client.get("/api/v1/frameworks/DE-DQR")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status == 503, body
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "2"
    assert "busy" in response.get_json()["detail"]
    assert read.status_code == 200
    # Once the other writer is done, the same write goes through.
    assert assess(app, headers)[0] == 201
