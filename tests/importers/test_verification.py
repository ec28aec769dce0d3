"""Verification of signed credentials (issue 22, first slice): VC-JWT and enveloped XML-DSig
against a trust list, with real signed samples from ../shared and credentials signed here."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import XMLSigner

from importers.verification.services import verify
from importers.verification.trust import TrustList, TrustListError, as_jwk
from tests.importers.signing import (
    ISSUER,
    certificate,
    credential,
    did_key,
    ed25519_key,
    p256_key,
    pem,
    public_pem,
    rsa_key,
    sign_jwt,
    tamper,
)

ON = dt.date(2026, 6, 1)
ELMO = "corpus/elmo"
OB3 = "corpus/ob3/digital-credentials-public-validator__inspector-vc_src_test_resources_ob30_"


def trust_list(tmp_path, files: dict[str, bytes | str | dict]) -> TrustList:
    folder = tmp_path / "trust"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, dict):
            content = json.dumps(content)
        if isinstance(content, str):
            content = content.encode()
        (folder / name).write_bytes(content)
    return TrustList.load(folder)


def result(data, trust, on=ON) -> dict:
    answer = verify(data if isinstance(data, bytes) else data.encode(), trust=trust, on=on)
    return answer.as_dict()


def outcome(answer: dict, name: str) -> str:
    return next(item["result"] for item in answer["checks"] if item["check"] == name)


# --- VC-JWT ------------------------------------------------------------------------------------


def test_a_vc_jwt_signed_by_a_did_key_in_the_trust_list_is_verified(tmp_path):
    key = ed25519_key()
    did = did_key(key)
    kid = f"{did}#{did.removeprefix('did:key:')}"
    token = sign_jwt(key, {"alg": "EdDSA", "kid": kid}, credential(did))
    trust = trust_list(tmp_path, {"issuer.did.json": {"id": did}})
    answer = result(token, trust)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == did
    assert [item["check"] for item in answer["checks"]] == [
        "format",
        "algorithm",
        "key",
        "signature",
        "issuer",
        "validity",
    ]
    assert {item["result"] for item in answer["checks"]} == {"passed"}
    # The same did:key, not listed: its key is in the identifier, but nobody vouched for it.
    assert result(token, trust_list(tmp_path / "empty", {}))["verdict"] == "unknown_issuer"


def test_es256_by_a_jwk_kid_and_rs256_by_the_issuer_are_verified(tmp_path):
    ec_key, rsa_private = p256_key(), rsa_key()
    public = as_jwk(ec_key.public_key()).as_dict()
    trust = trust_list(
        tmp_path,
        {
            "ec.jwk": {**public, "kid": "seal-2026", "issuer": ISSUER},
            "rsa.pem": b"Issuer: " + ISSUER.encode() + b"\n" + public_pem(rsa_private),
        },
    )
    es256 = sign_jwt(ec_key, {"alg": "ES256", "kid": "seal-2026"}, credential())
    rs256 = sign_jwt(rsa_private, {"alg": "RS256", "typ": "JWT"}, credential())
    assert result(es256, trust)["verdict"] == "verified"
    answer = result(rs256, trust)
    assert answer["verdict"] == "verified" and answer["issuer"] == ISSUER
    assert "issuer " + ISSUER in answer["checks"][2]["detail"]


def test_a_large_header_or_credential_is_verified_not_cut_by_token_limits(tmp_path):
    """An `x5c` certificate makes the header over 512 bytes, a whole credential the payload
    over 128,000: joserfc's defaults for tokens refused both as a bad signature."""
    private = rsa_key()
    leaf = certificate(private, "University Example seal")
    trust = trust_list(tmp_path, {"seal.pem": b"Issuer: " + ISSUER.encode() + b"\n" + pem(leaf)})
    x5c = base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()
    assert len(x5c) > 512
    token = sign_jwt(private, {"alg": "RS256", "x5c": [x5c]}, credential())
    answer = result(token, trust)
    assert answer["verdict"] == "verified", answer
    claims = credential()
    claims["vc"]["credentialSubject"]["note"] = "x" * 200_000
    answer = result(sign_jwt(private, {"alg": "RS256", "x5c": [x5c]}, claims), trust)
    assert answer["verdict"] == "verified", answer
    assert result(tamper(token), trust)["verdict"] == "invalid"


