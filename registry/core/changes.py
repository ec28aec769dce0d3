"""Change tokens: one random token per kind of cached data, renewed by every write to it.

Each process caches what is costly to build (the level graph, the institution-name index) and
compares the token before using its copy, so a write in one process reaches every other at the
price of one indexed read. A random token, not a counter: a rolled-back write must never leave a
value that a later write could repeat.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from registry.core.db import Base


class ChangeToken(Base):
    __tablename__ = "change_token"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


def current(session: Session, name: str) -> str:
    return session.scalar(select(ChangeToken.token).where(ChangeToken.name == name)) or ""


# The whole table, a row per kind of cached data: one constant statement, compiled once.
_ALL = select(ChangeToken.__table__.c.name, ChangeToken.__table__.c.token)


def current_many(reader: Session | Connection, names: tuple[str, ...]) -> tuple[str, ...]:
    """The tokens of `names`, in their order, in one query ("" for one never renewed)."""
    rows = dict(reader.execute(_ALL).all())
    return tuple(rows.get(name, "") for name in names)


def renew(session: Session, name: str) -> None:
    row = session.get(ChangeToken, name)
    if row is None:
        session.add(ChangeToken(name=name, token=uuid.uuid4().hex))
    else:
        row.token = uuid.uuid4().hex
    session.flush()
