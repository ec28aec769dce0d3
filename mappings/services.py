"""Equivalences and conversions over the registry's data: the pure cores fed from the database,
with the conversion table that applies chosen here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameworks import services as frameworks
from frameworks.models import ANSWERING, FrameworkVersion, GradeConversionTable, GradingScale
from mappings.credits import CreditRule, CreditSystemSpec, convert_credits
from mappings.grades import (
    Band,
    ConversionTable,
    Distribution,
    GradeConversion,
    ScaleSpec,
    authority_name,
    convert_grade,
)
from mappings.graph import Edge, Equivalents, LevelGraph, Window
from mappings.level_search import FrameworkEntry, LevelEntry
from registry.core.errors import InvalidData, NotFound
from registry.institutions.models import Institution

_graph_cache: dict[str, tuple[str, LevelGraph]] = {}
_graph_lock = threading.Lock()


def _intersect(first: Window, second: Window) -> Window | None:
    starts = [day for day in (first[0], second[0]) if day is not None]
    ends = [day for day in (first[1], second[1]) if day is not None]
    window = (max(starts) if starts else None, min(ends) if ends else None)
    if window[0] is not None and window[1] is not None and window[0] >= window[1]:
        return None
    return window


def published_windows(versions: list[FrameworkVersion]) -> dict[int, Window]:
    """When each version answers: drafts never do (the impact report simulates their
    publication), nor versions a correction set aside."""
    return {
        version.id: (version.valid_from, version.valid_to)
        for version in versions
        if version.status in ANSWERING
    }


def build_graph(versions: list[FrameworkVersion], windows: dict[int, Window]) -> LevelGraph:
    """The graph of every link whose owner version has a window, one edge per window in which
    the owner version and both levels (by reference) are in force together. A succession link
    starts at a level no longer in force when it applies: its edge needs only the owner version
    and the replacing level in force."""
    level_windows: dict[str, list[Window]] = defaultdict(list)
    no_eqf_reasons: dict[str, str] = {}
    ordinals: dict[str, int] = {}
    meta = set()
    for version in versions:
        if version.id not in windows:
            continue
        code = version.framework.code
        if version.framework.is_meta:
            meta.add(code)
        for level in version.levels:
            ref = f"{code}:{level.code}"
            level_windows[ref].append(windows[version.id])
            ordinals[ref] = level.ordinal
            if level.no_eqf_reason:
                no_eqf_reasons[ref] = level.no_eqf_reason
    edges = []
    for version in versions:
        if version.id not in windows:
            continue
        for link in version.links:
            source, target = link.source.ref, link.target.ref
            own = _intersect(windows[version.id], (link.valid_from, link.valid_to))
            source_windows = [(None, None)] if link.succession else level_windows.get(source, ())
            for source_window in source_windows:
                for target_window in level_windows.get(target, ()):
                    window = own and _intersect(own, source_window)
                    window = window and _intersect(window, target_window)
                    if window:
                        edges.append(
                            Edge(
                                source,
                                target,
                                link.relation,
                                link.basis,
                                link.citation,
                                *window,
                                secondary_source=link.secondary_source,
                                succession=link.succession,
                            )
                        )
    windows_by_level = {ref: tuple(found) for ref, found in level_windows.items()}
    return LevelGraph(edges, frozenset(meta), no_eqf_reasons, ordinals, windows_by_level)


def level_graph(session: Session) -> LevelGraph:
    """The process's cached graph, rebuilt when a write renewed the generation token."""
    key = str(session.get_bind().engine.url)
    generation = frameworks.graph_generation(session)
    cached = _graph_cache.get(key)
    if cached and cached[0] == generation:
        return cached[1]
    with _graph_lock:
        versions = frameworks.all_versions(session)
        graph = build_graph(versions, published_windows(versions))
        _graph_cache[key] = (generation, graph)
    return graph


def equivalents(
    session: Session, level: str, target: str, on: dt.date | None = None
) -> Equivalents:
    """Equivalents of `level` in framework `target` on `on` (default today).

    Unknown framework: NotFound. Malformed reference or a level the framework lacks:
    InvalidData. A level whose framework version was not in force on the date answers through
    the levels its successor's legal text maps it to (`superseded` says so), else no matches
    with the reason `not_in_force`.
    """
    on = on or dt.date.today()
    frameworks.get_framework(session, target)
    resolved = frameworks.resolve_level(session, level, on)
    answer = level_graph(session).equivalents(resolved.ref, target, on)
    if not resolved.in_force and not answer.superseded:
        # Out of force in the registry's versions even where the graph holds no window for it.
        return Equivalents(resolved.ref, target, on, (), "not_in_force")
    return answer


