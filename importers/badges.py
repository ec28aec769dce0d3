"""Open Badges 3.0 credentials (1EdTech OpenBadgeCredential / AchievementCredential, JSON).

A file holds one credential or a JSON list of them; each becomes one transcript with one result,
the badge's achievement:

    transcript   issued_on = awardedDate (else the VC 1.1 issuanceDate)
    issuer       name, country (address.addressCountryCode), identifiers: the domain of its
                 `url`, else of its `id` when that is a web address; otherIdentifier entries by
                 their type ("ext:eIDASIdentifier" -> "eidas")
    learner      credentialSubject.id and its IdentityObjects (hashed ones as their hash), the
                 name from an unhashed "name" identity
    result       the achievement's name, humanCode, achievementType, inLanguage; EQF level and
                 ISCED-F field from alignments that point at the Europass vocabularies (or say EQF/
                 ISCED as their framework and give the code); the first stated result value as
                 the grade with its result description's name; the status from the result
                 (Completed -> passed ...), passed when none is stated (a badge is awarded for
                 what was achieved); ended_on = awardedDate

Credits: the unit is never guessed. OB 3.0's `creditsAvailable` is a bare number, so it is taken
only with the import's `credit_system`; without one the credential is rejected with the reason.
A badge stating no credits gets `credits_per_badge` (in `credit_system`) when the import gives
it, else none. Criteria narratives, descriptions and skill alignments (ESCO) have no field in
the transcript and are not kept. Proofs are not verified here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from importers.elm import as_list, day, domain, eqf_level, isced_code, key, read_json, result
from importers.runner import FileError, Rejected
from registry.core.errors import InvalidData

FORMAT = "open-badges"
BADGE_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
# OB 3.0 ResultStatusType -> the transcript's statuses.
STATUSES = {
    "Completed": "passed",
    "Failed": "failed",
    "Enrolled": "in_progress",
    "InProgress": "in_progress",
    "OnHold": "in_progress",
    "Provisional": "in_progress",
    "Withdrew": "withdrawn",
}
EQF_CODE = re.compile(r"^[1-8]$")
ISCED_CODE = re.compile(r"^\d{2,4}$")


def badge_records(
    stream: IO[bytes], *, credit_system: str | None, credits_per_badge: Decimal | str | None = None
) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    """(position, record) per credential: `credential 1`, `credential 2`... in file order.

    Raises InvalidData (before reading) for `credits_per_badge` without `credit_system`, and
    FileError for a file that is not JSON, too large, or neither a badge nor a list.
    """
    if credits_per_badge is not None and not credit_system:
        raise InvalidData(
            "Credits per badge need their credit system.",
            errors={"credit_system": ["Required with credits_per_badge."]},
        )
    return _records(stream, credit_system, credits_per_badge)


def _records(
    stream: IO[bytes], credit_system: str | None, credits_per_badge: Decimal | str | None
) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    document = read_json(stream, "an Open Badges credential or a list of them")
    if isinstance(document, dict):
        if not _is_badge(document):
            raise FileError(
                "file",
                f"not an Open Badges 3.0 credential: type is "
                f"{document.get('type')!r}, @context is "
                f"{document.get('@context')!r}",
            )
        credentials = [document]
    elif isinstance(document, list):
        credentials = document
    else:
        raise FileError(
            "file",
            "not an Open Badges credential or a list of them: the JSON is "
            f"a {type(document).__name__}",
        )
    for number, credential in enumerate(credentials, start=1):
        position = f"credential {number}"
        if not _is_badge(credential):
            found = (
                credential.get("type")
                if isinstance(credential, dict)
                else type(credential).__name__
            )
            yield position, Rejected(f"not an Open Badges 3.0 credential ({found!r})")
            continue
        yield position, _record(credential, credit_system, credits_per_badge)


def _is_badge(value: Any) -> bool:
    return isinstance(value, dict) and bool(BADGE_TYPES & set(as_list(value.get("type"))))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _record(
    credential: dict[str, Any], credit_system: str | None, credits_per_badge: Decimal | str | None
) -> dict[str, Any] | Rejected:
    subject = _dict(next(iter(as_list(credential.get("credentialSubject"))), None))
    achievement = _dict(subject.get("achievement"))
    stated = achievement.get("creditsAvailable")
    if stated is not None and not credit_system:
        return Rejected(f"the badge states {stated} credits but no unit; pass the credit system")
    credits = stated if stated is not None else credits_per_badge
    awarded = credential.get("awardedDate")
    first = _dict(next(iter(as_list(subject.get("result"))), None))
    status = first.get("status") if isinstance(first.get("status"), str) else None
    description = next(
        (
            _dict(item)
            for item in as_list(achievement.get("resultDescription"))
            if _dict(item).get("id") == first.get("resultDescription")
        ),
        {},
    )
    eqf, isced = _alignments(as_list(achievement.get("alignment")))
    local_id = achievement.get("id") if isinstance(achievement.get("id"), str) else "achievement"
    return {
        "transcript": {
            "format": FORMAT,
            "document_id": credential.get("id") if isinstance(credential.get("id"), str) else None,
            "issued_on": day(awarded or credential.get("issuanceDate")),
            "issuer": _issuer(_dict(credential.get("issuer"))),
            "learner": _learner(subject),
        },
        "result": result(
            local_id,
            achievement.get("name"),
            kind=achievement.get("achievementType"),
            code=achievement.get("humanCode"),
            language=achievement.get("inLanguage"),
            credits=str(credits) if credits is not None else None,
            credit_system=credit_system if credits is not None else None,
            grade=first.get("value"),
            grading_scheme=description.get("name"),
            eqf_level=eqf,
            isced_f=isced,
            status=STATUSES.get(status, "unknown") if status else "passed",
            ended_on=day(awarded),
        ),
    }


def _issuer(profile: dict[str, Any]) -> dict[str, Any]:
    identifiers = {}
    for entry in as_list(profile.get("otherIdentifier")):
        kind = str(_dict(entry).get("identifierType", "")).removeprefix("ext:").lower()
        if kind and isinstance(entry.get("identifier"), str):
            identifiers["eidas" if kind == "eidasidentifier" else key(kind)] = entry["identifier"]
    host = domain(profile.get("url")) or domain(profile.get("id"))
    if host:
        identifiers["domain"] = host
    address = _dict(profile.get("address"))
    return {
        "name": profile.get("name"),
        "country": address.get("addressCountryCode"),
        "identifiers": identifiers,
    }


def _learner(subject: dict[str, Any]) -> dict[str, Any]:
    identifiers, name = {}, None
    if isinstance(subject.get("id"), str):
        identifiers["id"] = subject["id"]
    for identity in as_list(subject.get("identifier")):
        kind, value = _dict(identity).get("identityType"), _dict(identity).get("identityHash")
        if isinstance(kind, str) and isinstance(value, str):
            identifiers[key(kind)] = value
            if kind == "name" and not identity.get("hashed"):
                name = value
    return {"identifiers": identifiers, "name": name}


def _alignments(alignments: list[Any]) -> tuple[int | None, str | None]:
    """(EQF level, ISCED-F code) from alignments: a Europass vocabulary URL, or a framework
    named EQF / ISCED with the level or field as its code (as SURF's edubadges write them)."""
    eqf = isced = None
    for alignment in map(_dict, alignments):
        url = alignment.get("targetUrl")
        named = f"{alignment.get('targetFramework')} {alignment.get('targetType')}".upper()
        code = str(alignment.get("targetCode") or "").strip()
        if eqf is None:
            eqf = eqf_level(url) or (int(code) if "EQF" in named and EQF_CODE.match(code) else None)
        if isced is None:
            isced = isced_code(url) or (
                code if "ISCED" in named and ISCED_CODE.match(code) else None
            )
    return eqf, isced
