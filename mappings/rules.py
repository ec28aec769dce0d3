"""Recognition rules stored as data, and their evaluation against the facts of one case.

A rule is JSON written by an authority (a ministry for its country, an institution for its own
admissions, the registry for the bundled default policy): `when` conditions over named facts,
`then` a decision and what goes with it. `validate_rule` checks a rule and converts its values to
their fact's type (exact Decimals, dates); `evaluate` runs a set of rules on a case and returns
a complete trace: every rule, applicable or not, and every condition, held or not, with why.

Conventions a rule author relies on:

- A comparison on a missing fact (absent or None) does not hold, except `exists: false`.
  Wrapped in `not`, such a comparison therefore holds: guard with `exists` where that matters.
- Texts in `then` (`notes`, `conditions`, `substantial_difference.detail`) may name a fact in
  braces, `{workload.shortfall_ects}`; the outcome shows the case's value there ("unknown"
  when the fact is missing). Braces around anything that is not a fact name stay as written.
- Validity is half-open on the date evaluated: `valid_from <= on < valid_to`.
- `then.alternative` names what a refusal or a partial recognition offers instead of the
  recognition asked for (EAR manual ch. 11): `{"form": "conditional" | "partial" |
  "alternative" | "none", "detail": text, "basis": text}`; `none` says in `detail` why there
  is none. `mappings.alternatives` turns it into the decision's `alternative`.

The Lisbon Recognition Convention reads "recognise unless a substantial difference is shown"
(ETS No. 165, art. VI.1; the burden of proof, art. III.3(5); reference notes, section 6); the
bundled default policy, `data/default_policy.json`, encodes it with low priorities so that any
authority's rule outranks it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from registry.core.db import MAX_ID
from registry.core.errors import InvalidData

FACTS: Mapping[str, str] = MappingProxyType(
    {
        "source.country": "str",
        "source.framework": "str",
        "source.level": "str",
        "source.eqf_level": "int",
        "credits.ects": "decimal",
        "credits.hours": "decimal",
        "field.isced_f": "str",
        "institution.status": "str",
        "institution.id": "int",
        "institution.match": "str",
        "institution.match_score": "decimal",
        "qualification.type": "str",
        "grade.normalised": "decimal",
        "award_date": "date",
        "delivery_mode": "str",
        "target.country": "str",
        "target.framework": "str",
        "target.qualification_type": "str",
        "target.eqf_level": "int",
        "level.found": "bool",
        "level.relation": "str",
        "level.confidence": "decimal",
        "level.eqf_gap": "int",
        "level.reached": "str",
        "level.reached_type": "str",
        "workload.ratio": "decimal",
        "workload.shortfall_ects": "decimal",
        "field.same_broad": "bool",
        "learning_outcomes.present": "bool",
        "micro_credential": "bool",
        # The stored verification of the credential's file (mappings.authenticity): verified,
        # invalid, unsigned, unknown_issuer, or altered (verified, but the data assessed
        # differs); absent when no file was verified.
        "credential.signature": "str",
        "credential.signature_reason": "str",
    }
)
DECISIONS = ("recognised", "partially_recognised", "not_recognised", "needs_review")
ELEMENTS = ("level", "workload", "quality", "profile", "learning_outcomes", "authenticity")
# What a decision may offer instead of the recognition asked for (EAR manual ch. 11).
ALTERNATIVE_FORMS = ("conditional", "partial", "alternative", "none")
AUTHORITY_KINDS = ("ministry", "institution", "registry")

_ORDERED = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists")
# The operators each fact type accepts. No fact is a list yet, so `contains` is a substring
# test on strings; strings have no order worth comparing (country codes, ISCED codes).
OPS_FOR_TYPE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "str": ("==", "!=", "in", "not_in", "contains", "exists"),
        "int": _ORDERED,
        "decimal": _ORDERED,
        "date": _ORDERED,
        "bool": ("==", "!=", "exists"),
    }
)
OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not_in", "exists", "contains")

# Priorities each kind of authority may give its rules, so that a ministry's rule outranks an
# institution's and both outrank the registry's default policy, the floor. Checked when a rule
# is stored (mappings.rulebook); `evaluate` takes any priority, for tests and simulations.
PRIORITY_BANDS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"registry": (0, 50), "institution": (51, 99), "ministry": (100, 999)}
)

MAX_DEPTH = 8
MAX_NODES = 100
MAX_LIST = 1000
MAX_TEXT = 2000

# The more cautious decision wins a tie on priority (see `_decide`).
_CAUTION = MappingProxyType(
    {
        "recognised": 0,
        "partially_recognised": 1,
        "not_recognised": 2,
        "needs_review": 3,
    }
)

_TOP_KEYS = (
    "id",
    "title",
    "authority",
    "jurisdiction",
    "priority",
    "valid_from",
    "valid_to",
    "when",
    "then",
)
_REQUIRED = ("id", "title", "authority", "jurisdiction", "priority", "then")
_THEN_KEYS = (
    "decision",
    "target_level",
    "target_qualification_type",
    "credits_granted",
    "conditions",
    "notes",
    "substantial_difference",
    "alternative",
)
_COMPARISON_KEYS = frozenset({"fact", "op", "value"})
_ID = RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}\Z")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# The same shapes as frameworks.schemas: a framework code (a bare country code fits too) and a
# FRAMEWORK:LEVEL reference.
_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
_LEVEL_REF = re.compile(r"^[A-Z][A-Z0-9-]*:[A-Za-z0-9+/.-]{1,20}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_PLACEHOLDER = re.compile(r"\{([a-z][a-z_]*(?:\.[a-z][a-z_]*)*)\}")
# Rule numbers are bounded so that every one prints in plain notation in a trace.
_MAX_DIGITS = 30
_MAX_INT = 2**63

DEFAULT_POLICY = Path(__file__).resolve().parent / "data" / "default_policy.json"


@dataclass(frozen=True)
class ConditionTrace:
    """One node of a rule's `when`, as evaluated.

    A comparison has its `fact`, `op`, `expected` (the rule's value) and `actual` (the case's
    value, None when missing). A group (`all`, `any`, `not`) has `fact` None, `op` the group's
    name, `expected` and `actual` None; its children follow it in the rule's trace, their
    paths extending its own ("when.all.1" -> "when.all.1.any.0").
    """

    path: str
    fact: str | None
    op: str
    expected: Any
    actual: Any
    held: bool
    why: str


@dataclass(frozen=True)
class RuleTrace:
    """One rule, as evaluated: `then` (texts filled in) is given only when the rule matched."""

    rule_id: str
    title: str
    priority: int
    applicable: bool
    matched: bool
    conditions: tuple[ConditionTrace, ...]
    reason: str
    then: dict | None


@dataclass(frozen=True)
class Evaluation:
    """The result of `evaluate`.

    `decision` and `decided_by` are None when no matched rule carries a decision.
    `differences` lists every substantial difference of every matched rule, as
    `{"rule_id", "element", "detail"}`, in trace order. `outcome` holds the deciding rule's
    `target_level`, `target_qualification_type`, `credits_granted` and `alternative` (texts
    filled in; None without one), and the `conditions` and `notes` of all matched rules, in
    trace order, without repeats.
    """

    trace: tuple[RuleTrace, ...]
    decision: str | None
    decided_by: str | None
    differences: tuple[dict, ...]
    outcome: dict


# --- validation -----------------------------------------------------------------------------


class _Problems:
    """Every problem found, by dotted path, so one answer lists them all."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)


