"""Data Integrity proofs (eddsa-rdfc-2022, ecdsa-rdfc-2019): `sign` against the W3C test vectors
and an independent computation, and `verify` on credentials signed here and on the OB3 corpus."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import time
import json
from pathlib import Path

import pytest
from cachetools import LRUCache
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pyld import jsonld

from importers.verification import canonical
from importers.verification.canonical import CanonicalizationError, canonicalize
from importers.verification.data_integrity import ECDSA, EDDSA, sign
from importers.verification.services import verify
from importers.verification.trust import TrustList, as_jwk, base58btc, base58btc_encode, multikey
from tests.importers.signing import did_key, ed25519_key, p256_key

VECTORS = Path(__file__).with_name("vectors")
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
ON = dt.date(2026, 6, 1)
CREATED = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
ISSUER = "https://university.example/issuers/7"
OB3 = "corpus/ob3/digital-credentials-public-validator__inspector-vc_src_test_resources_ob30_"


@pytest.fixture
def examples_context(monkeypatch):
    """The W3C test vectors name the VC examples context, which is for examples only and so not
    bundled: served here from the test's own copy, with a resolved-context cache of its own."""
    bundled = canonical.load_document
    examples = json.loads((VECTORS / "credentials-examples-v2.jsonld").read_text())

    def load(url, options=None):
        if url == EXAMPLES_V2:
            return {"contextUrl": None, "documentUrl": url, "document": examples}
        return bundled(url, options)

    monkeypatch.setattr(canonical, "load_document", load)
    monkeypatch.setattr(canonical, "_RESOLVED", LRUCache(maxsize=100))


def vector(name: str) -> dict:
    return json.loads((VECTORS / name).read_text())


def secret(multibase: str, prefix: bytes) -> bytes:
    raw = base58btc(multibase[1:])
    assert raw.startswith(prefix)
    return raw[len(prefix) :]


def trust_list(tmp_path, files: dict[str, dict]) -> TrustList:
    folder = tmp_path / "trust"
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(json.dumps(content))
    return TrustList.load(folder)


def result(document, trust, on=ON) -> dict:
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return verify(data, trust=trust, on=on).as_dict()


def badge(issuer: str = ISSUER, **extra) -> dict:
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:3a0b6f0e-1f4e-4d7c-9f51-6a1f0f8c2d11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Example University"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Data Structures",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://university.example/achievements/ds",
                "type": ["Achievement"],
                "name": "Data Structures",
                "description": "Lists, trees and graphs.",
                "criteria": {"narrative": "Passed the written exam."},
            },
        },
    }
    document.update(extra)
    return document


def jwk_of(private, issuer: str, kid: str) -> dict:
    return {**as_jwk(private.public_key()).as_dict(), "kid": kid, "issuer": issuer}


# --- sign ------------------------------------------------------------------------------------


def test_sign_gives_the_proof_value_of_the_vc_di_eddsa_test_vector(examples_context):
    """VC DI EdDSA, "Representation: eddsa-rdfc-2022" test vector: its key pair, its credential,
    its created time and verification method give exactly its proofValue (Ed25519 signatures
    are deterministic)."""
    signed = vector("eddsa-rdfc-2022-signed.json")
    keys = vector("eddsa-key-pair.json")
    private = ed25519.Ed25519PrivateKey.from_private_bytes(
        secret(keys["privateKeyMultibase"], b"\x80\x26")
    )
    unsigned = {key: value for key, value in signed.items() if key != "proof"}
    ours = sign(
        unsigned,
        private,
        signed["proof"]["verificationMethod"],
        created=dt.datetime(2023, 2, 24, 23, 36, 38, tzinfo=dt.UTC),
    )
    assert ours["proof"] == signed["proof"]
    assert ours["proof"]["proofValue"] == (
        "z2YwC8z3ap7yx1nZYCg4L3j3ApHsF8kgPdSb5xoS1VR7vPG3F561B52hYnQF9iseabecm3ijx4K1FBTQsCZahKZme"
    )
    assert "proof" not in unsigned


