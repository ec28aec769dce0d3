"""The operator's signing key: an Ed25519 private key in a PEM file, and the issuer it signs as.

The issuer identifier (`ISSUER_ID`) is by default the key's own `did:key`, which anyone can
resolve offline; an operator may name a `did:web` instead and publish the DID document this
registry serves at /.well-known/did.json. Either way the key's verification method is
`ISSUER_ID#<multikey>`, the form `did:key` uses, so that a verifier finds the key by its `kid`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from importers.verification.trust import BASE58BTC, TrustedKey, as_jwk
from registry.core.errors import Conflict, DomainError, InvalidData

# The multicodec prefix of an Ed25519 public key (0xed, as an unsigned varint).
ED25519_PUB = b"\xed\x01"
NO_KEY = "no signing key configured: run registry keys create"
# An issuer is a URL or a DID (VC Data Model 2.0): a scheme, a colon, no spaces.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+")


class NoSigningKey(DomainError):
    """The registry has no signing key: nothing can be signed until the operator makes one."""

    title = "Service Unavailable"


@dataclass(frozen=True)
class SigningKey:
    private: ed25519.Ed25519PrivateKey
    issuer: str

    @property
    def multikey(self) -> str:
        """The public key as a Multikey (multibase base58btc of the multicodec-prefixed key)."""
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return "z" + base58btc_encode(ED25519_PUB + raw)

    @property
    def verification_method(self) -> str:
        return f"{self.issuer}#{self.multikey}"

    def jwk(self) -> Any:
        """The private key as a joserfc key, to sign with."""
        return as_jwk(self.private)

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, named by its verification method; no private member."""
        public = as_jwk(self.private.public_key()).as_dict(private=False)
        return {**public, "kid": self.verification_method, "alg": "EdDSA", "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def did_document(self) -> dict[str, Any]:
        """The DID document of the issuer: what a did:web host publishes as its did.json."""
        method = self.verification_method
        return {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.issuer,
            "verificationMethod": [
                {
                    "id": method,
                    "type": "Multikey",
                    "controller": self.issuer,
                    "publicKeyMultibase": self.multikey,
                }
            ],
            "assertionMethod": [method],
            "authentication": [method],
        }

    def trusted(self) -> TrustedKey:
        """The key as the verifier's trust list holds it: it stands for the issuer."""
        return TrustedKey(
            self.issuer,
            as_jwk(self.private.public_key()),
            "the registry's own signing key",
            self.verification_method,
        )


def base58btc_encode(data: bytes) -> str:
    """Bytes in base58 (the Bitcoin alphabet): the inverse of trust.base58btc."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, digit = divmod(number, 58)
        digits.append(BASE58BTC[digit])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def did_key(private: ed25519.Ed25519PrivateKey) -> str:
    return f"did:key:{SigningKey(private, '').multikey}"


def load(path: str | Path, issuer: str | None = None) -> SigningKey | None:
    """The key in the PEM file at `path`, signing as `issuer` (its did:key when None); None
    when there is no such file.

    :raise InvalidData: the file cannot be read, or holds no Ed25519 private key.
    """
    _check_issuer(issuer)
    path = Path(path)
    if not path.is_file():
        return None
    try:
        private = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise InvalidData(
            f"The signing key {path} cannot be read: {error}",
            errors={"SIGNING_KEY": [str(error)]},
        ) from None
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise InvalidData(
            f"The signing key {path} is not an Ed25519 private key.",
            errors={"SIGNING_KEY": ["Not an Ed25519 private key."]},
        )
    return SigningKey(private, issuer or did_key(private))


def required(path: str | Path, issuer: str | None = None) -> SigningKey:
    """`load`, for what cannot go on without a key.

    :raise NoSigningKey: there is no key file.
    """
    key = load(path, issuer)
    if key is None:
        raise NoSigningKey(f"{NO_KEY} (SIGNING_KEY is {path}).")
    return key


def create(path: str | Path, issuer: str | None = None, *, force: bool = False) -> SigningKey:
    """A new Ed25519 key written to `path` (PKCS#8 PEM, mode 0600, its directory 0700).

    :raise Conflict: a key file is there already and `force` is not given: a key is never
        replaced by mistake (statements signed with it would no longer verify).
    """
    _check_issuer(issuer)
    path = Path(path)
    if path.exists() and not force:
        raise Conflict(
            f"A signing key exists already at {path}; give --force to replace it (statements "
            "signed with it will no longer verify against the new key).",
            existing=str(path),
        )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # Written to a new file created 0600, then moved over: the key is never readable by others,
    # not even for a moment, and a reader never sees half a file.
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(pem)
    os.replace(temporary, path)
    return SigningKey(private, issuer or did_key(private))


def _check_issuer(issuer: str | None) -> None:
    """:raise InvalidData: an ISSUER_ID that is neither a DID nor a URL."""
    if issuer is not None and not _URI.fullmatch(issuer):
        raise InvalidData(
            f"ISSUER_ID {issuer!r} is not a DID or a URL (did:web:registry.example, did:key:...).",
            errors={"ISSUER_ID": ["Not a DID or a URL."]},
        )
