"""What a refusal or a partial recognition offers instead: the decision's `alternative`.

The EAR manual (ch. 11, "Alternative recognition and the right to appeal", Recommendation) asks
the authority that cannot grant the recognition asked for, because of a substantial difference,
to consider alternative recognition (the qualification evaluated as another relevant
qualification, with a bridging course where offered), partial recognition (some credits
accepted, as exemptions in the programme required) or conditional recognition (the activity
started on condition of goals such as credits), and to refuse only when none of them can be
found; the applicant is told the reasons and his or her possibilities.

The rules say which form applies (`then.alternative`, see `mappings.rules`); this module reads
the case's facts into the figures a client needs, so that the form and the figures come from
one place and a refusal never leaves the question open.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mappings.rules import Evaluation

REFUSAL, PARTIAL = "not_recognised", "partially_recognised"
LABELS = {
    "conditional": "conditional recognition",
    "partial": "partial recognition",
    "alternative": "alternative recognition",
    "none": "no alternative",
}
NO_RULE_NAMES_ONE = (
    "No rule evaluated names an alternative, partial or conditional recognition for this case; "
    "the deciding rule's notes give the reasons for the refusal. An evaluator should consider "
    "one before the refusal is final (EAR manual ch. 11)."
)
PARTIAL_UNNAMED = (
    "The deciding rule grants partial recognition without naming its form; its conditions say "
    "what remains to be done."
)


def offered(evaluation: Evaluation, facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """The alternative that goes with a refusal or a partial recognition; None with any other
    decision (a recognition needs none, a case sent for review is not decided).

    The deciding rule's alternative, else that of the highest-ranked matched rule naming one
    (an authority's refusal that outranks the default policy keeps the policy's alternative in
    view). A refusal no rule offers anything for answers form `none`, saying so.

    Keys: `form` (conditional, partial, alternative, none), `rule` (the rule naming it, None
    when none does), `detail` (what is offered, or why nothing is), `basis` (the rule's source),
    `recognised_as` (form alternative: `level`, `eqf_level`, `qualification_type`),
    `ects_counted` and `bridging_ects` (forms conditional and partial; decimal strings).
    """
    if evaluation.decision not in (REFUSAL, PARTIAL):
        return None
    named, rule = evaluation.outcome.get("alternative"), evaluation.decided_by
    if named is None:
        fallback = next(
            (t for t in evaluation.trace if t.matched and t.then and t.then.get("alternative")),
            None,
        )
        if fallback is not None:
            named, rule = fallback.then["alternative"], fallback.rule_id
    figures = named is not None  # a form no rule names has no figures the registry can vouch for
    if named is None:
        refusal = evaluation.decision == REFUSAL
        named = {
            "form": "none" if refusal else "partial",
            "detail": NO_RULE_NAMES_ONE if refusal else PARTIAL_UNNAMED,
        }
        rule = None if refusal else evaluation.decided_by
    form = named["form"]
    answer: dict[str, Any] = {
        "form": form,
        "rule": rule,
        "detail": named["detail"],
        "basis": named.get("basis"),
        "recognised_as": None,
        "ects_counted": None,
        "bridging_ects": None,
    }
    if form == "alternative":  # only ever named by a rule
        reached = {
            "level": facts.get("level.reached"),
            "eqf_level": facts.get("source.eqf_level"),
            "qualification_type": facts.get("level.reached_type"),
        }
        answer["recognised_as"] = reached if any(v is not None for v in reached.values()) else None
    elif form in ("conditional", "partial") and figures:
        answer["ects_counted"] = _number(facts.get("credits.ects"))
        shortfall = facts.get("workload.shortfall_ects")
        answer["bridging_ects"] = _number(shortfall) if shortfall else None
    return answer


def sentence(alternative: dict[str, Any]) -> str:
    """The alternative as the explanation's sentence."""
    form = alternative["form"]
    by = f" ({alternative['rule']})" if alternative["rule"] else ""
    if form == "none":
        return f"No alternative is offered{by}: {alternative['detail']}"
    figures = []
    reached = alternative["recognised_as"]
    if reached and reached["qualification_type"]:
        figures.append(
            f"the level of a {reached['qualification_type'].replace('_', ' ')} qualification"
        )
    if alternative["ects_counted"] is not None:
        figures.append(f"{alternative['ects_counted']} ECTS count")
    if alternative["bridging_ects"] is not None:
        figures.append(f"{alternative['bridging_ects']} ECTS to bridge")
    summary = f" ({'; '.join(figures)})" if figures else ""
    return f"Offered instead, {LABELS[form]}{by}{summary}: {alternative['detail']}"


def _number(value: Any) -> str | None:
    """A decimal string without trailing zeros ("90", "37.5")."""
    if value is None:
        return None
    number = Decimal(str(value))
    return format(number.normalize() if number != number.to_integral() else number.quantize(1), "f")
