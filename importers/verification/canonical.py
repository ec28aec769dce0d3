"""RDF canonicalisation (RDFC-1.0, named URDNA2015 by pyld) of JSON-LD, with bundled contexts only.

A Data Integrity proof signs the canonical N-Quads of a document, which depend on the JSON-LD
contexts it names. Those contexts are never fetched: the published documents are bundled in
`contexts/` (their sources and SHA-256 in contexts/SOURCES.md), as VC 2.0 advises verifiers to
do, and any other context URL is refused. A fetched context could change what a proof covers,
and a fetch is a request to a host the file names.

Data loss is an error (VC Data Integrity, "Data Loss", DATA_LOSS_DETECTION_ERROR): a property
that no context defines, or a relative IRI, would be dropped silently from the canonical form,
and so not be covered by the proof while the importers still read it.

RDFC-1.0's N-degree hashing is factorial in the number of blank nodes that look alike (a "poison
graph": eight blank nodes all linked to each other take pyld minutes). The work is bounded, as
the RDF Dataset Canonicalization spec asks of implementations: at most MAX_DEEP_HASHES N-degree
hashes and MAX_PERMUTATIONS permutations of alike blank nodes in all; a document beyond that is
refused. Credentials stay far below (the OB3 corpus: at most 20 N-degree hashes, 720
permutations). pyld's RDF conversion is quadratic in the document's nodes, so a document of more
than MAX_OBJECTS JSON objects is refused before it starts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

CONTEXTS = Path(__file__).with_name("contexts")
# Every context URL served, with the bundled file that is its published text.
BUNDLED = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    # VC 2.0's context for an issuer's own terms (@vocab): they stay covered by the proof.
    "https://www.w3.org/ns/credentials/undefined-terms/v2": "credentials-undefined-terms-v2.jsonld",
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
# An absolute IRI (a scheme) or a blank node identifier.
_ABSOLUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|_:)")
MAX_DEEP_HASHES = 1000
MAX_PERMUTATIONS = 50_000
# pyld's conversion to RDF takes time growing with the square of the nodes (4,000 objects: 3.6 s
# on a 2-core machine; 30,000: minutes). The largest credential of the corpora has about 1,200.
MAX_OBJECTS = 3000


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
    objects = _objects(document)
    if objects > MAX_OBJECTS:
        raise CanonicalizationError(
            f"the document has {objects} JSON objects, more than the {MAX_OBJECTS} a proof is "
            "checked on here (RDF conversion takes time growing with their square)"
        )
    dropped: list[str] = []
    options = _options()
    try:
        expanded = jsonld.expand(
            document, options, on_property_dropped=lambda name: dropped.append(str(name))
        )
        relative = sorted(set(_relative_iris(expanded)))
        if dropped or relative:
            lost = [*sorted(set(dropped)), *(f"the relative IRI {iri!r}" for iri in relative)]
            raise CanonicalizationError(
                "terms no JSON-LD context defines, or relative IRIs, would not be covered by the "
                f"proof (data loss): {', '.join(lost)}"
            )
        dataset = jsonld.to_rdf(document, {**options, "produceGeneralizedRdf": False})
    except jsonld.JsonLdError as error:
        raise CanonicalizationError(_reason(error)) from None
    return _BoundedRdfc().main(dataset, {"format": "application/n-quads"})


def _objects(document: Any) -> int:
    """How many JSON objects the document holds, at every depth."""
    count, pending = 0, [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            count += 1
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return count


def _relative_iris(node: Any) -> Iterable[str]:
    """The `@id` and `@type` values of expanded JSON-LD that are not absolute IRIs nor blank
    node identifiers: RDF conversion drops them."""
    if isinstance(node, list):
        for item in node:
            yield from _relative_iris(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@value":
                continue
            if key in ("@id", "@type"):
                for iri in value if isinstance(value, list) else [value]:
                    if isinstance(iri, str) and not _ABSOLUTE.match(iri):
                        yield iri
            else:
                yield from _relative_iris(value)


class _BoundedRdfc(URDNA2015):
    """pyld's RDFC-1.0 (URDNA2015), its N-degree hashing bounded (see the module's doc)."""

    def __init__(self):
        super().__init__()
        self.deep_hashes = 0
        self.permutations = 0

    def hash_n_degree_quads(self, id_, issuer):
        self.deep_hashes += 1
        if self.deep_hashes > MAX_DEEP_HASHES:
            raise CanonicalizationError(_TOO_COMPLEX)
        return super().hash_n_degree_quads(id_, issuer)

    def create_hash_to_related(self, id_, issuer):
        related = super().create_hash_to_related(id_, issuer)
        for nodes in related.values():
            self.permutations += math.factorial(min(len(nodes), 20))
        if self.permutations > MAX_PERMUTATIONS:
            raise CanonicalizationError(_TOO_COMPLEX)
        return related


_TOO_COMPLEX = (
    "the document has too many blank nodes alike to canonicalise within bounds (over "
    f"{MAX_DEEP_HASHES} N-degree hashes or {MAX_PERMUTATIONS} permutations)"
)


def _options() -> dict[str, Any]:
    # No base IRI (pyld would resolve a relative IRI against its http://example.org/base/): a
    # relative IRI stays relative, and is data loss.
    return {
        "base": None,
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