def search_entries(session: Session, on: dt.date | None = None) -> list[FrameworkEntry]:
    """Every framework as `mappings.level_search` reads it, with the levels of its version in
    force on `on` (default today), else of its latest released one; drafts never count."""
    on = on or dt.date.today()
    entries = []
    for framework in frameworks.list_frameworks(session):
        in_force = frameworks.version_on(framework, on)
        version = in_force or frameworks.version_on(framework)
        if version is None:
            continue
        levels = tuple(
            LevelEntry(level.code, level.title, tuple(level.aliases or ()))
            for level in version.levels
        )
        entries.append(
            FrameworkEntry(
                framework.code, framework.name, framework.country, in_force is not None, levels
            )
        )
    return entries


def level_titles(session: Session, refs: Iterable[str], on: dt.date) -> dict[str, str]:
    """The title of each level reference on `on`, as `resolve_level` finds it (its version in
    force, else the latest that has it); a reference it cannot resolve is left out."""
    titles = {}
    for ref in set(refs):
        try:
            titles[ref] = frameworks.resolve_level(session, ref, on).level.title
        except (InvalidData, NotFound):
            continue
    return titles


def credits(
    session: Session,
    value: Decimal,
    source: str,
    target: str,
    method: str = "annual_load",
    rule: str | None = None,
):
    """Convert a credit volume; an explicit rule (by code) overrides the method."""
    spec = {}
    for field, code in (("from", source), ("to", target)):
        system = frameworks.get_credit_system(session, code, field)
        spec[field] = CreditSystemSpec(
            system.code,
            system.hours_low,
            system.hours_high,
            system.per_year,
            system.annual_load_convention,
        )
    explicit = None
    if rule:
        row = frameworks.get_credit_rule(session, rule)
        explicit = CreditRule(
            row.code, row.source_system, row.target_system, row.factor, row.citation
        )
    return convert_credits(value, spec["from"], spec["to"], method=method, rule=explicit)


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _band(band: dict) -> Band:
    # An ordinal band's bounds live on its equivalent scale (GB-HONS 2:1 = 60-70 on GB-PCT).
    equivalent = band.get("equivalent")
    bounds = equivalent or band
    return Band(
        code=band["code"],
        passing=band["passing"],
        low=_decimal(bounds.get("low")),
        high=_decimal(bounds.get("high")),
        equivalent_scale=equivalent["scale"] if equivalent else None,
        label=band.get("label"),
    )


def scale_spec(scale: GradingScale) -> ScaleSpec:
    return ScaleSpec(
        code=scale.code,
        kind=scale.kind,
        best=scale.best,
        worst=scale.worst,
        pass_mark=scale.pass_mark,
        decimals=scale.decimals,
        rounding=scale.rounding,
        bands=tuple(_band(band) for band in scale.bands or ()),
        special_values=dict(scale.special_values or {}),
    )


def _distribution(session: Session, scale: str, group: str) -> Distribution | None:
    row = frameworks.get_distribution(session, scale, group)
    if row is None:
        return None
    rows = tuple((item["grade"], Decimal(item["percent"])) for item in row.rows)
    return Distribution(row.scale_code, rows, row.reference_group)


def grades(
    session: Session,
    value: str,
    source: str,
    target: str,
    method: str = "linear",
    pass_mark: Decimal | None = None,
    table: str | None = None,
    reference_group: str = "default",
    institution: int | None = None,
    country: str | None = None,
) -> GradeConversion:
    """Convert a grade. A conversion table overrides the method: the one named (by code), else
    the one `institution` set for its own conversions, else the one the ministry of `country`
    set; the answer's basis says which, or why none applied. An unknown institution: InvalidData
    on "institution"."""
    source_scale = frameworks.get_grading_scale(session, source, "from")
    target_scale = frameworks.get_grading_scale(session, target, "to")
    if institution is not None and session.get(Institution, institution) is None:
        raise InvalidData(
            f"No institution {institution}.", errors={"institution": ["Unknown institution."]}
        )
    scales = {scale.code: scale_spec(scale) for scale in frameworks.list_grading_scales(session)}
    source_spec, target_spec = scales[source_scale.code], scales[target_scale.code]
    choice = choose_table(
        session,
        source_spec,
        target_spec,
        named=table,
        institutions=() if institution is None else (str(institution),),
        country=country,
    )
    result = convert_grade(
        value,
        source_spec,
        target_spec,
        method=method,
        pass_mark=pass_mark,
        scales=scales,
        table=choice.table,
        source_distribution=_distribution(session, source, reference_group),
        target_distribution=_distribution(session, target, reference_group),
    )
    return explain(result, choice)


