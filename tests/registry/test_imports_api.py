"""Import jobs over the API: 202 with an id, progress and the error report, permissions."""

import io
import json

import pytest

from registry.core import accounts

PROBLEM = "application/problem+json"
WORLD = [
    {"name": "University of Glasgow", "alpha_two_code": "GB", "domains": ["gla.ac.uk"]},
    {"name": "Nowhere", "alpha_two_code": "XX", "domains": []},
    {"name": "Universität Wien", "alpha_two_code": "AT", "domains": ["univie.ac.at"]},
]


@pytest.fixture
def headers(session):
    made = {}
    for key, role, scopes in [
        ("admin", "admin", []),
        ("registrar", "registrar", []),
        ("other-admin", "admin", []),
    ]:
        account = accounts.get_or_create_account(session, f"imports-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


@pytest.fixture
def receiver(session) -> int:
    """An institution that receives transcripts."""
    from registry.institutions.models import Institution

    institution = Institution(
        name="Receiving Test Office", name_key="receiving test office", country="IE"
    )
    session.add(institution)
    session.commit()
    return institution.id


def upload(client, headers, fmt="institutions-json", data=None, options=None, name="world.json"):
    form = {"format": fmt, "file": (io.BytesIO(json.dumps(data or WORLD).encode()), name)}
    if options is not None:
        form["options"] = json.dumps(options)
    return client.post(
        "/api/v1/imports", data=form, headers=headers, content_type="multipart/form-data"
    )


def test_upload_runs_and_reports(client, headers):
    response = upload(
        client, headers["admin"], options={"status": "recognised", "status_source": "Test list"}
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    job = response.get_json()
    assert job["id"] and job["state"] == "completed"
    assert (job["read"], job["inserted"], job["rejected"]) == (3, 2, 1)
    assert job["errors"][0]["position"] == "record 2"
    polled = client.get(f"/api/v1/imports/{job['id']}", headers=headers["admin"]).get_json()
    assert polled["state"] == "completed" and polled["read"] == 3
    report = client.get(f"/api/v1/imports/{job['id']}/errors.csv", headers=headers["admin"])
    assert report.mimetype == "text/csv"
    assert report.get_data(as_text=True).splitlines()[:2][0] == "position,reason"
    again = upload(client, headers["admin"]).get_json()
    assert (again["inserted"], again["unchanged"]) == (0, 2)


def test_upload_refusals(client, headers):
    assert upload(client, {}).status_code == 401
    assert upload(client, headers["registrar"]).status_code == 403
    bad_format = upload(client, headers["admin"], fmt="docx")
    assert bad_format.status_code == 400 and "format" in bad_format.get_json()["errors"]
    bad_options = upload(client, headers["admin"], options={"colour": "red"})
    assert bad_options.status_code == 400 and "options" in bad_options.get_json()["errors"]
    missing = client.post(
        "/api/v1/imports",
        data={"format": "ror"},
        headers=headers["admin"],
        content_type="multipart/form-data",
    )
    assert missing.status_code == 400 and "file" in missing.get_json()["errors"]
    job = upload(client, headers["admin"]).get_json()
    # Another's job is not there for it at all: as an unknown id.
    other = client.get(f"/api/v1/imports/{job['id']}", headers=headers["registrar"])
    assert other.status_code == 404
    assert client.get("/api/v1/imports/999999", headers=headers["admin"]).status_code == 404


def test_broken_file_is_a_failed_job_not_an_error(client, headers):
    form = {"format": "institutions-json", "file": (io.BytesIO(b'[{"name": "Cut'), "cut.json")}
    job = client.post(
        "/api/v1/imports", data=form, headers=headers["admin"], content_type="multipart/form-data"
    ).get_json()
    assert job["state"] == "failed" and "JSON" in job["failure"]


def test_queued_job_runs_on_the_huey_worker_and_resumes(tmp_path):
    """The queue path end to end on its own committed database: a job queued, run by the task;
    an interrupted one queued again and run without duplicates."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from importers import jobs
    from registry.core.db import make_engine, make_session_factory
    from registry.core.permissions import OPERATOR
    from registry.institutions.models import Institution
    from registry.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with Session(engine) as session:
        job = jobs.create_job(
            session,
            OPERATOR,
            "institutions-json",
            io.BytesIO(json.dumps(WORLD).encode()),
            "world.json",
            {},
            tmp_path / "uploads",
            10_000_000,
        )
        session.commit()
        job_id = job.id
    jobs.huey.immediate = True
    try:
        jobs.import_task(job_id, url)
        with Session(engine) as session:
            assert session.get(jobs.ImportJob, job_id).state == "completed"
            interrupted = jobs.create_job(
                session,
                OPERATOR,
                "institutions-json",
                io.BytesIO(json.dumps(WORLD).encode()),
                "again.json",
                {},
                tmp_path / "uploads",
                10_000_000,
            )
            interrupted.state = "running"  # as a crashed worker leaves it
            session.commit()
            interrupted_id = interrupted.id
        assert jobs.requeue_interrupted(sessions, url) == [interrupted_id]
    finally:
        jobs.huey.immediate = False
    with Session(engine) as session:
        again = session.get(jobs.ImportJob, interrupted_id)
        assert (again.state, again.inserted, again.unchanged) == ("completed", 0, 2)
        assert session.scalar(select(func.count()).select_from(Institution)) == 2
    engine.dispose()


def test_elmo_and_badges_through_the_api(client, headers, shared, receiver):
    elmo = (shared / "formats" / "emrex-elmo" / "example.xml").read_bytes()

    def send_elmo(options):
        form = {
            "format": "elmo",
            "file": (io.BytesIO(elmo), "example.xml"),
            "options": json.dumps(options),
        }
        return client.post(
            "/api/v1/imports",
            data=form,
            headers=headers["admin"],
            content_type="multipart/form-data",
        )

    job = send_elmo({"received_by": receiver}).get_json()
    assert job["state"] == "completed" and job["inserted"] == 6 and job["rejected"] == 0
    badge = (shared / "formats" / "open-badges-3" / "ob3-microcredential-example.json").read_bytes()

    def send(options):
        form = {
            "format": "open-badges",
            "file": (io.BytesIO(badge), "badge.json"),
            "options": json.dumps({"received_by": receiver, **options}),
        }
        return client.post(
            "/api/v1/imports",
            data=form,
            headers=headers["admin"],
            content_type="multipart/form-data",
        ).get_json()

    # OB 3.0 credits have no unit: kept under UNSTATED, and in the unit the import names.
    unitless = send({})
    assert unitless["inserted"] == 1 and unitless["rejected"] == 0
    stated = send({"credit_system": "ECTS"})
    assert stated["updated"] == 1 and stated["rejected"] == 0


def test_a_ministry_import_cannot_change_another_country_s_institution(client, session):
    # Issue 16, finding 1: found by its domain, TUM (DE) must not take the IE list's status.
    from registry.core.audit import AuditEvent
    from registry.core.normalise import name_key
    from registry.institutions.models import Institution, InstitutionIdentifier

    tum = Institution(
        name="Technische Universität München",
        name_key=name_key("Technische Universität München"),
        country="DE",
        status="recognised",
    )
    tum.identifiers.append(InstitutionIdentifier(scheme="domain", value="tum.de", given="tum.de"))
    session.add(tum)
    ie = accounts.get_or_create_account(session, "imports-ie", "ministry", ["IE"])
    headers = {"Authorization": f"Bearer {accounts.create_token(session, ie)[1]}"}
    session.commit()
    record = {
        "name": "Technische Universität München",
        "alpha_two_code": "IE",
        "domains": ["tum.de"],
    }
    job = upload(
        client,
        headers,
        data=[record],
        options={"status": "not_recognised", "status_source": "x"},
    ).get_json()
    session.expire_all()
    assert session.get(Institution, tum.id).status == "recognised"
    assert session.query(Institution).filter_by(country="IE").count() == 0
    assert job["rejected"] == 1 and job["inserted"] == job["updated"] == 0
    (refused,) = (
        session.query(AuditEvent)
        .filter_by(entity=f"institution:{tum.id}", action="institution.import")
        .all()
    )
    assert refused.outcome == "refused" and "a conflict for an admin or the ministry of DE" in (
        refused.detail
    )
    # Stated as German, the record is outside the IE ministry's scope: refused alike.
    job = upload(
        client,
        headers,
        data=[{**record, "alpha_two_code": "DE"}],
        options={"status": "not_recognised", "status_source": "x"},
    ).get_json()
    session.expire_all()
    assert job["rejected"] == 1 and session.get(Institution, tum.id).status == "recognised", job
    events = session.query(AuditEvent).filter_by(entity=f"institution:{tum.id}").all()
    assert [event.outcome for event in events] == ["refused", "refused"]
    assert "outside its scope" in events[-1].detail


def _elmo_text_bomb() -> bytes:
    """600 KB of gzip: an ELMO report whose text never ends, 600 MB once inflated."""
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = b'<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1">\n<report>'
    parts = [compressor.compress(head)]
    parts += [compressor.compress(b"x" * ((1 << 20) - 4) + b"<b/>") for _ in range(600)]
    return b"".join([*parts, compressor.flush()])


def test_an_upload_holding_too_much_fails_its_job_and_its_file_goes_later(
    session, tmp_path, receiver, monkeypatch
):
    """Issue 17, item 6: the job ends failed with the reader's reason (the line, the cap); its
    upload is kept for IMPORTS_KEEP_FAILED_HOURS, then deleted."""
    import datetime as dt
    from pathlib import Path

    from importers import jobs
    from registry.core.permissions import OPERATOR

    job = jobs.create_job(
        session,
        OPERATOR,
        "elmo",
        io.BytesIO(_elmo_text_bomb()),
        "bomb.xml.gz",
        {"received_by": receiver},
        tmp_path / "uploads",
        10_000_000,
    )
    session.commit()
    job_id, path = job.id, Path(job.path)
    done = jobs.run_job(lambda: session, job_id)
    assert done.state == "failed"
    assert done.failure == (
        "line 2 (elmo/report[1]): the elements not yet ended hold more than 16777216 bytes of "
        "text and attributes (the most one import may hold)"
    )
    finished = done.finished_at
    assert path.exists()  # kept for a while, to be looked at
    monkeypatch.setenv("IMPORTS_KEEP_FAILED_HOURS", "24")
    assert jobs.clean_failed_uploads(lambda: session, finished + dt.timedelta(hours=23)) == []
    assert path.exists()
    cleaned = jobs.clean_failed_uploads(lambda: session, finished + dt.timedelta(hours=25))
    assert cleaned == [job_id] and not path.exists()
    assert session.get(jobs.ImportJob, job_id).path == ""
    assert jobs.keep_failed() == dt.timedelta(hours=24)
    monkeypatch.delenv("IMPORTS_KEEP_FAILED_HOURS")
    assert jobs.keep_failed() == dt.timedelta(days=7)  # the documented default
