"""Verify one file: tell its kind by its content, and answer a `Verification`."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from importers import xmlsafe
from importers.runner import FileError
from importers.verification import data_integrity, jwt, status_list, xmldsig
from importers.verification.result import Verification, check
from importers.verification.trust import TrustList
from registry.core import inputs
from registry.core.errors import InvalidData

# What one verification reads: a signed credential or transcript, never a bulk file.
MAX_BYTES = 16 << 20
_COMPACT_JWS = re.compile(rb"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]+")


def verify(
    data: bytes,
    *,
    trust: TrustList,
    on: dt.date | None = None,
    status: Iterable[tuple[str, bytes]] = (),
) -> Verification:
    """The verdict on `data` on the day `on` (today by default): a compact JWS (VC-JWT), a JSON
    credential with a Data Integrity proof, or an XML document with a ds:Signature is verified;
    anything else is `unsigned`, its reason naming what was found. A verified credential that
    names a status list is checked against the lists at hand: the trust list's `status/` files
    and `status`, given as (name, bytes).

    :raise InvalidData: a file (or status list file) larger than MAX_BYTES, XML or JSON that
        cannot be read, or a status list file that is not a credential.
    """
    given = list(status)
    for name, content in [("file", data), *given]:
        if len(content) > MAX_BYTES:
            raise InvalidData(
                f"The {name} is larger than {MAX_BYTES} bytes.", errors={"file": ["Too large."]}
            )
    on = on or dt.date.today()
    text = data.removeprefix(b"\xef\xbb\xbf").strip()
    result = _verdict(text, trust, on)
    if result.verdict != "verified" or text.startswith(b"<"):
        return result
    credential = status_list.credential_of(text)
    if credential is None or not credential.get("credentialStatus"):
        return result
    found = status_list.check_status(
        credential,
        result.issuer,
        status_list.StatusLists.gather(trust, given),
        lambda listed: _verdict(listed.removeprefix(b"\xef\xbb\xbf").strip(), trust, on),
    )
    checks = [*result.checks, found.check]
    if found.problem:
        return Verification("invalid", found.problem, result.issuer, checks)
    return replace(result, checks=checks)


def _verdict(text: bytes, trust: TrustList, on: dt.date) -> Verification:
    """The verdict on a file by its kind, its status not checked."""
    if text.startswith(b"<"):
        return _xml(text, trust, on)
    if text.startswith((b"{", b"[")):
        return _json(inputs.load_json(text, "file"), trust, on)
    if _COMPACT_JWS.fullmatch(text):
        return jwt.verify(text.decode("ascii"), trust, on)
    header = _jose_header(text)
    if header is not None:
        reason = (
            f"only a JWS protected header (alg {header.get('alg')!r}), with no payload and no "
            "signature: the file is incomplete"
            if b"." not in text
            else "a JWS header followed by parts that are not base64url: not a compact JWS"
        )
        return Verification("invalid", reason, None, [check("format", "failed", reason)])
    reason = "neither XML, JSON nor a compact JWS: nothing this version can verify"
    return Verification("unsigned", reason, None, [check("signature", "failed", reason)])


def _xml(data: bytes, trust: TrustList, on: dt.date) -> Verification:
    try:
        root = xmlsafe.document(data)
    except FileError as error:
        raise InvalidData(
            f"The file is not XML that can be read: {error}", errors={"file": [str(error)]}
        ) from None
    if not xmldsig.signatures(root):
        name = root.tag.rsplit("}", 1)[-1] if isinstance(root.tag, str) else "?"
        reason = f"an XML document (<{name}>) without an XML signature"
        return Verification("unsigned", reason, None, [check("signature", "failed", reason)])
    return xmldsig.verify(root, trust, on)


def _json(document: Any, trust: TrustList, on: dt.date) -> Verification:
    """A JSON credential: a Data Integrity proof is verified; a JSON signature is named."""
    if isinstance(document, dict) and document.get("proof"):
        return data_integrity.verify(document, trust, on)
    if isinstance(document, dict) and "payload" in document and "signatures" in document:
        reason = "a JWS JSON serialization (a JAdES seal) is not checked by this version"
        return Verification("unsigned", reason, None, [check("signature", "not_checked", reason)])
    kind = document.get("type") if isinstance(document, dict) else None
    if isinstance(kind, list):
        kind = ", ".join(map(str, kind))
    reason = f"a JSON document{f' (type {kind})' if kind else ''} with no proof and no signature"
    return Verification(
        "unsigned",
        reason,
        _issuer(document) if isinstance(document, dict) else None,
        [check("signature", "failed", reason)],
    )


def _issuer(document: dict) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _jose_header(text: bytes) -> dict | None:
    """The JWS protected header the text starts with (a JWT cut short or broken), else None."""
    first = text.split(b".", 1)[0]
    if not _BASE64URL.fullmatch(first):
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(first + b"=" * (-len(first) % 4)))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) and "alg" in value else None
