"""The forms Europass credentials come in from other tools, each on a small file the test writes:
ELM v3 JSON-LD whatever its @context spelling, the upload, JAdES and presentation wrappers,
language maps in every JSON-LD shape; ELM v2 XML in a presentation and in the older 0.10.0
layout; and what must be refused or rejected, with the line that says why. No corpus file is
read here."""

import base64
import io
import json

import pytest

from importers import elm
from importers.elm import elm_records
from importers.runner import FileError, Rejected
from importers.transcripts import import_transcripts
from registry.catalogue.transcripts import RecordChecker, TranscriptResultRecordSchema
from registry.core.permissions import OPERATOR

VC = "https://www.w3.org/2018/credentials/v1"
EDC = "http://data.europa.eu/snb/model/context/edc-ap"
DEV = "http://dev.everisdx.io/datamodel/edc-ap-context.jsonld"


def records(data: bytes | dict) -> list:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    found = list(elm_records(io.BytesIO(data)))
    for _, record in found:
        if not isinstance(record, Rejected):
            assert TranscriptResultRecordSchema().load(record) == RecordChecker().load(record)
    return found


def titles(data: bytes | dict) -> list:
    return [record["result"]["title"] for _, record in records(data)]


def refused(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data).encode()
    with pytest.raises(FileError) as error:
        list(elm_records(io.BytesIO(data)))
    return error.value.reason


def credential(context=(VC, EDC), claims=None, **extra) -> dict:
    document = {
        "id": "urn:credential:1",
        "type": ["VerifiableCredential", "EuropeanDigitalCredential"],
        "issuer": {"id": "urn:org:1", "type": "Organisation", "legalName": {"en": "Issuer"}},
        "issuanceDate": "2023-01-02T00:00:00Z",
        "credentialSubject": {
            "id": "urn:person:1",
            "type": "Person",
            "hasClaim": [{"id": "urn:a:1", "type": "LearningAchievement", "title": {"en": "Maths"}}]
            if claims is None
            else claims,
        },
        **extra,
    }
    if context is not None:
        document["@context"] = list(context) if isinstance(context, tuple) else context
    return document


# --- ELM v3: recognised by what it states, not by one @context URL ------------------------------


@pytest.mark.parametrize(
    "context",
    [
        (VC, EDC),
        (VC, DEV),  # an EDC developer copy of the context
        (VC, "http://dev.everisdx.io/datamodel/test/edc-ap-context.jsonld"),
        (VC, {"elm": "http://data.europa.eu/snb/model/", "title": "elm:title"}),  # inline
        ("https://www.w3.org/ns/credentials/v2", "https://api-pilot.ebsi.eu/trusted-schemas/edc"),
        None,  # the EDC issuer's upload form carries none
    ],
)
def test_v3_credential_is_read_whatever_its_context_spelling(context):
    assert titles(credential(context)) == ["Maths"]


def test_v3_credential_named_by_prefixed_or_full_type_iris():
    document = credential(
        type=["VerifiableCredential", "elm:EuropeanDigitalCredential"],
        credentialSubject={
            "id": "urn:person:1",
            "hasClaim": {
                "id": "urn:a:1",
                "@type": "http://data.europa.eu/snb/model/elm/LearningAchievement",
                "title": {"en": "Maths"},
            },
        },
    )
    assert titles(document) == ["Maths"]


def test_a_verifiable_credential_stating_elm_claims_is_read_without_the_edc_type():
    # EBSI/DC4EU profiles type the credential VerifiableAttestation; the claims make it ELM.
    document = credential(("https://www.w3.org/ns/credentials/v2",), type=["VerifiableAttestation"])
    assert titles(document) == ["Maths"]


def test_upload_form_without_context_is_read():
    document = {"credential": credential(None), "deliveryDetails": {"deliveryAddresses": []}}
    [(position, record)] = records(document)
    assert position == "achievement urn:a:1"
    assert record["transcript"]["issuer"]["name"] == "Issuer"


@pytest.mark.parametrize("encode", [lambda text: text, lambda text: _b64(text)])
def test_jades_form_reads_its_payload_unverified(encode):
    # JWS JSON serialisation: the payload as JSON text (unencoded, RFC 7797) or base64url.
    payload = json.dumps(credential((VC, DEV)))
    signed = {"payload": encode(payload), "signatures": [{"protected": "e30", "signature": "AA"}]}
    assert titles(signed) == ["Maths"]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_signed_payload_that_is_not_json_is_refused():
    reason = refused({"payload": "%%%not-base64%%%", "signatures": []})
    assert reason.startswith("the signed payload is")