def test_a_tampered_vc_jwt_is_invalid(tmp_path):
    key = ed25519_key()
    did = did_key(key)
    kid = f"{did}#{did.removeprefix('did:key:')}"
    token = sign_jwt(key, {"alg": "EdDSA", "kid": kid}, credential(did))
    answer = result(tamper(token), trust_list(tmp_path, {"issuer.did.json": {"id": did}}))
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith("the signature does not match")
    assert outcome(answer, "signature") == "failed"


def test_a_wrong_key_is_invalid_under_the_issuer_s_kid_or_any_other(tmp_path):
    signer, other = p256_key(), p256_key()
    listed = {**as_jwk(other.public_key()).as_dict(), "kid": "k1", "issuer": ISSUER}
    trust = trust_list(tmp_path, {"keys.json": {"keys": [listed]}})
    token = sign_jwt(signer, {"alg": "ES256", "kid": "k1"}, credential())
    assert result(token, trust)["verdict"] == "invalid"
    # A forger naming a kid of their own, or carrying their key in the header, claims a listed
    # issuer all the same: only the issuer's keys may vouch, and the forgery is invalid (it was
    # unknown_issuer, a milder verdict, in an outside trial).
    public = as_jwk(signer.public_key()).as_dict()
    for header in ({"kid": "k2"}, {"jwk": public}):
        forged = result(sign_jwt(signer, {"alg": "ES256", **header}, credential()), trust)
        assert forged["verdict"] == "invalid", forged
        assert forged["reason"].startswith(
            f"the signature does not match the trusted key(s) found for issuer {ISSUER} ("
        )
        assert "is none of its keys" in forged["reason"]
    # The issuer's own key under a kid the list does not name: its signature still counts.
    ok = result(sign_jwt(other, {"alg": "ES256", "kid": "k9"}, credential()), trust)
    assert ok["verdict"] == "verified"
    # An issuer with no key listed at all is unknown, as ever.
    stranger = credential("https://elsewhere.example/issuers/2")
    unknown = result(sign_jwt(signer, {"alg": "ES256", "kid": "k2"}, stranger), trust)
    assert unknown["verdict"] == "unknown_issuer"
    assert unknown["reason"] == "no key of the trust list matches kid k2"


@pytest.mark.parametrize(
    "claims, said",
    [
        ({"exp": 1735689600}, "expired on 2025-01-01 (exp)"),
        ({"vc_validUntil": "2025-12-31T23:59:59Z"}, "expired on 2025-12-31 (validUntil)"),
        ({"vc_expirationDate": "2026-05-31T00:00:00Z"}, "expired on 2026-05-31 (expirationDate)"),
        ({"vc_validFrom": "2026-06-02T00:00:00Z"}, "not valid before 2026-06-02 (validFrom)"),
    ],
)
def test_an_expired_or_not_yet_valid_credential_is_invalid_naming_the_date(tmp_path, claims, said):
    key = rsa_key()
    trust = trust_list(tmp_path, {"rsa.pem": f"Issuer: {ISSUER}\n".encode() + public_pem(key)})
    dates = {
        name.removeprefix("vc_"): value for name, value in claims.items() if name.startswith("vc_")
    }
    payload = credential(**dates)
    payload.update({name: value for name, value in claims.items() if not name.startswith("vc_")})
    answer = result(sign_jwt(key, {"alg": "RS256"}, payload), trust)
    assert answer["verdict"] == "invalid"
    assert said in answer["reason"] and "verified on 2026-06-01" in answer["reason"]
    assert outcome(answer, "signature") == "passed"
    # On a day inside the bounds the same token is verified.
    assert result(sign_jwt(key, {"alg": "RS256"}, payload), trust, on=dt.date(2024, 6, 1))[
        "verdict"
    ] == ("invalid" if "validFrom" in said else "verified")


