"""Who may do what: the one permission check used by the API, the CLI, the web pages and jobs.

An actor is who is asking (an account reached through a token or a web login, the local CLI
operator, or anonymous). `authorize` answers by raising: Unauthenticated when an anonymous actor
asks to write, PermissionDenied when the role or the scope does not cover the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.core.errors import PermissionDenied, Unauthenticated

ROLES = ("admin", "ministry", "institution", "registrar")


@dataclass(frozen=True)
class Actor:
    name: str
    role: str | None  # None: anonymous
    # A ministry's countries (ISO alpha-2) or framework codes; an institution's id.
    scopes: frozenset[str] = field(default_factory=frozenset)
    account_id: int | None = None
    token_id: int | None = None
    # The request or command this actor acts in, so its audit events can be grouped.
    request_id: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.role is None

    def describe(self) -> str:
        if self.anonymous:
            return "anonymous"
        scope = f" [{', '.join(sorted(self.scopes))}]" if self.scopes else ""
        return f"{self.name} ({self.role}{scope})"


ANONYMOUS = Actor(name="anonymous", role=None)
# The operator at the server's own command line: `registry load-reference`, `registry token`.
OPERATOR = Actor(name="operator (command line)", role="admin")


@dataclass(frozen=True)
class Target:
    """What an action touches, as far as permissions care."""

    # framework | link | rule | grade_table | institution | qualification | course | audit | token
    # | match_review
    kind: str
    key: str = ""
    country: str | None = None  # a framework's country; None for meta-frameworks
    framework: str | None = None
    institution: str | None = None
    # A meta-framework (EQF, QF-EHEA) and its links belong to the registry: admins only.
    meta: bool = False


# action -> roles that may take it at all (the scope check below narrows ministry/institution).
ACTIONS: dict[str, frozenset[str]] = {
    "framework.create": frozenset({"admin", "ministry"}),
    "framework.edit": frozenset({"admin", "ministry"}),
    "framework.publish": frozenset({"admin", "ministry"}),
    # Correcting a publication already made (its date): the registry's, audited.
    "framework.correct": frozenset({"admin"}),
    "framework.impact": frozenset({"admin", "ministry"}),
    "link.edit": frozenset({"admin", "ministry"}),
    "rule.edit": frozenset({"admin", "ministry", "institution"}),
    "rule.withdraw": frozenset({"admin", "ministry", "institution"}),
    "rule.read": frozenset({"admin", "ministry", "institution", "registrar"}),
    # Grade conversion tables: a ministry's for its country, an institution's for itself.
    "grade_table.edit": frozenset({"admin", "ministry", "institution"}),
    "grade_table.withdraw": frozenset({"admin", "ministry", "institution"}),
    "institution.create": frozenset({"admin", "ministry"}),
    "institution.import": frozenset({"admin", "ministry"}),
    "institution.status": frozenset({"admin", "ministry"}),
    "institution.edit": frozenset({"admin", "institution"}),
    "catalogue.edit": frozenset({"admin", "ministry", "institution"}),
    "import.run": frozenset({"admin", "institution"}),
    "assessment.create": frozenset({"admin", "registrar", "ministry", "institution"}),
    # Checking a signed file before assessing it: writes nothing.
    "verification.run": frozenset({"admin", "registrar", "ministry", "institution"}),
    "audit.read": frozenset({"admin", "ministry", "institution"}),
    # The review queue of ambiguous institution matches: a ministry for its country's entries.
    "match_review.read": frozenset({"admin", "ministry"}),
    "match_review.decide": frozenset({"admin", "ministry"}),
    "token.manage": frozenset({"admin"}),
    "reference.load": frozenset({"admin"}),
}


def in_scope(actor: Actor, target: Target) -> bool:
    """Whether the target lies within the actor's scope; admins and registrars have no scope."""
    if actor.role == "admin" or target.kind == "assessment":
        return True
    if actor.role == "ministry":
        # A meta-framework belongs to no ministry, whatever its scope names.
        if target.meta:
            return False
        return bool(
            (target.country and target.country in actor.scopes)
            or (target.framework and target.framework in actor.scopes)
        )
    if actor.role == "institution":
        return bool(target.institution and target.institution in actor.scopes)
    return False


# --- private records --------------------------------------------------------------------------
#
# Assessments, transfer evaluations, transcripts and import jobs (with their rejections) belong to
# the office that made or received them. Their owner is written as the actor was ({"role",
# "scopes", "account_id"}): an institution's records are its own whichever of its accounts made
# them; a ministry's, its country's; a registrar's or an admin's, that account's alone.

# Countries whose law gives their ministry the reading of the private records made or received by
# the institutions of that country. None by default: a country is added here, with its law cited
# beside it, when that law exists.
LAWFUL_OVERSIGHT: dict[str, str] = {}


def owner_of(actor: Actor) -> dict:
    """The owner of a private record this actor makes, as it is stored."""
    return {"role": actor.role, "scopes": sorted(actor.scopes), "account_id": actor.account_id}


def institution_owner(institution_id: int | None) -> dict | None:
    """The owner of a record received by an institution; None (admins only) without one."""
    if institution_id is None:
        return None
    return {"role": "institution", "scopes": [str(institution_id)], "account_id": None}


def may_read_private(
    actor: Actor, owner: dict | None, countries: frozenset[str] = frozenset()
) -> bool:
    """Whether the actor may read a private record of this owner. `countries` are the owner's
    countries (an institution's), for the ministries that the law lets read them. A record
    without an owner is for admins alone. Anything else answers as if the record did not exist."""
    if actor.anonymous:
        return False
    if actor.role == "admin":
        return True
    if not owner:
        return False
    if owner.get("account_id") is not None and owner["account_id"] == actor.account_id:
        return True
    if (
        actor.role in ("institution", "ministry")
        and owner.get("role") == actor.role
        and actor.scopes & set(owner.get("scopes") or ())
    ):
        return True
    return actor.role == "ministry" and any(
        country in actor.scopes and country in LAWFUL_OVERSIGHT for country in countries
    )


def authorize_role(actor: Actor, action: str) -> None:
    """The role check alone, for a job whose records are scope-checked one by one."""
    if actor.anonymous:
        raise Unauthenticated(f"{action} needs a token or a login.", action=action)
    if actor.role not in ACTIONS[action]:
        raise PermissionDenied(f"The {actor.role} role may not {action}.", action=action)


def authorize(actor: Actor, action: str, target: Target, operation: str | None = None) -> None:
    """Allow or raise. Every write path calls this before it changes anything.

    `operation` names the write as its audit event does (`framework.publish`), so that a
    refusal and a success of the same write read alike in the trail; it defaults to `action`.
    """
    roles = ACTIONS[action]
    details = {"action": operation or action, "target": f"{target.kind}:{target.key}"}
    if actor.anonymous:
        raise Unauthenticated(f"{action} needs a token or a login.", **details)
    if actor.role not in roles:
        raise PermissionDenied(f"The {actor.role} role may not {action}.", **details)
    if not in_scope(actor, target):
        raise PermissionDenied(
            f"{actor.describe()} may not {action} on {target.kind} {target.key}: "
            "outside its scope.",
            **details,
        )
