"""JAdES seals on Europass EDC credentials: the real sealed samples of the EDC repository (their
own certificate listed, as an operator who trusts that seal would list it) and seals made here."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml.xades import XAdESSigner

from tests.importers.signing import (
    DSIG,
    ISSUER,
    XADES,
    certificate,
    edc_credential,
    p256_key,
    pem,
    rsa_key,
    sign_jades,
    sign_xades_edc,
)
from tests.importers.test_verification import ON, outcome, result, trust_list

ELM_JSON = "corpus/elm-json/european-digital-credentials__"
SEALED = {
    "credential-signed": (
        f"{ELM_JSON}edci-data-model_src_test_resources_jsonld_credential-signed.jsonld"
    ),
    "credential-jws-invalid": (
        f"{ELM_JSON}edci-commons_src_test_resources_jsonld_credential-jws-invalid.jsonld"
    ),
    "Sample-MC-Annex1-signed": (
        "formats/europass-elm-edc/elm-v3-jsonld/Sample-MC-Annex1-signed.jsonld"
    ),
}
# Each with the x5c certificate listed (the ANF root its chain ends in, or the seal's own) and
# how the trust list vouches for it.
PRESENTATIONS = [
    (
        f"{ELM_JSON}edci-eseal-core_src_test_resources_creds_json_sealed_advanced.json",
        -1,
        "was issued by a CA of the trust list",
    ),
    (
        f"{ELM_JSON}edci-eseal-core_src_test_resources_creds_json_to_seal-signed-jades-baseline-lta.json",
        0,
        "is in the trust list",
    ),
]
CHECKS = [
    "format",
    "algorithm",
    "critical",
    "certificate",
    "signature",
    "signing_time",
    "issuer",
    "validity",
    "timestamps",
]


def _header(document: dict) -> dict:
    protected = document["signatures"][0]["protected"]
    return json.loads(base64.urlsafe_b64decode(protected + "=" * (-len(protected) % 4)))


def _x5c(document: dict, index: int = 0) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(_header(document)["x5c"][index]))


def _tampered(document: dict) -> bytes:
    """One byte of the sealed payload changed: "credential" becomes "credentiam" in its id."""
    assert "credential" in document["payload"]
    payload = document["payload"].replace("credential", "credentiam", 1)
    return json.dumps({**document, "payload": payload}).encode()


def _issuer(document: dict) -> str:
    return json.loads(document["payload"])["issuer"]["id"]


@pytest.mark.parametrize("name", list(SEALED))
def test_the_sealed_edc_samples(tmp_path, shared, name):
    """The EDC samples are sealed (RS256, b64 false, crit b64/sigT/adoTst) with test seal
    certificates of ANF that expired in 2023 and 2025. Listed under the credential's issuer,
    each is verified on its sealing day, and invalid today: the certificate has expired, and
    the timestamps that would prove the seal was made in time are not verified. That holds for
    `credential-jws-invalid` too: its seal is sound; whatever its name says is wrong with it is
    in the credential, not in the signature."""
    data = (shared / SEALED[name]).read_bytes()
    document = json.loads(data)
    cert = _x5c(document)
    issuer = _issuer(document)
    sealed_on = dt.date.fromisoformat(_header(document)["sigT"][:10])

    unknown = result(data, trust_list(tmp_path / "none", {}), on=sealed_on)
    assert unknown["verdict"] == "unknown_issuer" and unknown["issuer"] == issuer
    assert "is not in the trust list, nor issued by a CA in it" in unknown["reason"]

    trust = trust_list(tmp_path / "seal", {"seal.pem": f"Issuer: {issuer}\n".encode() + pem(cert)})
    answer = result(data, trust, on=sealed_on)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == issuer
    assert [item["check"] for item in answer["checks"]] == CHECKS
    assert outcome(answer, "timestamps") == "not_checked"
    assert (
        "adoTst: a timestamp of the signed data, accepted and not verified"
        in (answer["checks"][2]["detail"])
    )

    tampered = result(_tampered(document), trust, on=sealed_on)
    assert tampered["verdict"] == "invalid"
    assert tampered["reason"].startswith("the RS256 signature does not verify")

    # Another certificate, listed for the same issuer: the seal's own is not in the trust list.
    other = certificate(rsa_key(), "Nombre Servicio Sellado TEST")
    listed = f"Issuer: {issuer}\n".encode() + pem(other)
    impostor = trust_list(tmp_path / "other", {"o.pem": listed})
    assert result(data, impostor, on=sealed_on)["verdict"] == "unknown_issuer"

    # Listed under its own subject (no Issuer line), it does not stand for the credential's issuer.
    subject_only = result(data, trust_list(tmp_path / "s", {"s.pem": pem(cert)}), on=sealed_on)
    assert subject_only["verdict"] == "invalid"
    assert subject_only["reason"].endswith(f"the credential names {issuer}")

    expired_on = cert.not_valid_after_utc.date() + dt.timedelta(days=1)
    for day in (expired_on, ON):
        expired = result(data, trust, on=day)
        assert expired["verdict"] == "invalid"
        assert f"not on {day} (the seal claims it was made on " in expired["reason"]


@pytest.mark.parametrize("path, listed, vouched", PRESENTATIONS)
def test_the_eseal_core_presentations_seal_no_credential(tmp_path, shared, path, listed, vouched):
    """The eseal-core samples seal an empty VerifiablePresentation: the seal verifies (the
    advanced one's certificate trusted through the ANF root its x5c carries) but vouches for no
    issuer."""
    data = (shared / path).read_bytes()
    document = json.loads(data)
    sealed_on = dt.date.fromisoformat(_header(document)["sigT"][:10])
    trust = trust_list(tmp_path, {"anf.pem": pem(_x5c(document, listed))})
    answer = result(data, trust, on=sealed_on)
    assert answer["verdict"] == "invalid"
    assert answer["reason"] == (
        "the sealed payload (VerifiablePresentation) names no issuer: it is not a credential the "
        "seal can vouch for"
    )
    assert outcome(answer, "signature") == "passed"
    assert vouched in answer["checks"][3]["detail"]


# --- seals made here ----------------------------------------------------------------------------


@pytest.fixture
def seal(tmp_path):
    key = rsa_key()
    cert = certificate(key, "Example University seal")
    trust = trust_list(tmp_path / "seal", {"seal.pem": f"Issuer: {ISSUER}\n".encode() + pem(cert)})
    return key, cert, trust


def test_a_seal_made_here_is_verified_in_both_json_forms(tmp_path):
    for index, key in enumerate((rsa_key(), p256_key())):
        cert = certificate(key, "Example University seal")
        listed = f"Issuer: {ISSUER}\n".encode() + pem(cert)
        trust = trust_list(tmp_path / str(index), {"u.pem": listed})
        document = sign_jades(key, cert, edc_credential())
        answer = result(json.dumps(document), trust)
        assert answer["verdict"] == "verified", answer
        assert answer["reason"].startswith(f"sealed by {ISSUER} (")
        flattened = {"payload": document["payload"], **document["signatures"][0]}
        assert result(json.dumps(flattened), trust)["verdict"] == "verified"
        assert result(_tampered(document), trust)["verdict"] == "invalid"


def test_a_compact_jades_seal_is_verified_as_a_seal(seal):
    """A compact JWS whose header states sigT is a JAdES seal (x5c, crit), not a VC-JWT."""
    key, cert, trust = seal
    document = sign_jades(key, cert, edc_credential(), b64=None, crit=["sigT"])
    member = document["signatures"][0]
    token = ".".join([member["protected"], document["payload"], member["signature"]])
    answer = result(token, trust)
    assert answer["verdict"] == "verified", answer
    assert answer["checks"][0]["detail"] == "a JWS in compact serialization, payload base64url"
    claims = base64.urlsafe_b64decode(document["payload"] + "=" * (-len(document["payload"]) % 4))
    changed = base64.urlsafe_b64encode(claims.replace(b"credential", b"credentiam", 1))
    tampered = token.replace(document["payload"], changed.rstrip(b"=").decode())
    answer = result(tampered, trust)
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith("the RS256 signature does not verify")


def test_a_seal_without_x5c_is_found_by_its_thumbprint(seal):
    key, cert, trust = seal
    document = sign_jades(key, cert, edc_credential(), x5c=None)
    assert "x5c" not in _header(document)
    answer = result(json.dumps(document), trust)
    assert answer["verdict"] == "verified", answer
    unlisted = result(json.dumps(document), trust_list(Path(trust.directory).parent / "none", {}))
    assert unlisted["verdict"] == "unknown_issuer"
    assert unlisted["reason"].startswith("the protected header carries no x5c certificate")


@pytest.mark.parametrize(
    "header, said",
    [
        ({"crit": ["b64", "sigT", "exp2"], "exp2": 1}, "'exp2' is not understood by this version"),
        ({"crit": ["b64", "sigT", "sigD"], "sigD": {}}, "a detached payload (sigD)"),
        ({"crit": ["b64", "sigT", "sigPId"], "sigPId": {}}, "a signature policy (sigPId)"),
        ({"crit": ["sigT"]}, "b64 false is not listed in crit"),
        ({"crit": ["b64", "sigT", "srCms"]}, "crit names 'srCms', which the header lacks"),
        ({"alg": "HS256"}, "the algorithm 'HS256' is not accepted"),
        ({"alg": "none"}, "the algorithm 'none' is not accepted"),
        ({"x5t#S256": "AAAA"}, "x5t#S256 is not the SHA-256 thumbprint"),
        ({"sigT": "2019-01-01T00:00:00Z"}, "sigT 2019-01-01T00:00:00Z is outside the certificate"),
        ({"x5c": ["!!"]}, "a certificate of x5c cannot be read"),
    ],
)
def test_what_a_seal_header_may_not_say(seal, header, said):
    key, cert, trust = seal
    document = sign_jades(key, cert, edc_credential(), **header)
    answer = result(json.dumps(document), trust)
    assert answer["verdict"] == "invalid", answer
    assert said in answer["reason"]


def _seal_certificate(key, ca_key, organisation: str) -> x509.Certificate:
    """A seal certificate as a qualified CA issues it: the organisation's eIDAS identifier in
    organizationIdentifier (2.5.4.97)."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Example University seal"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, organisation),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seal CA")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .sign(ca_key, hashes.SHA256())
    )


