"""Frameworks, versions, levels, level links, credit systems and grading scales."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base, ExactDecimal

VERSION_STATUSES = ("draft", "published", "superseded", "corrected")
# A version that a later file corrected (a fact found wrong): kept, since stored decisions cite
# it, but it never answers again; the correcting version names it in `corrects`.
ANSWERING = ("published", "superseded")
RELATIONS = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
BASES = ("referencing", "legislation", "comparison", "agreement", "decision")
NO_EQF_REASONS = ("below_eqf_1", "unlevelled")


class Framework(Base):
    __tablename__ = "framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # Meta-frameworks (EQF, QF-EHEA) have no country; paths may pass through them.
    country: Mapped[str | None] = mapped_column(String(2))
    is_meta: Mapped[bool] = mapped_column(default=False)
    owner: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    versions: Mapped[list[FrameworkVersion]] = relationship(
        back_populates="framework", order_by="FrameworkVersion.id", cascade="all, delete-orphan"
    )


class FrameworkVersion(Base):
    __tablename__ = "framework_version"
    __table_args__ = (UniqueConstraint("framework_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Half-open validity: valid_from <= day < valid_to; None means unbounded.
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    citation: Mapped[str] = mapped_column(Text)
    # The version this one corrects (same framework), which has status "corrected" since.
    corrects: Mapped[str | None] = mapped_column(String(40))
    # A draft's new name or description for the framework, applied when it is published
    # (None: unchanged); a draft changes nothing before.
    name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    # sha256 of the canonical definition (levels and links): a reload of the same file is a no-op.
    definition_digest: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    framework: Mapped[Framework] = relationship(back_populates="versions")
    levels: Mapped[list[Level]] = relationship(
        back_populates="version", order_by="Level.ordinal", cascade="all, delete-orphan"
    )
    links: Mapped[list[LevelLink]] = relationship(
        back_populates="owner_version", order_by="LevelLink.id", cascade="all, delete-orphan"
    )

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


class Level(Base):
    __tablename__ = "level"
    __table_args__ = (UniqueConstraint("version_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("framework_version.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    ordinal: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    # Other spellings accepted in a level reference (AT-NQR "6" for "VI").
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    knowledge: Mapped[str | None] = mapped_column(Text)
    skills: Mapped[str | None] = mapped_column(Text)
    responsibility_autonomy: Mapped[str | None] = mapped_column(Text)
    qualification_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    ehea_cycle: Mapped[str | None] = mapped_column(String(20))
    # Why the level has no EQF counterpart, when it has none on purpose.
    no_eqf_reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    version: Mapped[FrameworkVersion] = relationship(back_populates="levels")

    @property
    def ref(self) -> str:
        return f"{self.version.framework.code}:{self.code}"


class LevelLink(Base):
    """A published link between two levels, filed with the framework version that declared it.

    The link stands while its owner version is in force; the level at its other end is matched
    by reference (`FRAMEWORK:LEVEL`), so it keeps pointing at that level across the other
    framework's later versions for as long as they keep the level.
    """

    __tablename__ = "level_link"
    __table_args__ = (UniqueConstraint("source_id", "target_id", "basis"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_version_id: Mapped[int] = mapped_column(
        ForeignKey("framework_version.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("level.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("level.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(20))
    citation: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    # Where the result was actually read when the cited report itself could not be (a third
    # party's summary of it); None when the citation was read. Answers travelling the link say so.
    secondary_source: Mapped[str | None] = mapped_column(Text)
    # A correspondence from a level of a superseded framework to the level(s) replacing it, as
    # the successor's legal text states it (décret n° 2019-14: FR-CNCP-1969 -> FR-CNCP). It is
    # followed only from a level no longer in force, as the first step of the answer.
    succession: Mapped[bool] = mapped_column(default=False, server_default=false())

    owner_version: Mapped[FrameworkVersion] = relationship(back_populates="links")
    source: Mapped[Level] = relationship(foreign_keys=[source_id])
    target: Mapped[Level] = relationship(foreign_keys=[target_id])


class CreditSystem(Base):
    __tablename__ = "credit_system"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # Notional hours per credit as a range (ECTS: 25-30); equal bounds for a fixed value.
    hours_low: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    hours_high: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    per_year: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    # Why equating a full-time year of this system with another's is the registry's own
    # convention rather than a published equivalence (ECVET); None where it is not.
    annual_load_convention: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class CreditConversionRule(Base):
    """An explicit factor agreed by one institution or agreement; overrides the default methods."""

    __tablename__ = "credit_conversion_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    source_system: Mapped[str] = mapped_column(ForeignKey("credit_system.code"))
    target_system: Mapped[str] = mapped_column(ForeignKey("credit_system.code"))
    factor: Mapped[Decimal] = mapped_column(ExactDecimal())
    citation: Mapped[str] = mapped_column(Text)


class GradingScale(Base):
    __tablename__ = "grading_scale"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))  # numeric | ordinal
    best: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    worst: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    pass_mark: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    decimals: Mapped[int] = mapped_column(Integer, default=2)
    rounding: Mapped[str] = mapped_column(String(10), default="half_up")  # half_up | truncate
    # Ordinal bands and named grades (IT-30 "30L"), as documented in frameworks/data/README.md.
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    special_values: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    citation: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class GradeDistribution(Base):
    """An ECTS grading table: the share of each passing grade in one reference group."""

    __tablename__ = "grade_distribution"
    __table_args__ = (UniqueConstraint("scale_code", "reference_group"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scale_code: Mapped[str] = mapped_column(ForeignKey("grading_scale.code"))
    reference_group: Mapped[str] = mapped_column(String(120), default="default")
    # [{"grade": "1.0", "percent": "10"}, ...] best grade first.
    rows: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    citation: Mapped[str] = mapped_column(Text)


class GradeConversionTable(Base):
    """An explicit grade-to-grade table; overrides the linear and distribution methods.

    Set by its authority (mappings/grade_tables.py): an institution's applies when it converts,
    a ministry's to conversions for its country, the registry's only when named. A table is
    never edited: it is withdrawn (kept, with who, when and why) and another set in its place.
    """

    __tablename__ = "grade_conversion_table"
    __table_args__ = (Index("ix_grade_conversion_table_scales", "source_scale", "target_scale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    source_scale: Mapped[str] = mapped_column(ForeignKey("grading_scale.code"))
    target_scale: Mapped[str] = mapped_column(ForeignKey("grading_scale.code"))
    # [{"from": "A", "to": "1.3"}, ...]
    rows: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    citation: Mapped[str] = mapped_column(Text)
    # ministry | institution | registry, and the ministry's country or the institution's id.
    authority_kind: Mapped[str] = mapped_column(String(20), default="registry")
    authority_ref: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)


# One active table per authority and pair of scales, so that which applies is never in doubt,
# even when two requests set one at once. The registry's own (no ref; NULLs are distinct) are
# used only when named and may be several.
_active_table = GradeConversionTable.withdrawn_at.is_(None)
Index(
    "uq_grade_conversion_table_active",
    GradeConversionTable.authority_kind,
    GradeConversionTable.authority_ref,
    GradeConversionTable.source_scale,
    GradeConversionTable.target_scale,
    unique=True,
    sqlite_where=_active_table,
    postgresql_where=_active_table,
)
