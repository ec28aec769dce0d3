"""Open Badges 3.0 credentials (1EdTech OpenBadgeCredential / AchievementCredential): JSON, on
either Verifiable Credentials data model (VC 1.1: `issuanceDate`, `expirationDate`; VC 2.0:
`validFrom`, `validUntil`), or the same secured as a VC-JWT (OB 3.0 section 8.2: a compact JWS).

A file holds one credential, a JSON list of them (a list entry may be a VC-JWT string, as the OB
3.0 API's `compactJwsString` gives them), or one VC-JWT; each credential becomes one transcript
with one result, the badge's achievement:

    transcript   issued_on = the credential's issuance (VC 1.1 issuanceDate, VC 2.0 validFrom),
                 else awardedDate
    issuer       name (the issuer's id when its Profile states no name: the credential is still
                 someone's), country (address.addressCountryCode), identifiers: the domain of its
                 `url`, else of its `id` when that is a web address; otherIdentifier entries by
                 their type ("ext:eIDASIdentifier" -> "eidas")
    learner      credentialSubject.id and its IdentityObjects (hashed ones as their hash), the
                 name from an unhashed "name" identity
    result       the achievement's name, humanCode, achievementType, inLanguage; EQF level and
                 ISCED-F field from alignments that point at the Europass vocabularies (or say EQF/
                 ISCED as their framework and give the code); the first stated result value as
                 the grade with its result description's name; the status (below);
                 started_on = the subject's activityStartDate; ended_on = the award date:
                 awardedDate, else the credential's issuance (issuanceDate / validFrom), which is
                 when the VC data models say the issuer vouched for it

Status: the result's own ResultStatusType (Completed -> passed ...), passed when none is stated
(a badge is awarded for what was achieved). A credential the registry cannot hold as currently
valid is never stored as passed: it is `unknown` (the transcript's "not established", which a
transfer evaluation flags for review) when it has expired (validUntil / expirationDate / the
JWT's exp before the import), is not yet valid (validFrom / issuanceDate / nbf after it), or
names a revocation or suspension status (credentialStatus: a status-list entry whose
statusPurpose is revocation or suspension, or a revocation list such as 1EdTechRevocationList).
Those lists are remote and the registry does not fetch them, so it cannot tell a revoked badge
from a valid one; the award date is kept either way (the achievement was awarded on it).

Credits: what the learner holds first, the subject's `creditsEarned`, else the achievement's
`creditsAvailable` (what it offers). OB 3.0 states credits as a bare number with no unit, which
is never guessed: they are stored in the import's `credit_system` when it gives one, else under
the credit system `UNSTATED`, which no conversion knows (an evaluation flags it as an unknown
credit system instead of converting). A badge stating no credits gets `credits_per_badge` (in
`credit_system`) when the import gives it, else none.

Records are rejected only for what makes them meaningless: no achievement, an achievement with
no name, no issuer at all. Criteria narratives, descriptions and skill alignments (ESCO) have no
field in the transcript and are not kept.

Proofs are not verified here: neither a JSON credential's embedded proof nor a VC-JWT's
signature (verification is a separate step). A VC-JWT is decoded with the standard library; its
transcript's format is `open-badges-jwt` (so what the registry holds says it was read from a JWT
whose signature it did not check) and its records' positions in the import report say
"(VC-JWT, signature not verified)". A VC 1.1 JWT carries the credential under its `vc` claim,
with jti/iss/nbf/exp/sub setting id/issuer/issuanceDate/expirationDate/credentialSubject.id (VC
1.1 section 6.3.1); a VC 2.0 (OB 3.0 JOSE) JWT's payload is the credential itself.

Files of other kinds are refused with what they are: Open Badges 2.0 (and 1.x) objects, CLR 2.0
ClrCredentials, EndorsementCredentials, other Verifiable Credentials, pre-release OB 3.0 drafts.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from importers import elm
from importers.elm import as_list, day, domain, eqf_level, isced_code, key, read_json, result
from importers.runner import FileError, Rejected
from registry.core.errors import InvalidData

FORMAT = "open-badges"
# The format of a transcript read from a VC-JWT, whose signature the import does not verify.
JWT_FORMAT = "open-badges-jwt"
JWT_POSITION = " (VC-JWT, signature not verified)"
# The credit system of credits a badge states when the import names none: OB 3.0 gives no unit.
UNSTATED = "UNSTATED"
BADGE_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
SUPPORTED = (
    "the registry reads Open Badges 3.0 credentials (OpenBadgeCredential or "
    "AchievementCredential), as JSON or as a VC-JWT"
)
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
# credentialStatus purposes that can take a credential's validity away.
INVALIDATING_PURPOSES = {"revocation", "suspension"}
EQF_CODE = re.compile(r"^[1-8]$")
ISCED_CODE = re.compile(r"^\d{2,4}$")
# A compact JWS (RFC 7515 section 7.1): three base64url parts; the signature may be empty.
COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
BASE64URL = re.compile(r"^[A-Za-z0-9_-]*$")
OB2_CONTEXT = re.compile(r"w3id\.org/openbadges/v[12]\b")
# Open Badges 1.x / 2.0 classes (hosted or signed JSON-LD objects, not Verifiable Credentials).
OB2_TYPES = (
    "Assertion",
    "BadgeClass",
    "Issuer",
    "Profile",
    "Endorsement",
    "RevocationList",
    "CryptographicKey",
)
OB3_OBJECTS = ("Achievement", "Profile", "AchievementSubject", "EndorsementSubject")


def badge_records(
    stream: IO[bytes],
    *,
    credit_system: str | None,
    credits_per_badge: Decimal | str | None = None,
    now: dt.datetime | None = None,
) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    """(position, record) per credential: `credential 1`, `credential 2`... in file order.

    `now` (default: the current time) is when validity is judged (expired, not yet valid).
    Raises InvalidData (before reading) for `credits_per_badge` without `credit_system`, and
    FileError for a file that is not JSON or a VC-JWT, too large, or neither a badge nor a list.
    """
    if credits_per_badge is not None and not credit_system:
        raise InvalidData(
            "Credits per badge need their credit system.",
            errors={"credit_system": ["Required with credits_per_badge."]},
        )
    return _records(stream, credit_system, credits_per_badge, now or dt.datetime.now(dt.UTC))


def _records(
    stream: IO[bytes],
    credit_system: str | None,
    credits_per_badge: Decimal | str | None,
    now: dt.datetime,
) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    data = stream.read(elm.MAX_JSON_BYTES + 1)
    text = data.removeprefix(b"\xef\xbb\xbf").strip()
    if text.startswith(b"eyJ"):
        # base64url of '{"': a JOSE header, so a VC-JWT (or what is left of one).
        if len(data) > elm.MAX_JSON_BYTES:
            raise FileError("file", f"larger than {elm.MAX_JSON_BYTES} bytes, far beyond a VC-JWT")
        credentials: list[Any] = [_jwt(text.decode("ascii", "replace"))]
        jwt = [True]
    else:
        document = read_json(
            io.BytesIO(data), "an Open Badges credential, a list of them, or a VC-JWT"
        )
        if isinstance(document, dict):
            found = _found(document)
            if found:
                raise FileError("file", f"{found}; {SUPPORTED}")
            credentials, jwt = [document], [False]
        elif isinstance(document, list):
            credentials, jwt = [], []
            for item in document:
                if isinstance(item, str) and COMPACT_JWS.match(item.strip()):
                    try:
                        item = _jwt(item.strip())
                    except FileError as error:
                        item = Rejected(error.reason)
                    jwt.append(True)
                else:
                    jwt.append(False)
                credentials.append(item)
        else:
            raise FileError(
                "file",
                f"not an Open Badges credential: the JSON is a {type(document).__name__}; "
                + SUPPORTED,
            )
    for number, (credential, from_jwt) in enumerate(zip(credentials, jwt, strict=True), 1):
        position = f"credential {number}" + (JWT_POSITION if from_jwt else "")
        if isinstance(credential, Rejected):
            yield position, credential
            continue
        found = _found(credential)
        if found:
            yield position, Rejected(found)
            continue
        subjects = as_list(credential.get("credentialSubject")) or [None]
        for index, subject in enumerate(subjects, start=1):
            where = position if len(subjects) == 1 else f"{position} subject {index}"
            yield where, _record(
                credential, _dict(subject), credit_system, credits_per_badge, now, from_jwt
            )


# --- what a file is -------------------------------------------------------------------------


def _types(value: dict[str, Any]) -> list[str]:
    kinds = as_list(value.get("type", value.get("@type")))
    return [kind.removeprefix("obi:") for kind in kinds if isinstance(kind, str)]


def _contexts(value: Any) -> list[str]:
    """Every URL an @context names, inline context objects' values included."""
    out: list[str] = []
    for entry in as_list(value):
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, dict):
            out.extend(item for item in entry.values() if isinstance(item, str))
    return out