@pytest.mark.parametrize(
    "name, keys", [("p256", "ecdsa-p256-key-pair.json"), ("p384", "ecdsa-p384-key-pair.json")]
)
def test_the_vc_di_ecdsa_test_vectors_verify(tmp_path, examples_context, name, keys):
    """The spec's signed credentials (ECDSA signatures are randomised: verified, not re-made)."""
    signed = vector(f"ecdsa-rdfc-2019-{name}-signed.json")
    public = vector(keys)["publicKeyMultibase"]
    trust = _did_key_for(tmp_path, f"did:key:{public}", signed["issuer"])
    answer = result(signed, trust, on=dt.date(2024, 1, 1))
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == "https://vc.example/issuers/5678"
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "The School of Exbmples"
    assert result(tampered, trust, on=dt.date(2024, 1, 1))["verdict"] == "invalid"


def _did_key_for(tmp_path, did: str, issuer: str) -> TrustList:
    """A JWK of the trust list that says the did:key's key stands for `issuer`."""
    value = did.removeprefix("did:key:")
    entry = {**multikey(value).as_dict(), "kid": f"{did}#{value}", "issuer": issuer}
    return trust_list(tmp_path / "k", {"k.json": entry})


@pytest.mark.parametrize(
    "make, suite",
    [
        (ed25519_key, "eddsa-rdfc-2022"),
        (p256_key, "ecdsa-rdfc-2019"),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "ecdsa-rdfc-2019"),
    ],
    ids=["ed25519", "p256", "p384"],
)
def test_a_credential_signed_here_verifies_and_every_fault_is_named(tmp_path, make, suite):
    private = make()
    method = f"{ISSUER}#key-1"
    trust = trust_list(tmp_path, {"issuer.json": jwk_of(private, ISSUER, method)})
    signed = sign(badge(), private, method, cryptosuite=suite, created=CREATED)
    assert signed["proof"]["cryptosuite"] == suite
    assert signed["proof"]["created"] == "2026-01-02T03:04:05Z"
    answer = result(signed, trust)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == ISSUER
    assert answer["reason"] == f"signed by {ISSUER} ({suite}) and valid on {ON}"

    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] = "Data Structurez"
    answer = result(tampered, trust)
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith("the proof's signature does not match")

    stranger = make()
    wrong = trust_list(tmp_path / "w", {"issuer.json": jwk_of(stranger, ISSUER, method)})
    assert result(signed, wrong)["verdict"] == "invalid"

    expired = sign(
        badge(validUntil="2026-03-01T00:00:00Z"),
        private,
        method,
        cryptosuite=suite,
        created=CREATED,
    )
    answer = result(expired, trust)
    assert (answer["verdict"], answer["reason"]) == (
        "invalid",
        f"expired on 2026-03-01 (validUntil), verified on {ON}",
    )
    assert result(signed, trust, on=dt.date(2025, 12, 31))["verdict"] == "invalid"


def test_a_did_key_issuer_listed_in_the_trust_list(tmp_path):
    private = ed25519_key()
    did = did_key(private)
    method = f"{did}#{did.removeprefix('did:key:')}"
    signed = sign(badge(did), private, method, created=CREATED)
    assert result(signed, trust_list(tmp_path / "none", {}))["verdict"] == "unknown_issuer"
    answer = result(signed, trust_list(tmp_path, {"issuer.did.json": {"id": did}}))
    assert (answer["verdict"], answer["issuer"]) == ("verified", did)
    bare = sign(badge(did), private, did, created=CREATED)
    assert result(bare, trust_list(tmp_path, {"issuer.did.json": {"id": did}}))["issuer"] == did


def test_a_did_web_document_with_multikeys_is_a_source_of_keys(tmp_path):
    """A did:web document kept in the trust list, its keys as Multikey `publicKeyMultibase`
    (Ed25519 `z6Mk...`, P-384 `z82...` with the multicodec 0x1201)."""
    did = "did:web:university.example"
    ed, p384 = ed25519_key(), ec.generate_private_key(ec.SECP384R1())
    compressed = p384.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    document = {
        "id": did,
        "verificationMethod": [
            {"id": "#ed", "type": "Multikey", "publicKeyMultibase": did_key(ed)[8:]},
            {
                "id": f"{did}#p384",
                "type": "Multikey",
                "publicKeyMultibase": "z" + base58btc_encode(b"\x81\x24" + compressed),
            },
        ],
    }
    trust = trust_list(tmp_path, {"university.did.json": document})
    for private, method, suite in ((ed, "#ed", EDDSA), (p384, "#p384", ECDSA)):
        signed = sign(badge(did), private, did + method, cryptosuite=suite, created=CREATED)
        answer = result(signed, trust)
        assert (answer["verdict"], answer["issuer"]) == ("verified", did), answer
    crossed = sign(badge(did), ed, f"{did}#p384", created=CREATED)
    assert result(crossed, trust)["verdict"] == "invalid"


