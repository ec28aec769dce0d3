"""Storing a verification, reading it back, and telling whether it covers a credential.

A stored verification is private, like an assessment: its owner (the office that asked) and
admins read it; to anyone else it does not exist. Only its owner's office (and an admin) may
name it in an assessment (`usable`): a verdict is never taken from a client, only looked up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from registry.core import audit
from registry.core.errors import NotFound
from registry.core.permissions import Actor, authorize_role, may_read_private, owner_of
from registry.institutions.private import readable
from registry.verifications.models import StoredVerification

ACTION = "verification.run"
# What a file states of a credential only in words is set by the registrar on the form (the
# registry's credit system and grading scale): never part of what the file vouches for.
_STATED = {"credits_stated": "credits", "grade_stated": "grade"}


def _text(value: Any) -> str:
    """A value as compared: numbers in their plain form (180 = 180.0), text case- and
    space-insensitive."""
    text = " ".join(str(value).split()).casefold()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return format(number.normalize(), "f") if number.is_finite() else text


def stated_fields(credential: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """What a credential states, flat (`institution.name` -> text): the empty left out, the
    credits and grade a file states in words (`credits_stated`, `grade_stated`) by their value
    alone, as the form names it (`credits.value`)."""
    fields: dict[str, str] = {}
    for key, value in credential.items():
        if prefix == "" and key in _STATED:
            if isinstance(value, dict) and value.get("value") not in (None, ""):
                fields[f"{_STATED[key]}.value"] = _text(value["value"])
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            fields.update(stated_fields(value, name + "."))
        elif isinstance(value, list | tuple):
            if value:
                fields[name] = _text(json.dumps(audit.plain(list(value)), sort_keys=True))
        elif value not in (None, ""):
            fields[name] = _text(value)
    return fields


def yielded(credentials: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """What is stored of the credentials a file yielded: (position, credential) each."""
    found = []
    for position, credential in credentials:
        fields = stated_fields(credential)
        found.append({"position": position, "digest": audit.chain_hash(fields), "fields": fields})
    return found


def store(
    session: Session,
    actor: Actor,
    answer: dict[str, Any],
    *,
    data: bytes,
    filename: str | None,
    on: dt.date,
    fmt: str | None = None,
    credentials: list[dict[str, Any]] | None = None,
) -> StoredVerification:
    """Store the verdict `answer` ({verdict, reason, issuer, checks}, as `verify` answers it) on
    `data`, owned by the actor's office; `credentials` as `yielded` gives them. Audited."""
    authorize_role(actor, ACTION)
    row = StoredVerification(
        actor=actor.name,
        owner=owner_of(actor),
        verified_on=on,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        filename=(filename or None) and filename[:300],
        format=fmt,
        verdict=answer["verdict"],
        reason=answer["reason"],
        issuer=(answer["issuer"] or None) and answer["issuer"][:500],
        checks=list(answer["checks"]),
        credentials=list(credentials or ()),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "verification.create",
        f"verification:{row.id}",
        after={"verdict": row.verdict, "sha256": row.sha256},
    )
    return row


def shown(row: StoredVerification) -> dict[str, Any]:
    """A stored verification as the API answers it."""
    return {
        "id": row.id,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "verified_on": row.verified_on.isoformat(),
        "actor": row.actor,
        "file": {"sha256": row.sha256, "size": row.size, "name": row.filename},
        "format": row.format,
        "verdict": row.verdict,
        "reason": row.reason,
        "issuer": row.issuer,
        "checks": row.checks,
        # What the file states of each credential: what an assessment must match to be covered.
        "credentials": [
            {"position": item["position"], "digest": item["digest"], "fields": item["fields"]}
            for item in row.credentials
        ],
    }


def get_verification(session: Session, actor: Actor, verification_id: int) -> dict[str, Any]:
    """A stored verification, for its owner and admins (and a ministry the law lets read its
    institutions' records); to anyone else it does not exist (NotFound, as an unknown id)."""
    row = session.get(StoredVerification, verification_id)
    if row is None or not readable(session, actor, row.owner):
        raise NotFound(f"No verification {verification_id}.", id=verification_id)
    return shown(row)


def usable(session: Session, actor: Actor, verification_id: int) -> StoredVerification:
    """A stored verification the actor may name in its own decision: one its office made (or
    any, for an admin). Another's, or none: NotFound, on the field that named it."""
    row = session.get(StoredVerification, verification_id)
    if row is None or not may_read_private(actor, row.owner):
        raise NotFound(
            f"No verification {verification_id}.",
            id=verification_id,
            errors={"verification_id": ["No such verification."]},
        )
    return row


def brief(row: StoredVerification) -> dict[str, Any]:
    """What an import job or an assessment says of the verification it names."""
    return {
        "id": row.id,
        "verdict": row.verdict,
        "reason": row.reason,
        "issuer": row.issuer,
        "verified_on": row.verified_on.isoformat(),
    }


def carried(row: StoredVerification, credential: dict[str, Any]) -> dict[str, Any]:
    """What a verification says of the credential assessed: its verdict, and whether the
    credential is one the file yielded (`covers`: every field the file states of one of them is
    assessed as the file states it; fields the file leaves empty may be filled in). A credential
    the file did not yield, or one edited since, is not covered: the verdict does not carry."""
    assessed = stated_fields(credential)

    def differing(item: dict[str, Any]) -> list[str]:
        return sorted(name for name, value in item["fields"].items() if assessed.get(name) != value)

    # The credential of the file closest to the one assessed: none of its fields differ when
    # the verdict carries over; otherwise the fields that do are named.
    closest = min(row.credentials, key=lambda item: len(differing(item)), default=None)
    differs = differing(closest) if closest else []
    covers = closest is not None and not differs
    return {
        **brief(row),
        "file": {"sha256": row.sha256, "name": row.filename},
        "covers": covers,
        "position": closest["position"] if covers else None,
        "differs": differs,
    }


def verdicts(session: Session, ids: list[int | None]) -> dict[int, dict[str, Any]]:
    """The verdict of each stored verification named ({id, verdict, reason, issuer,
    verified_on}), for an evaluation of stored transcripts to say what their files were found
    to be. No owner check: the caller has read the transcripts that name them."""
    found = {}
    for verification_id in sorted({i for i in ids if i is not None}):
        row = session.get(StoredVerification, verification_id)
        if row is not None:
            found[row.id] = brief(row)
    return found
