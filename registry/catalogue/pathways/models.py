"""The stored pathway agreements, the credentials each accepts, and evaluations against them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.catalogue.models import Course, Qualification
from registry.core.db import Base, ExactDecimal
from registry.institutions.models import Institution

STATUSES = ("proposed", "approved", "rejected")
# The EU micro-credential element `assessment_supervision`, least to most; a pathway names the
# least it accepts (any but the first: "unsupervised" is no condition at all).
SUPERVISION_ORDER = (
    "unsupervised",
    "supervised_no_identity_check",
    "supervised_identity_verified",
)
SUPERVISION = SUPERVISION_ORDER[1:]


class Pathway(Base):
    """One agreement of the receiving (owning) institution: these credentials count for
    `credits` in `credit_system` toward `programme`, on the conditions stated."""

    __tablename__ = "pathway"
    __table_args__ = (UniqueConstraint("institution_id", "rule_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The receiving institution: it owns the pathway, and the programme is in its catalogue.
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    # The institution's own reference for the agreement: the natural key of imports.
    rule_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    programme_id: Mapped[int] = mapped_column(ForeignKey("qualification.id"), index=True)
    # k of "any k of these n"; NULL: all of them.
    choose: Mapped[int | None] = mapped_column()
    credits: Mapped[Decimal] = mapped_column(ExactDecimal())
    credit_system: Mapped[str] = mapped_column(String(20))
    # Both or neither: the learner's grade converted to this scale must be at least this.
    min_grade: Mapped[str | None] = mapped_column(String(60))
    min_grade_scale: Mapped[str | None] = mapped_column(String(20))
    # The least assessment supervision accepted (SUPERVISION); NULL: no condition.
    supervision: Mapped[str | None] = mapped_column(String(40))
    # The issuer must be quality assured: registry status "recognised", or a quality assurance
    # statement on the credential.
    quality_assured: Mapped[bool] = mapped_column(default=False)
    # The credential awarded at most this many months before the day of evaluation.
    max_age_months: Mapped[int | None] = mapped_column()
    # At most this many credits toward the programme from pathways in all, in credit_system.
    max_total_credits: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    # Half-open [valid_from, valid_to), as articulations.
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="proposed")
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    # Where the agreement is published (a URL or a document reference): the citation.
    source: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    institution: Mapped[Institution] = relationship()
    programme: Mapped[Qualification] = relationship()
    credentials: Mapped[list[PathwayCredential]] = relationship(
        back_populates="pathway",
        cascade="all, delete-orphan",
        order_by="PathwayCredential.position",
    )

    @property
    def qualification_ids(self) -> list[int]:
        return [c.qualification_id for c in self.credentials if c.qualification_id is not None]

    @property
    def course_ids(self) -> list[int]:
        return [c.course_id for c in self.credentials if c.course_id is not None]

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """The accepted credentials in order, as {"kind", "id"}: as audit snapshots store them
        and as resolved references come."""
        return [
            {"kind": link.kind, "id": link.qualification_id or link.course_id}
            for link in self.credentials
        ]

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


class PathwayCredential(Base):
    """One credential a pathway accepts: a qualification or a course, never both."""

    __tablename__ = "pathway_credential"
    __table_args__ = (
        CheckConstraint(
            "(qualification_id IS NOT NULL AND course_id IS NULL)"
            " OR (qualification_id IS NULL AND course_id IS NOT NULL)",
            name="one_credential",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(
        ForeignKey("pathway.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()
    qualification_id: Mapped[int | None] = mapped_column(ForeignKey("qualification.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id"), index=True)

    pathway: Mapped[Pathway] = relationship(back_populates="credentials")
    qualification: Mapped[Qualification | None] = relationship()
    course: Mapped[Course | None] = relationship()

    @property
    def kind(self) -> str:
        return "qualification" if self.qualification_id is not None else "course"


class PathwayEvaluation(Base):
    """One stored evaluation of a learner's credentials against the pathways toward one
    programme. Private to the programme's institution (and admins), as transfer evaluations
    are; `result` never changes once stored."""

    __tablename__ = "pathway_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    # The programme's owner: whose private record the evaluation is.
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("qualification.id"))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the canonical inputs: the same case, the same digest.
    inputs_digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
