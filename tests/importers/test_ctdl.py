"""The CTDL mapping on its own (no database): pathways to Transfer Value Profiles and back.

The pathway is test data in the shape `registry.catalogue.pathways.services.present` gives: an
online MicroMasters-style programme's five courses, any three of them, counting for 30 ECTS
toward an MSc in Logistics at an Irish university.
"""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from importers import ctdl, ctdl_export
from importers.runner import FileError, Rejected

SCHEMA = Path("formats/credential-engine-ctdl/json-schemas/transfer_value_profile.json")
ISSUER = {"id": 34, "name": "Online Supply Chain Academy", "country": "US"}
OWNER = {"id": 12, "name": "University of Limerick", "country": "IE"}
INSTITUTIONS = {
    12: {**OWNER, "identifiers": [("ror", "00a0n9e72"), ("domain", "ul.ie")]},
    34: {**ISSUER, "identifiers": [("domain", "scm-academy.example.org")]},
}


def course(number: int, code: str, title: str) -> dict:
    return {
        "kind": "course",
        "id": number,
        "code": code,
        "title": title,
        "institution": ISSUER,
        "level": None,
        "credits": "6",
        "credit_system": "ECTS",
    }


PATHWAY = {
    "id": 1,
    "rule_id": "UL-SCM-2026",
    "institution": OWNER,
    "title": "MicroMasters in Supply Chain Management toward the MSc in Logistics",
    "description": "Agreed by the Kemmy Business School in 2026.",
    "programme": {
        "id": 40,
        "code": "MSC-LOG",
        "title": "MSc in Logistics and Supply Chain Management",
        "level": "IE-NFQ:9",
        "credits": "90",
        "credit_system": "ECTS",
        "qualification_type": "master",
    },
    "credentials": [
        course(7, "SC0x", "Supply Chain Analytics"),
        course(8, "SC1x", "Supply Chain Fundamentals"),
        course(9, "SC2x", "Supply Chain Design"),
        course(10, "SC3x", "Supply Chain Dynamics"),
        course(11, "SC4x", "Supply Chain Technology and Systems"),
    ],
    "choose": 3,
    "credits": "30",
    "credit_system": "ECTS",
    "conditions": {
        "min_grade": "70",
        "min_grade_scale": "US-PCT",
        "supervision": "supervised_identity_verified",
        "quality_assured": True,
        "max_age_months": 60,
        "max_total_credits": "30.0",
    },
    "valid_from": "2026-09-01",
    "valid_to": "2029-09-01",
    "status": "approved",
    "decided_by": "UL admissions",
    "reason": "Approved by the academic council.",
    "source": "https://www.ul.ie/pathways/micromasters-scm",
    "created_at": "2026-05-01T10:00:00+00:00",
    "updated_at": "2026-05-01T10:00:00+00:00",
}


def exported(*pathways):
    # Through JSON text, decimals kept exact, as a file would be read.
    text = json.dumps(ctdl_export.to_graph(list(pathways or [PATHWAY]), INSTITUTIONS))
    return json.loads(text, parse_float=Decimal)


def only_draft(document) -> ctdl.Draft:
    [(position, draft)] = ctdl.read_profiles(document)
    assert not isinstance(draft, Rejected), draft
    return draft


def profile_schema(shared) -> dict:
    """The shared TVP schema, its references to definitions it lacks (ceterms:ownedBy, the
    target* properties it declares outside `definitions`) left unconstrained."""
    schema = json.loads((shared / SCHEMA).read_text())
    definitions = schema["definitions"]
    properties = definitions["ceterms:TransferValueProfile"]["properties"]
    for name, rule in properties.items():
        reference = rule.get("$ref")
        if reference and reference.removeprefix("#/definitions/") not in definitions:
            properties[name] = {}
    definitions["ceterms:creditValue"] = {}  # its schema:QuantitativeValue is not there either
    return schema


