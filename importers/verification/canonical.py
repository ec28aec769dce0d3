"""RDF canonicalisation (RDFC-1.0, named URDNA2015 by pyld) of JSON-LD, with bundled contexts only.

A Data Integrity proof signs the canonical N-Quads of a document, which depend on the JSON-LD
contexts it names. Those contexts are never fetched: the published documents are bundled in
`contexts/` (their sources and SHA-256 in contexts/SOURCES.md), as VC 2.0 advises verifiers to
do, and any other context URL is refused. A fetched context could change what a proof covers,
and a fetch is a request to a host the file names.

Data loss is an error (VC Data Integrity, "Data Loss", DATA_LOSS_DETECTION_ERROR): a property
that no context defines would be dropped silently from the canonical form, and so not be covered
by the proof while the importers still read it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.context_resolver import ContextResolver

CONTEXTS = Path(__file__).with_name("contexts")
# Every context URL served, with the bundled file that is its published text.
BUNDLED = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://w3id.org/security/suites/ed25519-2020/v1": "ed25519-signature-2020-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob-v3p0-context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob-v3p0-context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json": "ob-v3p0-extensions.json",
}
# pyld caches resolved contexts by URL in a process-wide cache by default; ours is our own, so a
# context resolved by any other loader in the process is never used here.
_RESOLVED: LRUCache = LRUCache(maxsize=100)


class CanonicalizationError(ValueError):
    """The document cannot be canonicalised: a context that is not bundled, JSON-LD that is not
    valid, or a property no context defines."""


@cache
def _context(name: str) -> dict[str, Any]:
    return json.loads((CONTEXTS / name).read_text(encoding="utf-8"))


def load_document(url: str, options: Any = None) -> dict[str, Any]:
    """pyld's document loader: the bundled context for `url`; nothing is ever fetched.

    :raise CanonicalizationError: any URL that is not bundled.
    """
    name = BUNDLED.get(url)
    if name is None:
        raise CanonicalizationError(
            f"the JSON-LD context {url} is not one of the bundled contexts; contexts are never "
            "fetched"
        )
    return {"contextUrl": None, "documentUrl": url, "document": _context(name)}


def canonicalize(document: dict[str, Any]) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document.

    :raise CanonicalizationError: see the class.
    """
    dropped: list[str] = []
    try:
        jsonld.expand(
            document,
            _options(),
            on_property_dropped=lambda name: dropped.append(str(name)),
        )
        if dropped:
            raise CanonicalizationError(
                "properties no JSON-LD context defines would not be covered by the proof "
                f"(data loss): {', '.join(sorted(set(dropped)))}"
            )
        return jsonld.normalize(
            document, {**_options(), "algorithm": "URDNA2015", "format": "application/n-quads"}
        )
    except jsonld.JsonLdError as error:
        raise CanonicalizationError(_reason(error)) from None


def _options() -> dict[str, Any]:
    return {
        "documentLoader": load_document,
        "contextResolver": ContextResolver(_RESOLVED, load_document),
    }


def _reason(error: BaseException) -> str:
    """The innermost cause pyld wraps (a refused context names its URL there)."""
    while error.__cause__ is not None:
        error = error.__cause__
    if isinstance(error, CanonicalizationError):
        return str(error)
    message = error.args[0] if isinstance(error, jsonld.JsonLdError) and error.args else error
    return f"the document is not JSON-LD that can be canonicalised: {message}"
