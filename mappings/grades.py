"""Grade conversion between grading scales (reference notes, section 4).

Three methods, most explicit first: an institution's conversion table, ECTS grading tables
(the percentile method of the ECTS Users' Guide and Egracons) and the linear two-anchor form of
the modified Bavarian formula. Grades are read and computed as Decimals; only the displayed
value is rounded, by the target scale's own rule. Every result states its basis: the table and
what it rests on, or the method and, for a named class, which mark of its band was taken.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from types import MappingProxyType
from typing import Any

from registry.core.errors import InvalidData

METHODS = ("linear", "distribution")
KINDS = ("numeric", "ordinal")
# Truncation is ROUND_DOWN: toward zero, i.e. of the absolute value (German practice).
ROUNDINGS = MappingProxyType({"half_up": ROUND_HALF_UP, "truncate": ROUND_DOWN})

# 28 digits: a single correctly rounded division keeps every terminating result exact.
_CONTEXT = Context(prec=28)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_FOUR_PLACES = Decimal("0.0001")
LINEAR_BASIS = (
    "the two-anchor linear form of the modified Bavarian formula (the best and pass marks of"
    " each scale as anchors)"
)


@dataclass(frozen=True)
class Band:
    """A named grade; `low`/`high` bound it on its own scale or on `equivalent_scale`."""

    code: str
    passing: bool
    low: Decimal | None = None
    high: Decimal | None = None
    equivalent_scale: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class ScaleSpec:
    """A grading scale; the direction follows from `best` against `worst`."""

    code: str
    kind: str
    best: Decimal | None = None
    worst: Decimal | None = None
    pass_mark: Decimal | None = None
    decimals: int = 2
    rounding: str = "half_up"
    bands: tuple[Band, ...] = ()
    special_values: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # A read-only copy: a spec shared between requests must not change under a conversion.
        object.__setattr__(self, "special_values", MappingProxyType(dict(self.special_values)))


@dataclass(frozen=True)
class Distribution:
    """An ECTS grading table: share of passing grades per grade, best grade first."""

    scale: str
    rows: tuple[tuple[str, Decimal], ...]
    reference_group: str = "default"


@dataclass(frozen=True)
class ConversionTable:
    """An explicit grade-to-grade table; it overrides every method. `authority` says whose it
    is ({"kind": "institution", "id": 42}, {"kind": "ministry", "country": "DE"} or
    {"kind": "registry"}), `citation` what it rests on."""

    code: str
    source: str
    target: str
    rows: tuple[tuple[str, str], ...]
    citation: str = ""
    authority: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "authority", MappingProxyType(dict(self.authority)))

    def reference(self) -> dict[str, Any]:
        """The table as an answer names it."""
        return {"code": self.code, "authority": dict(self.authority), "citation": self.citation}


def authority_name(authority: Mapping[str, Any]) -> str:
    """Whose a table is, in a sentence: "institution 42", "the ministry of DE", "the registry"."""
    if authority.get("kind") == "institution":
        return f"institution {authority.get('id')}"
    if authority.get("kind") == "ministry":
        return f"the ministry of {authority.get('country')}"
    return "the registry"


@dataclass(frozen=True)
class GradeConversion:
    """`raw` is the unrounded number behind `value`: a grade, a band rank or an equivalent mark.
    `basis` says what the value rests on; `table` is the conversion table used, if any."""

    value: str
    raw: Decimal
    scale: str
    passed: bool
    method: str
    steps: tuple[str, ...]
    basis: str = ""
    table: ConversionTable | None = None

    def as_dict(self) -> dict:
        """The API form; `raw` with 4 places, half up."""
        return {
            "value": self.value,
            "raw": str(self.raw.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)),
            "scale": self.scale,
            "passed": self.passed,
            "method": self.method,
            "basis": self.basis,
            "table": self.table.reference() if self.table else None,
            "steps": list(self.steps),
        }


_NO_SCALES: Mapping[str, ScaleSpec] = MappingProxyType({})


def convert_grade(
    value: str,
    source: ScaleSpec,
    target: ScaleSpec,
    *,
    method: str = "linear",
    pass_mark: Decimal | None = None,
    scales: Mapping[str, ScaleSpec] = _NO_SCALES,
    table: ConversionTable | None = None,
    source_distribution: Distribution | None = None,
    target_distribution: Distribution | None = None,
) -> GradeConversion:
    """Convert one grade of `source` onto `target`; an explicit `table` wins over `method`.

    `passed` is judged on the source grade against its (possibly overridden) pass mark: the
    holder's result is what recognition honours; the target side only restates it.
    `method="table"` is accepted alongside a table, since results report that method.
    """
    if method not in METHODS and not (method == "table" and table is not None):
        raise _invalid(
            "method",
            f"Unknown grade conversion method {method!r}; use one of {', '.join(METHODS)}"
            " or give a conversion table.",
        )
    _check_scale(source, "from")
    _check_scale(target, "to")
    with localcontext(_CONTEXT):
        if table is not None:
            _check_table(table, source, target)
        elif method == "distribution":
            _check_distributions(source, target, source_distribution, target_distribution)
        if not isinstance(value, str):
            raise _invalid("value", "Give the grade as text, e.g. '1,7' or '2:1'.")
        text = value.strip()
        grade = _read(text, source, "value")
        steps = []
        if text in source.special_values:
            steps.append(f"{text} counts as {source.special_values[text]} on {source.code}.")
        source_pass, passed = _judge(grade, source, pass_mark, steps)
        if table is not None:
            return _by_table(text, grade, passed, target, table, steps)
        if method == "distribution":
            return _by_distribution(
                text, grade, passed, source, target, source_distribution, target_distribution, steps
            )
        return _by_linear(grade, source_pass, passed, source, target, scales, steps)


def _judge(
    grade: Decimal | Band, source: ScaleSpec, pass_mark: Decimal | None, steps: list[str]
) -> tuple[Decimal | None, bool]:
    """The source pass mark in force and whether the grade reaches it."""
    if isinstance(grade, Band):
        if pass_mark is not None:
            raise _invalid(
                "pass",
                f"{source.code} is ordinal: its bands say which grades pass, so no pass mark"
                " can be set.",
            )
        steps.append(
            f"{grade.code} is a {'passing' if grade.passing else 'failing'} grade on {source.code}."
        )
        return None, grade.passing
    source_pass = source.pass_mark
    if pass_mark is not None:
        low, high = _range(source)
        if (
            not isinstance(pass_mark, Decimal)
            or not pass_mark.is_finite()
            or not low <= pass_mark <= high
            or pass_mark == source.best
        ):
            raise _invalid(
                "pass",
                f"The pass mark must be a Decimal from {low} to {high} on {source.code},"
                f" other than the best grade {source.best}.",
            )
        steps.append(f"Pass mark {pass_mark} used instead of {source.code}'s {source.pass_mark}.")
        source_pass = pass_mark
    passed = grade >= source_pass if _ascending(source) else grade <= source_pass
    steps.append(
        f"{grade} {'passes' if passed else 'fails'} on {source.code} (pass mark {source_pass})."
    )
    return source_pass, passed


def _by_linear(
    grade: Decimal | Band,
    source_pass: Decimal | None,
    passed: bool,
    source: ScaleSpec,
    target: ScaleSpec,
    scales: Mapping[str, ScaleSpec],
    steps: list[str],
) -> GradeConversion:
    """Two anchors (best, pass) per scale; ordinal scales go through their equivalent scale."""
    if isinstance(grade, Band):
        if grade.equivalent_scale is None:
            raise _invalid(
                "method",
                f"{source.code} {grade.code} has no equivalent numeric scale; convert it with a"
                " distribution (grading tables) or an explicit conversion table.",
            )
        start = _equivalent(scales, grade.equivalent_scale, "from")
        x = _worse_end(grade, source, start)
        steps.append(
            f"{source.code} {grade.code} is read as {x} on {start.code}, the worse end of the"
            " band: the holder reached at least that mark."
        )
        limit = "lower" if _ascending(start) else "upper"
        basis = (
            f"{source.code} {grade.code} read at the {limit} limit of its band on {start.code}"
            f" ({x}), the mark the holder reached at least, then {LINEAR_BASIS}"
        )
        source_pass = start.pass_mark
    else:
        start, x = source, grade
        basis = LINEAR_BASIS
    onto = target
    if target.kind == "ordinal":
        onto = _equivalent(scales, _common_equivalent(target), "to")
    # Multiply before the one division, so a terminating result is exact (truncation needs it).
    y = onto.pass_mark + (onto.best - onto.pass_mark) * (x - source_pass) / (
        start.best - source_pass
    )
    steps.append(
        "Linear formula (modified Bavarian, two anchors):"
        " y = T_pass + (T_best − T_pass) × (x − S_pass) / (S_best − S_pass)"
        f" = {onto.pass_mark} + ({onto.best} − {onto.pass_mark}) × ({x} − {source_pass})"
        f" / ({start.best} − {source_pass}) = {_plain(y)} on {onto.code}."
    )
    low, high = _range(onto)
    raw = min(max(y, low), high)
    if raw != y:
        end = "best" if raw == onto.best else "worst"
        steps.append(f"Clamped to {raw}, the {end} grade on {onto.code}.")
    if target.kind == "ordinal":
        band = _band_containing(raw, target, onto)
        steps.append(f"{_plain(raw)} on {onto.code} falls in {target.code} band {band.code}.")
        value = band.code
    else:
        value = _show(raw, target)
        how = "truncated" if target.rounding == "truncate" else "rounded half up"
        places = "place" if target.decimals == 1 else "places"
        steps.append(f"Shown with {target.decimals} decimal {places}, {how}: {value}.")
    return GradeConversion(value, raw, target.code, passed, "linear", tuple(steps), basis)


def _by_distribution(
    text: str,
    grade: Decimal | Band,
    passed: bool,
    source: ScaleSpec,
    target: ScaleSpec,
    source_table: Distribution,
    target_table: Distribution,
    steps: list[str],
) -> GradeConversion:
    """Percentile method: the target grade whose band holds the midpoint of the source band.

    Shares are taken relative to each table's total, so published tables that sum to 99.9
    still line up; comparisons cross-multiply, so boundaries are found exactly.
    """
    if not passed:
        value, raw = _failing(target)
        steps.append(
            f"Grading tables cover passing grades only, so the grade stays a fail: {value} on"
            f" {target.code}."
        )
        basis = "a fail stays a fail: grading tables cover passing grades only"
        return GradeConversion(value, raw, target.code, False, "distribution", tuple(steps), basis)
    index = _find_row(text, grade, source_table.rows)
    if index is None:
        listed = ", ".join(row[0].strip() for row in source_table.rows)
        raise _invalid(
            "value",
            f"{text!r} is not listed in the {source.code} grading table"
            f" ({source_table.reference_group}): {listed}.",
        )
    source_cum = _cumulative(source_table)
    source_total = source_cum[-1]
    before, after = source_cum[index], source_cum[index + 1]
    middle = (before + after) / 2
    steps.append(
        f"{source.code} {source_table.rows[index][0].strip()} covers"
        f" {_percent(before, source_total)}-{_percent(after, source_total)} % of passing grades in"
        f" its grading table ({source_table.reference_group});"
        f" midpoint {_percent(middle, source_total)} %."
    )
    target_cum = _cumulative(target_table)
    target_total = target_cum[-1]
    scaled = middle * target_total
    # Best first, so a midpoint on a boundary goes to the better grade.
    chosen = next(
        k
        for k in range(len(target_table.rows))
        if target_cum[k] * source_total <= scaled <= target_cum[k + 1] * source_total
    )
    result = target_table.rows[chosen][0].strip()
    boundary = ""
    if scaled == target_cum[chosen + 1] * source_total and chosen + 1 < len(target_table.rows):
        boundary = "; the midpoint is on a boundary, so the better grade is taken"
    steps.append(
        f"{target.code} {result} covers {_percent(target_cum[chosen], target_total)}-"
        f"{_percent(target_cum[chosen + 1], target_total)} % in its grading table"
        f" ({target_table.reference_group}), which holds the midpoint{boundary}."
    )
    converted = _read(result, target, "to")
    raw = converted if isinstance(converted, Decimal) else _rank(converted, target)
    basis = (
        f"the percentile method on the grading tables of {source.code} and {target.code}"
        f" (reference group {target_table.reference_group})"
    )
    return GradeConversion(result, raw, target.code, True, "distribution", tuple(steps), basis)


def _by_table(
    text: str,
    grade: Decimal | Band,
    passed: bool,
    target: ScaleSpec,
    table: ConversionTable,
    steps: list[str],
) -> GradeConversion:
    index = _find_row(text, grade, table.rows)
    if index is None:
        raise _invalid("value", f"{text!r} is not in conversion table {table.code}.")
    given, result = (grade_text.strip() for grade_text in table.rows[index])
    converted = _read(result, target, "table")
    raw = converted if isinstance(converted, Decimal) else _rank(converted, target)
    steps.append(
        f"Conversion table {table.code} maps {table.source} {given} to {table.target} {result}."
    )
    basis = f"conversion table {table.code} of {authority_name(table.authority)}" + (
        f" ({table.citation})" if table.citation else ""
    )
    return GradeConversion(result, raw, target.code, passed, "table", tuple(steps), basis, table)


def read_grade(text: str, scale: ScaleSpec) -> Decimal | Band:
    """Check that `text` is a grade of `scale` (InvalidData on "value"), whether or not it can
    be converted anywhere."""
    return _read(text, scale, "value")


def _read(text: str, scale: ScaleSpec, field: str) -> Decimal | Band:
    """A grade of `scale`: a special value first (30L -> 30), then a number or a band code."""
    token = scale.special_values.get(text, text)
    if scale.kind == "ordinal":
        for band in scale.bands:
            if band.code == token:
                return band
        codes = ", ".join(band.code for band in scale.bands)
        raise _invalid(field, f"{text!r} is not a grade on {scale.code}; use one of {codes}.")
    low, high = _range(scale)
    if _NUMBER.fullmatch(token):
        number = _number(token)
        if low <= number <= high:
            return number
    specials = f" or one of {', '.join(scale.special_values)}" if scale.special_values else ""
    raise _invalid(
        field,
        f"{text!r} is not a grade on {scale.code}: give a number from {low} to {high}{specials}.",
    )


def _find_row(text: str, grade: Decimal | Band, rows: tuple[tuple[str, ...], ...]) -> int | None:
    """Index of a grade's row: the same text first, then the same number or band code."""
    listed = [row[0].strip() for row in rows]
    if text in listed:
        return listed.index(text)
    for index, entry in enumerate(listed):
        if isinstance(grade, Band):
            if entry == grade.code:
                return index
        elif _NUMBER.fullmatch(entry) and _number(entry) == grade:
            return index
    return None


