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
from lxml import etree

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
    parameter given as None is left out; with `b64=None` the payload is base64url). Signed with
    `cryptography` over the RFC 7515/7797 signing input, independently of the verifier's joserfc.
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
    if protected.get("b64", True) is not False:
        payload = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
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


DSIG = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
XPATH_FILTER = "http://www.w3.org/TR/1999/REC-xpath-19991116"


def sign_xades_edc(
    document: bytes,
    key,
    cert: x509.Certificate,
    *,
    xpath: str = "not(ancestor-or-self::ds:Signature)",
    signing_time: str = "2024-01-01T12:00:00Z",
    named: x509.Certificate | None = None,
    extra: str | None = None,
) -> bytes:
    """A XAdES-B seal shaped as the EDC issuer's (EU DSS) on an ELM v2 credential: the
    Signature inside a <proof> child, its whole-document reference filtered by XPath, exclusive
    c14n (after an `extra` transform if given), SigningCertificateV2 (naming `named`, by default
    `cert`). Built with lxml and signed
    with `cryptography`, independently of the verifier's signxml."""
    root = etree.fromstring(document)
    proof = etree.SubElement(root, f"{{{root.nsmap.get(None, '')}}}proof")
    # The document as the XPath filter leaves it: everything but the signature, added below.
    data = etree.tostring(root, method="c14n", exclusive=True)
    der = cert.public_bytes(serialization.Encoding.DER)
    b64 = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    ds = lambda name: f"{{{DSIG}}}{name}"  # noqa: E731
    xa = lambda name: f"{{{XADES}}}{name}"  # noqa: E731
    signature = etree.SubElement(proof, ds("Signature"), Id="id-1", nsmap={"ds": DSIG})
    info = etree.SubElement(signature, ds("SignedInfo"))
    etree.SubElement(info, ds("CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(
        info, ds("SignatureMethod"), Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    whole = etree.SubElement(info, ds("Reference"), Id="r-id-1", URI="")
    transforms = etree.SubElement(whole, ds("Transforms"))
    etree.SubElement(
        etree.SubElement(transforms, ds("Transform"), Algorithm=XPATH_FILTER), ds("XPath")
    ).text = xpath
    if extra:
        etree.SubElement(transforms, ds("Transform"), Algorithm=extra)
    etree.SubElement(transforms, ds("Transform"), Algorithm=EXC_C14N)
    etree.SubElement(whole, ds("DigestMethod"), Algorithm=SHA256)
    etree.SubElement(whole, ds("DigestValue")).text = b64(hashlib.sha256(data).digest())
    signed_reference = etree.SubElement(
        info,
        ds("Reference"),
        Type="http://uri.etsi.org/01903#SignedProperties",
        URI="#xades-id-1",
    )
    etree.SubElement(
        etree.SubElement(signed_reference, ds("Transforms")), ds("Transform"), Algorithm=EXC_C14N
    )
    etree.SubElement(signed_reference, ds("DigestMethod"), Algorithm=SHA256)
    properties_digest = etree.SubElement(signed_reference, ds("DigestValue"))
    value = etree.SubElement(signature, ds("SignatureValue"))
    etree.SubElement(
        etree.SubElement(etree.SubElement(signature, ds("KeyInfo")), ds("X509Data")),
        ds("X509Certificate"),
    ).text = b64(der)
    qualifying = etree.SubElement(
        etree.SubElement(signature, ds("Object")),
        xa("QualifyingProperties"),
        Target="#id-1",
        nsmap={"xades": XADES},
    )
    properties = etree.SubElement(qualifying, xa("SignedProperties"), Id="xades-id-1")
    signed_signature = etree.SubElement(properties, xa("SignedSignatureProperties"))
    etree.SubElement(signed_signature, xa("SigningTime")).text = signing_time
    digest = etree.SubElement(
        etree.SubElement(
            etree.SubElement(signed_signature, xa("SigningCertificateV2")), xa("Cert")
        ),
        xa("CertDigest"),
    )
    etree.SubElement(digest, ds("DigestMethod"), Algorithm=SHA256)
    named_der = (named or cert).public_bytes(serialization.Encoding.DER)
    etree.SubElement(digest, ds("DigestValue")).text = b64(hashlib.sha256(named_der).digest())
    properties_digest.text = b64(
        hashlib.sha256(etree.tostring(properties, method="c14n", exclusive=True)).digest()
    )
    signed_info = etree.tostring(info, method="c14n", exclusive=True)
    value.text = b64(key.sign(signed_info, padding.PKCS1v15(), hashes.SHA256()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
