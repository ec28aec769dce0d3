"""JAdES seals (ETSI TS 119 182-1) on Europass EDC credentials: a JWS in its JSON serialization.

The EDC issuer seals a credential as `{"payload": "<the credential's JSON text>", "signatures":
[{"protected", "header": {"etsiU": [...]}, "signature"}]}`: general JSON serialization, one
signature, the payload unencoded (`b64: false`, RFC 7797), the protected header carrying `x5c`,
`x5t#S256`, `kid` (the certificate's issuer and serial), `sigT` and `crit`. The flattened form,
a base64url payload and the compact serialization (services passes it here, as flattened JSON,
when its header has `sigT`) are read too.

Checked, each reported as a check: the shape (one signature; a payload in the file); the
algorithm (ALGORITHMS; `none`, HMAC and anything else refused); the critical header parameters
(`crit`): each must be one this module processes (`b64`, `sigT`) or knowingly accepts without
acting on it (ACCEPTED_CRITICAL, each named in the `critical` check), any other refuses the seal
(RFC 7515 section 4.1.11), `sigD` (a detached payload) and `sigPId` (a signature policy, whose
rules this version cannot apply) included; the signing certificate: the first `x5c`
certificate (or the trust list's certificate whose SHA-256 thumbprint is `x5t#S256`), `x5t#S256`
equal to its thumbprint, and the certificate in the trust list or issued by a CA of it (through
the other `x5c` certificates), each valid on the day of verification; the signature (joserfc,
over the protected header and the payload as RFC 7797 says); `sigT` a time inside the
certificate's validity; the payload a JSON credential whose `issuer` is the issuer the
certificate stands for in the trust list, or, for a certificate trusted through a listed CA,
whose issuer's eIDASIdentifier (or legalIdentifier) notation is the certificate's
organizationIdentifier (as the EDC issuer links a seal to its organisation); the credential's
validity dates against the day.

Not checked: the timestamps and validation data of the unsigned `etsiU` properties (sigTst,
arcTst, xVals, rVals: no RFC 3161 or LTA validation) and `adoTst`; so `sigT` is the signer's
claim, unproven, and an expired certificate makes the seal invalid even where an archive
timestamp would prove it was made in time (verify `--on` the sealing day to ask about then);
the semantics of signed attributes (`srCms`, `srAts`, `sigPl`); the qualified status of the
seal (no EU trusted list); revocation (no OCSP or CRL: no network); certificate extensions
(key usage, name constraints); more than one signature.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import warnings
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning
from joserfc.registry import HeaderParameter

from importers.verification.result import Verification, check
from importers.verification.trust import CertificateTrust, TrustList, as_jwk
from importers.verification.validity import credential_bounds, dates_check, signing_time_check

# What TS 119 312 and the EDC issuer sign with; "EdDSA" is Ed25519 (RFC 9864 renames it).
ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "Ed25519",
)
# Critical header parameters this module acts on.
PROCESSED_CRITICAL = {
    "b64": "processed (RFC 7797: the payload is signed as it stands)",
    "sigT": "checked as a time inside the certificate's validity (the signer's claim)",
}
# Critical header parameters accepted knowingly without acting on them: each only adds a claim
# (a content timestamp, a commitment, a place, the signer's attributes) that nothing here relies on.
ACCEPTED_CRITICAL = {
    "adoTst": "a timestamp of the signed data, accepted and not verified",
    "srCms": "the signer's commitments, accepted and not interpreted",
    "sigPl": "the place of signing, accepted and not interpreted",
    "srAts": "the signer's attributes (roles), accepted and not interpreted",
}
# Critical header parameters JAdES defines that this version refuses, with why.
REFUSED_CRITICAL = {
    "sigD": "a detached payload (sigD): the signed data is not in the file",
    "sigPId": "a signature policy (sigPId) whose rules this version cannot apply",
}
_HEADERS = {
    name: HeaderParameter(f"JAdES {name}", lambda value: None)
    for name in (*PROCESSED_CRITICAL, *ACCEPTED_CRITICAL)
    if name != "b64"
}


def is_jws_json(document: Any) -> bool:
    """Whether a JSON document is a JWS in its general or flattened JSON serialization."""
    return isinstance(document, dict) and (
        ("signatures" in document) or ("signature" in document and "protected" in document)
    )


def verify(
    document: dict, trust: TrustList, on: dt.date, *, serialization: str | None = None
) -> Verification:
    """The verdict on one JWS JSON serialization (as `is_jws_json` recognises), or on a compact
    one given as flattened JSON (`serialization="compact"` says so in the format check)."""
    member, problem = _member(document)
    if problem:
        return Verification("invalid", problem, None, [check("format", "failed", problem)])
    try:
        header = json.loads(_b64url(member["protected"]))
        if not isinstance(header, dict):
            raise ValueError
    except (ValueError, TypeError, binascii.Error):
        reason = "the JWS protected header is not base64url-encoded JSON"
        return Verification("invalid", reason, None, [check("format", "failed", reason)])
    encoded = header.get("b64", True) is not False
    credential, problem = _credential(document.get("payload"), encoded)
    if problem:
        return Verification("invalid", problem, None, [check("format", "failed", problem)])
    claimed = _issuer_id(credential.get("issuer"))
    shape = serialization or ("general JSON" if "signatures" in document else "flattened JSON")
    payload_form = "unencoded (b64 false, RFC 7797)" if not encoded else "base64url"
    checks = [check("format", "passed", f"a JWS in {shape} serialization, payload {payload_form}")]

    alg = header.get("alg")
    if alg not in ALGORITHMS:
        reason = f"the algorithm {alg!r} is not accepted (only {', '.join(ALGORITHMS)})"
        return Verification(
            "invalid", reason, claimed, [*checks, check("algorithm", "failed", reason)]
        )
    checks.append(check("algorithm", "passed", str(alg)))

    critical = _critical_check(header)
    checks.append(critical)
    if critical["result"] == "failed":
        return Verification("invalid", critical["detail"], claimed, checks)

    leaf, chain, problem = _certificates(header, trust)
    if problem:
        return Verification(
            "invalid", problem, claimed, [*checks, check("certificate", "failed", problem)]
        )
    if leaf is None:
        reason = (
            "the protected header carries no x5c certificate, and no certificate of the trust "
            "list has its x5t#S256 thumbprint"
        )
        return Verification(
            "unknown_issuer", reason, claimed, [*checks, check("certificate", "failed", reason)]
        )
    trusted = trust.certificate_trust(leaf, chain, on)
    answer = _untrusted(trusted, header, claimed, checks)
    if answer:
        return answer
    checks.append(check("certificate", "passed", trusted.detail))

    if not _signed(document, leaf, alg):
        reason = (
            f"the {alg} signature does not verify over the protected header and the payload "
            f"with the certificate {leaf.subject.rfc4514_string()}"
        )
        return Verification(
            "invalid", reason, claimed, [*checks, check("signature", "failed", reason)]
        )
    checks.append(check("signature", "passed", f"{alg} signature by {trusted.issuer}"))
    checks.append(_signing_time_check(header.get("sigT"), leaf))
    checks.append(_issuer_check(claimed, trusted, leaf, credential))
    checks.append(dates_check(credential_bounds(credential), on))
    checks.append(
        check(
            "timestamps",
            "not_checked",
            "the timestamps and validation data of etsiU and adoTst are not verified; "
            "no OCSP, CRL or EU trusted list is consulted",
        )
    )
    failed = next((item for item in checks if item["result"] == "failed"), None)
    if failed:
        return Verification("invalid", failed["detail"], claimed, checks)
    # Through a CA, the eIDAS identifier links the seal to the credential's issuer (_issuer_check).
    issuer = trusted.issuer if trusted.issuer == claimed else claimed
    return Verification(
        "verified", f"sealed by {issuer} ({alg}, JAdES) and valid on {on}", issuer, checks
    )


def _member(document: dict) -> tuple[dict, str | None]:
    """The one signature (protected, header, signature), or why the shape is refused."""
    if "signatures" in document:
        signatures = document["signatures"]
        if not isinstance(signatures, list) or not signatures:
            return {}, "the JWS lists no signature"
        if len(signatures) > 1:
            return {}, f"{len(signatures)} JWS signatures: this version checks a seal with one"
        member = signatures[0]
    else:
        member = document
    if not isinstance(member, dict) or not isinstance(member.get("protected"), str):
        return {}, "the JWS signature has no protected header"
    if not isinstance(member.get("signature"), str):
        return {}, "the JWS signature has no signature value"
    if document.get("payload") in (None, ""):
        return {}, "the JWS has no payload (detached): the signed data is not in the file"
    if not isinstance(document["payload"], str):
        return {}, "the JWS payload is not a string"
    return member, None


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _credential(payload: str, encoded: bool) -> tuple[dict, str | None]:
    try:
        value = json.loads(_b64url(payload) if encoded else payload)
    except (ValueError, TypeError, binascii.Error):
        return {}, "the JWS payload is not a JSON credential"
    if not isinstance(value, dict):
        return {}, "the JWS payload is not a JSON object"
    return value, None


def _critical_check(header: dict) -> dict[str, str]:
    names = header.get("crit", [])
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return check("critical", "failed", "crit is not a list of header parameter names")
    said = []
    for name in names:
        if name in REFUSED_CRITICAL:
            return check("critical", "failed", f"the seal is refused: {REFUSED_CRITICAL[name]}")
        understood = PROCESSED_CRITICAL.get(name) or ACCEPTED_CRITICAL.get(name)
        if understood is None:
            return check(
                "critical",
                "failed",
                f"the critical header parameter {name!r} is not understood by this version "
                "(RFC 7515: the JWS is then invalid)",
            )
        if name not in header:
            return check("critical", "failed", f"crit names {name!r}, which the header lacks")
        said.append(f"{name}: {understood}")
    if header.get("b64") is False and "b64" not in names:
        return check("critical", "failed", "b64 false is not listed in crit (RFC 7797)")
    return check("critical", "passed", "; ".join(said) if said else "no critical parameters")


def _certificates(
    header: dict, trust: TrustList
) -> tuple[x509.Certificate | None, list[x509.Certificate], str | None]:
    """The signing certificate and the others `x5c` carries, or why they cannot be read."""
    thumbprint = header.get("x5t#S256")
    x5c = header.get("x5c")
    if x5c is not None:
        if not isinstance(x5c, list) or not x5c:
            return None, [], "x5c is not a list of certificates"
        try:
            certificates = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in x5c]
        except (binascii.Error, ValueError, TypeError) as error:
            return None, [], f"a certificate of x5c cannot be read: {error}"
        leaf = certificates[0]
        if thumbprint is not None and thumbprint != _thumbprint(leaf):
            return None, [], "x5t#S256 is not the SHA-256 thumbprint of the first x5c certificate"
        return leaf, certificates[1:], None
    if isinstance(thumbprint, str):
        for entry in trust.certificates:
            if _thumbprint(entry.certificate) == thumbprint:
                return entry.certificate, [], None
    return None, [], None


def _thumbprint(certificate: x509.Certificate) -> str:
    digest = hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _untrusted(
    trusted: CertificateTrust, header: dict, claimed: str | None, checks: list
) -> Verification | None:
    if trusted.entry is None:
        return Verification(
            "unknown_issuer",
            trusted.detail,
            claimed,
            [*checks, check("certificate", "failed", trusted.detail)],
        )
    if trusted.problem:
        reason = trusted.problem
        if isinstance(header.get("sigT"), str):
            reason += (
                f" (the seal claims it was made on {header['sigT']}; the timestamps that could "
                "prove it are not verified)"
            )
        return Verification(
            "invalid", reason, claimed, [*checks, check("certificate", "failed", reason)]
        )
    return None


def _signed(document: dict, certificate: x509.Certificate, alg: str) -> bool:
    registry = jws.JWSRegistry(
        header_registry=_HEADERS, algorithms=[alg], strict_check_header=False
    )
    # The header carries whole certificate chains and the payload a whole credential: the bounds
    # are the file's (services.MAX_BYTES), not joserfc's defaults for tokens.
    registry.max_header_length = registry.max_payload_length = 16 << 20
    try:
        key = as_jwk(certificate.public_key())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            jws.deserialize_json(document, key, registry=registry)
    except (JoseError, ValueError, TypeError, KeyError):
        return False
    return True


def _signing_time_check(value: Any, certificate: x509.Certificate) -> dict[str, str]:
    if value is None:
        return check("signing_time", "not_checked", "the seal states no signing time (sigT)")
    return signing_time_check("sigT", value, certificate)


def _issuer_check(
    claimed: str | None, trusted: CertificateTrust, leaf: x509.Certificate, credential: dict
) -> dict[str, str]:
    """The credential's issuer against the seal: the issuer a listed certificate stands for, or,
    for a certificate trusted through a listed CA, the eIDAS link: the certificate's
    organizationIdentifier (as a CA vouches for it) is the issuer's eIDASIdentifier or
    legalIdentifier notation."""
    if claimed is None:
        kind = credential.get("type")
        kind = ", ".join(map(str, kind)) if isinstance(kind, list) else kind
        return check(
            "issuer",
            "failed",
            f"the sealed payload ({kind or 'no type'}) names no issuer: it is not a credential "
            "the seal can vouch for",
        )
    if claimed == trusted.issuer:
        return check("issuer", "passed", f"issuer {claimed}, the one the certificate stands for")
    through_ca = trusted.entry is not None and trusted.entry.certificate != leaf
    organisation = [
        attribute.value
        for attribute in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    ]
    notations = _legal_notations(credential.get("issuer"))
    if through_ca and organisation and organisation[0] in notations:
        return check(
            "issuer",
            "passed",
            f"issuer {claimed}: its legal identifier {organisation[0]} is the "
            "organizationIdentifier of the seal's certificate, which a CA of the trust list issued",
        )
    said = f" (organizationIdentifier {organisation[0]})" if organisation else ""
    return check(
        "issuer",
        "failed",
        f"the certificate stands for {trusted.issuer}{said} in the trust list, the credential "
        f"names {claimed}",
    )


def _legal_notations(issuer: Any) -> set[str]:
    if not isinstance(issuer, dict):
        return set()
    found = set()
    for name in ("eIDASIdentifier", "legalIdentifier"):
        values = issuer.get(name)
        for value in values if isinstance(values, list) else [values]:
            if isinstance(value, dict) and isinstance(value.get("notation"), str):
                found.add(value["notation"])
    return found


def _issuer_id(issuer: Any) -> str | None:
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None
