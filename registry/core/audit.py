"""The audit trail: one append-only event for every write, allowed or refused.

Events are only ever added: a flush that would change or delete one raises. A refused write is
recorded by the boundary in a transaction of its own, since the refused one is rolled back.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, event, func, select
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
    entry = AuditEvent(
        actor=actor.name,
        actor_role=actor.role,
        account_id=actor.account_id,
        token_id=actor.token_id,
        action=action,
        entity=entity,
        outcome=outcome,
        before=plain(before),
        after=plain(after),
        detail=detail,
        request_id=actor.request_id,
    )
    session.add(entry)
    session.flush()
    return entry


def events_for(session: Session, entity: str | None = None, limit: int = 200) -> list[AuditEvent]:
    """Newest first; `entity` matches exactly or as a prefix ending in ':' or '/'."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity:
        query = query.where(
            (AuditEvent.entity == entity) | AuditEvent.entity.startswith(entity + "/")
        )
    return list(session.scalars(query))
