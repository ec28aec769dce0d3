"""Stored recognition rules: each authority writes its own, validated when stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mappings import rules as rule_engine
from mappings.models import RecognitionRule
from registry.core import audit
from registry.core.errors import Conflict, InvalidData
from registry.core.permissions import Actor, Target, authorize


def _target(rule: dict[str, Any]) -> Target:
    authority = rule["authority"]
    if authority["kind"] == "ministry":
        return Target(
            "rule", rule["id"], country=authority["country"], framework=rule["jurisdiction"]
        )
    if authority["kind"] == "institution":
        return Target("rule", rule["id"], institution=str(authority["id"]))
    return Target("rule", rule["id"])  # the registry's own: admins only


def create_rule(session: Session, actor: Actor, raw: Any) -> RecognitionRule:
    """Store a rule. A ministry's rule must apply in its own country (or one of its frameworks);
    an institution's rule is its own admissions rule. The rule is refused whole, every error
    listed, when it names unknown facts, has the wrong types or a malformed condition tree."""
    rule = rule_engine.validate_rule(raw)
    authorize(actor, "rule.edit", _target(rule), "rule.create")
    authority = rule["authority"]
    if authority["kind"] == "ministry" and not (
        rule["jurisdiction"] == authority["country"]
        or rule["jurisdiction"].startswith(f"{authority['country']}-")
    ):
        raise InvalidData(
            "A ministry's rule applies in its own country or its frameworks.",
            errors={"jurisdiction": [f"{authority['country']} or one of its frameworks."]},
        )
    if rule["jurisdiction"] == "*" and authority["kind"] != "registry":
        raise InvalidData(
            "Only the registry's own policy applies everywhere.",
            errors={"jurisdiction": ["A country or framework code."]},
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
        authority_kind=authority["kind"],
        authority_ref=str(authority.get("country") or authority.get("id") or "") or None,
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


def list_rules(session: Session, jurisdiction: str | None = None) -> list[dict[str, Any]]:
    """Stored rules (the bundled default policy first), optionally for one jurisdiction."""
    query = select(RecognitionRule).order_by(RecognitionRule.rule_id)
    if jurisdiction:
        query = query.where(RecognitionRule.jurisdiction == jurisdiction)
    policy = [rule_engine.rule_to_json(rule) for rule in rule_engine.load_default_policy()]
    return [*policy, *(row.body for row in session.scalars(query))]