# --- language maps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Maths", ("Maths", None)),  # a plain string
        ({"de": "Mathematik", "en": "Maths"}, ("Maths", "en")),  # a language map
        ({"en": ["Maths", "Mathematics"]}, ("Maths", "en")),  # a map with an array of strings
        ([{"@value": "Mathematik", "@language": "de"}], ("Mathematik", "de")),  # value objects
        (["Maths", {"fr": "Mathématiques"}], ("Mathématiques", "fr")),  # an array of forms
    ],
)
def test_language_maps_as_string_object_or_array(title, expected):
    document = credential(
        claims=[{"id": "urn:a:1", "type": "LearningAchievement", "title": title}],
        displayParameter={
            "primaryLanguage": {
                "id": "http://publications.europa.eu/resource/authority/language/"
                + ("FRA" if expected[1] == "fr" else "ENG")
            }
        },
    )
    [(_, record)] = records(document)
    assert (record["result"]["title"], record["result"]["language"]) == expected


def test_issuer_legal_name_as_an_array_of_value_objects():
    document = credential(
        issuer={"id": "urn:org:1", "legalName": [{"@value": "Hochschule", "@language": "de"}]}
    )
    [(_, record)] = records(document)
    assert record["transcript"]["issuer"]["name"] == "Hochschule"
    assert record["transcript"]["issuer"]["titles"] == {"de": "Hochschule"}


# --- references and the issuer ------------------------------------------------------------------


def test_awarding_body_given_by_id_is_resolved_to_the_object_stated_elsewhere():
    body = {"id": "urn:org:2", "type": "Organisation", "legalName": {"en": "Faculty"}}
    document = credential(
        claims=[
            {
                "id": "urn:a:1",
                "type": "LearningAchievement",
                "title": {"en": "Maths"},
                "awardedBy": {"id": "urn:ap:1", "awardingBody": "urn:org:2"},
            }
        ],
        evidence=[{"id": "urn:evidence:1", "type": "Evidence", "subject": body}],
    )
    [(_, record)] = records(document)
    assert record["transcript"]["issuer"]["name"] == "Faculty"


def test_an_unnamed_awarding_body_falls_back_to_the_named_issuer():
    document = credential(
        claims=[
            {
                "id": "urn:a:1",
                "type": "LearningAchievement",
                "title": {"en": "Maths"},
                "awardedBy": {"awardingBody": {"id": "urn:org:9", "homepage": []}},
            }
        ]
    )
    [(_, record)] = records(document)
    assert record["transcript"]["issuer"]["name"] == "Issuer"


# --- presentations: every credential held, each its own transcript ------------------------------


def test_a_presentation_gives_every_credential_it_holds():
    second = credential(claims=[{"id": "urn:a:1", "type": "LearningActivity", "title": "Lab"}])
    second["id"] = "urn:credential:2"
    presentation = {
        "@context": [VC],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [
            credential(),
            {"payload": json.dumps(second), "signatures": []},
            {"@context": [VC], "type": ["VerifiableCredential", "AlumniCredential"], "id": "x:1"},
        ],
    }
    found = records(presentation)
    assert [position for position, _ in found] == [
        "achievement urn:a:1",
        "activity urn:a:1",
        "credential x:1",
    ]
    assert [record["transcript"]["document_id"] for _, record in found[:2]] == [
        "urn:credential:1",
        "urn:credential:2",
    ]
    assert found[2][1].reason.startswith("not an ELM credential (@context is")


# --- refused or rejected ------------------------------------------------------------------------


def test_a_json_ld_graph_without_a_credential_is_refused_naming_what_it_holds():
    graph = {
        "@context": {"elm": "http://data.europa.eu/snb/model/"},
        "@graph": [
            {"@id": "urn:org:1", "@type": ["elm:Organisation", "foaf:Agent"]},
            {"@id": "urn:acc:1", "@type": "elm:Accreditation"},
        ],
    }
    reason = refused(graph)
    assert reason.startswith(
        "not an ELM v3 credential: a JSON-LD graph of 2 nodes "
        "(elm:Accreditation, elm:Organisation, foaf:Agent) holding no credential; supported:"
    )


