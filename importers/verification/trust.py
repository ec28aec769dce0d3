"""The operator's trust list: the keys and certificates of the issuers whose signatures count.

A directory (the `TRUST_LIST` setting, default `instance/trust/`) read as it is, with no network
access at all: nothing is fetched, no did:web document, no JWKS URL, no certificate chain, no
revocation list. Its files, by name:

- `*.did.json`: a DID document. Its `id` is the issuer. For `did:web` (and any method but
  did:key) its `verificationMethod` entries give the keys, as `publicKeyJwk` or
  `publicKeyMultibase` (Multikey); for `did:key` the document needs only its `id`: the key is
  read from the identifier itself (an Ed25519, P-256 or P-384 key, multibase base58btc with its
  multicodec prefix).
- `*.jwk`, `*.json`: a JWK, or a JWK Set (`{"keys": [...]}`), with an `issuer` member (at the
  top, or on each key) naming the issuer the key stands for. A key is found by its `kid` or by
  its RFC 7638 thumbprint. Public keys only: a file holding a private key is refused.
- `*.pem`: X.509 certificates (of signers, or of CAs that issue signers' certificates) and
  public keys. The issuer is named by a line `Issuer: NAME` before the first PEM block; a
  certificate without one stands for its own subject (RFC 4514), a bare public key must have one.

Other files are ignored, and so is the `status/` directory: its status list credentials are
status_list.py's. A file that cannot be read as what its name says is an error naming
it: a trust list is never half-read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_public_key
from joserfc import jwk
from joserfc.errors import JoseError

from importers.verification.online import Fetcher, ResolutionError, did_web_document
from importers.verification.online import shared as shared_fetcher
from registry.core.errors import InvalidData

# The multicodec prefixes (unsigned varints of the codec number) of the public keys did:key and
# Multikey carry, with the length of the key after them: data from the multicodec table.
MULTICODEC = {
    b"\xed\x01": ("Ed25519", 32),
    b"\x80\x24": ("P-256", 33),
    b"\x81\x24": ("P-384", 49),
}
_CURVES = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}
BASE58BTC = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# A certificate chain longer than this between a signer and a trusted CA is not followed.
MAX_CHAIN = 5
_ISSUER_LINE = re.compile(r"^\s*Issuer:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class TrustSource:
    """Where the trust list is read from, whether online resolution is on (TRUST_LIST,
    TRUST_ONLINE), and the keys trusted besides it (the registry's own, `own`, read when the
    list is): a plain value the API, pages and CLI make from their settings
    (registry.issuing.trust_source), so domain code reads the list only when a file is verified."""

    directory: Path
    online: bool = False
    own: Callable[[], Iterable[TrustedKey]] = field(default=tuple, compare=False)

    def load(self) -> TrustList:
        """:raise TrustListError: a file of the list that cannot be used."""
        listed = TrustList.load(self.directory, shared_fetcher() if self.online else None)
        return replace(listed, keys=(*listed.keys, *self.own()))


class TrustListError(InvalidData):
    """A file of the trust list cannot be used; `errors` names it."""


@dataclass(frozen=True)
class TrustedKey:
    issuer: str
    key: Any  # a joserfc public key (RSAKey, ECKey, OKPKey)
    source: str
    kid: str | None = None

    @property
    def thumbprint(self) -> str:
        return self.key.thumbprint()


@dataclass(frozen=True)
class TrustedCertificate:
    issuer: str
    certificate: x509.Certificate
    source: str


@dataclass(frozen=True)
class CertificateTrust:
    """How a signing certificate stands: `entry` is the trusted certificate it is, or that
    issued it (None when neither); `issuer` the issuer vouched for; `problem` what fails."""

    entry: TrustedCertificate | None
    issuer: str | None
    detail: str
    problem: str | None = None


@dataclass(frozen=True)
class TrustList:
    keys: tuple[TrustedKey, ...] = ()
    certificates: tuple[TrustedCertificate, ...] = ()
    directory: str = field(default="", compare=False)
    # What online resolution could not fetch: said when no key is found.
    problems: tuple[str, ...] = field(default=(), compare=False)
    # The fetcher of online resolution (TRUST_ONLINE), for status lists not at hand; None offline.
    online: Fetcher | None = field(default=None, compare=False)

    @classmethod
    def load(cls, directory: str | Path, online: Fetcher | None = None) -> TrustList:
        """Read the directory; a missing directory is an empty trust list (nothing is trusted).
        With `online` (TRUST_ONLINE), a did:web document that names only its `id` is fetched;
        one that cannot be fetched gives no key, and says why in `problems`.

        :raise TrustListError: a file that cannot be read as what its name says.
        """
        problems: list[str] = []
        root = Path(directory)
        keys: list[TrustedKey] = []
        certificates: list[TrustedCertificate] = []
        if root.is_dir():
            for path in sorted(root.iterdir()):
                if not path.is_file():
                    continue
                try:
                    if path.name.endswith(".did.json"):
                        document = _json(path)
                        if online is not None and _to_resolve(document):
                            document = _resolved(document, online, path.name, problems)
                        if document is not None:
                            keys.extend(_did_document(document, path.name))
                    elif path.suffix in (".jwk", ".json"):
                        keys.extend(_jwk_file(_json(path), path.name))
                    elif path.suffix == ".pem":
                        found_keys, found_certificates = _pem_file(path.read_bytes(), path.name)
                        keys.extend(found_keys)
                        certificates.extend(found_certificates)
                except (ValueError, TypeError, KeyError, JoseError) as error:
                    raise TrustListError(
                        f"The trust list's file {path.name} cannot be used: {error}",
                        errors={"trust_list": [f"{path.name}: {error}"]},
                    ) from None
        return cls(tuple(keys), tuple(certificates), str(root), tuple(problems), online)

    def by_kid(self, kid: str) -> list[TrustedKey]:
        """The keys a JOSE `kid` names: a key's own kid or DID URL, or its RFC 7638 thumbprint
        (bare or as a `urn:ietf:params:oauth:jwk-thumbprint:sha-256:` URI)."""
        bare = (
            kid.rsplit(":", 1)[-1]
            if kid.startswith("urn:ietf:params:oauth:jwk-thumbprint")
            else kid
        )
        return [key for key in self.keys if key.kid == kid or key.thumbprint == bare]

    def by_method(self, method: str) -> list[TrustedKey]:
        """The keys a Data Integrity `verificationMethod` names: a key whose kid (or DID URL) is
        exactly that id; a bare `did:key:z...` names its one key `did:key:z...#z...`."""
        if method.startswith("did:key:") and "#" not in method:
            method = f"{method}#{method.removeprefix('did:key:')}"
        return [key for key in self.keys if key.kid == method]

    def by_issuer(self, issuer: str) -> list[TrustedKey]:
        return [key for key in self.keys if key.issuer == issuer]

    def by_thumbprint(self, thumbprint: str) -> list[TrustedKey]:
        return [key for key in self.keys if key.thumbprint == thumbprint]

    def certificate_trust(
        self, leaf: x509.Certificate, chain: Iterable[x509.Certificate], on: dt.date
    ) -> CertificateTrust:
        """Whether a signing certificate is in the trust list, or was issued by a trusted CA
        certificate (directly, or through the intermediates `chain` the document carries),
        each certificate on the way valid on `on`. Signatures between certificates are checked
        by `cryptography`; extensions (key usage, name constraints, path length) are not."""
        der = leaf.public_bytes(Encoding.DER)
        for entry in self.certificates:
            if entry.certificate.public_bytes(Encoding.DER) == der:
                problem = _outside_validity(leaf, on)
                return CertificateTrust(
                    entry,
                    entry.issuer,
                    f"the signing certificate ({leaf.subject.rfc4514_string()}) is in the trust "
                    f"list ({entry.source})",
                    problem,
                )
        path, current, pool = [leaf], leaf, list(chain)
        for _ in range(MAX_CHAIN):
            for entry in self.certificates:
                if _issued_by(current, entry.certificate):
                    problem = next(filter(None, (_outside_validity(c, on) for c in path)), None)
                    subject = leaf.subject.rfc4514_string()
                    return CertificateTrust(
                        entry,
                        subject,
                        f"the signing certificate ({subject}) was issued by a CA of the trust "
                        f"list ({entry.issuer}, {entry.source})",
                        problem,
                    )
            parent = next((c for c in pool if c is not current and _issued_by(current, c)), None)
            if parent is None:
                break
            path.append(parent)
            pool.remove(parent)
            current = parent
        return CertificateTrust(
            None,
            None,
            f"the signing certificate ({leaf.subject.rfc4514_string()}, issued by "
            f"{leaf.issuer.rfc4514_string()}) is not in the trust list, nor issued by a CA in it",
        )


# --- reading the files ----------------------------------------------------------------------


def _json(path: Path) -> Any:
    document = json.loads(path.read_bytes())
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


def _public_jwk(data: dict, issuer: str, source: str, kid: str | None = None) -> TrustedKey:
    if "d" in data:
        raise ValueError("it holds a private key; the trust list holds public keys only")
    values = {name: value for name, value in data.items() if name != "issuer"}
    key = jwk.import_key(values)
    return TrustedKey(issuer, key, source, kid or data.get("kid"))


def _jwk_file(document: dict, source: str) -> list[TrustedKey]:
    entries = document["keys"] if "keys" in document else [document]
    if not isinstance(entries, list) or not entries:
        raise ValueError('"keys" must be a non-empty list')
    keys = []
    for entry in entries:
        issuer = entry.get("issuer") or document.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise ValueError(
                'every key needs an "issuer" (on the key or the file) naming its issuer'
            )
        keys.append(_public_jwk(entry, issuer, source))
    return keys


def _to_resolve(document: dict) -> bool:
    """A did:web document listing no key: the operator trusts the DID and its keys are fetched."""
    did = document.get("id")
    return (
        isinstance(did, str)
        and did.startswith("did:web:")
        and not document.get("verificationMethod")
    )


def _resolved(document: dict, fetcher: Fetcher, source: str, problems: list[str]) -> dict | None:
    try:
        return did_web_document(document["id"], fetcher)
    except ResolutionError as error:
        problems.append(f"{source}: {document['id']} could not be resolved online: {error.detail}")
        return None


def _did_document(document: dict, source: str) -> list[TrustedKey]:
    did = document.get("id")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ValueError('a DID document needs an "id" that is a DID')
    if did.startswith("did:key:"):
        value = did.removeprefix("did:key:")
        return [TrustedKey(did, multikey(value), source, f"{did}#{value}")]
    keys = []
    for method in document.get("verificationMethod") or []:
        method_id = method["id"]
        kid = f"{did}{method_id}" if method_id.startswith("#") else method_id
        if "publicKeyJwk" in method:
            keys.append(_public_jwk(method["publicKeyJwk"], did, source, kid))
        elif "publicKeyMultibase" in method:
            keys.append(TrustedKey(did, multikey(method["publicKeyMultibase"]), source, kid))
        else:
            raise ValueError(
                f"verification method {method_id} has no publicKeyJwk nor publicKeyMultibase"
            )
    if not keys:
        raise ValueError(
            f"the DID document of {did} lists no verification method (a did:web document that "
            "names only its id is resolved online when TRUST_ONLINE=1)"
        )
    return keys


def _pem_file(data: bytes, source: str) -> tuple[list[TrustedKey], list[TrustedCertificate]]:
    text = data.decode("ascii")
    preamble = text.split("-----BEGIN", 1)[0]
    named = _ISSUER_LINE.search(preamble)
    issuer = named.group(1) if named else None
    blocks = re.findall(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", text, re.DOTALL)
    if not blocks:
        raise ValueError("no PEM block")
    certificates = [
        TrustedCertificate(issuer or certificate.subject.rfc4514_string(), certificate, source)
        for certificate in (
            x509.load_pem_x509_certificates(data) if "CERTIFICATE" in blocks else []
        )
    ]
    keys = []
    for match in re.finditer(
        r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", text, re.DOTALL
    ):
        if issuer is None:
            raise ValueError('a public key needs a line "Issuer: NAME" before it')
        keys.append(
            TrustedKey(issuer, as_jwk(load_pem_public_key(match.group(0).encode())), source)
        )
    if "PRIVATE KEY" in " ".join(blocks):
        raise ValueError("it holds a private key; the trust list holds public keys only")
    return keys, certificates


# --- did:key and Multikey -------------------------------------------------------------------


def base58btc(text: str) -> bytes:
    """Base58 (the Bitcoin alphabet) to bytes: an encoding, as multibase's `z` prefix says."""
    number = 0
    for char in text:
        digit = BASE58BTC.find(char)
        if digit < 0:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def base58btc_encode(data: bytes) -> str:
    """Bytes to base58 (the Bitcoin alphabet), leading zero bytes as `1`s."""
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = BASE58BTC[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def multikey(value: str) -> Any:
    """A public key from its multibase form (`z6Mk...` Ed25519, `zDn...` P-256, `z82...` P-384,
    compressed points), as a joserfc key.

    :raise ValueError: not base58btc multibase, or not an Ed25519, P-256 or P-384 public key.
    """
    if not value.startswith("z"):
        raise ValueError(f"{value[:12]}... is not multibase base58btc (it must start with z)")
    raw = base58btc(value[1:])
    for prefix, (curve, size) in MULTICODEC.items():
        if raw.startswith(prefix) and len(raw) == len(prefix) + size:
            material = raw[len(prefix) :]
            if curve == "Ed25519":
                return jwk.OKPKey.import_key(ed25519.Ed25519PublicKey.from_public_bytes(material))
            point = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[curve], material)
            return jwk.ECKey.import_key(point)
    raise ValueError("the multikey is not an Ed25519, P-256 or P-384 public key")


def as_jwk(key: Any) -> Any:
    """A `cryptography` key (public or private) as the joserfc key of its type.

    :raise ValueError: a type the accepted algorithms do not use.
    """
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return jwk.RSAKey.import_key(key)
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return jwk.ECKey.import_key(key)
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return jwk.OKPKey.import_key(key)
    raise ValueError(f"a {type(key).__name__} is not an RSA, EC or Ed25519 key")


# --- certificates ---------------------------------------------------------------------------


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _outside_validity(certificate: x509.Certificate, on: dt.date) -> str | None:
    start = certificate.not_valid_before_utc.date()
    end = certificate.not_valid_after_utc.date()
    if start <= on <= end:
        return None
    return (
        f"the certificate {certificate.subject.rfc4514_string()} is valid from {start} to {end}, "
        f"not on {on}"
    )