def validate_rule(data: Any) -> dict:
    """Check a rule and return it with its values converted to their fact's type.

    The result is a new dict with every top-level key (`valid_from`, `valid_to` and `when` None
    when absent); numbers in it are Decimals or ints, dates `datetime.date`. Validating a
    validated rule returns an equal rule.

    :raise InvalidData: listing every problem at once, `errors` mapping dotted paths
        ("when.all.0.value", "then.decision") to messages.
    """
    problems = _Problems()
    if not isinstance(data, Mapping):
        raise InvalidData("A rule is a JSON object.", errors={"_schema": ["Expected an object."]})
    for key in data:
        if key not in _TOP_KEYS:
            problems.add(str(key), "Unknown field.")
    for key in _REQUIRED:
        if key not in data:
            problems.add(key, "Missing.")

    rule: dict[str, Any] = {key: None for key in _TOP_KEYS}
    rule["id"] = _text(
        data,
        "id",
        problems,
        pattern=_ID,
        pattern_message="Letters, digits, '.', '_', ':' or '-', at most 100.",
    )
    rule["title"] = _text(data, "title", problems, limit=300)
    rule["authority"] = _authority(data.get("authority"), problems) if "authority" in data else None
    if "jurisdiction" in data:
        rule["jurisdiction"] = _jurisdiction(data["jurisdiction"], problems)
    priority = data.get("priority")
    if "priority" in data:
        if not _is_int(priority) or abs(priority) > MAX_ID:  # a database integer column
            problems.add("priority", "An integer; higher wins.")
        else:
            rule["priority"] = priority
    rule["valid_from"] = _date_field(data, "valid_from", problems)
    rule["valid_to"] = _date_field(data, "valid_to", problems)
    if rule["valid_from"] and rule["valid_to"] and rule["valid_from"] >= rule["valid_to"]:
        problems.add("valid_to", "Must be after valid_from (the interval is half-open).")
    if data.get("when") is not None:
        counter = [0]
        rule["when"] = _node(data["when"], "when", 1, counter, problems)
    if "then" in data:
        rule["then"] = _then(data["then"], problems)

    if problems.errors:
        name = rule["id"] or "without a valid id"
        count = sum(len(messages) for messages in problems.errors.values())
        raise InvalidData(
            f"The rule {name} is invalid ({count} problem{'s' * (count != 1)}).",
            errors=problems.errors,
        )
    return rule


