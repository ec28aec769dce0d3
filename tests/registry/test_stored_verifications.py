"""The verdict stored (issue 22): `POST /verifications` stores it, and an assessment, the desk's
upload, a batch and an import job name it; the default policy makes an invalid signature a
substantial difference in authenticity, an unsigned file or an unknown issuer lower confidence,
and a credential typed in is assessed exactly as before."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from lxml import etree
from pypdf import PdfReader
from signxml import XMLSigner

from importers import jobs
from importers.batch import credentials
from importers.transcripts import READERS
from mappings import authenticity, recognition
from registry.catalogue.models import Transcript
from registry.core import accounts
from registry.core.permissions import OPERATOR
from registry.institutions import services as institutions
from registry.issuing import trust_source
from registry.verifications.models import StoredVerification
from tests.importers.signing import certificate, pem, rsa_key
from tests.registry.test_web import PASSWORD, csrf_token, html, sign_in

ELMO = "https://github.com/emrex-eu/elmo-schemas/tree/v1"
TARGET = "?target=DE&target_qualification_type=bachelor"
REGISTRAR = "Admissions, verification office"


def elmo(title: str = "BA (Hons) History") -> bytes:
    """One degree programme of University College Dublin, as an ELMO report states it."""
    return (
        f'<elmo xmlns="{ELMO}"><generatedDate>2024-07-01T12:00:00Z</generatedDate>'
        '<learner><identifier type="esi">urn:schac:personalUniqueCode:int:esi:ucd.ie:1'
        "</identifier><givenNames>Ada</givenNames><familyName>Byron</familyName></learner>"
        '<report><issuer><country>IE</country><title xml:lang="en">University College Dublin'
        '</title></issuer><learningOpportunitySpecification><identifier type="local">BA-HIST'
        f'</identifier><title xml:lang="en">{title}</title><type>Degree Programme</type>'
        "<specifies><learningOpportunityInstance><date>2020-06-30</date><status>passed</status>"
        "<credit><scheme>ects</scheme><value>240</value></credit><level><type>EQF</type>"
        "<value>6</value></level></learningOpportunityInstance></specifies>"
        "</learningOpportunitySpecification><issueDate>2020-07-01T10:00:00+02:00</issueDate>"
        "</report></elmo>"
    ).encode()


def signed(key, cert, data: bytes) -> bytes:
    root = etree.fromstring(data)
    out = XMLSigner(signature_algorithm="rsa-sha256", digest_algorithm="sha256").sign(
        root, key=key, cert=[pem(cert).decode()]
    )
    return etree.tostring(out, xml_declaration=True, encoding="UTF-8")


def tampered(data: bytes) -> bytes:
    """One byte of the signed content changed: the title says Histery."""
    assert data.count(b"History") == 1
    return data.replace(b"History", b"Histery")


def credential_of(data: bytes) -> dict:
    """The credential an assessment takes, as the file states it (units in words left out)."""
    [(_, found)] = list(credentials(READERS["elmo"](io.BytesIO(data))))
    found.pop("grade_stated", None)
    return found


@pytest.fixture
def files(app, tmp_path):
    """A trust list holding the contact point's certificate; the file it signed, the same file
    tampered, and the file unsigned."""
    key = rsa_key()
    cert = certificate(key, "UCD contact point")
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "ucd.pem").write_bytes(b"Issuer: University College Dublin\n" + pem(cert))
    app.config["TRUST_LIST"] = trust
    good = signed(key, cert, elmo())
    return {"signed": good, "tampered": tampered(good), "unsigned": elmo()}


@pytest.fixture
def offices(session):
    """UCD in the registry; two registrars (two offices) with tokens, and an admin."""
    institutions.create_institution(
        session, OPERATOR, {"name": "University College Dublin", "country": "IE"}
    )
    made = {}
    for key, role in [("mine", "registrar"), ("other", "registrar"), ("admin", "admin")]:
        account = accounts.get_or_create_account(session, f"verification-{key}", role, [])
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


def verify(client, headers, data: bytes, query: str = "?format=elmo") -> dict:
    response = client.post(
        f"/api/v1/verifications{query}",
        data={"file": (io.BytesIO(data), "ucd.xml")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def assess(client, headers, body: dict, status: int = 201) -> dict:
    response = client.post(f"/api/v1/assessments{TARGET}", json=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


# --- the API ------------------------------------------------------------------------------------


@pytest.mark.db
def test_a_verification_is_stored_and_private_to_its_office(client, session, files, offices):
    answer = verify(client, offices["mine"], files["signed"])
    assert set(answer) == {"id", "verdict", "reason", "issuer", "checks"}
    assert answer["verdict"] == "verified" and answer["issuer"] == "University College Dublin"
    row = session.get(StoredVerification, answer["id"])
    assert row.filename == "ucd.xml" and row.size == len(files["signed"])
    assert row.format == "elmo" and len(row.credentials) == 1
    stored = client.get(f"/api/v1/verifications/{row.id}", headers=offices["mine"]).get_json()
    assert stored["file"]["sha256"] == row.sha256 and stored["verified_on"]
    assert stored["credentials"] == [
        {
            "position": row.credentials[0]["position"],
            "digest": row.credentials[0]["digest"],
            "fields": row.credentials[0]["fields"],
        }
    ]
    assert (
        client.get(f"/api/v1/verifications/{row.id}", headers=offices["admin"]).status_code == 200
    )
    hidden = client.get(f"/api/v1/verifications/{row.id}", headers=offices["other"])
    assert hidden.status_code == 404
    assert client.get(f"/api/v1/verifications/{row.id}").status_code == 404
    # Without a format, the file's credentials are read by the reader that can.
    guessed = verify(client, offices["mine"], files["signed"], query="")
    assert session.get(StoredVerification, guessed["id"]).format == "elmo"


@pytest.mark.db
def test_an_assessment_names_a_verified_file(client, files, offices):
    plain = assess(client, offices["mine"], credential_of(files["signed"]))
    verification = verify(client, offices["mine"], files["signed"])
    body = {**credential_of(files["signed"]), "verification_id": verification["id"]}
    answer = assess(client, offices["mine"], body)
    assert answer["verification"]["verdict"] == "verified" and answer["verification"]["covers"]
    assert answer["facts"]["credential.signature"] == "verified"
    assert (answer["decision"], answer["confidence"]) == (plain["decision"], plain["confidence"])
    assert any(
        "signed by University College Dublin, whose key the trust list holds" in sentence
        for sentence in answer["explanation"]
    )
    # The verification counts in the digest: the same credential, verified, is another case.
    assert answer["inputs_digest"] != plain["inputs_digest"]
    assert "default-authenticity-signature-invalid" in [rule["rule"] for rule in answer["rules"]]


@pytest.mark.db
def test_a_tampered_file_is_a_substantial_difference_in_authenticity(client, files, offices):
    plain = assess(client, offices["mine"], credential_of(files["signed"]))
    assert plain["decision"] == "recognised"
    verification = verify(client, offices["mine"], files["tampered"])
    assert verification["verdict"] == "invalid"
    body = {**credential_of(files["tampered"]), "verification_id": verification["id"]}
    answer = assess(client, offices["mine"], body)
    assert answer["decision"] == "not_recognised"
    [difference] = answer["substantial_differences"]
    assert difference["element"] == "authenticity"
    assert difference["rule_id"] == "default-authenticity-signature-invalid"
    assert verification["reason"] in difference["detail"]
    assert answer["alternative"]["form"] == "none"


@pytest.mark.db
def test_an_unsigned_file_lowers_confidence_and_says_why(client, files, offices):
    plain = assess(client, offices["mine"], credential_of(files["unsigned"]))
    verification = verify(client, offices["mine"], files["unsigned"])
    assert verification["verdict"] == "unsigned"
    body = {**credential_of(files["unsigned"]), "verification_id": verification["id"]}
    answer = assess(client, offices["mine"], body)
    assert answer["decision"] == plain["decision"]
    assert Decimal(answer["confidence"]) == (
        Decimal(plain["confidence"]) * Decimal(authenticity.UNSIGNED)
    ).quantize(Decimal("0.01"))
    assert any(gap.startswith("the credential is not signed") for gap in answer["gaps"])
    assert answer["substantial_differences"] == plain["substantial_differences"]


@pytest.mark.db
def test_an_unknown_issuer_lowers_confidence_more(app, client, files, offices, tmp_path):
    plain = assess(client, offices["mine"], credential_of(files["signed"]))
    app.config["TRUST_LIST"] = tmp_path / "empty"
    app.config["TRUST_LIST"].mkdir()
    verification = verify(client, offices["mine"], files["signed"])
    assert verification["verdict"] == "unknown_issuer"
    body = {**credential_of(files["signed"]), "verification_id": verification["id"]}
    answer = assess(client, offices["mine"], body)
    assert Decimal(answer["confidence"]) == (
        Decimal(plain["confidence"]) * Decimal(authenticity.UNKNOWN_ISSUER)
    ).quantize(Decimal("0.01"))
    assert any("an issuer the trust list does not hold" in gap for gap in answer["gaps"])


@pytest.mark.db
def test_another_offices_verification_is_not_found(client, files, offices):
    theirs = verify(client, offices["other"], files["signed"])
    body = {**credential_of(files["signed"]), "verification_id": theirs["id"]}
    refused = assess(client, offices["mine"], body, status=404)
    assert refused["errors"] == {"verification_id": ["No such verification."]}
    missing = assess(client, offices["mine"], {**body, "verification_id": 999999}, status=404)
    assert missing["detail"] == refused["detail"].replace(str(theirs["id"]), "999999")
    bad = assess(client, offices["mine"], {**body, "verification_id": "x"}, status=400)
    assert "verification_id" in bad["errors"]


@pytest.mark.db
def test_an_edited_credential_is_not_covered_by_the_verdict(client, files, offices):
    plain = assess(client, offices["mine"], credential_of(files["signed"]))
    verification = verify(client, offices["mine"], files["signed"])
    edited = {**credential_of(files["signed"]), "title": "BA (Hons) History and Politics"}
    answer = assess(client, offices["mine"], {**edited, "verification_id": verification["id"]})
    assert answer["verification"]["covers"] is False
    assert answer["verification"]["differs"] == ["title"]
    assert answer["facts"]["credential.signature"] == "altered"
    assert any("(the closest differs in: title)" in s for s in answer["explanation"])
    assert Decimal(answer["confidence"]) < Decimal(plain["confidence"])
    assert any("the verification does not carry over" in s for s in answer["explanation"])
    # A field the file leaves empty may be filled in: the verdict still carries.
    filled = {**credential_of(files["signed"]), "field": "0222"}
    covered = assess(client, offices["mine"], {**filled, "verification_id": verification["id"]})
    assert covered["verification"]["covers"] is True
    assert covered["verification"]["differs"] == []
    # An invalid file stays a difference in authenticity however its data is edited.
    invalid = verify(client, offices["mine"], files["tampered"])
    still = assess(client, offices["mine"], {**edited, "verification_id": invalid["id"]})
    assert still["decision"] == "not_recognised"
    assert [d["element"] for d in still["substantial_differences"]] == ["authenticity"]


@pytest.mark.db
def test_a_typed_in_credential_is_assessed_exactly_as_before(client, session, files, offices):
    body = credential_of(files["signed"])
    answer = assess(client, offices["mine"], body)
    assert "verification" not in answer
    assert "credential.signature" not in answer["facts"]
    assert "default-authenticity-signature-invalid" not in [r["rule"] for r in answer["rules"]]
    # The digest is the one the inputs always had: no key for a verification in it.
    inputs = client.get(f"/api/v1/assessments/{answer['id']}", headers=offices["mine"]).get_json()[
        "inputs"
    ]
    assert answer["inputs_digest"] == recognition.digest(inputs, "DE", "bachelor")
    again = assess(client, offices["mine"], body)
    assert {k: v for k, v in again.items() if k != "id"} == {
        k: v for k, v in answer.items() if k != "id"
    }


@pytest.mark.db
def test_an_authoritys_rule_on_the_signature_is_evaluated_as_written(
    client, session, files, offices
):
    """A ministry may send whatever no verification vouches for to review; its rule is
    evaluated for a typed-in credential too (only the default policy's are left out)."""
    account = accounts.get_or_create_account(session, "verification-de", "ministry", ["DE"])
    ministry = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    rule = {
        "id": "de-unverified-review",
        "title": "Credentials no verification vouches for: review",
        "authority": {"kind": "ministry", "country": "DE"},
        "jurisdiction": "DE",
        "priority": 100,
        "when": {"fact": "credential.signature", "op": "exists", "value": False},
        "then": {"decision": "needs_review", "notes": "Ask for the signed credential."},
    }
    assert client.post("/api/v1/rules", json=rule, headers=ministry).status_code == 201
    typed = assess(client, offices["mine"], credential_of(files["signed"]))
    assert typed["decision"] == "needs_review"
    verification = verify(client, offices["mine"], files["signed"])
    body = {**credential_of(files["signed"]), "verification_id": verification["id"]}
    assert assess(client, offices["mine"], body)["decision"] == "recognised"


# --- the desk, the batch, an import job -------------------------------------------------------


@pytest.fixture
def desk(session, offices):
    accounts.set_password(
        accounts.get_or_create_account(session, REGISTRAR, "registrar", []), PASSWORD
    )
    session.commit()


def upload_to_desk(client, data: bytes, **extra: str):
    return client.post(
        "/assessments/new/file",
        data={
            "format": "elmo",
            "file": (io.BytesIO(data), "ucd.xml"),
            "csrf_token": csrf_token(client.get("/assessments/new")),
            **extra,
        },
        content_type="multipart/form-data",
    )


def decide_on_desk(client, page: str) -> str:
    """Submit the form as the upload filled it in (hidden verification id included), with the
    target; the decision page."""
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    fields |= {"target": "DE", "target_qualification_type": "bachelor", "credits.system": "ECTS"}
    response = client.post("/assessments/new", data=fields)
    assert response.status_code == 302, html(response)
    return html(client.get(response.location))


@pytest.mark.db
def test_the_desk_verifies_the_upload_and_carries_the_verdict(client, session, files, desk):
    sign_in(client, REGISTRAR)
    page = html(upload_to_desk(client, files["signed"]))
    number = re.search(r'name="verification_id" value="(\d+)"', page).group(1)
    assert f"Verification {number}: verified" in page
    decision = decide_on_desk(client, page)
    assert "Signature of the credential's file" in decision
    assert "Signed by University College Dublin, whose key the trust list holds." in decision
    assert "Assessment" in decision and ": recognised" in decision


@pytest.mark.db
def test_the_desk_verifies_as_of_the_day_the_registrar_gives(client, session, files, desk):
    """A seal whose certificate has expired since is verified as of its sealing day, and the
    verification says the day; a day that is no date is refused, nothing stored."""
    sign_in(client, REGISTRAR)
    later = html(upload_to_desk(client, files["signed"], verify_on="2050-01-01"))
    assert "invalid" in later and "not on 2050-01-01" in later
    assert 'name="verify_on" type="date" value="2050-01-01"' in later
    earlier = html(upload_to_desk(client, files["signed"], verify_on="2026-06-01"))
    number = re.search(r'name="verification_id" value="(\d+)"', earlier).group(1)
    assert f"Verification {number}: verified" in earlier
    assert session.get(StoredVerification, int(number)).verified_on == dt.date(2026, 6, 1)
    wrong = upload_to_desk(client, files["signed"], verify_on="tomorrow")
    assert wrong.status_code == 400 and "is not a date" in html(wrong)


@pytest.mark.db
def test_the_desk_refuses_a_tampered_file_as_authenticity(client, files, desk):
    sign_in(client, REGISTRAR)
    page = html(upload_to_desk(client, files["tampered"]))
    assert "invalid signature" in page
    decision = decide_on_desk(client, page)
    assert ": not recognised" in decision
    assert "An invalid signature is a substantial difference in authenticity." in decision
    link = re.search(r'href="(/assessments/\d+/statement)"', decision)[1]
    assert "invalid signature" in html(client.get(link))
    pdf = client.get(link + ".pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "invalid signature" in text and "authenticity" in text


@pytest.mark.db
def test_the_desk_refuses_another_offices_verification_id(client, files, desk, offices):
    theirs = verify(client, offices["other"], files["signed"])
    sign_in(client, REGISTRAR)
    page = html(upload_to_desk(client, files["signed"]))
    forged = page.replace(
        re.search(r'name="verification_id" value="(\d+)"', page).group(0),
        f'name="verification_id" value="{theirs["id"]}"',
    )
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', forged))
    fields |= {"target": "DE", "target_qualification_type": "bachelor", "credits.system": "ECTS"}
    response = client.post("/assessments/new", data=fields)
    assert response.status_code == 404
    assert f"No verification {theirs['id']}." in html(response)


@pytest.mark.db
def test_a_batch_verifies_its_file_once_and_names_it_in_each_assessment(
    client, session, files, desk
):
    sign_in(client, REGISTRAR)
    token = csrf_token(client.get("/batch"))
    response = client.post(
        "/batch",
        data={
            "format": "elmo",
            "file": (io.BytesIO(files["tampered"]), "ucd.xml"),
            "target": "DE",
            "target_type": "bachelor",
            "csrf_token": token,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, html(response)
    page = html(response)
    assert re.search(r"Verification \d+ of the file: invalid signature", page)
    assert "An invalid signature is a substantial difference in authenticity." in page
    from mappings.models import Assessment

    latest = session.query(Assessment).order_by(Assessment.id.desc()).first()
    assert latest.verification_id is not None and latest.decision == "not_recognised"
    assert latest.result["facts"]["credential.signature"] == "invalid"


@pytest.mark.db
def test_an_import_job_verifies_its_file_and_its_transcripts_name_it(
    app, client, session, files, offices, tmp_path
):
    verdicts = {}
    for name in ("signed", "tampered"):
        job = jobs.create_job(
            session,
            OPERATOR,
            "elmo",
            io.BytesIO(files[name]),
            f"{name}.xml",
            {},
            tmp_path / "uploads",
            10_000_000,
            trust_source=trust_source(app.config),
        )
        session.commit()
        done = jobs.run_job(lambda: session, job.id)
        assert done.state == "completed", done.failure
        assert (done.inserted, done.updated, done.rejected) == (
            (1, 0, 0) if name == "signed" else (0, 1, 0)
        ), jobs.job_errors(session, job.id)
        verdicts[name] = session.get(StoredVerification, done.verification_id)
        shown = client.get(f"/api/v1/imports/{job.id}", headers=offices["admin"]).get_json()
        assert shown["verification"]["verdict"] == verdicts[name].verdict
        assert shown["verification"]["reason"] == verdicts[name].reason
        titles = {
            t.verification_id: [r.title for r in t.results] for t in session.query(Transcript)
        }
        assert titles[done.verification_id] == [
            "BA (Hons) History" if name == "signed" else "BA (Hons) Histery"
        ]
    assert verdicts["signed"].verdict == "verified"
    assert verdicts["tampered"].verdict == "invalid"
    # The job's page says so prominently: an alert, above everything the import counted.
    admin = accounts.get_or_create_account(session, "Registry admin", "admin", [])
    accounts.set_password(admin, PASSWORD)
    session.commit()
    sign_in(client, "Registry admin")
    page = html(client.get(f"/imports/{job.id}"))
    alert = page.index('class="problem" role="alert" id="verification"')
    assert alert < page.index('id="job-state"')
    assert "The file did not verify: it may have been altered" in page
    # A transfer evaluation of the stored transcript says what its file was found to be.
    from mappings.transfer.services import evaluate_transcript
    from registry.institutions.models import Institution

    [transcript] = session.query(Transcript).all()
    receiving = session.query(Institution).filter_by(name="University College Dublin").one()
    evaluation = evaluate_transcript(session, OPERATOR, transcript.id, receiving.id)
    assert evaluation["verification"]["verdict"] == "invalid"
    assert evaluation["verification"]["id"] == verdicts["tampered"].id
    assert verdicts["tampered"].reason.split(":")[0] in page


# --- the command line -------------------------------------------------------------------------


def test_the_commands_verify_their_file_and_say_the_verdict(tmp_path):
    """`registry import elmo` and `registry assess-batch` verify the file first (stored, named
    by what they store); `registry verify` stays a local check that stores nothing."""
    import json

    from click.testing import CliRunner

    from registry.cli import main

    key = rsa_key()
    cert = certificate(key, "UCD contact point")
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "ucd.pem").write_bytes(b"Issuer: University College Dublin\n" + pem(cert))
    good = tmp_path / "signed.xml"
    good.write_bytes(signed(key, cert, elmo()))
    bad = tmp_path / "tampered.xml"
    bad.write_bytes(tampered(good.read_bytes()))
    database = tmp_path / "registry.sqlite3"
    runner = CliRunner(env={"DATABASE_URL": f"sqlite:///{database}", "TRUST_LIST": str(trust)})

    def run(*args, code=0):
        result = runner.invoke(main, list(args))
        assert result.exit_code == code, (result.output, result.stderr)
        return result

    run("db", "upgrade")
    run("load-reference", "--json")
    imported = json.loads(run("import", "elmo", str(good), "--json").output)
    assert imported["inserted"] == 1 and imported["verification"]["verdict"] == "verified"
    text = run("import", "elmo", str(bad)).output
    assert re.search(r"verification \d+: invalid \(", text)
    lines = [
        json.loads(line)
        for line in run(
            "assess-batch",
            str(bad),
            "--format",
            "elmo",
            "--target",
            "DE",
            "--target-type",
            "bachelor",
        ).output.splitlines()
    ]
    # No UCD in this registry: the unidentified institution sends it for review (the more
    # cautious decision at the same priority), and the difference in authenticity is named.
    assert lines[0]["signature"] == "invalid" and lines[0]["decision"] == "needs_review"
    assert any("The credential's file did not verify" in why for why in lines[0]["why"])
    assert lines[-1]["summary"]["verification"]["verdict"] == "invalid"
    before = json.loads(run("verify", str(good), "--json").output)
    assert "id" not in before and before["verdict"] == "verified"
