"""Transcript imports: a format's reader feeds the shared runner, which checks every record and
upserts the results in batches (registry.catalogue.transcripts).

Every reader yields (position, record) in the one shape of `TranscriptResultRecordSchema`, or
(position, Rejected) for what it could not read; READERS maps a format name to its reader, so a
new format is one reader and one line here.

Who may import: an admin, for any receiving institution or none; an institution account only
transcripts it received itself (`received_by` is its own id, and its id when it names none). A
transcript always has an owner: the institution that received it, which alone (with admins)
may use it; one an admin imports for no institution belongs to the registry, for admins only.
The receiving institution is part of each transcript's identity, so two institutions importing
the same document each get their own, and each reads only its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import IO, Any

from sqlalchemy.orm import Session, sessionmaker

from importers import badges, elm, elmo
from importers.parallel import read as parallel_read
from importers.runner import ImportReport, Rejected, run
from registry.catalogue.transcripts import RecordChecker, upsert_results
from registry.core.errors import InvalidData
from registry.core.normalise import whole_number
from registry.core.permissions import Actor, Target, authorize, authorize_role
from registry.institutions.models import Institution

ACTION = "import.run"
Reader = Callable[[IO[bytes]], Iterator[tuple[str, dict[str, Any] | Rejected]]]
READERS: dict[str, Reader] = {
    "elmo": elmo.read,
    "elm": elm.elm_records,
    # Without the importer's credit system, a badge stating credits is rejected with the reason.
    "open-badges": partial(badges.badge_records, credit_system=None),
}
# Readers that can yield records packed (registry.catalogue.transcripts.pack), which the checks
# take as they are: a large file's records cross between processes in that form.
PACKED_READERS: dict[str, Reader] = {"elmo": partial(elmo.read, packed=True)}
# Large batches keep the per-batch look-ups and commits few; a batch is a few MB at most.
BATCH_SIZE = 5000


def receiver(actor: Actor, received_by: int | None) -> int | None:
    """The institution that receives, and so owns, the transcripts an actor imports: the one
    named, else an institution account's own (InvalidData when it has several); None only for
    an admin naming none: the registry's own transcripts, for admins only."""
    if received_by is not None or actor.role != "institution":
        return received_by
    own = whole_number(next(iter(actor.scopes)), 9) if len(actor.scopes) == 1 else None
    if own is None:
        raise InvalidData(
            "A transcript always has an owner: name the institution that received it.",
            errors={"received_by": ["The receiving institution's id."]},
        )
    return own


def import_transcripts(
    sessions: sessionmaker[Session],
    actor: Actor,
    fmt: str,
    stream: IO[bytes],
    source: str,
    *,
    received_by: int | None = None,
    atomic: bool = False,
    progress=None,
    batch_size: int = BATCH_SIZE,
    credit_system: str | None = None,
    credits_per_badge: str | None = None,
    parallel: bool | None = None,
    verification_id: int | None = None,
) -> ImportReport:
    """Import the transcripts of one file. Raises InvalidData for an unknown format and
    PermissionDenied (before reading anything) when the actor may not import for `received_by`
    (an institution naming none imports for itself: `receiver`).
    Every record is rejected when `received_by` names no institution. A broken file ends the
    report as failed (records before the break kept unless atomic). A large file is read in a
    second process while this one stores (importers.parallel; `parallel` forces it either way).
    `verification_id`: the stored verification of the file, which every transcript it stores
    names."""
    authorize_role(actor, ACTION)
    if fmt not in READERS:
        raise InvalidData(
            f"Unknown transcript format {fmt!r}.",
            errors={"format": [f"One of {', '.join(READERS)}."]},
        )
    received_by = receiver(actor, received_by)
    authorize(
        actor,
        ACTION,
        Target("transcript", source, institution=None if received_by is None else str(received_by)),
    )
    unknown: list[bool] = []  # whether received_by names no institution, once looked up
    stated: dict[int, set[str]] = {}  # the results this import stored, of its last transcripts

    def apply(session: Session, batch):
        if received_by is not None and not unknown:
            unknown.append(session.get(Institution, received_by) is None)
        if unknown and unknown[0]:
            return [("rejected", f"received_by: no institution {received_by}.")] * len(batch)
        return upsert_results(
            session,
            [record for _, record in batch],
            received_by=received_by,
            import_source=source[:300],
            stated=stated,
            verification_id=verification_id,
        )

    reader = PACKED_READERS.get(fmt, READERS[fmt])
    if fmt == "open-badges":
        # The unit a badge's credits are in is the importer's statement, never a guess.
        reader = partial(
            badges.badge_records, credit_system=credit_system, credits_per_badge=credits_per_badge
        )
    report = ImportReport(fmt, source, atomic=atomic)
    # Checked as they are read, partly in the reader process when there is one.
    records = parallel_read(reader, stream, check=RecordChecker, parallel=parallel)
    return run(
        sessions,
        actor,
        report,
        records,
        None,
        apply,
        batch_size=batch_size,
        progress=progress,
    )
