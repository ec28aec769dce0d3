"""The level graph: equivalences between frameworks found by path search over level links.

Pure: it takes plain edges and answers plain values; the service builds the edges from the
database (only the framework versions and links in force) and caches the graph.
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
# and a registry decision is the registry's own reading: both weigh a little less.
BASIS_WEIGHT = {
    "referencing": Decimal("1"),
    "agreement": Decimal("1"),
    "comparison": Decimal("0.9"),
    "decision": Decimal("0.9"),
}

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


@dataclass(frozen=True)
class Edge:
    """A published level link, as stored: source -> target."""

    source: str
    target: str
    relation: str
    basis: str
    citation: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


@dataclass(frozen=True)
class Step:
    """One step of a path in the direction travelled; `inverse` when it runs a link backwards."""

    source: str
    target: str
    relation: str
    basis: str
    citation: str
    inverse: bool


@dataclass(frozen=True)
class Match:
    level: str
    relation: str
    confidence: Decimal
    path: tuple[Step, ...]


@dataclass(frozen=True)
class Equivalents:
    source: str
    target_framework: str
    on: dt.date
    matches: tuple[Match, ...]
    reason: str | None = None


@dataclass
class LevelGraph:
    """All links between levels, searchable in both directions.

    `meta_frameworks` are the only frameworks a path may pass through: a path through another
    national framework would be a derived comparison nobody published. `no_eqf_reasons` says why
    a level has no counterpart on purpose (`below_eqf_1`, `unlevelled`); `ordinals` orders ties.
    """

    edges: list[Edge]
    meta_frameworks: frozenset[str] = frozenset()
    no_eqf_reasons: dict[str, str] = field(default_factory=dict)
    ordinals: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._steps: dict[str, list[tuple[Step, Edge]]] = defaultdict(list)
        for edge in self.edges:
            forward = Step(
                edge.source, edge.target, edge.relation, edge.basis, edge.citation, False
            )
            backward = Step(
                edge.target, edge.source, INVERSE[edge.relation], edge.basis, edge.citation, True
            )
            self._steps[edge.source].append((forward, edge))
            self._steps[edge.target].append((backward, edge))

    def steps_from(self, ref: str, on: dt.date) -> list[Step]:
        return [step for step, edge in self._steps.get(ref, ()) if edge.valid_on(on)]

    def equivalents(self, source: str, target_framework: str, on: dt.date) -> Equivalents:
        """Levels of `target_framework` equivalent to `source` on `on`, best first.

        A direct link (an agreement or comparison between the two frameworks) answers alone when
        there is one; otherwise paths through meta-frameworks. No path: no matches and a reason.
        """
        if framework_of(source) == target_framework:
            itself = Match(source, "exactMatch", Decimal("1"), ())
            return Equivalents(source, target_framework, on, (itself,))
        direct = [
            self._match((step,))
            for step in self.steps_from(source, on)
            if framework_of(step.target) == target_framework
        ]
        matches = direct or self._through_meta(source, target_framework, on)
        best: dict[str, Match] = {}
        for match in matches:
            known = best.get(match.level)
            if known is None or (match.confidence, -len(match.path)) > (
                known.confidence,
                -len(known.path),
            ):
                best[match.level] = match
        ordered = sorted(
            best.values(),
            key=lambda m: (-m.confidence, len(m.path), self.ordinals.get(m.level, 0), m.level),
        )
        reason = None if ordered else self.no_eqf_reasons.get(source, "no_counterpart")
        return Equivalents(source, target_framework, on, tuple(ordered), reason)

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
        return Match(path[-1].target, relation, confidence.quantize(Decimal("0.001")), path)
