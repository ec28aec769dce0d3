"""Qualifications and courses, each found again by its natural key so re-imports never duplicate.

A qualification is either a national register entry (no institution: the register of a country,
keyed by the register's own id) or an award in one institution's catalogue (keyed by the
institution's programme code). A course always belongs to one institution.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base, ExactDecimal

QUALIFICATION_TYPES = (
    "secondary",         # upper-secondary school leaving certificates (ISCED 3)
    "vocational",        # VET certificates and diplomas, apprenticeships
    "short_cycle",       # short-cycle higher education (QF-EHEA short cycle, ISCED 5)
    "bachelor",
    "master",
    "doctorate",
    "micro_credential",  # a small volume of learning, assessed and certified on its own
    "other",
)


class Qualification(Base):
    __tablename__ = "qualification"
    __table_args__ = (UniqueConstraint("institution_id", "country", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not cascaded: deleting an institution must not silently take its catalogue with it.
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    # The natural key within the institution or the national register (programme code, register id).
    code: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    # registry.core.normalise.name_key(title): what title look-ups match on.
    title_key: Mapped[str] = mapped_column(String(500), index=True)
    language: Mapped[str | None] = mapped_column(String(35))
    # [{"value": ..., "lang": ...}]: the title in other languages.
    other_titles: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # A FRAMEWORK:LEVEL reference, checked against the registry's frameworks when stored.
    level: Mapped[str | None] = mapped_column(String(60))
    credits: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    credit_system: Mapped[str | None] = mapped_column(String(20))
    isced_f: Mapped[str | None] = mapped_column(String(4))
    qualification_type: Mapped[str | None] = mapped_column(String(20))
    learning_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Other ids of the same qualification: {"qdr": "...", "national": "..."}.
    identifiers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


# SQL treats NULLs as distinct, so the unique constraint above does not keep a national register
# entry (no institution) unique; this partial index does, on both dialects.
_national = Qualification.institution_id.is_(None)
Index("uq_qualification_national_code", Qualification.country, Qualification.code, unique=True,
      sqlite_where=_national, postgresql_where=_national)


class Course(Base):
    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("institution_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    code: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    title_key: Mapped[str] = mapped_column(String(500), index=True)
    language: Mapped[str | None] = mapped_column(String(35))
    credits: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    credit_system: Mapped[str | None] = mapped_column(String(20))
    # A FRAMEWORK:LEVEL reference (QF-EHEA:1 for a first-cycle course), checked when stored.
    level: Mapped[str | None] = mapped_column(String(60))
    isced_f: Mapped[str | None] = mapped_column(String(4))
    learning_outcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
