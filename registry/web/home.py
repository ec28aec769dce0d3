"""The home page and search: "Ireland — NFQ level 8" to a country or a framework, answered on a
page of its own (/equivalents?level=IE-NFQ:8&target=GB-SCQF) from the same service as the
API's GET /equivalents; below the search, every task the visitor's role may do.

What a person types is read by `mappings.level_search`: one reading goes to the answer's
canonical address (a redirect, so the address shared is the reference), several are offered as
links, none is a 404 page with the search form to try again.
"""

from __future__ import annotations

import datetime as dt

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from marshmallow import ValidationError

from frameworks import services as frameworks
from mappings import recognition
from mappings import services as mappings
from mappings.level_search import FrameworkEntry, read_framework, read_level
from mappings.schemas import EquivalentsQuerySchema
from registry.web import answers
from registry.web.base import blp, field_messages, get_session

LIMIT = 200  # characters of a search field read; no level or country is written longer


@blp.get("/")
def index():
    entries = mappings.search_entries(get_session(), dt.date.today())
    return render_template("index.html", asked={}, entries=entries)


@blp.get("/equivalents")
def equivalents():
    asked = {name: request.args.get(name, "").strip()[:LIMIT] for name in ("level", "target", "on")}
    try:
        # The API's schema reads the date; the level and the target are free text here.
        loaded = EquivalentsQuerySchema().load(
            {"on": asked["on"]} if asked["on"] else {}, partial=True
        )
    except ValidationError as error:
        return _search_again(asked, dt.date.today(), field_messages(error.normalized_messages()))
    on = loaded.get("on")
    day = on or dt.date.today()
    missing = [
        (name, message)
        for name, message in (
            ("level", gettext("Enter the level to start from, e.g. Ireland — NFQ level 8.")),
            ("target", gettext("Enter the framework or the country to compare with.")),
        )
        if not asked[name]
    ]
    if missing:
        return _search_again(asked, day, missing)
    entries = mappings.search_entries(get_session(), day)
    levels = read_level(asked["level"], entries)
    targets = read_framework(asked["target"], entries)
    unknown = []
    if not levels:
        unknown.append(("level", _no_level(asked["level"])))
    if not targets:
        unknown.append(
            ("target", gettext("No framework or country matches “%(text)s”.", text=asked["target"]))
        )
    if unknown:
        return _search_again(asked, day, unknown, status=404, entries=entries)
    if len(levels) > 1 or len(targets) > 1:
        return render_template("search/choices.html", asked=asked, levels=levels, targets=targets)
    level, target = levels[0].ref, targets[0].code
    if (asked["level"], asked["target"]) != (level, target):
        return redirect(url_for("web.equivalents", level=level, target=target, on=on))
    return _answer(level, targets[0], on, entries)


def _answer(level: str, target: FrameworkEntry, on: dt.date | None, entries) -> str:
    session = get_session()
    answer = mappings.equivalents(session, level, target.code, on)
    titles = mappings.level_titles(session, answers.refs_of(answer), answer.on)
    source_code = level.rsplit(":", 1)[0]
    names = {entry.code: entry.name for entry in entries}
    units = recognition.reference()["frameworks"]
    pair = (source_code, target.code)
    return render_template(
        "search/answer.html",
        answer=answer,
        titles=titles,
        source_name=names.get(source_code, source_code),
        target=target,
        answers=answers,
        # The calculators beside the answer start from the two frameworks' usual units.
        credit_pair=[units.get(code, {}).get("credit_system") for code in pair],
        grade_pair=[units.get(code, {}).get("grading_scale") for code in pair],
        systems=frameworks.list_credit_systems(session),
        scales=frameworks.list_grading_scales(session),
        asked={"level": level, "target": target.code, "on": on.isoformat() if on else ""},
        entries=entries,
    )


def _no_level(text: str) -> str:
    if ":" in text:
        return gettext(
            "No level “%(text)s” in the registry: the framework has no such level, or no such "
            "framework exists.",
            text=text,
        )
    return gettext(
        "No level matches “%(text)s”. Name the framework or the country and the level, e.g. "
        "“NFQ 8”, “Ireland level 8” or “IE-NFQ:8”.",
        text=text,
    )


def _search_again(asked: dict[str, str], day: dt.date, problems, status: int = 400, entries=None):
    """The search form again, filled in as sent, with what was wrong beside each field (and
    the suggestions from `entries`, when the search has them already)."""
    entries = entries if entries is not None else mappings.search_entries(get_session(), day)
    return render_template(
        "search/again.html", asked=asked, entries=entries, problems=list(problems)
    ), status