def _found(value: Any) -> str | None:
    """None for an Open Badges 3.0 achievement credential, else what the value is instead."""
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__}, not a credential"
    types = _types(value)
    if BADGE_TYPES & set(types):
        return None
    contexts = _contexts(value.get("@context"))
    shown = "/".join(types) or "none"
    if "ClrCredential" in types:
        return (
            "a CLR 2.0 ClrCredential (a Comprehensive Learner Record bundling credentials, "
            "a format the registry does not read)"
        )
    if "EndorsementCredential" in types:
        return "an Open Badges 3.0 EndorsementCredential (it endorses; it awards no achievement)"
    if "VerifiablePresentation" in types:
        return "a Verifiable Presentation (import the credentials it holds, each on its own)"
    if "VerifiableCredential" in types:
        others = [kind for kind in types if kind != "VerifiableCredential"]
        if any(kind.startswith(("OpenBadge", "Achievement")) for kind in others) or any(
            "w3id.org/openbadges" in context for context in contexts
        ):
            return (
                f"a pre-release Open Badges 3.0 draft (type {shown}, "
                f"context {', '.join(contexts) or 'none'})"
            )
        return (
            f"a Verifiable Credential of type {'/'.join(others) or 'none'}, "
            "not an Open Badges 3.0 achievement credential"
        )
    # An OB 1.x / 2.0 context: its URL, else an inline one naming the OB vocabulary.
    old = next((c for c in contexts if OB2_CONTEXT.search(c)), None) or next(
        (c for c in contexts if "w3id.org/openbadges#" in c), None
    )
    ob2 = next((kind for kind in OB2_TYPES if kind in types), None)
    if old or (ob2 and ob2 != "Profile"):
        version = "1.x" if old and "/v1" in old else "2.0"
        return (
            f"an Open Badges {version} {ob2 or 'object'} (context {old or 'none'}), superseded "
            "by Open Badges 3.0"
        )
    if "recipient" in value and "badge" in value:
        return "an Open Badges 1.x assertion (recipient and badge, no context), superseded"
    ob3 = next((kind for kind in OB3_OBJECTS if kind in types), None)
    if ob3 and any("imsglobal.org/spec/ob/v3p0" in context for context in contexts):
        return f"an Open Badges 3.0 {ob3} on its own, not a credential awarding it"
    return f"not an Open Badges credential (type {shown}, @context {', '.join(contexts) or 'none'})"


