"""One run per job (issue 17, item 3): a claim is taken once, a live lease is never taken over,
an expired one is taken over once, and a heartbeat keeps a long job its worker's."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from importers import jobs
from importers.worker import ImportWorker
from registry.core.db import make_engine, make_session_factory
from registry.core.permissions import OPERATOR
from registry.institutions.models import Institution
from registry.migrations import upgrade


@pytest.fixture
def queue(tmp_path):
    """A committed SQLite database of its own and a way to queue institution imports in it."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def queued(records: int = 3) -> int:
        listing = [{"name": f"Lease College {n}", "alpha_two_code": "IE"} for n in range(records)]
        with Session(engine) as session:
            job = jobs.create_job(
                session,
                OPERATOR,
                "institutions-json",
                io.BytesIO(json.dumps(listing).encode()),
                "colleges.json",
                {},
                tmp_path / "uploads",
                1 << 26,
            )
            session.commit()
            return job.id

    yield url, sessions, queued
    engine.dispose()


def until(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def row(sessions, job_id: int) -> jobs.ImportJob:
    with sessions() as session:
        return session.get(jobs.ImportJob, job_id)


def test_a_job_is_claimed_once(queue):
    _, sessions, queued = queue
    job_id = queued()
    assert jobs.claim(sessions, job_id, "worker-a")
    assert not jobs.claim(sessions, job_id, "worker-b")
    job = row(sessions, job_id)
    assert (job.state, job.lease_owner) == ("running", "worker-a")
    assert job.lease_expires_at is not None


def test_a_job_another_run_holds_is_left_alone(queue):
    """The old fault: a second message (or a worker's restart) ran a running job again."""
    _, sessions, queued = queue
    job_id = queued()
    assert jobs.claim(sessions, job_id, "worker-a")
    left = jobs.run_job(sessions, job_id, "worker-b", threading.Event())
    assert (left.state, left.lease_owner, left.read) == ("running", "worker-a", 0)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Institution)) == 0


def test_only_expired_leases_are_taken_over_and_each_once(queue, monkeypatch):
    url, sessions, queued = queue
    monkeypatch.setattr(jobs, "import_task", lambda job_id, database_url: None)
    live, dead = queued(), queued()
    assert jobs.claim(sessions, live, "alive")
    assert jobs.claim(sessions, dead, "killed")
    with sessions() as session:
        session.get(jobs.ImportJob, dead).lease_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(
            seconds=1
        )
        session.commit()
    assert jobs.take_over_expired(sessions, url) == [dead]
    assert jobs.take_over_expired(sessions, url) == []  # a second sweeper finds nothing
    assert (row(sessions, dead).state, row(sessions, dead).lease_owner) == ("queued", None)
    assert (row(sessions, live).state, row(sessions, live).lease_owner) == ("running", "alive")
    # A worker starting now queues the dead one's job again, not the live one's.
    assert jobs.requeue_interrupted(sessions, url) == [dead]


def test_a_heartbeat_keeps_a_long_job_from_being_taken_over(queue, monkeypatch):
    """A lease of 2 s, renewed every third of it, over an import that outlasts it; a sweeper
    running beside it all along never takes the job. (A lease of 1 s was lost on a loaded
    machine: one SQLite batch held the write lock past it.)"""
    url, sessions, queued = queue
    monkeypatch.setenv("IMPORTS_LEASE_SECONDS", "2")
    job_id = queued(30_000)
    taken, done = [], threading.Event()

    def sweep():
        while not done.is_set():
            taken.extend(jobs.take_over_expired(sessions, url))
            done.wait(0.05)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    started = time.monotonic()
    try:
        job = jobs.run_job(sessions, job_id, "worker-a", threading.Event())
    finally:
        done.set()
        sweeper.join()
    assert time.monotonic() - started > 2, "the import must outlast one lease"
    assert taken == []
    assert (job.state, job.read, job.inserted) == ("completed", 30_000, 30_000)
    assert job.lease_owner is None


