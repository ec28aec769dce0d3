"""A credential's validity dates (and its proof's or token's) against the day of verification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from importers.verification.result import check


def credential_bounds(credential: dict) -> list[tuple[str, str, Any]]:
    """The start and end bounds a credential states: `validFrom`/`validUntil` (VC 2.0) and
    `issuanceDate`/`expirationDate` (VC 1.1), as (side, name, value)."""
    return [
        ("start", "validFrom", credential.get("validFrom")),
        ("end", "validUntil", credential.get("validUntil")),
        ("start", "issuanceDate", credential.get("issuanceDate")),
        ("end", "expirationDate", credential.get("expirationDate")),
    ]


def dates_check(bounds: list[tuple[str, str, Any]], on: dt.date) -> dict[str, str]:
    """Every bound stated, against the day `on`, each bound inclusive; a value that is not a
    date fails."""
    said, problems = [], []
    for side, name, value in bounds:
        if value is None:
            continue
        when = day(value)
        if when is None:
            problems.append(f"{name} {value!r} is not a date")
            continue
        said.append(f"{name} {when}")
        if side == "start" and when > on:
            problems.append(f"not valid before {when} ({name}), verified on {on}")
        if side == "end" and when < on:
            problems.append(f"expired on {when} ({name}), verified on {on}")
    if problems:
        return check("validity", "failed", "; ".join(problems))
    stated = ", ".join(said) if said else "no validity dates stated"
    return check("validity", "passed", f"valid on {on} ({stated})")


def day(value: Any) -> dt.date | None:
    """The UTC day of a NumericDate (seconds) or an ISO 8601 date-time, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return (moment.astimezone(dt.UTC) if moment.tzinfo else moment).date()
    return None
