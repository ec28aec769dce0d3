"""Import jobs: an uploaded file is stored, queued, and imported by a huey worker.

With the embedded default, huey keeps its queue in SQLite under instance/ and a worker thread
runs inside the web process; with REDIS_URL set, the queue is in Redis and `registry worker`
processes run the jobs. Either way the job row says where the import stands (state, counts,
every rejected record), so a client polls GET /imports/{id}.

One run per job: a worker claims a queued job (one conditional UPDATE, so of two workers that
take the same job only one gets it) and holds a lease on it, renewed by a heartbeat while it
runs. A worker that stops hands its job back to the queue; one that dies (killed, crashed)
stops renewing, and once the lease has expired another worker takes the job over. Imports
upsert on natural keys, so running one again never duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from huey import RedisHuey, SqliteHuey
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from importers.runner import ImportReport, Stopped
from importers.verification.trust import TrustSource
from registry.core import accounts, audit, csvout
from registry.core.db import Base, make_engine, make_session_factory
from registry.core.errors import InvalidData, NotFound, PermissionDenied, Unauthenticated
from registry.core.inputs import DecimalField, id_field, storable
from registry.core.instance import INSTANCE_DIR
from registry.core.permissions import Actor, Target, authorize, authorize_role
from registry.institutions.private import readable
from registry.verifications import services as verifications
from registry.verifications.models import StoredVerification

STATES = ("queued", "running", "completed", "failed", "rolled_back")
COUNTS = ("read", "inserted", "updated", "unchanged", "rejected")
# How long the upload of a failed job is kept (so that it can be looked at or run again) before
# it is deleted: IMPORTS_KEEP_FAILED_HOURS, 7 days by default. Swept when a worker starts and
# whenever a job ends.
KEEP_FAILED_HOURS = 168


# How long a running job stays its worker's without a heartbeat: IMPORTS_LEASE_SECONDS, 60 by
# default. The worker renews the lease every third of it; a job whose lease has expired (its
# worker was killed or lost the database) is taken over by another worker.
LEASE_SECONDS = 60


def keep_failed() -> dt.timedelta:
    return dt.timedelta(hours=float(os.environ.get("IMPORTS_KEEP_FAILED_HOURS", KEEP_FAILED_HOURS)))


def lease_seconds() -> float:
    return float(os.environ.get("IMPORTS_LEASE_SECONDS", LEASE_SECONDS))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _renewed() -> dt.datetime:
    return _now() + dt.timedelta(seconds=lease_seconds())


def worker_name() -> str:
    """Who holds a lease: host, process and a random part (a restarted process is another)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
    # The run that holds the job while it is running, and until when without a heartbeat.
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # A format that can be signed: the verification of the uploaded file, made when the job was
    # created (registry.verifications), or why the file could not be verified.
    verification_id: Mapped[int | None] = mapped_column(
        ForeignKey("verification.id", ondelete="SET NULL")
    )
    verification_error: Mapped[str | None] = mapped_column(Text)


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


def _pathways_csv(sessions, actor, stream, source, options, progress):
    from importers.pathways_csv import import_pathways_csv

    return import_pathways_csv(sessions, actor, stream, source, progress=progress, **options)


def _pathways_ctdl(sessions, actor, stream, source, options, progress):
    from importers.pathways import import_pathways_ctdl

    return import_pathways_ctdl(sessions, actor, stream, source, progress=progress, **options)


def _transcripts(fmt: str):
    def start(sessions, actor, stream, source, options, progress):
        from importers.transcripts import import_transcripts

        return import_transcripts(
            sessions, actor, fmt, stream, source, progress=progress, **options
        )

    return start


