"""Framework files as their authorities publish them, and the bundled reference data.

`import_definition` loads one framework file under the caller's authority, with an audit event;
`load_reference` loads every bundled framework, credit system and grading scale (idempotent).
The file checks and the version rules are `services.load_framework`'s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frameworks.models import Framework
from frameworks.schemas import FrameworkFileSchema
from frameworks.services import (
    DATA_DIR,
    LoadResult,
    load_credit_systems,
    load_framework,
    load_grading_scales,
    target_of,
    validated,
)
from registry.core import audit
from registry.core.permissions import Actor, Target, authorize


def _framework_files(directory: Path) -> list[dict[str, Any]]:
    """Read every framework file, ordered so that a file's link targets load before it."""
    files = {}
    for path in sorted((directory / "frameworks").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        files[raw.get("code", path.stem)] = raw
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()

    def place(code: str, trail: tuple[str, ...] = ()) -> None:
        if code in placed or code in trail or code not in files:
            return
        for link in files[code].get("links", []):
            for ref in (link.get("from", ""), link.get("to", "")):
                place(ref.split(":")[0], (*trail, code))
        placed.add(code)
        ordered.append(files[code])

    for code in files:
        place(code)
    return ordered


def import_definition(session: Session, actor: Actor, raw: Any) -> LoadResult:
    """Load a framework file as its authority (or an admin) published it, with an audit event
    when anything changed."""
    data = validated(FrameworkFileSchema(), raw, what="framework file")
    code = data["code"]
    existing = session.scalar(select(Framework).where(Framework.code == code))
    written = Target("framework", code, country=data["country"], framework=code, meta=data["meta"])
    if existing is not None:
        # Both the record as it is and as the file would make it must be the caller's.
        authorize(actor, "framework.edit", target_of(existing))
    authorize(actor, "framework.edit" if existing else "framework.create", written)
    result = load_framework(session, raw)
    if result.outcome != "unchanged":
        audit.record(
            session,
            actor,
            "framework.import",
            f"framework:{result.code}/{result.version}",
            after=result.as_dict(),
        )
    return result


def load_reference(session: Session, actor: Actor, directory: Path = DATA_DIR) -> dict[str, Any]:
    """Load every bundled framework, credit system and grading scale. Idempotent."""
    authorize(actor, "reference.load", Target("reference", str(directory)))
    frameworks = [import_definition(session, actor, raw) for raw in _framework_files(directory)]
    credit_systems = load_credit_systems(
        session, json.loads((directory / "credit_systems.json").read_text(encoding="utf-8"))
    )
    scales = load_grading_scales(
        session, json.loads((directory / "grading_scales.json").read_text(encoding="utf-8"))
    )
    if (
        credit_systems["created"]
        + credit_systems["updated"]
        + scales["created"]
        + scales["updated"]
    ):
        audit.record(
            session,
            actor,
            "reference.load",
            "reference:units",
            after={"credit_systems": credit_systems, "grading_scales": scales},
        )
    return {
        "frameworks": [result.as_dict() for result in frameworks],
        "credit_systems": credit_systems,
        "grading_scales": scales,
    }
