"""Opt-in online resolution: did:web URLs, the address guard, and fetching from a local HTTPS
server whose certificate the test trusts (no request leaves the machine)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from importers.verification import online
from importers.verification.online import Fetcher, ResolutionError
from importers.verification.services import verify
from importers.verification.trust import TrustList, TrustListError, as_jwk
from registry.config import load_config
from tests.importers import signing
from tests.importers import test_status_list as status_tests

HOST = "issuer.test"
ON = dt.date(2026, 6, 1)


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # The examples of the did:web method specification (w3c-ccg.github.io/did-method-web).
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ],
)
def test_a_did_web_identifier_names_its_document_s_url(did, url):
    assert online.did_web_url(did) == url


@pytest.mark.parametrize(
    "did", ["did:key:z6Mk", "did:web:", "did:web:example.com::x", "did:web:a%2Fb"]
)
def test_a_malformed_did_web_identifier_is_refused(did):
    with pytest.raises(ResolutionError):
        online.did_web_url(did)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fd00::1"]
)
def test_no_address_of_the_operator_s_own_network_is_fetched(host):
    with pytest.raises(ResolutionError, match="not a public address"):
        online.public_address(host, 443)


def test_a_public_address_is_allowed():
    assert online.public_address("93.184.215.14", 443) == "93.184.215.14"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://issuer.test/did.json", "only HTTPS"),
        ("https://user:pw@issuer.test/did.json", "credentials"),
        ("file:///etc/passwd", "only HTTPS"),
    ],
)
def test_only_plain_https_urls_are_fetched(url, why):
    with pytest.raises(ResolutionError, match=why):
        Fetcher().get(url)


class _Site(http.server.BaseHTTPRequestHandler):
    pages: dict[str, tuple[int, bytes, dict]] = {}
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        self.hits.append(self.path)
        status, body, headers = self.pages.get(self.path, (404, b"no", {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def site(tmp_path):
    """An HTTPS server on 127.0.0.1 answering for issuer.test, with a certificate for that name
    that only the fetcher of the test trusts; its address guard is told where the host is."""
    key = signing.p256_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(signing.pem(certificate))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = served.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    client = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))

    class LocalFetcher(Fetcher):
        def address(self, host, port):
            assert host == HOST
            return "127.0.0.1"

    _Site.pages, _Site.hits = {}, []
    yield LocalFetcher(context=client, max_bytes=2048), f"https://{HOST}:{port}", _Site
    server.shutdown()
    server.server_close()


def test_a_did_web_document_is_fetched_and_kept_a_while(site):
    fetcher, base, pages = site
    port = base.rsplit(":", 1)[1]
    did = f"did:web:{HOST}%3A{port}:issuers:1"
    pages.pages["/issuers/1/did.json"] = (200, json.dumps({"id": did}).encode(), {})
    assert online.did_web_document(did, fetcher) == {"id": did}
    assert online.did_web_document(did, fetcher) == {"id": did}
    assert pages.hits == ["/issuers/1/did.json"]


def test_a_document_of_another_did_is_refused(site):
    fetcher, base, pages = site
    port = base.rsplit(":", 1)[1]
    did = f"did:web:{HOST}%3A{port}"
    pages.pages["/.well-known/did.json"] = (200, b'{"id": "did:web:elsewhere.example"}', {})
    with pytest.raises(ResolutionError, match="not of did:web"):
        online.did_web_document(did, fetcher)


@pytest.mark.parametrize(
    ("page", "why"),
    [
        (
            (302, b"", {"Location": "https://127.0.0.1/x"}),
            "redirect to https://127.0.0.1/x, not followed",
        ),
        ((500, b"boom", {}), "answered 500"),
        ((200, b"x" * 4096, {}), "larger than 2048 bytes"),
        ((200, b"<html>", {}), "is not JSON"),
    ],
)
def test_what_is_not_a_document_is_refused_with_its_reason(site, page, why):
    fetcher, base, pages = site
    pages.pages["/doc"] = page
    with pytest.raises(ResolutionError, match=why):
        fetcher.json(f"{base}/doc")


def test_a_certificate_for_another_name_is_refused(site):
    """The connection goes to the checked address, but TLS still checks the host's name."""
    fetcher, base, pages = site
    pages.pages["/doc"] = (200, b"{}", {})
    plain = Fetcher(context=ssl.create_default_context())
    plain.address = lambda host, port: "127.0.0.1"
    with pytest.raises(ResolutionError, match="could not be fetched"):
        plain.json(f"{base}/doc")


# --- the trust list with online resolution ---------------------------------------------------


def _trusting(tmp_path, did: str, fetcher=None) -> TrustList:
    folder = tmp_path / "trust"
    folder.mkdir(exist_ok=True)
    (folder / "issuer.did.json").write_text(json.dumps({"id": did}))
    return TrustList.load(folder, fetcher)