@pytest.mark.parametrize("signed", [False, True])
def test_a_presentation_holding_no_credential_is_refused(signed):
    presentation = {
        "@context": [VC],
        "type": ["VerifiablePresentation"],
        "holder": "did:example:1",
        "verifiableCredential": [],
    }
    document = (
        {"payload": json.dumps(presentation), "signatures": [{"signature": "AA"}]}
        if signed
        else presentation
    )
    assert refused(document).startswith(
        "not an ELM v3 credential: a presentation (@context is "
        "https://www.w3.org/2018/credentials/v1; type is VerifiablePresentation) holding no "
        "credential"
    )


@pytest.mark.parametrize(
    ("document", "said"),
    [
        (
            {"@context": VC, "type": ["VerifiableCredential", "Generic"], "credentialSubject": "x"},
            "@context is https://www.w3.org/2018/credentials/v1; type is VerifiableCredential, "
            "Generic;",
        ),
        (
            {
                "@context": [VC, "https://www.w3.org/2018/credentials/examples/v1"],
                "type": ["VerifiableCredential", "AlumniCredential"],
                "credentialSubject": {"id": "did:1", "alumniOf": "Example University"},
            },
            "type is VerifiableCredential, AlumniCredential;",
        ),
        ({"name": "x"}, "@context is absent; type is absent;"),
    ],
)
def test_other_credentials_are_refused_with_what_they_are_and_what_is_supported(document, said):
    reason = refused(document)
    assert reason.startswith("not an ELM v3 credential: ")
    assert said in reason
    assert reason.endswith("JAdES-signed {payload, signatures}, or held by a presentation")


@pytest.mark.parametrize("subject", [{"id": "urn:person:1", "familyName": "Power"}, None])
def test_an_elm_credential_stating_no_claim_is_one_rejected_record(subject):
    document = credential((VC, DEV))
    document["credentialSubject"] = subject
    [(position, record)] = records(document)
    assert position == "credential urn:credential:1"
    assert record == Rejected("the credential states no learning achievement or activity")


# --- ELM v2 XML ---------------------------------------------------------------------------------

V2_CREDENTIAL = """<europassCredential xmlns="http://data.europa.eu/snb"
    xmlns:cred="http://data.europa.eu/europass/model/credentials/w3c#"
    cred:id="{id}" xsdVersion="0.10.0">
  <cred:issued>2022-08-09T15:53:56+02:00</cred:issued>
  <cred:issuer idref="urn:epass:org:1"/>
  <credentialSubject id="urn:epass:person:1">
    <achievements>
      <learningAchievement id="urn:epass:learningAchievement:1">
        <title><text lang="en">{title}</text></title>
      </learningAchievement>
    </achievements>
  </credentialSubject>
  <agentReferences>
    <organization id="urn:epass:org:1">
      <prefLabel><text lang="en">{issuer}</text></prefLabel>
    </organization>
  </agentReferences>
</europassCredential>"""


def v2(id="urn:credential:1", title="Thesis", issuer="University") -> str:
    return V2_CREDENTIAL.format(id=id, title=title, issuer=issuer)


def presentation(*credentials: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<vp:verifiablePresentation xmlns="http://data.europa.eu/snb" '
        'xmlns:vp="http://data.europa.eu/snb/vp" id="urn:verifiable:1">'
        '<vp:issuer id="urn:epass:org:vp:1"><prefLabel><text lang="en">Wallet</text></prefLabel>'
        "</vp:issuer>" + "".join(credentials) + "<vp:proof><Signature/></vp:proof>"
        "</vp:verifiablePresentation>"
    ).encode()


def test_v2_presentation_is_opened_and_each_credential_read():
    found = records(presentation(v2(), v2("urn:credential:2", "Course", "Faculty")))
    assert [
        (
            record["transcript"]["document_id"],
            record["transcript"]["issuer"]["name"],
            record["result"]["title"],
        )
        for _, record in found
    ] == [
        ("urn:credential:1", "University", "Thesis"),
        ("urn:credential:2", "Faculty", "Course"),
    ]
    assert found[0][1]["transcript"]["issued_on"] == "2022-08-09"


