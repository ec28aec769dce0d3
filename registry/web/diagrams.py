"""The framework comparison diagram as SVG: pure functions from plain values (ladders of levels,
the links between them, the words to print) to an SVG document.

No Flask and no database here, so the drawing is tested on its own. The document is built with
ElementTree, so every text from the registry (titles, codes, citations) is escaped by the
serializer; nothing is pasted into markup. Styling is by presentation attributes only (no
`style`), so the drawing passes the pages' Content-Security-Policy when it is inline.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from mappings.graph import INVERSE

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

# Geometry, in SVG user units (pixels at the natural size; the viewBox scales the rest).
MARGIN = 16
COLUMN = 220  # a ladder's width
GAP = 140  # between two ladders, where the lines run
HEADER = 52  # the framework's code and version above its ladder
ROW = 50  # vertical room per level in the tallest ladder
BOX = 40  # a level's box height
MIN_WIDTH = 640
TITLE_CHARS = 30  # a level title longer than this is shortened (the full one is its tooltip)

INK = "#1a1a1a"
LINE = "#0b57a4"
# A link that rests only on a comparison study or a secondary source: another colour, and
# always a ring on the line too, so that colour is never the only sign.
WEAK = "#a34700"
DASHES = {"solid": None, "dashed": "9 6", "dashdot": "12 5 2 5"}
STYLE_OF = {
    "exactMatch": "solid",
    "closeMatch": "solid",
    "broadMatch": "dashed",
    "narrowMatch": "dashed",
    "relatedMatch": "dashdot",
}


@dataclass(frozen=True)
class Rung:
    code: str
    title: str


@dataclass(frozen=True)
class Ladder:
    """One framework's levels in the version drawn, lowest first."""

    code: str
    version: str
    meta: bool
    rungs: tuple[Rung, ...]

    def ref(self, rung: Rung) -> str:
        return f"{self.code}:{rung.code}"


@dataclass(frozen=True)
class Link:
    """A level link as stored: `relation` is read from `source` to `target`."""

    source: str
    target: str
    relation: str
    basis: str
    citation: str
    secondary_source: str | None = None

    @property
    def weak(self) -> bool:
        """Whether only a comparison study or a secondary source stands behind it."""
        return self.basis == "comparison" or bool(self.secondary_source)


@dataclass(frozen=True)
class Connection:
    """A link as drawn, from its level in the left column to its level in the right one;
    `relation` is read left to right (a link stored right to left is inverted)."""

    left: str
    right: str
    relation: str
    link: Link

    @property
    def style(self) -> str:
        return STYLE_OF[self.relation]

    @property
    def weak(self) -> bool:
        return self.link.weak


@dataclass(frozen=True)
class Words:
    """The diagram's texts, already in the reader's language."""

    title: str
    desc: str
    version: str  # the word before a version's name
    legend: str
    same: str  # solid lines
    wider: str  # dashed lines
    related: str  # dash-dot lines
    weak: str  # the marked lines


def framework_of(ref: str) -> str:
    return ref.split(":", 1)[0]


def arrange(ladders: Sequence[Ladder]) -> list[Ladder]:
    """The columns left to right: the meta-frameworks (the EQF) in the middle, the national
    frameworks around them in the order asked, the first half on the left."""
    national = [ladder for ladder in ladders if not ladder.meta]
    meta = [ladder for ladder in ladders if ladder.meta]
    half = (len(national) + 1) // 2
    return [*national[:half], *meta, *national[half:]]


def connections(
    columns: Sequence[Ladder], links: Sequence[Link], to_meta_afar: bool = False
) -> list[Connection]:
    """The links to draw between `columns` (as `arrange` ordered them): those between
    neighbouring columns only, since a line to a column further away would cross the boxes
    between and seem to end at one of their levels (`labels` names those instead); with
    `to_meta_afar`, for the tables, also those to a meta-framework however far it stands. A
    link whose level is not among the rungs drawn is left out. Left column first, then lowest
    level first."""
    position = {ladder.code: index for index, ladder in enumerate(columns)}
    meta = {ladder.code for ladder in columns if ladder.meta}
    rungs = {
        ladder.ref(rung): index for ladder in columns for index, rung in enumerate(ladder.rungs)
    }
    found: dict[tuple[str, str, str, str], Connection] = {}
    for link in links:
        if link.source not in rungs or link.target not in rungs:
            continue
        ends = framework_of(link.source), framework_of(link.target)
        apart = abs(position[ends[0]] - position[ends[1]])
        if apart != 1 and not (to_meta_afar and apart > 1 and meta.intersection(ends)):
            continue
        if position[ends[0]] < position[ends[1]]:
            drawn = Connection(link.source, link.target, link.relation, link)
        else:
            drawn = Connection(link.target, link.source, INVERSE[link.relation], link)
        found.setdefault((drawn.left, drawn.right, drawn.relation, link.basis), drawn)
    return sorted(
        found.values(),
        key=lambda c: (
            position[framework_of(c.left)],
            position[framework_of(c.right)],
            rungs[c.left],
            rungs[c.right],
        ),
    )