def test_export_is_a_profile_the_shared_schema_accepts(shared):
    jsonschema = pytest.importorskip("jsonschema")
    document = exported()
    profile = document["@graph"][0]
    jsonschema.validate(profile, profile_schema(shared))
    assert profile["@type"] == "ceterms:TransferValueProfile"
    assert ctdl.CTID.match(profile["ceterms:ctid"])
    assert document["@context"] == [ctdl.CONTEXT, {"registry": ctdl.NAMESPACE}]
    assert profile["ceterms:transferValue"][0]["schema:value"] == 30
    assert profile["ceterms:endDate"] == "2029-08-31"  # the last day; valid_to is exclusive
    assert profile["ceterms:lifeCycleStatusType"]["ceterms:targetNode"] == "lifeCycle:Active"
    # The conditions CTDL has no term for, in words for a CTDL reader.
    words = profile["ceterms:description"]["und"]
    assert words.startswith("Agreed by the Kemmy Business School in 2026. Conditions: Any 3")
    assert "at least 70 on the US-PCT grading scale" in words
    assert "identity verified" in profile["ceterms:assessmentMethodDescription"]["en"]
    assert profile["registry:maxTotalCredits"] == 30 and profile["registry:choose"] == 3


def test_export_describes_every_node_it_refers_to():
    document = exported()
    ids = {node["@id"] for node in document["@graph"]}
    profile = document["@graph"][0]
    referred = profile["ceterms:transferValueFrom"] + profile["ceterms:transferValueFor"]
    assert set(referred) <= ids
    by_id = {node["@id"]: node for node in document["@graph"]}
    programme = by_id[profile["ceterms:transferValueFor"][0]]
    assert (programme["@type"], programme["ceterms:codedNotation"]) == (
        "ceterms:MasterDegree",
        "MSC-LOG",
    )
    owner = by_id[profile["ceterms:ownedBy"][0]]
    assert owner["ceterms:identifier"][0]["ceterms:identifierValueCode"] == "00a0n9e72"
    assert owner["ceterms:subjectWebpage"] == "https://ul.ie"


def test_round_trip_reads_back_the_pathway():
    draft = only_draft(exported())
    assert draft.rule_id == "UL-SCM-2026"
    values = draft.values
    assert values["title"] == PATHWAY["title"]
    assert values["description"] == PATHWAY["description"]
    assert (values["choose"], values["credits"], values["credit_system"]) == (3, "30", "ECTS")
    assert (values["min_grade"], values["min_grade_scale"]) == ("70", "US-PCT")
    assert values["supervision"] == "supervised_identity_verified"
    assert values["quality_assured"] is True and values["max_age_months"] == 60
    assert Decimal(values["max_total_credits"]) == Decimal("30.0")
    assert (values["valid_from"], values["valid_to"]) == (dt.date(2026, 9, 1), dt.date(2029, 9, 1))
    assert (values["status"], values["reason"]) == ("approved", PATHWAY["reason"])
    assert values["source"] == PATHWAY["source"]
    assert [c.code for c in draft.credentials] == ["SC0x", "SC1x", "SC2x", "SC3x", "SC4x"]
    assert {c.kind for c in draft.credentials} == {"course"}
    assert draft.credentials[0].issuer.domain == "https://scm-academy.example.org"
    assert (draft.programme.kind, draft.programme.code) == ("qualification", "MSC-LOG")
    assert draft.owner.identifiers == (("ror", "00a0n9e72"),)


def test_round_trip_without_description_or_conditions():
    bare = {
        **PATHWAY,
        "description": None,
        "choose": None,
        "conditions": dict.fromkeys(PATHWAY["conditions"]) | {"quality_assured": False},
        "source": "Senate minutes 2026/14",
        "status": "proposed",
        "reason": None,
        "valid_to": None,
    }
    document = exported(bare)
    profile = document["@graph"][0]
    assert "subjectWebpage" not in json.dumps(profile)
    assert profile["registry:source"] == "Senate minutes 2026/14"
    values = only_draft(document).values
    assert values["description"] is None and values["choose"] is None
    assert (values["source"], values["status"], values["valid_to"]) == (
        bare["source"],
        "proposed",
        None,
    )


def test_a_profile_id_ctid_is_kept_and_others_are_stable():
    assert ctdl_export.profile_ctid(12, "UL-SCM-2026") == ctdl_export.profile_ctid(
        12, "UL-SCM-2026"
    )
    assert ctdl_export.profile_ctid(12, "UL-SCM-2026") != ctdl_export.profile_ctid(
        13, "UL-SCM-2026"
    )
    ctid = "ce-0b4a4c1e-6c53-4d59-9c65-4a6a3c1b2e11"
    assert ctdl_export.profile_ctid(12, ctid) == ctid


