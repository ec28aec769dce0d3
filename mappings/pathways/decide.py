"""The pure core of pathway evaluation: conditions, "all" or "any k of n", and the allocation of
a learner's credentials across a programme's pathways. Plain values in and out; no session.

A pathway's conditions are checked on each held credential it names, each with its evidence and
a sentence. A pathway is met when enough of its credentials (all, or k of n) are held and pass
every condition. The allocation then picks the pathways to apply so that no credential counts
twice and the credits granted are greatest, capped by the smallest `max_total_credits` among
the pathways applied.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations
from typing import Any

from mappings.grades import Band, ScaleSpec, read_grade
from registry.core.errors import InvalidData

# The EU micro-credential values of `assessment_supervision`, least supervised first.
SUPERVISION = ("unsupervised", "supervised_no_identity_check", "supervised_identity_verified")
# How many pathways the allocation searches exactly: every subset of them is tried (2^12 = 4,096
# small matchings, a few hundred milliseconds at worst). A programme rarely has more than a few;
# beyond the bound the pathways granting the most are searched and the rest added one by one.
MAX_SEARCH = 12


@dataclass(frozen=True)
class Terms:
    """A pathway as the decision needs it: its credentials as (kind, id) in their order, and
    its conditions."""

    id: int
    rule_id: str
    members: tuple[tuple[str, int], ...]
    choose: int | None = None
    min_grade: str | None = None
    min_grade_scale: str | None = None
    supervision: str | None = None
    quality_assured: bool = False
    max_age_months: int | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    @property
    def needed(self) -> int:
        """How many of its credentials the pathway needs."""
        return len(self.members) if self.choose is None else self.choose


@dataclass(frozen=True)
class Held:
    """One credential the learner holds, as identified in the catalogue (`kind`, `id`; None
    when it is not), with the evidence the conditions read. `grades` holds the grade as
    converted onto each scale a pathway asks for: {scale: {"value": converted or None,
    "reason": why not converted, ...}}; `issuer_status` is the issuing institution's registry
    status (None when it is not identified). `grade` is (value, scale as stated or None)."""

    index: int
    title: str
    kind: str | None = None
    id: int | None = None
    awarded_on: dt.date | None = None
    grade: tuple[str, str | None] | None = None
    grades: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, hash=False)
    supervision: str | None = None
    quality_assurance: str | None = None
    issuer: str | None = None
    issuer_status: str | None = None


@dataclass(frozen=True)
class Check:
    """One condition checked: whether it is met, what was compared, and why in a sentence."""

    condition: str
    met: bool
    evidence: Mapping[str, Any]
    sentence: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "met": self.met,
            "evidence": dict(self.evidence),
            "sentence": self.sentence,
        }


# --- conditions -------------------------------------------------------------------------------


def at_least(grade: str, minimum: str, scale: ScaleSpec) -> bool:
    """Whether `grade` is as good as `minimum` on `scale`: higher on an ascending scale, lower on
    a descending one (DE-1-5: 1.0 is best), an earlier band on an ordinal one (best first).
    InvalidData when either is not a grade of the scale."""
    mine, least = read_grade(grade, scale), read_grade(minimum, scale)
    if isinstance(mine, Band) or isinstance(least, Band):
        return scale.bands.index(mine) <= scale.bands.index(least)
    return mine >= least if scale.best > scale.worst else mine <= least


def check_grade(held: Held, terms: Terms, scale: ScaleSpec | None) -> Check:
    """The credential's grade, converted onto the pathway's scale, at least its minimum. No
    grade, or one that cannot be converted or compared, does not meet it; so does a minimum
    on a scale the registry no longer holds (`scale` None)."""
    minimum = f"{terms.min_grade} on {terms.min_grade_scale}"
    evidence: dict[str, Any] = {"minimum": terms.min_grade, "scale": terms.min_grade_scale}
    if held.grade is None:
        return Check(
            "min_grade",
            False,
            evidence,
            f"No grade is stated; at least {minimum} is required: not met.",
        )
    value, given_scale = held.grade
    evidence["given"] = {"value": value, "scale": given_scale}
    converted = held.grades.get(terms.min_grade_scale) or {}
    evidence["converted"] = converted.get("value")
    evidence["basis"] = converted.get("basis")
    shown = f"{value} ({given_scale or 'no scale stated'})"
    if scale is None:
        converted = {"reason": f"the scale {terms.min_grade_scale} is not in the registry"}
    if converted.get("value") is None:
        why = converted.get("reason") or f"no conversion onto {terms.min_grade_scale} is known"
        return Check(
            "min_grade",
            False,
            evidence,
            f"The grade {shown} cannot be compared with the minimum {minimum}: "
            f"{why.rstrip('.')}; not met.",
        )
    grade = converted["value"]
    stated = (
        f"The grade {grade} on {terms.min_grade_scale}"
        if given_scale == terms.min_grade_scale
        else f"The grade {shown} converts to {grade} on {terms.min_grade_scale}"
    )
    try:
        met = at_least(grade, terms.min_grade, scale)
    except InvalidData as error:
        return Check(
            "min_grade",
            False,
            evidence,
            f"The grade {shown} cannot be compared: {error.detail.rstrip('.')}; not met.",
        )
    verdict = "at least" if met else "below"
    return Check(
        "min_grade",
        met,
        evidence,
        f"{stated}, {verdict} the minimum {terms.min_grade}: {'met' if met else 'not met'}.",
    )


def check_supervision(held: Held, terms: Terms) -> Check:
    """The assessment at least as supervised as the pathway requires; not stated is not met."""
    required = terms.supervision
    evidence = {"required": required, "stated": held.supervision}
    if held.supervision is None:
        return Check(
            "supervision",
            False,
            evidence,
            f"The credential does not state how its assessment was supervised; at least "
            f"{required} is required: not met.",
        )
    met = SUPERVISION.index(held.supervision) >= SUPERVISION.index(required)
    return Check(
        "supervision",
        met,
        evidence,
        f"The assessment was {held.supervision}; at least {required} is required: "
        f"{'met' if met else 'not met'}.",
    )


def check_quality(held: Held, terms: Terms) -> Check:
    """The issuer quality assured: recognised in the registry, or a quality assurance
    statement on the credential."""
    evidence = {"issuer_status": held.issuer_status, "statement": held.quality_assurance}
    issuer = held.issuer or "The issuer"
    if held.issuer_status == "recognised":
        return Check(
            "quality_assured", True, evidence, f"{issuer} is recognised in the registry: met."
        )
    if held.quality_assurance:
        return Check(
            "quality_assured",
            True,
            evidence,
            f"The credential states its quality assurance ({held.quality_assurance!r}): met.",
        )
    status = (
        "is not identified in the registry"
        if held.issuer_status is None
        else f"has the registry status {held.issuer_status!r}"
    )
    return Check(
        "quality_assured",
        False,
        evidence,
        f"{issuer} {status} and the credential states no quality assurance: not met.",
    )


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier; the month's last day when it has no such day; the first
    day of the calendar when that is before year 1 (an evaluation dated in antiquity)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    if year < dt.MINYEAR:
        return dt.date.min
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_age(held: Held, terms: Terms, on: dt.date) -> Check:
    """Awarded at most `max_age_months` before the day of evaluation (that day itself counts)."""
    earliest = months_before(on, terms.max_age_months)
    evidence = {
        "awarded_on": held.awarded_on.isoformat() if held.awarded_on else None,
        "earliest": earliest.isoformat(),
        "max_age_months": terms.max_age_months,
    }
    if held.awarded_on is None:
        return Check("max_age", False, evidence, "The award date is not stated: not met.")
    met = held.awarded_on >= earliest
    return Check(
        "max_age",
        met,
        evidence,
        f"Awarded on {held.awarded_on.isoformat()}; at most {terms.max_age_months} months "
        f"before {on.isoformat()} means on or after {earliest.isoformat()}: "
        f"{'met' if met else 'not met'}.",
    )


def check_awarded(held: Held, on: dt.date) -> Check | None:
    """A credential awarded after the day of evaluation was not held on it (an evaluation dated
    in the past); None when it was, or when the credential states no date."""
    if held.awarded_on is None or held.awarded_on <= on:
        return None
    return Check(
        "awarded",
        False,
        {"awarded_on": held.awarded_on.isoformat(), "on": on.isoformat()},
        f"Awarded on {held.awarded_on.isoformat()}, after the day of evaluation "
        f"{on.isoformat()}: not held on that day, not met.",
    )


def check_validity(terms: Terms, on: dt.date) -> Check:
    """The pathway valid on the day: [valid_from, valid_to), either end open when not set."""
    met = (terms.valid_from is None or terms.valid_from <= on) and (
        terms.valid_to is None or on < terms.valid_to
    )
    start = terms.valid_from.isoformat() if terms.valid_from else "any day"
    end = f"{terms.valid_to.isoformat()} (excluded)" if terms.valid_to else "further notice"
    span = f"from {start} until {end}"
    return Check(
        "validity",
        met,
        {
            "on": on.isoformat(),
            "valid_from": terms.valid_from.isoformat() if terms.valid_from else None,
            "valid_to": terms.valid_to.isoformat() if terms.valid_to else None,
        },
        f"Pathway {terms.rule_id!r} holds {span}: "
        f"{'valid' if met else 'not valid'} on {on.isoformat()}.",
    )


def conditions(
    held: Held, terms: Terms, on: dt.date, scales: Mapping[str, ScaleSpec]
) -> list[Check]:
    """Every condition the pathway sets, checked on one held credential, in a fixed order;
    first, that it was held on the day at all."""
    awarded = check_awarded(held, on)
    checks = [awarded] if awarded else []
    if terms.min_grade is not None:
        checks.append(check_grade(held, terms, scales.get(terms.min_grade_scale)))
    if terms.supervision is not None:
        checks.append(check_supervision(held, terms))
    if terms.quality_assured:
        checks.append(check_quality(held, terms))
    if terms.max_age_months is not None:
        checks.append(check_age(held, terms, on))
    return checks


# --- one pathway ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """How a learner's credentials fit one pathway. `qualifying[p]` lists the held credentials
    (their index) that stand for the pathway's credential at position p and pass every
    condition; `checks` holds each held credential's checks against it."""

    terms: Terms
    validity: Check
    qualifying: tuple[tuple[int, ...], ...]
    checks: Mapping[int, tuple[Check, ...]] = field(hash=False)

    @property
    def covered(self) -> int:
        return sum(1 for options in self.qualifying if options)

    @property
    def met(self) -> bool:
        return self.validity.met and self.covered >= self.terms.needed

    def sentence(self) -> str:
        terms = self.terms
        want = (
            f"all {len(terms.members)} of its credentials"
            if terms.choose is None
            else f"any {terms.choose} of its {len(terms.members)} credentials"
        )
        if not self.validity.met:
            return self.validity.sentence
        return (
            f"Pathway {terms.rule_id!r} needs {want}; {self.covered} held "
            f"{'meets' if self.covered == 1 else 'meet'} its conditions: "
            f"{'met' if self.met else 'not met'}."
        )