# --- VC-JWT ---------------------------------------------------------------------------------


def _jwt(text: str) -> dict[str, Any]:
    """The credential a VC-JWT carries, decoded and NOT verified; FileError when it is no
    compact JWS or carries no credential."""
    parts = text.split(".")
    if len(parts) != 3 or not all(BASE64URL.match(part) for part in parts):
        raise FileError(
            "file",
            f"not a compact JWS: {len(parts)} part(s), where a VC-JWT has three base64url "
            "parts (header.payload.signature)",
        )
    header, payload = _segment(parts[0], "header"), _segment(parts[1], "payload")
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise FileError("file", "a JWS whose header names no algorithm (alg): not a VC-JWT")
    if not isinstance(payload, dict):
        raise FileError("file", "a JWS whose payload is not a JSON object: not a VC-JWT")
    if isinstance(payload.get("vc"), dict):
        return _vc11_claims(payload["vc"], payload)
    if "@context" in payload or "type" in payload:
        return payload  # VC 2.0 secured with JOSE: the payload is the credential
    if "vp" in payload:
        raise FileError("file", f"a Verifiable Presentation as a JWT; {SUPPORTED}")
    raise FileError(
        "file", "a JWT that carries no credential (no vc claim, no credential as its payload)"
    )


def _segment(part: str, name: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw, parse_float=Decimal)
    except (binascii.Error, ValueError, RecursionError) as error:
        raise FileError("file", f"a JWS whose {name} is not base64url JSON: {error}") from error