# The formats a file can be signed in: their uploads are verified (create_job).
SIGNABLE = ("elmo", "elm", "open-badges")
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
    "pathways-csv": ("catalogue.edit", AtomicOptions, _pathways_csv),
    "pathways-ctdl": ("catalogue.edit", CatalogueOptions, _pathways_ctdl),
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
    trust_source: TrustSource | None = None,
) -> ImportJob:
    """Check the request, store the file and the job (queued). Nothing is imported yet.

    A file of a format that can be signed (SIGNABLE) is verified now against the trust list in
    `trust_source` and the verification stored with the job, so that every transcript the
    job stores names it: now, because the trust list is the configuration of the process that
    took the upload (a worker knows only the database), the verdict is on the file as it was
    received, and the import goes on whatever the verdict (an invalid file is imported and
    marked, never refused silently). Without a trust directory (a test, a script) no
    verification is made."""
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
    if fmt in SIGNABLE and trust_source is not None:
        job.verification_id, job.verification_error = _verify(
            session, actor, fmt, path, job.source, trust_source
        )
    session.add(job)
    session.flush()
    return job


def _verify(
    session: Session, actor: Actor, fmt: str, path: Path, source: str, trust_source: TrustSource
) -> tuple[int | None, str | None]:
    """The uploaded file verified and stored: (its verification's id, None), or (None, why it
    could not be verified)."""
    from importers.verification import stored

    row, error = stored.verify_path(
        session, actor, path, filename=source, trust_source=trust_source, fmt=fmt
    )
    return (row.id if row else None), error


def get_job(session: Session, actor: Actor, job_id: int) -> ImportJob:
    """A job with its rejections, for whoever started it: that account, the other accounts of
    its institution or ministry, and admins. To anyone else, anonymous included, it does not
    exist (NotFound, as for an unknown id)."""
    job = session.get(ImportJob, job_id)
    if job is None or not readable(session, actor, job.actor):
        raise NotFound(f"No import job {job_id}.", id=job_id)
    return job


def list_jobs(session: Session, actor: Actor, limit: int = 50, offset: int = 0) -> list[ImportJob]:
    """The jobs `actor` may read (get_job's rule), newest first: `limit` of them after skipping
    `offset`. Who owns a job is stored with it as JSON, so the rule is applied row by row."""
    found: list[ImportJob] = []
    skipped = 0
    query = select(ImportJob).order_by(ImportJob.id.desc()).execution_options(yield_per=500)
    for job in session.scalars(query):
        if not readable(session, actor, job.actor):
            continue
        if skipped < offset:
            skipped += 1
            continue
        found.append(job)
        if len(found) == limit:
            break
    return found


def job_verification(session: Session, job: ImportJob) -> dict[str, Any] | None:
    """What the job's file was found to be ({id, verdict, reason, issuer, verified_on}), or why
    it could not be verified ({"error"}); None for a format that cannot be signed, or a job
    made without a trust list. Whoever reads the job (get_job) reads this."""
    if job.verification_id is None:
        return None if job.verification_error is None else {"error": job.verification_error}
    return verifications.brief(session.get(StoredVerification, job.verification_id))


def job_errors(session: Session, job_id: int, limit: int | None = None) -> list[ImportJobError]:
    """A job's rejections in the file's order; the first `limit` only, when a page shows a few
    of perhaps a hundred thousand."""
    return list(
        session.scalars(
            select(ImportJobError)
            .where(ImportJobError.job_id == job_id)
            .order_by(ImportJobError.id)
            .limit(limit)
        )
    )


def errors_csv(session: Session, job_id: int) -> str:
    """Every rejected record of a job as CSV (position, reason); rejected records' text, so no
    cell is a spreadsheet formula (csvout). The caller has read the job with get_job."""
    out = io.StringIO()
    writer = csvout.Writer(out)
    writer.writerow(["position", "reason"])
    writer.writerows((e.position, e.reason) for e in job_errors(session, job_id))
    return out.getvalue()


def claim(sessions: sessionmaker[Session], job_id: int, owner: str) -> bool:
    """Take a queued job for `owner`, with a fresh lease. One conditional UPDATE: of several
    workers given the same job (a message queued twice, a job handed back), only one gets it."""
    now = _now()
    with sessions() as session:
        taken = session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == "queued")
            .values(
                state="running",
                lease_owner=owner,
                lease_expires_at=now + dt.timedelta(seconds=lease_seconds()),
                started_at=func.coalesce(ImportJob.started_at, now),
                # A run taking over counts from nothing; the earlier run's rows count unchanged.
                **dict.fromkeys(COUNTS, 0),
            )
        ).rowcount
        session.commit()
    return taken == 1