def test_an_independent_computation_verifies_a_credential_signed_here():
    """The proof checked without this project's verifier: pyld canonicalises (its own calls),
    hashlib hashes, `cryptography` verifies, as VC DI EdDSA and ECDSA say."""
    for private, digest, algorithm in (
        (ed25519_key(), hashlib.sha256, None),
        (ec.generate_private_key(ec.SECP384R1()), hashlib.sha384, hashes.SHA384()),
    ):
        suite = "eddsa-rdfc-2022" if algorithm is None else "ecdsa-rdfc-2019"
        signed = sign(badge(), private, f"{ISSUER}#k", cryptosuite=suite, created=CREATED)
        proof = dict(signed["proof"])
        value = proof.pop("proofValue")
        document = {key: item for key, item in signed.items() if key != "proof"}
        options = {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": canonical.load_document,
        }
        config = {**proof, "@context": document["@context"]}
        data = (
            digest(jsonld.normalize(config, options).encode()).digest()
            + digest(jsonld.normalize(document, options).encode()).digest()
        )
        signature = base58btc(value[1:])
        if algorithm is None:
            private.public_key().verify(signature, data)
        else:
            r, s = signature[:48], signature[48:]
            der = encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
            private.public_key().verify(der, data, ec.ECDSA(algorithm))


def test_sign_takes_a_joserfc_key_too(tmp_path):
    private = ed25519_key()
    signed = sign(badge(), as_jwk(private), f"{ISSUER}#k", created=CREATED)
    trust = trust_list(tmp_path, {"i.json": jwk_of(private, ISSUER, f"{ISSUER}#k")})
    assert result(signed, trust)["verdict"] == "verified"


def test_sign_refuses_a_key_that_does_not_fit_the_suite():
    with pytest.raises(ValueError, match="Ed25519 private key"):
        sign(badge(), p256_key(), "x", created=CREATED)
    with pytest.raises(ValueError, match="P-256 or P-384"):
        sign(badge(), ed25519_key(), "x", cryptosuite="ecdsa-rdfc-2019", created=CREATED)
    with pytest.raises(ValueError, match="cryptosuite"):
        sign(badge(), ed25519_key(), "x", cryptosuite="eddsa-2022", created=CREATED)


def test_sign_adds_the_data_integrity_context_to_a_vc_1_1_document(tmp_path):
    private = ed25519_key()
    document = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }
    signed = sign(document, private, f"{ISSUER}#k", created=CREATED)
    assert signed["@context"][-1] == "https://w3id.org/security/data-integrity/v2"
    trust = trust_list(tmp_path, {"i.json": jwk_of(private, ISSUER, f"{ISSUER}#k")})
    assert result(signed, trust)["verdict"] == "verified"


def test_own_terms_are_signed_under_the_undefined_terms_context(tmp_path):
    """How the registry signs its own statements: VC 2.0's undefined-terms context maps terms no
    other context defines, so they are covered; without it, signing refuses (data loss)."""
    private = ed25519_key()
    statement = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "credentialSubject": {"id": "urn:example:1", "comparableLevel": "EQF 6"},
    }
    with pytest.raises(CanonicalizationError, match="data loss.*comparableLevel"):
        sign(statement, private, f"{ISSUER}#k", created=CREATED)
    statement["@context"].append("https://www.w3.org/ns/credentials/undefined-terms/v2")
    signed = sign(statement, private, f"{ISSUER}#k", created=CREATED)
    trust = trust_list(tmp_path, {"i.json": jwk_of(private, ISSUER, f"{ISSUER}#k")})
    assert result(signed, trust)["verdict"] == "verified"
    signed["credentialSubject"]["comparableLevel"] = "EQF 7"
    assert result(signed, trust)["verdict"] == "invalid"


# --- contexts --------------------------------------------------------------------------------


