"""Who may read a private record (an assessment, a transfer evaluation, a transcript, an import
job and its rejections): the rule of registry.core.permissions with the owner's countries
looked up, for the ministries whose law lets them read their institutions' records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core.normalise import whole_number
from registry.core.permissions import LAWFUL_OVERSIGHT, Actor, may_read_private
from registry.institutions.models import Institution


def owner_countries(session: Session, owner: dict | None) -> frozenset[str]:
    """The countries of the institutions an owner stands for (none for other owners)."""
    if not owner or owner.get("role") != "institution":
        return frozenset()
    ids = [i for i in (whole_number(s, 9) for s in owner.get("scopes") or ()) if i is not None]
    if not ids:
        return frozenset()
    return frozenset(
        session.scalars(select(Institution.country).where(Institution.id.in_(ids))).all()
    )


def readable(session: Session, actor: Actor, owner: dict | None) -> bool:
    """Whether `actor` may read a private record of `owner`; the countries are looked up only
    when a ministry could read through the law."""
    if may_read_private(actor, owner):
        return True
    if actor.role != "ministry" or not (actor.scopes & set(LAWFUL_OVERSIGHT)):
        return False
    return may_read_private(actor, owner, owner_countries(session, owner))
