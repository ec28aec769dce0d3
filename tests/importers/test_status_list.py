"""Bitstring Status List: revocation and suspension read from a status list credential at hand
(the trust list's status/ directory, or given), the list itself verified."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json

import pytest

from importers.verification.data_integrity import sign
from importers.verification.services import verify
from importers.verification.trust import TrustList, as_jwk
from registry.core.errors import InvalidData
from tests.importers.signing import ed25519_key, p256_key, sign_jwt
from tests.importers.test_data_integrity import listing

ON = dt.date(2026, 6, 1)
CREATED = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
ISSUER = "https://university.example/issuers/7"
METHOD = f"{ISSUER}#key-1"
LIST_URL = "https://university.example/status/1"
OB3 = "corpus/ob3/digital-credentials-public-validator__inspector-vc_src_test_resources_ob30_"


def encoded(revoked: set[int], size: int = 131_072) -> str:
    """The spec's encoding, written here: bit i is the (i % 8)-th bit from the left of byte
    i // 8; GZIP; base64url without padding; multibase prefix `u`."""
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).rstrip(b"=").decode()


def status_list(revoked: set[int], purpose: str = "revocation", **extra) -> dict:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-05-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{LIST_URL}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encoded(revoked),
        },
    }
    document.update(extra)
    return document


def entry(index: int, purpose: str = "revocation", kind: str = "BitstringStatusListEntry") -> dict:
    return {
        "id": f"{LIST_URL}#{index}",
        "type": kind,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": LIST_URL,
    }


def credential(status) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:0c7e4d0a-9a55-4d1e-8d3b-2f7e0e4f1a01",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
        "credentialStatus": status,
    }


@pytest.fixture
def key():
    return ed25519_key()


@pytest.fixture
def trust_dir(tmp_path, key):
    folder = tmp_path / "trust"
    (folder / "status").mkdir(parents=True)
    jwk = {**as_jwk(key.public_key()).as_dict(), "kid": METHOD, "issuer": ISSUER}
    (folder / "issuer.json").write_text(json.dumps(jwk))
    return folder


def signed(document: dict, key) -> bytes:
    return json.dumps(sign(document, key, METHOD, created=CREATED)).encode()


def result(data: bytes, folder, status=()) -> dict:
    return verify(data, trust=TrustList.load(folder), on=ON, status=status).as_dict()


def status_check(answer: dict) -> dict:
    return next(item for item in answer["checks"] if item["check"] == "status")


def test_a_revoked_index_is_invalid_and_another_index_verified(trust_dir, key):
    (trust_dir / "status" / "list.json").write_bytes(signed(status_list({0, 5, 131_071}), key))
    answer = result(signed(credential(entry(5)), key), trust_dir)
    assert (answer["verdict"], answer["reason"]) == (
        "invalid",
        f"revoked by its issuer's status list {LIST_URL} (index 5)",
    )
    assert status_check(answer)["result"] == "failed"
    for index in (0, 131_071):
        assert result(signed(credential(entry(index)), key), trust_dir)["verdict"] == "invalid"
    for index in (1, 4, 6, 8, 131_070):
        answer = result(signed(credential(entry(index)), key), trust_dir)
        assert answer["verdict"] == "verified", (index, answer)
        assert status_check(answer) == {
            "check": "status",
            "result": "passed",
            "detail": f"not revoked: {LIST_URL} index {index} (list of 2026-05-01T00:00:00Z, "
            "status/list.json)",
        }


def test_a_suspended_credential_is_invalid(trust_dir, key):
    (trust_dir / "status" / "s.json").write_bytes(signed(status_list({3}, "suspension"), key))
    answer = result(signed(credential(entry(3, "suspension")), key), trust_dir)
    assert answer["verdict"] == "invalid"
    assert answer["reason"] == f"suspended by its issuer's status list {LIST_URL} (index 3)"


def test_a_list_given_with_the_verification_counts_as_one_at_hand(trust_dir, key):
    data = signed(credential(entry(5)), key)
    listed = [("given.json", signed(status_list({5}), key))]
    assert result(data, trust_dir, listed)["verdict"] == "invalid"
    with pytest.raises(InvalidData, match="not a credential"):
        result(data, trust_dir, [("x.txt", b"not a list")])


def test_a_list_not_at_hand_leaves_the_status_not_checked(trust_dir, key):
    answer = result(signed(credential(entry(5)), key), trust_dir)
    assert answer["verdict"] == "verified"
    assert status_check(answer) == {
        "check": "status",
        "result": "not_checked",
        "detail": f"no revocation status list credential with the id {LIST_URL} is at hand (in "
        "the trust list's status/ directory or given): the status is not checked",
    }


def test_a_list_in_the_issuer_s_name_signed_by_a_stranger_is_a_forgery(trust_dir, key):
    """A list naming the issuer but signed by a key that is none of the issuer's listed keys:
    the issuer's list at hand is forged, so the status cannot be established from it."""
    forged = sign(status_list({5}), ed25519_key(), "https://stranger.example/k#1", created=CREATED)
    (trust_dir / "status" / "l.json").write_text(json.dumps(forged))
    answer = result(signed(credential(entry(6)), key), trust_dir)
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith(
        f"the status list {LIST_URL} at hand (status/l.json) is invalid: the proof's signature "
        "does not match the trusted key(s) of issuer"
    )
    assert status_check(answer)["result"] == "failed"


