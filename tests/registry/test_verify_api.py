"""`POST /api/v1/verifications` and `registry verify FILE`: the same verdict, who may ask, exit
codes, and bad input answered without a 500 or a traceback."""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from importers.verification.data_integrity import sign
from importers.verification.trust import as_jwk
from registry.cli import main
from registry.core import accounts
from tests.importers.signing import (
    ISSUER,
    credential,
    ed25519_key,
    public_pem,
    rsa_key,
    sign_jwt,
    tamper,
)
from tests.importers.test_status_list import CREATED, METHOD, entry, status_list
from tests.importers.test_status_list import credential as status_credential

PROBLEM = "application/problem+json"


@pytest.fixture
def signed(tmp_path):
    """A trust list holding one issuer's key, and a VC-JWT that key signed."""
    key = rsa_key()
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "university.pem").write_bytes(f"Issuer: {ISSUER}\n".encode() + public_pem(key))
    return trust, sign_jwt(key, {"alg": "RS256"}, credential())


@pytest.fixture
def headers(session):
    made = {"anonymous": {}}
    for role, scopes in [
        ("registrar", []),
        ("institution", ["42"]),
        ("ministry", ["IE"]),
        ("admin", []),
    ]:
        account = accounts.get_or_create_account(session, f"verify-{role}", role, scopes)
        made[role] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


def post(client, headers, data: bytes | None, query: str = ""):
    form = {"file": (io.BytesIO(data), "credential.jwt")} if data is not None else {}
    return client.post(
        f"/api/v1/verifications{query}",
        data=form,
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.mark.db
def test_every_signed_in_role_may_verify_and_anonymous_callers_may_not(
    app, client, headers, signed
):
    trust, token = signed
    app.config["TRUST_LIST"] = trust
    for role in ("registrar", "institution", "ministry", "admin"):
        response = post(client, headers[role], token.encode())
        assert response.status_code == 200, response.get_data(as_text=True)
        answer = response.get_json()
        assert answer["verdict"] == "verified" and answer["issuer"] == ISSUER
        assert [item["check"] for item in answer["checks"]][-1] == "validity"
    refused = post(client, headers["anonymous"], token.encode())
    assert refused.status_code == 401 and refused.mimetype == PROBLEM


@pytest.mark.db
def test_the_endpoint_answers_each_verdict_and_refuses_bad_input(app, client, headers, signed):
    trust, token = signed
    app.config["TRUST_LIST"] = trust
    registrar = headers["registrar"]
    assert post(client, registrar, tamper(token).encode()).get_json()["verdict"] == "invalid"
    expired = post(client, registrar, token.encode(), "?on=1999-01-01").get_json()
    assert expired["verdict"] == "invalid"
    assert "not valid before 2024-01-01 (nbf)" in expired["reason"]
    assert post(client, registrar, b'{"type": "x"}').get_json()["verdict"] == "unsigned"
    app.config["TRUST_LIST"] = trust.parent / "absent"
    assert post(client, registrar, token.encode()).get_json()["verdict"] == "unknown_issuer"
    for data, query in [
        (None, ""),
        (b"<a><b></a>", ""),
        (b"{not json", ""),
        (b"x", "?on=tomorrow"),
    ]:
        response = post(client, registrar, data, query)
        assert response.status_code == 400 and response.mimetype == PROBLEM, data


def test_the_command_prints_the_verdict_and_exits_by_it(tmp_path, signed):
    trust, token = signed
    runner = CliRunner(env={"TRUST_LIST": str(trust), "SECRET_KEY": "test"})
    good, bad = tmp_path / "good.jwt", tmp_path / "bad.jwt"
    good.write_text(token)
    bad.write_text(tamper(token))

    verified = runner.invoke(main, ["verify", str(good), "--json", "--on", "2026-06-01"])
    assert verified.exit_code == 0, verified.output
    answer = json.loads(verified.output)
    assert set(answer) == {"verdict", "reason", "issuer", "checks"}
    assert answer["verdict"] == "verified" and answer["issuer"] == ISSUER

    invalid = runner.invoke(main, ["verify", str(bad)])
    assert invalid.exit_code == 1
    assert invalid.output.startswith("invalid: the signature does not match")
    assert "  signature: failed (" in invalid.output

    for args in (["verify", str(tmp_path / "missing.jwt")], ["verify", str(good), "--on", "x"]):
        refused = runner.invoke(main, args)
        assert refused.exit_code == 2 and refused.stderr.startswith("error: "), refused.output


@pytest.fixture
def revoked(tmp_path):
    """A trust list with one Ed25519 key; a credential it signed (Data Integrity) whose index 5
    its status list, also signed, revokes."""
    key = ed25519_key()
    trust = tmp_path / "trust"
    trust.mkdir()
    jwk = {**as_jwk(key.public_key()).as_dict(), "kid": METHOD, "issuer": METHOD.split("#")[0]}
    (trust / "issuer.json").write_text(json.dumps(jwk))
    paths = []
    for name, document in [("c.json", status_credential(entry(5))), ("l.json", status_list({5}))]:
        paths.append(tmp_path / name)
        paths[-1].write_text(json.dumps(sign(document, key, METHOD, created=CREATED)))
    return trust, *paths


def test_the_command_takes_status_lists_at_hand(tmp_path, revoked):
    trust, document, status = revoked
    runner = CliRunner(env={"TRUST_LIST": str(trust), "SECRET_KEY": "test"})
    alone = runner.invoke(main, ["verify", str(document), "--on", "2026-06-01"])
    assert alone.exit_code == 0, alone.output
    assert "  status: not_checked (no revocation status list credential" in alone.output
    listed = runner.invoke(main, ["verify", str(document), "--status", str(status)])
    assert listed.exit_code == 1
    assert listed.output.startswith("invalid: revoked by its issuer's status list")
    broken = runner.invoke(main, ["verify", str(document), "--status", str(trust / "nothing")])
    assert broken.exit_code == 2 and broken.stderr.startswith("error: ")


@pytest.mark.db
def test_the_endpoint_takes_status_lists_at_hand(app, client, headers, revoked):
    trust, document, status = revoked
    app.config["TRUST_LIST"] = trust

    def send(*lists: bytes):
        form = {
            "file": (io.BytesIO(document.read_bytes()), "credential.json"),
            "status": [(io.BytesIO(data), f"list{n}.json") for n, data in enumerate(lists)],
        }
        return client.post(
            "/api/v1/verifications",
            data=form,
            headers=headers["registrar"],
            content_type="multipart/form-data",
        )

    assert send().get_json()["verdict"] == "verified"
    answer = send(status.read_bytes()).get_json()
    assert answer["verdict"] == "invalid" and answer["reason"].startswith("revoked by")
    refused = send(b"not a credential")
    assert refused.status_code == 400 and refused.mimetype == PROBLEM


def test_a_broken_trust_list_is_the_operator_s_fault_not_the_caller_s(
    app, client, headers, tmp_path
):
    """A trust list file that cannot be read: 503, naming no file of the server's (the log
    does)."""
    trust = tmp_path / "broken-trust"
    trust.mkdir()
    (trust / "secret-name.jwk").write_text("{not json")
    app.config["TRUST_LIST"] = trust
    response = post(client, headers["registrar"], b'{"type": "VerifiableCredential"}')
    assert response.status_code == 503 and response.mimetype == PROBLEM
    assert "trust list cannot be read" in response.get_json()["detail"]
    assert "secret-name" not in response.get_data(as_text=True)
