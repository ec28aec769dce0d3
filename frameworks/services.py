"""Frameworks, levels, credit systems and grading scales: look-ups and loading definition files.

Services validate with their schema, `flush()` and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from pathlib import Path
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from frameworks.models import (
    ANSWERING,
    CreditConversionRule,
    CreditSystem,
    Framework,
    FrameworkVersion,
    GradeConversionTable,
    GradeDistribution,
    GradingScale,
    Level,
    LevelLink,
)
from frameworks.schemas import (
    LEVEL_REF,
    LINK_DEFAULTS,
    CreditSystemsFileSchema,
    FrameworkFileSchema,
    GradingScalesFileSchema,
)
from registry.core import changes
from registry.core.errors import Conflict, InvalidData, NotFound, PermissionDenied, Unauthenticated
from registry.core.permissions import Actor, Target, authorize

DATA_DIR = Path(__file__).resolve().parent / "data"


# --- level references -------------------------------------------------------------------


def parse_level_ref(text: str | None, field: str = "level") -> tuple[str, str]:
    """Split `FRAMEWORK:LEVEL`; anything else is InvalidData naming `field`."""
    match = LEVEL_REF.match((text or "").strip())
    if not match:
        raise InvalidData(
            f"{text!r} is not a level reference of the form FRAMEWORK:LEVEL (e.g. IE-NFQ:8).",
            errors={field: ["Expected FRAMEWORK:LEVEL, e.g. IE-NFQ:8."]},
        )
    return match[1], match[2]


def get_framework(session: Session, code: str) -> Framework:
    framework = session.scalar(select(Framework).where(Framework.code == code))
    if framework is None:
        raise NotFound(f"No framework with code {code!r}.", code=code)
    return framework


def list_frameworks(session: Session) -> list[Framework]:
    return list(
        session.scalars(select(Framework).order_by(Framework.is_meta.desc(), Framework.code))
    )


def version_on(framework: Framework, day: dt.date | None = None) -> FrameworkVersion | None:
    """The published (or since superseded) version in force on `day`; without a day, the current one."""
    candidates = [v for v in framework.versions if v.status in ANSWERING]
    if day is not None:
        candidates = [v for v in candidates if v.valid_on(day)]
    else:
        candidates = [v for v in candidates if v.status == "published"] or candidates
    return candidates[-1] if candidates else None


def find_level(version: FrameworkVersion, code: str) -> Level | None:
    """A level by code or alias, case-insensitively (`AT-NQR:vi`, `AT-NQR:6`)."""
    wanted = code.casefold()
    for level in version.levels:
        if level.code.casefold() == wanted:
            return level
    for level in version.levels:
        if wanted in (alias.casefold() for alias in level.aliases or ()):
            return level
    return None


@dataclass(frozen=True)
class ResolvedLevel:
    """A level reference checked against the registry; `in_force` is False outside its version."""

    ref: str
    level: Level
    in_force: bool


def resolve_level(session: Session, text: str, on: dt.date, field: str = "level") -> ResolvedLevel:
    """Resolve `FRAMEWORK:LEVEL` on a date.

    Unknown framework: NotFound. A level the framework does not have: InvalidData naming `field`
    and listing the framework's levels. A level whose version is not in force on `on` resolves
    with `in_force=False`, so the caller can answer with a reason instead of an error.
    """
    framework_code, level_code = parse_level_ref(text, field)
    framework = get_framework(session, framework_code)
    in_force = version_on(framework, on)
    released = [v for v in reversed(framework.versions) if v.status in ANSWERING]
    for version in [in_force, *released]:
        level = find_level(version, level_code) if version is not None else None
        if level is not None:
            return ResolvedLevel(f"{framework.code}:{level.code}", level, version is in_force)
    known = ", ".join(
        level.code for level in (version_on(framework) or framework.versions[-1]).levels
    )
    raise InvalidData(
        f"{framework.code} has no level {level_code!r}; its levels are {known}.",
        errors={field: [f"Unknown level {level_code!r} of {framework.code}."]},
    )


def target_of(framework: Framework) -> Target:
    """The framework as permissions see it: owned by the ministry of its country; a
    meta-framework by the registry (admins)."""
    return Target(
        "framework",
        framework.code,
        country=framework.country,
        framework=framework.code,
        meta=framework.is_meta,
    )


def may_see_drafts(actor: Actor, framework: Framework) -> bool:
    """Whether the actor may see the framework's drafts: those who may edit it (its ministry,
    admins). A draft is private to them until it is published."""
    try:
        authorize(actor, "framework.edit", target_of(framework))
    except (Unauthenticated, PermissionDenied):
        return False
    return True


def drafts_of(framework: Framework) -> list[FrameworkVersion]:
    return [v for v in framework.versions if v.status == "draft"]


def no_such_version(framework: Framework, version: str, show_drafts: bool) -> NotFound:
    """A wrong version name, saying which draft exists to those who may see it (only)."""
    detail = f"{framework.code} has no version {version!r}."
    if not show_drafts:
        return NotFound(detail, code=framework.code)
    drafts = [v.version for v in drafts_of(framework)]
    if drafts:
        detail += f" Its draft is version {', '.join(map(repr, drafts))}."
    else:
        detail += " It has no draft (POST .../versions starts one)."
    return NotFound(detail, code=framework.code, drafts=drafts)


def framework_view(session: Session, actor: Actor, code: str) -> SimpleNamespace:
    """One framework as FrameworkSchema shows it: its released versions to everyone, and its
    drafts (`drafts`) to those who may edit it, to no one else."""
    framework = get_framework(session, code)
    shown = SimpleNamespace(
        **{
            name: getattr(framework, name)
            for name in ("code", "name", "country", "is_meta", "owner", "description", "versions")
        }
    )
    if may_see_drafts(actor, framework):
        shown.drafts = drafts_of(framework)
    return shown


def get_version(session: Session, actor: Actor, code: str, version: str) -> FrameworkVersion:
    """One version; a draft is shown only to those who may edit the framework. To anyone else,
    anonymous included, a draft does not exist (404, as for a wrong name): private records
    answer 404 to others, so that no 401 or 403 tells them a draft of that name is there."""
    framework = get_framework(session, code)
    found = next((v for v in framework.versions if v.version == version), None)
    show_drafts = may_see_drafts(actor, framework)
    if found is None or (found.status == "draft" and not show_drafts):
        raise no_such_version(framework, version, show_drafts)
    return found


def list_levels(session: Session, code: str, on: dt.date | None = None) -> list[Level]:
    """Levels of the version in force on `on` (default: the current version), lowest first."""
    framework = get_framework(session, code)
    version = version_on(framework, on)
    if version is None:
        raise NotFound(f"{code} had no version in force on {on}.", code=code)
    return list(version.levels)


def get_level(session: Session, framework_code: str, level_code: str) -> Level:
    framework = get_framework(session, framework_code)
    version = version_on(framework)
    level = find_level(version, level_code) if version else None
    if level is None:
        raise NotFound(f"{framework_code} has no level {level_code!r}.", level=level_code)
    return level


# --- change tokens (registry.core.changes) --------------------------------------------------


# Frameworks, their versions, levels and links: the level graph and every public framework read.
GRAPH = "level_graph"
# Credit systems and grading scales with their distributions, conversion rules and tables.
UNITS = "units"


def graph_generation(session: Session) -> str:
    return changes.current(session, GRAPH)


def bump_graph_generation(session: Session) -> None:
    changes.renew(session, GRAPH)


# --- loading framework definition files ----------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    code: str
    version: str
    outcome: str  # created | unchanged | replaced | corrected
    levels: int
    links: int

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


# Version fields added to the file format after registries had stored digests.
LATER_OPTIONAL = frozenset({"corrects"})


def _digest(data: dict[str, Any]) -> str:
    """The definition's fingerprint. Optional fields added to the file format since are left out
    while unset (version fields in LATER_OPTIONAL, link fields at LINK_DEFAULTS), so that every
    file a registry already holds keeps its digest (or reloading it would be refused as a
    change to a published version)."""
    version = {
        key: value
        for key, value in data["version"].items()
        if value is not None or key not in LATER_OPTIONAL
    }
    links = [
        {key: value for key, value in link.items() if LINK_DEFAULTS.get(key, ...) != value}
        for link in data.get("links", ())
    ]
    canonical = json.dumps(
        {**data, "version": version, "links": links},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validated(schema, data: Any, *, what: str) -> dict[str, Any]:
    try:
        return schema.load(data)
    except ValidationError as error:
        raise InvalidData(
            f"The {what} is invalid; nothing was written.", errors=error.messages
        ) from error


def _check_levels(levels: list[dict[str, Any]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    seen_codes: dict[str, int] = {}
    seen_ordinals: dict[int, int] = {}
    for index, level in enumerate(levels):
        for name in [level["code"], *level["aliases"]]:
            key = name.casefold()
            if key in seen_codes:
                errors.setdefault(f"levels.{index}.code", []).append(
                    f"Duplicate level code or alias {name!r} (also levels.{seen_codes[key]})."
                )
            seen_codes[key] = index
        if level["ordinal"] in seen_ordinals:
            errors.setdefault(f"levels.{index}.ordinal", []).append(
                f"Duplicate ordinal {level['ordinal']} (also levels.{seen_ordinals[level['ordinal']]})."
            )
        seen_ordinals[level["ordinal"]] = index
    return errors


def _link_endpoint(
    session: Session, ref: str, own_code: str, own_levels: dict[str, dict]
) -> Level | dict | None:
    framework_code, level_code = ref.split(":", 1)
    if framework_code == own_code:
        return own_levels.get(level_code.casefold())
    framework = session.scalar(select(Framework).where(Framework.code == framework_code))
    version = version_on(framework) if framework else None
    return find_level(version, level_code) if version else None


def load_framework(session: Session, raw: Any, *, identity: bool = True) -> LoadResult:
    """Load one framework-definition file (already parsed JSON) as one framework version.

    The whole file is checked first: schema errors, duplicate levels, links to levels that exist
    neither in the file nor in the registry. Any error rejects the file whole, listing every
    error, with nothing written. Loading the same definition again changes nothing; a changed
    definition replaces a draft version but is refused (Conflict) for a published one.

    With `identity` False (a draft replaced by its authority) the framework row is left alone:
    a changed name or description is kept in the draft until it is published.
    """
    data = validated(FrameworkFileSchema(), raw, what="framework file")
    code = data["code"]
    errors = _check_levels(data["levels"])
    own_levels: dict[str, dict] = {}
    for level in data["levels"]:
        for name in [level["code"], *level["aliases"]]:
            own_levels[name.casefold()] = level
    endpoints = []
    for index, link in enumerate(data["links"]):
        ends = []
        for side, key in (("from", "source"), ("to", "target")):
            found = _link_endpoint(session, link[key], code, own_levels)
            if found is None:
                errors.setdefault(f"links.{index}.{side}", []).append(
                    f"No level {link[key]!r} in this file or in the registry."
                )
            ends.append(found)
        if code not in (link["source"].split(":")[0], link["target"].split(":")[0]):
            errors.setdefault(f"links.{index}", []).append(
                f"A link in the {code} file must start or end at a {code} level."
            )
        if link["valid_from"] and link["valid_to"] and link["valid_from"] >= link["valid_to"]:
            errors.setdefault(f"links.{index}.valid_to", []).append("Must be after valid_from.")
        if link["succession"] and (
            link["target"].split(":")[0] != code or link["source"].split(":")[0] == code
        ):
            errors.setdefault(f"links.{index}.succession", []).append(
                f"A succession link runs from a level of the superseded framework to a {code} "
                "level: the successor's legal text states the correspondence."
            )
        endpoints.append(ends)
    if errors:
        raise InvalidData(
            f"The {code} framework file is invalid; nothing was written.", errors=errors
        )

    digest = _digest(data)
    framework = session.scalar(select(Framework).where(Framework.code == code))
    if framework is None:
        framework, identity = Framework(code=code), True
        session.add(framework)
    version_data = data["version"]
    version = next((v for v in framework.versions if v.version == version_data["version"]), None)
    outcome = "created"
    if version is not None:
        if version.definition_digest == digest:
            return LoadResult(
                code, version.version, "unchanged", len(version.levels), len(data["links"])
            )
        if version.status != "draft":
            raise Conflict(
                f"{code} version {version.version} is {version.status} and cannot change; "
                "load the new definition as a new version.",
                existing={"code": code, "version": version.version, "status": version.status},
            )
        session.delete(version)
        session.flush()
        outcome = "replaced"
    corrected = _corrected(framework, version_data)
    if corrected is not None:
        outcome = "corrected"
    # Written only with a new or replaced version: reloading an unchanged file (load-reference)
    # leaves what a publication made of the framework alone.
    pending = {}
    if identity:
        framework.name = data["name"]
        framework.country = data["country"]
        framework.is_meta = data["meta"]
        framework.owner = data["owner"]
        framework.description = data["description"]
    else:
        pending = {
            key: data[key]
            for key in ("name", "description")
            if data[key] is not None and data[key] != getattr(framework, key)
        }
    version = FrameworkVersion(
        framework=framework, definition_digest=digest, **version_data, **pending
    )
    if version.status == "published":
        version.published_at = dt.datetime.now(dt.UTC)
    session.add(version)
    created = {}
    for level_data in data["levels"]:
        level = Level(version=version, **level_data)
        session.add(level)
        for name in [level_data["code"], *level_data["aliases"]]:
            created[name.casefold()] = level
    session.flush()
    for link, (source, target) in zip(data["links"], endpoints, strict=True):
        source = created[source["code"].casefold()] if isinstance(source, dict) else source
        target = created[target["code"].casefold()] if isinstance(target, dict) else target
        session.add(
            LevelLink(
                owner_version=version,
                source=source,
                target=target,
                relation=link["relation"],
                basis=link["basis"],
                citation=link["citation"],
                valid_from=link["valid_from"],
                valid_to=link["valid_to"],
                note=link["note"],
                secondary_source=link["secondary_source"],
                succession=link["succession"],
            )
        )
    session.flush()
    bump_graph_generation(session)
    return LoadResult(code, version.version, outcome, len(data["levels"]), len(data["links"]))


def _corrected(framework: Framework, version_data: dict[str, Any]) -> FrameworkVersion | None:
    """The version a file corrects, now set aside (status `corrected`); the correction answers
    for the same award dates and keeps its status unless the file says otherwise. None when
    the file corrects nothing, or nothing this registry holds (a registry loading the corrected
    file first never had the wrong one)."""
    wanted = version_data.get("corrects")
    old = next((v for v in framework.versions if v.version == wanted), None) if wanted else None
    if old is None or old.status == "corrected":
        return None
    if old.status == "draft":
        raise Conflict(
            f"{framework.code} version {wanted} is a draft: replace it, there is nothing to "
            "correct.",
            existing={"code": framework.code, "version": wanted, "status": old.status},
        )
    version_data["status"] = old.status
    for bound in ("valid_from", "valid_to"):
        if version_data.get(bound) is None:
            version_data[bound] = getattr(old, bound)
    old.status = "corrected"
    return old


def _upsert(session: Session, model, key: str, rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in rows:
        existing = session.scalar(select(model).where(getattr(model, key) == row[key]))
        if existing is None:
            session.add(model(**row))
            counts["created"] += 1
        elif any(getattr(existing, name) != value for name, value in row.items()):
            for name, value in row.items():
                setattr(existing, name, value)
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    session.flush()
    return counts


def load_credit_systems(session: Session, raw: Any) -> dict[str, int]:
    data = validated(CreditSystemsFileSchema(), raw, what="credit systems file")
    counts = _upsert(session, CreditSystem, "code", data["credit_systems"])
    if counts["created"] or counts["updated"]:
        changes.renew(session, UNITS)
    return counts


def load_grading_scales(session: Session, raw: Any) -> dict[str, int]:
    data = validated(GradingScalesFileSchema(), raw, what="grading scales file")
    scales = [
        {**scale, "bands": json.loads(json.dumps(scale["bands"], default=str))}
        for scale in data["grading_scales"]
    ]
    counts = _upsert(session, GradingScale, "code", scales)
    known = {scale["code"] for scale in scales} | set(session.scalars(select(GradingScale.code)))
    distributions = []
    for index, table in enumerate(data["distributions"]):
        if table["scale"] not in known:
            raise InvalidData(
                "A distribution names an unknown scale; nothing was written.",
                errors={f"distributions.{index}.scale": [f"Unknown scale {table['scale']!r}."]},
            )
        rows = [{"grade": row["grade"], "percent": str(row["percent"])} for row in table["rows"]]
        distributions.append(
            {
                "scale_code": table["scale"],
                "reference_group": table["reference_group"],
                "rows": rows,
                "citation": table["citation"],
            }
        )
    changed = counts["created"] + counts["updated"]
    for row in distributions:
        existing = session.scalar(
            select(GradeDistribution).where(
                GradeDistribution.scale_code == row["scale_code"],
                GradeDistribution.reference_group == row["reference_group"],
            )
        )
        if existing is None:
            session.add(GradeDistribution(**row))
            changed += 1
        elif (existing.rows, existing.citation) != (row["rows"], row["citation"]):
            existing.rows, existing.citation = row["rows"], row["citation"]
            changed += 1
    session.flush()
    if changed:
        changes.renew(session, UNITS)
    return counts


# --- credit systems and grading scales --------------------------------------------------------


def get_credit_system(session: Session, code: str, field: str) -> CreditSystem:
    system = session.scalar(select(CreditSystem).where(CreditSystem.code == code))
    if system is None:
        known = ", ".join(session.scalars(select(CreditSystem.code).order_by(CreditSystem.code)))
        raise InvalidData(
            f"Unknown credit system {code!r}; known: {known}.",
            errors={field: [f"Unknown credit system {code!r}."]},
        )
    return system


def get_credit_rule(session: Session, code: str) -> CreditConversionRule:
    rule = session.scalar(select(CreditConversionRule).where(CreditConversionRule.code == code))
    if rule is None:
        raise InvalidData(f"Unknown conversion rule {code!r}.", errors={"rule": ["Unknown rule."]})
    return rule


def get_grading_scale(session: Session, code: str, field: str) -> GradingScale:
    scale = session.scalar(select(GradingScale).where(GradingScale.code == code))
    if scale is None:
        known = ", ".join(session.scalars(select(GradingScale.code).order_by(GradingScale.code)))
        raise InvalidData(
            f"Unknown grading scale {code!r}; known: {known}.",
            errors={field: [f"Unknown grading scale {code!r}."]},
        )
    return scale


def list_credit_systems(session: Session) -> list[CreditSystem]:
    return list(session.scalars(select(CreditSystem).order_by(CreditSystem.code)))


def list_grading_scales(session: Session) -> list[GradingScale]:
    return list(session.scalars(select(GradingScale).order_by(GradingScale.code)))


def get_distribution(
    session: Session, scale: str, group: str = "default"
) -> GradeDistribution | None:
    return session.scalar(
        select(GradeDistribution).where(
            GradeDistribution.scale_code == scale, GradeDistribution.reference_group == group
        )
    )


def get_conversion_table(session: Session, code: str) -> GradeConversionTable:
    table = session.scalar(select(GradeConversionTable).where(GradeConversionTable.code == code))
    if table is None:
        raise InvalidData(
            f"Unknown conversion table {code!r}.", errors={"table": ["Unknown table."]}
        )
    return table


def all_versions(session: Session) -> list[FrameworkVersion]:
    """Every version with its framework, levels and links, in a handful of queries."""
    endpoint = selectinload(Level.version).selectinload(FrameworkVersion.framework)
    return list(
        session.scalars(
            select(FrameworkVersion)
            .order_by(FrameworkVersion.id)
            .options(
                selectinload(FrameworkVersion.framework),
                selectinload(FrameworkVersion.levels),
                selectinload(FrameworkVersion.links).options(
                    selectinload(LevelLink.source).options(endpoint),
                    selectinload(LevelLink.target).options(endpoint),
                ),
            )
        )
    )
