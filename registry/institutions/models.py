"""Institutions, their names and their identifiers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core.db import Base

STATUSES = ("recognised", "not_recognised", "unknown")
NAME_KINDS = ("name", "alias", "acronym", "former")
SCHEMES = (
    "ror",
    "schac",
    "erasmus",
    "pic",
    "national",
    "domain",
    "grid",
    "isni",
    "wikidata",
    "fundref",
)


class Institution(Base):
    __tablename__ = "institution"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(400))
    # The normalised name (registry.core.normalise.name_key): the natural key of list imports.
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="unknown")
    status_source: Mapped[str | None] = mapped_column(Text)
    status_date: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Read by each process's name index to pick up what changed since it was built.
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), index=True
    )

    names: Mapped[list[InstitutionName]] = relationship(
        back_populates="institution", cascade="all, delete-orphan", order_by="InstitutionName.id"
    )
    identifiers: Mapped[list[InstitutionIdentifier]] = relationship(
        back_populates="institution",
        cascade="all, delete-orphan",
        order_by="InstitutionIdentifier.id",
    )


class InstitutionName(Base):
    __tablename__ = "institution_name"
    __table_args__ = (UniqueConstraint("institution_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(String(400))
    key: Mapped[str] = mapped_column(String(400))
    lang: Mapped[str | None] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(10), default="alias")

    institution: Mapped[Institution] = relationship(back_populates="names")


class InstitutionIdentifier(Base):
    """An identifier in one scheme; unique per scheme across the registry."""

    __tablename__ = "institution_identifier"
    __table_args__ = (UniqueConstraint("scheme", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(200))

    institution: Mapped[Institution] = relationship(back_populates="identifiers")