class Heartbeat:
    """Renews a running job's lease every third of its length, in a thread of its own (a long
    batch or a slow file must not let it expire); notices when the lease was lost."""

    def __init__(self, sessions: sessionmaker[Session], job_id: int, owner: str):
        self.sessions, self.job_id, self.owner = sessions, job_id, owner
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"import-job-{job_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        wait = lease_seconds() / 3
        while not self._done.wait(wait):
            try:
                with self.sessions() as session:
                    kept = session.execute(
                        _held(self.job_id, self.owner).values(lease_expires_at=_renewed())
                    ).rowcount
                    session.commit()
            except Exception:  # the database is away for now: try again soon, not a third later
                wait = min(1.0, lease_seconds() / 20)
                continue
            if not kept:
                self.lost.set()
                return
            wait = lease_seconds() / 3


def _held(job_id: int, owner: str):
    return update(ImportJob).where(ImportJob.id == job_id, ImportJob.lease_owner == owner)


def run_job(
    sessions: sessionmaker[Session],
    job_id: int,
    owner: str | None = None,
    stop: threading.Event | None = None,
) -> ImportJob | None:
    """Claim a queued job and run it to its end, keeping the job row current; a job another run
    holds, or one that has ended, is left alone.

    A worker passes its name and its stop event: a heartbeat then keeps the lease, and when
    `stop` is set (or the lease is lost) the import stops after its current batch and the job
    goes back to the queue (`hand_back`). Without them (a test, an inline import) the job runs
    in the caller's thread with no heartbeat.

    The job runs with the rights its token has when it starts, not those it had when it was
    queued: a token revoked (or an account disabled, or its scope narrowed) in between stops it,
    and the refusal is in the audit trail."""
    owner = owner or f"inline:{uuid.uuid4().hex[:8]}"
    if not claim(sessions, job_id, owner):
        with sessions() as session:
            return session.get(ImportJob, job_id)
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        fmt, path, source, options = job.format, job.path, job.source, dict(job.options)
        if job.verification_id is not None:
            # Set from the job's own column, never from the options a client sent.
            options["verification_id"] = job.verification_id
        queued_by = _actor(job.actor)
        try:
            actor = accounts.current_actor_of(session, queued_by)
            authorize_role(actor, FORMATS[fmt][0])
        except (Unauthenticated, PermissionDenied) as error:
            failure = f"Refused when it started: {error.detail}"
            session.execute(
                _held(job_id, owner).values(
                    state="failed", finished_at=_now(), failure=failure, lease_owner=None
                )
            )
            audit.record(
                session,
                queued_by,
                f"import.{fmt}",
                f"import_job:{job_id}",
                outcome="refused",
                detail=failure,
            )
            session.commit()
            Path(path).unlink(missing_ok=True)
            return session.get(ImportJob, job_id)

    if stop is None:
        return _run_claimed(sessions, job_id, owner, actor, fmt, path, source, options, None)
    with Heartbeat(sessions, job_id, owner) as heartbeat:
        return _run_claimed(
            sessions, job_id, owner, actor, fmt, path, source, options, (stop, heartbeat.lost)
        )