def _worse_end(band: Band, scale: ScaleSpec, equivalent: ScaleSpec) -> Decimal:
    """The band's limit at the worse end of its equivalent scale: `low` unless lower is better."""
    ascending = _ascending(equivalent)
    bound = band.low if ascending else band.high
    if bound is None:
        side = "lower" if ascending else "upper"
        raise _invalid(
            "from", f"{scale.code} {band.code} gives no {side} limit on {equivalent.code}."
        )
    return bound


def _band_containing(number: Decimal, scale: ScaleSpec, equivalent: ScaleSpec) -> Band:
    """Worse limit inclusive, better limit exclusive, except for the best band; open if unset."""
    ascending = _ascending(equivalent)
    for index, band in enumerate(scale.bands):
        worse, better = (band.low, band.high) if ascending else (band.high, band.low)
        reached = worse is None or (number >= worse if ascending else number <= worse)
        below = (
            better is None
            or (number < better if ascending else number > better)
            or (index == 0 and number == better)
        )
        if reached and below:
            return band
    raise _invalid("to", f"No band of {scale.code} covers {_plain(number)} on {equivalent.code}.")


def _common_equivalent(scale: ScaleSpec) -> str:
    codes = {band.equivalent_scale for band in scale.bands}
    if len(codes) != 1 or None in codes:
        raise _invalid(
            "method",
            f"The bands of {scale.code} share no equivalent numeric scale; convert onto it with a"
            " distribution (grading tables) or an explicit conversion table.",
        )
    (code,) = codes
    return code


