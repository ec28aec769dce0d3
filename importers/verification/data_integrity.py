"""W3C Data Integrity proofs on JSON-LD credentials (Open Badges 3.0, VCs): sign and verify.

The cryptosuites `eddsa-rdfc-2022` (Ed25519, VC DI EdDSA) and `ecdsa-rdfc-2019` (P-256 with
SHA-256, P-384 with SHA-384, VC DI ECDSA), as their specifications' algorithms say: the document
without its proof and the proof configuration (the proof without `proofValue`, with the
document's `@context`) are each canonicalised with RDFC-1.0 (canonical.py: bundled contexts
only, data loss is an error) and hashed; the proof configuration's hash followed by the
document's is signed (Ed25519 over the bytes; ECDSA with the suite's hash, the signature as
r || s); `proofValue` is that signature, multibase base58btc. Signatures by `cryptography`.

Checked, each a check of the report: the suite; the verification method, found in the trust
list (trust.py) by its exact id (a listed did:key, a did:web document's key, a JWK's kid), else
among the keys the trust list holds for its controller (the id before `#`): a key the file names
or carries is never trusted by itself; the signature; `proofPurpose` assertionMethod; the
proof's `created` (not after the day) and `expires` (not before it); the issuer: the key stands
for the credential's `issuer`; the credential's validity dates on the day. Its status list is
checked by services.verify (status_list.py), as for a VC-JWT.

Proof sets (a list of proofs): every proof of a suite checked here whose key the trust list
holds must verify, each by a key that stands for the credential's issuer; a proof whose key is
not listed, or of a suite not checked here (Ed25519Signature2020, the pre-standard eddsa-2022,
RsaSignature2018, the selective-disclosure ecdsa-sd-2023, proof chains with `previousProof`, any
other type), is reported `not_checked` and counts neither way. With no proof checked at all the
verdict is `unsigned`, naming the suites found: nothing vouches for the file, and it is not
shown to be forged either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from joserfc.jwk import ECKey, OKPKey

from importers.verification.canonical import CanonicalizationError, canonicalize
from importers.verification.result import Verification, check
from importers.verification.trust import TrustedKey, TrustList, base58btc, base58btc_encode
from importers.verification.validity import (
    credential_bounds,
    dates_check,
    day,
    issuer_check,
    issuer_id,
)

EDDSA = "eddsa-rdfc-2022"
ECDSA = "ecdsa-rdfc-2019"
CRYPTOSUITES = (EDDSA, ECDSA)
# The curves ecdsa-rdfc-2019 uses, with the hash each is used with and its r || s length.
_ECDSA_CURVES = {"secp256r1": (hashes.SHA256, 64), "secp384r1": (hashes.SHA384, 96)}
# The context that defines DataIntegrityProof for a document whose contexts do not (VC 1.1).
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
_DEFINES_PROOF = ("https://www.w3.org/ns/credentials/v2", DATA_INTEGRITY_V2)


class ProofError(ValueError):
    """A proof that cannot be checked as its suite says (a malformed value, a wrong key type)."""


# --- signing --------------------------------------------------------------------------------


def sign(
    document: dict[str, Any],
    private_key: Any,
    verification_method: str,
    *,
    cryptosuite: str = EDDSA,
    created: dt.datetime,
) -> dict[str, Any]:
    """A copy of `document` with a Data Integrity proof (`proofPurpose` assertionMethod) added:
    `eddsa-rdfc-2022` with an Ed25519 private key, `ecdsa-rdfc-2019` with a P-256 or P-384 one
    (a `cryptography` key, or a joserfc key holding one). `created` is stated to the second, in
    UTC (a naive datetime is read as UTC). A document whose contexts do not define
    DataIntegrityProof (VC 1.1) gets the Data Integrity v2 context appended; a proof already
    there makes a proof set with the new one. Every term must be defined by a bundled context
    (VC 2.0's undefined-terms/v2 maps an issuer's own terms).

    :raise ValueError: an unknown cryptosuite, a key that does not fit it, or a document that
        cannot be canonicalised (CanonicalizationError).
    """
    if cryptosuite not in CRYPTOSUITES:
        raise ValueError(f"cryptosuite {cryptosuite!r} is not one of {', '.join(CRYPTOSUITES)}")
    if isinstance(private_key, (OKPKey, ECKey)):
        private_key = private_key.private_key
    secured = dict(document)
    contexts = secured.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts] if contexts else []
    if not any(url in contexts for url in _DEFINES_PROOF):
        secured["@context"] = [*contexts, DATA_INTEGRITY_V2]
    existing = secured.pop("proof", None)
    moment = created.replace(tzinfo=dt.UTC) if created.tzinfo is None else created
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": cryptosuite,
        "created": moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    data = _hash_data(secured, proof, _private_hash(private_key, cryptosuite))
    proof["proofValue"] = "z" + base58btc_encode(_sign_bytes(private_key, cryptosuite, data))
    if existing is None:
        secured["proof"] = proof
    else:
        secured["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
    return secured


def _private_hash(private_key: Any, cryptosuite: str) -> Any:
    if cryptosuite == EDDSA:
        if not isinstance(private_key, ed25519.Ed25519PrivateKey):
            raise ValueError(f"{EDDSA} signs with an Ed25519 private key")
        return hashes.SHA256
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or (
        private_key.curve.name not in _ECDSA_CURVES
    ):
        raise ValueError(f"{ECDSA} signs with a P-256 or P-384 private key")
    return _ECDSA_CURVES[private_key.curve.name][0]


def _sign_bytes(private_key: Any, cryptosuite: str, data: bytes) -> bytes:
    if cryptosuite == EDDSA:
        return private_key.sign(data)
    algorithm, size = _ECDSA_CURVES[private_key.curve.name]
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(algorithm())))
    return r.to_bytes(size // 2, "big") + s.to_bytes(size // 2, "big")


def _hash_data(unsecured: dict, proof: dict, algorithm: Any) -> bytes:
    """The bytes a proof signs: hash(canonical proof configuration) + hash(canonical document)."""
    config = {key: value for key, value in proof.items() if key != "proofValue"}
    config["@context"] = unsecured.get("@context")
    digest = hashlib.sha384 if algorithm is hashes.SHA384 else hashlib.sha256
    document_hash = digest(canonicalize(unsecured).encode()).digest()
    return digest(canonicalize(config).encode()).digest() + document_hash


# --- verifying ------------------------------------------------------------------------------


def verify(document: dict[str, Any], trust: TrustList, on: dt.date) -> Verification:
    """The verdict on a JSON-LD credential that carries a `proof` (one, or a proof set); its
    status list is services.verify's to check."""
    claimed = issuer_id(document.get("issuer"))
    raw = document["proof"]
    proofs = raw if isinstance(raw, list) else [raw]
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    checks: list[dict[str, str]] = []
    verified: list[tuple[TrustedKey, str]] = []
    unknown: list[str] = []
    for number, proof in enumerate(proofs, 1):
        name = f"proof {number}" if len(proofs) > 1 else "proof"
        suite = _suite(proof)
        if suite is None:
            reason = f"the {name} is not an {' or '.join(CRYPTOSUITES)} DataIntegrityProof"
            detail = f"{reason} ({_describe(proof)}): not checked by this version"
            checks.append(check(name, "not_checked", detail))
            continue
        outcome, signer, proof_checks = _verify_proof(name, proof, unsecured, claimed, trust, on)
        checks.extend(proof_checks)
        if outcome == "invalid":
            failed = next(item for item in proof_checks if item["result"] == "failed")
            return Verification("invalid", failed["detail"], claimed, checks)
        if outcome == "unknown_issuer":
            unknown.append(proof_checks[-1]["detail"])
        else:
            verified.append((signer, suite))
    if not verified:
        if unknown:
            return Verification("unknown_issuer", "; ".join(unknown), claimed, checks)
        suites = ", ".join(_describe(proof) for proof in proofs)
        reason = f"a proof of a suite this version does not check ({suites})"
        return Verification("unsigned", reason, claimed, checks)
    checks.append(dates_check(credential_bounds(document), on))
    if checks[-1]["result"] == "failed":
        return Verification("invalid", checks[-1]["detail"], claimed, checks)
    signer = verified[0][0]
    suites = ", ".join(sorted({suite for _, suite in verified}))
    return Verification(
        "verified", f"signed by {signer.issuer} ({suites}) and valid on {on}", signer.issuer, checks
    )


