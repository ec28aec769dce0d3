"""A ministry's work on its framework: the drafts it has, a level's fields and links edited in
the draft (the first edit starts one, as through the API), a level added, the audit trail.

The views call the services the API's editing endpoints call (frameworks.editing), which
authorise on the framework really written. A form the service finds invalid comes back as it
was filled in, with the service's messages beside its fields, and nothing written (a 400
rolls the request back).
"""

from __future__ import annotations

import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict

from frameworks import editing, services
from frameworks.models import BASES, NO_EQF_REASONS, RELATIONS, Framework, FrameworkVersion, Level
from frameworks.schemas import EHEA_CYCLES, MAX_LINKS
from mappings.graph import INVERSE
from registry.auth import current_actor
from registry.core.audit import events_for
from registry.core.errors import InvalidData, NotFound
from registry.core.normalise import whole_number
from registry.core.permissions import authorize, authorize_role
from registry.ownership import audit_target
from registry.web.base import blp, field_messages, get_session, task
from registry.web.ministry_changes import definition, what_changed

TEXTS = ("knowledge", "skills", "responsibility_autonomy", "note")
CHOICES = {"ehea_cycle": EHEA_CYCLES, "no_eqf_reason": NO_EQF_REASONS}
LINK_FIELDS = ("to", "relation", "basis", "citation", "secondary_source", "valid_from")
LINK_FIELDS += ("valid_to", "note")
AUDIT_PAGE = 25

task(
    "drafts",
    lazy_gettext("My drafts"),
    lazy_gettext(
        "the drafts of your frameworks: edit levels and links, check the impact, publish."
    ),
    roles=("ministry",),
)


@blp.get("/drafts")
def drafts():
    actor = current_actor()
    authorize_role(actor, "framework.edit")
    mine = [f for f in services.list_frameworks(get_session()) if services.may_see_drafts(actor, f)]
    rows = [(framework, draft) for framework in mine for draft in services.drafts_of(framework)]
    without = [framework for framework in mine if not services.drafts_of(framework)]
    return render_template("ministry/drafts.html", rows=rows, without=without)


def _editable(code: str) -> Framework:
    """The framework, once the actor is known to be allowed to edit it (else the refusal)."""
    framework = services.get_framework(get_session(), code)
    authorize(current_actor(), "framework.edit", services.target_of(framework))
    return framework


def _working_version(framework: Framework) -> FrameworkVersion:
    """The draft, or the version in force that the first edit copies into one."""
    version = next(iter(services.drafts_of(framework)), None) or services.version_on(framework)
    if version is None:
        raise NotFound(f"{framework.code} has no version to edit.", code=framework.code)
    return version


def _level(version: FrameworkVersion, code: str) -> Level:
    found = services.find_level(version, code)
    if found is None:
        raise NotFound(f"{version.framework.code} has no level {code!r}.", level=code)
    return found


def _messages(error: InvalidData, to_field) -> tuple[dict[str, list[str]], list[str]]:
    """The service's messages by form field (`to_field` maps its key, None: the form's own)."""
    by_field: dict[str, list[str]] = {}
    general = []
    for key, message in field_messages(error.errors):
        field = to_field(key)
        if field:
            by_field.setdefault(field, []).append(message)
        else:
            general.append(f"{key}: {message}")
    return by_field, general or ([] if by_field else [error.detail])


def _level_data(form: MultiDict) -> dict[str, Any]:
    """A level's descriptive fields from the form: an empty text clears it; one type a line."""
    data: dict[str, Any] = {"title": form.get("title", "").strip()}
    for name in (*TEXTS, *CHOICES):
        data[name] = form.get(name, "").strip() or None
    data["qualification_types"] = [
        line.strip() for line in form.get("qualification_types", "").splitlines() if line.strip()
    ]
    return data


def _level_values(level: Level) -> dict[str, str]:
    values = {name: getattr(level, name) or "" for name in ("title", *TEXTS, *CHOICES)}
    values["qualification_types"] = "\n".join(level.qualification_types or ())
    return values


@blp.route("/frameworks/<code>/levels/<level>/edit", methods=["GET", "POST"])
def edit_level(code: str, level: str):
    if request.method == "POST":
        try:
            edited = editing.edit_level(
                get_session(), current_actor(), code, level, _level_data(request.form)
            )
        except InvalidData as error:
            framework = _editable(code)  # the form is shown only to those who may edit
            found = _level(_working_version(framework), level)
            errors, general = _messages(error, lambda key: key.split(".")[0])
            return _level_form(framework, found, request.form.to_dict(), errors, general), 400
        flash(
            gettext(
                "Level %(level)s of draft %(version)s saved.",
                level=edited.code,
                version=edited.version.version,
            )
        )
        return redirect(url_for("web.framework", code=code, _anchor="editing"))
    framework = _editable(code)
    found = _level(_working_version(framework), level)
    return _level_form(framework, found, _level_values(found), {}, [])


def _level_form(framework, level, values, errors, general) -> str:
    return render_template(
        "ministry/level.html",
        framework=framework,
        level=level,
        values=values,
        errors=errors,
        general=general,
        choices=CHOICES,
    )