def test_the_issuer_must_be_the_one_the_key_stands_for(tmp_path):
    key = rsa_key()
    trust = trust_list(tmp_path, {"rsa.pem": f"Issuer: {ISSUER}\n".encode() + public_pem(key)})
    other = credential(ISSUER)
    other["vc"]["issuer"]["id"] = "https://elsewhere.example/issuer"
    answer = result(sign_jwt(key, {"alg": "RS256"}, other), trust)
    assert answer["verdict"] == "invalid"
    assert "is not the credential's issuer https://elsewhere.example/issuer" in answer["reason"]
    kid_trust = trust_list(
        tmp_path / "b",
        {"rsa.pem": b"Issuer: https://other.example\n" + public_pem(key)},
    )
    thumbprint = as_jwk(key.public_key()).thumbprint()
    answer = result(sign_jwt(key, {"alg": "RS256", "kid": thumbprint}, credential()), kid_trust)
    assert answer["verdict"] == "invalid"
    assert answer["reason"] == (
        f"the key stands for https://other.example in the trust list, the credential names {ISSUER}"
    )


def test_algorithms_outside_the_three_are_refused(tmp_path):
    trust = trust_list(tmp_path, {})
    for header in ({"alg": "none"}, {"alg": "HS256"}):
        token = (
            ".".join(
                base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                for part in (header, credential())
            )
            + ".c2ln"
        )
        answer = result(token, trust)
        assert answer["verdict"] == "invalid"
        assert answer["reason"].startswith(f"the algorithm '{header['alg']}' is not accepted")


def test_the_ob3_corpus_jwt_names_its_issuer_and_fails_against_a_wrong_key(tmp_path, shared):
    token = (shared / f"{OB3}simple.jwt").read_text().strip()
    answer = result(token, trust_list(tmp_path, {}))
    assert answer["verdict"] == "unknown_issuer"
    assert answer["issuer"] == "https://example.edu/issuers/565049"
    # Its key is not published with it: a key listed for its issuer that is not the signer's.
    wrong = trust_list(
        tmp_path / "w",
        {"x.pem": b"Issuer: https://example.edu/issuers/565049\n" + public_pem(rsa_key())},
    )
    assert result(token, wrong)["verdict"] == "invalid"
    assert result(tamper(token), wrong)["verdict"] == "invalid"


def test_the_signed_ob3_sample_is_a_header_alone(tmp_path, shared):
    """formats/open-badges-3/ob3-microcredential-signed.jwt holds only a JWS protected header
    (alg RS256, jwk, x5c): no payload, no signature."""
    data = (shared / "formats/open-badges-3/ob3-microcredential-signed.jwt").read_bytes()
    answer = result(data, trust_list(tmp_path, {}))
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith("only a JWS protected header (alg 'RS256')")


# --- unsigned and not checked --------------------------------------------------------------------


def test_unsigned_files_say_what_they_are(tmp_path, shared):
    trust = trust_list(tmp_path, {})
    ob3 = result(
        (shared / "formats/open-badges-3/ob3-microcredential-example.json").read_bytes(), trust
    )
    assert ob3["verdict"] == "unsigned"
    assert ob3["reason"] == (
        "a JSON document (type VerifiableCredential, OpenBadgeCredential) with no proof and no "
        "signature"
    )
    elmo = result(
        (shared / ELMO / "dk-emrex__ncp_examples_elmo-wl-unsigned.xml").read_bytes(), trust
    )
    assert elmo == {
        "verdict": "unsigned",
        "reason": "an XML document (<elmo>) without an XML signature",
        "issuer": None,
        "checks": [{"check": "signature", "result": "failed", "detail": elmo["reason"]}],
    }
    assert result(b"\x00\x01binary", trust)["verdict"] == "unsigned"


def test_a_pre_standard_data_integrity_suite_is_named_and_never_verified(tmp_path, shared):
    answer = result(
        (shared / f"{OB3}simple-eddsa-2022.json").read_bytes(), trust_list(tmp_path, {})
    )
    assert answer["verdict"] == "unsigned"
    assert answer["reason"] == (
        "a proof of a suite this version does not check (DataIntegrityProof, cryptosuite "
        "eddsa-2022)"
    )
    assert [(item["check"], item["result"]) for item in answer["checks"]] == [
        ("proof", "not_checked")
    ]


# --- XML-DSig (ELMO) ---------------------------------------------------------------------------


def _pem_of_keyinfo(data: bytes) -> bytes:
    body = "".join(re.search(rb"X509Certificate>([^<]+)<", data).group(1).decode().split())
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n".encode()


KMD = "CN=Niels Kildeskov,OU=Unknown,O=KMD,L=Copenhagen,ST=Unknown,C=DK"