def test_a_seal_under_a_listed_ca_stands_for_the_issuer_with_its_eidas_identifier(tmp_path):
    """Listing a CA vouches for the organisation its certificates name, not for a credential's
    issuer URI: the seal's organizationIdentifier must be the issuer's eIDASIdentifier."""
    ca_key, key = rsa_key(), rsa_key()
    trust = trust_list(tmp_path, {"ca.pem": pem(certificate(ca_key, "Seal CA", ca=True))})
    cert = _seal_certificate(key, ca_key, "VATES-A00000000")
    credential = edc_credential()
    identifier = {"type": "LegalIdentifier", "notation": "VATES-A00000000"}
    credential["issuer"]["eIDASIdentifier"] = identifier
    answer = result(json.dumps(sign_jades(key, cert, credential)), trust)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == ISSUER
    assert (
        "its legal identifier VATES-A00000000 is the organizationIdentifier"
        in (answer["checks"][6]["detail"])
    )
    credential["issuer"]["eIDASIdentifier"]["notation"] = "VATES-B11111111"
    other = result(json.dumps(sign_jades(key, cert, credential)), trust)
    assert other["verdict"] == "invalid"
    assert "(organizationIdentifier VATES-A00000000) in the trust list" in other["reason"]


def test_the_seal_must_stand_for_the_credentials_issuer_and_its_dates(seal):
    key, cert, trust = seal
    other = result(json.dumps(sign_jades(key, cert, edc_credential("urn:org:other"))), trust)
    assert other["verdict"] == "invalid"
    assert other["reason"] == (
        f"the certificate stands for {ISSUER} in the trust list, the credential names urn:org:other"
    )
    expired = sign_jades(key, cert, edc_credential(expirationDate="2025-12-31T00:00:00Z"))
    answer = result(json.dumps(expired), trust)
    assert answer["verdict"] == "invalid"
    assert "expired on 2025-12-31 (expirationDate), verified on 2026-06-01" in answer["reason"]