def _vc11_claims(credential: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
    """The `vc` claim with the registered claims put where VC 1.1 (section 6.3.1) says they go."""
    credential = dict(credential)
    if isinstance(claims.get("jti"), str):
        credential["id"] = claims["jti"]
    if isinstance(claims.get("iss"), str):
        issuer = credential.get("issuer")
        credential["issuer"] = (
            {**issuer, "id": claims["iss"]} if isinstance(issuer, dict) else claims["iss"]
        )
    for claim, name in (("nbf", "issuanceDate"), ("exp", "expirationDate")):
        stamp = _numeric_date(claims.get(claim))
        if stamp:
            credential[name] = stamp
    subject = credential.get("credentialSubject")
    if isinstance(claims.get("sub"), str) and isinstance(subject, dict):
        credential["credentialSubject"] = {**subject, "id": claims["sub"]}
    return credential


def _numeric_date(value: Any) -> str | None:
    """A JWT NumericDate (seconds since the epoch, RFC 7519) as an ISO 8601 UTC timestamp."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    try:
        moment = dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat().replace("+00:00", "Z")


# --- one credential -------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """A plain string, or a JSON-LD language value ({"@value": ...}, or a list of them: the
    English one, else the first)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _text(value.get("@value"))
    if isinstance(value, list):
        english = [v for v in value if isinstance(v, dict) and v.get("@language") == "en"]
        for item in english + value:
            if text := _text(item):
                return text
    return None


def _instant(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp (UTC when it names no offset); None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _invalid(credential: dict[str, Any], now: dt.datetime) -> bool:
    """Whether the registry cannot hold the credential as valid now (see the module docstring)."""
    until = _instant(credential.get("validUntil") or credential.get("expirationDate"))
    since = _instant(credential.get("validFrom") or credential.get("issuanceDate"))
    if (until and until < now) or (since and since > now):
        return True
    for entry in map(_dict, as_list(credential.get("credentialStatus"))):
        purposes = {str(purpose).lower() for purpose in as_list(entry.get("statusPurpose"))}
        kinds = " ".join(str(kind) for kind in as_list(entry.get("type"))).lower()
        if purposes & INVALIDATING_PURPOSES or "revocation" in kinds or "suspension" in kinds:
            return True
    return False


def _record(
    credential: dict[str, Any],
    subject: dict[str, Any],
    credit_system: str | None,
    credits_per_badge: Decimal | str | None,
    now: dt.datetime,
    from_jwt: bool,
) -> dict[str, Any] | Rejected:
    achievement = _dict(subject.get("achievement"))
    title = _text(achievement.get("name"))
    issuer = _issuer(credential.get("issuer"))
    problems = []
    if not achievement:
        problems.append("the credential's subject states no achievement")
    elif not title:
        problems.append("the achievement has no name")
    if issuer is None:
        problems.append("the credential names no issuer")
    if problems:
        return Rejected("; ".join(problems))
    stated = subject.get("creditsEarned")
    if stated is None:
        stated = achievement.get("creditsAvailable")
    if stated is not None:
        credits, system = stated, credit_system or UNSTATED
    elif credits_per_badge is not None:
        credits, system = credits_per_badge, credit_system
    else:
        credits = system = None
    issued = day(credential.get("issuanceDate") or credential.get("validFrom"))
    awarded = day(credential.get("awardedDate")) or issued
    first = _dict(next(iter(as_list(subject.get("result"))), None))
    status = first.get("status") if isinstance(first.get("status"), str) else None
    status = STATUSES.get(status, "unknown") if status else "passed"
    if status == "passed" and _invalid(credential, now):
        status = "unknown"
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
            "format": JWT_FORMAT if from_jwt else FORMAT,
            "document_id": credential.get("id") if isinstance(credential.get("id"), str) else None,
            "issued_on": issued or awarded,
            "issuer": issuer,
            "learner": _learner(subject),
        },
        "result": result(
            local_id,
            title,
            kind=achievement.get("achievementType"),
            code=achievement.get("humanCode"),
            language=achievement.get("inLanguage"),
            credits=str(credits) if credits is not None else None,
            credit_system=system,
            grade=first.get("value"),
            grading_scheme=description.get("name"),
            eqf_level=eqf,
            isced_f=isced,
            status=status,
            started_on=day(subject.get("activityStartDate")),
            ended_on=awarded,
        ),
    }


def _issuer(value: Any) -> dict[str, Any] | None:
    """The issuer Profile (or its bare id, as VC allows); None when there is none at all."""
    profile = {"id": value} if isinstance(value, str) else _dict(value)
    name = _text(profile.get("name"))
    own_id = profile.get("id").strip() if isinstance(profile.get("id"), str) else None
    if not name and not own_id:
        return None
    identifiers = {}
    for entry in map(_dict, as_list(profile.get("otherIdentifier"))):
        kind = str(entry.get("identifierType", "")).removeprefix("ext:").lower()
        if kind and isinstance(entry.get("identifier"), str):
            identifiers["eidas" if kind == "eidasidentifier" else key(kind)] = entry["identifier"]
    host = domain(profile.get("url")) or domain(own_id)
    if host:
        identifiers["domain"] = host
    address = _dict(profile.get("address"))
    return {
        "name": name or own_id,
        "country": address.get("addressCountryCode"),
        "identifiers": identifiers,
    }


def _learner(subject: dict[str, Any]) -> dict[str, Any]:
    identifiers, name = {}, None
    if isinstance(subject.get("id"), str):
        identifiers["id"] = subject["id"]
    for identity in map(_dict, as_list(subject.get("identifier"))):
        kind, value = identity.get("identityType"), identity.get("identityHash")
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