def test_the_tomcat_signed_emrex_sample_is_verified(tmp_path, shared):
    """Its Signature redeclares the default namespace (`<Signature xmlns="...xmldsig#">` inside
    `<elmo xmlns="...elmo...">`): canonicalised in place, lxml wrongly adds `xmlns=""` to
    Transforms and Transform, and the RSA-SHA1 signature seemed not to verify. Canonicalised as
    a detached copy, SignedInfo verifies with the certificate of its KeyInfo."""
    data = (shared / ELMO / "dk-emrex__ncp_examples_elmo-tomcat-signed.xml").read_bytes()
    unknown = result(data, trust_list(tmp_path, {}))
    assert unknown["verdict"] == "unknown_issuer" and unknown["issuer"] == KMD
    assert outcome(unknown, "coverage") == "passed"
    cert = x509.load_pem_x509_certificate(_pem_of_keyinfo(data))
    trust = trust_list(tmp_path / "dk", {"kmd.pem": b"Issuer: KMD\n" + _pem_of_keyinfo(data)})
    listed = result(data, trust)
    assert listed["verdict"] == "verified", listed
    assert listed["issuer"] == "KMD"
    assert "SHA-1: weak" in listed["checks"][2]["detail"]
    tampered = result(data.replace(b">Jens<", b">Jans<", 1), trust)
    assert tampered["verdict"] == "invalid"
    assert "the digest of a reference is not the one signed" in tampered["reason"]
    other = certificate(rsa_key(), "Niels Kildeskov")
    assert result(data, trust_list(tmp_path / "o", {"o.pem": pem(other)}))["verdict"] == (
        "unknown_issuer"
    )
    day_after = cert.not_valid_after_utc.date() + dt.timedelta(days=1)
    expired = result(data, trust, on=day_after)
    assert expired["verdict"] == "invalid" and f"not on {day_after}" in expired["reason"]


def test_the_other_signed_emrex_samples_were_changed_after_signing(tmp_path, shared):
    """The WebLogic sample's SignedInfo signature verifies, but its elements carry the prefix
    ns0: and its document digest is not the one signed; the beautified sample is the Tomcat one
    (the same SignatureValue) re-indented after signing, SignedInfo included."""
    trust = trust_list(
        tmp_path,
        {
            "kmd.pem": b"Issuer: KMD\n"
            + _pem_of_keyinfo(
                (shared / ELMO / "dk-emrex__ncp_examples_elmo-tomcat-signed.xml").read_bytes()
            )
        },
    )
    wl = result((shared / ELMO / "dk-emrex__ncp_examples_elmo-wl-signed.xml").read_bytes(), trust)
    assert wl["verdict"] == "invalid"
    assert wl["reason"].startswith(
        "the XML signature does not verify: its signature over SignedInfo is right, but the "
        "digest of a reference is not the one signed (Digest mismatch for reference 0 ())"
    )
    beautified = shared / ELMO / "dk-emrex__ncp_examples_elmo-tomcat-signed-beautified.xml"
    answer = result(beautified.read_bytes(), trust)
    assert answer["verdict"] == "invalid"
    assert answer["reason"] == (
        "the XML signature does not verify: SignedInfo's signature verifies only with its "
        "indentation removed: the file was re-indented after signing"
    )


