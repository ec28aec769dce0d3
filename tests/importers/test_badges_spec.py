"""The Open Badges 3.0 reader against the rules of the standard, one family each, on small
credentials written here: VC 1.1 and VC 2.0 dates, VC-JWT, credits, validity, refusals that say
what a file is, and records rejected only when meaningless. No database."""

import base64
import copy
import datetime as dt
import io
import json

import pytest

from importers.badges import JWT_FORMAT, UNSTATED, badge_records
from importers.runner import FileError, Rejected
from registry.catalogue.transcripts import RecordChecker, TranscriptResultRecordSchema

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
V2 = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "id": "urn:uuid:2f7c0a4e-0000-4000-8000-000000000001",
    "issuer": {"id": "https://issuer.example.org/", "type": ["Profile"], "name": "Example Org"},
    "validFrom": "2025-03-02T09:00:00Z",
    "credentialSubject": {
        "id": "did:example:learner",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://issuer.example.org/achievements/1",
            "type": ["Achievement"],
            "name": "Statistics I",
            "criteria": {"narrative": "Passed the exam."},
        },
    },
}
V1 = {
    **copy.deepcopy(V2),
    "@context": [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "type": ["VerifiableCredential", "AchievementCredential"],
    "issuanceDate": "2024-11-20T12:00:00Z",
}
del V1["validFrom"]


def read(value, **options) -> list:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    options.setdefault("credit_system", None)
    options.setdefault("now", NOW)
    return list(badge_records(io.BytesIO(data), **options))


def one(value, **options) -> dict:
    [(_, record)] = read(value, **options)
    assert not isinstance(record, Rejected), record
    # Every record the reader yields passes the transcript checks as it is.
    assert TranscriptResultRecordSchema().load(record) == RecordChecker().load(record)
    return record


def changed(base: dict, **top) -> dict:
    document = copy.deepcopy(base)
    for name, value in top.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    return document


def refused(value) -> str:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    with pytest.raises(FileError) as error:
        list(badge_records(io.BytesIO(data), credit_system=None, now=NOW))
    assert "\n" not in error.value.reason
    return error.value.reason


def b64(value) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(payload, header=None) -> bytes:
    header = header or {"alg": "RS256", "typ": "JWT"}
    return f"{b64(header)}.{b64(payload)}.c2lnbmF0dXJl".encode()


# --- award dates: VC 1.1 and VC 2.0 -------------------------------------------------------


def test_vc20_validfrom_is_the_issuance_and_the_award_date_without_awarded_date():
    record = one(V2)
    assert record["transcript"]["issued_on"] == "2025-03-02"
    assert record["result"]["ended_on"] == "2025-03-02"
    assert record["result"]["status"] == "passed"


def test_vc11_issuance_date_is_the_issuance_and_the_award_date_without_awarded_date():
    record = one(V1)
    assert (record["transcript"]["issued_on"], record["result"]["ended_on"]) == (
        "2024-11-20",
        "2024-11-20",
    )


def test_awarded_date_is_the_award_date_where_given():
    record = one(changed(V2, awardedDate="2025-01-15T00:00:00+01:00"))
    assert (record["transcript"]["issued_on"], record["result"]["ended_on"]) == (
        "2025-03-02",
        "2025-01-15",
    )


def test_activity_start_date_is_the_start():
    document = copy.deepcopy(V2)
    document["credentialSubject"]["activityStartDate"] = "2024-09-01T00:00:00Z"
    assert one(document)["result"]["started_on"] == "2024-09-01"


# --- VC-JWT ---------------------------------------------------------------------------------


def test_vc11_jwt_decodes_the_vc_claim_and_its_registered_claims():
    vc = changed(V1, id=None, issuanceDate=None)
    vc["issuer"] = {"type": ["Profile"], "name": "Example Org"}
    del vc["credentialSubject"]["id"]
    claims = {
        "vc": vc,
        "jti": "urn:uuid:jwt-1",
        "iss": "https://issuer.example.org/",
        "nbf": 1735732800,  # 2025-01-01T12:00:00Z
        "sub": "did:example:learner",
    }
    [(position, record)] = read(jwt(claims))
    assert position == "credential 1 (VC-JWT, signature not verified)"
    assert record["transcript"]["format"] == JWT_FORMAT
    assert record["transcript"]["document_id"] == "urn:uuid:jwt-1"
    assert record["transcript"]["issuer"] == {
        "name": "Example Org",
        "country": None,
        "identifiers": {"domain": "issuer.example.org"},
    }
    assert record["transcript"]["learner"]["identifiers"] == {"id": "did:example:learner"}
    assert record["result"]["ended_on"] == "2025-01-01"
    assert record["result"]["title"] == "Statistics I"
    assert TranscriptResultRecordSchema().load(record) == RecordChecker().load(record)


def test_vc11_jwt_exp_is_the_expiration():
    [(_, record)] = read(jwt({"vc": V1, "exp": 1767225600}))  # 2026-01-01: before NOW
    assert record["result"]["status"] == "unknown"


def test_vc20_jwt_payload_is_the_credential():
    [(position, record)] = read(jwt(V2, {"alg": "ES256", "typ": "vc+jwt"}) + b"\n")
    assert position.endswith("(VC-JWT, signature not verified)")
    assert record["result"]["title"] == "Statistics I"
    assert record["result"]["ended_on"] == "2025-03-02"


def test_jwts_in_a_json_list_are_decoded_each():
    records = read([jwt(V2).decode(), V1, "eyJhbGciOiJub25lIn0.e30."])
    assert records[0][0] == "credential 1 (VC-JWT, signature not verified)"
    assert records[0][1]["transcript"]["format"] == JWT_FORMAT
    assert records[1][1]["transcript"]["format"] == "open-badges"
    assert records[2] == (
        "credential 3 (VC-JWT, signature not verified)",
        Rejected("a JWT that carries no credential (no vc claim, no credential as its payload)"),
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b64({"alg": "RS256"}).encode(), "not a compact JWS: 1 part(s)"),
        (f"{b64({'alg': 'RS256'})}.{b64(V2)}".encode(), "not a compact JWS: 2 part(s)"),
        (f"{b64({'alg': 'RS256'})}.bm90IGpzb24.c2ln".encode(), "a JWS whose payload is not"),
        (jwt(V2, {"typ": "JWT"}), "a JWS whose header names no algorithm"),
        (jwt(["a", "list"]), "a JWS whose payload is not a JSON object"),
        (jwt({"vp": {"type": "VerifiablePresentation"}}), "a Verifiable Presentation as a JWT"),
    ],
)
def test_broken_jwts_are_refused_with_what_is_wrong(data, reason):
    assert refused(data).startswith(reason)


