"""Credit conversion between credit systems (reference notes, section 3).

Recognition practice equates full-time years (annual load); notional hours are shown as
information only, and an institution's explicit factor overrides both. Where equating years is
only this registry's convention (ECVET points, which measure no workload), the basis says so.
Results stay exact Decimals; only `CreditConversion.as_dict` rounds, for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from registry.core.errors import InvalidData

METHODS = ("annual_load", "notional_hours")

# 28 digits keep repeating quotients (5 US-QTR = 6.666... ECTS) exact far beyond display.
_CONTEXT = Context(prec=28)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreditSystemSpec:
    """A credit unit: notional hours per credit (a range for ECTS), credits per full-time year.

    `convention` says why equating this system's year with another's is no published
    equivalence (ECVET); the annual-load basis then names it a convention of this registry.
    """

    code: str
    hours_low: Decimal | None
    hours_high: Decimal | None
    per_year: Decimal | None
    convention: str | None = None


@dataclass(frozen=True)
class CreditRule:
    """An explicit factor of one institution or agreement; it beats any convention."""

    code: str
    source: str
    target: str
    factor: Decimal
    citation: str


@dataclass(frozen=True)
class CreditConversion:
    """An exact result; `low`/`high` bound the notional-hours range, whose midpoint is `value`."""

    value: Decimal
    unit: str
    method: str
    basis: str
    low: Decimal | None = None
    high: Decimal | None = None

    def as_dict(self) -> dict:
        """The API form: numbers as strings, rounded half up to 2 places."""
        out = {
            "value": _plain(self.value),
            "unit": self.unit,
            "method": self.method,
            "basis": self.basis,
        }
        if self.low is not None:
            out["range"] = {"low": _cents(self.low), "high": _cents(self.high)}
        return out


def convert_credits(
    value: Decimal,
    source: CreditSystemSpec,
    target: CreditSystemSpec,
    method: str = "annual_load",
    rule: CreditRule | None = None,
) -> CreditConversion:
    """Convert `value` credits of `source` into `target` credits.

    A rule, when given, is applied even between equal systems: it is an explicit decision.
    `method="rule"` is accepted alongside a rule, since results report that method.
    """
    if method not in METHODS and not (method == "rule" and rule is not None):
        raise _invalid(
            "method",
            f"Unknown credit conversion method {method!r}; use one of {', '.join(METHODS)}"
            " or give a credit rule.",
        )
    if not isinstance(value, Decimal) or not value.is_finite() or value.is_signed():
        raise _invalid("value", "Credits must be a finite Decimal of at least 0.")
    _check_system(source, "from")
    _check_system(target, "to")
    with localcontext(_CONTEXT):
        if rule is not None:
            return _by_rule(value, source, target, rule)
        if source.code == target.code:
            # The range keeps the notional-hours contract; it collapses to the value itself.
            bounds = (value, value) if method == "notional_hours" else (None, None)
            return CreditConversion(value, target.code, method, "same credit system", *bounds)
        if method == "annual_load":
            return _by_annual_load(value, source, target)
        return _by_notional_hours(value, source, target)


def _by_rule(
    value: Decimal, source: CreditSystemSpec, target: CreditSystemSpec, rule: CreditRule
) -> CreditConversion:
    if (rule.source, rule.target) != (source.code, target.code):
        raise _invalid(
            "rule",
            f"Rule {rule.code} converts {rule.source} to {rule.target},"
            f" not {source.code} to {target.code}.",
        )
    if not isinstance(rule.factor, Decimal) or not rule.factor.is_finite() or rule.factor <= 0:
        raise _invalid("rule", f"Rule {rule.code} needs a positive Decimal factor.")
    basis = f"rule {rule.code}: 1 {source.code} = {rule.factor} {target.code} ({rule.citation})"
    return CreditConversion(value * rule.factor, target.code, "rule", basis)


def _by_annual_load(
    value: Decimal, source: CreditSystemSpec, target: CreditSystemSpec
) -> CreditConversion:
    lacking = [spec.code for spec in (source, target) if spec.per_year is None]
    if lacking:
        hint = " (try notional_hours)" if _has_hours(source) and _has_hours(target) else ""
        raise _invalid(
            "method",
            f"annual_load needs credits per full-time year on both systems;"
            f" {' and '.join(lacking)} has no fixed year{hint}.",
        )
    basis = (
        f"annual load: {_plain(source.per_year)} {source.code} = {_plain(target.per_year)}"
        f" {target.code} (a full-time year each)"
    )
    reasons = [f"{spec.code}: {spec.convention}" for spec in (source, target) if spec.convention]
    if reasons:
        basis += (
            f"; a convention of this registry, not a published equivalence ({'; '.join(reasons)})"
        )
    # Multiply first: a single division keeps exact quotients exact.
    return CreditConversion(
        value * target.per_year / source.per_year, target.code, "annual_load", basis
    )


def _by_notional_hours(
    value: Decimal, source: CreditSystemSpec, target: CreditSystemSpec
) -> CreditConversion:
    lacking = [spec.code for spec in (source, target) if not _has_hours(spec)]
    if lacking:
        raise _invalid(
            "method",
            f"notional_hours needs hours per credit on both systems;"
            f" {' and '.join(lacking)} has none.",
        )
    hours_low, hours_high = value * source.hours_low, value * source.hours_high
    # Most hours per target credit give the fewest credits, and the reverse.
    low, high = hours_low / target.hours_high, hours_high / target.hours_low
    middle = (low + high) / 2
    basis = (
        f"notional hours: {_plain(value)} {source.code} at {_span(source)} h each"
        f" = {_span_of(hours_low, hours_high)} h; at {_span(target)} h per {target.code} credit"
        f" that is {_cents(low)}-{_cents(high)} {target.code} (midpoint {_plain(middle)})"
    )
    return CreditConversion(middle, target.code, "notional_hours", basis, low, high)


def _check_system(spec: CreditSystemSpec, field: str) -> None:
    bounds = (spec.hours_low, spec.hours_high)
    numbers = [n for n in (*bounds, spec.per_year) if n is not None]
    if (
        (bounds[0] is None) != (bounds[1] is None)
        or not all(isinstance(n, Decimal) and n.is_finite() and n > 0 for n in numbers)
        or (_has_hours(spec) and spec.hours_low > spec.hours_high)
    ):
        raise _invalid(
            field,
            f"Credit system {spec.code} needs positive Decimals: both hour bounds or neither,"
            " hours_low at most hours_high, per_year if set.",
        )


def _has_hours(spec: CreditSystemSpec) -> bool:
    return spec.hours_low is not None


def _span(spec: CreditSystemSpec) -> str:
    return _span_of(spec.hours_low, spec.hours_high)


def _span_of(low: Decimal, high: Decimal) -> str:
    return _plain(low) if low == high else f"{_plain(low)}-{_plain(high)}"


def _plain(number: Decimal) -> str:
    """2 places, half up, without trailing zeros: "120", "6.67", "7.5"."""
    return format(_rounded(number).normalize(_wide(number)), "f")


def _cents(number: Decimal) -> str:
    return str(_rounded(number))


def _rounded(number: Decimal) -> Decimal:
    return number.quantize(_CENT, rounding=ROUND_HALF_UP, context=_wide(number))


def _wide(number: Decimal) -> Context:
    """A context with room for every digit left of the point plus two places, however large."""
    return Context(prec=max(_CONTEXT.prec, number.adjusted() + 3))


def _invalid(field: str, detail: str) -> InvalidData:
    return InvalidData(detail, errors={field: [detail]})
