"""Concurrent writers. On PostgreSQL: two framework imports, two publishes of one draft and
readers asking for equivalences, all at once; counts must add up and no update may be lost. On
SQLite (the embedded default): 40 assessments while an import runs, all answered 201, and a
write that waits past the busy timeout answered 503 with Retry-After. On both: two imports of
one ELMO file at once end cleanly and store each result once.

These commit for real (no savepoint), so the tests work on data of their own: frameworks they
remove afterwards, a SQLite database of their own, transcripts of a learner of their own.
"""

import datetime as dt
import json
import os
import secrets
import sqlite3
import string
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameworks import editing, reference, services
from frameworks.models import Framework, FrameworkVersion, Level, LevelLink
from mappings import services as mappings
from bench.import_elmo import generate
from registry.app import create_app
from registry.catalogue.models import Transcript, TranscriptResult
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
        reference.import_definition(session, OPERATOR, definition(moving, 3))
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
                    reference.import_definition(session, OPERATOR, definition(framework, 8, 0))
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
        reference.load_reference(session, OPERATOR)
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


def import_twice_at_once(engine, fmt: str, path: Path) -> list[tuple[int, str, str]]:
    """`registry import FMT PATH` run by two processes at once: (exit code, stdout, stderr) of
    each."""
    env = {
        **os.environ,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-c", "from registry.cli import main; main()", "import", fmt]
    runs = [
        subprocess.Popen(
            [*command, str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    return [(run.wait(180), *run.communicate()) for run in runs]


def test_two_imports_of_one_elmo_file_at_once(engine, tmp_path):
    """Issue 17, item 5: two imports of one file at once, as two `registry import elmo`
    processes: both end (exit 0), or one exits 2 with one `error:` line; never a traceback,
    and each result is stored once."""
    records = 12_000
    path = elmo_file(tmp_path / f"twice-{secrets.token_hex(4)}.xml", records)
    ended = import_twice_at_once(engine, "elmo", path)
    codes = sorted(code for code, _, _ in ended)
    for code, out, err in ended:
        assert "Traceback" not in err + out, err
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), err
        else:
            assert code == 0, err
            assert "completed" in out
    assert codes in ([0, 0], [0, 2])
    with Session(engine) as session:
        try:
            transcripts = select(Transcript.id).where(Transcript.import_source == path.name)
            stored = session.scalar(
                select(func.count())
                .select_from(TranscriptResult)
                .where(TranscriptResult.transcript_id.in_(transcripts))
            )
            assert stored == records
            assert session.scalar(select(func.count()).select_from(transcripts.subquery())) == (
                records // 100
            )
        finally:
            session.query(TranscriptResult).filter(
                TranscriptResult.transcript_id.in_(transcripts)
            ).delete(synchronize_session=False)
            session.query(Transcript).filter(Transcript.import_source == path.name).delete(
                synchronize_session=False
            )
            session.commit()
    print("exit codes:", codes, [err.strip() for _, _, err in ended if err.strip()])


def test_an_upsert_waits_for_a_concurrent_insert_of_the_same_rows(pg, tmp_path):
    """What two imports of one file do to each other, step by step: the second's insert of a
    transcript, or of a result, the first has inserted but not yet committed waits for it, then
    finds it stored (ON CONFLICT DO NOTHING), and counts it unchanged: no UniqueViolation."""
    from importers import elmo
    from registry.catalogue.transcripts import RecordChecker, learner_key, upsert_results

    engine, _ = pg
    checker = RecordChecker()
    path = elmo_file(tmp_path / "steps.xml", 200)
    records = [checker.load(record) for _, record in elmo.read(path)]
    first, second = Session(engine), Session(engine)
    try:
        assert upsert_results(first, records[:50]) == [("inserted", None)] * 50
        first.commit()
        for part in (records[50:100], records[100:200]):  # a known transcript's; a new one's
            assert upsert_results(first, part) == [("inserted", None)] * len(part)
            outcomes: list = []
            thread = threading.Thread(
                target=lambda part=part: outcomes.append(upsert_results(second, part))
            )
            thread.start()
            thread.join(1)
            assert thread.is_alive(), "the second writer did not wait for the first"
            first.commit()
            thread.join(30)
            assert outcomes == [[("unchanged", None)] * len(part)]
            second.commit()
    finally:
        first.rollback()
        second.rollback()
        first.close()
        second.close()
    with Session(engine) as session:
        mine = select(Transcript.id).where(
            Transcript.learner_key == learner_key(records[0]["transcript"]["learner"])
        )
        transcripts = session.scalars(mine).all()
        stored = session.scalar(
            select(func.count())
            .select_from(TranscriptResult)
            .where(TranscriptResult.transcript_id.in_(transcripts))
        )
        session.query(TranscriptResult).filter(
            TranscriptResult.transcript_id.in_(transcripts)
        ).delete(synchronize_session=False)
        session.query(Transcript).filter(Transcript.id.in_(transcripts)).delete(
            synchronize_session=False
        )
        session.commit()
    assert len(transcripts) == 2 and stored == 200


def test_an_import_the_database_refuses_ends_with_one_error_line_and_exit_2(embedded, tmp_path):
    """A write the database refuses (here: SQLite busy past the timeout) ends an import with
    the documented one `error:` line and exit 2, not a traceback and exit 1."""
    url, _, _ = embedded
    path = elmo_file(tmp_path / "refused.xml", 300)
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        run = subprocess.run(
            [sys.executable, "-c", "from registry.cli import main; main()", "import", "elmo"]
            + [str(path)],
            env={
                **os.environ,
                "DATABASE_URL": url,
                "DATABASE_BUSY_TIMEOUT": "0.2",
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "locked" in lines[0], lines


def test_a_batch_the_database_refuses_fails_the_report_in_one_line(session):
    """The runner keeps what was committed before, undoes the refused batch and says where the
    import stopped; the CLI prints that line and exits 2."""
    from sqlalchemy.exc import IntegrityError

    from importers.runner import ImportReport, run

    def apply(_session, batch):
        if batch[0][0] == "3":
            raise IntegrityError("INSERT ...", {}, Exception("duplicate key value\n  DETAIL"))
        return [("inserted", None)] * len(batch)

    report = run(
        lambda: session,
        OPERATOR,
        ImportReport("test", "refused.csv"),
        [(str(n), {"n": n}) for n in range(1, 6)],
        None,
        apply,
        batch_size=2,
    )
    assert (report.state, report.read, report.inserted) == ("failed", 2, 2)
    assert report.failure == (
        "record 3 and on: not stored, the database refused them "
        "(Exception: duplicate key value DETAIL)"
    )


def test_two_imports_of_one_institution_list_at_once(engine, tmp_path):
    """Institutions are found by any of their identifiers, or by name and evidence: no one key
    an ON CONFLICT could name. Two imports of one list take turns (on PostgreSQL a lock for
    the transaction, on SQLite BEGIN IMMEDIATE), and each institution is stored once."""
    tag = secrets.token_hex(4)
    entries = [
        {
            "name": f"Concurrency College {tag} {n}",
            "alpha_two_code": "LU",
            "country": "Luxembourg",
            "domains": [f"c{n}-{tag}.example.lu"],
            "web_pages": [f"https://c{n}-{tag}.example.lu/"],
            "state-province": None,
        }
        for n in range(300)
    ]
    path = tmp_path / f"list-{tag}.json"
    path.write_text(json.dumps(entries))
    ended = import_twice_at_once(engine, "institutions-json", path)
    from registry.institutions.models import Institution

    with Session(engine) as session:
        mine = session.scalars(
            select(Institution).where(Institution.name.like(f"Concurrency College {tag} %"))
        ).all()
        names = sorted(institution.name for institution in mine)
        for institution in mine:
            session.delete(institution)
        session.commit()
    for code, out, err in ended:
        assert "Traceback" not in err + out, err
        assert code == 0, err
    assert names == sorted(entry["name"] for entry in entries)


def test_two_imports_of_one_catalogue_file_at_once(engine, tmp_path):
    """The catalogue's upsert looks rows up, then inserts those it did not find: two imports
    of one file at once both miss a row, and the second insert meets the first's. That batch is
    applied again, now finding the row; both imports complete and each entry is stored once."""
    from registry.catalogue.models import Qualification

    tag = secrets.token_hex(3).upper()
    rows = ["code,title,country,qualification_type"] + [
        f"Q{tag}-{n},Concurrency qualification {tag} {n},LU,bachelor" for n in range(3000)
    ]
    path = tmp_path / f"register-{tag}.csv"
    path.write_text("\n".join(rows) + "\n")
    ended = import_twice_at_once(engine, "qualifications-csv", path)
    with Session(engine) as session:
        mine = session.scalars(
            select(Qualification).where(Qualification.code.like(f"Q{tag}-%"))
        ).all()
        codes = sorted(qualification.code for qualification in mine)
        for qualification in mine:
            session.delete(qualification)
        session.commit()
    for code, out, err in ended:
        assert "Traceback" not in err + out, err
        assert code == 0, err
        assert "completed" in out, out
    assert codes == sorted(f"Q{tag}-{n}" for n in range(3000))


def test_a_unique_key_taken_by_a_concurrent_request_is_409(embedded, tmp_path):
    """A request whose row another request stored between its check and its write: the
    database refuses it (a real unique violation here), and the client gets 409 with one
    sentence, not a server error."""
    from flask.views import MethodView

    from registry.api import writes
    from registry.core.changes import ChangeToken
    from registry.sessions import get_session

    url, engine, _ = embedded
    with Session(engine) as session:
        account = accounts.get_or_create_account(session, "conflict-admin", "admin", [])
        headers = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
        session.commit()
    app = embedded_app(url, tmp_path)

    class Duplicate(MethodView):
        @writes("catalogue.edit")
        def post(self):
            session = get_session()
            session.add(ChangeToken(name="graph", token="first"))
            session.add(ChangeToken(name="graph", token="second"))
            session.flush()
            return {}

    view = Duplicate.as_view("test_duplicate")
    app.extensions["csrf"].exempt(view)  # as the API's blueprints are: a token, no cookie
    app.add_url_rule("/api/v1/test-duplicate", view_func=view)

    answer = app.test_client().post("/api/v1/test-duplicate", headers=headers)
    assert answer.status_code == 409, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert "at the same time" in answer.get_json()["detail"]