def fit(terms: Terms, held: Sequence[Held], on: dt.date, scales: Mapping[str, ScaleSpec]) -> Fit:
    """Which held credentials satisfy the pathway: each held credential that is one of its
    credentials, checked on every condition; the pathway is met when it is valid on the day and
    enough of its credentials (all, or k of n) have a held credential passing every check."""
    position = {member: p for p, member in enumerate(terms.members)}
    qualifying: list[list[int]] = [[] for _ in terms.members]
    checks: dict[int, tuple[Check, ...]] = {}
    for credential in held:
        p = position.get((credential.kind, credential.id))
        if p is None:
            continue
        checks[credential.index] = tuple(conditions(credential, terms, on, scales))
        if all(check.met for check in checks[credential.index]):
            qualifying[p].append(credential.index)
    return Fit(
        terms, check_validity(terms, on), tuple(tuple(options) for options in qualifying), checks
    )


def still_needed(terms: Terms, held: set[tuple[str, int]]) -> dict[str, Any]:
    """What else a pathway needs besides the credentials `held`: how many more, and from which
    of its credentials (their positions)."""
    have = [p for p, member in enumerate(terms.members) if member in held]
    others = [p for p, member in enumerate(terms.members) if member not in held]
    return {"count": max(terms.needed - len(have), 0), "from": others}


