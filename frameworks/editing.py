"""Writes to frameworks by their authorities: drafts, level and link edits, publication.

A published version never changes: editing a framework edits its draft of the next version,
created on the first edit as a copy of the version in force. Publishing makes the draft current
and closes the previous version's validity on the same day. Every write is authorised first and
leaves an audit event; the framework row is locked for the write, so concurrent edits and
publications of one framework run one after the other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from frameworks.models import (
    BASES,
    NO_EQF_REASONS,
    RELATIONS,
    Framework,
    FrameworkVersion,
    Level,
    LevelLink,
)
from frameworks.schemas import (
    CITATION_MAX,
    DESCRIPTOR_MAX,
    EHEA_CYCLES,
    LEVEL_REF,
    LINK_NOTE_MAX,
    MAX_TYPES,
    NAME_MAX,
    PUBLISH_AHEAD_DAYS,
    VERSION_LABEL,
    FrameworkFileSchema,
    required_text,
    sane_date,
    text,
)
from frameworks.services import (
    LoadResult,
    no_such_version,
    bump_graph_generation,
    find_level,
    load_framework,
    target_of,
    validated,
    version_on,
)
from registry.core import audit
from registry.core.errors import Conflict, InvalidData, NotFound
from registry.core.permissions import Actor, Target, authorize


class LevelEditSchema(Schema):
    """The descriptive fields of a level an authority may change in a draft."""

    title = fields.String(validate=validate.Length(1, NAME_MAX))
    knowledge = text(DESCRIPTOR_MAX, allow_none=True)
    skills = text(DESCRIPTOR_MAX, allow_none=True)
    responsibility_autonomy = text(DESCRIPTOR_MAX, allow_none=True)
    qualification_types = fields.List(
        fields.String(validate=validate.Length(1, NAME_MAX)),
        validate=validate.Length(max=MAX_TYPES),
    )
    ehea_cycle = fields.String(allow_none=True, validate=validate.OneOf(EHEA_CYCLES))
    no_eqf_reason = fields.String(allow_none=True, validate=validate.OneOf(NO_EQF_REASONS))
    note = text(DESCRIPTOR_MAX, allow_none=True)


class LevelLinkEditSchema(Schema):
    """One link of a level, seen from that level: `to` is the level at the other end."""

    to = fields.String(required=True, validate=validate.Regexp(LEVEL_REF))
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    basis = fields.String(required=True, validate=validate.OneOf(BASES))
    citation = required_text(CITATION_MAX)
    valid_from = sane_date(load_default=None, allow_none=True)
    valid_to = sane_date(load_default=None, allow_none=True)
    note = text(LINK_NOTE_MAX, load_default=None, allow_none=True)
    secondary_source = text(
        CITATION_MAX,
        load_default=None,
        allow_none=True,
        metadata={"description": "Where the result was read when the citation could not be."},
    )
    succession = fields.Boolean(
        load_default=False,
        metadata={
            "description": "True when `to` is a level of a superseded framework that this level "
            "replaces (the link is stored from `to` to this level, relation read that way)."
        },
    )


class NewDraftSchema(Schema):
    version = fields.String(load_default=None, validate=validate.Regexp(VERSION_LABEL))
    citation = fields.String(load_default=None, validate=validate.Length(1, CITATION_MAX))


class PublishSchema(Schema):
    valid_from = sane_date(load_default=None)


class CorrectionSchema(Schema):
    """An admin's correction of a publication: the day it takes effect, and why."""

    valid_from = sane_date(required=True)
    reason = required_text(CITATION_MAX)


