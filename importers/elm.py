"""Europass credentials (European Learning Model): ELM v2 XML and ELM v3 JSON-LD.

`elm_records` yields one record per result a credential states, each carrying the transcript
context (document, awarding body, learner) so the records of one credential land on one
transcript. The variant is told by the file itself, then read by its own module:

- `importers.elm_xml`, ELM v2 (EDC "xsdVersion 0.10"): a root `europassCredential` in the
  `http://data.europa.eu/snb` namespace, or a `verifiablePresentation`
  (`http://data.europa.eu/snb/vp`, what the EDC wallet exports) holding such credentials. Read
  through `importers.xmlsafe` (gzip accepted). The pre-release EDCI namespace and other roots
  are refused by name.
- `importers.elm_json`, ELM v3 JSON-LD: recognised by what the document states (typed
  `EuropeanDigitalCredential`, or a verifiable credential whose subject states ELM claims), not by
  one @context spelling: the published EDC context, EBSI/DC4EU, developer copies and inline
  contexts all define the same terms. Also as the EDC issuer's upload form `{"credential": ...}`,
  the JAdES-signed form `{"payload": ..., "signatures": [...]}` (the signatures are NOT verified
  here: the payload is read as it stands) and a presentation holding credentials. Read whole, up
  to MAX_JSON_BYTES.

Anything else stops the import with FileError naming what was found and what is supported.

What becomes a result: every learning achievement (nested ones through `hasPart`, keeping their
parent's id) and every learning activity that no achievement was influenced by (a certificate of
participation claims an activity alone). Activities behind an achievement are how it was earned,
not results of their own. Assessment or entitlement claims standing alone are rejected with the
reason: the registry has no place for them yet. A credential stating no result at all is one
rejected record, so the import report never reads "nothing" for a file that held something.

The transcript's issuer is the awarding body of the first top-level result, falling back to the
credential's issuer: an issuing service may sign on the body's behalf (the MyNextID sample is
issued by Velocert for NETIS), and recognition is about who awarded the learning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

from importers.runner import FileError, Rejected
from importers.xmlsafe import GZIP_MAGIC
from registry.core.countries import alpha_2
from registry.institutions.schemas import normalise_identifier

FORMAT = "elm"
# A credential is one document; the largest real ones are a few hundred KB, mostly base64 logos.
MAX_JSON_BYTES = 50 * 1024 * 1024


EQF_URI = re.compile(r"^https?://data\.europa\.eu/snb/eqf/(?P<level>[1-8])$")
ISCED_URI = re.compile(r"^https?://data\.europa\.eu/snb/isced-f/(?P<code>\d{2,4})$")
AUTHORITY = r"^https?://publications\.europa\.eu/resource/authority/"
COUNTRY_URI = re.compile(AUTHORITY + r"country/(?P<code>[A-Z0-9]{3})$")
LANGUAGE_URI = re.compile(AUTHORITY + r"language/(?P<code>[A-Z]{3})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# What the record schema allows in an identifier key.
IDENTIFIER_KEY = re.compile(r"[^A-Za-z0-9:._-]+")

# Credit systems by the URIs the models name them with (ELM v3 / QDR concept, ELM v2 scheme);
# an unknown URI leaves the credits out rather than guessing their unit.
CREDIT_SYSTEMS = {
    "http://data.europa.eu/snb/education-credit/6fcec5c5af": "ECTS",
    "http://data.europa.eu/snb/education-credit/60b314e826": "ECVET",
    "http://data.europa.eu/europass/educationalCreditPointSystem/ects": "ECTS",
    "http://data.europa.eu/europass/educationalCreditPointSystem/ecvet": "ECVET",
}
# Identifier scheme names (ELM `schemeName` / `schemeID`) the registry matches institutions on.
INSTITUTION_SCHEMES = {
    "erasmus": "erasmus",
    "erasmus code": "erasmus",
    "schac": "schac",
    "schac code": "schac",
    "pic": "pic",
}


# --- shared by the JSON readers (ELM v3, Open Badges) -----------------------------------------


def read_json(stream: IO[bytes], what: str) -> Any:
    """The whole JSON document, decimals kept exact; FileError beyond MAX_JSON_BYTES or when it
    is not JSON. A credential is a single document, so it is read whole, but never unbounded."""
    data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise FileError(
            "file", f"larger than {MAX_JSON_BYTES} bytes; {what} is a single document, far smaller"
        )
    try:
        return json.loads(data, parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as error:
        raise FileError("file", f"not well-formed JSON: {error}") from error
    except RecursionError as error:
        raise FileError("file", "JSON nested too deeply for a credential") from error


def as_list(value: Any) -> list[Any]:
    """JSON-LD writes a single value bare and several as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def day(value: Any) -> str | None:
    """The date of an ISO 8601 date or timestamp, as written (its own offset, not UTC)."""
    return value[:10] if isinstance(value, str) and DATE.match(value) else None