def _verify_proof(
    name: str, proof: dict, unsecured: dict, claimed: str | None, trust: TrustList, on: dt.date
) -> tuple[str, TrustedKey | None, list[dict[str, str]]]:
    """One proof: ("verified" | "invalid" | "unknown_issuer", the signer, its checks); the
    last check of an unknown_issuer outcome says why."""
    suite = proof["cryptosuite"]
    checks = [check(name, "passed", f"a DataIntegrityProof, cryptosuite {suite}")]
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        return "invalid", None, [*checks, check("key", "failed", "no verificationMethod")]
    keys, how = _keys(method, trust)
    if not keys and claimed and trust.by_issuer(claimed):
        # A credential in a listed issuer's name, proved by a key that is not one of the
        # issuer's: only its own keys may vouch for it; a forgery is no unknown issuer.
        keys, how = trust.by_issuer(claimed), f"issuer {claimed} ({how} is none of its keys)"
    if not keys:
        reason = f"no key of the trust list is the verification method {method} ({how})"
        return "unknown_issuer", None, [*checks, check("key", "not_checked", reason)]
    checks.append(check("key", "passed", f"{how}: {len(keys)} key(s) of the trust list"))
    try:
        signer = _signer(proof, unsecured, keys)
    except (CanonicalizationError, ProofError) as error:
        return "invalid", None, [*checks, check("signature", "failed", str(error))]
    if signer is None:
        sources = ", ".join(sorted({key.source for key in keys}))
        reason = f"the {name}'s signature does not match the trusted key(s) of {how} ({sources})"
        return "invalid", None, [*checks, check("signature", "failed", reason)]
    checks.append(check("signature", "passed", f"{suite} by a key of {signer.issuer}"))
    checks.append(_purpose_check(proof))
    checks.append(_proof_dates_check(name, proof, on))
    checks.append(issuer_check(claimed, signer.issuer))
    if any(item["result"] == "failed" for item in checks):
        return "invalid", signer, checks
    return "verified", signer, checks