# A profile as the Credential Registry publishes one: the graph holds the profile and the blank
# nodes it refers to; no registry terms. (Test data in the shape of the shared schema.)
FOREIGN = {
    "@context": ctdl.CONTEXT,
    "@graph": [
        {
            "@id": "https://credentialengineregistry.org/resources/ce-6e2a1f4e-1d2b-4c8a-9f3e-2b7d5c9a8e10",
            "@type": "ceterms:TransferValueProfile",
            "ceterms:ctid": "ce-6e2a1f4e-1d2b-4c8a-9f3e-2b7d5c9a8e10",
            "ceterms:name": {"en-US": "Supply chain certificate toward the MBA"},
            "ceterms:description": {"en-US": "Three semester hours\nof elective credit."},
            "ceterms:assessmentMethodDescription": {"en-US": "Proctored final examination."},
            "ceterms:learningMethodDescription": {"en-US": "Online, self-paced."},
            "ceterms:ownedBy": ["_:owner"],
            "ceterms:startDate": "2025-01-01",
            "ceterms:lifeCycleStatusType": {
                "@type": "ceterms:CredentialAlignmentObject",
                "ceterms:framework": ctdl.LIFE_CYCLE_SCHEME,
                "ceterms:targetNode": "lifeCycle:Active",
            },
            "ceterms:transferValue": [
                {
                    "@type": "ceterms:ValueProfile",
                    "schema:value": 3,
                    "ceterms:creditUnitType": [
                        {
                            "@type": "ceterms:CredentialAlignmentObject",
                            "ceterms:framework": ctdl.CREDIT_UNIT_SCHEME,
                            "ceterms:targetNode": "creditUnit:SemesterHour",
                        }
                    ],
                }
            ],
            "ceterms:transferValueFrom": ["_:cert"],
            "ceterms:transferValueFor": ["_:mba"],
        },
        {
            "@id": "_:cert",
            "@type": "ceterms:Certificate",
            "ceterms:name": {"en-US": "Supply Chain Management Certificate"},
            "ceterms:ownedBy": ["_:issuer"],
        },
        {
            "@id": "_:mba",
            "@type": "ceterms:MasterDegree",
            "ceterms:name": {"en-US": "Master of Business Administration"},
            "ceterms:codedNotation": "MBA",
        },
        {
            "@id": "_:owner",
            "@type": "ceterms:CredentialOrganization",
            "ceterms:name": {"en-US": "Example State University"},
            "ceterms:subjectWebpage": "https://www.state-university.example.edu/",
        },
        {
            "@id": "_:issuer",
            "@type": "ceterms:CredentialOrganization",
            "ceterms:name": {"en-US": "Example Community College"},
            "ceterms:identifier": [
                {
                    "@type": "ceterms:IdentifierValue",
                    "ceterms:identifierTypeName": {"en-US": "ROR"},
                    "ceterms:identifierValueCode": "https://ror.org/05x2bcf33",
                }
            ],
        },
    ],
}


def test_a_profile_published_elsewhere_is_read_by_its_ctdl_terms():
    draft = only_draft(FOREIGN)
    assert draft.rule_id == draft.ctid == "ce-6e2a1f4e-1d2b-4c8a-9f3e-2b7d5c9a8e10"
    values = draft.values
    assert (values["credits"], values["credit_system"], values["status"]) == (
        "3",
        "US-SEM",
        "approved",
    )
    # Its words are not the registry's own: they stay, for evaluators to read.
    assert values["description"] == (
        "Three semester hours of elective credit. Assessment: Proctored final examination."
        " Learning: Online, self-paced."
    )
    assert values["supervision"] is None and values["quality_assured"] is False
    [credential] = draft.credentials
    assert (credential.kind, credential.code, credential.name) == (
        "qualification",
        None,
        "Supply Chain Management Certificate",
    )
    assert credential.issuer.identifiers == (("ror", "https://ror.org/05x2bcf33"),)
    assert draft.owner.domain == "https://www.state-university.example.edu/"


