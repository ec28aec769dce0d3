"""VC-JWT: a W3C Verifiable Credential (Open Badges 3.0 among them) as a compact JWS.

Checked, each reported as a check: the algorithm (EdDSA/Ed25519, ES256 or RS256; anything else,
`none` and HMAC included, is refused); the key, found in the trust list by the header's `kid` (a
key's kid, a DID URL, or an RFC 7638 thumbprint), else by the header's `jwk` (only through its
thumbprint: a key the file brings is never trusted by itself), else by the header's `x5c` (its
first certificate exactly one of the trust list's), else by the issuer (`iss`, or the
credential's `issuer`); the signature (by joserfc); the issuer: `iss` equals the credential's
`issuer`, and the trusted key stands for that issuer; the dates: `nbf`/`exp` and the
credential's `validFrom`/`validUntil` (VC 2.0) or `issuanceDate`/`expirationDate` (VC 1.1)
against the day of verification, each bound inclusive.

Not checked here: `crit` header extensions (a header naming any is refused by joserfc), the
credential's content against its schema (the importers do that), its `credentialStatus`
(services.verify checks a Bitstring Status List at hand, status_list.py), `aud`/`nonce` (a
presentation's, not a credential's), and certificates in `x5c` beyond an exact match with the
trust list.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import warnings
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwk, jws
from joserfc.errors import JoseError, SecurityWarning

from importers.verification.result import Verification, check
from importers.verification.trust import TrustedKey, TrustList, as_jwk
from importers.verification.validity import (
    credential_bounds,
    dates_check,
    issuer_check,
    issuer_id,
)

# "EdDSA" is how VC-JWTs name Ed25519 signatures; RFC 9864 renames it "Ed25519".
ALGORITHMS = ("EdDSA", "Ed25519", "ES256", "RS256")


def verify(token: str, trust: TrustList, on: dt.date) -> Verification:
    """The verdict on one compact JWS (three base64url parts separated by dots)."""
    parts = token.split(".")
    try:
        header = _part(parts[0], "header")
        claims = _part(parts[1], "payload")
    except ValueError as error:
        reason = str(error)
        return Verification("invalid", reason, None, [check("format", "failed", reason)])
    credential = claims["vc"] if isinstance(claims.get("vc"), dict) else claims
    vc_issuer = issuer_id(credential.get("issuer"))
    iss = claims.get("iss") if isinstance(claims.get("iss"), str) else None
    claimed = iss or vc_issuer
    checks = [check("format", "passed", "a compact JWS whose payload is a JSON object")]

    alg = header.get("alg")
    if alg not in ALGORITHMS:
        reason = f"the algorithm {alg!r} is not accepted (only {', '.join(ALGORITHMS)})"
        return Verification(
            "invalid", reason, claimed, [*checks, check("algorithm", "failed", reason)]
        )
    checks.append(check("algorithm", "passed", str(alg)))

    keys, how, problem = _candidates(header, claimed, trust, on)
    if not keys and not problem and claimed and trust.by_issuer(claimed):
        # A token in a listed issuer's name, naming a key that is not one of the issuer's: only
        # the issuer's own keys may vouch for it, and a forgery must not pass for an unknown.
        keys, how = trust.by_issuer(claimed), f"issuer {claimed} ({how} is none of its keys)"
    if problem:
        return Verification("invalid", problem, claimed, [*checks, check("key", "failed", problem)])
    if not keys:
        reason = f"no key of the trust list matches {how}"
        return Verification(
            "unknown_issuer", reason, claimed, [*checks, check("key", "failed", reason)]
        )
    checks.append(check("key", "passed", f"{how}: {len(keys)} key(s) of the trust list"))

    signer = next((key for key in keys if _signed_by(token, key, alg)), None)
    if signer is None:
        sources = ", ".join(sorted({key.source for key in keys}))
        reason = f"the signature does not match the trusted key(s) found for {how} ({sources})"
        return Verification(
            "invalid", reason, claimed, [*checks, check("signature", "failed", reason)]
        )
    checks.append(
        check(
            "signature", "passed", f"{alg} signature by a key of {signer.issuer} ({signer.source})"
        )
    )
    checks.append(_issuer_check(iss, vc_issuer, signer))
    token_bounds = [("start", "nbf", claims.get("nbf")), ("end", "exp", claims.get("exp"))]
    checks.append(dates_check([*token_bounds, *credential_bounds(credential)], on))
    failed = next((item for item in checks if item["result"] == "failed"), None)
    if failed:
        return Verification("invalid", failed["detail"], claimed, checks)
    return Verification(
        "verified", f"signed by {signer.issuer} ({alg}) and valid on {on}", signer.issuer, checks
    )


def _part(text: str, name: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise ValueError(f"the JWS {name} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"the JWS {name} is not a JSON object")
    return value


def _candidates(
    header: dict, claimed: str | None, trust: TrustList, on: dt.date
) -> tuple[list[TrustedKey], str, str | None]:
    """The trusted keys the header (or the issuer) points to, how they were found, and a reason
    the file is invalid whatever the keys (a header key or certificate that cannot be read)."""
    if isinstance(header.get("kid"), str):
        return trust.by_kid(header["kid"]), f"kid {header['kid']}", None
    if isinstance(header.get("jwk"), dict):
        try:
            thumbprint = jwk.import_key(header["jwk"]).thumbprint()
        except (JoseError, ValueError, TypeError) as error:
            return [], "", f"the header's jwk is not a usable key: {error}"
        return trust.by_thumbprint(thumbprint), f"the header's jwk (thumbprint {thumbprint})", None
    if isinstance(header.get("x5c"), list) and header["x5c"]:
        try:
            leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
        except (binascii.Error, ValueError, TypeError) as error:
            return [], "", f"the header's x5c certificate cannot be read: {error}"
        der = leaf.public_bytes(Encoding.DER)
        how = f"the header's x5c certificate ({leaf.subject.rfc4514_string()})"
        for entry in trust.certificates:
            if entry.certificate.public_bytes(Encoding.DER) == der:
                start, end = leaf.not_valid_before_utc.date(), leaf.not_valid_after_utc.date()
                if not start <= on <= end:
                    return (
                        [],
                        how,
                        f"the signing certificate is valid from {start} to {end}, not on {on}",
                    )
                key = as_jwk(leaf.public_key())
                return [TrustedKey(entry.issuer, key, entry.source)], how, None
        return [], how, None
    if claimed:
        return trust.by_issuer(claimed), f"issuer {claimed}", None
    return [], "no kid, jwk, x5c or issuer", None


def _registry(alg: str) -> jws.JWSRegistry:
    """joserfc's checks for one algorithm, with the file's bounds (the whole token is at most
    services' MAX_BYTES) instead of its defaults for small tokens: a header carrying an `x5c`
    chain or an RSA `jwk` is over its 512 bytes, a whole credential over its 128,000."""
    registry = jws.JWSRegistry(algorithms=[alg])
    registry.max_header_length = registry.max_payload_length = 16 << 20
    return registry


def _signed_by(token: str, key: TrustedKey, alg: str) -> bool:
    try:
        with warnings.catch_warnings():
            # joserfc warns that "EdDSA" is deprecated (RFC 9864); VC-JWTs are signed with it.
            warnings.simplefilter("ignore", SecurityWarning)
            jws.deserialize_compact(token, key.key, registry=_registry(alg))
    except (JoseError, ValueError, TypeError):
        return False
    return True


def _issuer_check(iss: str | None, vc_issuer: str | None, signer: TrustedKey) -> dict[str, str]:
    if iss and vc_issuer and iss != vc_issuer:
        return check(
            "issuer", "failed", f"the JWT's iss {iss} is not the credential's issuer {vc_issuer}"
        )
    if iss is None and vc_issuer is None:
        return check("issuer", "failed", "neither the JWT (iss) nor the credential names an issuer")
    return issuer_check(iss or vc_issuer, signer.issuer)