def _signed_elmo(shared, key, cert, chain=()) -> bytes:
    root = etree.fromstring(
        (shared / ELMO / "dk-emrex__ncp_examples_elmo-wl-unsigned.xml").read_bytes()
    )
    signed = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256").sign(
        root, key=key, cert=[pem(cert).decode(), *(pem(c).decode() for c in chain)]
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def test_an_elmo_signed_here_is_verified_and_each_fault_is_named(tmp_path, shared):
    key = rsa_key()
    cert = certificate(key, "EMREX contact point")
    data = _signed_elmo(shared, key, cert)
    trust = trust_list(tmp_path, {"ncp.pem": b"Issuer: Example NCP\n" + pem(cert)})
    answer = result(data, trust)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == "Example NCP"
    assert [(c["check"], c["result"]) for c in answer["checks"]] == [
        ("coverage", "passed"),
        ("certificate", "passed"),
        ("signature", "passed"),
    ]
    # One byte of the transcript changed.
    tampered = data.replace(b">Jens<", b">Jans<", 1)
    assert tampered != data
    answer = result(tampered, trust)
    assert answer["verdict"] == "invalid" and "does not verify" in answer["reason"]
    # The certificate is not listed; another certificate with the same subject is.
    impostor = certificate(rsa_key(), "EMREX contact point")
    assert result(data, trust_list(tmp_path / "x", {"ncp.pem": pem(impostor)}))["verdict"] == (
        "unknown_issuer"
    )
    # The listed certificate has expired by the day of verification.
    old = certificate(key, "EMREX contact point", valid_to=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    expired = result(
        _signed_elmo(shared, key, old), trust_list(tmp_path / "o", {"o.pem": pem(old)})
    )
    assert expired["verdict"] == "invalid"
    assert "valid from 2020-01-01 to 2025-01-01, not on 2026-06-01" in expired["reason"]


def test_an_elmo_signed_under_a_trusted_ca_is_verified(tmp_path, shared):
    ca_key, intermediate_key, key = rsa_key(), rsa_key(), rsa_key()
    ca = certificate(ca_key, "Trusted Root", ca=True)
    intermediate = certificate(intermediate_key, "Intermediate", ca_key, "Trusted Root", ca=True)
    leaf = certificate(key, "University NCP", intermediate_key, "Intermediate")
    data = _signed_elmo(shared, key, leaf, [intermediate])
    answer = result(data, trust_list(tmp_path, {"root.pem": pem(ca)}))
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == "CN=University NCP"
    assert "issued by a CA of the trust list" in answer["checks"][1]["detail"]


# --- the trust list ----------------------------------------------------------------------------


def test_the_trust_list_refuses_what_it_cannot_use(tmp_path):
    private = as_jwk(p256_key()).as_dict(private=True)
    with pytest.raises(TrustListError, match="private key"):
        trust_list(tmp_path / "a", {"k.jwk": {**private, "issuer": ISSUER}})
    public = as_jwk(p256_key().public_key()).as_dict()
    with pytest.raises(TrustListError, match="issuer"):
        trust_list(tmp_path / "b", {"k.jwk": public})
    with pytest.raises(TrustListError, match="Issuer: NAME"):
        trust_list(tmp_path / "c", {"k.pem": public_pem(rsa_key())})
    assert TrustList.load(tmp_path / "absent") == TrustList(directory=str(tmp_path / "absent"))


def test_broken_signatures_are_invalid_with_their_reason(tmp_path, shared):
    data = (shared / ELMO / "dk-emrex__ncp_examples_elmo-tomcat-signed.xml").read_bytes()
    trust = trust_list(tmp_path, {"kmd.pem": _pem_of_keyinfo(data)})
    method = b'<SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>'
    cases = {
        data.replace(method, b""): "the XML signature does not verify: Element",
        data.replace(b"xmldsig#rsa-sha1", b"xmldsig#hmac-sha1"): "HMAC_SHA1 forbidden",
        re.sub(rb"X509Certificate>[^<]*<", b"X509Certificate>AAAA<", data): "cannot be read",
        b'<a xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Signature/></a>': "does not cover",
        b"eyJhbGciOiJSUzI1NiJ9.!!!.abc": "not a compact JWS",
        b"eyJhbGciOiJSUzI1NiIsImp3ayI6eyJrdHkiOiJSU0EifX0.eyJpc3MiOiJ4In0.abc": "jwk is not",
    }
    for broken, said in cases.items():
        answer = result(broken, trust)
        assert answer["verdict"] == "invalid" and said in answer["reason"], answer


def test_the_elmo_format_example_was_edited_after_signing(tmp_path, shared):
    """formats/emrex-elmo/example.xml: its certificate's key is the signing key (the signature
    value opens to a PKCS#1 SHA-1 block), but the SignedInfo signed had neither the indentation
    nor the root's xmlns:xsi declaration it has now: the example was edited after signing."""
    data = (shared / "formats/emrex-elmo/example.xml").read_bytes()
    trust = trust_list(tmp_path, {"uio.pem": _pem_of_keyinfo(data)})
    answer = result(data, trust, on=dt.date(2016, 1, 1))
    assert answer["verdict"] == "invalid"
    assert outcome(answer, "certificate") == "passed"
    assert answer["reason"].startswith(
        "the XML signature does not verify: the signature value does not match SignedInfo"
    )