def labels(columns: Sequence[Ladder], links: Sequence[Link]) -> dict[str, list[str]]:
    """For each level of a column that does not stand beside a meta-framework, the levels of
    the meta-frameworks it is linked to (`EQF:6`), printed in its box where no line can go."""
    position = {ladder.code: index for index, ladder in enumerate(columns)}
    meta = {ladder.code for ladder in columns if ladder.meta}
    rungs = {ladder.ref(rung) for ladder in columns for rung in ladder.rungs}
    found: dict[str, list[str]] = {}
    for link in links:
        for mine, other in ((link.source, link.target), (link.target, link.source)):
            here, there = framework_of(mine), framework_of(other)
            if mine in rungs and other in rungs and there in meta and here not in meta:
                if abs(position[here] - position[there]) > 1 and other not in found.get(mine, []):
                    found.setdefault(mine, []).append(other)
    return found


def shorten(text: str, limit: int = TITLE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def comparison_svg(
    columns: Sequence[Ladder],
    drawn: Sequence[Connection],
    words: Words,
    named: dict[str, list[str]] | None = None,
) -> str:
    """The diagram as a standalone SVG document (also fit to be inlined in HTML): one ladder
    per column, lowest level at the bottom, each tall enough for the tallest; the lines between
    neighbouring columns; in the boxes of a column away from the meta-frameworks, the levels
    of theirs it is linked to (`named`, from `labels`); the legend below."""
    tallest = max((len(ladder.rungs) for ladder in columns), default=0)
    body = max(tallest, 1) * ROW
    # Wide enough for the legend's longest line even with one or two columns.
    width = max(2 * MARGIN + len(columns) * COLUMN + max(len(columns) - 1, 0) * GAP, MIN_WIDTH)
    legend_top = MARGIN + HEADER + body + 24
    height = legend_top + 5 * 26 + MARGIN
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
            "aria-labelledby": "compare-title",
            "aria-describedby": "compare-desc",
            "font-family": FONT,
            "fill": INK,
        },
    )
    ET.SubElement(svg, "title", id="compare-title").text = words.title
    ET.SubElement(svg, "desc", id="compare-desc").text = words.desc
    ET.SubElement(svg, "rect", width=str(width), height=str(height), fill="#ffffff")

    left_of = {ladder.code: MARGIN + index * (COLUMN + GAP) for index, ladder in enumerate(columns)}
    middle: dict[str, float] = {}
    for ladder in columns:
        step = body / max(len(ladder.rungs), 1)
        for index, rung in enumerate(ladder.rungs):
            middle[ladder.ref(rung)] = MARGIN + HEADER + body - (index + 0.5) * step

    lines = ET.SubElement(svg, "g", {"class": "links", "fill": "none", "stroke-width": "2.5"})
    for connection in drawn:
        _line(lines, connection, left_of, middle)
    for ladder in columns:
        _ladder(svg, ladder, left_of[ladder.code], middle, words, named or {})
    _legend(svg, words, legend_top)
    return ET.tostring(svg, encoding="unicode")


def _line(
    parent: ET.Element, connection: Connection, left_of: dict[str, int], middle: dict[str, float]
) -> None:
    x1 = left_of[framework_of(connection.left)] + COLUMN
    x2 = left_of[framework_of(connection.right)]
    y1, y2 = middle[connection.left], middle[connection.right]
    group = ET.SubElement(
        parent,
        "g",
        {
            "class": "link weak" if connection.weak else "link",
            "data-left": connection.left,
            "data-right": connection.right,
            "data-relation": connection.relation,
            "data-basis": connection.link.basis,
        },
    )
    ET.SubElement(group, "line", _stroke(connection, x1, y1, x2, y2))
    if connection.weak:
        # The ring sits in the first gap after the left column, where it is never hidden.
        t = (GAP / 2) / (x2 - x1)
        ET.SubElement(
            group,
            "circle",
            {
                "class": "weak-mark",
                "cx": _n(x1 + t * (x2 - x1)),
                "cy": _n(y1 + t * (y2 - y1)),
                "r": "6",
                "fill": "#ffffff",
                "stroke": WEAK,
                "stroke-width": "3",
            },
        )


