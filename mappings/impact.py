"""What publishing a draft framework version would change, before it is published.

The registry's graph is built twice on the day the draft would take effect: once as it stands,
once as if the draft were published that day. Every level of the framework (in the version in
force or in the draft) is looked up in every other framework in both graphs, and each answer
that differs is reported with the old and the new side by side, and so is every stored
assessment whose decision would change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from frameworks import services as frameworks
from mappings import recognition, rulebook
from mappings.graph import Equivalents, LevelGraph
from mappings.models import Assessment
from mappings.schemas import CredentialSchema
from mappings.services import Window, build_graph, published_windows
from registry.core.errors import Conflict
from registry.core.permissions import Actor, authorize


def _fingerprint(answer: Equivalents | None) -> Any:
    if answer is None:
        return None
    return (tuple((m.level, m.relation, m.confidence) for m in answer.matches), answer.reason)


def compare(
    old: LevelGraph,
    new: LevelGraph,
    old_refs: set[str],
    new_refs: set[str],
    targets: list[str],
    on: dt.date,
) -> list[dict[str, Any]]:
    """Every (level, target framework) whose answer differs between the two graphs.

    A level absent on one side (added or removed by the draft) has `None` there.
    """
    changes = []
    for ref in sorted(
        old_refs | new_refs, key=lambda r: (new.ordinals.get(r, old.ordinals.get(r, 0)), r)
    ):
        for target in targets:
            before = old.equivalents(ref, target, on) if ref in old_refs else None
            after = new.equivalents(ref, target, on) if ref in new_refs else None
            if _fingerprint(before) != _fingerprint(after):
                changes.append(
                    {
                        "level": ref,
                        "target_framework": target,
                        "old": before,
                        "new": after,
                    }
                )
    return changes


def stored_decisions_changed(
    session: Session, code: str, graph: LevelGraph
) -> list[dict[str, Any]]:
    """The stored assessments from or into `code` whose decision the new graph would change,
    re-run on their own inputs; the old decision is the one stored."""
    changed = []
    rows = session.scalars(
        select(Assessment)
        .where(or_(Assessment.source_framework == code, Assessment.target_framework == code))
        .order_by(Assessment.id)
    )
    for row in rows:
        if "stack" in row.inputs:
            continue  # a stack has no single level path of its own
        credential = CredentialSchema().load(row.inputs)
        spec = recognition.resolve_target(session, row.target, row.target_type)
        evaluated = [rule.get("rule") for rule in row.result.get("rules", ())]
        deciding = rulebook.institutions_evaluated(session, [r for r in evaluated if r])
        answer = recognition.run(session, credential, spec, graph, deciding)
        if answer["decision"] != row.decision:
            changed.append(
                {
                    "id": row.id,
                    "title": row.inputs.get("title"),
                    "target": row.target,
                    "old": row.decision,
                    "new": answer["decision"],
                    "new_levels": answer["target"].get("levels", []),
                }
            )
    return changed


def impact(
    session: Session, actor: Actor, code: str, version: str, on: dt.date | None = None
) -> dict[str, Any]:
    """The impact report of draft `version` of framework `code`, taking effect on `on`."""
    framework = frameworks.get_framework(session, code)
    authorize(actor, "framework.impact", frameworks.target_of(framework))
    draft = next((v for v in framework.versions if v.version == version), None)
    if draft is None or draft.status != "draft":
        # The caller may edit the framework (authorised above): name the draft there is.
        drafts = [v.version for v in frameworks.drafts_of(framework)]
        which = f" Its draft is version {', '.join(drafts)}." if drafts else " It has no draft."
        raise Conflict(
            f"{code} version {version} is not a draft; the impact report compares a draft with "
            f"the version in force.{which}",
            existing={"version": version, "status": draft.status if draft else None},
            drafts=drafts,
        )
    on = on or draft.valid_from or dt.date.today()
    current = frameworks.version_on(framework, on)
    versions = frameworks.all_versions(session)
    old_windows = published_windows(versions)
    new_windows: dict[int, Window] = dict(old_windows)
    if current is not None:
        new_windows[current.id] = (current.valid_from, on)
    new_windows[draft.id] = (on, None)
    old_graph = build_graph(versions, old_windows)
    new_graph = build_graph(versions, new_windows)
    old_refs = {f"{code}:{level.code}" for level in (current.levels if current else ())}
    new_refs = {f"{code}:{level.code}" for level in draft.levels}
    targets = [other.code for other in frameworks.list_frameworks(session) if other.code != code]
    changes = compare(old_graph, new_graph, old_refs, new_refs, targets, on)
    return {
        "assessments": stored_decisions_changed(session, code, new_graph),
        "framework": code,
        "version": version,
        "compared_with": current.version if current else None,
        "on": on,
        "levels": len(old_refs | new_refs),
        "frameworks": len(targets),
        "changes": changes,
    }