# --- credits --------------------------------------------------------------------------------


def test_credits_earned_come_before_credits_available():
    document = copy.deepcopy(V2)
    document["credentialSubject"]["creditsEarned"] = 42
    document["credentialSubject"]["achievement"]["creditsAvailable"] = 36
    result = one(document, credit_system="US-SEM")["result"]
    assert (result["credits"], result["credit_system"]) == ("42", "US-SEM")
    del document["credentialSubject"]["creditsEarned"]
    result = one(document, credit_system="US-SEM")["result"]
    assert (result["credits"], result["credit_system"]) == ("36", "US-SEM")


def test_credits_without_a_unit_are_kept_under_unstated():
    document = copy.deepcopy(V2)
    document["credentialSubject"]["creditsEarned"] = 2.5
    result = one(document)["result"]
    assert (result["credits"], result["credit_system"]) == ("2.5", UNSTATED)


# --- validity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dates",
    [
        {"validUntil": "2026-01-01T00:00:00Z"},  # VC 2.0, expired
        {"validFrom": "2027-01-01T00:00:00Z"},  # VC 2.0, not yet valid
    ],
)
def test_vc20_expired_or_not_yet_valid_is_not_stored_as_passed(dates):
    result = one(changed(V2, **dates))["result"]
    assert result["status"] == "unknown"
    assert result["ended_on"]  # the award date is kept


def test_vc11_expiration_date_past_is_not_stored_as_passed():
    assert one(changed(V1, expirationDate="2025-12-31T23:59:59Z"))["result"]["status"] == "unknown"
    assert one(changed(V1, expirationDate="2030-01-01T00:00:00Z"))["result"]["status"] == "passed"


def test_a_stated_failure_stays_failed_when_expired():
    document = changed(V2, validUntil="2026-01-01T00:00:00Z")
    document["credentialSubject"]["result"] = [{"type": ["Result"], "status": "Failed"}]
    assert one(document)["result"]["status"] == "failed"


@pytest.mark.parametrize(
    "status",
    [
        {"id": "https://issuer.example.org/revocations", "type": "1EdTechRevocationList"},
        {
            "id": "https://issuer.example.org/status/3#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://issuer.example.org/status/3",
        },
        {"type": "StatusList2021Entry", "statusPurpose": "suspension"},
    ],
)
def test_a_revocable_credential_the_registry_cannot_check_is_not_stored_as_passed(status):
    record = one(changed(V2, credentialStatus=status))
    assert (record["result"]["status"], record["result"]["ended_on"]) == ("unknown", "2025-03-02")