@blp.route("/frameworks/<code>/versions/<version>/levels/new", methods=["GET", "POST"])
def add_level(code: str, version: str):
    framework = _editable(code)
    draft = services.get_version(get_session(), current_actor(), code, version)
    new_index = len(draft.levels)
    if request.method == "GET":
        ordinal = max((level.ordinal for level in draft.levels), default=0) + 1
        return _new_level_form(framework, draft, {"ordinal": str(ordinal)}, {}, [])
    new = {"code": request.form.get("code", "").strip(), **_level_data(request.form)}
    ordinal = request.form.get("ordinal", "").strip()
    new["ordinal"] = int(ordinal) if re.fullmatch(r"-?\d{1,4}", ordinal) else ordinal
    raw = definition(draft)
    raw["levels"].append(new)
    try:
        editing.replace_draft(get_session(), current_actor(), code, version, raw)
    except InvalidData as error:
        prefix = f"levels.{new_index}."

        def to_field(key: str) -> str | None:
            return key[len(prefix) :].split(".")[0] if key.startswith(prefix) else None

        errors, general = _messages(error, to_field)
        return _new_level_form(framework, draft, request.form.to_dict(), errors, general), 400
    flash(
        gettext("Level %(level)s added to draft %(version)s.", level=new["code"], version=version)
    )
    return redirect(url_for("web.framework", code=code, _anchor="editing"))


def _new_level_form(framework, draft, values, errors, general) -> str:
    return render_template(
        "ministry/new_level.html",
        framework=framework,
        draft=draft,
        values=values,
        errors=errors,
        general=general,
        choices=CHOICES,
    )


def _link_rows(level: Level) -> list[dict[str, Any]]:
    """The links the framework files for the level, each seen from it (`to`: the other end)."""
    rows = []
    for link in level.version.links:
        if level.id not in (link.source_id, link.target_id):
            continue
        outgoing = link.source_id == level.id
        other = link.target if outgoing else link.source
        row = {name: getattr(link, name) or "" for name in LINK_FIELDS if name != "to"}
        row.update(to=other.ref, succession=link.succession)
        if not outgoing and not link.succession:
            # Filed from the other level: read from this one, its relation is the inverse
            # (saved so, the link means what it meant).
            row["relation"] = INVERSE[link.relation]
        rows.append({k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()})
    return rows


def _posted_links(form: MultiDict) -> tuple[list[dict[str, Any]], list[int], list[dict]]:
    """(the links to keep, the row each came from, every row as filled in): a row marked for
    removal, or a new row left blank, is not a link."""
    indices = sorted(
        {int(m.group(1)) for key in form if (m := re.fullmatch(r"links-(\d{1,4})-to", key))}
    )[: MAX_LINKS + 1]
    items, origins, rows = [], [], []
    for index in indices:
        row = {name: form.get(f"links-{index}-{name}", "").strip() for name in LINK_FIELDS}
        row["succession"] = bool(form.get(f"links-{index}-succession"))
        row["remove"] = bool(form.get(f"links-{index}-remove"))
        row["new"] = bool(form.get(f"links-{index}-new"))
        rows.append(row)
        if row["remove"] or not any(row[name] for name in ("to", "citation", "secondary_source")):
            continue
        item = {name: row[name] or None for name in LINK_FIELDS}
        item.update(citation=row["citation"], succession=row["succession"])
        items.append(item)
        origins.append(len(rows) - 1)
    return items, origins, rows


@blp.route("/frameworks/<code>/levels/<level>/links", methods=["GET", "POST"])
def edit_links(code: str, level: str):
    if request.method == "POST":
        items, origins, rows = _posted_links(request.form)
        try:
            links = editing.replace_level_links(get_session(), current_actor(), code, level, items)
        except InvalidData as error:
            framework = _editable(code)
            found = _level(_working_version(framework), level)

            def to_field(key: str) -> str | None:
                index, _, name = key.partition(".")
                if index.isdigit() and int(index) < len(origins) and name:
                    return f"links-{origins[int(index)]}-{name.split('.')[0]}"
                return None

            errors, general = _messages(error, to_field)
            return _links_form(framework, found, rows, errors, general), 400
        flash(
            gettext(
                "The links of level %(level)s are saved in the draft: %(count)d link(s).",
                level=level,
                count=len(links),
            )
        )
        return redirect(url_for("web.framework", code=code, _anchor="editing"))
    framework = _editable(code)
    found = _level(_working_version(framework), level)
    return _links_form(framework, found, _link_rows(found), {}, [])


def _links_form(framework, level, rows, errors, general) -> str:
    blank = {name: "" for name in LINK_FIELDS} | {"succession": False, "new": True}
    if not any(row.get("new") for row in rows):
        rows = [*rows, blank]
    targets = sorted(
        {
            other.ref
            for each in services.list_frameworks(get_session())
            if (version := services.version_on(each)) is not None
            for other in version.levels
            if each.code != framework.code
        }
    )
    return render_template(
        "ministry/links.html",
        framework=framework,
        level=level,
        rows=[
            (f"links-{index}-", row, {f"links-{index}-{k}": v for k, v in row.items()})
            for index, row in enumerate(rows)
        ],
        errors=errors,
        general=general,
        relations=RELATIONS,
        bases=BASES,
        targets=targets,
    )


@blp.get("/frameworks/<code>/audit")
def audit_trail(code: str):
    session = get_session()
    entity = f"framework:{services.get_framework(session, code).code}"
    # Who may read it is the API's rule (GET /api/v1/audit?entity=...): its ministry, admins.
    authorize(current_actor(), "audit.read", audit_target(session, entity))
    # Anything but a database-sized number is no page mark: the newest events.
    before = whole_number(request.args.get("before"))
    events = events_for(session, entity, AUDIT_PAGE + 1, before)
    more = len(events) > AUDIT_PAGE
    events = events[:AUDIT_PAGE]
    return render_template(
        "ministry/audit.html",
        code=code,
        entity=entity,
        events=[(event, _where(event.entity, entity), what_changed(event)) for event in events],
        newer=before is not None,
        older=events[-1].id if more else None,
    )


def _where(entity: str, framework: str) -> str:
    """The part of the framework an event touched: `2026-12-05/level:8`, or the framework."""
    return entity[len(framework) :].lstrip("/") or entity