def _text(
    data: Mapping,
    key: str,
    problems: _Problems,
    *,
    limit: int = MAX_TEXT,
    pattern: re.Pattern | None = None,
    pattern_message: str = "",
    path: str | None = None,
) -> str | None:
    if key not in data:
        return None
    value, path = data[key], path or key
    if not isinstance(value, str) or not value.strip():
        problems.add(path, "A non-empty string.")
    elif len(value) > limit:
        problems.add(path, f"At most {limit} characters.")
    elif pattern is not None and not pattern.match(value):
        problems.add(path, pattern_message)
    else:
        return value
    return None


def _authority(value: Any, problems: _Problems) -> dict | None:
    if not isinstance(value, Mapping):
        problems.add("authority", "An object with a kind: ministry, institution or registry.")
        return None
    kind = value.get("kind")
    expected = (
        {"ministry": {"kind", "country"}, "institution": {"kind", "id"}, "registry": {"kind"}}.get(
            kind
        )
        if isinstance(kind, str)
        else None
    )
    if expected is None:
        problems.add("authority.kind", f"One of {', '.join(AUTHORITY_KINDS)}.")
        return None
    ok = True
    for key in value:
        if key not in expected:
            problems.add(f"authority.{key}", f"Unknown field for a {kind} authority.")
            ok = False
    if kind == "ministry" and not (
        isinstance(value.get("country"), str) and _COUNTRY.match(value["country"])
    ):
        problems.add("authority.country", "An ISO 3166-1 alpha-2 country code, e.g. DE.")
        ok = False
    if kind == "institution" and not (_is_int(value.get("id")) and 0 < value["id"] <= MAX_ID):
        problems.add("authority.id", "The institution's id, a positive integer.")
        ok = False
    return dict(value) if ok else None


def _jurisdiction(value: Any, problems: _Problems) -> str | None:
    if isinstance(value, str) and (value == "*" or _CODE.match(value)):
        return value
    problems.add("jurisdiction", "A country code (DE), a framework code (DE-DQR) or '*'.")
    return None


def _date_field(data: Mapping, key: str, problems: _Problems) -> dt.date | None:
    value = data.get(key)
    if value is None:
        return None
    converted = _to_date(value)
    if converted is None:
        problems.add(key, "A date, YYYY-MM-DD, or null.")
    return converted


