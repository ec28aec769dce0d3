"""The audit trail: one append-only event for every write, allowed or refused.

Events are only ever added. The database refuses an UPDATE or DELETE of one (triggers made by
the migration, on SQLite and PostgreSQL), and the ORM refuses it before the flush. Events are
chained: each stores the SHA-256 of the one before it (`prev_hash`) and its own (`hash`, over its
content and `prev_hash`), so that a change made around the triggers (by the database owner, on
the file) is found by `verify` (`registry audit verify`). A refused write is recorded by the
boundary in a transaction of its own, since the refused one is rolled back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, event, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.core.db import Base
from registry.core.permissions import Actor


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column()
    token_id: Mapped[int | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(60))
    # "framework:IE-NFQ", "framework_version:IE-NFQ/2009", "token:3"
    entity: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(10))  # allowed | refused
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # The chain: the hash of the event before this one (None for the first) and this one's.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    def content(self) -> dict[str, Any]:
        """What the hash covers: every column but the id (unknown before the insert) and the
        hash itself, in a form that reads back the same from SQLite and PostgreSQL."""
        at = self.at
        if at is not None:
            at = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
            at = at.isoformat(timespec="microseconds")
        return {
            "at": at,
            "actor": self.actor,
            "actor_role": self.actor_role,
            "account_id": self.account_id,
            "token_id": self.token_id,
            "action": self.action,
            "entity": self.entity,
            "outcome": self.outcome,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        }

    def digest(self) -> str:
        return chain_hash(self.content())


def chain_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Any constant: the key of the PostgreSQL advisory lock that makes appends to the chain take
# turns, so that two transactions never chain onto the same event.
CHAIN_LOCK = 0x617564_6974


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context, _instances) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEvent) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise PermissionError("Audit events are append-only.")


def plain(value: Any) -> Any:
    """A JSON-safe copy: dates as ISO text, decimals as strings, ORM rows as their columns."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "__table__"):
        return {column.key: plain(getattr(value, column.key)) for column in value.__table__.columns}
    return json.loads(json.dumps(value, default=str))


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    *,
    before: Any = None,
    after: Any = None,
    outcome: str = "allowed",
    detail: str | None = None,
) -> AuditEvent:
    if session.get_bind().dialect.name == "postgresql":
        # Held until the transaction ends: the next writer reads the head this one leaves.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    head = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    entry = AuditEvent(
        at=dt.datetime.now(dt.UTC),
        actor=actor.name[:200],
        actor_role=actor.role,
        account_id=actor.account_id,
        token_id=actor.token_id,
        action=action,
        entity=entity[:200],
        outcome=outcome,
        before=plain(before),
        after=plain(after),
        detail=detail,
        request_id=actor.request_id,
        prev_hash=head,
    )
    entry.hash = entry.digest()
    session.add(entry)
    session.flush()
    return entry


def events_for(
    session: Session, entity: str | None = None, limit: int = 200, before: int | None = None
) -> list[AuditEvent]:
    """Newest first; `entity` matches exactly or as a prefix ending in ':' or '/'. `before`:
    only events older than that event id (the next page of a trail read page by page)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    if entity:
        query = query.where(
            (AuditEvent.entity == entity) | AuditEvent.entity.startswith(entity + "/")
        )
    return list(session.scalars(query))


@dataclass
class Verdict:
    checked: int
    broken_at: int | None = None  # the id of the first event that does not fit the chain
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session, batch: int = 1000) -> Verdict:
    """Walk the whole chain in id order: every event's hash must match its content, and its
    prev_hash the hash of the event before it. Stops at the first that does not."""
    checked, previous = 0, None
    for event_ in _in_order(session, batch):
        if event_.prev_hash != previous:
            reason = (
                "its prev_hash is not the hash of the event before it (an event was removed, "
                "inserted or changed before it)"
            )
            return Verdict(checked, event_.id, reason)
        if event_.hash != event_.digest():
            return Verdict(checked, event_.id, "its content does not match its hash (changed)")
        previous = event_.hash
        checked += 1
    return Verdict(checked)


def _in_order(session: Session, batch: int) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > last)
                .order_by(AuditEvent.id)
                .limit(batch)
                # As stored now, not as this session may remember them.
                .execution_options(populate_existing=True)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id
