"""Articulations and transfer evaluations as stored."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base, ExactDecimal

STATUSES = ("proposed", "approved", "rejected")
SIDES = ("source", "target")
# A bundle larger than this is a programme, not a course articulation.
MAX_COURSES = 50


class Articulation(Base):
    __tablename__ = "articulation"
    __table_args__ = (UniqueConstraint("target_institution_id", "rule_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The receiving institution's own reference for the rule: the natural key of imports.
    rule_id: Mapped[str] = mapped_column(String(100))
    source_institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    target_institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    credits_granted: Mapped[Decimal] = mapped_column(ExactDecimal())
    credit_system: Mapped[str] = mapped_column(String(20))
    # Half-open [valid_from, valid_to): a rule replaced on 1 September ends on 1 September.
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    courses: Mapped[list[ArticulationCourse]] = relationship(
        back_populates="articulation",
        cascade="all, delete-orphan",
        order_by="ArticulationCourse.id",
    )

    def course_ids(self, side: str) -> list[int]:
        return sorted(link.course_id for link in self.courses if link.side == side)

    @property
    def source_course_ids(self) -> list[int]:
        return self.course_ids("source")

    @property
    def target_course_ids(self) -> list[int]:
        return self.course_ids("target")

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


class ArticulationCourse(Base):
    """One course on one side of an articulation."""

    __tablename__ = "articulation_course"
    __table_args__ = (UniqueConstraint("articulation_id", "side", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    articulation_id: Mapped[int] = mapped_column(
        ForeignKey("articulation.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(6))  # source | target
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)

    articulation: Mapped[Articulation] = relationship(back_populates="courses")


class TransferEvaluation(Base):
    """One stored evaluation of a transcript for a receiving institution (mappings.transfer).

    `result` is what the evaluation answered and never changes: the same inputs on the same
    registry answer the same result and digest. Decisions a person takes afterwards on its
    pending results are appended to `decisions`, each naming the articulation it became.
    """

    __tablename__ = "transfer_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    actor: Mapped[str] = mapped_column(String(200))
    receiving_institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    # The stored transcript evaluated, if it was one; `inputs` keeps what was read from it.
    transcript_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript.id", ondelete="SET NULL"), index=True
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the canonical inputs: the same case, the same digest.
    inputs_digest: Mapped[str] = mapped_column(String(64), index=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