def test_each_stored_batch_renews_the_lease(queue, monkeypatch):
    """Without a heartbeat at all, the reports written between batches keep a live run's lease:
    on SQLite the heartbeat can wait behind the import's own writes for much of a lease."""
    url, sessions, queued = queue
    monkeypatch.setenv("IMPORTS_LEASE_SECONDS", "2")
    job_id = queued(30_000)
    expiries = []

    def sweep():
        while not done.is_set():
            taken.extend(jobs.take_over_expired(sessions, url))
            expiries.append(row(sessions, job_id).lease_expires_at)
            done.wait(0.05)

    taken, done = [], threading.Event()
    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    started = time.monotonic()
    try:
        job = jobs.run_job(sessions, job_id)  # no worker name, no stop event: no heartbeat
    finally:
        done.set()
        sweeper.join()
    assert time.monotonic() - started > 2, "the import must outlast one lease"
    assert taken == []
    assert len({expiry for expiry in expiries if expiry is not None}) > 2
    assert (job.state, job.read, job.lease_owner) == ("completed", 30_000, None)


def test_a_heartbeat_tries_again_soon_after_a_failed_renewal(queue, monkeypatch):
    """A renewal the database refused (locked, away) is tried again within a second or so, not a
    third of a lease later: two failed beats in a row would otherwise let the lease run out."""
    _, sessions, queued = queue
    monkeypatch.setenv("IMPORTS_LEASE_SECONDS", "3")
    job_id = queued()
    assert jobs.claim(sessions, job_id, "worker-a")
    attempts = []

    def flaky_sessions():
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise OperationalError("UPDATE import_jobs", {}, Exception("database is locked"))
        return sessions()

    before = row(sessions, job_id).lease_expires_at
    with jobs.Heartbeat(flaky_sessions, job_id, "worker-a") as heartbeat:
        until(lambda: len(attempts) >= 2, "a second try", timeout=10)
    assert not heartbeat.lost.is_set()
    assert attempts[1] - attempts[0] < 0.5  # a third of the lease would be 1 s
    assert row(sessions, job_id).lease_expires_at > before


def test_a_stopped_worker_hands_its_job_back_and_the_next_completes_it(queue, monkeypatch):
    url, sessions, queued = queue
    job_id = queued(20_000)
    monkeypatch.setattr(jobs.huey, "immediate", False)
    first = ImportWorker(url)
    jobs.huey.flush()
    jobs.import_task(job_id, url)
    first.start()
    try:
        until(lambda: row(sessions, job_id).read > 0, "the first worker to store a batch")
    finally:
        assert first.stop()
    handed_back = row(sessions, job_id)
    assert (handed_back.state, handed_back.lease_owner) == ("queued", None)
    assert 0 < handed_back.read < 20_000

    second = ImportWorker(url)
    second.start()
    try:
        until(lambda: row(sessions, job_id).state == "completed", "the second worker to end it")
    finally:
        assert second.stop()
    done = row(sessions, job_id)
    assert (done.read, done.inserted + done.unchanged, done.unchanged > 0) == (20_000, 20_000, True)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Institution)) == 20_000


def test_a_message_the_worker_does_not_understand_is_dropped_not_fatal(queue, monkeypatch, caplog):
    """A message of another shape (an older version's, another task's) is logged and dropped;
    the worker thread lives on and runs the next job."""
    url, sessions, queued = queue
    job_id = queued()
    monkeypatch.setattr(jobs.huey, "immediate", False)
    jobs.huey.flush()
    jobs.huey.enqueue(jobs.import_task.s(job_id))  # one argument where two are written
    jobs.import_task(job_id, url)
    worker = ImportWorker(url)
    worker.start()
    try:
        until(lambda: row(sessions, job_id).state == "completed", "the job after a bad message")
    finally:
        assert worker.stop()
    assert "not understood, dropped" in caplog.text