def _stroke(connection: Connection, x1: float, y1: float, x2: float, y2: float) -> dict[str, str]:
    """A line's attributes: dashed by the relation, coloured by the evidence behind it."""
    attributes = {
        "x1": _n(x1),
        "y1": _n(y1),
        "x2": _n(x2),
        "y2": _n(y2),
        "stroke": WEAK if connection.weak else LINE,
    }
    if DASHES[connection.style]:
        attributes["stroke-dasharray"] = DASHES[connection.style]
    return attributes


def _ladder(
    parent: ET.Element,
    ladder: Ladder,
    x: int,
    middle: dict[str, float],
    words: Words,
    named: dict[str, list[str]],
) -> None:
    group = ET.SubElement(parent, "g", {"class": "ladder", "data-framework": ladder.code})
    ET.SubElement(
        group,
        "text",
        {
            "x": _n(x + COLUMN / 2),
            "y": str(MARGIN + 20),
            "text-anchor": "middle",
            "font-size": "18",
            "font-weight": "700",
        },
    ).text = ladder.code
    ET.SubElement(
        group,
        "text",
        {
            "x": _n(x + COLUMN / 2),
            "y": str(MARGIN + 40),
            "text-anchor": "middle",
            "font-size": "13",
            "fill": "#444444",
        },
    ).text = f"{words.version} {ladder.version}"
    for rung in ladder.rungs:
        y = middle[ladder.ref(rung)] - BOX / 2
        level = ET.SubElement(group, "g", {"class": "level", "data-level": ladder.ref(rung)})
        ET.SubElement(level, "title").text = f"{ladder.ref(rung)}: {rung.title}"
        ET.SubElement(
            level,
            "rect",
            {
                "x": str(x),
                "y": _n(y),
                "width": str(COLUMN),
                "height": str(BOX),
                "rx": "4",
                "fill": "#f3f7fc" if ladder.meta else "#ffffff",
                "stroke": "#555555",
            },
        )
        ET.SubElement(
            level,
            "text",
            {
                "class": "code",
                "x": str(x + 8),
                "y": _n(y + 16),
                "font-size": "14",
                "font-weight": "700",
            },
        ).text = rung.code
        ET.SubElement(
            level, "text", {"class": "title", "x": str(x + 8), "y": _n(y + 33), "font-size": "13"}
        ).text = shorten(rung.title)
        if named.get(ladder.ref(rung)):
            ET.SubElement(
                level,
                "text",
                {
                    "class": "meta-level",
                    "x": str(x + COLUMN - 8),
                    "y": _n(y + 16),
                    "font-size": "12",
                    "text-anchor": "end",
                    "fill": LINE,
                },
            ).text = "→ " + ", ".join(named[ladder.ref(rung)])


def _legend(parent: ET.Element, words: Words, top: int) -> None:
    group = ET.SubElement(parent, "g", {"class": "legend"})
    ET.SubElement(
        group, "text", {"x": str(MARGIN), "y": str(top), "font-size": "14", "font-weight": "700"}
    ).text = words.legend
    samples = (
        ("solid", False, words.same),
        ("dashed", False, words.wider),
        ("dashdot", False, words.related),
        ("solid", True, words.weak),
    )
    for index, (style, weak, label) in enumerate(samples):
        y = top + 26 * (index + 1)
        colour = WEAK if weak else LINE
        sample = {
            "x1": str(MARGIN),
            "y1": str(y - 5),
            "x2": str(MARGIN + 60),
            "y2": str(y - 5),
            "stroke": colour,
            "stroke-width": "2.5",
        }
        if DASHES[style]:
            sample["stroke-dasharray"] = DASHES[style]
        ET.SubElement(group, "line", sample)
        if weak:
            ET.SubElement(
                group,
                "circle",
                {
                    "cx": str(MARGIN + 30),
                    "cy": str(y - 5),
                    "r": "6",
                    "fill": "#ffffff",
                    "stroke": WEAK,
                    "stroke-width": "3",
                },
            )
        ET.SubElement(
            group, "text", {"x": str(MARGIN + 72), "y": str(y), "font-size": "14"}
        ).text = label


def _n(value: float) -> str:
    """A coordinate, without a trailing `.0`."""
    return f"{value:.1f}".removesuffix(".0")
