"""What a verifier checks of a credential's claims, whatever signs it: its issuer against the
one the trusted key stands for, and its validity dates (and its proof's or token's) on the day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from importers.verification.result import check


def issuer_id(issuer: Any) -> str | None:
    """A credential's `issuer`: a string, or an object's `id`."""
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def issuer_check(claimed: str | None, signer: str) -> dict[str, str]:
    """The issuer the credential names against `signer`, the one its trusted key stands for."""
    if claimed is None:
        return check("issuer", "failed", "the credential names no issuer")
    if signer != claimed:
        return check(
            "issuer",
            "failed",
            f"the key stands for {signer} in the trust list, the credential names {claimed}",
        )
    return check("issuer", "passed", f"issuer {claimed}, the one the trusted key stands for")


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


def signing_time_check(name: str, value: Any, certificate: Any) -> dict[str, str]:
    """A seal's claimed signing time (JAdES `sigT`, XAdES `SigningTime`, named `name`) inside
    its certificate's validity; a claim only, since no timestamp is verified."""
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return check("signing_time", "failed", f"{name} {value!r} is not a time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if not start <= moment <= end:
        return check(
            "signing_time",
            "failed",
            f"{name} {value} is outside the certificate's validity ({start:%Y-%m-%d} to "
            f"{end:%Y-%m-%d})",
        )
    return check(
        "signing_time",
        "passed",
        f"{name} {value}, inside the certificate's validity (the signer's claim; not proven by a "
        "verified timestamp)",
    )