def test_a_did_web_issuer_listed_by_its_id_is_verified_with_its_fetched_key(tmp_path, site):
    fetcher, base, pages = site
    did = f"did:web:{HOST}%3A{base.rsplit(':', 1)[1]}"
    key = signing.ed25519_key()
    public = as_jwk(key.public_key()).as_dict()
    pages.pages["/.well-known/did.json"] = (
        200,
        json.dumps(
            {"id": did, "verificationMethod": [{"id": "#key-1", "publicKeyJwk": public}]}
        ).encode(),
        {},
    )
    token = signing.sign_jwt(key, {"alg": "EdDSA", "kid": f"{did}#key-1"}, signing.credential(did))
    answer = verify(token.encode(), trust=_trusting(tmp_path, did, fetcher), on=ON).as_dict()
    assert answer["verdict"] == "verified", answer
    assert answer["issuer"] == did
    # A key the fetched document does not list: tampering with the issuer's site is not enough.
    stranger = signing.sign_jwt(
        signing.ed25519_key(), {"alg": "EdDSA", "kid": f"{did}#key-1"}, signing.credential(did)
    )
    assert verify(stranger.encode(), trust=_trusting(tmp_path, did, fetcher), on=ON).verdict == (
        "invalid"
    )


def test_an_issuer_whose_document_cannot_be_fetched_is_unknown_and_says_why(tmp_path, site):
    fetcher, base, pages = site
    did = f"did:web:{HOST}%3A{base.rsplit(':', 1)[1]}"
    key = signing.ed25519_key()
    token = signing.sign_jwt(key, {"alg": "EdDSA", "kid": f"{did}#key-1"}, signing.credential(did))
    answer = verify(token.encode(), trust=_trusting(tmp_path, did, fetcher), on=ON).as_dict()
    assert answer["verdict"] == "unknown_issuer"
    assert answer["checks"][-1]["check"] == "online_resolution"
    assert "could not be resolved online" in answer["checks"][-1]["detail"]
    assert "answered 404" in answer["checks"][-1]["detail"]


def test_offline_a_did_web_listed_by_its_id_alone_is_refused_naming_the_setting(tmp_path):
    with pytest.raises(TrustListError, match="TRUST_ONLINE=1"):
        _trusting(tmp_path, "did:web:issuer.example")


def test_online_resolution_is_off_unless_the_operator_sets_it(monkeypatch):
    monkeypatch.delenv("TRUST_ONLINE", raising=False)
    assert load_config()["TRUST_ONLINE"] is False
    monkeypatch.setenv("TRUST_ONLINE", "1")
    assert load_config()["TRUST_ONLINE"] is True


def _issuer_trust(tmp_path, key):
    """A trust list with the status tests' issuer key, and a status/ directory left empty."""
    folder = tmp_path / "trust"
    (folder / "status").mkdir(parents=True)
    jwk = {
        **as_jwk(key.public_key()).as_dict(),
        "kid": status_tests.METHOD,
        "issuer": status_tests.ISSUER,
    }
    (folder / "issuer.json").write_text(json.dumps(jwk))
    return folder


def _online_list(url: str, document: dict) -> dict:
    return json.loads(json.dumps(document).replace(status_tests.LIST_URL, url))


def test_a_status_list_not_at_hand_is_fetched_when_online(tmp_path, site):
    fetcher, base, pages = site
    fetcher.max_bytes = 1 << 20
    url = f"{base}/status/1"
    key = status_tests.ed25519_key()
    folder = _issuer_trust(tmp_path, key)
    listed = _online_list(url, status_tests.status_list({5}))
    pages.pages["/status/1"] = (200, status_tests.signed(listed, key), {})
    trust = TrustList.load(folder, fetcher)

    def answer(index: int) -> dict:
        document = _online_list(url, status_tests.credential(status_tests.entry(index)))
        return verify(status_tests.signed(document, key), trust=trust, on=ON).as_dict()

    revoked = answer(5)
    assert (revoked["verdict"], revoked["reason"]) == (
        "invalid",
        f"revoked by its issuer's status list {url} (index 5)",
    )
    kept = answer(6)
    assert kept["verdict"] == "verified"
    assert f"fetched from {url}" in status_tests.status_check(kept)["detail"]
    # Offline, the same credential's status is not checked, and nothing is fetched.
    pages.hits.clear()
    document = _online_list(url, status_tests.credential(status_tests.entry(5)))
    offline = verify(
        status_tests.signed(document, key), trust=TrustList.load(folder), on=ON
    ).as_dict()
    assert offline["verdict"] == "verified"
    assert status_tests.status_check(offline)["result"] == "not_checked"
    assert pages.hits == []


def test_a_status_list_that_cannot_be_fetched_leaves_the_status_not_checked(tmp_path, site):
    fetcher, base, pages = site
    url = f"{base}/status/gone"
    key = status_tests.ed25519_key()
    folder = _issuer_trust(tmp_path, key)
    document = _online_list(status_tests.LIST_URL, status_tests.credential(status_tests.entry(5)))
    document["credentialStatus"]["statusListCredential"] = url
    answer = verify(
        status_tests.signed(document, key), trust=TrustList.load(folder, fetcher), on=ON
    ).as_dict()
    assert answer["verdict"] == "verified"
    assert status_tests.status_check(answer) == {
        "check": "status",
        "result": "not_checked",
        "detail": f"the revocation status list {url} could not be fetched: {url} answered 404",
    }
