"""Signed statements and their check codes: what the API, the CLI and the pages call.

A statement is read through the same service as the record's own GET, with the caller's actor:
whoever may not read the record gets NotFound, exactly as for an unknown id. The check by code
is public: the code is the proof that its holder was given the statement (codes.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from mappings import recognition
from mappings.models import Assessment
from mappings.pathways import services as pathways
from mappings.transfer import services as transfers
from registry.catalogue.articulations.models import TransferEvaluation
from registry.catalogue.pathways.models import PathwayEvaluation
from registry.core.errors import InvalidData, NotFound
from registry.core.permissions import OPERATOR, Actor
from registry.statements import codes, keys, signing
from registry.statements.credentials import credential, moment
from registry.statements.keys import NO_KEY, NoSigningKey, SigningKey

FORMATS = ("jwt", "di")
MEDIA_TYPES = {"jwt": signing.JWT_MEDIA_TYPE, "di": signing.DI_MEDIA_TYPE}
MODELS = {"assessment": Assessment, "transfer": TransferEvaluation, "pathway": PathwayEvaluation}
NOT_ISSUED = "No statement issued by this registry has this check code."


@dataclass
class Issuing:
    """What signing needs besides the record: the server's secret the check codes are made
    with, the public address of the registry, and the key file with the issuer it signs as.
    The key is read when first needed: a page that only shows a check code never reads it."""

    secret: str
    base_url: str
    key_file: Path
    issuer: str | None = None

    @cached_property
    def key(self) -> SigningKey | None:
        """The signing key; None when there is no key file.

        :raise InvalidData: a key file that cannot be read as an Ed25519 key.
        """
        return keys.load(self.key_file, self.issuer)

    def check_url(self, code: str) -> str:
        return f"{self.base_url.rstrip('/')}/check/{code}"


def read(session: Session, actor: Actor, kind: str, number: int) -> dict[str, Any]:
    """The stored record as its GET answers it, for whoever may read it (NotFound otherwise)."""
    if kind == "assessment":
        return recognition.get_assessment(session, actor, number)
    if kind == "transfer":
        return transfers.present(transfers.get_evaluation(session, actor, number))
    return pathways.present(pathways.get_pathway_evaluation(session, actor, number))


def check_code(issuing: Issuing, kind: str, found: dict[str, Any]) -> str:
    return codes.make(issuing.secret, kind, found["id"], found["inputs_digest"])


def statement(issuing: Issuing, kind: str, found: dict[str, Any]) -> dict[str, Any]:
    """The unsigned credential of a record read with `read`.

    :raise NoSigningKey: no key is configured (the issuer is the key's).
    """
    key = _key(issuing)
    url = issuing.check_url(check_code(issuing, kind, found))
    return credential(kind, found, key.issuer, url)


def signed(
    session: Session, actor: Actor, issuing: Issuing, kind: str, number: int, fmt: str
) -> tuple[str, Any]:
    """The record's statement signed in `fmt` (jwt or di), with its media type: a compact JWS
    (a string) or a JSON document with its proof.

    :raise NotFound: no such record, or one the actor may not read.
    :raise InvalidData: an unknown format.
    :raise NoSigningKey: no key is configured.
    """
    if fmt not in FORMATS:
        raise InvalidData(
            f"The format must be one of {', '.join(FORMATS)}.",
            errors={"format": [f"Must be one of: {', '.join(FORMATS)}."]},
        )
    found = read(session, actor, kind, number)
    return MEDIA_TYPES[fmt], _sign(issuing, kind, found, fmt)


def _sign(issuing: Issuing, kind: str, found: dict[str, Any], fmt: str) -> Any:
    document = statement(issuing, kind, found)
    key = _key(issuing)
    return signing.as_jwt(document, key) if fmt == "jwt" else signing.as_di(document, key)


def _key(issuing: Issuing) -> SigningKey:
    if issuing.key is None:
        raise NoSigningKey(NO_KEY + ".")
    return issuing.key


def check(session: Session, issuing: Issuing, text: str) -> dict[str, Any]:
    """What the statement a check code names states in public: its kind, number, decision,
    date and inputs digest (what the printed statement shows its holder), and its code.

    :raise NotFound: the text is not a code the registry issued (malformed, no such record,
        or a tag that is not the record's): the same answer for each, so that nothing tells
        a guess that came close from one that did not.
    """
    code, found = _named(session, issuing, text)
    return {
        "kind": code.kind,
        "number": code.number,
        "code": check_code(issuing, code.kind, found),
        "made_at": moment(found["created_at"]),
        "inputs_digest": found["inputs_digest"],
        **_outcome(code.kind, found),
    }


def signed_by_code(session: Session, issuing: Issuing, text: str, fmt: str) -> tuple[str, Any]:
    """The statement a check code names, signed in `fmt`: what its holder downloads.

    :raise NotFound: not a code the registry issued.
    :raise NoSigningKey: no key is configured.
    """
    code, found = _named(session, issuing, text)
    return MEDIA_TYPES[fmt], _sign(issuing, code.kind, found, fmt)


def _named(session: Session, issuing: Issuing, text: str) -> tuple[codes.Code, dict[str, Any]]:
    """The code and the record it names, read as its GET answers it.

    :raise NotFound: not a code the registry issued (see `check`).
    """
    code = codes.read(text)
    row = session.get(MODELS[code.kind], code.number) if code else None
    if row is None or not codes.matches(issuing.secret, code, row.inputs_digest):
        raise NotFound(NOT_ISSUED)
    # The code proved its holder was given the statement: read as the registry itself.
    return code, read(session, OPERATOR, code.kind, code.number)


def _outcome(kind: str, found: dict[str, Any]) -> dict[str, Any]:
    """The decision as the statement states it."""
    if kind == "assessment":
        target = found.get("target") or {}
        return {
            "decision": found["decision"],
            "target": target.get("framework") or target.get("country"),
        }
    summary = found.get("summary") or {}
    return {
        "decision": "evaluated",
        "granted": summary.get("granted"),
        "credit_system": summary.get("credit_system"),
    }