def _then(value: Any, problems: _Problems) -> dict | None:
    if not isinstance(value, Mapping):
        problems.add("then", "An object: a decision and/or notes, conditions, a difference.")
        return None
    if not value:
        problems.add("then", "Give a decision, notes, conditions or a substantial difference.")
        return None
    then: dict[str, Any] = {}
    for key in value:
        if key not in _THEN_KEYS:
            problems.add(f"then.{key}", "Unknown field.")
    if "decision" in value:
        if value["decision"] in DECISIONS:
            then["decision"] = value["decision"]
        else:
            problems.add("then.decision", f"One of {', '.join(DECISIONS)}.")
    if "target_level" in value:
        then["target_level"] = _text(
            value,
            "target_level",
            problems,
            limit=64,
            pattern=_LEVEL_REF,
            path="then.target_level",
            pattern_message="FRAMEWORK:LEVEL, e.g. DE-DQR:6.",
        )
    if "target_qualification_type" in value:
        then["target_qualification_type"] = _text(
            value,
            "target_qualification_type",
            problems,
            limit=100,
            path="then.target_qualification_type",
        )
    if "credits_granted" in value:
        credits = _to_decimal(value["credits_granted"])
        if credits is None or credits < 0:
            problems.add("then.credits_granted", 'A number of credits, 0 or more, e.g. "180".')
        then["credits_granted"] = credits
    if "conditions" in value:
        conditions = value["conditions"]
        if not isinstance(conditions, list) or not conditions or len(conditions) > 50:
            problems.add("then.conditions", "A list of 1 to 50 sentences.")
        else:
            for index, condition in enumerate(conditions):
                _template(condition, f"then.conditions.{index}", problems)
            then["conditions"] = list(conditions)
    if "notes" in value:
        _template(value["notes"], "then.notes", problems)
        then["notes"] = value["notes"]
    if "substantial_difference" in value:
        then["substantial_difference"] = _difference(value["substantial_difference"], problems)
    if "alternative" in value:
        if value.get("decision") in ("recognised", "needs_review"):
            problems.add(
                "then.alternative",
                "An alternative goes with a refusal, a partial recognition or advice only.",
            )
        then["alternative"] = _alternative(value["alternative"], problems)
    return then


def _alternative(value: Any, problems: _Problems) -> dict | None:
    path = "then.alternative"
    if not isinstance(value, Mapping):
        problems.add(path, "An object: form, detail and optionally basis.")
        return None
    for key in value:
        if key not in ("form", "detail", "basis"):
            problems.add(f"{path}.{key}", "Unknown field.")
    if value.get("form") not in ALTERNATIVE_FORMS:
        problems.add(f"{path}.form", f"One of {', '.join(ALTERNATIVE_FORMS)}.")
    if "detail" not in value:
        problems.add(f"{path}.detail", "Missing: what is offered, or why nothing is.")
    else:
        _template(value["detail"], f"{path}.detail", problems)
    if "basis" in value:
        _text(value, "basis", problems, limit=500, path=f"{path}.basis")
    return {key: value.get(key) for key in ("form", "detail", "basis") if key in value}


def _difference(value: Any, problems: _Problems) -> dict | None:
    path = "then.substantial_difference"
    if not isinstance(value, Mapping):
        problems.add(path, "An object: element and detail.")
        return None
    for key in value:
        if key not in ("element", "detail"):
            problems.add(f"{path}.{key}", "Unknown field.")
    if value.get("element") not in ELEMENTS:
        problems.add(f"{path}.element", f"One of {', '.join(ELEMENTS)}.")
    if "detail" not in value:
        problems.add(f"{path}.detail", "Missing.")
    else:
        _template(value["detail"], f"{path}.detail", problems)
    return {"element": value.get("element"), "detail": value.get("detail")}


def _template(value: Any, path: str, problems: _Problems) -> None:
    if not isinstance(value, str) or not value.strip():
        problems.add(path, "A non-empty string.")
        return
    if len(value) > MAX_TEXT:
        problems.add(path, f"At most {MAX_TEXT} characters.")
    for name in _PLACEHOLDER.findall(value):
        if name not in FACTS:
            problems.add(path, f"{{{name}}} names no known fact.")


