"""Stored recognition rules and assessments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base, ExactDecimal


class RecognitionRule(Base):
    """A rule as its authority stored it (validated with mappings.rules.validate_rule)."""

    __tablename__ = "recognition_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100), unique=True)
    authority_kind: Mapped[str] = mapped_column(String(20))
    # The ministry's country or the institution's id: whose rule it is.
    authority_ref: Mapped[str | None] = mapped_column(String(40))
    jurisdiction: Mapped[str] = mapped_column(String(40), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # A withdrawn rule is evaluated no more; it stays listed, with who withdrew it and why.
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


class Assessment(Base):
    """One stored decision with everything needed to reproduce and defend it."""

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(String(200))
    # Whose it is ({"role", "scopes", "account_id"}, registry.core.permissions.owner_of): only
    # they and admins read it. None: admins only.
    owner: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    target: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str | None] = mapped_column(String(40))
    # sha256 of the canonical inputs (credential, target, target type): the same case, the same digest.
    inputs_digest: Mapped[str] = mapped_column(String(64), index=True)
    source_framework: Mapped[str | None] = mapped_column(String(40), index=True)
    target_framework: Mapped[str] = mapped_column(String(40), index=True)
    decision: Mapped[str] = mapped_column(String(30))
    confidence: Mapped[Decimal] = mapped_column(ExactDecimal())
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    framework_versions: Mapped[dict[str, str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    # The stored verification of the file the credential came from, when one was named.
    verification_id: Mapped[int | None] = mapped_column(ForeignKey("verification.id"))
