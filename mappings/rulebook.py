"""Stored recognition rules: each authority writes its own, validated when stored.

Who may write which rule (README, "Who may change what"):

- a ministry's rule applies to its country's decisions: its jurisdiction is the country or one of
  the country's national frameworks, and only a ministry scoped to that country writes it;
- an institution's rule applies to its own decisions only (the assessments its own office
  makes): its jurisdiction is the institution's country or one of its frameworks, and it is
  evaluated only when that institution assesses;
- the registry's rules (admins) may apply everywhere (`*`).

Priorities lie in the authority's band (`rules.PRIORITY_BANDS`): a ministry outranks an
institution, and the registry's default policy is the floor. A rule is withdrawn, never deleted:
it stays listed with who withdrew it, when and why, and it is evaluated no more.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from frameworks.models import Framework
from mappings import rules as rule_engine
from mappings.models import RecognitionRule
from mappings.schemas import RuleWithdrawalSchema
from registry.core import audit
from registry.core.errors import Conflict, InvalidData, NotFound
from registry.core.normalise import whole_number
from registry.core.permissions import Actor, Target, authorize
from registry.institutions import services as institutions


def _target(rule_id: str, kind: str, ref: str | None, jurisdiction: str) -> Target:
    """The rule as permissions see it: its authority's, whatever the caller's scope."""
    if kind == "ministry":
        return Target("rule", rule_id, country=ref, framework=jurisdiction)
    if kind == "institution":
        return Target("rule", rule_id, institution=ref)
    return Target("rule", rule_id)  # the registry's own: admins only


def _authority_ref(authority: dict[str, Any]) -> str | None:
    return str(authority.get("country") or authority.get("id") or "") or None


def _within(session: Session, jurisdiction: str, country: str) -> bool:
    """Whether a jurisdiction is the country or one of its national frameworks."""
    if jurisdiction == country:
        return True
    framework = session.scalar(select(Framework).where(Framework.code == jurisdiction))
    return framework is not None and framework.country == country and not framework.is_meta


def create_rule(session: Session, actor: Actor, raw: Any) -> RecognitionRule:
    """Store a rule. The rule is refused whole, every error listed, when it names unknown facts,
    has the wrong types or a malformed condition tree; refused (403) when its authority is not
    the caller's; refused (400) when its jurisdiction lies outside its authority or its
    priority outside its authority's band."""
    rule = rule_engine.validate_rule(raw)
    authority = rule["authority"]
    kind, ref = authority["kind"], _authority_ref(authority)
    authorize(
        actor, "rule.edit", _target(rule["id"], kind, ref, rule["jurisdiction"]), "rule.create"
    )
    errors: dict[str, list[str]] = {}
    if kind == "ministry" and not _within(session, rule["jurisdiction"], authority["country"]):
        errors["jurisdiction"] = [f"{authority['country']} or one of its frameworks."]
    if kind == "institution":
        try:
            institution = institutions.get_institution(session, authority["id"])
        except NotFound:
            errors["authority.id"] = [f"No institution {authority['id']}."]
        else:
            if not _within(session, rule["jurisdiction"], institution.country):
                errors["jurisdiction"] = [
                    f"The institution's country ({institution.country}) or one of its "
                    "frameworks: an institution's rule applies to its own decisions only."
                ]
    if rule["jurisdiction"] == "*" and kind != "registry":
        errors["jurisdiction"] = [
            "A country or framework code: only the registry's own rules apply everywhere."
        ]
    if (problem := rule_engine.priority_problem(rule)) is not None:
        errors["priority"] = [problem]
    if errors:
        raise InvalidData(
            f"The rule {rule['id']} lies outside its authority; nothing was written.",
            errors=errors,
        )
    if session.scalar(select(RecognitionRule.id).where(RecognitionRule.rule_id == rule["id"])):
        raise Conflict(
            f"A rule {rule['id']} exists.",
            action="rule.create",
            target=f"rule:{rule['id']}",
            existing={"id": rule["id"]},
        )
    body = rule_engine.rule_to_json(rule)
    row = RecognitionRule(
        rule_id=rule["id"],
        authority_kind=kind,
        authority_ref=ref,
        jurisdiction=rule["jurisdiction"],
        priority=rule["priority"],
        valid_from=rule["valid_from"],
        valid_to=rule["valid_to"],
        body=body,
        created_by=actor.name,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "rule.create", f"rule:{rule['id']}", after=body)
    return row