def _equivalent(scales: Mapping[str, ScaleSpec], code: str, field: str) -> ScaleSpec:
    spec = scales.get(code)
    if spec is None:
        raise _invalid(field, f"Equivalent scale {code} is not supplied; pass it in `scales`.")
    _check_scale(spec, field)
    if spec.kind != "numeric":
        raise _invalid(field, f"Equivalent scale {code} must be numeric.")
    return spec


def _failing(scale: ScaleSpec) -> tuple[str, Decimal]:
    """The target's fail: its worst grade, or its first non-passing band."""
    if scale.kind == "numeric":
        return _show(scale.worst, scale), scale.worst
    for band in scale.bands:
        if not band.passing:
            return band.code, _rank(band, scale)
    raise _invalid("to", f"{scale.code} has no failing band to receive a failing grade.")


def _check_scale(scale: ScaleSpec, field: str) -> None:
    problems = []
    if scale.kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}")
    if scale.rounding not in ROUNDINGS:
        problems.append(f"rounding must be one of {', '.join(ROUNDINGS)}")
    if not isinstance(scale.decimals, int) or scale.decimals < 0:
        problems.append("decimals must be a whole number of at least 0")
    if scale.kind == "numeric":
        anchors = (scale.best, scale.worst, scale.pass_mark)
        if not all(isinstance(a, Decimal) and a.is_finite() for a in anchors):
            problems.append("best, worst and pass_mark must be finite Decimals")
        elif scale.best == scale.worst:
            problems.append("best and worst must differ")
        elif not min(scale.best, scale.worst) <= scale.pass_mark <= max(scale.best, scale.worst):
            problems.append("pass_mark must lie between best and worst")
        elif scale.pass_mark == scale.best:
            problems.append("pass_mark must differ from best")
    elif scale.kind == "ordinal":
        codes = [band.code for band in scale.bands]
        if not codes or len(set(codes)) != len(codes):
            problems.append("an ordinal scale needs bands with distinct codes")
    if problems:
        raise InvalidData(
            f"Grading scale {scale.code} is not usable: {'; '.join(problems)}.",
            errors={field: problems},
        )


