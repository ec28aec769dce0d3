"""The registry's signing settings, read from the configuration for the API, the pages and the
commands alike: the key, the check codes' secret, the public address, and the trust list that
includes the registry's own key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from importers.verification.trust import TrustList
from registry.statements import keys
from registry.statements.services import Issuing

# Where check URLs point when neither PUBLIC_URL nor a request says: `make run`'s address.
DEFAULT_URL = "http://127.0.0.1:5000"


def issuing(config: Mapping[str, Any], request_url: str | None = None) -> Issuing:
    """PUBLIC_URL when set, else the address the request came to, else DEFAULT_URL."""
    return Issuing(
        secret=config["SECRET_KEY"],
        base_url=config["PUBLIC_URL"] or request_url or DEFAULT_URL,
        key_file=Path(config["SIGNING_KEY"]),
        issuer=config["ISSUER_ID"],
    )


def trust_list(config: Mapping[str, Any]) -> TrustList:
    """The operator's trust list (TRUST_LIST) and the registry's own key, for its issuer."""
    own = keys.load(config["SIGNING_KEY"], config["ISSUER_ID"])
    return keys.with_own_key(TrustList.load(config["TRUST_LIST"]), own)