def test_a_single_profile_and_a_list_are_read_too():
    profile = dict(FOREIGN["@graph"][0], **{"@context": ctdl.CONTEXT})
    [(position, draft)] = ctdl.read_profiles(profile)
    # Alone, its blank nodes are described nowhere: named, not guessed.
    assert position.startswith("profile ce-6e2a1f4e")
    assert isinstance(draft, Rejected) and "_:mba is not described in the file" in draft.reason
    [(position, draft)] = ctdl.read_profiles(FOREIGN["@graph"])
    assert position.startswith("[0] ") and isinstance(draft, ctdl.Draft)


def broken(**changes):
    profile = {**FOREIGN["@graph"][0], **changes}
    profile = {key: value for key, value in profile.items() if value is not None}
    [(_, draft)] = ctdl.read_profiles({"@graph": [profile, *FOREIGN["@graph"][1:]]})
    assert isinstance(draft, Rejected)
    return draft.reason


def test_what_a_pathway_cannot_be_is_rejected_with_the_reason():
    assert "states no ceterms:name" in broken(**{"ceterms:name": None})
    assert "states 0 transfer values" in broken(**{"ceterms:transferValue": None})
    assert "names no credit system" in broken(
        **{"ceterms:transferValue": [{"@type": "ceterms:ValueProfile", "schema:value": 3}]}
    )
    assert "a range or a percentage" in broken(
        **{"ceterms:transferValue": [{"schema:minValue": 3, "schema:maxValue": 6}]}
    )
    assert "counts toward 2 resources" in broken(
        **{"ceterms:transferValueFor": ["_:mba", "_:cert"]}
    )
    assert "names nothing that earns" in broken(**{"ceterms:transferValueFrom": None})
    assert "not a date" in broken(**{"ceterms:startDate": "next spring"})
    assert "none of LifeCycleStatus" in broken(
        **{"ceterms:lifeCycleStatusType": "lifeCycle:Archived"}
    )
    assert "_:elsewhere is not described in the file" in broken(
        **{"ceterms:transferValueFrom": ["_:cert", "_:elsewhere"]}
    )
    assert "transferValueFor _:owner is a ceterms:CredentialOrganization" in broken(
        **{"ceterms:transferValueFor": ["_:owner"]}
    )


def test_a_bare_registry_reference_is_kept_by_its_ctid():
    uri = "https://credentialengineregistry.org/resources/ce-1f0e8b7a-3c1d-4e2f-8a9b-0c1d2e3f4a5b"
    draft = only_draft(
        {
            "@graph": [
                {**FOREIGN["@graph"][0], "ceterms:transferValueFrom": [uri]},
                *FOREIGN["@graph"][1:],
            ]
        }
    )
    assert draft.credentials[0].ctid == "ce-1f0e8b7a-3c1d-4e2f-8a9b-0c1d2e3f4a5b"
    assert draft.credentials[0].kind is None


def test_registry_terms_are_read_by_the_prefix_the_document_declares():
    document = exported()
    profile = document["@graph"][0]
    renamed = {key.replace("registry:", "ul:"): value for key, value in profile.items()}
    document = {
        "@context": [ctdl.CONTEXT, {"ul": ctdl.NAMESPACE}],
        "@graph": [renamed, *document["@graph"][1:]],
    }
    assert only_draft(document).values["choose"] == 3
    # Undeclared, the prefix names some other vocabulary: its terms are not the registry's.
    document["@context"] = ctdl.CONTEXT
    assert only_draft(document).values["choose"] is None


def test_a_document_without_profiles_is_refused():
    with pytest.raises(FileError, match="holds no ceterms:TransferValueProfile"):
        ctdl.read_profiles({"@graph": [FOREIGN["@graph"][1]]})
    with pytest.raises(FileError, match="not a CTDL JSON-LD document"):
        ctdl.read_profiles("a string")


def test_the_shared_registry_examples_hold_no_profile(shared):
    examples = shared / "formats/credential-engine-ctdl/examples"
    for path in sorted(examples.glob("*.json")):
        with pytest.raises(FileError, match="holds no ceterms:TransferValueProfile"):
            ctdl.read_profiles(json.loads(path.read_text()))