def test_malformed_seals_are_invalid_with_their_reason(seal):
    key, cert, trust = seal
    document = sign_jades(key, cert, edc_credential())
    two = {**document, "signatures": document["signatures"] * 2}
    cases = {
        json.dumps(two): "2 JWS signatures: this version checks a seal with one",
        json.dumps({**document, "payload": ""}): "the JWS has no payload (detached)",
        json.dumps({**document, "payload": "[1]"}): "the JWS payload is not a JSON object",
        json.dumps({**document, "payload": {"id": 1}}): "the JWS payload is not a string",
        json.dumps({**document, "signatures": []}): "the JWS lists no signature",
        json.dumps(
            {**document, "signatures": [{**document["signatures"][0], "protected": "e30"}]}
        ): "the JWS payload is not a JSON credential",
    }
    for data, said in cases.items():
        answer = result(data, trust)
        assert answer["verdict"] == "invalid" and said in answer["reason"], answer


# --- XAdES (ELM v2 XML) -------------------------------------------------------------------------

ELM_XML = "corpus/elm-xml/european-digital-credentials__"
XSD_SIGNED = (
    f"{ELM_XML}edci-data-model_src_test_resources_xsdValidation_"
    "credential-generic-profile-xsd-signed.xml"
)
EPAS_476 = (
    f"{ELM_XML}edci-issuer_edci-issuer-service_src_test_resources_signCredential_"
    "Credential_EPAS_476.xml"
)
XSLT = "http://www.w3.org/TR/1999/REC-xslt-19991116"
CREDENTIAL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<europassCredential xmlns="http://data.europa.eu/snb" id="urn:credential:1">\n'
    b'  <issuer id="urn:org:1"><legalName>Example University</legalName></issuer>\n'
    b"</europassCredential>"
)