def test_no_context_is_fetched_and_undefined_terms_are_data_loss():
    with pytest.raises(CanonicalizationError, match="not one of the bundled contexts"):
        canonicalize({"@context": "https://evil.example/context.jsonld", "name": "x"})
    with pytest.raises(CanonicalizationError, match="data loss.*favouriteColour"):
        canonicalize({**badge(), "favouriteColour": "green"})
    with pytest.raises(CanonicalizationError, match="data loss.*the relative IRI 'learners/7'"):
        canonicalize({**badge(), "credentialSubject": {"id": "learners/7"}})


def test_a_poison_graph_is_refused_quickly():
    """Eight blank nodes all linked to each other: minutes of N-degree hashing unbounded."""
    nodes = [
        {"@id": f"_:b{i}", "https://x.example/p": [{"@id": f"_:b{j}"} for j in range(8) if j != i]}
        for i in range(8)
    ]
    with pytest.raises(CanonicalizationError, match="too many blank nodes alike"):
        canonicalize({"@graph": nodes})


def test_a_document_of_too_many_objects_is_refused_before_its_conversion():
    """pyld's RDF conversion is quadratic: 30,000 objects took minutes and held a request."""
    items = [{"name": f"n{i}"} for i in range(canonical.MAX_OBJECTS)]
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"},
        ],
        "type": ["VerifiableCredential"],
        "credentialSubject": {"items": items},
    }
    started = time.perf_counter()
    with pytest.raises(CanonicalizationError, match=r"3003 JSON objects, more than the 3000"):
        canonicalize(document)
    assert time.perf_counter() - started < 1
    # Below the cap it is canonicalised as ever: each item a blank node.
    document["credentialSubject"]["items"] = items[:10]
    assert canonicalize(document).count('<https://schema.org/name> "n') == 10


