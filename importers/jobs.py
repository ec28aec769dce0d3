"""Import jobs: an uploaded file is stored, queued, and imported by a huey worker.

With the embedded default, huey keeps its queue in SQLite under instance/ and a worker thread
runs inside the web process; with REDIS_URL set, the queue is in Redis and `registry worker`
processes run the jobs. Either way the job row says where the import stands (state, counts,
every rejected record), so a client polls GET /imports/{id}. A job interrupted by a crash is
queued again when a worker starts; imports upsert on natural keys, so running one again never
duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from huey import RedisHuey, SqliteHuey
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from importers.runner import ImportReport
from registry.core import accounts, audit
from registry.core.db import Base, make_engine, make_session_factory
from registry.core.errors import InvalidData, NotFound, PermissionDenied, Unauthenticated
from registry.core.inputs import DecimalField, id_field, storable
from registry.core.instance import INSTANCE_DIR
from registry.core.permissions import Actor, Target, authorize, authorize_role
from registry.institutions.private import readable

STATES = ("queued", "running", "completed", "failed", "rolled_back")
# How long the upload of a failed job is kept (so that it can be looked at or run again) before
# it is deleted: IMPORTS_KEEP_FAILED_HOURS, 7 days by default. Swept when a worker starts and
# whenever a job ends.
KEEP_FAILED_HOURS = 168


def keep_failed() -> dt.timedelta:
    return dt.timedelta(hours=float(os.environ.get("IMPORTS_KEEP_FAILED_HOURS", KEEP_FAILED_HOURS)))


class ImportJob(Base):
    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    format: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(300))
    path: Mapped[str] = mapped_column(String(500))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Who asked, so the worker checks every record against the same permissions.
    actor: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    failure: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ImportJobError(Base):
    """Every rejected record of a job, for the downloadable error report."""

    __tablename__ = "import_job_error"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"), index=True)
    position: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)


class InstitutionOptions(Schema):
    status = fields.String(
        load_default=None, validate=validate.OneOf(("recognised", "not_recognised", "unknown"))
    )
    status_source = fields.String(load_default=None, validate=validate.Length(1, 1000))
    atomic = fields.Boolean(load_default=False)


class CatalogueOptions(Schema):
    institution_id = id_field(load_default=None)
    atomic = fields.Boolean(load_default=False)


class AtomicOptions(Schema):
    atomic = fields.Boolean(load_default=False)


class TranscriptOptions(Schema):
    received_by = id_field(load_default=None)
    atomic = fields.Boolean(load_default=False)
    # Open Badges only: the unit of the credits badges state, and credits for a badge stating none.
    credit_system = fields.String(load_default=None, validate=validate.Length(1, 20))
    credits_per_badge = DecimalField(
        load_default=None, as_string=True, validate=validate.Range(min=0)
    )


def _institutions(fmt: str):
    def start(sessions, actor, stream, source, options, progress):
        from importers.institutions import import_institutions

        return import_institutions(
            sessions, actor, fmt, stream, source, progress=progress, **options
        )

    return start


def _catalogue(kind: str):
    def start(sessions, actor, stream, source, options, progress):
        from importers import catalogue

        run = (
            catalogue.import_qualifications
            if kind == "qualifications"
            else catalogue.import_courses
        )
        return run(sessions, actor, stream, source, progress=progress, **options)

    return start


def _qdr(sessions, actor, stream, source, options, progress):
    from importers.catalogue import import_qdr

    return import_qdr(sessions, actor, stream, source, progress=progress, **options)


def _articulations(sessions, actor, stream, source, options, progress):
    from importers.articulations import import_articulations

    return import_articulations(sessions, actor, stream, source, progress=progress, **options)


def _transcripts(fmt: str):
    def start(sessions, actor, stream, source, options, progress):
        from importers.transcripts import import_transcripts

        return import_transcripts(
            sessions, actor, fmt, stream, source, progress=progress, **options
        )

    return start


# format -> (the role check made before a file is accepted, the options schema, the import)
FORMATS: dict[str, tuple[str, type[Schema], Callable[..., ImportReport]]] = {
    "institutions-json": (
        "institution.import",
        InstitutionOptions,
        _institutions("institutions-json"),
    ),
    "ror": ("institution.import", InstitutionOptions, _institutions("ror")),
    "qualifications-csv": ("catalogue.edit", CatalogueOptions, _catalogue("qualifications")),
    "courses-csv": ("catalogue.edit", CatalogueOptions, _catalogue("courses")),
    "qdr": ("catalogue.edit", AtomicOptions, _qdr),
    "articulations-csv": ("catalogue.edit", AtomicOptions, _articulations),
    "elmo": ("import.run", TranscriptOptions, _transcripts("elmo")),
    "elm": ("import.run", TranscriptOptions, _transcripts("elm")),
    "open-badges": ("import.run", TranscriptOptions, _transcripts("open-badges")),
}


def _actor_json(actor: Actor) -> dict[str, Any]:
    return {
        "name": actor.name,
        "role": actor.role,
        "scopes": sorted(actor.scopes),
        "account_id": actor.account_id,
        "token_id": actor.token_id,
        "request_id": actor.request_id,
    }


def _actor(data: dict[str, Any]) -> Actor:
    return Actor(
        data["name"],
        data["role"],
        frozenset(data["scopes"]),
        data["account_id"],
        data["token_id"],
        data["request_id"],
    )


def create_job(
    session: Session,
    actor: Actor,
    fmt: str,
    upload: IO[bytes],
    filename: str,
    options: dict[str, Any],
    directory: Path,
    max_bytes: int,
) -> ImportJob:
    """Check the request, store the file and the job (queued). Nothing is imported yet."""
    if fmt not in FORMATS:
        raise InvalidData(
            f"Unknown import format {fmt!r}.", errors={"format": [f"One of {', '.join(FORMATS)}."]}
        )
    action, schema, _ = FORMATS[fmt]
    authorize_role(actor, action)
    try:
        loaded = schema().load(options)
    except ValidationError as error:
        raise InvalidData(
            "The import options are invalid.", errors={"options": error.messages}
        ) from error
    if schema is TranscriptOptions:
        from importers.transcripts import receiver

        try:
            loaded["received_by"] = receiver(actor, loaded["received_by"])
        except InvalidData as error:
            raise InvalidData(error.detail, errors={"options": error.errors}) from error
        # Refused now rather than when the job runs: the transcripts would be another's.
        owner = loaded["received_by"]
        authorize(
            actor,
            action,
            Target("transcript", filename, institution=None if owner is None else str(owner)),
        )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.upload"
    size = 0
    with path.open("wb") as out:
        while chunk := upload.read(1 << 20):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                path.unlink()
                raise InvalidData(
                    f"The file is larger than {max_bytes} bytes.", errors={"file": ["Too large."]}
                )
            out.write(chunk)
    if size == 0:
        path.unlink()
        raise InvalidData("The file is empty.", errors={"file": ["Empty."]})
    job = ImportJob(
        format=fmt,
        source=storable(Path(filename or "upload").name)[:300],
        path=str(path),
        options=loaded,
        actor=_actor_json(actor),
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, actor: Actor, job_id: int) -> ImportJob:
    """A job with its rejections, for whoever started it: that account, the other accounts of
    its institution or ministry, and admins. To anyone else, anonymous included, it does not
    exist (NotFound, as for an unknown id)."""
    job = session.get(ImportJob, job_id)
    if job is None or not readable(session, actor, job.actor):
        raise NotFound(f"No import job {job_id}.", id=job_id)
    return job


def job_errors(session: Session, job_id: int) -> list[ImportJobError]:
    return list(
        session.scalars(
            select(ImportJobError)
            .where(ImportJobError.job_id == job_id)
            .order_by(ImportJobError.id)
        )
    )


def run_job(sessions: sessionmaker[Session], job_id: int) -> ImportJob:
    """Run a queued (or interrupted) job to its end, keeping the job row current.

    The job runs with the rights its token has when it starts, not those it had when it was
    queued: a token revoked (or an account disabled, or its scope narrowed) in between stops it,
    and the refusal is in the audit trail."""
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        if job is None or job.state not in ("queued", "running"):
            return job
        fmt, path, source, options = job.format, job.path, job.source, dict(job.options)
        queued_by = _actor(job.actor)
        try:
            actor = accounts.current_actor_of(session, queued_by)
            authorize_role(actor, FORMATS[fmt][0])
        except (Unauthenticated, PermissionDenied) as error:
            now = dt.datetime.now(dt.UTC)
            job.state, job.started_at, job.finished_at = "failed", now, now
            job.failure = f"Refused when it started: {error.detail}"
            audit.record(
                session,
                queued_by,
                f"import.{fmt}",
                f"import_job:{job_id}",
                outcome="refused",
                detail=job.failure,
            )
            session.commit()
            Path(path).unlink(missing_ok=True)
            return job
        job.state, job.started_at = "running", dt.datetime.now(dt.UTC)
        session.commit()

    def progress(report: ImportReport) -> None:
        with sessions() as status:
            row = status.get(ImportJob, job_id)
            for name in ("read", "inserted", "updated", "unchanged", "rejected"):
                setattr(row, name, getattr(report, name))
            status.commit()

    _, _, start = FORMATS[fmt]
    refusal = None
    try:
        with open(path, "rb") as stream:
            report = start(sessions, actor, stream, source, options, progress)
        state, failure = report.state, report.failure
    except (Unauthenticated, PermissionDenied) as error:  # refused before reading: audited
        report, state, failure = None, "failed", f"Refused: {error.detail}"
        refusal = error
    except Exception as error:  # the job must end in a state a client can read
        report, state, failure = None, "failed", storable(f"{type(error).__name__}: {error}")
    with sessions() as session:
        if refusal is not None:
            audit.record(
                session,
                actor,
                refusal.data.get("action", f"import.{fmt}"),
                f"import_job:{job_id}",
                outcome="refused",
                detail=refusal.detail,
            )
        job = session.get(ImportJob, job_id)
        if report is not None:
            for name in ("read", "inserted", "updated", "unchanged", "rejected"):
                setattr(job, name, getattr(report, name))
            rows = [
                {"job_id": job_id, "position": e.position, "reason": e.reason}
                for e in report.errors
            ]
            for start_at in range(0, len(rows), 5000):
                session.execute(insert(ImportJobError), rows[start_at : start_at + 5000])
        job.state, job.failure, job.finished_at = state, failure, dt.datetime.now(dt.UTC)
        session.commit()
    if state in ("completed", "rolled_back"):
        # A failed job keeps its file for a while (keep_failed), so that it can be run again.
        Path(path).unlink(missing_ok=True)
    clean_failed_uploads(sessions)
    return job


def clean_failed_uploads(
    sessions: sessionmaker[Session], now: dt.datetime | None = None
) -> list[int]:
    """Delete the uploads of jobs that failed longer ago than keep_failed(); their rows stay
    (with their reason and counts), their path emptied. Returns the ids of those jobs."""
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    deadline = now - keep_failed()
    cleaned = []
    with sessions() as session:
        for job in session.scalars(
            select(ImportJob).where(ImportJob.state == "failed", ImportJob.path != "")
        ):
            finished = job.finished_at
            if finished is None:
                continue
            if finished.tzinfo is None:  # SQLite hands back naive UTC
                finished = finished.replace(tzinfo=dt.UTC)
            if finished <= deadline:
                Path(job.path).unlink(missing_ok=True)
                job.path = ""
                cleaned.append(job.id)
        if cleaned:
            session.commit()
    return cleaned


# --- the queue ---------------------------------------------------------------------------------


def _make_huey():
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey("registry-imports", url=redis_url)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("registry-imports", filename=str(INSTANCE_DIR / "huey.sqlite3"))


huey = _make_huey()


@huey.task()
def import_task(job_id: int, database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        run_job(make_session_factory(engine), job_id)
    finally:
        engine.dispose()


def requeue_interrupted(sessions: sessionmaker[Session], database_url: str) -> list[int]:
    """Queue again the jobs a stopped worker left queued or running (safe: imports upsert);
    delete the uploads of jobs that failed longer ago than keep_failed()."""
    clean_failed_uploads(sessions)
    with sessions() as session:
        ids = list(
            session.scalars(select(ImportJob.id).where(ImportJob.state.in_(("queued", "running"))))
        )
    for job_id in ids:
        import_task(job_id, database_url)
    return ids