def _check_table(table: ConversionTable, source: ScaleSpec, target: ScaleSpec) -> None:
    if (table.source, table.target) != (source.code, target.code):
        raise _invalid(
            "table",
            f"Table {table.code} converts {table.source} to {table.target},"
            f" not {source.code} to {target.code}.",
        )


def _check_distributions(
    source: ScaleSpec,
    target: ScaleSpec,
    source_table: Distribution | None,
    target_table: Distribution | None,
) -> None:
    sides = (("source", source, source_table), ("target", target, target_table))
    missing = [f"{side} scale {scale.code}" for side, scale, table in sides if table is None]
    if missing:
        raise _invalid(
            "method",
            f"The distribution method needs a grading table for the {' and the '.join(missing)}.",
        )
    for field_name, scale, table in (("from", source, source_table), ("to", target, target_table)):
        if table.scale != scale.code:
            raise _invalid(
                field_name, f"The grading table of {table.scale} does not belong to {scale.code}."
            )
        for grade_text, share in table.rows:
            _read(grade_text.strip(), scale, field_name)
            if not isinstance(share, Decimal) or not share.is_finite() or share < 0:
                raise _invalid(
                    field_name,
                    f"Grading table of {scale.code}, grade {grade_text}: the share must be a"
                    " Decimal of at least 0.",
                )
        if not table.rows or sum(share for _, share in table.rows) <= 0:
            raise _invalid(field_name, f"The grading table of {scale.code} lists no grades.")


