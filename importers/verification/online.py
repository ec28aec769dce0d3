"""Opt-in online resolution: did:web documents and status lists fetched over HTTPS.

Off unless the operator sets `TRUST_ONLINE=1`. The trust list still decides *who* is trusted
(a `*.did.json` naming a did:web issuer); online resolution only fetches that issuer's current
keys, and status lists a credential names that are not at hand. What is fetched is fetched
carefully, because the URL comes from a file someone uploaded:

- HTTPS only, on the host's public addresses only: a name resolving to a loopback, private,
  link-local or otherwise non-global address is refused (no request reaches the operator's own
  network), and the connection goes to the address that was checked, so a second DNS answer
  cannot swap it;
- no redirects, a timeout, and a size cap;
- answers kept for `CACHE_SECONDS`, so a batch does not fetch the same document per credential.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from registry.core.errors import InvalidData

TIMEOUT_SECONDS = 5.0
MAX_BYTES = 1 << 20
CACHE_SECONDS = 300.0
# DID documents and status list credentials, as JSON(-LD) or as a VC-JWT.
ACCEPT = "application/did+json, application/vc+ld+json, application/vc+jwt, application/json"


class ResolutionError(InvalidData):
    """A document could not be fetched, or is not what was asked for; the message says why."""


def did_web_url(did: str) -> str:
    """The URL of a did:web DID document (W3C CCG did:web method, "Read (Resolve)"): the
    method-specific identifier's first part is the host (a port percent-encoded as `%3A`), the
    others a path; without a path the document is under `/.well-known/`."""
    if not did.startswith("did:web:"):
        raise ResolutionError(f"{did} is not a did:web identifier")
    parts = did.removeprefix("did:web:").split(":")
    host = unquote(parts[0])
    if not host or "/" in host or any(not part for part in parts):
        raise ResolutionError(f"{did} is not a well-formed did:web identifier")
    path = "/".join(unquote(part) for part in parts[1:]) or ".well-known"
    return f"https://{host}/{path}/did.json"


def public_address(host: str, port: int) -> str:
    """The first address `host` resolves to, when every address it resolves to is global.

    :raise ResolutionError: a name that does not resolve, or any non-global address.
    """
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ResolutionError(f"{host} does not resolve: {error}") from None
    addresses = [info[4][0] for info in found]
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            raise ResolutionError(
                f"{host} resolves to {address}, which is not a public address: not fetched"
            )
    if not addresses:
        raise ResolutionError(f"{host} does not resolve")
    return addresses[0]


class _PinnedConnection(http.client.HTTPSConnection):
    """An HTTPS connection to an address checked beforehand, verifying the certificate for the
    host name (SNI and hostname check as usual)."""

    def __init__(self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Fetcher:
    """Fetches JSON documents over HTTPS under the rules above, with a small time-bound cache."""

    def __init__(
        self,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
        cache_seconds: float = CACHE_SECONDS,
        context: ssl.SSLContext | None = None,
    ):
        self.context = context or ssl.create_default_context()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def json(self, url: str) -> Any:
        """The JSON document at `url`.

        :raise ResolutionError: anything that keeps it from being fetched or read, named.
        """
        data = self.get(url)
        try:
            return json.loads(data)
        except ValueError as error:
            raise ResolutionError(f"{url} is not JSON: {error}") from None

    def get(self, url: str) -> bytes:
        with self._lock:
            cached = self._cache.get(url)
            if cached and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1]
        data = self._fetch(url)
        with self._lock:
            self._cache[url] = (time.monotonic(), data)
        return data

    def _fetch(self, url: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise ResolutionError(f"{url} is not an https URL: only HTTPS is fetched")
        if parts.username or parts.password:
            raise ResolutionError(f"{url} carries credentials: not fetched")
        port = parts.port or 443
        address = self.address(parts.hostname, port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = _PinnedConnection(parts.hostname, port, address, self.timeout, self.context)
        try:
            connection.request("GET", path, headers={"Accept": ACCEPT})
            response = connection.getresponse()
            if response.status != 200:
                location = response.getheader("Location")
                raise ResolutionError(
                    f"{url} answered {response.status}"
                    + (f" (a redirect to {location}, not followed)" if location else "")
                )
            data = response.read(self.max_bytes + 1)
        except (OSError, http.client.HTTPException) as error:
            raise ResolutionError(f"{url} could not be fetched: {error}") from None
        finally:
            connection.close()
        if len(data) > self.max_bytes:
            raise ResolutionError(f"{url} is larger than {self.max_bytes} bytes: not read")
        return data

    def address(self, host: str, port: int) -> str:
        """Where to connect: a public address of `host` (tests replace this)."""
        return public_address(host, port)


_shared: Fetcher | None = None


def shared() -> Fetcher:
    """The process's fetcher, so its cache serves every verification of the process."""
    global _shared
    if _shared is None:
        _shared = Fetcher()
    return _shared


def did_web_document(did: str, fetcher: Fetcher) -> dict[str, Any]:
    """The DID document of a did:web issuer, fetched; its `id` must be the DID asked for.

    :raise ResolutionError: not fetched, not JSON, or the document of another DID.
    """
    url = did_web_url(did)
    document = fetcher.json(url)
    if not isinstance(document, dict) or document.get("id") != did:
        found = document.get("id") if isinstance(document, dict) else None
        raise ResolutionError(f"{url} is the DID document of {found!r}, not of {did}")
    return document