def test_a_status_entry_for_another_purpose_leaves_the_badge_passed():
    status = {"type": "BitstringStatusListEntry", "statusPurpose": "message"}
    assert one(changed(V2, credentialStatus=status))["result"]["status"] == "passed"


# --- refusals that say what the file is ---------------------------------------------------

SUPPORTED = "the registry reads Open Badges 3.0 credentials"


@pytest.mark.parametrize(
    ("document", "found"),
    [
        (
            {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion", "id": "x"},
            "an Open Badges 2.0 Assertion (context https://w3id.org/openbadges/v2)",
        ),
        (
            {"@context": {"obi": "https://w3id.org/openbadges#"}, "type": "BadgeClass"},
            "an Open Badges 2.0 BadgeClass (context https://w3id.org/openbadges#)",
        ),
        (
            {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "name": "X"},
            "an Open Badges 2.0 Issuer",
        ),
        (changed(V2, type=["VerifiableCredential", "ClrCredential"]), "a CLR 2.0 ClrCredential"),
        (
            changed(V2, type=["VerifiableCredential", "EndorsementCredential"]),
            "an Open Badges 3.0 EndorsementCredential",
        ),
        (
            changed(V2, type=["VerifiableCredential", "OtherCredential"]),
            "a Verifiable Credential of type OtherCredential",
        ),
        (
            changed(
                V2,
                type=["VerifiableCredential", "OpenBadge"],
                **{
                    "@context": [
                        "https://www.w3.org/2018/credentials/v1",
                        {"@vocab": "https://w3id.org/openbadges#"},
                    ]
                },
            ),
            "a pre-release Open Badges 3.0 draft (type VerifiableCredential/OpenBadge",
        ),
        (
            {**V2["credentialSubject"]["achievement"], "@context": V2["@context"]},
            "an Open Badges 3.0 Achievement on its own",
        ),
        ({"type": "VerifiablePresentation"}, "a Verifiable Presentation"),
        ({"hello": "world"}, "not an Open Badges credential (type none, @context none)"),
    ],
)
def test_files_of_other_kinds_are_refused_naming_what_they_are(document, found):
    reason = refused(document)
    assert reason.startswith(found)
    assert SUPPORTED in reason


def test_a_json_number_is_refused():
    assert refused(b"42").startswith("not an Open Badges credential: the JSON is a int")


# --- lenient on identifiers, strict on meaning -----------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["credentialSubject"].pop("achievement"), "states no achievement"),
        (lambda d: d["credentialSubject"]["achievement"].pop("name"), "achievement has no name"),
        (lambda d: d["credentialSubject"]["achievement"].update(name="  "), "has no name"),
        (lambda d: d.pop("issuer"), "the credential names no issuer"),
        (lambda d: d.update(issuer={"type": ["Profile"]}), "the credential names no issuer"),
    ],
)
def test_meaningless_records_are_rejected_with_the_reason(change, reason):
    document = copy.deepcopy(V2)
    change(document)
    [(position, record)] = read(document)
    assert position == "credential 1"
    assert isinstance(record, Rejected)
    assert reason in record.reason


def test_an_issuer_known_only_by_its_id_keeps_the_badge():
    record = one(changed(V2, issuer={"id": "did:web:issuer.example.org", "type": ["Profile"]}))
    assert record["transcript"]["issuer"]["name"] == "did:web:issuer.example.org"
    record = one(changed(V2, issuer="https://issuer.example.org/profile"))
    assert record["transcript"]["issuer"] == {
        "name": "https://issuer.example.org/profile",
        "country": None,
        "identifiers": {"domain": "issuer.example.org"},
    }


def test_language_tagged_names_are_read():
    document = copy.deepcopy(V2)
    document["credentialSubject"]["achievement"]["name"] = [
        {"@value": "Statistiek I", "@language": "nl"},
        {"@value": "Statistics I", "@language": "en"},
    ]
    assert one(document)["result"]["title"] == "Statistics I"


def test_each_subject_of_a_credential_is_its_own_record():
    document = copy.deepcopy(V2)
    other = copy.deepcopy(document["credentialSubject"])
    other["id"] = "did:example:other"
    document["credentialSubject"] = [document["credentialSubject"], other]
    records = read(document)
    assert [position for position, _ in records] == [
        "credential 1 subject 1",
        "credential 1 subject 2",
    ]
    assert records[1][1]["transcript"]["learner"]["identifiers"] == {"id": "did:example:other"}
