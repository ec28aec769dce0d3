"""Verify a file and store the verdict: what an import, the desk and `POST /verifications` do.

The trust list is given as a plain value (a `TrustSource`: the `TRUST_LIST` and `TRUST_ONLINE`
settings, which the API, the pages and the CLI read from their configuration); the file's
credentials are read with the format's reader, so that an assessment can later tell whether
what it assesses is what the file said (registry.verifications.services.carried).
"""

from __future__ import annotations

import datetime as dt
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from importers.batch import credentials
from importers.runner import FileError
from importers.transcripts import READERS
from importers.verification import services
from importers.verification.trust import TrustList, TrustSource
from registry.core.errors import InvalidData
from registry.core.permissions import Actor, authorize_role
from registry.verifications import services as stored
from registry.verifications.models import StoredVerification

# The formats a file can be signed in, each read by its transcript reader.
SIGNABLE = tuple(READERS)


def yielded(data: bytes, fmt: str | None) -> tuple[str | None, list]:
    """The format that read the file and what it states of each credential it yielded: `fmt`'s
    reader, or without one the first reader that yields a credential. A file no reader can read
    yields none (its verdict stands; no assessment can then be covered by it)."""
    for name in (fmt,) if fmt else SIGNABLE:
        try:
            found = [
                (position, credential)
                for position, credential in credentials(READERS[name](io.BytesIO(data)))
                if not isinstance(credential, str)
            ]
        except FileError:
            continue
        if found:
            return name, stored.yielded(found)
    return fmt, []


@dataclass(frozen=True)
class Examined:
    """A file verified and read, before anything is stored."""

    data: bytes
    on: dt.date
    answer: dict[str, Any]
    fmt: str | None
    credentials: list


def examine(
    data: bytes,
    *,
    trust: TrustList,
    on: dt.date | None = None,
    fmt: str | None = None,
    status: Iterable[tuple[str, bytes]] = (),
) -> Examined:
    """Verify `data` on `on` (today by default) and read its credentials, with no database: the
    seconds it may take are spent outside any transaction where the caller ends its own first
    (registry.sessions.release). Bad input (too large, unreadable XML or JSON): InvalidData."""
    on = on or dt.date.today()
    answer = services.verify(data, trust=trust, on=on, status=status).as_dict()
    found_format, found = yielded(data, fmt)
    return Examined(data, on, answer, found_format, found)


def keep(
    session: Session, actor: Actor, examined: Examined, *, filename: str | None
) -> StoredVerification:
    """Store what `examine` found, owned by the actor's office."""
    authorize_role(actor, stored.ACTION)
    return stored.store(
        session,
        actor,
        examined.answer,
        data=examined.data,
        filename=filename,
        on=examined.on,
        fmt=examined.fmt,
        credentials=examined.credentials,
    )


def verify_and_store(
    session: Session,
    actor: Actor,
    data: bytes,
    *,
    filename: str | None,
    trust: TrustList,
    on: dt.date | None = None,
    fmt: str | None = None,
    status: Iterable[tuple[str, bytes]] = (),
) -> StoredVerification:
    """Verify `data` and store the verdict (`examine`, then `keep`); `status`: status list files
    at hand, as (name, bytes). Bad input: InvalidData, nothing stored."""
    authorize_role(actor, stored.ACTION)
    examined = examine(data, trust=trust, on=on, fmt=fmt, status=status)
    return keep(session, actor, examined, filename=filename)


def unpacked(data: bytes) -> bytes:
    """The file as it is signed: a gzip upload (which the readers take) inflated, to at most
    one byte over services.MAX_BYTES (so that `verify` refuses it as too large, never a bomb)."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        return inflater.decompress(data, services.MAX_BYTES + 1)
    except zlib.error as error:
        raise InvalidData(
            f"The gzip file cannot be read: {error}", errors={"file": ["Not gzip."]}
        ) from None


def verify_upload(
    session: Session,
    actor: Actor,
    data: bytes,
    *,
    filename: str | None,
    trust_source: TrustSource,
    fmt: str | None = None,
) -> tuple[StoredVerification | None, str | None]:
    """An uploaded file of an import or a batch verified and stored: (the verification, None),
    or (None, why it could not be verified: too large, unreadable, a trust list that cannot be
    read). The import or batch goes on either way; what it stores says which."""
    try:
        return (
            verify_and_store(
                session,
                actor,
                unpacked(data),
                filename=filename,
                trust=trust_source.load(),
                fmt=fmt,
            ),
            None,
        )
    except InvalidData as error:
        return None, error.detail


def summary(row: StoredVerification | None, error: str | None) -> dict[str, object]:
    """What a batch's summary says of its file's verification."""
    if row is None:
        return {"error": error}
    return {"id": row.id, "verdict": row.verdict, "reason": row.reason}


def verify_path(
    session: Session,
    actor: Actor,
    path: Path,
    *,
    filename: str | None,
    trust_source: TrustSource,
    fmt: str | None = None,
) -> tuple[StoredVerification | None, str | None]:
    """`verify_upload` for a file on disk, read only when it can be verified: a file (not gzip)
    over services.MAX_BYTES is not read at all, and the answer says why."""
    with path.open("rb") as stream:
        head = stream.read(2)
        if head != b"\x1f\x8b" and path.stat().st_size > services.MAX_BYTES:
            return None, f"The file is larger than {services.MAX_BYTES} bytes."
        data = head + stream.read()
    return verify_upload(
        session, actor, data, filename=filename, trust_source=trust_source, fmt=fmt
    )
