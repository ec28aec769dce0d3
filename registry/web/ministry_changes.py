"""What a ministry reads about its edits: a draft as the framework file the API's PUT takes,
what a draft changes in the framework itself, and what each audit event changed, in words.

Plain functions over records and stored events; they write nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask_babel import gettext

from frameworks.models import FrameworkVersion, Level, LevelLink

LEVEL_FIELDS = (
    "ordinal",
    "title",
    "aliases",
    "knowledge",
    "skills",
    "responsibility_autonomy",
    "qualification_types",
    "ehea_cycle",
    "no_eqf_reason",
    "note",
)
LINK_FIELDS = ("relation", "basis", "citation", "valid_from", "valid_to", "note")
LINK_FIELDS += ("secondary_source", "succession")
# Bookkeeping columns an event keeps that say nothing to a reader.
HIDDEN = {"id", "version_id", "framework_id", "definition_digest", "created_at"}
SHOWN_MAX = 240
ROWS_MAX = 30


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _link(link: LevelLink) -> dict[str, Any]:
    fields = {name: getattr(link, name) for name in LINK_FIELDS}
    fields.update(valid_from=_iso(link.valid_from), valid_to=_iso(link.valid_to))
    return {"from": link.source.ref, "to": link.target.ref, **fields}


def definition(version: FrameworkVersion) -> dict[str, Any]:
    """The draft as a framework-definition file (frameworks/data/README.md): what
    `editing.replace_draft` takes, so that a level is added as the API's PUT would add it."""
    framework = version.framework
    return {
        "code": framework.code,
        "name": version.name or framework.name,
        "country": framework.country,
        "meta": framework.is_meta,
        "owner": framework.owner,
        "description": version.description or framework.description,
        "version": {
            "version": version.version,
            "status": "draft",
            "valid_from": _iso(version.valid_from),
            "valid_to": _iso(version.valid_to),
            "citation": version.citation,
        },
        "levels": [
            {"code": level.code, **{name: getattr(level, name) for name in LEVEL_FIELDS}}
            for level in version.levels
        ],
        "links": [_link(link) for link in version.links],
    }


def _level_fields(level: Level) -> dict[str, Any]:
    return {name: getattr(level, name) for name in LEVEL_FIELDS}


def _link_words(link: dict[str, Any]) -> str:
    words = f"{link['from']} → {link['to']} ({link['relation']}, {link['basis']})"
    if link.get("secondary_source"):
        words += ", " + gettext("secondary source: %(source)s", source=link["secondary_source"])
    return f"{words}: {link['citation']}"


def draft_changes(
    current: FrameworkVersion | None, draft: FrameworkVersion
) -> dict[str, list[Any]]:
    """The draft against the version in force: levels added, removed or changed (field, old,
    new), and links added or removed, each link in words."""
    old = {level.code: level for level in (current.levels if current else ())}
    new = {level.code: level for level in draft.levels}
    changed = []
    for code, level in new.items():
        if code in old:
            before, after = _level_fields(old[code]), _level_fields(level)
            fields = [(name, before[name], after[name]) for name in LEVEL_FIELDS]
            fields = [(name, shown(a), shown(b)) for name, a, b in fields if a != b]
            if fields:
                changed.append((code, fields))
    old_links = {_link_words(_link(link)) for link in (current.links if current else ())}
    new_links = {_link_words(_link(link)) for link in draft.links}
    return {
        "added": [new[code] for code in new if code not in old],
        "removed": [old[code] for code in old if code not in new],
        "changed": changed,
        "links_added": sorted(new_links - old_links),
        "links_removed": sorted(old_links - new_links),
    }


def shown(value: Any) -> str:
    """A stored value as a reader reads it, cut short when long."""
    if value is None or value == "" or value == []:
        text = "—"
    elif isinstance(value, list) and all(isinstance(v, dict) and "from" in v for v in value):
        text = "; ".join(_link_words(v) for v in value)
    elif isinstance(value, list):
        text = ", ".join(shown(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix.rstrip("."): value}
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if key not in HIDDEN:
            flat.update(_flat(item, f"{prefix}{key}."))
    return flat


def _link_set(value: Any) -> set[str]:
    return {_link_words(v) for v in value or () if isinstance(v, dict) and "from" in v}


def what_changed(event: Any) -> list[tuple[str, str, str]]:
    """(what, before, after) for each value an audit event's before and after differ in.

    A publication keeps the draft as `draft` before and as `published` after: read as one.
    A creation has no before: it is summed up (its levels and links), not listed field by field.
    """
    before, after = event.before, event.after
    if isinstance(after, dict) and "published" in after:
        after = {"draft" if key == "published" else key: value for key, value in after.items()}
    if before is None and isinstance(after, dict) and isinstance(after.get("levels"), dict):
        links = after.get("links") or []
        return [
            ("levels", "—", ", ".join(after["levels"])),
            ("links", "—", shown(links) if links else "—"),
        ]
    if isinstance(before, list) or isinstance(after, list):
        # A level's links replaced: the ones that went and the ones that came, each whole.
        old_links, new_links = _link_set(before), _link_set(after)
        rows = [("links", words, "—") for words in sorted(old_links - new_links)]
        rows += [("links", "—", words) for words in sorted(new_links - old_links)]
        return rows or [("links", gettext("unchanged"), gettext("unchanged"))]
    old, new = _flat(before or {}), _flat(after or {})
    keys = [key for key in {**old, **new} if key and old.get(key) != new.get(key)]
    rows = [(key, shown(old.get(key)), shown(new.get(key))) for key in keys]
    if len(rows) > ROWS_MAX:
        more = gettext("%(count)d more", count=len(keys) - ROWS_MAX)
        rows = rows[:ROWS_MAX] + [("…", "", more)]
    return rows
