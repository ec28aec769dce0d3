"""The level graph: equivalences between frameworks found by path search over level links.

Pure: it takes plain edges and answers plain values; the service builds the edges from the
database (only the framework versions and links in force) and caches the graph.

A level whose framework version is no longer in force answers through the correspondence its
successor's legal text keeps (a succession edge: FR-CNCP-1969:III -> FR-CNCP:5 by décret
n° 2019-14), as the first step of every path, with a note saying so; with none it answers
`not_in_force`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

INVERSE = {
    "exactMatch": "exactMatch",
    "closeMatch": "closeMatch",
    "relatedMatch": "relatedMatch",
    "broadMatch": "narrowMatch",
    "narrowMatch": "broadMatch",
}

# How much one step of each relation keeps of the confidence. A broad or narrow step means the
# two levels are not the same size, so the holder may sit anywhere in the wider one.
RELATION_WEIGHT = {
    "exactMatch": Decimal("1"),
    "closeMatch": Decimal("0.9"),
    "broadMatch": Decimal("0.8"),
    "narrowMatch": Decimal("0.8"),
    "relatedMatch": Decimal("0.5"),
}

# A joint technical comparison "gives no legal effect" (unlike an accepted referencing report),
# and a registry decision is the registry's own reading: both weigh a little less. A country's
# own legal text placing its levels (ES-MECES -> EQF by Real Decreto 22/2015; the French 1969
# levels -> 2019 framework by décret n° 2019-14) binds in that country but has not been
# reviewed by the EQF Advisory Group against the referencing criteria, as an accepted
# referencing has: it sits between the two.
BASIS_WEIGHT = {
    "referencing": Decimal("1"),
    "agreement": Decimal("1"),
    "legislation": Decimal("0.95"),
    "comparison": Decimal("0.9"),
    "decision": Decimal("0.9"),
}

# A step whose result the registry read only in a secondary source (a third party's summary of
# the cited report, as for AU-AQF -> EQF) keeps 0.8, as a broad or narrow step does: a summary
# may simplify the report (the AU-EU one says only "levels up to 4 similar" below AQF 7), so
# the level is known only approximately until the report itself is read.
SECONDARY_WEIGHT = Decimal("0.8")

MAX_STEPS = 4


def compose(first: str, second: str) -> str:
    """The relation of a two-step path: exact is neutral; broad then narrow says only 'related'."""
    if first == "exactMatch":
        return second
    if second == "exactMatch":
        return first
    if "relatedMatch" in (first, second):
        return "relatedMatch"
    if first == "closeMatch":
        return second
    if second == "closeMatch" or first == second:
        return first
    return "relatedMatch"


def framework_of(ref: str) -> str:
    return ref.rsplit(":", 1)[0]


Window = tuple[dt.date | None, dt.date | None]


def in_window(window: Window, day: dt.date) -> bool:
    return (window[0] is None or window[0] <= day) and (window[1] is None or day < window[1])


@dataclass(frozen=True)
class Edge:
    """A published level link, as stored: source -> target. A succession edge runs from a level
    of a superseded framework to a level replacing it; the graph follows it only from a source
    no longer in force."""

    source: str
    target: str
    relation: str
    basis: str
    citation: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    secondary_source: str | None = None
    succession: bool = False

    def valid_on(self, day: dt.date) -> bool:
        return in_window((self.valid_from, self.valid_to), day)

    def step(self, inverse: bool = False) -> Step:
        source, target, relation = (
            (self.target, self.source, INVERSE[self.relation])
            if inverse
            else (self.source, self.target, self.relation)
        )
        return Step(
            source,
            target,
            relation,
            self.basis,
            self.citation,
            inverse,
            self.secondary_source,
            self.succession,
        )


@dataclass(frozen=True)
class Step:
    """One step of a path in the direction travelled; `inverse` when it runs a link backwards.
    `secondary_source` names where the result was read when its citation could not be."""

    source: str
    target: str
    relation: str
    basis: str
    citation: str
    inverse: bool
    secondary_source: str | None = None
    succession: bool = False


@dataclass(frozen=True)
class Match:
    level: str
    relation: str
    confidence: Decimal
    path: tuple[Step, ...]

    @property
    def secondary(self) -> bool:
        """Whether a step of the path rests on a secondary source."""
        return any(step.secondary_source for step in self.path)


@dataclass(frozen=True)
class Superseded:
    """A source level no longer in force, answered through the levels replacing it."""

    level: str
    successors: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Equivalents:
    source: str
    target_framework: str
    on: dt.date
    matches: tuple[Match, ...]
    reason: str | None = None
    superseded: Superseded | None = None


@dataclass
class LevelGraph:
    """All links between levels, searchable in both directions.

    `meta_frameworks` are the only frameworks a path may pass through: a path through another
    national framework would be a derived comparison nobody published. `no_eqf_reasons` says why
    a level has no counterpart on purpose (`below_eqf_1`, `unlevelled`); `ordinals` orders ties.
    `level_windows` says when each level is in force (a level absent from it always is).
    """

    edges: list[Edge]
    meta_frameworks: frozenset[str] = frozenset()
    no_eqf_reasons: dict[str, str] = field(default_factory=dict)
    ordinals: dict[str, int] = field(default_factory=dict)
    level_windows: dict[str, tuple[Window, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._steps: dict[str, list[tuple[Step, Edge]]] = defaultdict(list)
        self._successions: dict[str, list[Edge]] = defaultdict(list)
        for edge in self.edges:
            if edge.succession:
                # Never part of a search: only the first step from a superseded level.
                self._successions[edge.source].append(edge)
                continue
            self._steps[edge.source].append((edge.step(), edge))
            self._steps[edge.target].append((edge.step(inverse=True), edge))

    def steps_from(self, ref: str, on: dt.date) -> list[Step]:
        return [step for step, edge in self._steps.get(ref, ()) if edge.valid_on(on)]

    def in_force(self, ref: str, on: dt.date) -> bool:
        windows = self.level_windows.get(ref)
        return windows is None or any(in_window(window, on) for window in windows)

    def equivalents(self, source: str, target_framework: str, on: dt.date) -> Equivalents:
        """Levels of `target_framework` equivalent to `source` on `on`, best first.

        A direct link (an agreement or comparison between the two frameworks) answers alone when
        there is one; otherwise paths through meta-frameworks. No path: no matches and a reason.
        A source no longer in force answers through its successors (`superseded` says so), or
        with the reason `not_in_force` when it has none.
        """
        if not self.in_force(source, on):
            return self._through_successors(source, target_framework, on)
        return self._search(source, target_framework, on)

    def _through_successors(self, source: str, target_framework: str, on: dt.date) -> Equivalents:
        firsts = [edge.step() for edge in self._successions.get(source, ()) if edge.valid_on(on)]
        if not firsts or framework_of(source) == target_framework:
            return Equivalents(source, target_framework, on, (), "not_in_force")
        matches, reasons = [], []
        for first in firsts:
            answer = self._search(first.target, target_framework, on)
            matches += [self._match((first, *match.path)) for match in answer.matches]
            reasons.append(answer.reason)
        ordered = self._best(matches)
        successors = tuple(first.target for first in firsts)
        note = (
            f"{source} belongs to a superseded nomenclature, not in force on {on}: it is "
            f"answered through the level{'s' if len(successors) > 1 else ''} replacing it, "
            f"{' or '.join(successors)}, as its successor's legal text maps it (the first step "
            "of each path cites it)."
        )
        reason = None if ordered else next((r for r in reasons if r), "no_counterpart")
        return Equivalents(
            source, target_framework, on, ordered, reason, Superseded(source, successors, note)
        )

    def _search(self, source: str, target_framework: str, on: dt.date) -> Equivalents:
        if framework_of(source) == target_framework:
            itself = Match(source, "exactMatch", Decimal("1"), ())
            return Equivalents(source, target_framework, on, (itself,))
        direct = [
            self._match((step,))
            for step in self.steps_from(source, on)
            if framework_of(step.target) == target_framework
        ]
        matches = direct or self._through_meta(source, target_framework, on)
        ordered = self._best(matches)
        reason = None if ordered else self.no_eqf_reasons.get(source, "no_counterpart")
        return Equivalents(source, target_framework, on, ordered, reason)

    def _best(self, matches: list[Match]) -> tuple[Match, ...]:
        """The best match per level, best first."""
        best: dict[str, Match] = {}
        for match in matches:
            known = best.get(match.level)
            if known is None or (match.confidence, -len(match.path)) > (
                known.confidence,
                -len(known.path),
            ):
                best[match.level] = match
        return tuple(
            sorted(
                best.values(),
                key=lambda m: (-m.confidence, len(m.path), self.ordinals.get(m.level, 0), m.level),
            )
        )

    def _through_meta(self, source: str, target_framework: str, on: dt.date) -> list[Match]:
        found: list[Match] = []
        frontier: list[tuple[Step, ...]] = [()]
        for _ in range(MAX_STEPS):
            next_frontier = []
            for path in frontier:
                here = path[-1].target if path else source
                visited = {source, *(step.target for step in path)}
                for step in self.steps_from(here, on):
                    if step.target in visited:
                        continue
                    framework = framework_of(step.target)
                    if framework == target_framework:
                        found.append(self._match((*path, step)))
                    elif framework in self.meta_frameworks:
                        next_frontier.append((*path, step))
            if found:
                break
            frontier = next_frontier
        return found

    @staticmethod
    def _match(path: tuple[Step, ...]) -> Match:
        relation = "exactMatch"
        confidence = Decimal("1")
        for step in path:
            relation = compose(relation, step.relation)
            confidence *= RELATION_WEIGHT[step.relation] * BASIS_WEIGHT[step.basis]
            if step.secondary_source:
                confidence *= SECONDARY_WEIGHT
        return Match(path[-1].target, relation, confidence.quantize(Decimal("0.001")), path)