def domain(url: Any) -> str | None:
    """The host of a web address, as the registry stores domains; None for anything else."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    try:
        return normalise_identifier("domain", url)
    except ValueError:
        return None


def country(uri: Any) -> str | None:
    """ISO alpha-2 from an EU authority country URI (alpha-3 codes; EU-only codes give None)."""
    match = COUNTRY_URI.match(uri.strip()) if isinstance(uri, str) else None
    return alpha_2(match["code"]) if match else None


def eqf_level(uri: Any) -> int | None:
    match = EQF_URI.match(uri.strip()) if isinstance(uri, str) else None
    return int(match["level"]) if match else None


def isced_code(uri: Any) -> str | None:
    match = ISCED_URI.match(uri.strip()) if isinstance(uri, str) else None
    return match["code"] if match else None


def credit_system(uri: Any) -> str | None:
    return CREDIT_SYSTEMS.get(uri.strip()) if isinstance(uri, str) else None


def key(scheme: str) -> str:
    """An identifier scheme name as a record key ("Student Card" -> "Student-Card")."""
    return IDENTIFIER_KEY.sub("-", scheme).strip("-:._")[:100] or "id"


def result(local_id: str, title: str | None, **values: Any) -> dict[str, Any]:
    """A result in the transcript record shape; fields not given are None, the status unknown.

    `level` stays None: it is for a national FRAMEWORK:LEVEL (as the ELMO reader fills it), and
    these formats name national levels only by vocabulary URIs with no registry framework code;
    the EQF level is `eqf_level`.
    """
    return {
        "local_id": local_id,
        "parent_local_id": None,
        "kind": None,
        "code": None,
        "title": title,
        "language": None,
        "credits": None,
        "credit_system": None,
        "grade": None,
        "grading_scheme": None,
        "grade_distribution": None,
        "eqf_level": None,
        "level": None,
        "isced_f": None,
        "status": "unknown",
        "started_on": None,
        "ended_on": None,
    } | values


def pick(texts: dict[str, str], language: str | None) -> tuple[str | None, str | None]:
    """(text, language): the text in the credential's primary language, else the first."""
    if not texts:
        return None, None
    lang = language if language in texts else next(iter(texts))
    return texts[lang], lang or None


def transcript_context(
    document_id: Any, issued: Any, issuer: dict[str, Any], learner: dict[str, Any]
) -> dict[str, Any]:
    """What every record of one credential carries: the transcript it belongs to."""
    return {
        "format": FORMAT,
        "document_id": document_id if isinstance(document_id, str) else None,
        "issued_on": day(issued),
        "issuer": issuer,
        "learner": learner,
    }


Results = Iterable[tuple[str, dict[str, Any] | Rejected]]
# One credential as read: its transcript context and its results.
Credential = tuple[dict[str, Any], Results]


# --- the reader -------------------------------------------------------------------------------


def elm_records(stream: IO[bytes]) -> Iterator[tuple[str, dict[str, Any] | Rejected]]:
    """(position, record) for each result of the Europass credentials in one file, XML (v2) or
    JSON-LD (v3); a presentation may hold several credentials, each its own transcript.

    The position names the result (`achievement urn:epass:learningAchievement:1`). Raises
    FileError for a file that is not such a credential, is not well-formed, or is too large.
    """
    # The format modules build on the helpers above.
    from importers import elm_json, elm_xml

    head = stream.read(64)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    stream = _Replayed(head, stream)
    if start == b"<" or head.startswith(GZIP_MAGIC):
        credentials = elm_xml.credentials(stream)
    elif start in (b"{", b"["):
        credentials = elm_json.credentials(read_json(stream, "a credential"))
    else:
        raise FileError(
            "file",
            "neither XML nor JSON: an ELM credential is a Europass XML "
            "(ELM v2) or JSON-LD (ELM v3) document",
        )
    for context, results in credentials:
        yielded = False
        for position, value in results:
            yielded = True
            yield (
                position,
                value if isinstance(value, Rejected) else {"transcript": context, "result": value},
            )
        if not yielded:
            yield (
                f"credential {context['document_id'] or ''}".strip(),
                Rejected("the credential states no learning achievement or activity"),
            )


class _Replayed:
    """The stream with the bytes read to tell XML from JSON put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._stream.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data + self._stream.read(size - len(data)) if len(data) < size else data