def _run_claimed(sessions, job_id, owner, actor, fmt, path, source, options, stops):
    def progress(report: ImportReport) -> None:
        # Between batches only: once the import has ended (its last call) it is not stopped.
        if stops and report.state == "running" and any(event.is_set() for event in stops):
            raise Stopped
        # Each batch's report renews the lease too: on SQLite the heartbeat may wait behind the
        # import's own writes for a good part of the lease, and this write comes between them.
        with sessions() as status:
            status.execute(
                _held(job_id, owner).values(
                    {name: getattr(report, name) for name in COUNTS}
                    | {"lease_expires_at": _renewed()}
                )
            )
            status.commit()

    _, _, start = FORMATS[fmt]
    refusal = None
    try:
        with open(path, "rb") as stream:
            report = start(sessions, actor, stream, source, options, progress)
        state, failure = report.state, report.failure
    except Stopped:
        return hand_back(sessions, job_id, owner)
    except (Unauthenticated, PermissionDenied) as error:  # refused before reading: audited
        report, state, failure = None, "failed", f"Refused: {error.detail}"
        refusal = error
    except Exception as error:  # the job must end in a state a client can read
        report, state, failure = None, "failed", storable(f"{type(error).__name__}: {error}")
    with sessions() as session:
        ended = {"state": state, "failure": failure, "finished_at": _now(), "lease_owner": None}
        if report is not None:
            ended.update({name: getattr(report, name) for name in COUNTS})
        if not session.execute(_held(job_id, owner).values(ended)).rowcount:
            # The lease was lost (this run was taken for dead): the run that took the job over
            # writes its end; this one's report is dropped rather than written twice.
            session.rollback()
            return session.get(ImportJob, job_id)
        if refusal is not None:
            audit.record(
                session,
                actor,
                refusal.data.get("action", f"import.{fmt}"),
                f"import_job:{job_id}",
                outcome="refused",
                detail=refusal.detail,
            )
        if report is not None:
            rows = [
                {"job_id": job_id, "position": e.position, "reason": e.reason}
                for e in report.errors
            ]
            for start_at in range(0, len(rows), 5000):
                session.execute(insert(ImportJobError), rows[start_at : start_at + 5000])
        session.commit()
        job = session.get(ImportJob, job_id)
    if state in ("completed", "rolled_back"):
        # A failed job keeps its file for a while (keep_failed), so that it can be run again.
        Path(path).unlink(missing_ok=True)
    clean_failed_uploads(sessions)
    return job


def hand_back(sessions: sessionmaker[Session], job_id: int, owner: str) -> ImportJob | None:
    """A stopping run gives its job back: queued again, lease released (the worker puts its
    message back on the queue). What the stopped run committed stays; the next run finds it
    and counts it unchanged."""
    with sessions() as session:
        session.execute(
            _held(job_id, owner).values(state="queued", lease_owner=None, lease_expires_at=None)
        )
        session.commit()
        return session.get(ImportJob, job_id)


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
    """A job's message on the queue. Run here by huey itself (its consumer, immediate mode);
    the registry's workers read the message and run the job with their own engine, name and
    stop event (importers.worker)."""
    engine = make_engine(database_url)
    try:
        run_job(make_session_factory(engine), job_id)
    finally:
        engine.dispose()


def take_over_expired(sessions: sessionmaker[Session], database_url: str) -> list[int]:
    """Queue again the running jobs whose lease has expired (their worker died), and those left
    running before leases existed. One conditional UPDATE: of several workers sweeping at once,
    each job is queued again by one."""
    with sessions() as session:
        ids = list(
            session.scalars(
                update(ImportJob)
                .where(
                    ImportJob.state == "running",
                    or_(ImportJob.lease_expires_at.is_(None), ImportJob.lease_expires_at < _now()),
                )
                .values(state="queued", lease_owner=None, lease_expires_at=None)
                .returning(ImportJob.id)
            )
        )
        session.commit()
    for job_id in ids:
        import_task(job_id, database_url)
    return sorted(ids)


def requeue_interrupted(sessions: sessionmaker[Session], database_url: str) -> list[int]:
    """When a worker starts: put the queued jobs on the queue again (a message lost with a
    Redis restart; a second message for a job is harmless, only one run claims it), take over
    the running jobs whose lease has expired, and delete the uploads of jobs that failed longer
    ago than keep_failed(). Jobs that a live worker holds are left to it."""
    clean_failed_uploads(sessions)
    expired = take_over_expired(sessions, database_url)
    with sessions() as session:
        queued = list(
            session.scalars(
                select(ImportJob.id).where(ImportJob.state == "queued").order_by(ImportJob.id)
            )
        )
    for job_id in queued:
        if job_id not in expired:
            import_task(job_id, database_url)
    return sorted(set(expired) | set(queued))