def test_v2_presentation_holding_no_credential_is_refused():
    assert refused(presentation()).startswith(
        "not a Europass ELM v2 credential: a verifiablePresentation holding no "
        "europassCredential, nothing to import; supported:"
    )


def test_v2_older_layout_names_its_issuer_and_gives_every_activity():
    document = b"""<europassCredential xmlns="http://data.europa.eu/snb"
        xmlns:cred="http://data.europa.eu/europass/model/credentials/w3c#"
        xsdVersion="0.10.0" cred:id="urn:credential:9">
      <issuanceDate>2020-01-01T00:00:00+01:00</issuanceDate>
      <issuer idref="urn:epass:org:1"/>
      <credentialSubject id="urn:epass:person:1">
        <identifier identifierSchemeId="Social Security Card">N/A</identifier>
        <identifier identifierSchemeId="Membership card">12345</identifier>
        <activities>
          <activity id="urn:epass:activity:1"><title/>
            <specifiedBy idref="urn:epass:spec:1"/></activity>
          <activity id="urn:epass:activity:2"><title/>
            <specifiedBy idref="urn:epass:spec:2"/></activity>
        </activities>
      </credentialSubject>
      <learningActivitySpecificationReferences>
        <learningActivitySpecification id="urn:epass:spec:2">
          <title><text lang="en">Field Trip</text></title></learningActivitySpecification>
        <learningActivitySpecification id="urn:epass:spec:1">
          <title><text lang="en">Galaxies</text></title></learningActivitySpecification>
      </learningActivitySpecificationReferences>
      <organisationReferences>
        <organisation id="urn:epass:org:1">
          <preferredName><text lang="en">Sternalia University</text></preferredName>
          <legalIdentifier>10001</legalIdentifier>
          <homepage id="https://sternalia.example.org/"/>
        </organisation>
      </organisationReferences>
    </europassCredential>"""
    found = records(document)
    assert [record["result"]["title"] for _, record in found] == ["Galaxies", "Field Trip"]
    transcript = found[0][1]["transcript"]
    assert transcript["issued_on"] == "2020-01-01"
    assert transcript["issuer"] == {
        "name": "Sternalia University",
        "country": None,
        "identifiers": {"legal": "10001", "domain": "sternalia.example.org"},
        "titles": {"en": "Sternalia University"},
    }
    assert transcript["learner"]["identifiers"] == {
        "Social-Security-Card": "N/A",
        "Membership-card": "12345",
    }


@pytest.mark.parametrize(
    ("root", "found"),
    [
        (
            '<europassCredential xmlns="http://data.europa.eu/europass/model/credentials#" '
            'xsdVersion="0.4.0"/>',
            "{http://data.europa.eu/europass/model/credentials#}europassCredential, in the "
            "pre-release EDCI namespace http://data.europa.eu/europass/model/credentials# (the "
            "xsdVersion 0.4 prototype, superseded by ELM v2)",
        ),
        (
            '<verifiablePresentation xmlns="http://data.europa.eu/europass/model/credentials#"/>',
            "{http://data.europa.eu/europass/model/credentials#}verifiablePresentation, in the "
            "pre-release EDCI namespace",
        ),
        ("<europassCredential/>", "europassCredential in no namespace"),
    ],
)
def test_v2_prerelease_and_unnamespaced_roots_are_refused_by_name(root, found):
    reason = refused(root.encode())
    assert reason.startswith(f"not a Europass ELM v2 credential: the root element is {found}")
    assert reason.endswith(
        "supported: europassCredential in the ELM v2 namespace http://data.europa.eu/snb, bare "
        "or inside a verifiablePresentation (http://data.europa.eu/snb/vp)"
    )


# --- stored: every result its own row -----------------------------------------------------------


def test_every_result_of_a_presentation_is_stored_as_its_own_row(session):
    data = presentation(v2(), v2("urn:credential:2", "Thesis", "Faculty"))
    report = import_transcripts(lambda: session, OPERATOR, "elm", io.BytesIO(data), "vp.xml")
    assert (report.state, report.inserted, report.rejected) == ("completed", 2, 0)


def test_an_eu_authority_country_uri_gives_its_alpha_2_code_kosovo_included():
    authority = "http://publications.europa.eu/resource/authority/country/"
    assert [elm.country(authority + code) for code in ("DEU", "XKX", "EUR")] == ["DE", "XK", None]