# --- the allocation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A met pathway offered to the allocation: its credits and cap already in the programme's
    credit system, its needed count and the qualifying held credentials per position."""

    id: int
    credits: Decimal
    cap: Decimal | None
    needed: int
    qualifying: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Allocation:
    """The pathways applied and, for each, the held credentials it uses ({position: held
    index}); the credits before and after the cap; whether the search was bounded."""

    used: Mapping[int, Mapping[int, int]]
    total: Decimal
    granted: Decimal
    cap: Decimal | None
    bounded: bool


def assign(chosen: Sequence[Candidate]) -> dict[int, dict[int, int]] | None:
    """Held credentials for every chosen pathway, none used twice, each pathway taking exactly
    the number it needs ({pathway: {position: held index}}); None when impossible.

    A maximum flow from each pathway (its needed count) through its positions (one credential
    each) to the held credentials (one use each): a pathway may switch which of its positions
    it fills to free a credential another needs. Augmenting paths are found breadth first over
    edges in a fixed order, so the same inputs give the same assignment."""
    edges: dict[Any, dict[Any, int]] = {"source": {}}

    def edge(start: Any, end: Any, capacity: int) -> None:
        edges.setdefault(start, {})[end] = capacity
        edges.setdefault(end, {}).setdefault(start, 0)

    for candidate in chosen:
        edge("source", ("pathway", candidate.id), candidate.needed)
        for p, options in enumerate(candidate.qualifying):
            edge(("pathway", candidate.id), ("slot", candidate.id, p), 1)
            for index in options:
                edge(("slot", candidate.id, p), ("held", index), 1)
                edge(("held", index), "sink", 1)
    needed = sum(candidate.needed for candidate in chosen)
    for _ in range(needed):
        came: dict[Any, Any] = {"source": None}
        queue = deque(["source"])
        while queue and "sink" not in came:
            node = queue.popleft()
            for following, capacity in edges[node].items():
                if capacity > 0 and following not in came:
                    came[following] = node
                    queue.append(following)
        if "sink" not in came:
            return None
        node = "sink"
        while came[node] is not None:
            edges[came[node]][node] -= 1
            edges[node][came[node]] += 1
            node = came[node]
    used: dict[int, dict[int, int]] = {candidate.id: {} for candidate in chosen}
    for node, following in edges.items():
        if isinstance(node, tuple) and node[0] == "slot":
            for end, capacity in following.items():
                if end[0] == "held" and capacity == 0:
                    used[node[1]][node[2]] = end[1]
    return {pathway: dict(sorted(slots.items())) for pathway, slots in used.items()}


def _capped(chosen: Sequence[Candidate]) -> tuple[Decimal, Decimal, Decimal | None]:
    total = sum((candidate.credits for candidate in chosen), Decimal(0))
    caps = [candidate.cap for candidate in chosen if candidate.cap is not None]
    cap = min(caps) if caps else None
    return total, total if cap is None else min(total, cap), cap


def allocate(candidates: Sequence[Candidate]) -> Allocation:
    """The pathways to apply, without counting a held credential twice, granting the most
    credits after the cap (the smallest `max_total_credits` among the pathways applied).

    Every subset of the MAX_SEARCH candidates granting the most (ties: lower id) is tried, each
    pathway taking only the credentials it needs; of the subsets that can be assigned, the one
    granting most wins, ties going to fewer credentials used, then fewer pathways, then the
    lower ids. Candidates beyond the bound are then added one at a time, in the same order,
    where they still fit and grant more."""
    ordered = sorted(candidates, key=lambda c: (-c.credits, c.id))
    searched, rest = ordered[:MAX_SEARCH], ordered[MAX_SEARCH:]
    best: tuple[Any, ...] | None = None
    for size in range(1, len(searched) + 1):
        for chosen in combinations(searched, size):
            total, granted, cap = _capped(chosen)
            key = (-granted, sum(c.needed for c in chosen), size, sorted(c.id for c in chosen))
            if best is not None and key >= best[0]:
                continue
            used = assign(chosen)
            if used is not None:
                best = (key, list(chosen), used)
    chosen = best[1] if best else []
    used = best[2] if best else {}
    for candidate in rest:
        trial = [*chosen, candidate]
        more = assign(trial)
        if more is not None and _capped(trial)[1] > _capped(chosen)[1]:
            chosen, used = trial, more
    total, granted, cap = _capped(chosen)
    return Allocation(
        {c.id: used[c.id] for c in sorted(chosen, key=lambda c: c.id)},
        total,
        granted,
        cap,
        bool(rest),
    )