def withdraw_rule(session: Session, actor: Actor, rule_id: str, raw: Any) -> RecognitionRule:
    """Withdraw a stored rule, as its own authority (or an admin) may: it is kept, marked with
    who withdrew it, when and why, and evaluated no more."""
    try:
        data = RuleWithdrawalSchema().load(raw if raw is not None else {})
    except ValidationError as error:
        raise InvalidData("The withdrawal is invalid.", errors=error.messages) from error
    # An id no rule can have (a NUL byte, 5,000 characters) is looked up nowhere.
    row = (
        session.scalar(
            select(RecognitionRule).where(RecognitionRule.rule_id == rule_id).with_for_update()
        )
        if rule_engine.RULE_ID.match(rule_id)
        else None
    )
    if row is None:
        raise NotFound(f"No stored rule {rule_id!r}.", id=rule_id)
    # The authority stored with the rule, not anything the request says.
    target = _target(row.rule_id, row.authority_kind, row.authority_ref, row.jurisdiction)
    authorize(actor, "rule.withdraw", target)
    if row.withdrawn_at is not None:
        raise Conflict(
            f"The rule {rule_id} was withdrawn already.",
            action="rule.withdraw",
            target=f"rule:{rule_id}",
            existing={"id": rule_id, "withdrawn_at": row.withdrawn_at.isoformat()},
        )
    row.withdrawn_at = dt.datetime.now(dt.UTC)
    row.withdrawn_by = actor.name
    row.withdrawn_reason = data["reason"]
    session.flush()
    audit.record(
        session,
        actor,
        "rule.withdraw",
        f"rule:{rule_id}",
        before={**row.body, "status": "active"},
        after=shown(row),
    )
    return row


def shown(row: RecognitionRule) -> dict[str, Any]:
    """A stored rule as listed: its body, and whether (and why) it was withdrawn."""
    if row.withdrawn_at is None:
        return {**row.body, "status": "active"}
    return {
        **row.body,
        "status": "withdrawn",
        "withdrawn_at": row.withdrawn_at.isoformat(),
        "withdrawn_by": row.withdrawn_by,
        "withdrawn_reason": row.withdrawn_reason,
    }


def in_force(
    session: Session, jurisdictions: list[str], institutions: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """The stored rules a decision for these jurisdictions evaluates: not withdrawn, and an
    institution's rules only when that institution (one of `institutions`, ids as text) is the
    one deciding."""
    query = (
        select(RecognitionRule)
        .where(
            RecognitionRule.jurisdiction.in_(jurisdictions),
            RecognitionRule.withdrawn_at.is_(None),
        )
        .order_by(RecognitionRule.rule_id)
    )
    return [
        row.body
        for row in session.scalars(query)
        if row.authority_kind != "institution" or row.authority_ref in institutions
    ]


def deciding_institutions(actor: Actor) -> frozenset[str]:
    """The institutions whose own rules apply to a decision this actor makes."""
    if actor.role != "institution":
        return frozenset()
    return frozenset(str(n) for s in actor.scopes if (n := whole_number(s)) is not None)


def institutions_evaluated(session: Session, rule_ids: list[str]) -> frozenset[str]:
    """The institutions whose own rules a stored decision evaluated (from its trace), so that
    a re-run (the impact report) decides as that institution did."""
    if not rule_ids:
        return frozenset()
    return frozenset(
        ref
        for ref in session.scalars(
            select(RecognitionRule.authority_ref).where(
                RecognitionRule.rule_id.in_(rule_ids),
                RecognitionRule.authority_kind == "institution",
            )
        )
        if ref
    )


def list_rules(session: Session, jurisdiction: str | None = None) -> list[dict[str, Any]]:
    """Stored rules (the bundled default policy first), optionally for one jurisdiction; a
    withdrawn rule is listed as withdrawn."""
    query = select(RecognitionRule).order_by(RecognitionRule.rule_id)
    if jurisdiction:
        query = query.where(RecognitionRule.jurisdiction == jurisdiction)
    policy = [
        {**rule_engine.rule_to_json(rule), "status": "active"}
        for rule in rule_engine.load_default_policy()
    ]
    return [*policy, *(shown(row) for row in session.scalars(query))]