def _node(node: Any, path: str, depth: int, counter: list[int], problems: _Problems) -> Any:
    """One condition node, converted; None where it is invalid (problems say why)."""
    counter[0] += 1
    if counter[0] == MAX_NODES + 1:
        problems.add("when", f"At most {MAX_NODES} conditions (groups count too).")
    if counter[0] > MAX_NODES:
        return None
    if depth > MAX_DEPTH:
        problems.add(path, f"Conditions nest at most {MAX_DEPTH} levels deep.")
        return None
    if not isinstance(node, Mapping) or not node:
        problems.add(path, "A comparison {fact, op, value} or one of all, any, not.")
        return None
    groups = [key for key in ("all", "any", "not") if key in node]
    if groups:
        if len(node) != 1:
            problems.add(path, "A group has exactly one key: all, any or not.")
            return None
        group = groups[0]
        children = node[group]
        if group == "not":
            if not isinstance(children, Mapping):
                problems.add(f"{path}.not", "One condition (an object), not a list or a value.")
                return None
            return {"not": _node(children, f"{path}.not", depth + 1, counter, problems)}
        if not isinstance(children, list) or not children:
            problems.add(f"{path}.{group}", "A non-empty list of conditions.")
            return None
        return {
            group: [
                _node(child, f"{path}.{group}.{index}", depth + 1, counter, problems)
                for index, child in enumerate(children)
            ]
        }
    return _comparison(node, path, problems)


def _comparison(node: Mapping, path: str, problems: _Problems) -> dict | None:
    ok = True
    for key in node:
        if key not in _COMPARISON_KEYS:
            problems.add(f"{path}.{key}", "Unknown field; a comparison has fact, op and value.")
            ok = False
    for key in ("fact", "op", "value"):
        if key not in node:
            problems.add(f"{path}.{key}", "Missing.")
            ok = False
    fact, op = node.get("fact"), node.get("op")
    kind = FACTS.get(fact) if isinstance(fact, str) else None
    if "fact" in node and kind is None:
        problems.add(f"{path}.fact", f"Unknown fact {fact!r}.")
        ok = False
    if "op" in node and op not in OPS:
        problems.add(f"{path}.op", f"Unknown operator {op!r}; one of {' '.join(OPS)}.")
        return None
    if kind is None or "op" not in node:
        if op in ("in", "not_in") and "value" in node and not isinstance(node["value"], list):
            problems.add(f"{path}.value", f"{op} takes a list of values.")
        return None
    if op not in OPS_FOR_TYPE[kind]:
        problems.add(
            f"{path}.op",
            f"{op} does not apply to {fact}, a {kind}; use one of {' '.join(OPS_FOR_TYPE[kind])}.",
        )
        return None
    if "value" not in node:
        return None
    value = _rule_value(node["value"], fact, kind, op, f"{path}.value", problems)
    return {"fact": fact, "op": op, "value": value} if ok and value is not _INVALID else None


_INVALID = object()


def _rule_value(value: Any, fact: str, kind: str, op: str, path: str, problems: _Problems) -> Any:
    if op == "exists":
        if isinstance(value, bool):
            return value
        problems.add(path, "exists takes true or false.")
        return _INVALID
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            problems.add(path, f"{op} takes a list of 1 to {MAX_LIST} values.")
            return _INVALID
        converted = [_rule_scalar(item, kind) for item in value]
        for index, item in enumerate(converted):
            if item is _INVALID:
                problems.add(f"{path}.{index}", _type_message(fact, kind, value[index]))
        return _INVALID if _INVALID in converted else converted
    converted = _rule_scalar(value, kind)
    if converted is _INVALID:
        problems.add(path, _type_message(fact, kind, value))
    return converted


def _rule_scalar(value: Any, kind: str) -> Any:
    if kind == "str":
        ok = isinstance(value, str) and len(value) <= 500
        return value if ok else _INVALID
    if kind == "bool":
        return value if isinstance(value, bool) else _INVALID
    if kind == "int":
        return value if _is_int(value) and abs(value) < _MAX_INT else _INVALID
    if kind == "date":
        converted = _to_date(value)
        return _INVALID if converted is None else converted
    converted = _to_decimal(value)
    return _INVALID if converted is None else converted


def _type_message(fact: str, kind: str, value: Any) -> str:
    wanted = {
        "str": "a string",
        "int": "an integer",
        "decimal": 'a number (a decimal string such as "179.99", or a JSON number)',
        "date": "a date, YYYY-MM-DD",
        "bool": "true or false",
    }[kind]
    return f"{fact} takes {wanted}, not {_short(value)}."