def _keyinfo_certificate(data: bytes) -> x509.Certificate:
    node = etree.fromstring(data).find(f".//{{{DSIG}}}KeyInfo//{{{DSIG}}}X509Certificate")
    return x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split())))


def _signing_day(data: bytes) -> dt.date:
    node = etree.fromstring(data).find(f".//{{{XADES}}}SigningTime")
    return dt.date.fromisoformat(node.text[:10])


def test_the_xades_edc_samples_were_changed_after_signing(tmp_path, shared):
    """The two XAdES-sealed ELM v2 samples: with their own certificate listed, neither verifies
    on its signing day. The generic-profile one was re-indented after signing (its SignedInfo
    verifies with the indentation removed); the EPAS_476 one's SignedInfo does not verify even
    so: it was changed after signing in some other way."""
    data = (shared / XSD_SIGNED).read_bytes()
    cert = _keyinfo_certificate(data)
    day = _signing_day(data)
    assert result(data, trust_list(tmp_path / "none", {}), on=day)["verdict"] == "unknown_issuer"
    trust = trust_list(tmp_path / "seal", {"seal.pem": pem(cert)})
    answer = result(data, trust, on=day)
    assert answer["verdict"] == "invalid"
    assert answer["reason"] == (
        "the XML signature does not verify: SignedInfo's signature verifies only with its "
        "indentation removed: the file was re-indented after signing"
    )
    assert [(item["check"], item["result"]) for item in answer["checks"]] == [
        ("coverage", "passed"),
        ("certificate", "passed"),
        ("signature", "failed"),
    ]
    expired_on = cert.not_valid_after_utc.date() + dt.timedelta(days=1)
    expired = result(data, trust, on=expired_on)
    assert expired["verdict"] == "invalid" and f"not on {expired_on}" in expired["reason"]

    epas = (shared / EPAS_476).read_bytes()
    listed = trust_list(tmp_path / "epas", {"epas.pem": pem(_keyinfo_certificate(epas))})
    answer = result(epas, listed, on=_signing_day(epas))
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith(
        "the XML signature does not verify: the signature value does not match SignedInfo"
    )


