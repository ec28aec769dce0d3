"""Signed statements (issue 22, item 2): the registry's key, its statements as Verifiable
Credentials checked by our verifier and by an independent library (PyJWT), who may have them,
and the check page a printed statement's code leads to."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import stat
from pathlib import Path

import jwt as pyjwt
import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyld import jsonld
from pypdf import PdfReader

from importers.verification import services as verification
from importers.verification.trust import TrustList, multikey
from registry.cli import main
from registry.core.errors import Conflict, InvalidData
from registry.issuing import issuing, trust_list
from registry.statements import codes, credentials, keys, signing
from tests.registry import test_private_records, test_web_desk
from tests.registry.test_private_records import make
from tests.registry.test_web import html, sign_in
from tests.registry.test_web_desk import REGISTRAR, assess

# The fixtures of the records' own tests: their tenants, and the registrar's desk.
tenants = test_private_records.tenants
desk = test_web_desk.desk

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credential.json"
URLS = {
    "assessment": "/api/v1/assessments/{}/credential",
    "evaluation": "/api/v1/transfers/{}/credential",
    "pathway_evaluation": "/api/v1/pathway-evaluations/{}/credential",
}
TYPES = {
    "assessment": "StatementOfComparability",
    "evaluation": "TransferCreditEvaluation",
    "pathway_evaluation": "PathwayEvaluation",
}


def public_jwk(client) -> dict:
    response = client.get("/api/v1/keys")
    assert response.status_code == 200
    (key,) = response.get_json()["keys"]
    return key


def independently_verified(client, token: str) -> dict:
    """The VC-JWT verified by PyJWT with the key the registry publishes, not by our code."""
    key = pyjwt.PyJWK(public_jwk(client))
    header = pyjwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt"
    assert header["kid"] == public_jwk(client)["kid"]
    return pyjwt.decode(token, key=key, algorithms=["EdDSA"])


CONTEXTS = Path(__file__).resolve().parents[2] / "importers" / "verification" / "contexts"
CONTEXT_FILES = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
}


def _offline(url, options=None):
    """The published contexts, from the files bundled beside the verifier; nothing fetched."""
    document = json.loads((CONTEXTS / CONTEXT_FILES[url]).read_text())
    return {"contextUrl": None, "documentUrl": url, "document": document}


def _canonical(document: dict) -> bytes:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    return jsonld.normalize(document, {**options, "documentLoader": _offline}).encode()


def _base58btc(text: str) -> bytes:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in text:
        number = number * 58 + alphabet.index(char)
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def independently_verified_di(client, document: dict) -> bool:
    """The eddsa-rdfc-2022 proof checked as the vc-di-eddsa specification describes it, with
    pyld and cryptography and the key the registry publishes, not by our verifier: the
    canonical proof configuration's SHA-256 then the canonical document's, Ed25519-verified."""
    proof = dict(document["proof"])
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["verificationMethod"] == public_jwk(client)["kid"]
    signature = _base58btc(proof.pop("proofValue").removeprefix("z"))
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    config = {**proof, "@context": document["@context"]}
    data = (
        hashlib.sha256(_canonical(config)).digest() + hashlib.sha256(_canonical(unsecured)).digest()
    )
    x = public_jwk(client)["x"]
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


# --- the key --------------------------------------------------------------------------------


def test_a_key_is_made_private_and_never_replaced_without_force(tmp_path):
    path = tmp_path / "signing" / "key.pem"
    made = keys.create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with pytest.raises(Conflict):
        keys.create(path)
    assert keys.load(path).public_jwk() == made.public_jwk()
    replaced = keys.create(path, force=True)
    assert replaced.public_jwk() != made.public_jwk()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_did_key_names_the_key_itself(tmp_path):
    key = keys.create(tmp_path / "key.pem")
    assert key.issuer.startswith("did:key:z6Mk")
    assert key.verification_method == f"{key.issuer}#{key.issuer.removeprefix('did:key:')}"
    decoded = multikey(key.issuer.removeprefix("did:key:"))
    assert decoded.as_dict(private=False)["x"] == key.public_jwk()["x"]
    named = keys.load(tmp_path / "key.pem", "did:web:registry.example")
    assert named.verification_method == f"did:web:registry.example#{key.multikey}"


def test_a_file_that_is_no_ed25519_key_is_a_clear_error(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("not a key")
    with pytest.raises(InvalidData, match="cannot be read"):
        keys.load(path)
    with pytest.raises(InvalidData, match="not a DID or a URL"):
        keys.load(tmp_path / "absent.pem", "registry example")


def test_the_public_key_is_published_without_private_material(client, signing_key_file):
    jwks = client.get("/api/v1/keys")
    assert jwks.status_code == 200
    (key,) = jwks.get_json()["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"} and "d" not in key
    document = client.get("/.well-known/did.json")
    assert document.status_code == 200 and document.mimetype == "application/did+json"
    did = document.get_json()
    (method,) = did["verificationMethod"]
    assert method["id"] == key["kid"] and did["assertionMethod"] == [key["kid"]]
    assert "d" not in json.dumps(did).replace('"id"', "").split('"')
    private = keys.load(signing_key_file).private
    secret = private.private_bytes_raw()
    for body in (jwks.data, document.data):
        assert pyjwt.utils.base64url_encode(secret) not in body


def test_without_a_key_signing_answers_a_clear_error(app, client, tenants, tmp_path):
    number = make(client, tenants, "assessment", "registrar")
    app.config["SIGNING_KEY"] = tmp_path / "absent.pem"
    headers = tenants["headers"]["registrar"]
    for url in (URLS["assessment"].format(number), "/api/v1/keys", "/.well-known/did.json"):
        response = client.get(url, headers=headers)
        assert response.status_code == 503, url
        assert (
            "no signing key configured: run registry keys create" in response.get_json()["detail"]
        )
    # Still 404 to whoever may not read the record: the record is checked first.
    other = client.get(URLS["assessment"].format(number), headers=tenants["headers"]["inst-b"])
    assert other.status_code == 404


# --- the statements -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(URLS))
def test_a_signed_statement_verifies_with_an_independent_library(
    app,
    client,
    tenants,
    kind,
):
    number = make(client, tenants, kind, "inst-a")
    headers = tenants["headers"]["inst-a"]
    response = client.get(URLS[kind].format(number), headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    token = response.get_data(as_text=True)
    claims = independently_verified(client, token)
    issuer = public_jwk(client)["kid"].split("#")[0]
    assert claims["iss"] == claims["issuer"] == issuer
    assert claims["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"},
    ]
    assert claims["type"] == ["VerifiableCredential", TYPES[kind]]
    assert claims["nbf"] == claims["iat"] and claims["validFrom"].endswith("Z")
    base = re.escape(issuing(app.config).base_url)
    assert re.fullmatch(base + r"/check/[ATP]-\d+(-[A-Z2-7]{4}){4}", claims["id"])
    subject = claims["credentialSubject"]
    read = client.get(URLS[kind].removesuffix("/credential").format(number), headers=headers)
    assert subject["inputsDigest"] == read.get_json()["inputs_digest"]
    # The same stored record gives the same statement.
    assert client.get(URLS[kind].format(number), headers=headers).get_data(as_text=True) == token
    # Our own verifier, with the registry's key trusted for its issuer, agrees.
    answer = verification.verify(token.encode(), trust=trust_list(app.config))
    assert answer.verdict == "verified" and answer.issuer == issuer, answer


def test_the_statement_of_comparability_states_the_decision(client, tenants):
    number = make(client, tenants, "assessment", "registrar")
    headers = tenants["headers"]["registrar"]
    found = client.get(f"/api/v1/assessments/{number}", headers=headers).get_json()
    token = client.get(URLS["assessment"].format(number), headers=headers).get_data(as_text=True)
    subject = independently_verified(client, token)["credentialSubject"]
    assert subject["assessment"] == number and subject["decision"] == found["decision"]
    assert subject["confidence"] == found["confidence"]
    assert subject["credential"] == [
        {
            "title": "BSc (Hons) Computing Science",
            "institution": {"name": "University of Glasgow", "country": "GB"},
            "level": "GB-SCQF:10",
            "qualificationType": "bachelor",
            "credits": {"value": "480", "system": "GB-SCQF-CP"},
            "grade": {"value": "2:1", "scale": "GB-HONS"},
            "awardedOn": "2019-06-30",
        }
    ]
    assert subject["target"]["country"] == "DE" and subject["basis"] == found["explanation"]
    assert {"framework": "DE-DQR", "version": found["framework_versions"]["DE-DQR"]} in subject[
        "frameworkVersions"
    ]
    assert "inputs" not in subject and "rules" not in subject


def test_an_operator_may_issue_as_a_did_web(app, client, tenants, tmp_path):
    app.config["ISSUER_ID"] = "did:web:registry.example"
    number = make(client, tenants, "assessment", "registrar")
    headers = tenants["headers"]["registrar"]
    document = client.get("/.well-known/did.json").get_json()
    assert document["id"] == "did:web:registry.example"
    assert document["verificationMethod"][0]["id"].startswith("did:web:registry.example#z6Mk")
    for fmt in ("jwt", "di"):
        signed = client.get(URLS["assessment"].format(number) + f"?format={fmt}", headers=headers)
        answer = verification.verify(signed.data, trust=trust_list(app.config))
        assert answer.verdict == "verified" and answer.issuer == "did:web:registry.example", fmt
        # A receiver who keeps the DID document the registry serves in its own trust list.
        (tmp_path / "registry.did.json").write_text(json.dumps(document))
        theirs = verification.verify(signed.data, trust=TrustList.load(tmp_path))
        assert theirs.verdict == "verified", (fmt, theirs)


def test_a_tampered_statement_is_invalid(app, client, tenants):
    number = make(client, tenants, "assessment", "registrar")
    headers = tenants["headers"]["registrar"]
    token = client.get(URLS["assessment"].format(number), headers=headers).get_data(as_text=True)
    header, payload, signature = token.split(".")
    claims = json.loads(pyjwt.utils.base64url_decode(payload))
    claims["credentialSubject"]["decision"] = "recognised"
    forged = pyjwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    answer = verification.verify(
        f"{header}.{forged}.{signature}".encode(), trust=trust_list(app.config)
    )
    assert answer.verdict == "invalid" and "signature" in answer.reason
    # The operator's trust list alone does not hold the registry's key.
    alone = verification.verify(token.encode(), trust=TrustList())
    assert alone.verdict == "unknown_issuer"


@pytest.mark.parametrize("kind", list(URLS))
def test_a_data_integrity_statement_verifies_independently(app, client, tenants, kind):
    number = make(client, tenants, kind, "inst-a")
    headers = tenants["headers"]["inst-a"]
    response = client.get(URLS[kind].format(number) + "?format=di", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/vc"
    document = json.loads(response.data)
    assert document["type"] == ["VerifiableCredential", TYPES[kind]]
    assert independently_verified_di(client, document)
    token = client.get(URLS[kind].format(number), headers=headers).get_data(as_text=True)
    # The same statement in both forms, and the same each time it is asked for.
    claims = pyjwt.decode(token, options={"verify_signature": False})
    assert {key: claims[key] for key in document if key != "proof"} == {
        key: value for key, value in document.items() if key != "proof"
    }
    again = client.get(URLS[kind].format(number) + "?format=di", headers=headers)
    assert json.loads(again.data) == document
    trust = trust_list(app.config)
    assert verification.verify(response.data, trust=trust).verdict == "verified"
    document["credentialSubject"]["inputsDigest"] = "0" * 64
    assert not independently_verified_di(client, document)
    assert verification.verify(json.dumps(document).encode(), trust=trust).verdict == "invalid"


def test_a_pathway_applied_is_signed_whole(app, session):
    """An evaluation with a pathway applied, its conditions and evidence: every member is a
    term the proof covers (the canonicaliser refuses to drop one)."""
    from tests.mappings.test_pathways import World, evaluate, micromasters

    world = World(session)
    answer = evaluate(session, world, credentials=[micromasters()])
    assert answer["pathways"] and answer["summary"]["granted"] == "30"
    key = keys.load(app.config["SIGNING_KEY"])
    document = credentials.credential("pathway", answer, key.issuer, "https://registry.example/c")
    signed = signing.as_di(document, key)
    trust = TrustList(keys=(key.trusted(),))
    assert verification.verify(json.dumps(signed).encode(), trust=trust).verdict == "verified"
    applied = signed["credentialSubject"]["pathways"]
    assert any(item["status"] == "applied" for item in applied)
    assert "id" not in json.dumps(applied).replace('"recordId"', "").split('"')


def test_a_bad_format_is_a_400(client, tenants):
    number = make(client, tenants, "assessment", "registrar")
    response = client.get(
        URLS["assessment"].format(number) + "?format=pdf", headers=tenants["headers"]["registrar"]
    )
    assert response.status_code == 400 and "format" in response.get_json()["errors"]


# --- the check page -------------------------------------------------------------------------


def check_code_of(client, kind, number, headers) -> str:
    token = client.get(URLS[kind].format(number), headers=headers).get_data(as_text=True)
    return independently_verified(client, token)["id"].rsplit("/", 1)[1]


def test_the_check_page_names_the_statement_by_its_code(client, tenants):
    headers = tenants["headers"]["registrar"]
    number = make(client, tenants, "assessment", "registrar")
    found = client.get(f"/api/v1/assessments/{number}", headers=headers).get_json()
    code = check_code_of(client, "assessment", number, headers)
    anonymous = client.application.test_client()
    page = anonymous.get(f"/check/{code}")
    assert page.status_code == 200
    text = html(page)
    assert "This registry issued this statement." in text and found["inputs_digest"] in text
    assert "needs review" in text and found["created_at"][:10] in text
    # Nothing beyond what the statement shows: not the inputs, not who made it.
    assert "University of Glasgow" not in text and "assess-" not in text
    # Typed as read aloud: lower case, spaces, 0 for O and 1 for I.
    typed = code.lower().replace("-", " ").replace("o", "0").replace("i", "1")
    assert anonymous.get(f"/check/{typed}").status_code == 200
    form = anonymous.get("/check", query_string={"code": typed})
    assert form.status_code == 302 and form.location.endswith(f"/check/{typed}".replace(" ", "%20"))
    assert "Check code" in html(anonymous.get("/check"))
    # The signed statement, downloaded by the code, verifies independently.
    download = anonymous.get(f"/check/{code}/statement.jwt")
    assert download.status_code == 200 and download.mimetype == "application/vc+jwt"
    assert "attachment" in download.headers["Content-Disposition"]
    claims = independently_verified(client, download.get_data(as_text=True))
    assert claims["credentialSubject"]["assessment"] == number
    proved = anonymous.get(f"/check/{code}/statement.json")
    assert proved.status_code == 200 and proved.mimetype == "application/vc"
    assert independently_verified_di(client, json.loads(proved.data))
    assert "statement.jwt" in text and "statement.json" in text


def test_the_evaluations_pages_show_their_check_code(client, tenants):
    """The institution's pages of a transfer and a pathway evaluation name the code the
    signed statement's id carries, linked to this site's check page."""
    headers = tenants["headers"]["inst-a"]
    page_of = {"evaluation": "/transfers/{}", "pathway_evaluation": "/pathways/evaluations/{}"}
    for kind, page in page_of.items():
        number = make(client, tenants, kind, "inst-a")
        code = check_code_of(client, kind, number, headers)
        shown = html(client.get(page.format(number), headers=headers))
        assert f'href="/check/{code}">{code}</a>' in shown, kind
        assert client.get(f"/check/{code}").status_code == 200


def test_a_wrong_code_is_one_404_page(client, tenants):
    headers = tenants["headers"]["registrar"]
    first = make(client, tenants, "assessment", "registrar")
    second = make(client, tenants, "assessment", "registrar")
    code = check_code_of(client, "assessment", first, headers)
    tag = code.split("-", 2)[2]
    flipped = code[:-1] + ("A" if code[-1] != "A" else "B")
    for wrong in (
        flipped,  # one character off
        f"A-{second}-{tag}",  # another record's code
        f"T-{first}-{tag}",  # another kind
        "A-999999-AAAA-AAAA-AAAA-AAAA",  # no such record
        "A-999999999999-AAAA-AAAA-AAAA-AAAA",  # beyond any id
        "nonsense",
    ):
        response = client.get(f"/check/{wrong}")
        assert response.status_code == 404, wrong
        assert "No statement issued by this registry has the code" in html(response)
        assert client.get(f"/check/{wrong}/statement.jwt").status_code == 404


def test_codes_are_80_bits_and_read_back():
    code = codes.make("secret", "pathway", 7, "ab" * 32)
    kind, number, *groups = code.split("-")
    assert (kind, number) == ("P", "7") and [len(g) for g in groups] == [4, 4, 4, 4]
    read = codes.read(code)
    assert read == codes.Code("pathway", 7, "".join(groups))
    assert codes.matches("secret", read, "ab" * 32)
    assert not codes.matches("another secret", read, "ab" * 32)
    assert not codes.matches("secret", read, "cd" * 32)
    assert codes.read("P-7") is None and codes.read("X-7-" + "A" * 16) is None


def test_the_statement_and_its_pdf_carry_the_check_code_and_url(client, session, desk):
    sign_in(client, REGISTRAR)
    number = assess(client)
    page = html(client.get(f"/assessments/{number}/statement"))
    code = re.search(r'class="check-code">([^<]+)<', page).group(1)
    assert re.fullmatch(rf"A-{number}(-[A-Z2-7]{{4}}){{4}}", code)
    base = issuing(client.application.config).base_url
    assert f"{base}/check/{code}" in page
    pdf = client.get(f"/assessments/{number}/statement.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert code in text
    assert f"{base}/check/{code}" in re.sub(r"\s+", "", text)
    assert client.application.test_client().get(f"/check/{code}").status_code == 200


# --- the command line -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    root = tmp_path_factory.mktemp("statements-cli")
    runner = CliRunner(
        env={
            "DATABASE_URL": f"sqlite:///{root / 'registry.sqlite3'}",
            "SIGNING_KEY": str(root / "signing" / "key.pem"),
            "TRUST_LIST": str(root / "trust"),
            "SECRET_KEY": "a test secret",
            "PUBLIC_URL": "https://registry.example",
        }
    )

    def run(*args, code=0):
        result = runner.invoke(main, list(args))
        assert result.exit_code == code, (result.output, result.stderr)
        return result

    run("db", "upgrade")
    run("load-reference")
    return run


def test_the_command_line_makes_the_key_signs_and_verifies(cli, tmp_path):
    number = json.loads(cli("assess", str(EXAMPLE), "--target", "DE", "--json").output)["id"]
    refused = cli("assessments", "credential", str(number), code=2)
    assert "no signing key configured: run registry keys create" in refused.stderr
    made = cli("keys", "create").output
    assert "did:key:z6Mk" in made and '"d"' not in made
    again = cli("keys", "create", code=2)
    assert "exists already" in again.stderr and "--force" in again.stderr
    assert "kept" in cli("keys", "create", "--if-missing").output
    shown = json.loads(cli("keys", "show").output)
    assert "d" not in shown["jwks"]["keys"][0]
    assert shown["did_document"]["id"] in made

    token = cli("assessments", "credential", str(number)).output.strip()
    claims = pyjwt.decode(token, key=pyjwt.PyJWK(shown["jwks"]["keys"][0]), algorithms=["EdDSA"])
    assert claims["id"].startswith(f"https://registry.example/check/A-{number}-")
    statement = tmp_path / "statement.jwt"
    statement.write_text(token)
    verified = json.loads(cli("verify", str(statement), "--json").output)
    assert verified["verdict"] == "verified" and verified["issuer"] == shown["did_document"]["id"]
    proved = tmp_path / "statement.json"
    proved.write_text(cli("assessments", "credential", str(number), "--format", "di").output)
    assert json.loads(cli("verify", str(proved), "--json").output)["verdict"] == "verified"
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    assert json.loads(cli("verify", str(tampered), "--json", code=1).output)["verdict"] == "invalid"
    assert cli("assessments", "credential", "999999", code=2).stderr.startswith(
        "error: No assessment"
    )
    assert "transfer evaluation NUMBER" in cli("transfers", "credential", "--help").output
    assert "pathway evaluation" in cli("pathways", "credential", "--help").output


def test_a_request_s_host_header_is_never_signed_into_a_statement(app, client, tenants):
    """The check page is public: with the request's address signed in, anyone could have a
    genuine statement point at a "check" site of their own (Host: evil.example)."""
    headers = tenants["headers"]["registrar"]
    number = make(client, tenants, "assessment", "registrar")
    code = check_code_of(client, "assessment", number, headers)
    forged = {"Host": "evil.example"}
    token = client.get(URLS["assessment"].format(number), headers={**headers, **forged})
    download = client.application.test_client().get(f"/check/{code}/statement.jwt", headers=forged)
    base = issuing(app.config).base_url
    for signed in (token.get_data(as_text=True), download.get_data(as_text=True)):
        claims = independently_verified(client, signed)
        assert claims["id"] == f"{base}/check/{code}", claims["id"]
    assert "evil.example" not in html(client.get(f"/check/{code}", headers=forged))
