"""One verification of one file, as the registry made it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base


class StoredVerification(Base):
    """The verdict on a file (importers.verification.services.verify) with who asked, the day
    it was verified on, the file's identity (SHA-256, size, name) and the credentials it yielded,
    so that an assessment can tell whether what it assesses is what was verified."""

    __tablename__ = "verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(String(200))
    # Whose it is, as assessments store it (registry.core.permissions.owner_of).
    owner: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verified_on: Mapped[dt.date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(300))
    # The reader that yielded the credentials (elmo, elm, open-badges); None when none did.
    format: Mapped[str | None] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    issuer: Mapped[str | None] = mapped_column(String(500))
    checks: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # [{"position", "digest", "fields"}]: what the file states of each credential it yielded.
    credentials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