def test_a_xades_seal_made_here_is_verified_and_each_fault_is_named(tmp_path):
    key = rsa_key()
    cert = certificate(key, "Example University seal")
    trust = trust_list(tmp_path, {"seal.pem": b"Issuer: urn:org:1\n" + pem(cert)})
    data = sign_xades_edc(CREDENTIAL, key, cert)
    answer = result(data, trust)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == "urn:org:1"
    assert [(item["check"], item["result"]) for item in answer["checks"]] == [
        ("coverage", "passed"),
        ("certificate", "passed"),
        ("signature", "passed"),
        ("signing_time", "passed"),
        ("timestamps", "not_checked"),
    ]
    tampered = result(data.replace(b"Example", b"Exbmple", 1), trust)
    assert tampered["verdict"] == "invalid"
    assert "Digest mismatch for reference 0" in tampered["reason"]
    other = trust_list(tmp_path / "o", {"o.pem": pem(certificate(rsa_key(), "Example seal"))})
    assert result(data, other)["verdict"] == "unknown_issuer"
    old = certificate(key, "Old seal", valid_to=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    expired = result(
        sign_xades_edc(CREDENTIAL, key, old), trust_list(tmp_path / "x", {"x.pem": pem(old)})
    )
    assert expired["verdict"] == "invalid"
    assert "valid from 2020-01-01 to 2025-01-01, not on 2026-06-01" in expired["reason"]


@pytest.mark.parametrize(
    "arguments, said",
    [
        ({"xpath": "not(self::ds:Signature)"}, "the XPath transform 'not(self::ds:Signature)'"),
        ({"signing_time": "2019-01-01T00:00:00Z"}, "SigningTime 2019-01-01T00:00:00Z is outside"),
        ({"named": "other"}, "the signed properties name another signing certificate"),
        ({"xpath": "not(ancestor-or-self::ds:Signature)", "extra": XSLT}, "the transform " + XSLT),
    ],
)
def test_what_a_xades_seal_may_not_say(tmp_path, arguments, said):
    key = rsa_key()
    cert = certificate(key, "Example University seal")
    if arguments.get("named"):
        arguments = {"named": certificate(rsa_key(), "Another seal")}
    data = sign_xades_edc(CREDENTIAL, key, cert, **arguments)
    answer = result(data, trust_list(tmp_path, {"seal.pem": pem(cert)}))
    assert answer["verdict"] == "invalid", answer
    assert said in answer["reason"]


def test_a_xades_seal_by_signxml_with_its_keyinfo_reference_is_verified(tmp_path):
    """signxml's XAdESSigner adds a third reference, over the signature's own KeyInfo."""
    key = rsa_key()
    cert = certificate(key, "Example University seal")
    signed = XAdESSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256").sign(
        etree.fromstring(CREDENTIAL.split(b"\n", 1)[1]), key=key, cert=[pem(cert).decode()]
    )
    answer = result(etree.tostring(signed), trust_list(tmp_path, {"seal.pem": pem(cert)}))
    assert answer["verdict"] == "verified", answer
    assert answer["checks"][0]["detail"].endswith("and KeyInfo")