def _short(value: Any) -> str:
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):  # huge ints, cycles
        text = "a value too large to print"
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _to_decimal(value: Any) -> Decimal | None:
    """An exact, finite Decimal of plain size, or None.

    A JSON number parsed as a float is read through its shortest repr ("0.1", as written),
    never through its binary value; parse rule files with `parse_float=Decimal` to avoid floats.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        if len(value) > 60 or not _DECIMAL.match(value.strip()):
            return None
        value = Decimal(value.strip())
    elif isinstance(value, int):
        if abs(value) >= 10**_MAX_DIGITS:
            return None
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    if value.adjusted() >= _MAX_DIGITS or value.as_tuple().exponent < -_MAX_DIGITS:
        return None
    return value


def _to_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


# --- evaluation -----------------------------------------------------------------------------


_MISSING = object()


def evaluate(
    rules: Iterable[dict], facts: Mapping[str, Any], *, jurisdiction: Iterable[str], on: dt.date
) -> Evaluation:
    """Evaluate `rules` on the facts of one case, for a target and a date.

    `rules` may be raw JSON rules or `validate_rule` results: each is validated (and its values
    converted) here, so stored JSON compares exactly. A rule applies when its jurisdiction is
    "*" or one of `jurisdiction` (the target's country and framework codes) and `on` (the award
    date) lies in its validity. Rules are ordered by (-priority, id), and all of them appear in
    the trace. `facts` may lack any fact; values of a wrong type hold no comparison.

    :raise InvalidData: only for a rule that fails `validate_rule`.
    """
    checked = [validate_rule(rule) for rule in rules]
    checked.sort(key=lambda rule: (-rule["priority"], rule["id"]))  # stable for equal ids
    targets = {jurisdiction} if isinstance(jurisdiction, str) else set(jurisdiction)
    on = on.date() if isinstance(on, dt.datetime) else on
    values = _CaseFacts(facts)

    results = []
    for rule in checked:
        refusal = _inapplicable(rule, targets, on)
        if refusal is not None:
            results.append((rule, False, False, (), refusal))
            continue
        if rule["when"] is None:
            results.append((rule, True, True, (), "it has no conditions"))
            continue
        conditions: list[ConditionTrace] = []
        held, why = _run(rule["when"], "when", values, conditions)
        results.append((rule, True, held, tuple(conditions), why))

    decider = _decide([rule for rule, _, matched, _, _ in results if matched])
    trace, differences, conditions_out, notes_out = [], [], [], []
    deciding_then: dict = {}
    for rule, applicable, matched, conditions, why in results:
        then = _fill(rule["then"], values) if matched else None
        if rule is decider:
            deciding_then = then
        if then is not None:
            difference = then.get("substantial_difference")
            if difference:
                differences.append({"rule_id": rule["id"], **difference})
            for condition in then.get("conditions", ()):
                if condition not in conditions_out:
                    conditions_out.append(condition)
            if then.get("notes") and then["notes"] not in notes_out:
                notes_out.append(then["notes"])
        reason = _reason(rule, applicable, matched, why, decider)
        trace.append(
            RuleTrace(
                rule["id"],
                rule["title"],
                rule["priority"],
                applicable,
                matched,
                conditions,
                reason,
                then,
            )
        )

    outcome = {
        "target_level": deciding_then.get("target_level"),
        "target_qualification_type": deciding_then.get("target_qualification_type"),
        "credits_granted": deciding_then.get("credits_granted"),
        "alternative": deciding_then.get("alternative"),
        "conditions": conditions_out,
        "notes": notes_out,
    }
    return Evaluation(
        trace=tuple(trace),
        decision=deciding_then.get("decision"),
        decided_by=decider["id"] if decider else None,
        differences=tuple(differences),
        outcome=outcome,
    )


def _decide(matched: list[dict]) -> dict | None:
    """The matched rule whose decision stands: highest priority, then the most cautious.

    Two rules of equal priority are equally authoritative, so their disagreement is itself
    a doubt about the case. The more cautious decision never grants more than one of them
    allows, and the LRC's safeguards sit on that side: a refusal or a partial recognition
    names its substantial difference and can be appealed, and needs_review hands the case to
    an evaluator, whereas a recognition granted in error is not reviewed. Equal priority and
    equal decision: the first by id, for determinism.
    """
    best = None
    for rule in matched:  # already ordered by (-priority, id)
        decision = rule["then"].get("decision")
        if decision is None:
            continue
        if best is None or (
            rule["priority"] == best["priority"]
            and _CAUTION[decision] > _CAUTION[best["then"]["decision"]]
        ):
            best = rule
    return best


def _inapplicable(rule: dict, targets: set[str], on: dt.date) -> str | None:
    if rule["jurisdiction"] != "*" and rule["jurisdiction"] not in targets:
        asked = ", ".join(sorted(map(str, targets))) or "no jurisdiction"
        return f"it is for {rule['jurisdiction']}, and the case is for {asked}"
    if rule["valid_from"] is not None and on < rule["valid_from"]:
        return f"it applies from {rule['valid_from'].isoformat()}, after {on.isoformat()}"
    if rule["valid_to"] is not None and on >= rule["valid_to"]:
        return f"it applies before {rule['valid_to'].isoformat()} only, not on {on.isoformat()}"
    return None


def _reason(rule: dict, applicable: bool, matched: bool, why: str, decider: dict | None) -> str:
    if not applicable:
        return f"Not applicable: {why}."
    if not matched:
        return f"Did not match: {why}."
    decision = rule["then"].get("decision")
    if decision is None:
        return f"Matched ({why}); advisory, with no decision of its own."
    if rule is decider:
        return f"Matched ({why}); its decision, {decision}, stands."
    assert decider is not None  # a matched rule with a decision means there is a decider
    other, other_decision = decider["id"], decider["then"]["decision"]
    if decider["priority"] > rule["priority"]:
        return (
            f"Matched ({why}), but {other} has a higher priority "
            f"({decider['priority']}), so its decision, {other_decision}, stands."
        )
    if other_decision != decision:
        return (
            f"Matched ({why}), but at the same priority the more cautious decision of "
            f"{other}, {other_decision}, stands."
        )
    return f"Matched ({why}); {other} comes first by id with the same decision, {decision}."


def _run(node: dict, path: str, values: _CaseFacts, out: list[ConditionTrace]) -> tuple[bool, str]:
    """Evaluate one node, appending its trace and then its children's; return (held, why)."""
    if "fact" in node:
        fact, op, expected = node["fact"], node["op"], node["value"]
        actual, problem = values.get(fact)
        held, why = _compare(fact, op, expected, actual, problem)
        out.append(ConditionTrace(path, fact, op, expected, actual, held, why))
        return held, why

    group = next(iter(node))
    position = len(out)
    out.append(None)  # placeholder: the group precedes its children in the trace
    if group == "not":
        inner, inner_why = _run(node["not"], f"{path}.not", values, out)
        held = not inner
        why = (
            f"the negated condition did not hold ({inner_why})"
            if held
            else f"the negated condition held ({inner_why})"
        )
    else:
        outcomes = [
            _run(child, f"{path}.{group}.{index}", values, out)
            for index, child in enumerate(node[group])
        ]
        failed = [why for ok, why in outcomes if not ok]
        passed = [why for ok, why in outcomes if ok]
        count = len(outcomes)
        if group == "all":
            held = not failed
            why = (
                f"all {count} conditions held"
                if held
                else f"{len(failed)} of {count} conditions failed: " + "; ".join(failed)
            )
        else:
            held = bool(passed)
            why = (
                f"{len(passed)} of {count} conditions held: " + "; ".join(passed)
                if held
                else f"none of {count} conditions held: " + "; ".join(failed)
            )
        if count == 1:
            why = outcomes[0][1]
    out[position] = ConditionTrace(path, None, group, None, None, held, why)
    return held, why


