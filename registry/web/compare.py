"""The framework comparison diagram: frameworks side by side as ladders of levels, with the
level links between them, drawn on the server from the versions in force (or those of `on=`),
as a page to share and an SVG file to download.

The links are the level graph's edges in force on the day (the same graph the equivalents
answer from); the drawing itself is registry.web.diagrams, which knows nothing of Flask.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask import redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext, ngettext

from frameworks import services
from frameworks.models import Level
from mappings import services as mappings
from registry.core.errors import NotFound
from registry.web import diagrams
from registry.web.base import blp, get_session, task

MAX_FRAMEWORKS = 6

task(
    "compare",
    lazy_gettext("Compare frameworks"),
    lazy_gettext("frameworks side by side as ladders of levels, with the links between them."),
)


class Refused(Exception):
    """A request the page answers with a problem and a status, above its form."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Comparison:
    day: dt.date
    columns: list[diagrams.Ladder]
    drawn: list[diagrams.Connection]
    listed: list[diagrams.Connection]  # the tables': also the links to a meta-framework afar
    named: dict[str, list[str]]  # meta-framework levels printed in the boxes, where no line goes
    titles: dict[str, str]  # level ref -> full title, for the table
    words: diagrams.Words

    @property
    def svg(self) -> str:
        return diagrams.comparison_svg(self.columns, self.drawn, self.words, self.named)

    def pairs(self) -> list[tuple[str, str, list[diagrams.Connection]]]:
        """The connections grouped by the two columns they join, left to right."""
        groups: dict[tuple[str, str], list[diagrams.Connection]] = {}
        for connection in self.listed:
            key = (diagrams.framework_of(connection.left), diagrams.framework_of(connection.right))
            groups.setdefault(key, []).append(connection)
        return [(left, right, found) for (left, right), found in groups.items()]


@blp.get("/compare")
def compare():
    asked = request.args.getlist("frameworks")
    if len(asked) > 1:
        # The form's checkboxes send one parameter each; the address to share lists them once.
        return redirect(url_for("web.compare", **canonical_args()))
    frameworks = services.list_frameworks(get_session())
    codes = requested_codes()
    if not codes:
        return render_template("compare/compare.html", frameworks=frameworks, chosen=[])
    try:
        comparison = build(codes)
    except Refused as refused:
        return render_template(
            "compare/compare.html", frameworks=frameworks, chosen=codes, problem=refused.detail
        ), refused.status
    return render_template(
        "compare/compare.html",
        frameworks=frameworks,
        chosen=codes,
        comparison=comparison,
        svg_url=url_for("web.compare_svg", **canonical_args()),
        relation_words=relation_words,
        basis_words=basis_words,
    )


