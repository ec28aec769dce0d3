"""Equivalences and conversions over the registry's data: the pure cores fed from the database."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from decimal import Decimal

from sqlalchemy.orm import Session

from frameworks import services as frameworks
from frameworks.models import FrameworkVersion, GradingScale
from mappings.credits import CreditRule, CreditSystemSpec, convert_credits
from mappings.grades import (
    Band,
    ConversionTable,
    Distribution,
    GradeConversion,
    ScaleSpec,
    convert_grade,
)
from mappings.graph import Edge, Equivalents, LevelGraph, Window

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
    publication), nor does a version a later one of its framework covers whole (its corrected
    republication: frameworks.services.load_framework), as version_on reads it too."""
    released = [v for v in versions if v.status in ("published", "superseded")]
    return {
        version.id: (version.valid_from, version.valid_to)
        for version in released
        if not any(
            later.framework_id == version.framework_id
            and later.id > version.id
            and later.covers(version)
            for later in released
        )
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
            system.code, system.hours_low, system.hours_high, system.per_year
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
) -> GradeConversion:
    """Convert a grade; an explicit table (by code) overrides the method."""
    source_scale = frameworks.get_grading_scale(session, source, "from")
    target_scale = frameworks.get_grading_scale(session, target, "to")
    scales = {scale.code: scale_spec(scale) for scale in frameworks.list_grading_scales(session)}
    explicit = None
    if table:
        row = frameworks.get_conversion_table(session, table)
        explicit = ConversionTable(
            row.code,
            row.source_scale,
            row.target_scale,
            tuple((item["from"], item["to"]) for item in row.rows),
        )
    return convert_grade(
        value,
        scales[source_scale.code],
        scales[target_scale.code],
        method=method,
        pass_mark=pass_mark,
        scales=scales,
        table=explicit,
        source_distribution=_distribution(session, source, reference_group),
        target_distribution=_distribution(session, target, reference_group),
    )