def _compare(
    fact: str, op: str, expected: Any, actual: Any, problem: str | None
) -> tuple[bool, str]:
    if op == "exists":
        if problem is not None:
            return expected, f"{fact} is present (with a value of the wrong type)"
        if actual is not None:
            return expected, f"{fact} is present ({_show(actual)})"
        return not expected, f"{fact} is missing"
    if problem is not None:
        return False, f"{fact} {problem}, so it cannot be compared"
    if actual is None:
        return False, f"{fact} is missing"

    if op in ("in", "not_in"):
        member = actual in expected
        held = member if op == "in" else not member
        listed = ", ".join(_show(item) for item in expected)
        verb = "is one of" if member else "is not one of"
        return held, f"{fact} is {_show(actual)}, which {verb} {listed}"
    if op == "contains":
        held = expected in actual
        verb = "contains" if held else "does not contain"
        return held, f"{fact} is {_show(actual)}, which {verb} {_show(expected)}"
    if op in ("==", "!="):
        equal = actual == expected
        held = equal if op == "==" else not equal
        verb = "equals" if equal else "differs from"
        return held, f"{fact} is {_show(actual)}, which {verb} {_show(expected)}"
    held = {
        "<": actual < expected,
        "<=": actual <= expected,
        ">": actual > expected,
        ">=": actual >= expected,
    }[op]
    verb = op if held else f"not {op}"
    return held, f"{fact} is {_show(actual)}, which is {verb} {_show(expected)}"