def test_the_bundled_contexts_are_the_published_ones():
    """Each bundled file's SHA-256 is the one contexts/SOURCES.md records; the VC 2.0 context's
    is the one the VC Data Model 2.0 Recommendation publishes."""
    sources = (canonical.CONTEXTS / "SOURCES.md").read_text()
    for url, name in canonical.BUNDLED.items():
        digest = hashlib.sha256((canonical.CONTEXTS / name).read_bytes()).hexdigest()
        assert f"`{name}`" in sources and digest in sources, (url, name)
    assert (
        hashlib.sha256((canonical.CONTEXTS / "credentials-v2.jsonld").read_bytes()).hexdigest()
        == "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    )


def test_an_unbundled_context_is_invalid(tmp_path):
    private = ed25519_key()
    trust = trust_list(tmp_path, {"i.json": jwk_of(private, ISSUER, f"{ISSUER}#k")})
    signed = sign(badge(), private, f"{ISSUER}#k", created=CREATED)
    signed["@context"].append("https://evil.example/context.jsonld")
    answer = result(signed, trust)
    assert answer["verdict"] == "invalid"
    assert "https://evil.example/context.jsonld is not one of the bundled" in answer["reason"]


# --- the OB3 corpus (1EdTech's validator's samples) ------------------------------------------


def sample(shared, name: str) -> dict:
    return json.loads((shared / f"{OB3}{name}.json").read_text())


def listing(tmp_path, method: str, issuer: str | None = None, key=None) -> TrustList:
    """A trust list whose operator states that `method` (a 1EdTech `https://...#z6Mk...` id,
    whose fragment is the multikey it names) is a key of its controller, or of `issuer`; with
    `key`, a different key listed under the same id."""
    public = key.public_key() if key is not None else None
    entry = as_jwk(public).as_dict() if public else multikey(method.rsplit("#", 1)[-1]).as_dict()
    owner = issuer or method.split("#", 1)[0]
    return trust_list(tmp_path / "listing", {"k.json": {**entry, "kid": method, "issuer": owner}})


def tamper_subject(document: dict) -> dict:
    """One character of a value in credentialSubject changed."""
    changed = copy.deepcopy(document)
    achievement = changed["credentialSubject"]["achievement"]
    achievement["name"] = achievement["name"][:-1] + chr(ord(achievement["name"][-1]) ^ 1)
    return changed


def test_the_did_key_sample_verifies_when_the_trust_list_binds_its_key_to_its_issuer(
    tmp_path, shared
):
    document = sample(shared, "simple-did-key-method")
    did = document["proof"][0]["verificationMethod"]
    assert result(document, trust_list(tmp_path / "none", {}))["verdict"] == "unknown_issuer"
    # Listed as a did:key, the key stands for that DID, not for the credential's urn:uuid issuer.
    answer = result(document, trust_list(tmp_path / "did", {"k.did.json": {"id": did}}))
    assert answer["verdict"] == "invalid"
    issuer = document["issuer"]["id"]
    assert answer["reason"] == (
        f"the key stands for {did} in the trust list, the credential names {issuer}"
    )
    # The operator states that this did:key is the issuer's key.
    trust = _did_key_for(tmp_path, did, document["issuer"]["id"])
    answer = result(document, trust)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == "urn:uuid:6f2e33e5-7a29-4155-840a-59483ba10164"
    assert [item["check"] for item in answer["checks"]] == [
        "proof", "key", "signature", "purpose", "proof dates", "issuer", "validity"
    ]  # fmt: skip
    assert result(tamper_subject(document), trust)["verdict"] == "invalid"
    # Another key bound to that issuer: the proof's key is none of the issuer's, a forgery.
    other = _did_key_for(tmp_path / "o", did_key(ed25519_key()), document["issuer"]["id"])
    forged = result(document, other)
    assert forged["verdict"] == "invalid" and "is none of its keys" in forged["reason"]


@pytest.mark.parametrize(
    "name", ["simple", "simple-did-web-method", "simple-multiple-proofs", "complete"]
)
def test_the_https_method_samples(tmp_path, shared, name):
    document = sample(shared, name)
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    method = proofs[-1]["verificationMethod"]
    answer = result(document, trust_list(tmp_path / "none", {}))
    assert answer["verdict"] == "unknown_issuer"
    assert answer["reason"].startswith(
        f"no key of the trust list is the verification method {method}"
    )

    trust = listing(tmp_path, method)
    answer = result(document, trust)
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == document["issuer"]["id"]
    assert result(tamper_subject(document), trust)["verdict"] == "invalid"
    wrong = result(document, listing(tmp_path / "w", method, key=ed25519_key()))
    assert wrong["verdict"] == "invalid"
    assert "signature does not match the trusted key(s)" in wrong["reason"]
    assert result(document, trust, on=dt.date(2009, 12, 31))["verdict"] == "invalid"


def test_a_proof_set_names_the_proof_it_does_not_check(tmp_path, shared):
    document = sample(shared, "simple-multiple-proofs")
    answer = result(document, listing(tmp_path, document["proof"][1]["verificationMethod"]))
    assert answer["verdict"] == "verified"
    assert answer["checks"][0] == {
        "check": "proof 1",
        "result": "not_checked",
        "detail": "the proof 1 is not an eddsa-rdfc-2022 or ecdsa-rdfc-2019 DataIntegrityProof "
        "(type SomeProofType): not checked by this version",
    }


def test_the_corpus_samples_that_fail(tmp_path, shared):
    value = sample(shared, "simple-err-proof-value")
    answer = result(value, listing(tmp_path / "v", value["proof"][0]["verificationMethod"]))
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith("the proof's signature does not match")

    expired = sample(shared, "simple-err-expired")
    answer = result(expired, listing(tmp_path / "e", expired["proof"][0]["verificationMethod"]))
    assert (answer["verdict"], answer["reason"]) == (
        "invalid",
        f"expired on 2010-01-01 (validUntil), verified on {ON}",
    )
    undefined = sample(shared, "simple-err-credential-subject-type")
    method = undefined["proof"]["verificationMethod"]
    answer = result(undefined, listing(tmp_path / "u", method))
    assert answer["verdict"] == "invalid"
    assert "(data loss): achievement" in answer["reason"]


@pytest.mark.parametrize(
    "name, suite",
    [
        ("simple_v1", "type Ed25519Signature2020"),
        ("simple-eddsa-2022", "DataIntegrityProof, cryptosuite eddsa-2022"),
        ("sd_derivedcredential", "DataIntegrityProof, cryptosuite ecdsa-sd-2023"),
    ],
)
def test_suites_not_checked_are_unsigned_and_named(tmp_path, shared, name, suite):
    answer = result(sample(shared, name), trust_list(tmp_path, {}))
    assert answer["verdict"] == "unsigned"
    assert answer["reason"] == f"a proof of a suite this version does not check ({suite})"
    assert answer["checks"][0]["result"] == "not_checked"