def _keys(method: str, trust: TrustList) -> tuple[list[TrustedKey], str]:
    keys = trust.by_method(method)
    if keys:
        return keys, f"verification method {method}"
    controller = method.split("#", 1)[0]
    if controller != method and not controller.startswith("did:key:"):
        return trust.by_issuer(controller), f"the keys of its controller {controller}"
    return [], f"verification method {method}"


def _signer(proof: dict, unsecured: dict, keys: list[TrustedKey]) -> TrustedKey | None:
    """The trusted key the proof's signature is by, else None.

    :raise ProofError, CanonicalizationError: the proof or the document cannot be checked.
    """
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("the proofValue is not multibase base58btc (it must start with z)")
    try:
        signature = base58btc(value[1:])
    except ValueError as error:
        raise ProofError(f"the proofValue is not base58btc: {error}") from None
    document = _proof_document(proof, unsecured)
    hashed: dict[Any, bytes] = {}
    for key in keys:
        public = key.key.public_key
        algorithm = _public_hash(public, proof["cryptosuite"])
        if algorithm is None:
            continue
        if algorithm not in hashed:
            hashed[algorithm] = _hash_data(document, proof, algorithm)
        if _signature_matches(public, signature, hashed[algorithm]):
            return key
    return None


def _proof_document(proof: dict, unsecured: dict) -> dict:
    """The document as the proof signed it: a proof's own `@context` must be the first of the
    document's (VC DI EdDSA/ECDSA, Verify Proof) and then stands for them."""
    if "@context" not in proof:
        return unsecured
    wanted = proof["@context"] if isinstance(proof["@context"], list) else [proof["@context"]]
    have = unsecured.get("@context")
    have = have if isinstance(have, list) else [have]
    if have[: len(wanted)] != wanted:
        raise ProofError("the proof's @context is not the start of the document's @context")
    return {**unsecured, "@context": proof["@context"]}


def _public_hash(public: Any, suite: str) -> Any:
    """The hash the suite uses with this key, or None where the key does not fit the suite."""
    if suite == EDDSA:
        return hashes.SHA256 if isinstance(public, ed25519.Ed25519PublicKey) else None
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in _ECDSA_CURVES:
        return _ECDSA_CURVES[public.curve.name][0]
    return None


def _signature_matches(public: Any, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
            return True
        algorithm, size = _ECDSA_CURVES[public.curve.name]
        if len(signature) != size:
            return False
        half = size // 2
        r = int.from_bytes(signature[:half], "big")
        s = int.from_bytes(signature[half:], "big")
        public.verify(encode_dss_signature(r, s), data, ec.ECDSA(algorithm()))
    except InvalidSignature:
        return False
    return True


def _purpose_check(proof: dict) -> dict[str, str]:
    purpose = proof.get("proofPurpose")
    if purpose != "assertionMethod":
        return check(
            "purpose",
            "failed",
            f"proofPurpose is {purpose!r}, not assertionMethod: not an issuer's",
        )
    return check("purpose", "passed", "assertionMethod")


def _proof_dates_check(name: str, proof: dict, on: dt.date) -> dict[str, str]:
    """`created` not after the day and `expires` not before it; a proof without `created` is
    accepted (the property is optional)."""
    problems, said = [], []
    for side, field in (("start", "created"), ("end", "expires")):
        if field not in proof:
            continue
        when = day(proof[field])
        if when is None:
            problems.append(f"the {name}'s {field} {proof[field]!r} is not a date-time")
        elif side == "start" and when > on:
            problems.append(f"the {name} was created on {when}, after {on}")
        elif side == "end" and when < on:
            problems.append(f"the {name} expired on {when}, before {on}")
        else:
            said.append(f"{field} {when}")
    if problems:
        return check("proof dates", "failed", "; ".join(problems))
    return check("proof dates", "passed", ", ".join(said) or "no created nor expires stated")


def _suite(proof: Any) -> str | None:
    """The suite of a proof checked here, else None (a proof chain's link is not checked)."""
    if (
        isinstance(proof, dict)
        and proof.get("type") == "DataIntegrityProof"
        and proof.get("cryptosuite") in CRYPTOSUITES
        and "previousProof" not in proof
    ):
        return proof["cryptosuite"]
    return None


def _describe(proof: Any) -> str:
    if not isinstance(proof, dict):
        return "not a JSON object"
    kind = proof.get("type")
    suite = proof.get("cryptosuite")
    text = f"{kind}, cryptosuite {suite}" if suite else f"type {kind}"
    return f"{text}, in a proof chain" if "previousProof" in proof else text
