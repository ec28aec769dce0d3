"""Which authority owns an audited entity, so that it may read that entity's audit trail."""

from __future__ import annotations

from sqlalchemy.orm import Session

from frameworks import services as frameworks
from mappings import grade_tables
from mappings.services import authority_of
from registry.core.normalise import whole_number
from registry.core.permissions import Target
from registry.institutions import services as institutions
from registry.match_reviews import services as match_reviews


def audit_target(session: Session, entity: str | None) -> Target:
    """`framework:CODE[/...]` belongs to the framework's ministry, `institution:ID` to the
    institution (and its country's ministry), `grade_table:CODE` to the table's authority,
    `match_review:ID` to the ministry of the entry's country; anything else, or the whole trail,
    to admins only. An unknown framework, institution, table or entry is NotFound."""
    kind, _, rest = (entity or "").partition(":")
    if kind == "framework" and rest:
        return frameworks.target_of(frameworks.get_framework(session, rest.split("/")[0]))
    if kind == "institution" and (institution_id := whole_number(rest)) is not None:
        return institutions.target_of(institutions.get_institution(session, institution_id))
    if kind == "match_review" and (review_id := whole_number(rest)) is not None:
        return match_reviews.target_of(match_reviews.get_entry(session, review_id))
    if kind == "grade_table" and rest:
        table = grade_tables.get_table(session, rest)
        return grade_tables.target_of(table.code, authority_of(table))
    return Target("audit", entity or "*")