def _locked(session: Session, code: str) -> Framework:
    """The framework row, locked for this transaction (PostgreSQL), with fresh versions."""
    framework = session.scalar(
        select(Framework)
        .where(Framework.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if framework is None:
        raise NotFound(f"No framework with code {code!r}.", code=code)
    session.refresh(framework, ["versions"])
    return framework


def _version(framework: Framework, version: str) -> FrameworkVersion:
    """A version of a framework the caller is already authorised to edit: a wrong name says
    which draft exists."""
    for candidate in framework.versions:
        if candidate.version == version:
            return candidate
    raise no_such_version(framework, version, show_drafts=True)


def _draft(framework: Framework) -> FrameworkVersion | None:
    return next((v for v in framework.versions if v.status == "draft"), None)


def _refuse_unless_draft(version: FrameworkVersion, action: str) -> None:
    if version.status != "draft":
        draft = _draft(version.framework)
        which = (
            f"its draft, version {draft.version}"
            if draft
            else "a draft of its next version (POST .../versions starts one)"
        )
        raise Conflict(
            f"{version.framework.code} version {version.version} is {version.status}: published "
            f"versions never change. Edit {which} instead.",
            action=action,
            target=f"framework:{version.framework.code}/{version.version}",
            existing={"version": version.version, "status": version.status},
        )


def summary(version: FrameworkVersion) -> dict[str, Any]:
    """What an audit event keeps of a version: enough to see what changed, the framework's own
    fields (as they stand, and as the version would publish them) included."""
    framework = version.framework
    return {
        "framework": {
            "code": framework.code,
            "name": framework.name,
            "country": framework.country,
            "meta": framework.is_meta,
            "owner": framework.owner,
            "description": framework.description,
        },
        "version": version.version,
        "status": version.status,
        "name": version.name,
        "description": version.description,
        "valid_from": version.valid_from,
        "valid_to": version.valid_to,
        "levels": {level.code: audit.plain(level) for level in version.levels},
        "links": [link_summary(link) for link in version.links],
    }


def link_summary(link: LevelLink) -> dict[str, Any]:
    """What an audit event keeps of a link."""
    return {
        "from": link.source.ref,
        "to": link.target.ref,
        "relation": link.relation,
        "basis": link.basis,
        "citation": link.citation,
        "secondary_source": link.secondary_source,
        "succession": link.succession,
    }


def create_framework(session: Session, actor: Actor, raw: Any) -> LoadResult:
    """A new framework from a definition file; its first version is always a draft."""
    data = validated(FrameworkFileSchema(), raw, what="framework file")
    # The record written: a meta-framework is the registry's, whatever scope the caller has.
    target = Target(
        "framework",
        data["code"],
        country=data["country"],
        framework=data["code"],
        meta=data["meta"],
    )
    authorize(actor, "framework.create", target)
    if session.scalar(select(Framework.id).where(Framework.code == data["code"])):
        raise Conflict(
            f"A framework with code {data['code']} exists.",
            action="framework.create",
            target=f"framework:{data['code']}",
            existing={"code": data["code"]},
        )
    raw = {**raw, "version": {**raw["version"], "status": "draft"}}
    result = load_framework(session, raw)
    framework = _locked(session, data["code"])
    audit.record(
        session,
        actor,
        "framework.create",
        f"framework:{data['code']}",
        after=summary(_version(framework, result.version)),
    )
    return result


def _next_label(framework: Framework, today: dt.date) -> str:
    taken = {version.version for version in framework.versions}
    label, suffix = today.isoformat(), 1
    while label in taken:
        suffix += 1
        label = f"{today.isoformat()}-{suffix}"
    return label


def _start_draft(
    session: Session, actor: Actor, framework: Framework, label: str | None, citation: str | None
) -> FrameworkVersion:
    if (existing := _draft(framework)) is not None:
        raise Conflict(
            f"{framework.code} already has a draft, version {existing.version}.",
            action="framework.version.create",
            target=f"framework:{framework.code}",
            existing={"version": existing.version, "status": "draft"},
        )
    current = version_on(framework)
    if current is None:
        raise InvalidData(f"{framework.code} has no published version to start a draft from.")
    label = label or _next_label(framework, dt.date.today())
    if any(version.version == label for version in framework.versions):
        raise Conflict(
            f"{framework.code} has a version {label} already.",
            action="framework.version.create",
            target=f"framework:{framework.code}",
            existing={"version": label},
        )
    draft = FrameworkVersion(
        framework=framework, version=label, status="draft", citation=citation or current.citation
    )
    session.add(draft)
    copies: dict[int, Level] = {}
    for level in current.levels:
        fields_ = {
            c.key: getattr(level, c.key)
            for c in Level.__table__.columns
            if c.key not in ("id", "version_id")
        }
        copies[level.id] = Level(version=draft, **fields_)
        session.add(copies[level.id])
    for link in current.links:
        session.add(
            LevelLink(
                owner_version=draft,
                source=copies.get(link.source_id, link.source),
                target=copies.get(link.target_id, link.target),
                relation=link.relation,
                basis=link.basis,
                citation=link.citation,
                valid_from=link.valid_from,
                valid_to=link.valid_to,
                note=link.note,
                secondary_source=link.secondary_source,
                succession=link.succession,
            )
        )
    session.flush()
    audit.record(
        session,
        actor,
        "framework.version.create",
        f"framework:{framework.code}/{label}",
        after=summary(draft),
    )
    return draft


def new_draft(session: Session, actor: Actor, code: str, raw: Any) -> FrameworkVersion:
    """A draft of the next version, copied from the version in force."""
    data = validated(NewDraftSchema(), raw or {}, what="draft request")
    framework = _locked(session, code)
    authorize(actor, "framework.edit", target_of(framework), "framework.version.create")
    return _start_draft(session, actor, framework, data["version"], data["citation"])


def _draft_for_edit(session: Session, actor: Actor, framework: Framework) -> FrameworkVersion:
    return _draft(framework) or _start_draft(session, actor, framework, None, None)


def edit_level(session: Session, actor: Actor, code: str, level_code: str, raw: Any) -> Level:
    """Change a level's descriptive fields in the draft (created if there is none)."""
    changes = validated(LevelEditSchema(), raw, what="level")
    framework = _locked(session, code)
    authorize(actor, "framework.edit", target_of(framework), "framework.level.edit")
    draft = _draft_for_edit(session, actor, framework)
    level = find_level(draft, level_code)
    if level is None:
        raise NotFound(f"{code} has no level {level_code!r}.", level=level_code)
    before = audit.plain(level)
    for name, value in changes.items():
        setattr(level, name, value)
    session.flush()
    audit.record(
        session,
        actor,
        "framework.level.edit",
        f"framework:{code}/{draft.version}/level:{level.code}",
        before=before,
        after=audit.plain(level),
    )
    return level


def replace_level_links(
    session: Session, actor: Actor, code: str, level_code: str, raw: Any
) -> list[LevelLink]:
    """Replace the links the framework files for one level, in the draft (created if none).

    This is how an authority moves a level: its referencing link now points elsewhere.
    """
    items = validated(LevelLinkEditSchema(many=True), raw, what="link list")
    framework = _locked(session, code)
    authorize(actor, "link.edit", target_of(framework), "framework.links.replace")
    draft = _draft_for_edit(session, actor, framework)
    level = find_level(draft, level_code)
    if level is None:
        raise NotFound(f"{code} has no level {level_code!r}.", level=level_code)
    errors: dict[str, list[str]] = {}
    others = []
    for index, item in enumerate(items):
        other_code, other_level = item["to"].split(":", 1)
        other_framework = session.scalar(select(Framework).where(Framework.code == other_code))
        version = (
            draft
            if other_code == code
            else (version_on(other_framework) if other_framework else None)
        )
        other = find_level(version, other_level) if version else None
        if other is None:
            errors.setdefault(f"{index}.to", []).append(f"No level {item['to']!r} in the registry.")
        if item["valid_from"] and item["valid_to"] and item["valid_from"] >= item["valid_to"]:
            errors.setdefault(f"{index}.valid_to", []).append("Must be after valid_from.")
        others.append(other)
    if errors:
        raise InvalidData("The links are invalid; nothing was changed.", errors=errors)
    mine = [link for link in draft.links if level.id in (link.source_id, link.target_id)]
    before = [link_summary(link) for link in mine]
    for link in mine:
        draft.links.remove(link)
    session.flush()
    created = []
    for item, other in zip(items, others, strict=True):
        # A succession link runs from the superseded level to the one replacing it.
        source, target = (other, level) if item["succession"] else (level, other)
        link = LevelLink(
            owner_version=draft,
            source=source,
            target=target,
            **{key: value for key, value in item.items() if key != "to"},
        )
        session.add(link)
        created.append(link)
    session.flush()
    audit.record(
        session,
        actor,
        "framework.links.replace",
        f"framework:{code}/{draft.version}/level:{level.code}",
        before=before,
        after=[link_summary(link) for link in created],
    )
    return created


# The framework's identity: who owns it and whether paths may pass through it. A draft never
# changes these; an admin corrects them by loading the framework's file (`registry import`).
IDENTITY = (("country", "country"), ("meta", "is_meta"), ("owner", "owner"))


def replace_draft(session: Session, actor: Actor, code: str, version: str, raw: Any) -> LoadResult:
    """Replace a draft's whole definition with a framework file (levels and links).

    The draft changes nothing until it is published: a new name or description waits in the
    draft, and the framework's country, owner and meta flag must be the framework's own.
    """
    framework = _locked(session, code)
    authorize(actor, "framework.edit", target_of(framework), "framework.version.replace")
    existing = _version(framework, version)
    _refuse_unless_draft(existing, "framework.version.replace")
    if not isinstance(raw, dict) or raw.get("code") != code:
        raise InvalidData(
            "The file's code must be the framework's.", errors={"code": [f"Expected {code}."]}
        )
    if "owner" not in raw:
        raw = {**raw, "owner": framework.owner}
    data = validated(FrameworkFileSchema(), raw, what="framework file")
    changed = {
        key: [f"A draft cannot change the framework's {key} ({getattr(framework, name)!r})."]
        for key, name in IDENTITY
        if data[key] != getattr(framework, name)
    }
    if changed:
        raise InvalidData(
            f"A draft of {code} cannot change its {', '.join(changed)}; nothing was written.",
            errors=changed,
        )
    before = summary(existing)
    version_data = raw.get("version") if isinstance(raw.get("version"), dict) else {}
    raw = {**raw, "version": {**version_data, "version": version, "status": "draft"}}
    result = load_framework(session, raw, identity=False)
    framework = _locked(session, code)
    audit.record(
        session,
        actor,
        "framework.version.replace",
        f"framework:{code}/{version}",
        before=before,
        after=summary(_version(framework, version)),
    )
    return result


def _check_start(valid_from: dt.date, today: dt.date) -> None:
    latest = today + dt.timedelta(days=PUBLISH_AHEAD_DAYS)
    if valid_from > latest:
        raise InvalidData(
            f"A version takes effect at most {PUBLISH_AHEAD_DAYS // 366} years ahead.",
            errors={"valid_from": [f"{latest} or earlier."]},
        )


def publish(session: Session, actor: Actor, code: str, version: str, raw: Any) -> FrameworkVersion:
    """Make a draft the version in force from `valid_from` (default today)."""
    data = validated(PublishSchema(), raw or {}, what="publish request")
    framework = _locked(session, code)
    authorize(actor, "framework.publish", target_of(framework))
    draft = _version(framework, version)
    _refuse_unless_draft(draft, "framework.publish")
    valid_from = data["valid_from"] or dt.date.today()
    _check_start(valid_from, dt.date.today())
    if valid_from < dt.date.today():
        # Stored decisions cite the version in force on their dates: the past is not rewritten.
        raise InvalidData(
            "A version cannot take effect in the past.",
            errors={"valid_from": [f"Today ({dt.date.today()}) or later."]},
        )
    previous = version_on(framework)
    if previous and previous.valid_from and valid_from <= previous.valid_from:
        raise InvalidData(
            f"The new version must start after {previous.version} ({previous.valid_from}).",
            errors={"valid_from": [f"After {previous.valid_from}."]},
        )
    before = {"draft": audit.plain(draft), "previous": audit.plain(previous) if previous else None}
    if previous is not None:
        previous.status = "superseded"
        if previous.valid_to is None or previous.valid_to > valid_from:
            previous.valid_to = valid_from
    draft.status = "published"
    draft.valid_from = valid_from
    draft.published_at = dt.datetime.now(dt.UTC)
    # What the draft held for the framework itself takes effect with it.
    if draft.name is not None:
        framework.name = draft.name
    if draft.description is not None:
        framework.description = draft.description
    session.flush()
    bump_graph_generation(session)
    audit.record(
        session,
        actor,
        "framework.publish",
        f"framework:{code}/{version}",
        before=before,
        after={
            "published": audit.plain(draft),
            "previous": audit.plain(previous) if previous else None,
        },
    )
    return draft


def correct_publication(
    session: Session, actor: Actor, code: str, version: str, raw: Any
) -> FrameworkVersion:
    """An admin moves the day the version in force took (or takes) effect, e.g. a mistaken
    `valid_from` far ahead that would block every later publication. The previous version's
    end moves with it; the event keeps the reason and both dates."""
    data = validated(CorrectionSchema(), raw or {}, what="correction")
    framework = _locked(session, code)
    authorize(actor, "framework.correct", target_of(framework))
    current = _version(framework, version)
    if current is not version_on(framework) or current.status != "published":
        raise Conflict(
            f"Only the version in force of {code} can be corrected; {version} is {current.status}.",
            action="framework.correct",
            target=f"framework:{code}/{version}",
            existing={"version": version, "status": current.status},
        )
    valid_from = data["valid_from"]
    _check_start(valid_from, dt.date.today())
    previous = next(
        (
            v
            for v in reversed(framework.versions)
            if v.status == "superseded" and v.valid_to == current.valid_from
        ),
        None,
    )
    if previous and previous.valid_from and valid_from <= previous.valid_from:
        raise InvalidData(
            f"The version must start after {previous.version} ({previous.valid_from}).",
            errors={"valid_from": [f"After {previous.valid_from}."]},
        )
    if current.valid_to and valid_from >= current.valid_to:
        raise InvalidData(
            f"The version must start before its end ({current.valid_to}).",
            errors={"valid_from": [f"Before {current.valid_to}."]},
        )
    before = {
        "version": audit.plain(current),
        "previous": audit.plain(previous) if previous else None,
    }
    current.valid_from = valid_from
    if previous is not None:
        previous.valid_to = valid_from
    session.flush()
    bump_graph_generation(session)
    audit.record(
        session,
        actor,
        "framework.correct",
        f"framework:{code}/{version}",
        before=before,
        after={
            "version": audit.plain(current),
            "previous": audit.plain(previous) if previous else None,
            "reason": data["reason"],
        },
    )
    return current