# --- grades: which conversion table applies (mappings/grade_tables.py sets them) ---------------


@dataclass(frozen=True)
class Choice:
    """The table a conversion uses, and why; or None, and why no table applies ("" when no
    table could: a numeric source scale, nobody asked)."""

    table: ConversionTable | None
    why: str


def choose_table(
    session: Session,
    source: ScaleSpec,
    target: ScaleSpec,
    *,
    named: str | None = None,
    institutions: Iterable[str] = (),
    country: str | None = None,
) -> Choice:
    """A table named by its code first (unknown or withdrawn: InvalidData on "table"), then the
    deciding institution's own, then the ministry's of `country`; else none. Authorities set
    tables for ordinal scales only: a numeric source converts by its method, with no reason to
    give for it."""
    if named:
        row = frameworks.get_conversion_table(session, named)
        if row.withdrawn_at is not None:
            raise InvalidData(
                f"Conversion table {row.code} was withdrawn on {row.withdrawn_at:%Y-%m-%d}"
                f" ({row.withdrawn_reason}).",
                errors={"table": ["Withdrawn."]},
            )
        return Choice(table_spec(row), "named in the request")
    if source.kind != "ordinal":
        return Choice(None, "")
    deciding = sorted({str(ref) for ref in institutions})
    for ref in deciding:
        row = active_table(session, "institution", ref, source.code, target.code)
        if row is not None:
            return Choice(table_spec(row), "for its own conversions")
    if country:
        row = active_table(session, "ministry", country, source.code, target.code)
        if row is not None:
            return Choice(table_spec(row), f"for conversions in {country}")
    pair = f"{source.code} -> {target.code}"
    asked = [f"institution {ref}" for ref in deciding]
    if country:
        asked.append(f"the ministry of {country}")
    if len(asked) > 1:
        return Choice(
            None,
            f"neither {', '.join(asked[:-1])} nor {asked[-1]} has set a conversion table"
            f" for {pair}",
        )
    if asked:
        return Choice(None, f"{asked[0]} has set no conversion table for {pair}")
    count = session.scalar(
        select(func.count())
        .select_from(GradeConversionTable)
        .where(*_pair(source.code, target.code), GradeConversionTable.withdrawn_at.is_(None))
    )
    known = f"; {count} {'is' if count == 1 else 'are'} set for {pair}" if count else ""
    return Choice(
        None,
        f"no conversion table was asked for (give an institution, a country or a table{known})",
    )


def explain(result: GradeConversion, choice: Choice) -> GradeConversion:
    """The result with its basis saying which table was used and why, or why the default."""
    table = result.table
    if table is not None:
        basis = f"conversion table {table.code} of {authority_name(table.authority)}" + (
            f", {choice.why}" if choice.why else ""
        )
        basis += f" ({table.citation})" if table.citation else ""
    elif choice.why:
        basis = f"default, as {choice.why}: {result.basis}"
    else:
        return result
    return dataclasses.replace(result, basis=basis)


def active_table(
    session: Session, kind: str, ref: str, source: str, target: str
) -> GradeConversionTable | None:
    return session.scalar(
        select(GradeConversionTable).where(
            GradeConversionTable.authority_kind == kind,
            GradeConversionTable.authority_ref == ref,
            *_pair(source, target),
            GradeConversionTable.withdrawn_at.is_(None),
        )
    )


def _pair(source: str, target: str) -> tuple:
    return (
        GradeConversionTable.source_scale == source,
        GradeConversionTable.target_scale == target,
    )


def table_spec(row: GradeConversionTable) -> ConversionTable:
    return ConversionTable(
        row.code,
        row.source_scale,
        row.target_scale,
        tuple((item["from"], item["to"]) for item in row.rows),
        citation=row.citation,
        authority=authority_of(row),
    )


def authority_of(row: GradeConversionTable) -> dict[str, Any]:
    if row.authority_kind == "ministry":
        return {"kind": "ministry", "country": row.authority_ref}
    if row.authority_kind == "institution":
        return {"kind": "institution", "id": int(row.authority_ref)}
    return {"kind": "registry"}
