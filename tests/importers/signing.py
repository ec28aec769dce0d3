"""Credentials and transcripts signed in the tests, with keys made by `cryptography`."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.errors import SecurityWarning

from importers.verification.trust import as_jwk

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ISSUER = "https://university.example/issuers/1"


def base58(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        out = ALPHABET[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def did_key(private: ed25519.Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return "did:key:z" + base58(b"\xed\x01" + raw)


def sign_jwt(private, header: dict, claims: dict) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)
        return jws.serialize_compact(
            header, json.dumps(claims).encode(), as_jwk(private), algorithms=[header["alg"]]
        )


def credential(issuer: str = ISSUER, **dates) -> dict:
    """A VC 1.1 JWT's claims: the credential under `vc`, `iss` its issuer."""
    vc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]},
    }
    vc.update(dates)
    return {"vc": vc, "iss": issuer, "nbf": 1704067200}


def tamper(token: str) -> str:
    """One byte of the payload changed: "Example" becomes "Exbmple" in the credential."""
    header, payload, signature = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"Example" in claims
    changed = base64.urlsafe_b64encode(claims.replace(b"Example", b"Exbmple", 1)).rstrip(b"=")
    return ".".join([header, changed.decode(), signature])


def public_pem(private) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def certificate(
    key,
    subject: str,
    issuer_key=None,
    issuer_name: str | None = None,
    *,
    valid_from: dt.datetime | None = None,
    valid_to: dt.datetime | None = None,
    ca: bool = False,
) -> x509.Certificate:
    start = valid_from or dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    end = valid_to or dt.datetime(2040, 1, 1, tzinfo=dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or subject)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key or key, hashes.SHA256())
    )


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def p256_key():
    return ec.generate_private_key(ec.SECP256R1())


def ed25519_key():
    return ed25519.Ed25519PrivateKey.generate()


def sign_jades(private, cert: x509.Certificate, credential: dict, **header) -> dict:
    """A JAdES seal as the EDC issuer makes it: JWS general JSON serialization, the credential's
    JSON text as the unencoded payload (b64 false), x5c, x5t#S256 and sigT protected (a header
parameter given as None is left out). Signed
    with `cryptography` over the RFC 7797 signing input, independently of the verifier's joserfc.
    """
    der = cert.public_bytes(serialization.Encoding.DER)
    protected = {
        "alg": "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256",
        "typ": "jose+json",
        "cty": "octet-stream",
        "x5c": [base64.b64encode(der).decode()],
        "x5t#S256": base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode(),
        "b64": False,
        "sigT": "2024-01-01T12:00:00Z",
        "crit": ["b64", "sigT"],
        **header,
    }
    protected = {name: value for name, value in protected.items() if value is not None}
    encoded = base64.urlsafe_b64encode(json.dumps(protected).encode()).rstrip(b"=").decode()
    payload = json.dumps(credential)
    data = f"{encoded}.{payload}".encode()
    if isinstance(private, rsa.RSAPrivateKey):
        signature = private.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = utils.decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    value = base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    return {
        "payload": payload,
        "signatures": [{"protected": encoded, "header": {"etsiU": []}, "signature": value}],
    }


def edc_credential(issuer: str = ISSUER, **dates) -> dict:
    """An ELM v3 EuropeanDigitalCredential, reduced to what a seal's verification reads."""
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "http://data.europa.eu/snb/model/context/edc-ap",
        ],
        "id": "urn:credential:1",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "issuer": {"id": issuer, "type": "Organisation", "legalName": {"en": "Example University"}},
        "issuanceDate": "2024-01-01T12:00:00Z",
        "credentialSubject": {"id": "urn:person:1", "type": "Person"},
        **dates,
    }
