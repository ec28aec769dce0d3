"""Institutions, their names and their identifiers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
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
# Schemes whose shared value makes two records one organisation. A web domain or a funder id is
# only evidence: laboratories of one university share its domain, a funder id can name a group.
IDENTIFYING = ("ror", "grid", "isni", "wikidata", "erasmus", "pic", "schac", "national")
# Schemes an organisation holds at most one value of: two different values are two organisations.
SINGLE_VALUED = ("ror", "grid", "erasmus", "pic")
# ROR relationship types (schema v2; v1 writes them capitalised).
RELATIONSHIP_TYPES = ("parent", "child", "related", "successor", "predecessor")


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
    relationships: Mapped[list[InstitutionRelationship]] = relationship(
        back_populates="institution",
        cascade="all, delete-orphan",
        order_by="InstitutionRelationship.id",
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


def _identity(context) -> str | None:
    parameters = context.get_current_parameters()
    return parameters["value"] if parameters["scheme"] in IDENTIFYING else None


class InstitutionIdentifier(Base):
    """An identifier in one scheme, as the source gave it (`given`) and in its normalised form
    for matching (`value`). A value of an identifying scheme belongs to one institution only
    (`identity` is the value for those schemes, NULL for evidence such as web domains)."""

    __tablename__ = "institution_identifier"
    __table_args__ = (
        UniqueConstraint("scheme", "identity"),
        UniqueConstraint("institution_id", "scheme", "value"),
        Index("ix_institution_identifier_scheme_value", "scheme", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    scheme: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(200))
    given: Mapped[str | None] = mapped_column(String(300))
    identity: Mapped[str | None] = mapped_column(String(200), default=_identity)

    institution: Mapped[Institution] = relationship(back_populates="identifiers")


class InstitutionRelationship(Base):
    """A ROR relationship of an institution to another organisation, kept by the other's ROR id
    so that it resolves (through `institution_identifier`) once both ends are imported."""

    __tablename__ = "institution_relationship"
    __table_args__ = (UniqueConstraint("institution_id", "type", "related_ror"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(12))
    related_ror: Mapped[str] = mapped_column(String(20), index=True)
    label: Mapped[str | None] = mapped_column(String(400))

    institution: Mapped[Institution] = relationship(back_populates="relationships")
