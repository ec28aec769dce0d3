"""The registry's signing settings, read from the configuration for the API, the pages and the
commands alike: the key, the check codes' secret, the public address, and the trust list that
includes the registry's own key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from importers.verification.trust import TrustedKey, TrustList, TrustSource
from registry.statements import keys
from registry.statements.services import Issuing

# Where check URLs point when PUBLIC_URL is unset: `make run`'s address.
DEFAULT_URL = "http://127.0.0.1:5000"


def issuing(config: Mapping[str, Any]) -> Issuing:
    """Check URLs under PUBLIC_URL, else DEFAULT_URL: never the address a request names (its
    Host header), which anyone may set, and which would then be signed into a statement."""
    return Issuing(
        secret=config["SECRET_KEY"],
        base_url=config["PUBLIC_URL"] or DEFAULT_URL,
        key_file=Path(config["SIGNING_KEY"]),
        issuer=config["ISSUER_ID"],
    )


def trust_source(config: Mapping[str, Any]) -> TrustSource:
    """The operator's trust list (TRUST_LIST, TRUST_ONLINE) and the registry's own key for its
    issuer, read when a file is verified (an import of a file that cannot be signed never reads
    the key)."""

    def own() -> tuple[TrustedKey, ...]:
        key = keys.load(config["SIGNING_KEY"], config["ISSUER_ID"])
        return () if key is None else (key.trusted(),)

    return TrustSource(Path(config["TRUST_LIST"]), bool(config.get("TRUST_ONLINE", False)), own)


def trust_list(config: Mapping[str, Any]) -> TrustList:
    """The trust list of `trust_source`, read now."""
    return trust_source(config).load()