@blp.get("/compare.svg")
def compare_svg():
    codes = requested_codes()
    try:
        if not codes:
            raise Refused(400, gettext("Choose the frameworks to compare: ?frameworks=A,B,C."))
        comparison = build(codes)
    except Refused as refused:
        return render_template(
            "error.html",
            status=refused.status,
            title=gettext("No diagram"),
            detail=refused.detail,
            messages=[],
        ), refused.status
    name = "-".join(ladder.code for ladder in comparison.columns)
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", f"frameworks-{name}-{comparison.day}.svg")
    document = '<?xml version="1.0" encoding="UTF-8"?>\n' + comparison.svg
    return document, {
        "Content-Type": "image/svg+xml; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    }


def requested_codes() -> list[str]:
    """The framework codes asked for, once each, in the order asked (`A,B,C` or repeated)."""
    codes: list[str] = []
    for value in request.args.getlist("frameworks"):
        for code in value.split(","):
            code = code.strip()
            if code and code not in codes:
                codes.append(code)
    return codes


def canonical_args() -> dict[str, str]:
    """The query of the address to share: the codes once, comma-separated, and the day."""
    codes = requested_codes()
    args = {"frameworks": ",".join(codes)} if codes else {}
    if request.args.get("on"):
        args["on"] = request.args["on"]
    return args


def requested_day() -> dt.date:
    text = request.args.get("on", "").strip()
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise Refused(
            400, gettext("%(text)r is not a date; write it as YYYY-MM-DD.", text=text)
        ) from None


def build(codes: list[str]) -> Comparison:
    """The frameworks' ladders in the versions in force on the day and the links to draw.
    Too many frameworks or a bad date: Refused 400; an unknown framework, or one with no
    version in force on the day: Refused 404 with the service's words."""
    if len(codes) > MAX_FRAMEWORKS:
        raise Refused(
            400,
            gettext(
                "At most %(limit)d frameworks fit side by side; %(count)d were asked for.",
                limit=MAX_FRAMEWORKS,
                count=len(codes),
            ),
        )
    day = requested_day()
    session = get_session()
    ladders, titles = [], {}
    for code in codes:
        try:
            framework = services.get_framework(session, code)
            levels: list[Level] = services.list_levels(session, code, day)
        except NotFound as error:
            raise Refused(404, error.detail) from None
        version = services.version_on(framework, day)
        rungs = tuple(diagrams.Rung(level.code, level.title) for level in levels)
        ladders.append(diagrams.Ladder(framework.code, version.version, framework.is_meta, rungs))
        titles.update({level.ref: level.title for level in levels})
    columns = diagrams.arrange(ladders)
    chosen = {ladder.code for ladder in ladders}
    links = [
        diagrams.Link(
            edge.source,
            edge.target,
            edge.relation,
            edge.basis,
            edge.citation,
            edge.secondary_source,
        )
        for edge in mappings.level_graph(session).edges
        if not edge.succession
        and edge.valid_on(day)
        and {diagrams.framework_of(edge.source), diagrams.framework_of(edge.target)} <= chosen
    ]
    drawn = diagrams.connections(columns, links)
    listed = diagrams.connections(columns, links, to_meta_afar=True)
    named = diagrams.labels(columns, links)
    return Comparison(day, columns, drawn, listed, named, titles, words(columns, listed, day))


def words(
    columns: list[diagrams.Ladder], drawn: list[diagrams.Connection], day: dt.date
) -> diagrams.Words:
    names = ", ".join(ladder.code for ladder in columns)
    ladders = "; ".join(
        ngettext(
            "%(code)s (version %(version)s): %(num)d level",
            "%(code)s (version %(version)s): %(num)d levels",
            len(ladder.rungs),
            code=ladder.code,
            version=ladder.version,
        )
        for ladder in columns
    )
    wider = sum(1 for c in drawn if c.style == "dashed")
    weak = sum(1 for c in drawn if c.weak)
    desc = " ".join(
        (
            gettext("Levels, lowest at the bottom: %(ladders)s.", ladders=ladders),
            ngettext(
                "%(num)d link is drawn (%(wider)d broader or narrower, %(weak)d resting only "
                "on a comparison study or a secondary source); the table under the diagram "
                "lists it.",
                "%(num)d links are drawn (%(wider)d broader or narrower, %(weak)d resting only "
                "on a comparison study or a secondary source); the table under the diagram "
                "lists them.",
                len(drawn),
                wider=wider,
                weak=weak,
            ),
        )
    )
    return diagrams.Words(
        title=gettext("Frameworks compared on %(day)s: %(names)s", day=day, names=names),
        desc=desc,
        version=gettext("version"),
        legend=gettext("Lines"),
        same=gettext("solid: the same level (exact or close match)"),
        wider=gettext("dashed: one level is broader than the other"),
        related=gettext("dash-dot: related levels"),
        weak=gettext("orange with a ring: only a comparison study or a secondary source"),
    )


def relation_words(connection: diagrams.Connection) -> str:
    """The relation read left to right, in words, naming the broader level where one is."""
    relation = connection.relation
    if relation == "broadMatch":
        return gettext("%(level)s is broader", level=connection.right)
    if relation == "narrowMatch":
        return gettext("%(level)s is broader", level=connection.left)
    return {
        "exactMatch": gettext("the same level"),
        "closeMatch": gettext("about the same level"),
        "relatedMatch": gettext("related"),
    }[relation]


def basis_words(basis: str) -> str:
    return {
        "referencing": gettext("referencing report"),
        "legislation": gettext("legislation"),
        "comparison": gettext("comparison study"),
        "agreement": gettext("agreement"),
        "decision": gettext("the registry's decision"),
    }.get(basis, basis)
