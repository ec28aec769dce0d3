"""A credential signed: as a VC-JWT (a compact JWS, VC-JOSE-COSE) or with a Data Integrity
proof. Signatures are made by joserfc and by the Data Integrity module, never here."""

from __future__ import annotations

import json
import warnings
from typing import Any

from joserfc import jws
from joserfc.errors import SecurityWarning

from importers.verification import data_integrity
from registry.statements.credentials import moment
from registry.statements.keys import SigningKey

JWT_MEDIA_TYPE = "application/vc+jwt"
# VC Data Model 2.0: a credential secured with an embedded proof.
DI_MEDIA_TYPE = "application/vc"


def as_jwt(credential: dict[str, Any], key: SigningKey) -> str:
    """The credential as the payload of a compact JWS signed with EdDSA (Ed25519), with `iss`
    the issuer, `nbf` and `iat` the decision's time, `jti` the credential's id, and `kid` the
    key's verification method. Ed25519 signatures are deterministic: the same credential and
    key give the same token."""
    issued = int(_issued(credential).timestamp())
    payload = {
        **credential,
        "iss": key.issuer,
        "jti": credential["id"],
        "nbf": issued,
        "iat": issued,
    }
    header = {"alg": "EdDSA", "kid": key.verification_method, "typ": "vc+jwt", "cty": "vc"}
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    with warnings.catch_warnings():
        # joserfc calls "EdDSA" deprecated (RFC 9864); VC-JWT verifiers expect that name.
        warnings.simplefilter("ignore", SecurityWarning)
        return jws.serialize_compact(header, data, key.jwk(), algorithms=["EdDSA"])


def as_di(credential: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    """The credential with a Data Integrity proof, cryptosuite eddsa-rdfc-2022, by the key's
    verification method, `created` the decision's time (so the same credential and key give the
    same proof: Ed25519 is deterministic)."""
    return data_integrity.sign(
        credential,
        key.private,
        key.verification_method,
        cryptosuite=data_integrity.EDDSA,
        created=_issued(credential),
    )


def _issued(credential: dict[str, Any]) -> Any:
    return moment(credential["validFrom"].removesuffix("Z"))
