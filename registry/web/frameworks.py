"""The frameworks' pages: the list, one framework with its versions and levels, and for its
authority the draft, its impact report and its publication."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext

from frameworks import editing, services
from frameworks.models import FrameworkVersion, Level, LevelLink
from mappings import impact
from registry.auth import current_actor
from registry.web.base import blp, form_fields, get_session, task
from registry.web.ministry_changes import draft_changes

EQF = "EQF"

task(
    "frameworks",
    lazy_gettext("Frameworks"),
    lazy_gettext("every qualifications framework, its levels and its versions."),
)


@blp.get("/frameworks")
def frameworks():
    rows = [
        (framework, services.version_on(framework))
        for framework in services.list_frameworks(get_session())
    ]
    return render_template("frameworks.html", rows=rows)


@blp.get("/frameworks/<code>")
def framework(code: str):
    found = services.get_framework(get_session(), code)
    editable = services.may_see_drafts(current_actor(), found)
    current = services.version_on(found)
    # A draft is shown only to those who may edit it, as the API's get_version does.
    draft = next((v for v in found.versions if v.status == "draft"), None) if editable else None
    return render_template(
        "framework.html",
        framework=found,
        editable=editable,
        current=current,
        draft=draft,
        versions=[v for v in found.versions if editable or v.status != "draft"],
        eqf_links={**eqf_links(current), **eqf_links(draft)},
        today=dt.date.today(),
    )


@blp.post("/frameworks/<code>/drafts")
def start_draft(code: str):
    draft = editing.new_draft(get_session(), current_actor(), code, None)
    flash(
        gettext(
            "Draft %(version)s started as a copy of the version in force.", version=draft.version
        )
    )
    return redirect(url_for("web.framework", code=code))


@blp.get("/frameworks/<code>/versions/<version>/impact")
def impact_report(code: str, version: str):
    session, actor = get_session(), current_actor()
    report = impact.impact(session, actor, code, version)
    # Beside the equivalences it changes, what the draft changes in the framework itself.
    draft = services.get_version(session, actor, code, version)
    compared = report["compared_with"]
    current = services.get_version(session, actor, code, compared) if compared else None
    return render_template(
        "impact.html",
        report=report,
        edits=draft_changes(current, draft),
        today=dt.date.today(),
    )


@blp.post("/frameworks/<code>/versions/<version>/publish")
def publish(code: str, version: str):
    published = editing.publish(
        get_session(), current_actor(), code, version, form_fields("valid_from")
    )
    flash(
        gettext(
            "Version %(version)s of %(code)s is published, in force from %(day)s.",
            version=published.version,
            code=code,
            day=published.valid_from,
        )
    )
    return redirect(url_for("web.framework", code=code))


def eqf_links(version: FrameworkVersion | None) -> dict[int, list[tuple[Level, LevelLink]]]:
    """The EQF level(s) each level of `version` is linked to, by level id, as the version
    files its links (in either direction)."""
    found: dict[int, list[tuple[Level, LevelLink]]] = defaultdict(list)
    for link in version.links if version else ():
        for mine, other in ((link.source, link.target), (link.target, link.source)):
            if mine.version_id == version.id and other.version.framework.code == EQF:
                found[mine.id].append((other, link))
    return found