class _CaseFacts:
    """The case's facts, each read as its declared type once.

    `get` answers (value, None), (None, None) when missing, or (None, problem) when the value
    cannot be read as its type, so that evaluation reports it instead of raising.
    """

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self._facts = facts
        self._cache: dict[str, tuple[Any, str | None]] = {}

    def get(self, fact: str) -> tuple[Any, str | None]:
        if fact not in self._cache:
            self._cache[fact] = self._read(fact)
        return self._cache[fact]

    def _read(self, fact: str) -> tuple[Any, str | None]:
        raw = self._facts.get(fact)
        if raw is None:
            return None, None
        value = _case_value(raw, FACTS[fact])
        if value is _INVALID:
            return None, f"has a value that is not a {FACTS[fact]} ({_short(raw)})"
        return value, None


def _case_value(raw: Any, kind: str) -> Any:
    """Read a case's value leniently: a fact computed as an int or a float is still a number."""
    if kind == "str":
        return raw if isinstance(raw, str) else _INVALID
    if kind == "bool":
        return raw if isinstance(raw, bool) else _INVALID
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        converted = _to_date(raw)
        return _INVALID if converted is None else converted
    if isinstance(raw, bool):
        return _INVALID
    if kind == "int":
        if isinstance(raw, int):
            return raw if abs(raw) < _MAX_INT else _INVALID
        number = _to_decimal(raw) if isinstance(raw, (Decimal, float)) else None
        if number is not None and number == number.to_integral_value():
            return int(number)
        return _INVALID
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else _INVALID
    if isinstance(raw, int):
        return Decimal(raw) if abs(raw) < _MAX_INT else _INVALID
    converted = _to_decimal(raw) if isinstance(raw, (float, str)) else None
    return _INVALID if converted is None else converted


def _show(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        if (
            value.is_finite()
            and -_MAX_DIGITS <= value.as_tuple().exponent
            and value.adjusted() < _MAX_DIGITS
        ):
            return format(value, "f")
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value if value else '""'
    return _short(value)


def _fill(then: dict, values: _CaseFacts) -> dict:
    """A copy of `then` with fact placeholders in its texts replaced by the case's values."""

    def fill(text: str) -> str:
        def one(match: re.Match) -> str:
            value, _ = values.get(match.group(1))
            return "unknown" if value is None else _show(value)

        return _PLACEHOLDER.sub(one, text)

    filled = dict(then)
    if "notes" in filled:
        filled["notes"] = fill(filled["notes"])
    if "conditions" in filled:
        filled["conditions"] = [fill(condition) for condition in filled["conditions"]]
    for key in ("substantial_difference", "alternative"):
        if filled.get(key):
            filled[key] = {**filled[key], "detail": fill(filled[key]["detail"])}
    return filled


# --- storage --------------------------------------------------------------------------------


def priority_problem(rule: dict) -> str | None:
    """Why a validated rule's priority is outside its authority's band, or None."""
    low, high = PRIORITY_BANDS[rule["authority"]["kind"]]
    if low <= rule["priority"] <= high:
        return None
    return f"A {rule['authority']['kind']}'s rule has a priority from {low} to {high}."


def rule_to_json(rule: dict) -> dict:
    """A validated rule in JSON form: Decimals as strings, dates as YYYY-MM-DD, nulls dropped."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return _show(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {key: plain(item) for key, item in value.items() if item is not None}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    return plain(rule)


def load_default_policy() -> list[dict]:
    """The bundled default policy (`data/default_policy.json`), validated.

    Numbers are parsed as Decimals, never floats.

    :raise InvalidData: if a bundled rule is invalid (a packaging error).
    """
    rules = json.loads(DEFAULT_POLICY.read_text(encoding="utf-8"), parse_float=Decimal)
    return [validate_rule(rule) for rule in rules]
