"""The audit trail holds (issue 16, finding 7): the database itself refuses to change or delete
an event, events are chained by their hashes, and `audit.verify` (`registry audit verify`) names
the first event that does not fit the chain once someone has got around the triggers."""

import io
import json

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from importers import jobs
from registry.core import accounts, audit
from registry.core.audit import AuditEvent
from registry.core.permissions import OPERATOR, Actor

ACTOR = Actor("audit-test", "admin")


def record_three(session) -> list[AuditEvent]:
    made = [
        audit.record(session, ACTOR, "test.write", f"test:{n}", after={"n": n, "d": "1.50"})
        for n in range(3)
    ]
    session.commit()
    return made


def bypass_triggers(session) -> None:
    """What a database owner could do; rolled back with the test."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DROP TRIGGER audit_event_no_update"))
        session.execute(text("DROP TRIGGER audit_event_no_delete"))
    else:
        session.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).values(detail="rewritten"),
        delete(AuditEvent),
        text("UPDATE audit_event SET outcome = 'refused' WHERE outcome = 'allowed'"),
        text("DELETE FROM audit_event"),
    ],
    ids=["core-update", "core-delete", "sql-update", "sql-delete"],
)
def test_the_database_refuses_to_change_or_delete_an_event(session, statement):
    record_three(session)
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(statement)
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == count


def test_truncate_is_refused_on_postgresql(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    record_three(session)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text("TRUNCATE audit_event"))


def test_the_orm_refuses_too(session):
    [first, *_] = record_three(session)
    first.detail = "rewritten"
    with pytest.raises(PermissionError):
        session.flush()
    session.rollback()


def test_events_are_chained(session):
    made = record_three(session)
    assert made[1].prev_hash == made[0].hash and made[2].prev_hash == made[1].hash
    assert all(len(event.hash) == 64 for event in made)
    session.expire_all()  # as read back from the database, the hashes still match
    assert all(session.get(AuditEvent, e.id).digest() == e.hash for e in made)
    verdict = audit.verify(session)
    assert verdict.ok and verdict.checked >= 3


def test_verify_names_the_first_changed_event(session):
    made = record_three(session)
    bypass_triggers(session)
    session.execute(
        text("UPDATE audit_event SET detail = 'nothing happened' WHERE id = :id"),
        {"id": made[1].id},
    )
    verdict = audit.verify(session)
    assert verdict.broken_at == made[1].id and "content" in verdict.reason


def test_verify_names_the_event_after_a_removed_one(session):
    made = record_three(session)
    bypass_triggers(session)
    session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": made[1].id})
    verdict = audit.verify(session)
    assert verdict.broken_at == made[2].id and "prev_hash" in verdict.reason


def test_verify_finds_a_rehashed_event_by_its_successor(session):
    """Recomputing the hash of a changed event does not hide it: the next one names the old."""
    made = record_three(session)
    bypass_triggers(session)
    changed = session.get(AuditEvent, made[1].id)
    content = {**changed.content(), "detail": "forged"}
    session.execute(
        text("UPDATE audit_event SET detail = 'forged', hash = :hash WHERE id = :id"),
        {"hash": audit.chain_hash(content), "id": made[1].id},
    )
    verdict = audit.verify(session)
    assert verdict.broken_at == made[2].id


def test_the_migration_chains_the_events_stored_before_it(tmp_path):
    from sqlalchemy.orm import Session

    from registry.core.db import make_engine
    from registry.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    upgrade(url, "c1e3a5b7d9f2")
    engine = make_engine(url)
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_event (actor, action, entity, outcome, after) "
                    "VALUES ('old', 'x.write', :entity, 'allowed', :after)"
                ),
                {"entity": f"x:{n}", "after": json.dumps({"n": n})},
            )
    upgrade(url)
    with Session(engine) as session:
        assert audit.verify(session).checked == 3
        audit.record(session, ACTOR, "test.write", "test:after")
        session.commit()
        verdict = audit.verify(session)
        assert verdict.ok and verdict.checked == 4
    engine.dispose()


# --- refusals made by the import worker ------------------------------------------------------


def queue_job(session, tmp_path, actor, data, fmt="institutions-json", options=None):
    job = jobs.create_job(
        session,
        actor,
        fmt,
        io.BytesIO(json.dumps(data).encode()),
        "list.json",
        options or {},
        tmp_path / "uploads",
        10_000_000,
    )
    session.commit()
    return job.id


def test_a_job_runs_with_the_rights_its_token_has_when_it_starts(session, tmp_path):
    """Issue 16, finding 8: a token revoked while its job waits in the queue stops the job."""
    account = accounts.get_or_create_account(session, "queue-admin", "admin", [])
    token, secret = accounts.create_token(session, account)
    actor = accounts.authenticate(session, secret)
    job_id = queue_job(session, tmp_path, actor, [{"name": "Q Univ", "alpha_two_code": "IE"}])
    accounts.revoke_token(session, token.id)
    session.commit()
    job = jobs.run_job(lambda: session, job_id)
    assert job.state == "failed" and "revoked" in job.failure and job.read == 0
    [event] = audit.events_for(session, f"import_job:{job_id}")
    assert (event.outcome, event.token_id) == ("refused", token.id)


def test_a_job_runs_with_the_scope_its_account_has_now(session, tmp_path):
    account = accounts.get_or_create_account(session, "queue-ie", "ministry", ["IE"])
    _, secret = accounts.create_token(session, account)
    actor = accounts.authenticate(session, secret)
    job_id = queue_job(session, tmp_path, actor, [{"name": "Q Univ", "alpha_two_code": "IE"}])
    account.scopes = ["FR"]  # narrowed by an admin after the job was queued
    session.commit()
    job = jobs.run_job(lambda: session, job_id)
    assert (job.read, job.inserted, job.rejected) == (1, 0, 1)
    refused = session.scalars(
        select(AuditEvent).where(AuditEvent.actor == "queue-ie", AuditEvent.outcome == "refused")
    ).all()
    assert [e.after["refused_out_of_scope"] for e in refused] == [1]


def test_scope_refusals_of_the_worker_leave_one_event_per_import(session, tmp_path):
    account = accounts.get_or_create_account(session, "worker-ie", "ministry", ["IE"])
    _, secret = accounts.create_token(session, account)
    actor = accounts.authenticate(session, secret)
    foreign = [{"name": f"Hochschule {n}", "alpha_two_code": "DE"} for n in range(30)]
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    job = jobs.run_job(lambda: session, queue_job(session, tmp_path, actor, foreign))
    assert (job.read, job.rejected) == (30, 30)
    new = session.scalars(
        select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)
    ).all()
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before + 2
    refused = next(e for e in new if e.after.get("refused_out_of_scope"))
    assert refused.outcome == "refused" and refused.actor == "worker-ie"
    assert refused.after["refused_out_of_scope"] == 30 and len(refused.after["first"]) == 20


def test_a_job_refused_before_reading_is_audited(session, tmp_path):
    account = accounts.get_or_create_account(session, "worker-inst", "institution", ["42"])
    _, secret = accounts.create_token(session, account)
    actor = accounts.authenticate(session, secret)
    # An institution may import courses, but only into its own catalogue.
    csv = "code,title\nX1,Course\n"
    job = jobs.create_job(
        session,
        actor,
        "courses-csv",
        io.BytesIO(csv.encode()),
        "courses.csv",
        {"institution_id": 43},
        tmp_path / "uploads",
        10_000_000,
    )
    session.commit()
    done = jobs.run_job(lambda: session, job.id)
    assert done.state == "failed" and done.failure.startswith("Refused")
    [event] = audit.events_for(session, f"import_job:{job.id}")
    assert event.outcome == "refused" and event.actor == "worker-inst"


def test_the_operator_keeps_its_rights(session):
    assert accounts.current_actor_of(session, OPERATOR) == OPERATOR