def _cumulative(table: Distribution) -> list[Decimal]:
    """Running totals from the top, starting at 0: row i spans [cum[i], cum[i + 1]]."""
    totals = [Decimal(0)]
    for _, share in table.rows:
        totals.append(totals[-1] + share)
    return totals


def _rank(band: Band, scale: ScaleSpec) -> Decimal:
    """1 for the best band."""
    return Decimal(scale.bands.index(band) + 1)


def _ascending(scale: ScaleSpec) -> bool:
    return scale.best > scale.worst


def _range(scale: ScaleSpec) -> tuple[Decimal, Decimal]:
    return min(scale.best, scale.worst), max(scale.best, scale.worst)


def _number(token: str) -> Decimal:
    return Decimal(token.replace(",", "."))


def _show(number: Decimal, scale: ScaleSpec) -> str:
    places = Decimal(1).scaleb(-scale.decimals)
    return str(number.quantize(places, rounding=ROUNDINGS[scale.rounding]))


def _percent(part: Decimal, total: Decimal) -> str:
    return _plain(part * 100 / total)


def _plain(number: Decimal) -> str:
    """4 places, half up, without trailing zeros, for the sentences in `steps`."""
    return format(number.quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP).normalize(), "f")


def _invalid(field: str, detail: str) -> InvalidData:
    return InvalidData(detail, errors={field: [detail]})
