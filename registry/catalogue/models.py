"""Qualifications and courses, each found again by its natural key so re-imports never duplicate.

A qualification is either a national register entry (no institution: the register of a country,
keyed by the register's own id) or an award in one institution's catalogue (keyed by the
institution's programme code). A course always belongs to one institution.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base, ExactDecimal

QUALIFICATION_TYPES = (
    "secondary",  # upper-secondary school leaving certificates (ISCED 3)
    "vocational",  # VET certificates and diplomas, apprenticeships
    "short_cycle",  # short-cycle higher education (QF-EHEA short cycle, ISCED 5)
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
Index(
    "uq_qualification_national_code",
    Qualification.country,
    Qualification.code,
    unique=True,
    sqlite_where=_national,
    postgresql_where=_national,
)


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


class Transcript(Base):
    """A learner's record as received (an ELMO transcript, a Europass credential, a badge).

    Found again by `source_key` (format, issuer and the document's own identity), so that
    re-importing the same document replaces its results instead of duplicating them. The
    learner is kept as little as a registrar needs: a key derived from their identifiers and
    the name printed on the record.
    """

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_format: Mapped[str] = mapped_column(String(30))
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The institution that received the record (whose token imported it), if any.
    received_by_institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id"), index=True
    )
    issuer_institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id"), index=True
    )
    issuer_name: Mapped[str | None] = mapped_column(String(500))
    issuer_country: Mapped[str | None] = mapped_column(String(2))
    issuer_identifiers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    learner_key: Mapped[str | None] = mapped_column(String(64), index=True)
    learner_name: Mapped[str | None] = mapped_column(String(300))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    import_source: Mapped[str | None] = mapped_column(String(300))
    # The verification of the file it was last imported from (registry.verifications).
    verification_id: Mapped[int | None] = mapped_column(
        ForeignKey("verification.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    results: Mapped[list[TranscriptResult]] = relationship(
        back_populates="transcript", cascade="all, delete-orphan", order_by="TranscriptResult.id"
    )


RESULT_STATUSES = ("passed", "failed", "in_progress", "withdrawn", "unknown")


class TranscriptResult(Base):
    """One learning opportunity of a transcript and its result (programme, module or course)."""

    __tablename__ = "transcript_result"
    __table_args__ = (UniqueConstraint("transcript_id", "local_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (transcript_id, local_id) index serves look-ups by
    # transcript, and one index fewer to maintain is faster imports.
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcript.id", ondelete="CASCADE"))
    # The opportunity's identifier within the document (its path when it has none).
    local_id: Mapped[str] = mapped_column(String(200))
    parent_local_id: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(60))  # Degree Programme, Module, Course...
    code: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(35))
    credits: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    credit_system: Mapped[str | None] = mapped_column(String(20))
    grade: Mapped[str | None] = mapped_column(String(60))
    grading_scheme: Mapped[str | None] = mapped_column(String(200))
    # An ECTS grading table sent with the result: [{"grade": "A", "percent": "10"}, ...]
    grade_distribution: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    eqf_level: Mapped[int | None] = mapped_column()
    level: Mapped[str | None] = mapped_column(String(60))  # FRAMEWORK:LEVEL when known
    isced_f: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), default="unknown")
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)

    transcript: Mapped[Transcript] = relationship(back_populates="results")
