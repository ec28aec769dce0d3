"""Check codes: the short code a printed statement carries, which names the statement and
proves the holder was given it.

A code is `A-42-K7QF-M2XB-...`: the kind of record (A assessment, T transfer evaluation,
P pathway evaluation), its number, and 80 bits of an HMAC-SHA256 under the server's secret over
the kind, the number and the inputs digest, in base32, grouped by four for reading aloud. The
number finds the record; the tag, which no one can compute without the secret, proves the code
was issued for it. Typed back, case, spaces and dashes do not matter, and 0, 1 and 8 are read
as the letters O, I and B they are mistaken for (base32 has no such digits).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from registry.core.db import MAX_ID

KINDS = {"assessment": "A", "transfer": "T", "pathway": "P"}
TAG_BYTES = 10  # 80 bits
GROUP = 4
_DOMAIN = b"registry statement check code\n"
_TYPED = re.compile(r"([ATP])(\d{1,12})([A-Z2-7]{16})")


@dataclass(frozen=True)
class Code:
    kind: str
    number: int
    tag: str


def make(secret: str, kind: str, number: int, inputs_digest: str) -> str:
    """The check code of one record, as printed."""
    tag = _tag(secret, kind, number, inputs_digest)
    groups = [tag[start : start + GROUP] for start in range(0, len(tag), GROUP)]
    return "-".join([KINDS[kind], str(number), *groups])


def read(text: str) -> Code | None:
    """The kind, number and tag a typed code names; None when it is not a code's shape."""
    plain = re.sub(r"[\s\-]+", "", text.upper()).translate(str.maketrans("018", "OIB"))
    # The number's digits were translated with the rest: put back those between kind and tag.
    if len(plain) < 18:
        return None
    head, tag = plain[:-16], plain[-16:]
    head = head[0] + head[1:].translate(str.maketrans("OIB", "018"))
    match = _TYPED.fullmatch(head + tag)
    if match is None:
        return None
    kind = next(name for name, letter in KINDS.items() if letter == match.group(1))
    number = int(match.group(2))
    # A number no record can have (the ids are 32-bit) names nothing; never asked of the database.
    return Code(kind, number, match.group(3)) if number <= MAX_ID else None


def matches(secret: str, code: Code, inputs_digest: str) -> bool:
    """Whether the code's tag is the one issued for this record (in constant time)."""
    expected = _tag(secret, code.kind, code.number, inputs_digest)
    return hmac.compare_digest(expected, code.tag)


def _tag(secret: str, kind: str, number: int, inputs_digest: str) -> str:
    message = _DOMAIN + f"{kind}\n{number}\n{inputs_digest}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b32encode(digest[:TAG_BYTES]).decode("ascii")