def test_a_list_of_another_trusted_issuer_is_no_evidence(trust_dir, key):
    other = p256_key()
    jwk = {**as_jwk(other.public_key()).as_dict(), "kid": "https://other.example/k"}
    (trust_dir / "other.json").write_text(json.dumps({**jwk, "issuer": "https://other.example"}))
    document = sign(
        status_list({5}, issuer="https://other.example"),
        other,
        "https://other.example/k",
        cryptosuite="ecdsa-rdfc-2019",
        created=CREATED,
    )
    (trust_dir / "status" / "o.json").write_text(json.dumps(document))
    answer = result(signed(credential(entry(5)), key), trust_dir)
    assert answer["verdict"] == "verified"
    assert "status/o.json (https://other.example)" in status_check(answer)["detail"]


def test_a_tampered_or_broken_list_makes_the_credential_invalid(trust_dir, key):
    document = json.loads(signed(status_list(set()), key))
    document["credentialSubject"]["encodedList"] = encoded({5})
    (trust_dir / "status" / "l.json").write_text(json.dumps(document))
    answer = result(signed(credential(entry(6)), key), trust_dir)
    assert answer["verdict"] == "invalid"
    assert answer["reason"].startswith(
        f"the status list {LIST_URL} at hand (status/l.json) is invalid: the proof's signature"
    )

    short = status_list({5})
    short["credentialSubject"]["encodedList"] = encoded({5}, size=1024)
    (trust_dir / "status" / "l.json").write_bytes(signed(short, key))
    answer = result(signed(credential(entry(6)), key), trust_dir)
    assert answer["verdict"] == "invalid"
    assert answer["reason"] == (
        f"the status list {LIST_URL} (status/l.json) cannot be used: it holds 1024 entries, "
        "fewer than the 131072 (16KB) required"
    )

    expired = status_list({5}, validUntil="2026-05-02T00:00:00Z")
    (trust_dir / "status" / "l.json").write_bytes(signed(expired, key))
    answer = result(signed(credential(entry(6)), key), trust_dir)
    assert answer["verdict"] == "invalid"
    assert "expired on 2026-05-02 (validUntil)" in answer["reason"]

    wrong_purpose = status_list({5}, "suspension")
    (trust_dir / "status" / "l.json").write_bytes(signed(wrong_purpose, key))
    answer = result(signed(credential(entry(6)), key), trust_dir)
    assert answer["reason"].endswith(
        "its subject is not a BitstringStatusList of purpose revocation"
    )

    (trust_dir / "status" / "l.json").write_bytes(signed(status_list({5}), key))
    answer = result(signed(credential(entry(131_072)), key), trust_dir)
    assert answer["reason"].endswith("the index 131072 is outside its 131072 entries")


def test_a_vc_jwt_credential_and_a_vc_jwt_list(trust_dir, key):
    claims = {"iss": ISSUER, "vc": credential(entry(5))}
    token = sign_jwt(key, {"alg": "EdDSA", "kid": METHOD}, claims)
    list_token = sign_jwt(key, {"alg": "EdDSA", "kid": METHOD}, {"iss": ISSUER, **status_list({5})})
    (trust_dir / "status" / "l.jwt").write_text(list_token)
    answer = result(token.encode(), trust_dir)
    assert answer["verdict"] == "invalid"
    assert answer["reason"] == f"revoked by its issuer's status list {LIST_URL} (index 5)"


def test_other_status_types_are_not_checked(trust_dir, key):
    status = {"id": "https://university.example/revocations", "type": "1EdTechRevocationList"}
    document = credential(status)
    document["@context"].append("https://www.w3.org/ns/credentials/undefined-terms/v2")
    answer = result(signed(document, key), trust_dir)
    assert answer["verdict"] == "verified"
    assert status_check(answer) == {
        "check": "status",
        "result": "not_checked",
        "detail": "a status of type '1EdTechRevocationList' is not checked",
    }


def test_the_corpus_status_sample_verifies_with_its_status_not_checked(tmp_path, shared):
    """1EdTech's bit-string-list sample, its method listed: its list is not at hand here."""
    path = shared / f"{OB3}bit-string-list_credential-status-revoked.json"
    document = json.loads(path.read_text())
    trust = listing(tmp_path, document["proof"]["verificationMethod"])
    answer = verify(path.read_bytes(), trust=trust, on=ON).as_dict()
    assert answer["verdict"] == "verified"
    check = status_check(answer)
    assert check["result"] == "not_checked"
    assert document["credentialStatus"]["statusListCredential"] in check["detail"]


def test_a_status_list_2021_entry_is_not_checked(trust_dir, key):
    """Its context is not bundled, so only a VC-JWT (no canonicalisation) can carry one."""
    old = {**entry(5), "type": "StatusList2021Entry"}
    token = sign_jwt(key, {"alg": "EdDSA", "kid": METHOD}, {"iss": ISSUER, "vc": credential(old)})
    answer = result(token.encode(), trust_dir)
    assert status_check(answer)["detail"] == "a status of type 'StatusList2021Entry' is not checked"
